/*
 * call_private.h - the state of one call, shared by the three files of
 * the call module (not to be included elsewhere):
 *   call.c         arrival: the served user, the call's facts; life and death
 *   call_branch.c  the branch being tried: answers upstream, timers, the
 *                  state machine's actions, CANCEL
 *   call_divert.c  serving a user: immediate rules, the state store's
 *                  word on registration, and the diversion itself
 *
 * A call owns the server transaction (irq), the received request, the
 * client transaction of the branch being tried and its timers. The first
 * branch is the received INVITE itself, changed in place and handed to
 * nta (the server transaction keeps nothing it needs in that message: it
 * copied its Via, From, To, Call-ID and CSeq when it was created), so a
 * held call keeps one INVITE rather than two (doc/performance.md). When a
 * later branch may follow (the served user has rules that divert on an
 * answer or a timer, or a deflection has Contacts left) the INVITE's text
 * is kept first, and every later branch is parsed anew from it: each
 * starts from the request exactly as it came in. After relaying a 2xx the call
 * lingers for at least 64*T1 so that further 2xx still reach the caller;
 * any other final answer ends it at once. While it lingers it keeps the
 * branch (the client transaction that receives those 2xx) but not the
 * server transaction (call_branch.c says why).
 */
#ifndef CDIVAS_SIP_CALL_PRIVATE_H
#define CDIVAS_SIP_CALL_PRIVATE_H

#include <stdbool.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport.h>
#include "core/call_fsm.h"
#include "core/conf.h"
#include "core/history_info.h"
#include "core/identity.h"
#include "core/registrations.h"
#include "core/rules.h"
#include "sip/call.h"

struct cd_call {
  struct cd_call *next, **prev;
  struct cd_calls *calls;
  struct cd_conf *conf;               /* the snapshot this call started with */
  nta_incoming_t *irq;                /* NULL once released after the 2xx */
  tport_t *tport;                     /* the caller's transport, kept with the irq released */
  msg_t *request;                     /* the INVITE as received, until it became the first branch */
  su_home_t *home;                    /* the request's home: strings that live as long as the call */
  bool request_sent;                  /* call->request was changed into the first branch */
  char *invite_text;                  /* the INVITE as received, kept for later branches; or NULL */
  size_t invite_len;
  msg_t *invite_again;                /* parsed from invite_text, for the coming branch; or NULL */
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
  const char *caller_key;             /* in home, "" when unknown (no buffer of 256 B per call) */
  const char *caller_uri;
  const char *call_id;
  const char *ticket_hash;            /* SHA-256 of the MIKEY ticket in the SDP, hex; "" when none */
  /* A deflection's other Contacts, best q first, tried in turn when the
   * one before fails (call_divert_next); empty otherwise. */
  const char **next_targets;
  size_t n_next_targets;
  int deflect_cause;                  /* the deflection's cause (480, 487) */
  const struct cd_subscriber *deflected_by; /* the served user who deflected */
  /* A feature code being applied (call.c): the call waits for it. */
  void *feature_op;
  bool asking_feature;                /* the hook runs: an answer now is kept */
  bool feature_answered;
  int feature_status;
  const char *feature_text;            /* in home, once answered (few calls are feature codes) */
  cd_hi_chain chain;
  size_t received_hi;                 /* leading chain entries that came in the INVITE */
  /* RFC 5806 Diversion (core/diversion.h): the diversions the INVITE's
   * Diversion headers record when it came without History-Info (they
   * count toward the limit, RFC 6044 5), and the value of the Diversion
   * header of ours every further branch gets (newest first; NULL: none). */
  size_t earlier_diversions;
  const char *our_diversions;
  bool answered;                      /* a final answer went upstream */
};

/* call.c */
void call_destroy(struct cd_call *call);

/* call_branch.c */
/* The INVITE as received, parsed (borrowed; NULL when it cannot be had):
 * call->request until it became the first branch, then a message parsed
 * anew from its text, which the next branch then uses. */
msg_t *call_invite(struct cd_call *call);
/* Answers the caller (no-op once the server transaction is released). */
void call_reply(struct cd_call *call, int status, const char *phrase);
/* The same with a Warning and a Reason header (either may be NULL). */
void call_reply_warning(struct cd_call *call, int status, const char *phrase, const char *warning,
                        const char *reason);
/* Sends the received INVITE on as a new branch towards `target` (NULL:
 * unchanged Request-URI) with the chain's new History-Info entries and,
 * after a diversion (hi_index, the target's entry), the CDIV indication;
 * `services` are the served user's rules the branch may trigger. Returns
 * 0, or -1 after answering the caller. */
int call_send_branch(struct cd_call *call, const char *target, unsigned services,
                     const char *hi_index);
/* Stops the branch and every timer (call_destroy). */
void call_branch_teardown(struct cd_call *call);
/* The server transaction's callback: a CANCEL, or its end. */
int call_irq_event(nta_incoming_magic_t *magic, nta_incoming_t *irq, sip_t const *sip);

/* call_divert.c */
/* Makes `sub` the call's served user (see call_divert.c). Returns 0, also
 * while the call waits for the state store, or -1 after answering. */
int call_serve(struct cd_call *call, const struct cd_subscriber *sub, const char *uri,
               bool initial);
/* Diverts the call with `service` and `cause`: to the rule's target, or to
 * deflect_to (CD; deflect_key its canonical key). Returns 0, or -1 after
 * answering the caller. */
int call_divert(struct cd_call *call, enum cd_service service, int cause, int reason_status,
                const char *deflect_to, const char *deflect_key);
/* The deflected-to target failed with `reason_status`: tries the next of
 * call->next_targets. Returns 0, or -1 after answering the caller (with
 * the last failure when no Contact is left). */
int call_divert_next(struct cd_call *call, int reason_status);

#endif
