/*
 * call.c - a call's arrival, life and death (see call.h, call_private.h).
 *
 * An initial INVITE becomes a call when its served user (P-Served-User,
 * else the Request-URI) is a subscriber with rules; any other INVITE is
 * still a call, one that only forwards. The facts the rule conditions
 * need (caller, anonymity, media, time) and the MIKEY ticket's hash are
 * read once, here.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/tport.h>
#include "log/log.h"
#include "mikey/key_mgmt.h"
#include "sip/call_private.h"
#include "sip/sip_msg.h"

/* The served user's canonical key: P-Served-User (RFC 5502, the last one)
 * when present, else the Request-URI; and the session case: P-Served-User
 * says it, else the Route set (cd_route_sescase), else it is terminating.
 * Returns NULL, or the reason phrase of a 400. */
static const char *served_user_key(struct cd_call *call, sip_t const *sip,
                                   char key[CD_IDENTITY_KEY_MAX], enum cd_sescase *sescase)
{
  const char *psu = cd_sip_unknown_last(sip, "P-Served-User");
  struct cd_served_params params = {0};
  if (psu && cd_served_user_parse(psu, key, &params, NULL) < 0)
    return "Bad P-Served-User";
  call->psu_regstate = params.regstate;
  *sescase = params.sescase;
  if (*sescase == CD_SESCASE_UNKNOWN)
    *sescase = cd_route_sescase(call->calls->route, sip);
  if (*sescase == CD_SESCASE_UNKNOWN)
    *sescase = CD_SESCASE_TERM;
  /* A Request-URI that is no user identity is simply not one of our
   * subscribers: proxy it. */
  if (!psu && cd_identity_key(call->served_uri, key, NULL) < 0)
    key[0] = '\0';
  return NULL;
}

static bool caller_is_anonymous(sip_t const *sip)
{
  if (sip->sip_privacy && sip->sip_privacy->priv_values)
    for (msg_param_t const *v = sip->sip_privacy->priv_values; *v; v++)
      if (strcasecmp(*v, "id") == 0)
        return true;
  url_t const *from = sip->sip_from ? sip->sip_from->a_url : NULL;
  return from && ((from->url_user && strcasecmp(from->url_user, "anonymous") == 0) ||
                  (from->url_host && strcasecmp(from->url_host, "anonymous.invalid") == 0));
}

/* The caller is P-Asserted-Identity when it is an identity, else From; its
 * key is worked out once for the rule conditions and the ledger. */
static void call_learn_facts(struct cd_call *call, sip_t const *sip)
{
  const char *pai = cd_sip_unknown_value(sip, "P-Asserted-Identity");
  char key[CD_IDENTITY_KEY_MAX] = "";
  if (pai && cd_identity_key(pai, key, NULL) == 0) {
    call->caller_uri = pai;
  } else {
    char *from = sip->sip_from ? url_as_string(call->home, sip->sip_from->a_url) : NULL;
    call->caller_uri = pai ? pai : from;
    if (from && cd_identity_key(from, key, NULL) < 0)
      key[0] = '\0';
  }
  if (key[0])
    call->caller_key = su_strdup(call->home, key);
  if (call->caller_key == NULL)
    call->caller_key = "";
  call->facts.caller_key = call->caller_key;
  call->facts.caller_anonymous = caller_is_anonymous(sip);
  sip_payload_t const *body = sip->sip_payload;
  if (body && body->pl_data) {
    char hash[65];
    call->facts.media = cd_rules_sdp_media(body->pl_data, body->pl_len);
    if (cd_key_mgmt_ticket_hash(body->pl_data, body->pl_len, hash) == 0)
      call->ticket_hash = su_strdup(call->home, hash);
    if (call->ticket_hash == NULL)
      call->ticket_hash = "";
  }
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  call->facts.weekday = (tm.tm_wday + 6) % 7;
  call->facts.minute = tm.tm_hour * 60 + tm.tm_min;
  call->facts.now = (long long)now;
}

