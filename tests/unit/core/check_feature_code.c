/* Unit tests for call forwarding feature codes (src/core/feature_code.c):
 * every procedure and service code, both URI kinds and their escapes,
 * what is refused, and what each code does to a subscriber's rules. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "core/feature_code.h"

#define S(svc) (1u << (svc))

static struct cd_feature_code parse_ok(const char *uri)
{
  struct cd_feature_code fc;
  const char *why = NULL;
  ck_assert_msg(cd_feature_code_parse(uri, &fc, &why) == 1, "%s: %s", uri, why ? why : "not a code");
  return fc;
}

static void parse_bad(const char *uri, const char *part)
{
  struct cd_feature_code fc;
  const char *why = NULL;
  ck_assert_msg(cd_feature_code_parse(uri, &fc, &why) == -1, "accepted %s", uri);
  ck_assert_msg(strstr(why, part) != NULL, "%s: '%s' lacks '%s'", uri, why, part);
}

START_TEST(procedures_and_codes)
{
  struct cd_feature_code fc = parse_ok("sip:*21*+4930123%23@ims.example.net;user=phone");
  ck_assert_int_eq(fc.action, CD_FC_REGISTER);
  ck_assert_uint_eq(fc.services, S(CD_SVC_CFU));
  ck_assert_str_eq(fc.target, "tel:+4930123");
  ck_assert_str_eq(fc.code, "21");
  fc = parse_ok("tel:*21*+4930123#;phone-context=ims.example.net");
  ck_assert_str_eq(fc.target, "tel:+4930123");
  fc = parse_ok("tel:%2A21%2A0301234%23;phone-context=+49");
  ck_assert_str_eq(fc.target, "tel:0301234;phone-context=+49");
  fc = parse_ok("sip:**67*5551234%23@ims.example.net");
  ck_assert_int_eq(fc.action, CD_FC_REGISTER);
  ck_assert_uint_eq(fc.services, S(CD_SVC_CFB));
  ck_assert_str_eq(fc.target, "sip:5551234@ims.example.net;user=phone");
  fc = parse_ok("<sip:%2361%23@ims.example.net>");
  ck_assert_int_eq(fc.action, CD_FC_DEACTIVATE);
  ck_assert_uint_eq(fc.services, S(CD_SVC_CFNR));
  fc = parse_ok("sip:*61*+4930123*25%23@ims.example.net");
  ck_assert_int_eq(fc.timer, 25);
  fc = parse_ok("sip:*61*+4930123**30%23@ims.example.net");
  ck_assert_int_eq(fc.timer, 30);
  fc = parse_ok("sip:*62%23@ims.example.net");
  ck_assert_int_eq(fc.action, CD_FC_ACTIVATE);
  ck_assert_uint_eq(fc.services, S(CD_SVC_CFNRC));
  fc = parse_ok("sip:*%2363%23@ims.example.net");
  ck_assert_int_eq(fc.action, CD_FC_INTERROGATE);
  ck_assert_uint_eq(fc.services, S(CD_SVC_CFNL));
  fc = parse_ok("sip:%23%23002%23@ims.example.net");
  ck_assert_int_eq(fc.action, CD_FC_ERASE);
  ck_assert_uint_eq(fc.services, S(CD_SVC_CFU) | S(CD_SVC_CFB) | S(CD_SVC_CFNR) | S(CD_SVC_CFNRC) | S(CD_SVC_CFNL));
  fc = parse_ok("sip:%23004%23@ims.example.net");
  ck_assert_uint_eq(fc.services, S(CD_SVC_CFB) | S(CD_SVC_CFNR) | S(CD_SVC_CFNRC) | S(CD_SVC_CFNL));
  /* not feature codes at all */
  struct cd_feature_code none;
  const char *why;
  ck_assert_int_eq(cd_feature_code_parse("sip:bob@ims.example.net", &none, &why), 0);
  ck_assert_int_eq(cd_feature_code_parse("tel:+4930123", &none, &why), 0);
  ck_assert_int_eq(cd_feature_code_parse("urn:service:sos", &none, &why), 0);
  ck_assert_int_eq(cd_feature_code_parse(NULL, &none, &why), 0);
  /* codes that are not right */
  parse_bad("sip:*21*+4930123@ims.example.net", "ends with #");
  parse_bad("sip:*99*+4930123%23@ims.example.net", "not a call forwarding code");
  parse_bad("sip:*21*abc%23@ims.example.net", "not a number");
  parse_bad("sip:*21*+%23@ims.example.net", "not a number");
  parse_bad("sip:**21%23@ims.example.net", "needs a number");
  parse_bad("sip:%2321*1%23@ims.example.net", "takes no number");
  parse_bad("sip:*21*+4930123*11%23@ims.example.net", "basic service");
  parse_bad("sip:*61*+4930123*200%23@ims.example.net", "5 to 180");
  parse_bad("sip:*61*+4930123*4%23@ims.example.net", "5 to 180");
  parse_bad("sip:*61*+4930123*x%23@ims.example.net", "5 to 180");
  parse_bad("sip:*21*1*2*3*4%23@ims.example.net", "malformed");
  parse_bad("sip:*21#1%23@ims.example.net", "malformed");
}
END_TEST

