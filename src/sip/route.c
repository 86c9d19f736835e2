/*
 * route.c - own addresses and the next hop (see route.h).
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_alloc.h>
#include "sip/route.h"
#include "sip/sip_msg.h"

int cd_route_init(struct cd_route *route, const struct cd_conf *conf)
{
  su_home_init(route->home);
  route->n_own_urls = 0;
  route->own_urls = su_zalloc(route->home,
                              (1 + conf->n_aliases + conf->n_listen) * sizeof *route->own_urls);
  if (route->own_urls == NULL)
    return -1;
  route->own_urls[route->n_own_urls++] = url_hdup(route->home, URL_STRING_MAKE(conf->identity)->us_url);
  for (size_t i = 0; i < conf->n_aliases; i++)
    route->own_urls[route->n_own_urls++] = url_hdup(route->home, URL_STRING_MAKE(conf->aliases[i])->us_url);
  route->n_any_port = route->n_own_urls;
  for (size_t i = 0; i < conf->n_listen; i++)
    route->own_urls[route->n_own_urls++] = url_hdup(route->home, URL_STRING_MAKE(conf->listen[i])->us_url);
  for (size_t i = 0; i < route->n_own_urls; i++)
    if (route->own_urls[i] == NULL)
      return -1;
  route->outbound_proxy = NULL;
  if (conf->outbound_proxy &&
      (route->outbound_proxy = url_hdup(route->home, URL_STRING_MAKE(conf->outbound_proxy)->us_url)) == NULL)
    return -1;
  return 0;
}

void cd_route_deinit(struct cd_route *route)
{
  su_home_deinit(route->home);
  route->own_urls = NULL;
  route->n_own_urls = 0;
  route->outbound_proxy = NULL;
}

bool cd_route_is_own(const struct cd_route *route, url_t const *url)
{
  if (url == NULL || url->url_host == NULL)
    return false;
  for (size_t i = 0; i < route->n_own_urls; i++) {
    url_t const *own = route->own_urls[i];
    if (!own->url_host || strcasecmp(own->url_host, url->url_host) != 0)
      continue;
    /* The identity and aliases without a port name cdivas by host
     * whatever the port; listen addresses must match the port too. */
    if ((i < route->n_any_port && own->url_port == NULL) ||
        strcmp(cd_sip_url_port(own), cd_sip_url_port(url)) == 0)
      return true;
  }
  return false;
}

bool cd_route_loops_back(const struct cd_route *route, url_string_t const *next_hop,
                         sip_t const *sip)
{
  url_t const *to = next_hop ? next_hop->us_url
                    : sip->sip_route ? sip->sip_route->r_url : sip->sip_request->rq_url;
  return cd_route_is_own(route, to);
}

bool cd_route_ends_here(const struct cd_route *route, sip_t const *sip)
{
  if (sip->sip_request->rq_url->url_user || !cd_route_is_own(route, sip->sip_request->rq_url))
    return false;
  for (sip_route_t const *r = sip->sip_route; r; r = r->r_next)
    if (!cd_route_is_own(route, r->r_url))
      return false;
  return true;
}

static enum cd_sescase sescase_named(const char *value)
{
  if (strcasecmp(value, "orig") == 0)
    return CD_SESCASE_ORIG;
  if (strcasecmp(value, "term") == 0)
    return CD_SESCASE_TERM;
  return CD_SESCASE_UNKNOWN;
}

enum cd_sescase cd_route_sescase(const struct cd_route *route, sip_t const *sip)
{
  for (sip_route_t const *r = sip->sip_route; r; r = r->r_next) {
    url_t const *url = r->r_url;
    char value[16] = "";
    if (cd_route_is_own(route, url)) {
      if (url->url_params &&
          (url_param(url->url_params, "call", value, sizeof value) ||
           url_param(url->url_params, "sescase", value, sizeof value)))
        return sescase_named(value);
      continue;
    }
    if (url->url_user && strcasecmp(url->url_user, "iscmark") == 0 && url->url_params &&
        url_param(url->url_params, "d", value, sizeof value))
      return strcmp(value, "0") == 0 ? CD_SESCASE_ORIG : CD_SESCASE_TERM;
    break;   /* only the entry after ours can be the S-CSCF's mark */
  }
  return CD_SESCASE_UNKNOWN;
}

url_string_t const *cd_route_prepare_forward(const struct cd_route *route, msg_t *msg, sip_t *sip)
{
  while (sip->sip_route && cd_route_is_own(route, sip->sip_route->r_url))
    sip_route_remove(msg, sip);
  unsigned long hops = sip->sip_max_forwards ? sip->sip_max_forwards->mf_count : 70;
  cd_sip_set_max_forwards(msg, sip, hops > 0 ? hops - 1 : 0);
  if (sip->sip_route)
    return NULL;
  return (url_string_t const *)route->outbound_proxy;
}

const char *cd_route_family_ident(const char *host)
{
  if (host == NULL)
    return NULL;
  if (host[0] == '[' || strchr(host, ':'))
    return "ipv6";
  struct in_addr v4;
  return inet_pton(AF_INET, host, &v4) == 1 ? "ipv4" : NULL;
}

const char *cd_route_ident(const struct cd_route *route, url_string_t const *next_hop,
                           sip_t const *sip)
{
  if (!route->dual_stack)
    return NULL;
  url_t const *hop = next_hop ? next_hop->us_url : NULL;
  /* nta's rule: a loose-routing top Route, else the Request-URI. */
  if (hop == NULL && sip->sip_route && url_has_param(sip->sip_route->r_url, "lr"))
    hop = sip->sip_route->r_url;
  if (hop == NULL)
    hop = sip->sip_request->rq_url;
  return cd_route_family_ident(hop->url_host);
}
