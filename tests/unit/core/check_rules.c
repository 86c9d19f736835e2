/* Unit tests for rule selection: order, service as trigger, and each condition. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "core/rules.h"

static struct cd_rule rule(enum cd_service svc, const char *target)
{
  struct cd_rule r = {0};
  r.service = svc;
  r.target = (char *)target;
  r.anonymous = -1;
  r.active = true;
  r.notify_caller = true;
  return r;
}

static struct cd_subscriber subscriber(struct cd_rule *rules, size_t n)
{
  struct cd_subscriber s = {0};
  s.rules = rules;
  s.n_rules = n;
  return s;
}

static const struct cd_call_facts weekday_noon = {
  .caller_key = "sip:alice@ims.example.net", .media = CD_MEDIA_AUDIO,
  .weekday = 2, .minute = 12 * 60,
};

START_TEST(first_matching_rule_wins)
{
  struct cd_rule rules[] = { rule(CD_SVC_CFB, "sip:b1@x"), rule(CD_SVC_CFU, "sip:u1@x"),
                             rule(CD_SVC_CFU, "sip:u2@x") };
  struct cd_subscriber s = subscriber(rules, 3);
  const struct cd_rule *r = cd_rules_select(&s, CD_SVC_CFU, &weekday_noon);
  ck_assert_ptr_nonnull(r);
  ck_assert_str_eq(r->target, "sip:u1@x");
  r = cd_rules_select(&s, CD_SVC_CFB, &weekday_noon);
  ck_assert_str_eq(r->target, "sip:b1@x");
  ck_assert_ptr_null(cd_rules_select(&s, CD_SVC_CFNR, &weekday_noon));
}
END_TEST

START_TEST(inactive_rule_is_skipped)
{
  struct cd_rule rules[] = { rule(CD_SVC_CFU, "sip:off@x"), rule(CD_SVC_CFU, "sip:on@x") };
  rules[0].active = false;
  struct cd_subscriber s = subscriber(rules, 2);
  ck_assert_str_eq(cd_rules_select(&s, CD_SVC_CFU, &weekday_noon)->target, "sip:on@x");
  rules[1].active = false;
  ck_assert_ptr_null(cd_rules_select(&s, CD_SVC_CFU, &weekday_noon));
}
END_TEST

START_TEST(callers_condition)
{
  char *callers[] = { "sip:alice@ims.example.net" };
  struct cd_rule r = rule(CD_SVC_CFU, "sip:c@x");
  r.callers = callers;
  r.n_callers = 1;
  ck_assert(cd_rule_conditions_hold(&r, &weekday_noon));
  struct cd_call_facts other = weekday_noon;
  other.caller_key = "sip:mallory@ims.example.net";
  ck_assert(!cd_rule_conditions_hold(&r, &other));
  other = weekday_noon;
  other.caller_anonymous = true; /* a hidden caller is never "listed" */
  ck_assert(!cd_rule_conditions_hold(&r, &other));
}
END_TEST

START_TEST(anonymous_condition)
{
  struct cd_rule r = rule(CD_SVC_CFU, "sip:c@x");
  struct cd_call_facts anon = weekday_noon;
  anon.caller_anonymous = true;
  r.anonymous = 1;
  ck_assert(cd_rule_conditions_hold(&r, &anon));
  ck_assert(!cd_rule_conditions_hold(&r, &weekday_noon));
  r.anonymous = 0;
  ck_assert(!cd_rule_conditions_hold(&r, &anon));
  ck_assert(cd_rule_conditions_hold(&r, &weekday_noon));
  r.anonymous = -1;
  ck_assert(cd_rule_conditions_hold(&r, &anon));
}
END_TEST

START_TEST(media_condition)
{
  struct cd_rule r = rule(CD_SVC_CFU, "sip:c@x");
  r.media = CD_MEDIA_VIDEO;
  ck_assert(!cd_rule_conditions_hold(&r, &weekday_noon));
  struct cd_call_facts video = weekday_noon;
  video.media = CD_MEDIA_AUDIO | CD_MEDIA_VIDEO;
  ck_assert(cd_rule_conditions_hold(&r, &video));
  r.media = CD_MEDIA_AUDIO;
  ck_assert(cd_rule_conditions_hold(&r, &weekday_noon));
}
END_TEST

START_TEST(validity_condition)
{
  struct cd_validity office = { .days = 0x1f /* mon-fri */, .from_min = 8 * 60, .to_min = 18 * 60 };
  struct cd_rule r = rule(CD_SVC_CFU, "sip:c@x");
  r.validity = &office;
  r.n_validity = 1;
  ck_assert(cd_rule_conditions_hold(&r, &weekday_noon));
  struct cd_call_facts f = weekday_noon;
  f.minute = 18 * 60;                 /* the end is exclusive */
  ck_assert(!cd_rule_conditions_hold(&r, &f));
  f.minute = 8 * 60;
  ck_assert(cd_rule_conditions_hold(&r, &f));
  f.weekday = 5;                      /* Saturday */
  ck_assert(!cd_rule_conditions_hold(&r, &f));
}
END_TEST

START_TEST(validity_window_wrapping_midnight)
{
  struct cd_validity night = { .days = 1u << 4 /* friday */, .from_min = 22 * 60, .to_min = 6 * 60 };
  struct cd_rule r = rule(CD_SVC_CFU, "sip:c@x");
  r.validity = &night;
  r.n_validity = 1;
  struct cd_call_facts f = weekday_noon;
  f.weekday = 4; f.minute = 23 * 60;  /* Friday 23:00 */
  ck_assert(cd_rule_conditions_hold(&r, &f));
  f.weekday = 5; f.minute = 5 * 60;   /* Saturday 05:00 belongs to Friday's window */
  ck_assert(cd_rule_conditions_hold(&r, &f));
  f.weekday = 4; f.minute = 5 * 60;   /* Friday 05:00 belongs to Thursday's: off */
  ck_assert(!cd_rule_conditions_hold(&r, &f));
}
END_TEST

