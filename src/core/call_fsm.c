/*
 * call_fsm.c - the diversion state machine (see call_fsm.h).
 *
 * The table below maps (state, event kind) to a transition function; the
 * function looks at the status code and the served user's services. Every
 * cell is filled, so an event the design did not expect in a state is a
 * deliberate "ignore", never undefined behaviour.
 */
#include "core/call_fsm.h"

typedef struct cd_fsm_result (*transition_fn)(struct cd_fsm *fsm, const struct cd_fsm_event *ev);

static bool has(const struct cd_fsm *fsm, enum cd_service svc)
{
  return (fsm->services & (1u << svc)) != 0;
}

static struct cd_fsm_result act(unsigned actions)
{
  struct cd_fsm_result r = { .actions = actions };
  return r;
}

/* The branch is over: divert when the served user has a rule for `svc`,
 * otherwise pass the answer on (or, with no answer to pass, reply). */
static struct cd_fsm_result divert_or(struct cd_fsm *fsm, enum cd_service svc, int cause,
                                      int reason_status, unsigned otherwise, int reply_status)
{
  unsigned stop = fsm->state == CD_FSM_ALERTING ? CD_ACT_STOP_NR_TIMER : 0;
  fsm->state = CD_FSM_DONE;
  if (has(fsm, svc)) {
    struct cd_fsm_result r = act(CD_ACT_DIVERT | CD_ACT_ABSORB | stop);
    r.divert_service = svc;
    r.cause = cause;
    r.reason_status = reason_status;
    return r;
  }
  struct cd_fsm_result r = act(otherwise | stop);
  r.reply_status = reply_status;
  return r;
}

static struct cd_fsm_result ignore(struct cd_fsm *fsm, const struct cd_fsm_event *ev)
{
  (void)fsm; (void)ev;
  return act(CD_ACT_ABSORB);
}

static struct cd_fsm_result provisional(struct cd_fsm *fsm, const struct cd_fsm_event *ev)
{
  unsigned actions = CD_ACT_RELAY;
  if (ev->status == 180 && !fsm->alerted) {
    fsm->alerted = true;
    fsm->state = CD_FSM_ALERTING;
    if (has(fsm, CD_SVC_CFNR))
      actions |= CD_ACT_START_NR_TIMER;
  }
  return act(actions);
}

static struct cd_fsm_result final_answer(struct cd_fsm *fsm, const struct cd_fsm_event *ev)
{
  int st = ev->status;
  if (st < 300) {
    unsigned stop = fsm->state == CD_FSM_ALERTING ? CD_ACT_STOP_NR_TIMER : 0;
    fsm->state = CD_FSM_ANSWERED;
    return act(CD_ACT_RELAY | stop);
  }
  /* The table in call_fsm.h. */
  if (st == 486 || st == 600 || (st == 603 && fsm->decline_is_busy))
    return divert_or(fsm, CD_SVC_CFB, 486, st, CD_ACT_RELAY, 0);
  if (st == 302 && ev->has_contact)
    return divert_or(fsm, CD_SVC_CD, fsm->alerted ? 487 : 480, 302, CD_ACT_RELAY, 0);
  if (!fsm->alerted && (st == 404 || st == 480))
    return divert_or(fsm, CD_SVC_CFNL, 404, st, CD_ACT_RELAY, 0);
  if (fsm->alerted && (st == 408 || st == 480))
    return divert_or(fsm, CD_SVC_CFNR, 408, st, CD_ACT_RELAY, 0);
  if (st == 408 || st == 500 || st == 503)
    return divert_or(fsm, CD_SVC_CFNRC, 503, st, CD_ACT_RELAY, 0);
  unsigned stop = fsm->state == CD_FSM_ALERTING ? CD_ACT_STOP_NR_TIMER : 0;
  fsm->state = CD_FSM_DONE;
  return act(CD_ACT_RELAY | stop);
}

static int timeout_status(const struct cd_fsm_event *ev)
{
  return ev->status >= 300 && ev->status <= 699 ? ev->status : 408;
}

static struct cd_fsm_result no_answer(struct cd_fsm *fsm, const struct cd_fsm_event *ev)
{
  if (!fsm->alerted)
    return divert_or(fsm, CD_SVC_CFNRC, 503, 408, CD_ACT_REPLY, timeout_status(ev));
  return divert_or(fsm, CD_SVC_CFNR, 408, 408, CD_ACT_REPLY, timeout_status(ev));
}

static struct cd_fsm_result no_reply_expired(struct cd_fsm *fsm, const struct cd_fsm_event *ev)
{
  /* Without a cfnr rule no timer was asked for on this branch: the event
   * is a stale one from an earlier branch. */
  if (!has(fsm, CD_SVC_CFNR))
    return ignore(fsm, ev);
  fsm->state = CD_FSM_NR_CANCELLING;
  return act(CD_ACT_CANCEL_BRANCH);
}

static struct cd_fsm_result caller_cancel(struct cd_fsm *fsm, const struct cd_fsm_event *ev)
{
  (void)ev;
  unsigned stop = fsm->state == CD_FSM_ALERTING ? CD_ACT_STOP_NR_TIMER : 0;
  fsm->state = CD_FSM_CANCELLED;
  return act(CD_ACT_CANCEL_BRANCH | stop);
}

