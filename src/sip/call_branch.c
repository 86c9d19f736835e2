/*
 * call_branch.c - the branch a call is trying, and everything that goes
 * back upstream (see call_private.h).
 *
 * What to do with each answer, timer or CANCEL is decided by the pure
 * state machine in core/call_fsm.c; this file only turns SIP events into
 * cd_fsm_event and carries out the actions with nta.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_buffer.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/tport_tag.h>
#include "log/log.h"
#include "sip/call_private.h"
#include "sip/sip_msg.h"

/* How long a call lingers after relaying a 2xx (64*T1). */
#define CALL_LINGER_MS 32000

/* ---------------------------------------------------------------- answers */

/* Sofia-SIP encodes the headers a message lacks the text of (changed or
 * new ones) into a buffer it allocates with 512 bytes to spare, 1 KB
 * however little it writes, and keeps as long as the message: a relayed
 * 180 (its Via taken off) and a branch (its new Via, Request-URI, ...)
 * each held one. With 512 bytes free in the message's buffer already it
 * encodes there instead (msg_buf_alloc() finds the room): half of it. */
static void reserve_encoding_room(msg_t *msg)
{
  (void)msg_buf_exact(msg, msg_min_size);
}

static void call_mark_answered(struct cd_call *call)
{
  if (!call->answered) {
    call->answered = true;
    cd_inflight_answered(call->calls->inflight);
  }
}

void call_reply(struct cd_call *call, int status, const char *phrase)
{
  if (call->irq == NULL)
    return;   /* released after the 2xx: nothing more goes upstream on it */
  nta_incoming_treply(call->irq, status, phrase, TAG_END());
  if (status >= 200)
    call_mark_answered(call);
}

void call_reply_warning(struct cd_call *call, int status, const char *phrase, const char *warning,
                        const char *reason)
{
  if (call->irq == NULL)
    return;
  nta_incoming_treply(call->irq, status, phrase, TAG_IF(warning, SIPTAG_WARNING_STR(warning)),
                      TAG_IF(reason, SIPTAG_REASON_STR(reason)), TAG_END());
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
    if (nta_msg_tsend(call->calls->agent, response, NULL, NTATAG_TPORT(call->tport), TAG_END()) < 0)
      cd_log(CD_LOG_WARNING, "call-id=%s: could not relay a further %d upstream", call->call_id, status);
    return;
  }
  sip_via_remove(response, sip_object(response));
  reserve_encoding_room(response);
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
  call->tport = nta_incoming_transport(call->calls->agent, call->irq, NULL);
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
  *timer = su_timer_create(su_root_task(call->calls->root), ms);
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
  call->linger = su_timer_create(su_root_task(call->calls->root), CALL_LINGER_MS);
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

/* A Contact's q (RFC 3261 20.10), 1.0 when absent or unreadable. */
static double contact_q(sip_contact_t const *m)
{
  char *end = NULL;
  double q = m->m_q ? strtod(m->m_q, &end) : 1.0;
  return m->m_q && (end == m->m_q || q < 0 || q > 1) ? 1.0 : q;
}

/* The targets a 302 deflects to: its Contacts that are user identities,
 * best q first (equal q in the order given), each without its URI headers
 * (RFC 3261 19.1.5: ?Priority=urgent is no part of a Request-URI; cdivas
 * does not apply them). Returns the first, with its canonical key, and
 * keeps the others in call->next_targets; NULL when none is usable (an
 * invalid Contact is not followed). */
