/*
 * call.c - one incoming INVITE and its diversions (see call.h).
 *
 * The call tries one branch at a time: the served user first, then each
 * forwarding target. What to do with each answer, timer or CANCEL is
 * decided by the pure state machine in call_fsm.c; this file only turns
 * SIP events into cd_fsm_event and carries out the actions with nta.
 *
 * A call owns the server transaction (irq), the received request, the
 * client transaction of the branch being tried and the no-reply timer.
 * Every branch is built from a msg_copy() of the received INVITE, so it
 * starts from the request exactly as it came in. After relaying a 2xx the
 * call lingers for at least 64*T1 so that further 2xx still reach the
 * caller; any other final answer ends it at once. While it lingers it
 * keeps the branch (the client transaction that receives those 2xx) but
 * not the server transaction: see call_release_irq().
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
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/tport.h>
#include "sip/call.h"
#include "core/call_fsm.h"
#include "core/history_info.h"
#include "core/inquiry.h"
#include "mikey/key_mgmt.h"
#include "core/keycount.h"
#include "core/ledger.h"
#include "log/log.h"
#include "core/rules.h"
#include "sip/sip_msg.h"
#include "store/store.h"

/* How long a call lingers after relaying a 2xx (64*T1). */
#define CALL_LINGER_MS 32000

struct cd_call {
  struct cd_call *next, **prev;
  struct cd_proxy *proxy;
  struct cd_conf *conf;               /* the snapshot this call started with */
  nta_incoming_t *irq;                /* NULL once released after the 2xx */
  tport_t *tport;                     /* the caller's transport, kept with the irq released */
  msg_t *request;                     /* the INVITE as received */
  su_home_t *home;                    /* the request's home: strings that live as long as the call */
  nta_outgoing_t *branch;             /* the client transaction being tried */
  su_timer_t *no_reply_timer;
  su_timer_t *not_reachable_timer;
  su_timer_t *linger;
  struct cd_fsm fsm;
  /* The served user of the current branch (changes along a chain). */
  const struct cd_subscriber *served;
  const char *served_uri;             /* its History-Info URI */
  const struct cd_rule *rules[CD_SVC_COUNT]; /* applicable rule per service */
  unsigned services;                  /* bit set of the services in rules[] */
  bool serve_initial;                 /* the served user is the one the INVITE named */
  bool serve_busy;                    /* ... and has max_calls calls already */
  char *counted_key;                  /* served user whose max_calls count this call holds */
  /* Asking the state store whether the served user is logged in (CFNL). */
  struct cd_store_query *store_query; /* in flight: the call waits for it */
  bool asking_store;                  /* the question is being put: an answer now is kept */
  bool store_answered;
  enum cd_reg_status store_answer;
  enum cd_regstate psu_regstate;      /* what P-Served-User said of the INVITE's served user */
  /* Facts for rule conditions, fixed when the call arrives. */
  struct cd_call_facts facts;
  char caller_key[CD_IDENTITY_KEY_MAX];
  const char *caller_uri;
  const char *call_id;
  char ticket_hash[65];               /* SHA-256 of the MIKEY ticket in the SDP, hex; "" when none */
  cd_hi_chain chain;
  size_t received_hi;                 /* leading chain entries that came in the INVITE */
  bool answered;                      /* a final answer went upstream */
};

static void call_destroy(struct cd_call *call);
static int call_serve(struct cd_call *call, const struct cd_subscriber *sub,
                      const char *uri, bool initial);

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
  if (call->irq == NULL)
    return;   /* released after the 2xx: nothing more goes upstream on it */
  nta_incoming_treply(call->irq, status, phrase, TAG_END());
  if (status >= 200)
    call_mark_answered(call);
}

