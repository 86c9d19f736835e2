/*
 * call.c - one incoming INVITE: served user, diversion rule, forwarding,
 * answers, CANCEL (see call.h).
 *
 * A call owns the server transaction (irq), the received request and the
 * client transaction of the branch it is trying. Forwarded requests are
 * built from a msg_copy() of the received INVITE, so every branch starts
 * from the request exactly as it came in. After a 2xx is relayed the call
 * lingers for 64*T1 so that retransmitted or forked 2xx still reach the
 * caller; any other final answer ends it at once.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_alloc.h>
#include "call.h"
#include "history_info.h"
#include "log.h"
#include "rules.h"
#include "sip_msg.h"

/* How long a call lingers after relaying a 2xx (64*T1). */
#define CALL_LINGER_MS 32000

struct cd_call {
  struct cd_call *next, **prev;
  struct cd_proxy *proxy;
  struct cd_conf *conf;              /* the snapshot this call started with */
  nta_incoming_t *irq;
  msg_t *request;                    /* the INVITE as received */
  nta_outgoing_t *branch;            /* the client transaction being tried */
  const struct cd_subscriber *served;/* NULL: plain proxying */
  char *served_uri;                  /* Request-URI as received (History-Info) */
  cd_hi_chain chain;
  bool answered;                     /* a final answer went upstream */
  su_timer_t *linger;
};

static void call_destroy(struct cd_call *call);

/* ---------------------------------------------------------------- answers */

static void call_mark_answered(struct cd_call *call)
{
  if (!call->answered) {
    call->answered = true;
    cd_proxy_transaction_answered(call->proxy);
  }
}

static void call_reply(struct cd_call *call, int status, const char *phrase)
{
  nta_incoming_treply(call->irq, status, phrase, TAG_END());
  if (status >= 200)
    call_mark_answered(call);
}

static void call_linger_expired(su_root_magic_t *magic, su_timer_t *timer,
                                su_timer_arg_t *arg)
{
  (void)magic; (void)timer;
  call_destroy((struct cd_call *)arg);
}

/* Relays a response from the branch upstream. Returns its status. */
static int call_relay(struct cd_call *call, nta_outgoing_t *orq, int status)
{
  msg_t *response = nta_outgoing_getresponse(orq);
  sip_via_remove(response, sip_object(response));
  if (nta_incoming_mreply(call->irq, response) < 0) {
    cd_log(CD_LOG_WARNING, "could not relay %d upstream", status);
    if (status >= 200 && !call->answered)
      call_reply(call, SIP_500_INTERNAL_SERVER_ERROR);
  }
  if (status >= 200)
    call_mark_answered(call);
  return status;
}

static int branch_response(nta_outgoing_magic_t *magic, nta_outgoing_t *orq,
                           sip_t const *sip)
{
  struct cd_call *call = (struct cd_call *)magic;

  if (sip == NULL) {
    /* No answer at all (timer B) or a transport error: nta tells the status. */
    int status = nta_outgoing_status(orq);
    if (status < 300 || status > 699)
      status = 500;
    if (!call->answered)
      call_reply(call, status, sip_status_phrase(status));
    call_destroy(call);
    return 0;
  }

  int status = sip->sip_status->st_status;
  if (call->answered) {
    /* Only a 2xx after the first one (a fork downstream, or a retransmission
     * nta did not absorb) is worth passing on. */
    if (status >= 200 && status < 300)
      call_relay(call, orq, status);
    return 0;
  }
  call_relay(call, orq, status);
  if (status >= 300) {
    call_destroy(call);
  } else if (status >= 200 && call->linger == NULL) {
    call->linger = su_timer_create(su_root_task(call->proxy->root), CALL_LINGER_MS);
    if (call->linger == NULL || su_timer_set(call->linger, call_linger_expired, call) < 0)
      call_destroy(call);
  }
  return 0;
}

