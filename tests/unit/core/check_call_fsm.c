/*
 * check_call_fsm.c - unit tests for src/call_fsm.c, the per-branch
 * diversion state machine (TS 24.604 CFB, CFNR, CFNL, CD, CFNRc).
 *
 * Most tests are scenarios: a branch is begun with the served user's
 * services, a sequence of events is fed, and every step's actions, next
 * state and diversion parameters are checked against the protocol brief.
 * They cover each service with and without its rule, the no-reply timer's
 * life (first 180 only, never on 183), the races (caller CANCEL against
 * our own no-reply CANCEL, a 200 against the timer, a 486 after ringing, a
 * 2xx crossing the caller's CANCEL), branch timeouts and chained branches.
 * A final sweep feeds every event to every state and checks invariants that
 * must hold whatever the table says.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/call_fsm.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define BIT(svc) (1u << CD_SVC_##svc)
#define ALL_SERVICES ((1u << CD_SVC_COUNT) - 1u)

/* Short action names keep the scenario tables one step per line. */
#define RELAY CD_ACT_RELAY
#define ABSORB CD_ACT_ABSORB
#define START CD_ACT_START_NR_TIMER
#define STOP CD_ACT_STOP_NR_TIMER
#define CANCEL CD_ACT_CANCEL_BRANCH
#define DIVERT CD_ACT_DIVERT
#define REPLY CD_ACT_REPLY

/* Events. */
#define PROV(st) { .kind = CD_EV_PROVISIONAL, .status = (st) }
#define FINAL(st) { .kind = CD_EV_FINAL, .status = (st) }
#define FINAL_CONTACT(st) { .kind = CD_EV_FINAL, .status = (st), .has_contact = true }
#define NR_TIMER { .kind = CD_EV_NO_REPLY_TIMER }
#define CALLER_CANCEL { .kind = CD_EV_CALLER_CANCEL }
#define TIMEOUT { .kind = CD_EV_BRANCH_TIMEOUT }
#define TIMEOUT_ST(st) { .kind = CD_EV_BRANCH_TIMEOUT, .status = (st) }

struct step {
  struct cd_fsm_event ev;
  unsigned actions;           /* exactly these, apart from `dont_care` */
  unsigned dont_care;         /* bits that may or may not be present */
  enum cd_fsm_state state;    /* after the step */
  enum cd_service svc;        /* with DIVERT */
  int cause, reason;          /* with DIVERT */
  int reply;                  /* with REPLY */
};

/* Step constructors. A STOP_NR_TIMER for a timer that was never started is
 * harmless, so steps that may emit one without a running timer list STOP
 * as don't-care (MAYSTOP) rather than pinning the implementation down. */