static void call_relay(struct cd_call *call, nta_outgoing_t *orq, int status)
{
  msg_t *response = nta_outgoing_getresponse(orq);
  if (call->irq == NULL) {
    /* A further 2xx while the call lingers (the state machine relays
     * nothing else then): forwarded statelessly on the caller's transport,
     * as RFC 3261 16.7 has a proxy do without a server transaction.
     * nta_msg_tsend() takes our Via off itself. */
    if (nta_msg_tsend(call->proxy->agent, response, NULL, NTATAG_TPORT(call->tport), TAG_END()) < 0)
      cd_log(CD_LOG_WARNING, "call-id=%s: could not relay a further %d upstream", call->call_id, status);
    return;
  }
  sip_via_remove(response, sip_object(response));
  if (nta_incoming_mreply(call->irq, response) < 0) {
    cd_log(CD_LOG_WARNING, "call-id=%s: could not relay %d upstream", call->call_id, status);
    if (status >= 200 && !call->answered)
      call_reply(call, SIP_500_INTERNAL_SERVER_ERROR);
  }
  if (status >= 200)
    call_mark_answered(call);
}

/* Once a 2xx went upstream the server transaction has nothing left to do
 * for the call: nta keeps a destroyed one for T4 to absorb retransmitted
 * INVITEs (answering them with the 2xx), then frees it. Keeping it for the
 * whole linger instead put it, after those T4, in nta's queue of
 * terminated transactions, which nta walks from end to end on every tick
 * of its timer looking for destroyed ones: with 30,000 calls lingering at
 * 1,000 calls/s that walk was most of cdivas's CPU (doc/performance.md).
 * Further 2xx are then forwarded statelessly (call_relay). */
static void call_release_irq(struct cd_call *call)
{
  if (call->irq == NULL)
    return;
  call->tport = nta_incoming_transport(call->proxy->agent, call->irq, NULL);
  nta_incoming_bind(call->irq, NULL, NULL);
  nta_incoming_destroy(call->irq);
  call->irq = NULL;
}

/* ---------------------------------------------------------------- timers */

static void timer_stop(su_timer_t **timer)
{
  if (*timer) {
    su_timer_destroy(*timer);
    *timer = NULL;
  }
}

static int timer_start(struct cd_call *call, su_timer_t **timer, long ms, su_timer_f fn)
{
  timer_stop(timer);
  *timer = su_timer_create(su_root_task(call->proxy->root), ms);
  return *timer && su_timer_set(*timer, fn, (su_timer_arg_t *)call) == 0 ? 0 : -1;
}

static int no_reply_seconds(const struct cd_call *call)
{
  const struct cd_rule *rule = call->rules[CD_SVC_CFNR];
  if (rule && rule->no_reply_timer)
    return rule->no_reply_timer;
  if (call->served && call->served->no_reply_timer)
    return call->served->no_reply_timer;
  return call->conf->no_reply_timer;
}

static void call_linger_expired(su_root_magic_t *magic, su_timer_t *timer, su_timer_arg_t *arg)
{
  (void)magic; (void)timer;
  call_destroy((struct cd_call *)arg);
}

/* The linger timer is deferrable: it fires when the event loop wakes up
 * anyway (at once under load), or after at most su_root's max_defer (15 s)
 * when idle, which only makes the linger longer than 64*T1. A timer of
 * its own per answered call put a deadline a fraction of a millisecond
 * ahead almost all the time at 1,000 calls/s, and Sofia-SIP's loop waits
 * with epoll in whole milliseconds rounded down: a deadline less than 1 ms
 * away makes it poll with a zero timeout until then. */
static int linger_start(struct cd_call *call)
{
  timer_stop(&call->linger);
  call->linger = su_timer_create(su_root_task(call->proxy->root), CALL_LINGER_MS);
  if (call->linger == NULL)
    return -1;
  su_timer_deferrable(call->linger, 1);
  return su_timer_set(call->linger, call_linger_expired, (su_timer_arg_t *)call);
}

/* ---------------------------------------------------------------- the state machine */

static void call_feed(struct cd_call *call, const struct cd_fsm_event *ev,
                      nta_outgoing_t *orq, sip_t const *sip);

static void no_reply_expired(su_root_magic_t *magic, su_timer_t *timer, su_timer_arg_t *arg)
{
  (void)magic; (void)timer;
  struct cd_call *call = (struct cd_call *)arg;
  timer_stop(&call->no_reply_timer);
  cd_log(CD_LOG_DEBUG, "call-id=%s: no-reply timer expired", call->call_id);
  struct cd_fsm_event ev = { .kind = CD_EV_NO_REPLY_TIMER };
  call_feed(call, &ev, NULL, NULL);
}

