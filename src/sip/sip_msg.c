/*
 * sip_msg.c - Sofia-SIP message helpers (see sip_msg.h).
 */
#include <string.h>
#include <strings.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/su_alloc.h>
#include "core/diversion.h"
#include "sip/sip_msg.h"

const char *cd_sip_unknown_value(sip_t const *sip, const char *name)
{
  for (sip_unknown_t const *un = sip->sip_unknown; un; un = un->un_next)
    if (un->un_name && strcasecmp(un->un_name, name) == 0)
      return un->un_value ? un->un_value : "";
  return NULL;
}

const char *cd_sip_unknown_last(sip_t const *sip, const char *name)
{
  const char *value = NULL;
  for (sip_unknown_t const *un = sip->sip_unknown; un; un = un->un_next)
    if (un->un_name && strcasecmp(un->un_name, name) == 0)
      value = un->un_value ? un->un_value : "";
  return value;
}

int cd_sip_add_header(msg_t *msg, sip_t *sip, const char *name, const char *value)
{
  su_home_t *home = msg_home(msg);
  sip_unknown_t *un = (sip_unknown_t *)msg_header_alloc(home, sip_unknown_class, 0);
  if (un == NULL)
    return -1;
  un->un_name = su_strdup(home, name);
  un->un_value = su_strdup(home, value);
  if (un->un_name == NULL || un->un_value == NULL)
    return -1;
  return msg_header_insert(msg, (msg_pub_t *)sip, (msg_header_t *)un);
}

void cd_sip_remove_header(msg_t *msg, sip_t *sip, const char *name)
{
  sip_unknown_t *un = sip->sip_unknown;
  while (un) {
    sip_unknown_t *next = un->un_next;
    if (un->un_name && strcasecmp(un->un_name, name) == 0)
      msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)un);
    un = next;
  }
}

int cd_sip_set_request_uri(msg_t *msg, sip_t *sip, const char *uri)
{
  sip_request_t const *old = sip->sip_request;
  sip_request_t *rq = sip_request_create(msg_home(msg), old->rq_method,
                                         old->rq_method_name,
                                         URL_STRING_MAKE(uri), NULL);
  if (rq == NULL || rq->rq_url->url_type == url_invalid ||
      rq->rq_url->url_type == url_unknown)
    return -1;
  return msg_header_insert(msg, (msg_pub_t *)sip, (msg_header_t *)rq);
}

int cd_sip_set_max_forwards(msg_t *msg, sip_t *sip, unsigned long count)
{
  /* A header the request has is changed in place (and its encoded text
   * dropped, so that it is encoded anew) rather than replaced: one
   * allocation less in the message's su_home. That matters more than it
   * looks: a home's block table grows from 31 to 127 entries (+1.5 KB)
   * when its 22nd block is allocated, and the copy of an INVITE that nta
   * sends as a branch reached exactly 22 with a new Max-Forwards. */
  if (sip->sip_max_forwards) {
    sip->sip_max_forwards->mf_count = count;
    sip_fragment_clear(sip->sip_max_forwards->mf_common);
    return 0;
  }
  sip_max_forwards_t mf[1];
  sip_max_forwards_init(mf)->mf_count = count;
  return sip_add_dup(msg, sip, (sip_header_t *)mf);
}

int cd_sip_history_info(sip_t const *sip, cd_hi_chain *chain, const char **why)
{
  for (sip_unknown_t const *un = sip->sip_unknown; un; un = un->un_next) {
    if (un->un_name && strcasecmp(un->un_name, "History-Info") == 0 &&
        cd_hi_parse(chain, un->un_value ? un->un_value : "", why) < 0)
      return -1;
  }
  return 0;
}

size_t cd_sip_diversions(sip_t const *sip)
{
  size_t n = 0;
  for (sip_unknown_t const *un = sip->sip_unknown; un && n < 1000; un = un->un_next)
    if (un->un_name && strcasecmp(un->un_name, "Diversion") == 0)
      n += cd_diversion_count(un->un_value);
  return n < 1000 ? n : 1000;
}

int cd_sip_top_diversion(msg_t *msg, sip_t *sip, const char *value)
{
  size_t n = 0;
  for (sip_unknown_t const *un = sip->sip_unknown; un; un = un->un_next)
    if (un->un_name && strcasecmp(un->un_name, "Diversion") == 0)
      n++;
  const char **received = n ? su_zalloc(msg_home(msg), n * sizeof *received) : NULL;
  if (n && received == NULL)
    return -1;
  size_t k = 0;
  for (sip_unknown_t const *un = sip->sip_unknown; un; un = un->un_next)
    if (un->un_name && strcasecmp(un->un_name, "Diversion") == 0)
      received[k++] = un->un_value ? un->un_value : "";
  /* The removed headers stay in the message's home: their values too. */
  cd_sip_remove_header(msg, sip, "Diversion");
  if (cd_sip_add_header(msg, sip, "Diversion", value) < 0)
    return -1;
  for (k = 0; k < n; k++)
    if (cd_sip_add_header(msg, sip, "Diversion", received[k]) < 0)
      return -1;
  return 0;
}

const char *cd_sip_url_port(url_t const *url)
{
  if (url->url_port && url->url_port[0])
    return url->url_port;
  return url->url_type == url_sips ? "5061" : "5060";
}