#define EXPECT(ev_, acts, st) { .ev = ev_, .actions = (acts), .state = CD_FSM_##st }
#define EXPECT_MAYSTOP(ev_, acts, st) \
  { .ev = ev_, .actions = (acts), .dont_care = STOP, .state = CD_FSM_##st }
#define EXPECT_DIVERT(ev_, extra, svc_, cause_, reason_)                               \
  { .ev = ev_, .actions = DIVERT | ABSORB | (extra), .state = CD_FSM_DONE,             \
    .svc = CD_SVC_##svc_, .cause = (cause_), .reason = (reason_) }
#define EXPECT_DIVERT_MAYSTOP(ev_, svc_, cause_, reason_)                              \
  { .ev = ev_, .actions = DIVERT | ABSORB, .dont_care = STOP, .state = CD_FSM_DONE,    \
    .svc = CD_SVC_##svc_, .cause = (cause_), .reason = (reason_) }
/* No action, beyond perhaps ABSORB (there is no response to drop). */
#define EXPECT_NOTHING(ev_, st) { .ev = ev_, .actions = 0, .dont_care = ABSORB, .state = CD_FSM_##st }
#define EXPECT_REPLY(ev_, extra, st, status)                                          \
  { .ev = ev_, .actions = REPLY | (extra), .state = CD_FSM_##st, .reply = (status) }
#define EXPECT_REPLY_MAYSTOP(ev_, st, status)                                         \
  { .ev = ev_, .actions = REPLY, .dont_care = STOP, .state = CD_FSM_##st, .reply = (status) }

static const char *kind_name(enum cd_fsm_event_kind k) {
  switch (k) {
  case CD_EV_PROVISIONAL: return "PROVISIONAL";
  case CD_EV_FINAL: return "FINAL";
  case CD_EV_NO_REPLY_TIMER: return "NO_REPLY_TIMER";
  case CD_EV_CALLER_CANCEL: return "CALLER_CANCEL";
  case CD_EV_BRANCH_TIMEOUT: return "BRANCH_TIMEOUT";
  }
  return "?";
}

/* Renders an action set for failure messages, e.g. "RELAY|STOP". */
static const char *actions_str(unsigned a, char *buf, size_t len) {
  static const char *const names[] = { "RELAY", "ABSORB", "START", "STOP",
                                       "CANCEL", "DIVERT", "REPLY" };
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < N_ELEMS(names); i++)
    if (a & (1u << i))
      used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "|" : "", names[i]);
  if (a >> N_ELEMS(names))
    snprintf(buf + used, len - used, "%s0x%x", used ? "|" : "", a >> N_ELEMS(names) << N_ELEMS(names));
  if (buf[0] == '\0')
    snprintf(buf, len, "none");
  return buf;
}

/* Begins a branch and checks it starts clean, whatever came before. */
static void begin(struct cd_fsm *fsm, unsigned services) {
  cd_fsm_begin_branch(fsm, services, false);
  ck_assert_int_eq(fsm->state, CD_FSM_TRYING);
  ck_assert_uint_eq(fsm->services, services);
  ck_assert(!fsm->alerted);
}

/* Feeds `steps` in order; each failure names the test, the step and the
 * event, since a scenario's steps look alike. */
static void feed_steps(const char *test, struct cd_fsm *fsm, const struct step *steps, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const struct step *s = &steps[i];
    enum cd_fsm_state before = fsm->state;
    struct cd_fsm_result r = cd_fsm_step(fsm, &s->ev);
    char got[96], want[96];
    ck_assert_msg((r.actions & ~s->dont_care) == (s->actions & ~s->dont_care),
                  "%s step %zu (%s %d%s in %s): actions %s, want %s", test, i + 1,
                  kind_name(s->ev.kind), s->ev.status, s->ev.has_contact ? "+contact" : "",
                  cd_fsm_state_name(before), actions_str(r.actions, got, sizeof got),
                  actions_str(s->actions, want, sizeof want));
    ck_assert_msg(fsm->state == s->state, "%s step %zu (%s %d in %s): state %s, want %s", test,
                  i + 1, kind_name(s->ev.kind), s->ev.status, cd_fsm_state_name(before),
                  cd_fsm_state_name(fsm->state), cd_fsm_state_name(s->state));
    if (s->actions & DIVERT) {
      ck_assert_msg(r.divert_service == s->svc, "%s step %zu: service %d, want %d", test, i + 1,
                    (int)r.divert_service, (int)s->svc);
      ck_assert_msg(r.cause == s->cause, "%s step %zu: cause %d, want %d", test, i + 1, r.cause,
                    s->cause);
      ck_assert_msg(r.reason_status == s->reason, "%s step %zu: reason %d, want %d", test, i + 1,
                    r.reason_status, s->reason);
    }
    if (s->actions & REPLY)
      ck_assert_msg(r.reply_status == s->reply, "%s step %zu: reply %d, want %d", test, i + 1,
                    r.reply_status, s->reply);
  }
}

#define FEED(fsm, steps) feed_steps(__func__, (fsm), (steps), N_ELEMS(steps))

/* One branch towards a served user with `services`, fed `steps`. */
#define SCENARIO(services, steps)         \
  do {                                    \
    struct cd_fsm fsm_;                   \
    memset(&fsm_, 0xa5, sizeof fsm_);     \
    begin(&fsm_, (services));             \
    FEED(&fsm_, steps);                   \
  } while (0)

/* ------------------------------------------------------------------ CFB */

START_TEST(cfb_busy_diverts) {
  static const struct step steps[] = {
    EXPECT(PROV(183), RELAY, TRYING),
    EXPECT_DIVERT(FINAL(486), 0, CFB, 486, 486),
  };
  SCENARIO(BIT(CFB), steps);
}
END_TEST

/* Busy after ringing is still CFB (not CFNR), and the running no-reply
 * timer must be stopped or it would later CANCEL a branch that is gone. */
START_TEST(cfb_busy_after_180_stops_timer) {
  static const struct step steps[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT_DIVERT(FINAL(486), STOP, CFB, 486, 486),
    EXPECT(NR_TIMER, ABSORB, DONE),
  };
  SCENARIO(BIT(CFB) | BIT(CFNR), steps);
}
END_TEST

/* 600 Busy Everywhere is user busy too; 603 Decline only when the
 * operator says so (server.decline_is_busy). Reason keeps the status. */
START_TEST(cfb_600_and_603) {
  static const struct step s600[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT_DIVERT(FINAL(600), STOP, CFB, 486, 600),
  };
  SCENARIO(BIT(CFB) | BIT(CFNR), s600);
  static const struct step s603_relayed[] = {
    EXPECT(FINAL(603), RELAY, DONE),
  };
  SCENARIO(ALL_SERVICES, s603_relayed);
  struct cd_fsm fsm;
  cd_fsm_begin_branch(&fsm, BIT(CFB), true);
  static const struct step s603_busy[] = {
    EXPECT_DIVERT(FINAL(603), 0, CFB, 486, 603),
  };
  FEED(&fsm, s603_busy);
  /* The next branch keeps what it is given. */
  cd_fsm_begin_branch(&fsm, BIT(CFB), false);
  FEED(&fsm, s603_relayed);
}
END_TEST

START_TEST(cfb_without_rule_relays) {
  static const struct step steps[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(FINAL(486), RELAY | STOP, DONE),
  };
  SCENARIO(ALL_SERVICES & ~BIT(CFB), steps);
  static const struct step before_ringing[] = {
    EXPECT(FINAL(486), RELAY, DONE),
  };
  SCENARIO(ALL_SERVICES & ~BIT(CFB), before_ringing);
}
END_TEST

/* ----------------------------------------------------------------- CFNR */

START_TEST(cfnr_timer_expiry_cancels_then_diverts) {
  static const struct step steps[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(NR_TIMER, CANCEL, NR_CANCELLING),
    EXPECT_DIVERT(FINAL(487), 0, CFNR, 408, 408),
  };
  SCENARIO(BIT(CFNR), steps);
}
END_TEST

/* Whatever non-2xx the served user sends after our CANCEL (it may have
 * rejected just as the CANCEL left) the call diverts for no-reply: the
 * timer decided, and cfb must not steal the cause. */
START_TEST(cfnr_any_non2xx_after_cancel_diverts_408) {
  static const int statuses[] = { 302, 404, 408, 480, 486, 487, 500, 503, 603 };
  for (size_t i = 0; i < N_ELEMS(statuses); i++) {
    struct cd_fsm fsm;
    begin(&fsm, ALL_SERVICES);
    const struct step steps[] = {
      EXPECT(PROV(180), RELAY | START, ALERTING),
      EXPECT(NR_TIMER, CANCEL, NR_CANCELLING),
      EXPECT_DIVERT(FINAL(statuses[i]), 0, CFNR, 408, 408),
    };
    FEED(&fsm, steps);
  }
  /* A 302 with a Contact, too: cd does not apply once we cancelled. */
  static const struct step contact[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(NR_TIMER, CANCEL, NR_CANCELLING),
    EXPECT_DIVERT(FINAL_CONTACT(302), 0, CFNR, 408, 408),
  };
  SCENARIO(ALL_SERVICES, contact);
}
END_TEST

START_TEST(cfnr_timer_only_on_180_not_183) {
  static const struct step only_183[] = {
    EXPECT(PROV(183), RELAY, TRYING),
    EXPECT(PROV(183), RELAY, TRYING),
    EXPECT(FINAL(200), RELAY, ANSWERED),
  };
  SCENARIO(BIT(CFNR), only_183);
  static const struct step then_180[] = {
    EXPECT(PROV(183), RELAY, TRYING),
    EXPECT(PROV(180), RELAY | START, ALERTING),
  };
  SCENARIO(BIT(CFNR), then_180);
  static const struct step then_183[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(PROV(183), RELAY, ALERTING),
    EXPECT(NR_TIMER, CANCEL, NR_CANCELLING),
  };
  SCENARIO(BIT(CFNR), then_183);
}
END_TEST

/* Re-sent or forked 180s must not restart the timer: the served user's
 * no-reply time runs from when it first rang. */
START_TEST(cfnr_second_180_does_not_restart_timer) {
  static const struct step steps[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(PROV(180), RELAY, ALERTING),
    EXPECT(PROV(183), RELAY, ALERTING),
    EXPECT(PROV(180), RELAY, ALERTING),
    EXPECT(NR_TIMER, CANCEL, NR_CANCELLING),
  };
  SCENARIO(BIT(CFNR), steps);
}
END_TEST

START_TEST(cfnr_without_rule_no_timer) {
  static const struct step steps[] = {
    EXPECT(PROV(180), RELAY, ALERTING),
    EXPECT(PROV(180), RELAY, ALERTING),
    EXPECT_MAYSTOP(FINAL(487), RELAY, DONE),
  };
  SCENARIO(ALL_SERVICES & ~BIT(CFNR), steps);
}
END_TEST

START_TEST(cfnr_408_after_180) {
  static const struct step steps[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT_DIVERT(FINAL(408), STOP, CFNR, 408, 408),
  };
  SCENARIO(BIT(CFNR), steps);
  /* Without cfnr, a 408 after ringing is not cfnrc (that is only before
   * alerting): relayed. */
  static const struct step no_rule[] = {
    EXPECT(PROV(180), RELAY, ALERTING),
    EXPECT_MAYSTOP(FINAL(408), RELAY, DONE),
  };
  SCENARIO(ALL_SERVICES & ~BIT(CFNR), no_rule);
}
END_TEST

/* The served user picked up as the timer fired: the 200 crossed our
 * CANCEL, and a proxy must forward a 2xx. */
START_TEST(cfnr_200_racing_timer_wins) {
  static const struct step steps[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(NR_TIMER, CANCEL, NR_CANCELLING),
    EXPECT(FINAL(200), RELAY, ANSWERED),
    EXPECT(FINAL(487), ABSORB, ANSWERED),     /* a fork's answer to the CANCEL */
    EXPECT(FINAL(200), RELAY, ANSWERED),      /* another fork answered too */
  };
  SCENARIO(BIT(CFNR) | BIT(CFB), steps);
}
END_TEST

START_TEST(cfnr_200_before_timer) {
  static const struct step steps[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(FINAL(200), RELAY | STOP, ANSWERED),
    EXPECT(NR_TIMER, ABSORB, ANSWERED),       /* a timer that fired anyway is stale */
  };
  SCENARIO(BIT(CFNR), steps);
}
END_TEST

/* Our CANCEL went unanswered: the branch is dead all the same, divert. */
START_TEST(cfnr_timeout_while_nr_cancelling) {
  static const struct step steps[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(NR_TIMER, CANCEL, NR_CANCELLING),
    EXPECT(NR_TIMER, ABSORB, NR_CANCELLING),  /* no second CANCEL */
    EXPECT_DIVERT(TIMEOUT, 0, CFNR, 408, 408),
  };
  SCENARIO(BIT(CFNR), steps);
}
END_TEST

/* Ringing, then the transaction dies (timer C): with cfnr that is no-reply. */
START_TEST(cfnr_timeout_after_180) {
  static const struct step steps[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT_DIVERT(TIMEOUT, STOP, CFNR, 408, 408),
  };
  SCENARIO(BIT(CFNR), steps);
  /* cfnrc is only for a user who never alerted: reply 408 instead. */
  static const struct step no_rule[] = {
    EXPECT(PROV(180), RELAY, ALERTING),
    EXPECT_REPLY_MAYSTOP(TIMEOUT, DONE, 408),
  };
  SCENARIO(ALL_SERVICES & ~BIT(CFNR), no_rule);
}
END_TEST

/* NO_REPLY_TIMER where no timer can be running must change nothing. */
START_TEST(nr_timer_ignored_where_not_running) {
  static const struct step trying[] = {
    EXPECT(NR_TIMER, ABSORB, TRYING),
    EXPECT(PROV(183), RELAY, TRYING),
    EXPECT(NR_TIMER, ABSORB, TRYING),
    EXPECT(PROV(180), RELAY | START, ALERTING),
  };
  SCENARIO(BIT(CFNR), trying);
  static const struct step cancelled[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(CALLER_CANCEL, CANCEL | STOP, CANCELLED),
    EXPECT(NR_TIMER, ABSORB, CANCELLED),      /* fired as we stopped it */
    EXPECT(FINAL(487), RELAY, DONE),
    EXPECT(NR_TIMER, ABSORB, DONE),
  };
  SCENARIO(BIT(CFNR), cancelled);
  static const struct step answered[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(FINAL(200), RELAY | STOP, ANSWERED),
    EXPECT(NR_TIMER, ABSORB, ANSWERED),
  };
  SCENARIO(BIT(CFNR), answered);
}
END_TEST

/*
 * A NO_REPLY_TIMER on a branch without a cfnr rule can only be stale (the
 * served user's timer firing as the call diverts and the plain target
 * starts ringing): it must be ignored, or the target would be CANCELled
 * and the call lost.
 * Sequence: begin_branch(0); PROVISIONAL 180; NO_REPLY_TIMER.
 */
START_TEST(nr_timer_ignored_without_cfnr_rule) {
  static const struct step plain[] = {
    EXPECT(PROV(180), RELAY, ALERTING),
    EXPECT(NR_TIMER, ABSORB, ALERTING),
    EXPECT_MAYSTOP(FINAL(200), RELAY, ANSWERED),
  };
  SCENARIO(0, plain);
  static const struct step no_cfnr[] = {
    EXPECT(PROV(180), RELAY, ALERTING),
    EXPECT(NR_TIMER, ABSORB, ALERTING),
    EXPECT_DIVERT_MAYSTOP(FINAL(486), CFB, 486, 486),
  };
  SCENARIO(ALL_SERVICES & ~BIT(CFNR), no_cfnr);
}
END_TEST

/* ----------------------------------------------------------------- CFNL */

START_TEST(cfnl_404_and_480_before_alerting) {
  static const struct step s404[] = {
    EXPECT_DIVERT(FINAL(404), 0, CFNL, 404, 404),
  };
  SCENARIO(BIT(CFNL), s404);
  /* The cause is always 404; Reason keeps what the network said. */
  static const struct step s480[] = {
    EXPECT(PROV(183), RELAY, TRYING),
    EXPECT_DIVERT(FINAL(480), 0, CFNL, 404, 480),
  };
  SCENARIO(BIT(CFNL), s480);
}
END_TEST

/* Once the user rang it was logged in: a later 404 is relayed, a later
 * 480 means the user did not answer (cfnr, cause 408, Reason 480). */
START_TEST(cfnl_not_after_alerting) {
  static const struct step s480[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT_DIVERT(FINAL(480), STOP, CFNR, 408, 480),
  };
  SCENARIO(ALL_SERVICES, s480);
  static const struct step s480_no_cfnr[] = {
    EXPECT(PROV(180), RELAY, ALERTING),
    EXPECT_MAYSTOP(FINAL(480), RELAY, DONE),
  };
  SCENARIO(ALL_SERVICES & ~BIT(CFNR), s480_no_cfnr);
  static const struct step s404[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(FINAL(404), RELAY | STOP, DONE),
  };
  SCENARIO(ALL_SERVICES, s404);
}
END_TEST

START_TEST(cfnl_without_rule_relays) {
  static const struct step s404[] = { EXPECT(FINAL(404), RELAY, DONE) };
  SCENARIO(ALL_SERVICES & ~BIT(CFNL), s404);
  static const struct step s480[] = { EXPECT(FINAL(480), RELAY, DONE) };
  SCENARIO(ALL_SERVICES & ~BIT(CFNL), s480);
}
END_TEST

/* ------------------------------------------------------------------- CD */

START_TEST(cd_before_alerting_cause_480) {
  static const struct step steps[] = {
    EXPECT_DIVERT(FINAL_CONTACT(302), 0, CD, 480, 302),
  };
  SCENARIO(BIT(CD), steps);
  /* 183 is not alerting. */
  static const struct step after_183[] = {
    EXPECT(PROV(183), RELAY, TRYING),
    EXPECT_DIVERT(FINAL_CONTACT(302), 0, CD, 480, 302),
  };
  SCENARIO(BIT(CD), after_183);
}
END_TEST

START_TEST(cd_after_alerting_cause_487) {
  static const struct step steps[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT_DIVERT(FINAL_CONTACT(302), STOP, CD, 487, 302),
  };
  SCENARIO(BIT(CD) | BIT(CFNR), steps);
}
END_TEST

/* No Contact means nowhere to deflect to; no rule means no deflection. */
/* A deflected-to target with more Contacts behind it: its failure tries
 * the next one instead of reaching the caller; a 6xx or the caller's
 * CANCEL end the search, a 2xx is relayed as ever. */
START_TEST(cd_next_contact_on_failure) {
  struct cd_fsm fsm;
  static const int failures[] = { 404, 480, 486, 503 };
  for (size_t i = 0; i < N_ELEMS(failures); i++) {
    begin(&fsm, 0);
    fsm.has_next_target = true;
    struct cd_fsm_result r = cd_fsm_step(&fsm, &(struct cd_fsm_event)FINAL(failures[i]));
    ck_assert_uint_eq(r.actions, CD_ACT_NEXT_TARGET | ABSORB);
    ck_assert_int_eq(r.reason_status, failures[i]);
    ck_assert_int_eq(fsm.state, CD_FSM_DONE);
  }
  begin(&fsm, 0);
  fsm.has_next_target = true;
  struct cd_fsm_result r = cd_fsm_step(&fsm, &(struct cd_fsm_event)TIMEOUT);
  ck_assert_uint_eq(r.actions, CD_ACT_NEXT_TARGET | ABSORB);
  ck_assert_int_eq(r.reason_status, 408);
  static const struct step global_failure[] = { EXPECT(FINAL(603), RELAY, DONE) };
  begin(&fsm, 0);
  fsm.has_next_target = true;
  FEED(&fsm, global_failure);
  static const struct step answered[] = { EXPECT(PROV(180), RELAY, ALERTING), EXPECT_MAYSTOP(FINAL(200), RELAY, ANSWERED) };
  begin(&fsm, 0);
  fsm.has_next_target = true;
  FEED(&fsm, answered);
  static const struct step cancelled[] = {
    EXPECT(PROV(180), RELAY, ALERTING),
    EXPECT_MAYSTOP(CALLER_CANCEL, CANCEL, CANCELLED),
    EXPECT(FINAL(487), RELAY, DONE),
  };
  begin(&fsm, 0);
  fsm.has_next_target = true;
  FEED(&fsm, cancelled);
  /* A rule of the target itself still comes first. */
  begin(&fsm, BIT(CFB));
  fsm.has_next_target = true;
  static const struct step own_rule[] = { EXPECT_DIVERT(FINAL(486), 0, CFB, 486, 486) };
  FEED(&fsm, own_rule);
  /* A new branch forgets it. */
  begin(&fsm, 0);
  ck_assert(!fsm.has_next_target);
}
END_TEST

START_TEST(cd_needs_contact_and_rule) {
  static const struct step no_contact[] = { EXPECT(FINAL(302), RELAY, DONE) };
  SCENARIO(ALL_SERVICES, no_contact);
  static const struct step no_rule[] = { EXPECT(FINAL_CONTACT(302), RELAY, DONE) };
  SCENARIO(ALL_SERVICES & ~BIT(CD), no_rule);
  static const struct step no_rule_alerting[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(FINAL_CONTACT(302), RELAY | STOP, DONE),
  };
  SCENARIO(ALL_SERVICES & ~BIT(CD), no_rule_alerting);
}
END_TEST

/* ---------------------------------------------------------------- CFNRc */

START_TEST(cfnrc_408_500_503_before_alerting) {
  static const int statuses[] = { 408, 500, 503 };
  for (size_t i = 0; i < N_ELEMS(statuses); i++) {
    struct cd_fsm fsm;
    begin(&fsm, BIT(CFNRC));
    const struct step steps[] = {
      EXPECT(PROV(183), RELAY, TRYING),
      EXPECT_DIVERT(FINAL(statuses[i]), 0, CFNRC, 503, statuses[i]),
    };
    FEED(&fsm, steps);
  }
}
END_TEST

/* A network failure after ringing still leaves the user unreachable. */
START_TEST(cfnrc_also_after_alerting) {
  static const int statuses[] = { 500, 503 };
  for (size_t i = 0; i < N_ELEMS(statuses); i++) {
    struct cd_fsm fsm;
    begin(&fsm, ALL_SERVICES);
    const struct step steps[] = {
      EXPECT(PROV(180), RELAY | START, ALERTING),
      EXPECT_DIVERT(FINAL(statuses[i]), STOP, CFNRC, 503, statuses[i]),
    };
    FEED(&fsm, steps);
    begin(&fsm, ALL_SERVICES & ~BIT(CFNRC));
    const struct step without_rule[] = {
      EXPECT(PROV(180), RELAY | START, ALERTING),
      EXPECT(FINAL(statuses[i]), RELAY | STOP, DONE),
    };
    FEED(&fsm, without_rule);
  }
}
END_TEST

START_TEST(cfnrc_without_rule_relays) {
  static const int statuses[] = { 408, 500, 503 };
  for (size_t i = 0; i < N_ELEMS(statuses); i++) {
    struct cd_fsm fsm;
    begin(&fsm, ALL_SERVICES & ~BIT(CFNRC));
    const struct step steps[] = { EXPECT(FINAL(statuses[i]), RELAY, DONE) };
    FEED(&fsm, steps);
  }
}
END_TEST

/* No answer at all: the served user is not reachable. Reason 408 whatever
 * status the shell attached, since no response carried one. */
START_TEST(cfnrc_timeout_no_answer) {
  static const struct step steps[] = {
    EXPECT_DIVERT(TIMEOUT, 0, CFNRC, 503, 408),
  };
  SCENARIO(BIT(CFNRC), steps);
  static const struct step after_183[] = {
    EXPECT(PROV(183), RELAY, TRYING),
    EXPECT_DIVERT(TIMEOUT_ST(503), 0, CFNRC, 503, 408),
  };
  SCENARIO(BIT(CFNRC), after_183);
}
END_TEST

/* Without cfnrc the caller must still get a final answer: 408, or the
 * status the shell attached when it is a usable final one. */
START_TEST(timeout_without_cfnrc_replies) {
  static const struct { int ev_status, reply; } cases[] = {
    { 0, 408 }, { 100, 408 }, { 200, 408 }, { 299, 408 }, { 300, 300 },
    { 408, 408 }, { 503, 503 }, { 699, 699 }, { 700, 408 }, { -1, 408 },
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    struct cd_fsm fsm;
    begin(&fsm, ALL_SERVICES & ~BIT(CFNRC));
    const struct step steps[] = {
      EXPECT_REPLY(TIMEOUT_ST(cases[i].ev_status), 0, DONE, cases[i].reply),
    };
    FEED(&fsm, steps);
  }
}
END_TEST

/* ------------------------------------------------------------------ CFU */

/* CFU diverts before any branch is sent, so the FSM never does: a user
 * with only a cfu rule behaves like a plain target. */
START_TEST(cfu_rule_never_diverts_in_fsm) {
  static const struct step steps[] = {
    EXPECT(PROV(180), RELAY, ALERTING),
    EXPECT_MAYSTOP(FINAL(486), RELAY, DONE),
  };
  SCENARIO(BIT(CFU), steps);
  static const struct step timeout[] = { EXPECT_REPLY(TIMEOUT, 0, DONE, 408) };
  SCENARIO(BIT(CFU), timeout);
}
END_TEST

/* ------------------------------------------------------- caller CANCEL */

/* The served user never answered anything yet: CANCEL it, no timer. */
START_TEST(caller_cancel_in_trying) {
  static const struct step steps[] = {
    EXPECT(CALLER_CANCEL, CANCEL, CANCELLED),
    EXPECT(PROV(180), ABSORB, CANCELLED),     /* late ringing: no timer for a dying branch */
    EXPECT(FINAL(487), RELAY, DONE),
  };
  SCENARIO(ALL_SERVICES, steps);
  /* The caller gave up: a busy answer is not worth a diversion. */
  static const struct step busy[] = {
    EXPECT(CALLER_CANCEL, CANCEL, CANCELLED),
    EXPECT(FINAL(486), RELAY, DONE),
  };
  SCENARIO(ALL_SERVICES, busy);
  static const struct step timeout[] = {
    EXPECT(CALLER_CANCEL, CANCEL, CANCELLED),
    EXPECT(CALLER_CANCEL, ABSORB, CANCELLED), /* retransmitted CANCEL: one is enough */
    EXPECT_REPLY(TIMEOUT, 0, DONE, 487),
  };
  SCENARIO(ALL_SERVICES, timeout);
}
END_TEST

START_TEST(caller_cancel_while_alerting) {
  static const struct step steps[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(CALLER_CANCEL, CANCEL | STOP, CANCELLED),
    EXPECT(FINAL(487), RELAY, DONE),
  };
  SCENARIO(BIT(CFNR), steps);
  static const struct step timeout[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(CALLER_CANCEL, CANCEL | STOP, CANCELLED),
    EXPECT_REPLY(TIMEOUT_ST(503), 0, DONE, 487),
  };
  SCENARIO(ALL_SERVICES, timeout);
}
END_TEST

START_TEST(caller_cancel_crossing_200) {
  static const struct step steps[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(CALLER_CANCEL, CANCEL | STOP, CANCELLED),
    EXPECT(FINAL(200), RELAY, ANSWERED),
    EXPECT(FINAL(487), ABSORB, ANSWERED),
  };
  SCENARIO(BIT(CFNR), steps);
}
END_TEST

/* The caller hangs up while our no-reply CANCEL is in flight: no second
 * CANCEL, and the branch's 487 now belongs to the caller, not to cfnr. */
START_TEST(caller_cancel_during_nr_cancelling) {
  static const struct step steps[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(NR_TIMER, CANCEL, NR_CANCELLING),
    EXPECT_NOTHING(CALLER_CANCEL, CANCELLED),
    EXPECT(FINAL(487), RELAY, DONE),
  };
  SCENARIO(ALL_SERVICES, steps);
  static const struct step answered[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(NR_TIMER, CANCEL, NR_CANCELLING),
    EXPECT_NOTHING(CALLER_CANCEL, CANCELLED),
    EXPECT(FINAL(200), RELAY, ANSWERED),
  };
  SCENARIO(ALL_SERVICES, answered);
  static const struct step timeout[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(NR_TIMER, CANCEL, NR_CANCELLING),
    EXPECT_NOTHING(CALLER_CANCEL, CANCELLED),
    EXPECT_REPLY(TIMEOUT, 0, DONE, 487),
  };
  SCENARIO(ALL_SERVICES, timeout);
}
END_TEST

/* -------------------------------------------------- answered and done */

START_TEST(answered_relays_only_further_2xx) {
  static const struct step steps[] = {
    EXPECT(FINAL(200), RELAY, ANSWERED),
    EXPECT(PROV(180), ABSORB, ANSWERED),
    EXPECT(FINAL(486), ABSORB, ANSWERED),
    EXPECT(FINAL_CONTACT(302), ABSORB, ANSWERED),
    EXPECT(FINAL(202), RELAY, ANSWERED),
    EXPECT(CALLER_CANCEL, ABSORB, ANSWERED),  /* too late: the call is up */
    EXPECT(NR_TIMER, ABSORB, ANSWERED),
    EXPECT(TIMEOUT, ABSORB, ANSWERED),
    EXPECT(FINAL(200), RELAY, ANSWERED),
  };
  SCENARIO(ALL_SERVICES, steps);
}
END_TEST

START_TEST(done_ignores_everything) {
  static const struct step steps[] = {
    EXPECT_DIVERT(FINAL(486), 0, CFB, 486, 486),
    EXPECT(PROV(180), ABSORB, DONE),
    EXPECT(PROV(183), ABSORB, DONE),
    EXPECT(FINAL(200), ABSORB, DONE),
    EXPECT(FINAL(486), ABSORB, DONE),
    EXPECT(FINAL(404), ABSORB, DONE),
    EXPECT(FINAL(503), ABSORB, DONE),
    EXPECT(FINAL_CONTACT(302), ABSORB, DONE),
    EXPECT(NR_TIMER, ABSORB, DONE),
    EXPECT(CALLER_CANCEL, ABSORB, DONE),
    EXPECT(TIMEOUT, ABSORB, DONE),
  };
  SCENARIO(ALL_SERVICES, steps);
}
END_TEST

/* ------------------------------------------------- plain target, chains */

START_TEST(plain_target_relays_everything) {
  static const int finals[] = { 200, 302, 404, 408, 480, 486, 487, 500, 503, 603 };
  for (size_t i = 0; i < N_ELEMS(finals); i++) {
    struct cd_fsm fsm;
    begin(&fsm, 0);
    const struct step steps[] = {
      EXPECT(PROV(183), RELAY, TRYING),
      EXPECT(PROV(180), RELAY, ALERTING),     /* no START: nobody asked for cfnr */
      EXPECT(PROV(180), RELAY, ALERTING),
      { .ev = FINAL(finals[i]), .actions = RELAY, .dont_care = STOP,
        .state = finals[i] < 300 ? CD_FSM_ANSWERED : CD_FSM_DONE },
    };
    FEED(&fsm, steps);
  }
  static const struct step before_ringing[] = {
    EXPECT(FINAL(404), RELAY, DONE),
  };
  SCENARIO(0, before_ringing);
  static const struct step contact[] = {
    EXPECT(FINAL_CONTACT(302), RELAY, DONE),
  };
  SCENARIO(0, contact);
  static const struct step s503[] = {
    EXPECT(FINAL(503), RELAY, DONE),
  };
  SCENARIO(0, s503);
  static const struct step timeout[] = {
    EXPECT_REPLY(TIMEOUT, 0, DONE, 408),
  };
  SCENARIO(0, timeout);
}
END_TEST

/* Served user busy -> target (no rules) busy too: the target's 486 goes to
 * the caller; the FSM must not remember the served user's cfb. */
START_TEST(diverted_branch_fails) {
  struct cd_fsm fsm;
  begin(&fsm, BIT(CFB) | BIT(CFNR));
  static const struct step served[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT_DIVERT(FINAL(486), STOP, CFB, 486, 486),
  };
  FEED(&fsm, served);
  begin(&fsm, 0);
  static const struct step target[] = {
    EXPECT(PROV(180), RELAY, ALERTING),
    EXPECT_MAYSTOP(FINAL(486), RELAY, DONE),
  };
  FEED(&fsm, target);
}
END_TEST

/* The target is itself a served user with cfnr: its own timer starts at its
 * own first 180 even though the previous branch had alerted. */
START_TEST(chained_diversion_restarts_from_scratch) {
  struct cd_fsm fsm;
  begin(&fsm, BIT(CFNR));
  static const struct step bob[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(NR_TIMER, CANCEL, NR_CANCELLING),
    EXPECT_DIVERT(FINAL(487), 0, CFNR, 408, 408),
  };
  FEED(&fsm, bob);
  begin(&fsm, BIT(CFNR) | BIT(CFNL) | BIT(CD));
  static const struct step carol[] = {
    EXPECT_DIVERT(FINAL_CONTACT(302), 0, CD, 480, 302), /* 480: carol never rang */
  };
  FEED(&fsm, carol);
  begin(&fsm, BIT(CFNL));
  static const struct step dave[] = {
    EXPECT_DIVERT(FINAL(480), 0, CFNL, 404, 480),
  };
  FEED(&fsm, dave);
  begin(&fsm, BIT(CFNR));
  static const struct step eve[] = {
    EXPECT(PROV(180), RELAY | START, ALERTING),
    EXPECT(FINAL(200), RELAY | STOP, ANSWERED),
  };
  FEED(&fsm, eve);
}
END_TEST

/* begin_branch must reset from any state, including mid-cancel. */
START_TEST(begin_branch_resets_any_state) {
  for (int st = 0; st < CD_FSM_STATE_COUNT; st++) {
    struct cd_fsm fsm = { .state = (enum cd_fsm_state)st, .services = ALL_SERVICES, .alerted = true };
    begin(&fsm, BIT(CFNR));
    static const struct step steps[] = {
      EXPECT(PROV(180), RELAY | START, ALERTING),
    };
    FEED(&fsm, steps);
  }
}
END_TEST

/* ---------------------------------------------------------- state names */

START_TEST(state_names) {
  ck_assert_str_eq(cd_fsm_state_name(CD_FSM_TRYING), "trying");
  ck_assert_str_eq(cd_fsm_state_name(CD_FSM_ALERTING), "alerting");
  ck_assert_str_eq(cd_fsm_state_name(CD_FSM_NR_CANCELLING), "nr-cancelling");
  ck_assert_str_eq(cd_fsm_state_name(CD_FSM_CANCELLED), "cancelled");
  ck_assert_str_eq(cd_fsm_state_name(CD_FSM_ANSWERED), "answered");
  ck_assert_str_eq(cd_fsm_state_name(CD_FSM_DONE), "done");
  /* Logged from corrupted or future states: must never be NULL. */
  ck_assert_ptr_nonnull(cd_fsm_state_name(CD_FSM_STATE_COUNT));
  ck_assert_ptr_nonnull(cd_fsm_state_name((enum cd_fsm_state)-1));
  ck_assert_ptr_nonnull(cd_fsm_state_name((enum cd_fsm_state)1000));
}
END_TEST

/* ---------------------------------------------------------------- sweep */

static const int sweep_statuses[] = { 0, 100, 180, 183, 200, 302, 404, 408,
                                      480, 486, 487, 500, 503, 603 };
static const enum cd_fsm_event_kind sweep_kinds[] = {
  CD_EV_PROVISIONAL, CD_EV_FINAL, CD_EV_NO_REPLY_TIMER, CD_EV_CALLER_CANCEL,
  CD_EV_BRANCH_TIMEOUT,
};

static void sweep_one(enum cd_fsm_state st, bool alerted, unsigned services,
                      const struct cd_fsm_event *ev) {
  struct cd_fsm fsm = { .state = st, .services = services, .alerted = alerted };
  struct cd_fsm_result r = cd_fsm_step(&fsm, ev);
  char acts[96];
  char where[160];
  snprintf(where, sizeof where, "state %s%s services 0x%x %s %d%s -> %s",
           cd_fsm_state_name(st), alerted ? "(alerted)" : "", services, kind_name(ev->kind),
           ev->status, ev->has_contact ? "+contact" : "",
           actions_str(r.actions, acts, sizeof acts));

  ck_assert_msg(cd_fsm_state_name(fsm.state) != NULL, "%s: NULL state name", where);
  ck_assert_msg(!((r.actions & RELAY) && (r.actions & DIVERT)), "%s: RELAY and DIVERT", where);
  ck_assert_msg(!((r.actions & RELAY) && (r.actions & ABSORB)), "%s: RELAY and ABSORB", where);
  ck_assert_msg(!((r.actions & RELAY) && (r.actions & REPLY)), "%s: RELAY and REPLY", where);
  ck_assert_msg((r.actions & ~(unsigned)(RELAY | ABSORB | START | STOP | CANCEL | DIVERT | REPLY)) == 0,
                "%s: unknown action bit", where);
  if (r.actions & DIVERT) {
    ck_assert_msg((unsigned)r.divert_service < CD_SVC_COUNT, "%s: service out of range", where);
    ck_assert_msg(services & (1u << r.divert_service), "%s: diverts for %d without its rule",
                  where, (int)r.divert_service);
    ck_assert_msg(r.cause > 0 && r.reason_status >= 300 && r.reason_status <= 699,
                  "%s: cause %d reason %d", where, r.cause, r.reason_status);
    ck_assert_msg(fsm.state == CD_FSM_DONE, "%s: diverted but left in %s", where,
                  cd_fsm_state_name(fsm.state));
  }
  if (r.actions & START)
    ck_assert_msg(services & BIT(CFNR), "%s: no-reply timer without a cfnr rule", where);
  if (r.actions & REPLY)
    ck_assert_msg(r.reply_status >= 300 && r.reply_status <= 699, "%s: reply %d", where,
                  r.reply_status);
  if ((unsigned)st < CD_FSM_STATE_COUNT)
    ck_assert_msg((unsigned)fsm.state < CD_FSM_STATE_COUNT, "%s: state out of range", where);
  if (st == CD_FSM_DONE)
    ck_assert_msg(r.actions == ABSORB && fsm.state == CD_FSM_DONE, "%s: DONE reacted", where);
}

/* One iteration per state, plus one past the end to prove a corrupted
 * state is handled, not indexed. */
START_TEST(sweep_invariants) {
  enum cd_fsm_state st = (enum cd_fsm_state)_i;
  /* 0 and all bits as briefed, plus each single service so that "DIVERT only
   * with its bit" also catches a diversion under the wrong service. */
  unsigned services_set[CD_SVC_COUNT + 2];
  size_t n_services = 0;
  services_set[n_services++] = 0;
  services_set[n_services++] = ALL_SERVICES;
  for (int s = 0; s < CD_SVC_COUNT; s++)
    services_set[n_services++] = 1u << s;

  for (size_t si = 0; si < n_services; si++)
    for (int alerted = 0; alerted <= 1; alerted++)
      for (size_t ki = 0; ki < N_ELEMS(sweep_kinds); ki++)
        for (size_t xi = 0; xi < N_ELEMS(sweep_statuses); xi++)
          for (int contact = 0; contact <= 1; contact++) {
            struct cd_fsm_event ev = { .kind = sweep_kinds[ki], .status = sweep_statuses[xi],
                                       .has_contact = contact };
            sweep_one(st, alerted, services_set[si], &ev);
          }
  /* An out-of-range event kind must be absorbed, not indexed. */
  struct cd_fsm_event bad = { .kind = (enum cd_fsm_event_kind)(CD_EV_BRANCH_TIMEOUT + 1) };
  struct cd_fsm fsm = { .state = st, .services = ALL_SERVICES };
  if ((unsigned)st < CD_FSM_STATE_COUNT) {
    struct cd_fsm_result r = cd_fsm_step(&fsm, &bad);
    ck_assert_uint_eq(r.actions, ABSORB);
    ck_assert_int_eq(fsm.state, st);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("call_fsm");

  TCase *tc = tcase_create("cfb");
  tcase_add_test(tc, cfb_busy_diverts);
  tcase_add_test(tc, cfb_busy_after_180_stops_timer);
  tcase_add_test(tc, cfb_without_rule_relays);
  tcase_add_test(tc, cfb_600_and_603);
  suite_add_tcase(s, tc);

  tc = tcase_create("cfnr");
  tcase_add_test(tc, cfnr_timer_expiry_cancels_then_diverts);
  tcase_add_test(tc, cfnr_any_non2xx_after_cancel_diverts_408);
  tcase_add_test(tc, cfnr_timer_only_on_180_not_183);
  tcase_add_test(tc, cfnr_second_180_does_not_restart_timer);
  tcase_add_test(tc, cfnr_without_rule_no_timer);
  tcase_add_test(tc, cfnr_408_after_180);
  tcase_add_test(tc, cfnr_200_racing_timer_wins);
  tcase_add_test(tc, cfnr_200_before_timer);
  tcase_add_test(tc, cfnr_timeout_while_nr_cancelling);
  tcase_add_test(tc, cfnr_timeout_after_180);
  tcase_add_test(tc, nr_timer_ignored_where_not_running);
  tcase_add_test(tc, nr_timer_ignored_without_cfnr_rule);
  suite_add_tcase(s, tc);

  tc = tcase_create("cfnl");
  tcase_add_test(tc, cfnl_404_and_480_before_alerting);
  tcase_add_test(tc, cfnl_not_after_alerting);
  tcase_add_test(tc, cfnl_without_rule_relays);
  suite_add_tcase(s, tc);

  tc = tcase_create("cd");
  tcase_add_test(tc, cd_before_alerting_cause_480);
  tcase_add_test(tc, cd_after_alerting_cause_487);
  tcase_add_test(tc, cd_needs_contact_and_rule);
  tcase_add_test(tc, cd_next_contact_on_failure);
  suite_add_tcase(s, tc);

  tc = tcase_create("cfnrc");
  tcase_add_test(tc, cfnrc_408_500_503_before_alerting);
  tcase_add_test(tc, cfnrc_also_after_alerting);
  tcase_add_test(tc, cfnrc_without_rule_relays);
  tcase_add_test(tc, cfnrc_timeout_no_answer);
  tcase_add_test(tc, timeout_without_cfnrc_replies);
  tcase_add_test(tc, cfu_rule_never_diverts_in_fsm);
  suite_add_tcase(s, tc);

  tc = tcase_create("cancel");
  tcase_add_test(tc, caller_cancel_in_trying);
  tcase_add_test(tc, caller_cancel_while_alerting);
  tcase_add_test(tc, caller_cancel_crossing_200);
  tcase_add_test(tc, caller_cancel_during_nr_cancelling);
  suite_add_tcase(s, tc);

  tc = tcase_create("branches");
  tcase_add_test(tc, answered_relays_only_further_2xx);
  tcase_add_test(tc, done_ignores_everything);
  tcase_add_test(tc, plain_target_relays_everything);
  tcase_add_test(tc, diverted_branch_fails);
  tcase_add_test(tc, chained_diversion_restarts_from_scratch);
  tcase_add_test(tc, begin_branch_resets_any_state);
  tcase_add_test(tc, state_names);
  suite_add_tcase(s, tc);

  tc = tcase_create("sweep");
  tcase_add_loop_test(tc, sweep_invariants, 0, CD_FSM_STATE_COUNT + 1);
  suite_add_tcase(s, tc);

  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