static struct cd_rule rule(const char *id, enum cd_service svc, const char *target)
{
  struct cd_rule r = {0};
  r.id = (char *)id;
  r.service = svc;
  r.target = (char *)target;
  r.anonymous = -1;
  r.active = true;
  r.notify_caller = true;
  return r;
}

static struct cd_own_rules *apply_ok(const char *uri, const struct cd_subscriber *sub, const char *want)
{
  struct cd_feature_code fc = parse_ok(uri);
  struct cd_own_rules *own = NULL;
  char text[256];
  ck_assert_msg(cd_feature_code_apply(&fc, sub, &own, text, sizeof text) == 0, "%s: %s", uri, text);
  ck_assert_str_eq(text, want);
  return own;
}

static struct cd_subscriber view(struct cd_own_rules *own)
{
  struct cd_subscriber s = {0};
  s.rules = own->rules;
  s.n_rules = own->n_rules;
  s.deactivated = own->deactivated;
  s.no_reply_timer = own->no_reply_timer;
  return s;
}

START_TEST(what_codes_do)
{
  static char *callers[] = { "sip:alice@ims.example.net" };
  struct cd_rule rules[2] = { rule("call-diversion-busy", CD_SVC_CFB, "sip:carol@ims.example.net"),
                              rule("vip", CD_SVC_CFU, "sip:dave@ims.example.net") };
  rules[1].callers = callers;
  rules[1].n_callers = 1;
  struct cd_subscriber sub = {0};
  sub.rules = rules;
  sub.n_rules = 2;
  sub.deactivated = true;

  struct cd_own_rules *o1 = apply_ok("sip:*21*+4930123%23@x", &sub, "call forwarding unconditional on to tel:+4930123");
  ck_assert(!o1->deactivated);
  ck_assert_uint_eq(o1->n_rules, 3);
  ck_assert_str_eq(o1->rules[1].id, "vip");               /* the others stay */
  ck_assert_uint_eq(o1->rules[1].n_callers, 1);
  const struct cd_rule *r = &o1->rules[2];
  ck_assert_str_eq(r->id, "call-diversion-unconditional");
  ck_assert_int_eq(r->service, CD_SVC_CFU);
  ck_assert_str_eq(r->target, "tel:+4930123");
  ck_assert(r->active && r->notify_caller && r->reveal_identity_to_target);
  ck_assert_int_eq(r->anonymous, -1);
  struct cd_subscriber s1 = view(o1);

  /* registering again updates the same rule */
  struct cd_own_rules *o2 = apply_ok("sip:*21*+4930999%23@x", &s1, "call forwarding unconditional on to tel:+4930999");
  ck_assert_uint_eq(o2->n_rules, 3);
  ck_assert_str_eq(o2->rules[2].target, "tel:+4930999");
  struct cd_subscriber s2 = view(o2);
  struct cd_own_rules *o3 = apply_ok("sip:%2321%23@x", &s2, "call forwarding unconditional off");
  ck_assert(!o3->rules[1].active && !o3->rules[2].active && o3->rules[0].active);
  struct cd_subscriber s3 = view(o3);
  char text[256];
  struct cd_feature_code fc = parse_ok("sip:*%2321%23@x");
  struct cd_own_rules *none = o1;
  ck_assert_int_eq(cd_feature_code_apply(&fc, &s3, &none, text, sizeof text), 0);
  ck_assert_ptr_null(none);
  ck_assert_str_eq(text, "call forwarding unconditional is off");
  struct cd_own_rules *o4 = apply_ok("sip:*21%23@x", &s3, "call forwarding unconditional on");
  ck_assert(o4->rules[1].active && o4->rules[2].active);
  struct cd_subscriber s4 = view(o4);
  fc = parse_ok("sip:*%2321%23@x");
  cd_feature_code_apply(&fc, &s4, &none, text, sizeof text);
  ck_assert_str_eq(text, "call forwarding unconditional is on to sip:dave@ims.example.net (and more rules)");

  struct cd_own_rules *o5 = apply_ok("sip:*61*+4930123*25%23@x", &s4,
                                     "call forwarding on no reply on to tel:+4930123 after 25 s");
  ck_assert_int_eq(o5->rules[3].service, CD_SVC_CFNR);
  ck_assert_int_eq(o5->rules[3].no_reply_timer, 25);
  struct cd_subscriber s5 = view(o5);
  fc = parse_ok("sip:*%2361%23@x");
  cd_feature_code_apply(&fc, &s5, &none, text, sizeof text);
  ck_assert_str_eq(text, "call forwarding on no reply is on to tel:+4930123 after 25 s");
  struct cd_own_rules *o6 = apply_ok("sip:%23%23002%23@x", &s5, "all call forwarding erased");
  ck_assert_uint_eq(o6->n_rules, 0);
  struct cd_subscriber s6 = view(o6);
  fc = parse_ok("sip:*67%23@x");
  struct cd_own_rules *nothing = NULL;
  ck_assert_int_eq(cd_feature_code_apply(&fc, &s6, &nothing, text, sizeof text), -1);
  ck_assert_ptr_null(nothing);
  ck_assert_str_eq(text, "call forwarding on busy: no number registered (dial *67*number#)");
  struct cd_own_rules *o7 = apply_ok("sip:*004*+4930123%23@x", &s6, "all conditional call forwarding on to tel:+4930123");
  ck_assert_uint_eq(o7->n_rules, 4);
  struct cd_subscriber s7 = view(o7);
  struct cd_own_rules *o8 = apply_ok("sip:%23004%23@x", &s7, "all conditional call forwarding off");
  struct cd_subscriber s8 = view(o8);
  fc = parse_ok("sip:*%23002%23@x");
  cd_feature_code_apply(&fc, &s8, &none, text, sizeof text);
  ck_assert_str_eq(text, "call forwarding unconditional is off; call forwarding on busy is off; "
                         "call forwarding on no reply is off; call forwarding on not logged-in is off; "
                         "call forwarding on not reachable is off");
  struct cd_own_rules *all[] = { o1, o2, o3, o4, o5, o6, o7, o8 };
  for (size_t i = 0; i < 8; i++)
    cd_own_rules_unref(all[i]);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("feature_code");
  TCase *tc = tcase_create("codes");
  tcase_add_test(tc, procedures_and_codes);
  tcase_add_test(tc, what_codes_do);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