/* The served user's branch stayed without any answer, not even 100, for
 * server.not_reachable_timer: the state machine sees it as the transaction
 * timing out (CFNRc). Ending the branch then sends no CANCEL, as none may
 * go out before a provisional answer. */
static void not_reachable_expired(su_root_magic_t *magic, su_timer_t *timer, su_timer_arg_t *arg)
{
  (void)magic; (void)timer;
  struct cd_call *call = (struct cd_call *)arg;
  timer_stop(&call->not_reachable_timer);
  struct cd_fsm_event ev = { .kind = CD_EV_BRANCH_TIMEOUT, .status = 408 };
  call_feed(call, &ev, NULL, NULL);
}

static int call_divert(struct cd_call *call, enum cd_service service, int cause,
                       int reason_status, const char *deflect_to);

/* Drops the current branch: its client transaction and its timers. */
static void call_end_branch(struct cd_call *call)
{
  timer_stop(&call->no_reply_timer);
  timer_stop(&call->not_reachable_timer);
  if (call->branch) {
    nta_outgoing_destroy(call->branch);
    call->branch = NULL;
  }
}

static const char *deflection_contact(struct cd_call *call, sip_t const *sip)
{
  if (sip == NULL || sip->sip_contact == NULL)
    return NULL;
  char *uri = url_as_string(call->home, sip->sip_contact->m_url);
  char key[CD_IDENTITY_KEY_MAX];
  /* An invalid Contact is not followed (the 302 goes upstream instead). */
  return uri && cd_identity_key(uri, key, NULL) == 0 ? uri : NULL;
}

static void call_feed(struct cd_call *call, const struct cd_fsm_event *ev,
                      nta_outgoing_t *orq, sip_t const *sip)
{
  struct cd_fsm_result r = cd_fsm_step(&call->fsm, ev);

  if (r.actions & CD_ACT_STOP_NR_TIMER)
    timer_stop(&call->no_reply_timer);
  if ((r.actions & CD_ACT_START_NR_TIMER) &&
      timer_start(call, &call->no_reply_timer, no_reply_seconds(call) * 1000L, no_reply_expired) < 0)
    cd_log(CD_LOG_ERROR, "call-id=%s: cannot start the no-reply timer", call->call_id);
  if ((r.actions & CD_ACT_CANCEL_BRANCH) && call->branch)
    nta_outgoing_tcancel(call->branch, NULL, NULL, TAG_END());
  if ((r.actions & CD_ACT_RELAY) && orq)
    call_relay(call, orq, ev->status);
  if (r.actions & CD_ACT_REPLY)
    call_reply(call, r.reply_status, sip_status_phrase(r.reply_status));

  bool branch_over = ev->kind == CD_EV_BRANCH_TIMEOUT ||
                     (ev->kind == CD_EV_FINAL && ev->status >= 300);
  if (r.actions & CD_ACT_DIVERT) {
    const char *contact = r.divert_service == CD_SVC_CD ? deflection_contact(call, sip) : NULL;
    call_end_branch(call);
    if (r.divert_service == CD_SVC_CD && contact == NULL) {
      /* The state machine only deflects on a Contact, but it may not be a
       * URI we can follow: tell the caller the user is unavailable. */
      call_reply(call, SIP_480_TEMPORARILY_UNAVAILABLE);
    } else if (call_divert(call, r.divert_service, r.cause, r.reason_status, contact) < 0) {
      call_destroy(call);
      return;
    }
  } else if (branch_over) {
    call_end_branch(call);
  }

  if (call->answered && call->fsm.state != CD_FSM_ANSWERED && call->branch == NULL) {
    call_destroy(call);
  } else if (call->fsm.state == CD_FSM_ANSWERED && call->linger == NULL) {
    if (linger_start(call) < 0) {
      call_destroy(call);
    } else {
      call_release_irq(call);
      /* No branch follows a 2xx: the History-Info chain, kept to build
       * them, goes now rather than 32 s later. */
      cd_hi_free(&call->chain);
    }
  }
}