static struct cd_call *call_create(struct cd_calls *calls, struct cd_conf *conf,
                                   nta_incoming_t *irq)
{
  struct cd_call *call = calloc(1, sizeof *call);
  if (call == NULL)
    return NULL;
  call->calls = calls;
  call->conf = cd_conf_ref(conf);
  call->irq = irq;
  call->request = nta_incoming_getrequest(irq);
  call->home = msg_home(call->request);
  call->caller_key = "";
  call->ticket_hash = "";
  cd_hi_init(&call->chain);
  call->next = calls->live;
  if (call->next)
    call->next->prev = &call->next;
  call->prev = &calls->live;
  calls->live = call;
  cd_inflight_started(calls->inflight);
  nta_incoming_bind(irq, call_irq_event, (nta_incoming_magic_t *)call);
  return call;
}

void call_destroy(struct cd_call *call)
{
  if (call->next)
    call->next->prev = call->prev;
  *call->prev = call->next;
  call_branch_teardown(call);
  cd_store_cancel(call->store_query);
  if (call->feature_op && call->calls->feature.cancel)
    call->calls->feature.cancel(call->feature_op);
  if (call->counted_key)
    cd_keycount_add(call->calls->per_user, call->counted_key, -1);
  if (call->irq) {
    /* Unbind first: destroying the irq must not call us back. */
    nta_incoming_bind(call->irq, NULL, NULL);
    if (!call->answered)
      call_reply(call, SIP_500_INTERNAL_SERVER_ERROR);
    nta_incoming_destroy(call->irq);
  }
  if (call->tport)
    tport_unref(call->tport);
  msg_destroy(call->invite_again);
  msg_destroy(call->request);
  cd_hi_free(&call->chain);
  cd_conf_unref(call->conf);
  free(call);
}

void cd_calls_destroy_all(struct cd_calls *calls)
{
  while (calls->live)
    call_destroy(calls->live);
}

/* ---------------------------------------------------------------- feature codes */

/* The final answer to a feature code: the sentence as the reason phrase,
 * in a Warning for the display (RFC 3261 20.43) and in a Reason. */
static void feature_reply(struct cd_call *call, int status, const char *text)
{
  char clean[300], warning[400], reason[400];
  size_t k = 0;
  for (const char *p = text; *p && k + 1 < sizeof clean; p++)
    clean[k++] = (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) ? '\'' : *p;
  clean[k] = '\0';
  const char *host = strchr(call->conf->identity, ':');
  host = host ? host + 1 : call->conf->identity;
  snprintf(warning, sizeof warning, "399 %.*s \"%s\"", (int)strcspn(host, ";>:"), host, clean);
  snprintf(reason, sizeof reason, "SIP;cause=%d;text=\"%s\"", status, clean);
  call_reply_warning(call, status, clean, warning, reason);
  cd_log(CD_LOG_INFO, "feature code call-id=%s: %d %s", call->call_id, status, clean);
}

static void feature_done(void *arg, int status, const char *text)
{
  struct cd_call *call = arg;
  if (call->asking_feature) {
    call->feature_answered = true;
    call->feature_status = status;
    call->feature_text = su_strdup(call->home, text);
    return;
  }
  call->feature_op = NULL;
  if (!call->answered)
    feature_reply(call, status, text);
  call_destroy(call);
}

/* An originating INVITE to a feature code: the served user (P-Served-
 * User, else the caller) changes its rules; nothing is forwarded. */
static void call_feature_code(struct cd_call *call, sip_t const *sip, const char *psu_key,
                              const struct cd_feature_code *fc, const char *why)
{
  char key[CD_IDENTITY_KEY_MAX];
  if (psu_key) {
    snprintf(key, sizeof key, "%s", psu_key);
  } else {
    call_learn_facts(call, sip);
    snprintf(key, sizeof key, "%s", call->caller_key);
  }
  call->asking_feature = true;
  void *op = call->calls->feature.start(call->calls->feature.ctx, key, fc, why, feature_done, call);
  call->asking_feature = false;
  if (call->feature_answered) {
    feature_reply(call, call->feature_status, call->feature_text ? call->feature_text : "");
    call_destroy(call);
    return;
  }
  call->feature_op = op;
}

