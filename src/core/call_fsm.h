/*
 * call_fsm.h - the diversion state machine of one call, as a pure
 * transition table.
 *
 * The call tries one branch at a time: first the served user, then, after
 * a diversion, the target (which may itself be a served user with rules:
 * the chain continues). This module decides, from the branch's state and
 * an event, what the shell must do: relay the answer, start or stop the
 * no-reply timer, CANCEL the branch, divert with which service and cause,
 * or answer the caller itself. It knows no SIP stack, no timers and no
 * conf: the shell tells it which services the current served user has a
 * rule for (a bit set of cd_service).
 *
 * Causes follow TS 24.604 (protocol brief §2): cfb 486, cfnr 408, cfnl 404,
 * cd 480 before alerting / 487 after, cfnrc 503. Which final answer of the
 * served user triggers which service (doc/cdivas.8, "Triggers"):
 *
 *   answer            before a 180              after a 180
 *   486, 600          cfb                       cfb
 *   603               cfb if decline_is_busy    cfb if decline_is_busy
 *   302 with Contact  cd (480)                  cd (487)
 *   404               cfnl                      relayed
 *   480               cfnl                      cfnr
 *   408               cfnrc                     cfnr
 *   500, 503          cfnrc                     cfnrc
 *   no answer at all  cfnrc                     cfnr
 *
 * A 183 (early media, preconditions) is not alerting: only 180 starts the
 * no-reply timer and makes the user count as reached.
 */
#ifndef CDIVAS_CALL_FSM_H
#define CDIVAS_CALL_FSM_H

#include <stdbool.h>
#include "core/conf.h"

enum cd_fsm_state {
  CD_FSM_TRYING = 0,     /* branch sent, no 180 yet */
  CD_FSM_ALERTING,       /* the branch sent 180 */
  CD_FSM_NR_CANCELLING,  /* no-reply timer fired, branch CANCELled, waiting for its final answer */
  CD_FSM_CANCELLED,      /* the caller CANCELled; waiting for the branch's final answer */
  CD_FSM_ANSWERED,       /* a 2xx went upstream */
  CD_FSM_DONE,           /* a final non-2xx went upstream, or the call diverted away from this branch */
  CD_FSM_STATE_COUNT
};

enum cd_fsm_event_kind {
  CD_EV_PROVISIONAL = 0, /* 101..199 from the branch */
  CD_EV_FINAL,           /* 200..699 from the branch */
  CD_EV_NO_REPLY_TIMER,  /* the no-reply timer expired */
  CD_EV_CALLER_CANCEL,   /* CANCEL from upstream */
  CD_EV_BRANCH_TIMEOUT,  /* the client transaction ended without any answer (timer B/C) */
};

struct cd_fsm_event {
  enum cd_fsm_event_kind kind;
  int status;            /* PROVISIONAL, FINAL */
  bool has_contact;      /* FINAL 3xx: a Contact to deflect to */
};

/* Actions, as bits: several can come out of one event. */
enum {
  CD_ACT_RELAY           = 1 << 0,  /* pass the branch's response upstream */
  CD_ACT_ABSORB          = 1 << 1,  /* drop it */
  CD_ACT_START_NR_TIMER  = 1 << 2,
  CD_ACT_STOP_NR_TIMER   = 1 << 3,
  CD_ACT_CANCEL_BRANCH   = 1 << 4,
  CD_ACT_DIVERT          = 1 << 5,  /* see divert_service / cause / reason_status */
  CD_ACT_REPLY           = 1 << 6,  /* answer the caller with reply_status */
  CD_ACT_NEXT_TARGET     = 1 << 7,  /* try the next Contact of a deflection (reason_status: why this one failed) */
};

struct cd_fsm_result {
  unsigned actions;
  enum cd_service divert_service;
  int cause;             /* cause-param for the target's History-Info entry */
  int reason_status;     /* SIP status for the served user's Reason, 0 = none */
  int reply_status;      /* for CD_ACT_REPLY */
};

struct cd_fsm {
  enum cd_fsm_state state;
  unsigned services;     /* 1u << cd_service for each service with an applicable rule */
  bool alerted;          /* a 180 arrived on this branch */
  bool decline_is_busy;  /* 603 Decline counts as user busy (server.decline_is_busy) */
  bool has_next_target;  /* a deflection has more Contacts to try after this branch:
                          * set after cd_fsm_begin_branch, which clears it */
};

/* A new branch towards a user whose applicable rules are `services`
 * (0 for a plain target: everything is relayed). */
void cd_fsm_begin_branch(struct cd_fsm *fsm, unsigned services, bool decline_is_busy);

/* Feeds one event; returns what to do. The state moves on. On a branch
 * with has_next_target, a failure that would go to the caller (any final
 * answer from 300 to 599 that no rule diverts, or a timeout) becomes
 * CD_ACT_NEXT_TARGET instead (RFC 3261 16.7: a 6xx ends the search, and
 * a CANCEL by the caller too). */
struct cd_fsm_result cd_fsm_step(struct cd_fsm *fsm, const struct cd_fsm_event *ev);

const char *cd_fsm_state_name(enum cd_fsm_state state);

#endif