/* NR_CANCELLING: the served user's answer to our CANCEL is absorbed and the
 * call diverts; a 2xx that crossed the CANCEL wins and is relayed. */
static struct cd_fsm_result final_after_nr_cancel(struct cd_fsm *fsm, const struct cd_fsm_event *ev)
{
  if (ev->status < 300) {
    fsm->state = CD_FSM_ANSWERED;
    return act(CD_ACT_RELAY);
  }
  return divert_or(fsm, CD_SVC_CFNR, 408, 408, CD_ACT_RELAY, 0);
}

static struct cd_fsm_result timeout_after_nr_cancel(struct cd_fsm *fsm, const struct cd_fsm_event *ev)
{
  return divert_or(fsm, CD_SVC_CFNR, 408, 408, CD_ACT_REPLY, timeout_status(ev));
}

/* The branch is already being cancelled by us; the caller's CANCEL only
 * means its final answer now goes upstream instead of diverting. */
static struct cd_fsm_result cancel_while_nr_cancelling(struct cd_fsm *fsm, const struct cd_fsm_event *ev)
{
  (void)ev;
  fsm->state = CD_FSM_CANCELLED;
  return act(0);
}

static struct cd_fsm_result final_after_cancel(struct cd_fsm *fsm, const struct cd_fsm_event *ev)
{
  /* A 2xx that crossed the CANCEL is forwarded, as any proxy must. */
  fsm->state = ev->status < 300 ? CD_FSM_ANSWERED : CD_FSM_DONE;
  return act(CD_ACT_RELAY);
}

static struct cd_fsm_result timeout_after_cancel(struct cd_fsm *fsm, const struct cd_fsm_event *ev)
{
  (void)ev;
  fsm->state = CD_FSM_DONE;
  struct cd_fsm_result r = act(CD_ACT_REPLY);
  r.reply_status = 487;
  return r;
}

static struct cd_fsm_result late_final(struct cd_fsm *fsm, const struct cd_fsm_event *ev)
{
  (void)fsm;
  /* Further 2xx (a fork downstream) still reach the caller. */
  return act(ev->status < 300 ? CD_ACT_RELAY : CD_ACT_ABSORB);
}

static const transition_fn transitions[CD_FSM_STATE_COUNT][CD_EV_BRANCH_TIMEOUT + 1] = {
  /*                     PROVISIONAL  FINAL                  NO_REPLY_TIMER    CALLER_CANCEL               BRANCH_TIMEOUT */
  [CD_FSM_TRYING]       = { provisional, final_answer,          ignore,           caller_cancel,              no_answer },
  [CD_FSM_ALERTING]     = { provisional, final_answer,          no_reply_expired, caller_cancel,              no_answer },
  [CD_FSM_NR_CANCELLING]= { ignore,      final_after_nr_cancel, ignore,           cancel_while_nr_cancelling, timeout_after_nr_cancel },
  [CD_FSM_CANCELLED]    = { ignore,      final_after_cancel,    ignore,           ignore,                     timeout_after_cancel },
  [CD_FSM_ANSWERED]     = { ignore,      late_final,            ignore,           ignore,                     ignore },
  [CD_FSM_DONE]         = { ignore,      ignore,                ignore,           ignore,                     ignore },
};

void cd_fsm_begin_branch(struct cd_fsm *fsm, unsigned services, bool decline_is_busy)
{
  fsm->state = CD_FSM_TRYING;
  fsm->services = services;
  fsm->alerted = false;
  fsm->decline_is_busy = decline_is_busy;
  fsm->has_next_target = false;
}

struct cd_fsm_result cd_fsm_step(struct cd_fsm *fsm, const struct cd_fsm_event *ev)
{
  if ((unsigned)fsm->state >= CD_FSM_STATE_COUNT || (unsigned)ev->kind > CD_EV_BRANCH_TIMEOUT)
    return act(CD_ACT_ABSORB);
  enum cd_fsm_state before = fsm->state;
  struct cd_fsm_result r = transitions[fsm->state][ev->kind](fsm, ev);
  bool failed = (ev->kind == CD_EV_FINAL && ev->status >= 300 && ev->status < 600) ||
                ev->kind == CD_EV_BRANCH_TIMEOUT;
  if (fsm->has_next_target && failed && before != CD_FSM_CANCELLED && fsm->state == CD_FSM_DONE &&
      (r.actions & (CD_ACT_RELAY | CD_ACT_REPLY)) && !(r.actions & CD_ACT_DIVERT)) {
    r.actions = (r.actions & ~(CD_ACT_RELAY | CD_ACT_REPLY)) | CD_ACT_NEXT_TARGET | CD_ACT_ABSORB;
    r.reason_status = ev->kind == CD_EV_FINAL ? ev->status : 408;
  }
  return r;
}

const char *cd_fsm_state_name(enum cd_fsm_state state)
{
  static const char *const names[] = {
    "trying", "alerting", "nr-cancelling", "cancelled", "answered", "done",
  };
  return (unsigned)state < CD_FSM_STATE_COUNT ? names[state] : "?";
}