/* CANCEL from the caller, or the server transaction ending (sip NULL). */
static int call_irq_event(nta_incoming_magic_t *magic, nta_incoming_t *irq,
                          sip_t const *sip)
{
  struct cd_call *call = (struct cd_call *)magic;
  (void)irq;
  if (sip == NULL) {
    call_destroy(call);
    return 0;
  }
  if (sip->sip_request && sip->sip_request->rq_method == sip_method_cancel) {
    /* nta has answered the CANCEL with 200; the branch's 487 will be relayed. */
    if (call->branch && nta_outgoing_status(call->branch) < 200)
      nta_outgoing_tcancel(call->branch, NULL, NULL, TAG_END());
    else if (call->branch == NULL && !call->answered)
      call_reply(call, SIP_487_REQUEST_CANCELLED);
  }
  return 200;
}

/* ---------------------------------------------------------------- forwarding */

/* Sends `msg` (owned) as the call's branch. Returns 0, or -1 after
 * answering the caller with 500. */
static int call_send_branch(struct cd_call *call, msg_t *msg, url_string_t const *next_hop)
{
  call->branch = nta_outgoing_mcreate(call->proxy->agent, branch_response, (nta_outgoing_magic_t *)call,
                                      next_hop, msg, TAG_END());
  if (call->branch == NULL) {
    msg_destroy(msg);
    cd_log(CD_LOG_WARNING, "cannot forward INVITE (no route to next hop)");
    call_reply(call, 500, "Cannot Forward Request");
    return -1;
  }
  return 0;
}

static msg_t *call_copy_request(struct cd_call *call, url_string_t const **next_hop)
{
  msg_t *msg = msg_copy(call->request);
  if (msg)
    *next_hop = cd_proxy_prepare_forward(call->proxy, msg, sip_object(msg));
  return msg;
}

static int call_forward_unchanged(struct cd_call *call)
{
  url_string_t const *next_hop = NULL;
  msg_t *msg = call_copy_request(call, &next_hop);
  if (msg == NULL) {
    call_reply(call, SIP_500_INTERNAL_SERVER_ERROR);
    return -1;
  }
  return call_send_branch(call, msg, next_hop);
}

/* ---------------------------------------------------------------- diversion */

static bool key_of(const char *uri, char key[CD_IDENTITY_KEY_MAX])
{
  return cd_identity_key(uri, key, NULL) == 0;
}

static bool uri_is_served(const char *uri, void *ctx)
{
  const struct cd_subscriber *sub = ctx;
  char key[CD_IDENTITY_KEY_MAX];
  if (!key_of(uri, key))
    return false;
  if (strcmp(key, sub->key) == 0)
    return true;
  for (size_t i = 0; i < sub->n_aliases; i++)
    if (strcmp(key, sub->alias_keys[i]) == 0)
      return true;
  return false;
}

static bool uri_has_key(const char *uri, void *ctx)
{
  char key[CD_IDENTITY_KEY_MAX];
  return key_of(uri, key) && strcmp(key, (const char *)ctx) == 0;
}

static bool target_exempt(const struct cd_conf *conf, const char *target_key)
{
  for (size_t i = 0; i < conf->n_limit_exempt; i++)
    if (strcmp(conf->limit_exempt[i], target_key) == 0)
      return true;
  return false;
}

/* The diversion limit and loop check of TS 24.604: no diversion once the
 * chain holds max_diversions, nor towards a target already in the chain. */
static const char *diversion_refused(const struct cd_call *call, const char *target)
{
  char target_key[CD_IDENTITY_KEY_MAX];
  if (!key_of(target, target_key))
    return "Diversion Target Invalid";
  if (target_exempt(call->conf, target_key))
    return NULL;
  if (cd_hi_diversions(&call->chain) >= (size_t)call->conf->max_diversions)
    return "Diversion Limit Reached";
  if (uri_is_served(target, (void *)call->served) ||
      cd_hi_contains(&call->chain, uri_has_key, target_key))
    return "Diversion Loop Detected";
  return NULL;
}