static int branch_response(nta_outgoing_magic_t *magic, nta_outgoing_t *orq, sip_t const *sip)
{
  struct cd_call *call = (struct cd_call *)magic;
  struct cd_fsm_event ev = {0};

  if (sip == NULL) {
    ev.kind = CD_EV_BRANCH_TIMEOUT;
    ev.status = nta_outgoing_status(orq);
  } else {
    ev.status = sip->sip_status->st_status;
    if (ev.status < 200) {
      /* Any answer, even 100, shows the served user's side is reachable. */
      timer_stop(&call->not_reachable_timer);
      if (ev.status == 100)
        return 0;
    }
    ev.kind = ev.status < 200 ? CD_EV_PROVISIONAL : CD_EV_FINAL;
    ev.has_contact = sip->sip_contact != NULL;
  }
  call_feed(call, &ev, orq, sip);
  return 0;
}

/* CANCEL from the caller, or the server transaction ending (sip NULL). */
static int call_irq_event(nta_incoming_magic_t *magic, nta_incoming_t *irq, sip_t const *sip)
{
  struct cd_call *call = (struct cd_call *)magic;
  (void)irq;
  if (sip == NULL) {
    call_destroy(call);
    return 0;
  }
  if (sip->sip_request && sip->sip_request->rq_method == sip_method_cancel) {
    if (call->branch == NULL) {
      if (!call->answered)
        call_reply(call, SIP_487_REQUEST_CANCELLED);
      return 200;
    }
    struct cd_fsm_event ev = { .kind = CD_EV_CALLER_CANCEL };
    call_feed(call, &ev, NULL, NULL);
  }
  return 200;
}

/* ---------------------------------------------------------------- branches */

/* Sends the received INVITE on as a new branch towards `target` (NULL:
 * unchanged Request-URI), with our History-Info entries and, after a
 * diversion, the CDIV indication. */
static int call_send_branch(struct cd_call *call, const char *target, unsigned services,
                            const char *hi_index)
{
  msg_t *msg = msg_copy(call->request);
  sip_t *sip = msg ? sip_object(msg) : NULL;
  if (msg == NULL)
    goto fail;
  url_string_t const *next_hop = cd_proxy_prepare_forward(call->proxy, msg, sip);
  if (target) {
    char *history = cd_hi_format(&call->chain, call->received_hi, -1);
    char indication[CD_IDENTITY_KEY_MAX + 80];
    snprintf(indication, sizeof indication, "<%s>;hi=%s", call->conf->identity, hi_index);
    bool ok = history && cd_sip_set_request_uri(msg, sip, target) == 0 &&
              cd_sip_add_header(msg, sip, "History-Info", history) == 0 &&
              cd_sip_add_header(msg, sip, "P-CDIV-Indication", indication) == 0;
    free(history);
    /* P-Served-User named the user the call is diverted away from. */
    cd_sip_remove_header(msg, sip, "P-Served-User");
    if (!ok)
      goto fail;
  }
  cd_fsm_begin_branch(&call->fsm, services);
  call->branch = nta_outgoing_mcreate(call->proxy->agent, branch_response,
                                      (nta_outgoing_magic_t *)call, next_hop, msg,
                                      NTATAG_PASS_100(1), TAG_END());
  msg = NULL;
  if (call->branch == NULL) {
    cd_log(CD_LOG_WARNING, "call-id=%s: cannot forward INVITE to %s", call->call_id,
           target ? target : "the Request-URI");
    call_reply(call, 500, "Cannot Forward Request");
    return -1;
  }
  if (services && call->conf->not_reachable_timer &&
      timer_start(call, &call->not_reachable_timer,
                  call->conf->not_reachable_timer * 1000L, not_reachable_expired) < 0)
    cd_log(CD_LOG_ERROR, "call-id=%s: cannot start the not-reachable timer", call->call_id);
  return 0;
fail:
  if (msg)
    msg_destroy(msg);
  call_reply(call, SIP_500_INTERNAL_SERVER_ERROR);
  return -1;
}

/* ---------------------------------------------------------------- diversion */

static bool key_of(const char *uri, char key[CD_IDENTITY_KEY_MAX])
{
  return cd_identity_key(uri, key, NULL) == 0;
}

static bool sub_has_key(const struct cd_subscriber *sub, const char *key)
{
  if (strcmp(key, sub->key) == 0)
    return true;
  for (size_t i = 0; i < sub->n_aliases; i++)
    if (strcmp(key, sub->alias_keys[i]) == 0)
      return true;
  return false;
}