static const char *deflection_targets(struct cd_call *call, sip_t const *sip,
                                      char key[CD_IDENTITY_KEY_MAX])
{
  call->next_targets = NULL;
  call->n_next_targets = 0;
  size_t n = 0;
  for (sip_contact_t const *m = sip ? sip->sip_contact : NULL; m; m = m->m_next)
    n++;
  struct { const char *uri; double q; } *found = n ? su_zalloc(call->home, n * sizeof *found) : NULL;
  size_t usable = 0;
  for (sip_contact_t const *m = sip ? sip->sip_contact : NULL; m && found; m = m->m_next) {
    url_t *url = url_hdup(call->home, m->m_url);
    if (url == NULL)
      continue;
    url->url_headers = NULL;
    char *uri = url_as_string(call->home, url);
    char k[CD_IDENTITY_KEY_MAX];
    if (uri == NULL || cd_identity_key(uri, k, NULL) < 0)
      continue;
    /* Insertion sort: a 302 has a handful of Contacts. */
    double q = contact_q(m);
    size_t at = usable;
    while (at > 0 && found[at - 1].q < q) {
      found[at] = found[at - 1];
      at--;
    }
    found[at].uri = uri;
    found[at].q = q;
    usable++;
  }
  if (usable == 0 || cd_identity_key(found[0].uri, key, NULL) < 0)
    return NULL;
  if (usable > 1) {
    call->next_targets = su_zalloc(call->home, (usable - 1) * sizeof *call->next_targets);
    for (size_t i = 1; call->next_targets && i < usable; i++)
      call->next_targets[call->n_next_targets++] = found[i].uri;
  }
  return found[0].uri;
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
    char contact_key[CD_IDENTITY_KEY_MAX];
    const char *contact = r.divert_service == CD_SVC_CD ? deflection_targets(call, sip, contact_key) : NULL;
    call_end_branch(call);
    if (r.divert_service == CD_SVC_CD && contact == NULL) {
      /* The state machine only deflects on a Contact, but it may not be a
       * URI we can follow: tell the caller the user is unavailable. */
      call_reply(call, SIP_480_TEMPORARILY_UNAVAILABLE);
    } else if (call_divert(call, r.divert_service, r.cause, r.reason_status, contact,
                           contact ? contact_key : NULL) < 0) {
      call_destroy(call);
      return;
    }
  } else if (r.actions & CD_ACT_NEXT_TARGET) {
    call_end_branch(call);
    if (call_divert_next(call, r.reason_status) < 0) {
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

int call_irq_event(nta_incoming_magic_t *magic, nta_incoming_t *irq, sip_t const *sip)
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

/* ---------------------------------------------------------------- sending */

/* Keeps the received INVITE's text (call_private.h says why): encoded
 * anew from its headers, as a copy of the message would have been. */
static int keep_invite_text(struct cd_call *call)
{
  size_t len = 0;
  char *text = msg_as_string(call->home, call->request, NULL, 0, &len);
  if (text == NULL || len == 0)
    return -1;
  /* msg_as_string() allocates by 512 bytes: keep what the text needs. */
  char *exact = su_realloc(call->home, text, len + 1);
  call->invite_text = exact ? exact : text;
  call->invite_len = len;
  return 0;
}

msg_t *call_invite(struct cd_call *call)
{
  if (!call->request_sent)
    return call->request;
  if (call->invite_again || call->invite_text == NULL)
    return call->invite_again;
  msg_t *msg = nta_msg_create(call->calls->agent, 0);
  msg_iovec_t iov[2];
  if (msg == NULL || msg_recv_iovec(msg, iov, 2, call->invite_len, 1) < 0 ||
      iov[0].mv_len != call->invite_len) {
    msg_destroy(msg);
    return NULL;
  }
  memcpy(iov[0].mv_base, call->invite_text, call->invite_len);
  msg_recv_commit(msg, call->invite_len, 1);
  if (msg_extract(msg) <= 0 || sip_object(msg)->sip_request == NULL) {
    msg_destroy(msg);
    return NULL;
  }
  call->invite_again = msg;
  return msg;
}

/* The message the next branch is made of (the caller's reference):
 * call->request itself the first time, the INVITE parsed anew later. */
static msg_t *branch_request(struct cd_call *call, bool later_branch_possible)
{
  if (!call->request_sent) {
    if (later_branch_possible && keep_invite_text(call) < 0)
      return NULL;
    call->request_sent = true;
    /* The size limit of received messages (NTATAG_MAXSIZE) was for
     * receiving it: the branch may grow by its new headers beyond it, as
     * a copy (which has no limit) could. */
    usize_t limit = msg_maxsize(call->request, 0);   /* 0: only asks */
    if (limit)
      msg_maxsize(call->request, 2 * limit);
    return msg_ref_create(call->request);
  }
  msg_t *msg = call_invite(call);
  call->invite_again = NULL;
  return msg;
}

int call_send_branch(struct cd_call *call, const char *target, unsigned services,
                     const char *hi_index)
{
  msg_t *msg = branch_request(call, services != 0 || call->n_next_targets > 0);
  sip_t *sip = msg ? sip_object(msg) : NULL;
  if (msg == NULL) {
    cd_log(CD_LOG_ERROR, "call-id=%s: the INVITE cannot be had again for a branch", call->call_id);
    goto fail;
  }
  url_string_t const *next_hop = cd_route_prepare_forward(call->calls->route, msg, sip);
  char secure[CD_IDENTITY_KEY_MAX + 8];
  if (target && sip->sip_request->rq_url->url_type == url_sips) {
    /* A sips call stays sips when retargeted (RFC 5630 3.1.3). */
    if (cd_identity_secure_uri(target, secure, sizeof secure) < 0) {
      cd_log(CD_LOG_NOTICE, "call-id=%s: sips call not diverted to %s: it cannot be reached securely",
             call->call_id, target);
      msg_destroy(msg);
      call_reply(call, 480, "Diversion Target Not Secure");
      return -1;
    }
    target = secure;
  }
  if (target) {
    char *history = cd_hi_format(&call->chain, call->received_hi, -1);
    char indication[CD_IDENTITY_KEY_MAX + 80];
    snprintf(indication, sizeof indication, "<%s>;hi=%s", call->conf->identity, hi_index);
    bool ok = history && cd_sip_set_request_uri(msg, sip, target) == 0 &&
              cd_sip_add_header(msg, sip, "History-Info", history) == 0 &&
              (call->our_diversions == NULL ||
               cd_sip_top_diversion(msg, sip, call->our_diversions) == 0) &&
              cd_sip_add_header(msg, sip, "P-CDIV-Indication", indication) == 0;
    free(history);
    /* P-Served-User named the user the call is diverted away from. */
    cd_sip_remove_header(msg, sip, "P-Served-User");
    if (!ok)
      goto fail;
  }
  if (cd_route_loops_back(call->calls->route, next_hop, sip)) {
    cd_log(CD_LOG_NOTICE, "call-id=%s: not forwarded to %s: that is this AS (482)", call->call_id,
           target ? target : "the Request-URI");
    msg_destroy(msg);
    call_reply(call, 482, "Loop Detected");
    return -1;
  }
  cd_fsm_begin_branch(&call->fsm, services, call->conf->decline_is_busy);
  call->fsm.has_next_target = call->n_next_targets > 0;
  const char *ident = cd_route_ident(call->calls->route, next_hop, sip);
  reserve_encoding_room(msg);
  call->branch = nta_outgoing_mcreate(call->calls->agent, branch_response,
                                      (nta_outgoing_magic_t *)call, next_hop, msg,
                                      NTATAG_PASS_100(1), TAG_IF(ident, TPTAG_IDENT(ident)),
                                      TAG_END());
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

/* Called by call_destroy: the branch and every timer. */
void call_branch_teardown(struct cd_call *call)
{
  timer_stop(&call->linger);
  call_end_branch(call);
}