static int call_divert(struct cd_call *call, const struct cd_rule *rule, int cause)
{
  const char *refusal = diversion_refused(call, rule->target);
  if (refusal) {
    cd_log(CD_LOG_NOTICE, "no diversion for %s to %s: %s", call->served->user,
           rule->target, refusal);
    call_reply(call, call->conf->limit_response, refusal);
    return -1;
  }

  size_t received = cd_hi_received(&call->chain);
  long target_pos = cd_hi_divert(&call->chain, call->served_uri, uri_is_served,
                                 (void *)call->served, rule->target, cause, NULL,
                                 !rule->reveal_identity_to_target);
  if (target_pos < 0) {
    call_reply(call, SIP_500_INTERNAL_SERVER_ERROR);
    return -1;
  }

  url_string_t const *next_hop = NULL;
  msg_t *msg = call_copy_request(call, &next_hop);
  sip_t *sip = msg ? sip_object(msg) : NULL;
  char *history = cd_hi_format(&call->chain, received, -1);
  const struct cd_hi_entry *target_entry = &call->chain.entries[target_pos];
  char indication[CD_IDENTITY_KEY_MAX + 64];
  snprintf(indication, sizeof indication, "<%s>;hi=%s", call->conf->identity,
           target_entry->index);
  if (msg == NULL || history == NULL ||
      cd_sip_set_request_uri(msg, sip, rule->target) < 0 ||
      /* P-Served-User named the user the call is diverted away from. */
      (cd_sip_remove_header(msg, sip, "P-Served-User"), false) ||
      cd_sip_add_header(msg, sip, "History-Info", history) < 0 ||
      cd_sip_add_header(msg, sip, "P-CDIV-Indication", indication) < 0) {
    free(history);
    if (msg)
      msg_destroy(msg);
    call_reply(call, SIP_500_INTERNAL_SERVER_ERROR);
    return -1;
  }
  free(history);

  sip_call_id_t const *call_id = sip->sip_call_id;
  cd_log(CD_LOG_INFO, "diversion call-id=%s served=%s service=%s cause=%d target=%s",
         call_id ? call_id->i_id : "-", call->served->user,
         cd_service_name(rule->service), cause, rule->target);

  if (rule->notify_caller) {
    long private_from = rule->reveal_identity_to_caller ? -1 : target_pos;
    char *all = cd_hi_format(&call->chain, 0, private_from);
    if (all) {
      nta_incoming_treply(call->irq, SIP_181_CALL_IS_BEING_FORWARDED,
                          SIPTAG_HEADER_STR(su_sprintf(msg_home(call->request),
                                                       "History-Info: %s", all)),
                          TAG_END());
      free(all);
    }
  }
  return call_send_branch(call, msg, next_hop);
}

/* ---------------------------------------------------------------- arrival */

/* The served user's canonical key: P-Served-User (RFC 5502) when present,
 * else the Request-URI. Returns NULL, or the reason phrase of a 400. */
static const char *served_user_key(const struct cd_call *call, sip_t const *sip,
                                   char key[CD_IDENTITY_KEY_MAX])
{
  const char *why = NULL;
  const char *psu = cd_sip_unknown_value(sip, "P-Served-User");
  if (psu) {
    enum cd_regstate regstate;
    return cd_served_user_parse(psu, key, &regstate, &why) == 0 ? NULL
                                                                : "Bad P-Served-User";
  }
  if (cd_identity_key(call->served_uri, key, &why) < 0) {
    /* A Request-URI we cannot read as a user identity is simply not a
     * subscriber of ours: proxy it. */
    key[0] = '\0';
  }
  return NULL;
}

static void call_facts(const struct cd_call *call, sip_t const *sip,
                       struct cd_call_facts *facts, char caller_key[CD_IDENTITY_KEY_MAX])
{
  memset(facts, 0, sizeof *facts);
  const char *pai = cd_sip_unknown_value(sip, "P-Asserted-Identity");
  char *from = sip->sip_from ? url_as_string(msg_home(call->request), sip->sip_from->a_url) : NULL;
  caller_key[0] = '\0';
  if (!(pai && cd_identity_key(pai, caller_key, NULL) == 0) && from)
    cd_identity_key(from, caller_key, NULL);
  facts->caller_key = caller_key;

  bool privacy_id = false;
  if (sip->sip_privacy && sip->sip_privacy->priv_values)
    for (msg_param_t const *v = sip->sip_privacy->priv_values; *v; v++)
      if (strcasecmp(*v, "id") == 0)
        privacy_id = true;
  facts->caller_anonymous = privacy_id ||
    (sip->sip_from && sip->sip_from->a_url->url_user &&
     strcasecmp(sip->sip_from->a_url->url_user, "anonymous") == 0) ||
    (sip->sip_from && sip->sip_from->a_url->url_host &&
     strcasecmp(sip->sip_from->a_url->url_host, "anonymous.invalid") == 0);