int cd_call_invite(struct cd_calls *calls, struct cd_conf *conf, nta_incoming_t *irq,
                   sip_t const *sip)
{
  if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0)
    return 483;

  struct cd_call *call = call_create(calls, conf, irq);
  if (call == NULL)
    return 500;
  /* nta sends its own 100 Trying 200 ms after an INVITE over UDP but only
   * after T2/2 = 2 s over TCP (RFC 4320's compromise for non-INVITEs); an
   * S-CSCF gives its AS 5 s, and VoLTE INVITEs (over 1,300 bytes) come
   * over TCP. Over a reliable transport it goes out now; over UDP nta's
   * timer stays, as any answer of ours within 200 ms makes it unneeded. */
  tport_t *tp = nta_incoming_transport(calls->agent, irq, NULL);
  if (tp && tport_is_reliable(tp))
    nta_incoming_treply(irq, SIP_100_TRYING, TAG_END());
  tport_unref(tp);
  call->served_uri = url_as_string(call->home, sip->sip_request->rq_url);
  call->call_id = sip->sip_call_id ? sip->sip_call_id->i_id : "-";

  char key[CD_IDENTITY_KEY_MAX];
  enum cd_sescase sescase;
  const char *bad = served_user_key(call, sip, key, &sescase);
  if (bad) {
    call_reply(call, 400, bad);
    call_destroy(call);
    return 0;
  }
  /* Communication diversion is a terminating service (TS 24.604 4.5.2,
   * TS 24.229 5.7.1): an originating request goes on unchanged, and so
   * does a request inside a dialog (a re-INVITE: its To has a tag). */
  bool in_dialog = sip->sip_to && sip->sip_to->a_tag;
  /* TS 22.030 codes dialled by the served user (cdivas(8), FEATURE CODES). */
  if (sescase == CD_SESCASE_ORIG && !in_dialog && calls->feature.start && call->conf->xcap.enabled &&
      call->conf->xcap.feature_codes) {
    struct cd_feature_code fc;
    const char *why = NULL;
    int is_code = cd_feature_code_parse(call->served_uri, &fc, &why);
    if (is_code != 0) {
      call_feature_code(call, sip, cd_sip_unknown_last(sip, "P-Served-User") ? key : NULL, &fc,
                        is_code < 0 ? why : NULL);
      return 0;
    }
  }
  const struct cd_subscriber *sub = key[0] && sescase == CD_SESCASE_TERM && !in_dialog
                                      ? cd_conf_find(call->conf, key) : NULL;
  if (sub == NULL || sub->n_rules == 0) {
    if (call_send_branch(call, NULL, 0, NULL) < 0)
      call_destroy(call);
    return 0;
  }

  const char *why = NULL;
  if (cd_sip_history_info(sip, &call->chain, &why) < 0) {
    char phrase[128];
    snprintf(phrase, sizeof phrase, "Bad History-Info: %s", why ? why : "malformed");
    call_reply(call, 400, phrase);
    call_destroy(call);
    return 0;
  }
  call->received_hi = call->chain.count;
  if (call->received_hi == 0)
    call->earlier_diversions = cd_sip_diversions(sip);
  size_t unindexed = cd_hi_unindexed(&call->chain);
  if (unindexed)
    cd_log(CD_LOG_INFO, "call-id=%s: %zu of %zu History-Info entries without a usable index, kept as received",
           call->call_id, unindexed, call->chain.count);
  call_learn_facts(call, sip);
  if (call_serve(call, sub, call->served_uri, true) < 0)
    call_destroy(call);
  return 0;
}