static bool uri_is_served(const char *uri, void *ctx)
{
  char key[CD_IDENTITY_KEY_MAX];
  return key_of(uri, key) && sub_has_key((const struct cd_subscriber *)ctx, key);
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

/* The diversion limit and loop check (TS 24.604): no diversion once the
 * chain holds max_diversions, nor towards a user already in the chain.
 * `target_key` is the target's canonical key. */
static const char *diversion_refused(const struct cd_call *call, const char *target_key)
{
  if (target_exempt(call->conf, target_key))
    return NULL;
  if (cd_hi_diversions(&call->chain) >= (size_t)call->conf->max_diversions)
    return "Diversion Limit Reached";
  if ((call->served && sub_has_key(call->served, target_key)) ||
      cd_hi_contains(&call->chain, uri_has_key, (void *)target_key))
    return "Diversion Loop Detected";
  return NULL;
}

/* History-Info for the 181: the whole chain, with the served user's entry
 * and the target's entry hidden as the rule asks. */
static char *history_for_caller(const struct cd_call *call, const struct cd_rule *rule,
                                size_t served_pos, size_t target_pos)
{
  size_t len = 0, cap = 256;
  char *out = malloc(cap);
  if (out == NULL)
    return NULL;
  out[0] = '\0';
  for (size_t i = 0; i < call->chain.count; i++) {
    bool hide = (i == target_pos && !rule->reveal_identity_to_caller) ||
                (i == served_pos && !rule->reveal_served_user_identity_to_caller);
    char *entry = cd_hi_format_entry(&call->chain.entries[i], hide);
    if (entry == NULL) {
      free(out);
      return NULL;
    }
    size_t need = len + strlen(entry) + 3;
    if (need > cap) {
      char *bigger = realloc(out, cap = need * 2);
      if (bigger == NULL) {
        free(entry);
        free(out);
        return NULL;
      }
      out = bigger;
    }
    len += (size_t)sprintf(out + len, "%s%s", i ? ", " : "", entry);
    free(entry);
  }
  return out;
}

static void notify_served_user(struct cd_call *call, enum cd_service service, int cause,
                               const char *target)
{
  char text[1024];
  snprintf(text, sizeof text, "Call %s from %s was diverted to %s (%s, cause %d).\r\n",
           call->call_id, call->caller_uri ? call->caller_uri : "an unknown caller",
           target, cd_service_name(service), cause);
  url_string_t const *next_hop = (url_string_t const *)call->proxy->outbound_proxy;
  nta_outgoing_t *orq = nta_outgoing_tcreate(
      call->proxy->default_leg, NULL, NULL, next_hop, SIP_METHOD_MESSAGE,
      URL_STRING_MAKE(call->served->user),
      SIPTAG_FROM_STR(call->conf->identity), SIPTAG_TO_STR(call->served->user),
      SIPTAG_CONTENT_TYPE_STR("text/plain"), SIPTAG_PAYLOAD_STR(text), TAG_END());
  if (orq == NULL)
    cd_log(CD_LOG_WARNING, "call-id=%s: cannot send the MESSAGE to %s", call->call_id,
           call->served->user);
  else
    nta_outgoing_destroy(orq);   /* fire and forget: nta finishes the transaction */
}

/* The ledger entry the KMS inquiry will be answered from. Identities are
 * stored as the keys cd_inquiry_canonical() gives, so aliases match.
 * `key` is the target's identity key (NULL: the target is no identity). */
static void call_record_diversion(struct cd_call *call, enum cd_service service, int cause,
                                  const char *key, const char *hi_index)
{
  char caller[CD_IDENTITY_KEY_MAX], target_key[CD_IDENTITY_KEY_MAX];
  if (!call->proxy->keeps_ledger || call->caller_key[0] == '\0' || key == NULL)
    return;
  cd_inquiry_canonical(call->conf, call->caller_key, caller);
  cd_inquiry_canonical(call->conf, key, target_key);
  struct cd_ledger_record rec = {
    .caller = caller, .served = call->served->key, .target = target_key,
    .service = service, .cause = cause, .when = (long)time(NULL),
    .call_id = call->call_id, .hi_index = hi_index, .ticket_hash = call->ticket_hash,
  };
  cd_store_ledger_add(call->proxy->store, &rec);
  cd_log(CD_LOG_DEBUG, "call-id=%s: recorded %s -> %s for %s, ticket %s", call->call_id,
         rec.served, rec.target, rec.caller, rec.ticket_hash[0] ? rec.ticket_hash : "none");
}

static int call_divert(struct cd_call *call, enum cd_service service, int cause,
                       int reason_status, const char *deflect_to)
{
  const struct cd_rule *rule = call->rules[service];
  const char *target = deflect_to ? deflect_to : rule->target;
  /* The target's key, worked out once for the checks, the ledger and the
   * next served user. */
  char target_key[CD_IDENTITY_KEY_MAX];
  bool target_valid = key_of(target, target_key);
  const char *refusal = target_valid ? diversion_refused(call, target_key) : "Diversion Target Invalid";
  bool to_limit_destination = false;
  if (refusal) {
    cd_proxy_count_limit_hit(call->proxy);
    cd_log(CD_LOG_NOTICE, "call-id=%s: no diversion of %s to %s: %s", call->call_id,
           call->served->user, target, refusal);
    if (call->conf->limit_destination == NULL) {
      call_reply(call, call->conf->limit_response, refusal);
      return -1;
    }
    target = call->conf->limit_destination;
    to_limit_destination = true;
    target_valid = key_of(target, target_key);
  }

  char reason[96] = "";
  if (reason_status)
    snprintf(reason, sizeof reason, "SIP;cause=%d;text=\"%s\"", reason_status,
             sip_status_phrase(reason_status) ? sip_status_phrase(reason_status) : "");
  long target_pos = cd_hi_divert(&call->chain, call->served_uri, uri_is_served,
                                 (void *)call->served, target, cause,
                                 reason_status ? reason : NULL, !rule->reveal_identity_to_target);
  if (target_pos < 0) {
    /* The chain has no room for two more entries (entry count or index
     * depth): as good as the diversion limit. */
    cd_proxy_count_limit_hit(call->proxy);
    cd_log(CD_LOG_NOTICE, "call-id=%s: no diversion of %s to %s: History-Info full",
           call->call_id, call->served->user, target);
    call_reply(call, call->conf->limit_response, "Diversion Limit Reached");
    return -1;
  }
  const cd_hi_entry *target_entry = &call->chain.entries[target_pos];
  size_t served_pos = (size_t)target_pos - 1;
  for (size_t i = 0; i < (size_t)target_pos; i++)
    if (strcmp(call->chain.entries[i].index, target_entry->parent) == 0)
      served_pos = i;

  cd_proxy_count_diversion(call->proxy, service);
  call_record_diversion(call, service, cause, target_valid ? target_key : NULL, target_entry->index);
  cd_log(CD_LOG_INFO, "diversion call-id=%s served=%s service=%s cause=%d target=%s",
         call->call_id, call->served->user, cd_service_name(service), cause, target);

  if (rule->notify_caller) {
    char *history = history_for_caller(call, rule, served_pos, (size_t)target_pos);
    if (history) {
      nta_incoming_treply(call->irq, SIP_181_CALL_IS_BEING_FORWARDED,
                          SIPTAG_HEADER_STR(su_sprintf(call->home, "History-Info: %s", history)),
                          TAG_END());
      free(history);
    }
  }
  if (rule->notify_served_user)
    notify_served_user(call, service, cause, target);

  char hi_index[CD_HI_INDEX_MAX];
  snprintf(hi_index, sizeof hi_index, "%s", target_entry->index);
  const struct cd_subscriber *next = !to_limit_destination && target_valid
                                       ? cd_conf_find(call->conf, target_key) : NULL;
  if (next && next->n_rules > 0)
    return call_serve(call, next, su_strdup(call->home, target), false);
  call->served = next;
  return call_send_branch(call, target, 0, hi_index);
}

/* ---------------------------------------------------------------- serving a user */

static unsigned select_rules(struct cd_call *call, const struct cd_subscriber *sub)
{
  unsigned services = 0;
  for (int svc = 0; svc < CD_SVC_COUNT; svc++) {
    call->rules[svc] = cd_rules_select(sub, (enum cd_service)svc, &call->facts);
    if (call->rules[svc])
      services |= 1u << svc;
  }
  return services;
}

/* The earliest rule, in the subscriber's order, among the services that
 * apply before the user is tried: cfu always, cfnl when the user is known
 * to be logged out, cfb when the user already has max_calls calls. */
static const struct cd_rule *first_immediate_rule(const struct cd_call *call,
                                                  const struct cd_subscriber *sub,
                                                  bool logged_out, bool busy)
{
  for (size_t i = 0; i < sub->n_rules; i++) {
    const struct cd_rule *rule = &sub->rules[i];
    if (rule == call->rules[CD_SVC_CFU] ||
        (logged_out && rule == call->rules[CD_SVC_CFNL]) ||
        (busy && rule == call->rules[CD_SVC_CFB]))
      return rule;
  }
  return NULL;
}

/* The rest of call_serve, once it is known whether the served user is
 * logged out. */
static int call_serve_decided(struct cd_call *call, bool logged_out)
{
  const struct cd_subscriber *sub = call->served;
  const struct cd_rule *now = first_immediate_rule(call, sub, logged_out, call->serve_busy);
  if (now == NULL && call->serve_busy) {
    call_reply(call, SIP_486_BUSY_HERE);
    return -1;
  }
  if (now)
    return call_divert(call, now->service,
                       now->service == CD_SVC_CFU ? 302 : now->service == CD_SVC_CFNL ? 404 : 486,
                       0, NULL);

  char hi_index[CD_HI_INDEX_MAX] = "";
  if (!call->serve_initial) {
    const cd_hi_entry *last = &call->chain.entries[call->chain.count - 1];
    snprintf(hi_index, sizeof hi_index, "%s", last->index);
  }
  return call_send_branch(call, call->serve_initial ? NULL : call->served_uri,
                          call->services & ~(1u << CD_SVC_CFU), hi_index);
}

static void on_registration(void *arg, enum cd_reg_status status, bool available)
{
  struct cd_call *call = arg;
  if (call->asking_store) {
    call->store_answered = true;
    call->store_answer = status;
    return;
  }
  call->store_query = NULL;
  if (!available)
    cd_log(CD_LOG_DEBUG, "call-id=%s: state store unavailable, %s tried as if registered",
           call->call_id, call->served->user);
  /* A CANCEL meanwhile was answered already: nothing left to do. */
  if (call->answered || call_serve_decided(call, status == CD_REG_UNREGISTERED) < 0)
    call_destroy(call);
}

/* Makes `sub` the call's served user: diverts at once when a rule applies
 * before trying the user, else tries the user (initial: the Request-URI
 * unchanged; in a chain: `uri`). Returns 0 also while the call waits for
 * the state store (on_registration goes on). */
static int call_serve(struct cd_call *call, const struct cd_subscriber *sub,
                      const char *uri, bool initial)
{
  call->served = sub;
  call->served_uri = uri;
  call->serve_initial = initial;
  call->services = select_rules(call, sub);

  call->serve_busy = false;
  if (sub->max_calls > 0 && call->counted_key == NULL) {
    call->serve_busy = cd_proxy_calls_of(call->proxy, sub->key) >= sub->max_calls;
    if (!call->serve_busy) {
      call->counted_key = su_strdup(call->home, sub->key);
      cd_proxy_count_call(call->proxy, sub->key, +1);
    }
  }
  /* The S-CSCF's word (P-Served-User regstate) comes first; the store is
   * asked only when its answer could change what happens: a CFNL rule
   * that comes before the rule that applies anyway (CFU, or CFB when busy). */
  if (initial && call->psu_regstate != CD_REGSTATE_UNKNOWN)
    return call_serve_decided(call, call->psu_regstate == CD_REGSTATE_UNREG);
  const struct cd_rule *anyway = first_immediate_rule(call, sub, false, call->serve_busy);
  if (call->rules[CD_SVC_CFNL] == NULL || (anyway && anyway < call->rules[CD_SVC_CFNL]))
    return call_serve_decided(call, false);

  call->asking_store = true;
  call->store_answered = false;
  struct cd_store_query *query = cd_store_reg_status(call->proxy->store, sub->key,
                                                     on_registration, call);
  call->asking_store = false;
  if (call->store_answered)
    return call_serve_decided(call, call->store_answer == CD_REG_UNREGISTERED);
  call->store_query = query;
  return 0;
}

/* ---------------------------------------------------------------- arrival */

/* The served user's canonical key: P-Served-User (RFC 5502) when present,
 * else the Request-URI. Returns NULL, or the reason phrase of a 400. */
static const char *served_user_key(struct cd_call *call, sip_t const *sip,
                                   char key[CD_IDENTITY_KEY_MAX])
{
  const char *psu = cd_sip_unknown_value(sip, "P-Served-User");
  if (psu)
    return cd_served_user_parse(psu, key, &call->psu_regstate, NULL) == 0 ? NULL : "Bad P-Served-User";
  /* A Request-URI that is no user identity is simply not one of our
   * subscribers: proxy it. */
  if (cd_identity_key(call->served_uri, key, NULL) < 0)
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

static unsigned offered_media(sip_t const *sip)
{
  unsigned media = 0;
  if (sip->sip_payload == NULL || sip->sip_payload->pl_data == NULL)
    return 0;
  const char *body = sip->sip_payload->pl_data;
  size_t len = sip->sip_payload->pl_len;
  for (size_t i = 0; i + 7 <= len; i++) {
    if ((i == 0 || body[i - 1] == '\n') && body[i] == 'm' && body[i + 1] == '=') {
      if (strncmp(body + i + 2, "audio", 5) == 0) media |= CD_MEDIA_AUDIO;
      if (strncmp(body + i + 2, "video", 5) == 0) media |= CD_MEDIA_VIDEO;
    }
  }
  return media;
}

static void call_learn_facts(struct cd_call *call, sip_t const *sip)
{
  const char *pai = cd_sip_unknown_value(sip, "P-Asserted-Identity");
  char *from = sip->sip_from ? url_as_string(call->home, sip->sip_from->a_url) : NULL;
  call->caller_uri = pai ? pai : from;
  call->caller_key[0] = '\0';
  if (!(pai && cd_identity_key(pai, call->caller_key, NULL) == 0) && from)
    cd_identity_key(from, call->caller_key, NULL);
  call->facts.caller_key = call->caller_key;
  call->facts.caller_anonymous = caller_is_anonymous(sip);
  call->facts.media = offered_media(sip);
  if (sip->sip_payload && sip->sip_payload->pl_data &&
      cd_key_mgmt_ticket_hash(sip->sip_payload->pl_data, sip->sip_payload->pl_len,
                              call->ticket_hash) < 0)
    call->ticket_hash[0] = '\0';
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  call->facts.weekday = (tm.tm_wday + 6) % 7;
  call->facts.minute = tm.tm_hour * 60 + tm.tm_min;
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
  call->home = msg_home(call->request);
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
  timer_stop(&call->linger);
  call_end_branch(call);
  cd_store_cancel(call->store_query);
  if (call->counted_key)
    cd_proxy_count_call(call->proxy, call->counted_key, -1);
  if (call->irq) {
    /* Unbind first: destroying the irq must not call us back. */
    nta_incoming_bind(call->irq, NULL, NULL);
    if (!call->answered)
      call_reply(call, SIP_500_INTERNAL_SERVER_ERROR);
    nta_incoming_destroy(call->irq);
  }
  if (call->tport)
    tport_unref(call->tport);
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
    return 503;
  if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0)
    return 483;

  struct cd_call *call = call_create(proxy, irq);
  if (call == NULL)
    return 500;
  call->served_uri = url_as_string(call->home, sip->sip_request->rq_url);
  call->call_id = sip->sip_call_id ? sip->sip_call_id->i_id : "-";

  char key[CD_IDENTITY_KEY_MAX];
  const char *bad = served_user_key(call, sip, key);
  if (bad) {
    call_reply(call, 400, bad);
    call_destroy(call);
    return 0;
  }
  const struct cd_subscriber *sub = key[0] ? cd_conf_find(call->conf, key) : NULL;
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
  call_learn_facts(call, sip);
  if (call_serve(call, sub, call->served_uri, true) < 0)
    call_destroy(call);
  return 0;
}