START_TEST(absolute_periods)
{
  struct cd_period periods[] = { { 1000, 2000 }, { 5000, 6000 } };
  struct cd_rule r = rule(CD_SVC_CFU, "sip:c@x");
  r.periods = periods;
  r.n_periods = 2;
  struct cd_subscriber s = subscriber(&r, 1);
  struct cd_call_facts f = weekday_noon;
  long long at[] = { 999, 1000, 1999, 2000, 4999, 5000, 5999, 6000 };
  bool holds[] = { false, true, true, false, false, true, true, false };
  for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
    f.now = at[i];
    ck_assert_msg((cd_rules_select(&s, CD_SVC_CFU, &f) != NULL) == holds[i], "at %lld", at[i]);
  }
}
END_TEST

START_TEST(deactivated_subscriber)
{
  struct cd_rule rules[] = { rule(CD_SVC_CFU, "sip:u@x"), rule(CD_SVC_CFB, "sip:b@x") };
  struct cd_subscriber s = subscriber(rules, 2);
  s.deactivated = true;
  const struct cd_rule *all[CD_SVC_COUNT];
  ck_assert_ptr_null(cd_rules_select(&s, CD_SVC_CFU, &weekday_noon));
  ck_assert_uint_eq(cd_rules_select_all(&s, &weekday_noon, all), 0);
  s.deactivated = false;
  ck_assert_uint_eq(cd_rules_select_all(&s, &weekday_noon, all), (1u << CD_SVC_CFU) | (1u << CD_SVC_CFB));
}
END_TEST

START_TEST(select_all_services)
{
  struct cd_rule rules[] = { rule(CD_SVC_CFB, "sip:b@x"), rule(CD_SVC_CFNR, "sip:nr@x"),
                             rule(CD_SVC_CFNR, "sip:nr2@x") };
  struct cd_subscriber s = subscriber(rules, 3);
  const struct cd_rule *by[CD_SVC_COUNT];
  unsigned services = cd_rules_select_all(&s, &weekday_noon, by);
  ck_assert_uint_eq(services, (1u << CD_SVC_CFB) | (1u << CD_SVC_CFNR));
  ck_assert_ptr_eq(by[CD_SVC_CFB], &rules[0]);
  ck_assert_ptr_eq(by[CD_SVC_CFNR], &rules[1]);
  ck_assert_ptr_null(by[CD_SVC_CFU]);
  ck_assert_ptr_null(by[CD_SVC_CD]);
}
END_TEST

/* Before the user is tried: cfu always, cfnl only when logged out, cfb
 * only when busy; the earliest in the subscriber's order wins. */
START_TEST(first_immediate_rule)
{
  struct cd_rule rules[] = { rule(CD_SVC_CFNL, "sip:nl@x"), rule(CD_SVC_CFB, "sip:b@x"),
                             rule(CD_SVC_CFU, "sip:u@x"), rule(CD_SVC_CFNR, "sip:nr@x") };
  struct cd_subscriber s = subscriber(rules, 4);
  const struct cd_rule *by[CD_SVC_COUNT];
  cd_rules_select_all(&s, &weekday_noon, by);
  ck_assert_ptr_eq(cd_rules_first_immediate(&s, by, false, false), &rules[2]);
  ck_assert_ptr_eq(cd_rules_first_immediate(&s, by, true, false), &rules[0]);
  ck_assert_ptr_eq(cd_rules_first_immediate(&s, by, false, true), &rules[1]);
  ck_assert_ptr_eq(cd_rules_first_immediate(&s, by, true, true), &rules[0]);
  struct cd_subscriber only_nr = subscriber(&rules[3], 1);
  cd_rules_select_all(&only_nr, &weekday_noon, by);
  ck_assert_ptr_null(cd_rules_first_immediate(&only_nr, by, true, true));
}
END_TEST

START_TEST(sdp_media)
{
  const char *audio = "v=0\r\nm=audio 4000 RTP/AVP 0\r\n";
  const char *both = "v=0\r\nm=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 96\r\n";
  const char *none = "v=0\r\na=m=audio\r\n";
  ck_assert_uint_eq(cd_rules_sdp_media(audio, strlen(audio)), CD_MEDIA_AUDIO);
  ck_assert_uint_eq(cd_rules_sdp_media(both, strlen(both)), CD_MEDIA_AUDIO | CD_MEDIA_VIDEO);
  ck_assert_uint_eq(cd_rules_sdp_media(none, strlen(none)), 0);
  ck_assert_uint_eq(cd_rules_sdp_media("m=video", 7), CD_MEDIA_VIDEO);
  ck_assert_uint_eq(cd_rules_sdp_media("m=vide", 6), 0);
  ck_assert_uint_eq(cd_rules_sdp_media(NULL, 10), 0);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("rules");
  TCase *tc = tcase_create("select");
  tcase_add_test(tc, first_matching_rule_wins);
  tcase_add_test(tc, inactive_rule_is_skipped);
  tcase_add_test(tc, callers_condition);
  tcase_add_test(tc, anonymous_condition);
  tcase_add_test(tc, media_condition);
  tcase_add_test(tc, validity_condition);
  tcase_add_test(tc, validity_window_wrapping_midnight);
  tcase_add_test(tc, absolute_periods);
  tcase_add_test(tc, deactivated_subscriber);
  tcase_add_test(tc, select_all_services);
  tcase_add_test(tc, first_immediate_rule);
  tcase_add_test(tc, sdp_media);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