  if (sip->sip_payload && sip->sip_payload->pl_data) {
    const char *body = sip->sip_payload->pl_data;
    size_t len = sip->sip_payload->pl_len;
    for (size_t i = 0; i + 8 <= len; i++) {
      if ((i == 0 || body[i - 1] == '\n') && body[i] == 'm' && body[i + 1] == '=') {
        if (strncmp(body + i + 2, "audio", 5) == 0) facts->media |= CD_MEDIA_AUDIO;
        if (strncmp(body + i + 2, "video", 5) == 0) facts->media |= CD_MEDIA_VIDEO;
      }
    }
  }

  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  facts->weekday = (tm.tm_wday + 6) % 7;
  facts->minute = tm.tm_hour * 60 + tm.tm_min;
}

static struct cd_call *call_create(struct cd_proxy *proxy, nta_incoming_t *irq)
{
  struct cd_call *call = calloc(1, sizeof *call);
  if (call == NULL)
    return NULL;
  call->proxy = proxy;
  call->conf = cd_conf_ref(proxy->conf);
  call->irq = irq;
  call->request = nta_incoming_getrequest(irq);
  cd_hi_init(&call->chain);
  call->next = proxy->calls;
  if (call->next)
    call->next->prev = &call->next;
  call->prev = &proxy->calls;
  proxy->calls = call;
  cd_proxy_transaction_started(proxy);
  nta_incoming_bind(irq, call_irq_event, (nta_incoming_magic_t *)call);
  return call;
}

static void call_destroy(struct cd_call *call)
{
  if (call->next)
    call->next->prev = call->prev;
  *call->prev = call->next;
  if (call->linger)
    su_timer_destroy(call->linger);
  if (call->branch)
    nta_outgoing_destroy(call->branch);
  /* Unbind first: destroying the irq must not call us back. */
  nta_incoming_bind(call->irq, NULL, NULL);
  call_mark_answered(call);
  nta_incoming_destroy(call->irq);
  msg_destroy(call->request);
  cd_hi_free(&call->chain);
  cd_conf_unref(call->conf);
  free(call);
}

void cd_call_destroy_all(struct cd_proxy *proxy)
{
  while (proxy->calls)
    call_destroy(proxy->calls);
}

int cd_call_invite(struct cd_proxy *proxy, nta_incoming_t *irq, sip_t const *sip)
{
  if (proxy->draining)
    return 503;   /* nta sends "503 Service Unavailable" */
  if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0)
    return 483;

  struct cd_call *call = call_create(proxy, irq);
  if (call == NULL)
    return 500;
  call->served_uri = url_as_string(msg_home(call->request), sip->sip_request->rq_url);

  char key[CD_IDENTITY_KEY_MAX];
  const char *bad = served_user_key(call, sip, key);
  if (bad) {
    call_reply(call, 400, bad);
    call_destroy(call);
    return 0;
  }
  call->served = key[0] ? cd_conf_find(call->conf, key) : NULL;
  if (call->served == NULL || call->served->n_rules == 0)
    return call_forward_unchanged(call) < 0 ? (call_destroy(call), 0) : 0;

  const char *why = NULL;
  if (cd_sip_history_info(sip, &call->chain, &why) < 0) {
    char phrase[128];
    snprintf(phrase, sizeof phrase, "Bad History-Info: %s", why ? why : "malformed");
    call_reply(call, 400, phrase);
    call_destroy(call);
    return 0;
  }

  struct cd_call_facts facts;
  char caller_key[CD_IDENTITY_KEY_MAX];
  call_facts(call, sip, &facts, caller_key);
  const struct cd_rule *cfu = cd_rules_select(call->served, CD_SVC_CFU, &facts);
  int rc = cfu ? call_divert(call, cfu, 302) : call_forward_unchanged(call);
  if (rc < 0)
    call_destroy(call);
  return 0;
}
