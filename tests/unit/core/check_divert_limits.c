/*
 * check_divert_limits.c - unit tests for src/core/divert_limits.c: the
 * diversion limit, the loop check and the exempt targets.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "core/divert_limits.h"
#include "core/identity.h"

static char *exempt[] = { "sip:voicemail@ims.example.net" };

static struct cd_conf conf_with(int max_diversions)
{
  struct cd_conf c = {0};
  c.max_diversions = max_diversions;
  c.limit_exempt = exempt;
  c.n_limit_exempt = 1;
  return c;
}

static char *bob_aliases[] = { "tel:+15551230002" };
static char *bob_alias_keys[] = { "tel:+15551230002" };

static struct cd_subscriber bob(void)
{
  struct cd_subscriber s = {0};
  s.user = "sip:bob@ims.example.net";
  strcpy(s.key, "sip:bob@ims.example.net");
  s.aliases = bob_aliases;
  s.alias_keys = bob_alias_keys;
  s.n_aliases = 1;
  return s;
}

static void parse(cd_hi_chain *chain, const char *value)
{
  const char *why = NULL;
  cd_hi_init(chain);
  ck_assert_msg(cd_hi_parse(chain, value, &why) == 0, "%s", why ? why : "");
}

START_TEST(fresh_call_may_divert)
{
  struct cd_conf c = conf_with(5);
  struct cd_subscriber b = bob();
  cd_hi_chain chain;
  cd_hi_init(&chain);
  ck_assert_ptr_null(cd_divert_refusal(&c, &chain, 0, &b, "sip:carol@ims.example.net"));
  ck_assert_ptr_null(cd_divert_refusal(&c, &chain, 0, NULL, "sip:carol@ims.example.net"));
}
END_TEST

START_TEST(limit_counts_causes)
{
  struct cd_conf c = conf_with(2);
  struct cd_subscriber b = bob();
  cd_hi_chain chain;
  parse(&chain, "<sip:alice@x>;index=1, <sip:bob@ims.example.net;cause=302>;index=1.1;mp=1");
  ck_assert_ptr_null(cd_divert_refusal(&c, &chain, 0, &b, "sip:carol@ims.example.net"));
  cd_hi_free(&chain);
  parse(&chain, "<sip:x@x>;index=1, <sip:y@x;cause=302>;index=1.1;mp=1, "
                "<sip:bob@ims.example.net;cause=486>;index=1.1.1;mp=1.1");
  ck_assert_str_eq(cd_divert_refusal(&c, &chain, 0, &b, "sip:carol@ims.example.net"),
                   "Diversion Limit Reached");
  /* An exempt target passes the limit. */
  ck_assert_ptr_null(cd_divert_refusal(&c, &chain, 0, &b, "sip:voicemail@ims.example.net"));
  cd_hi_free(&chain);
}
END_TEST

/* Entries without a usable index (issue 17 item 5) still count: the limit
 * is on the diversions the chain records, not on its numbering. */
START_TEST(limit_counts_causes_with_odd_indices)
{
  struct cd_conf c = conf_with(3);
  struct cd_subscriber b = bob();
  cd_hi_chain chain;
  parse(&chain, "<sip:x@x>;index=01, <sip:y@x;cause=302>;index=1..2, "
                "<sip:bob@ims.example.net;cause=486>");
  ck_assert_ptr_null(cd_divert_refusal(&c, &chain, 0, &b, "sip:carol@ims.example.net"));
  cd_hi_free(&chain);
  parse(&chain, "<sip:x@x>;index=1, <sip:y@x;cause=302>;index=1.1;mp=1, "
                "<sip:z@x;cause=408>;index=1.1;mp=1, <sip:w@x;cause=302>;index=a, "
                "<sip:bob@ims.example.net;cause=486>;index=1.1.1;index=1.1.2");
  ck_assert_uint_eq(cd_hi_unindexed(&chain), 3);
  ck_assert_str_eq(cd_divert_refusal(&c, &chain, 0, &b, "sip:carol@ims.example.net"),
                   "Diversion Limit Reached");
  /* ... and loops are found in them too. */
  c.max_diversions = 5;
  ck_assert_str_eq(cd_divert_refusal(&c, &chain, 0, &b, "sip:w@x"), "Diversion Loop Detected");
  cd_hi_free(&chain);
}
END_TEST

/* RFC 6044 5: the diversions of Diversion headers that came without
 * History-Info add to those of the chain (cdivas's own, then). */
START_TEST(limit_counts_earlier_diversions)
{
  struct cd_conf c = conf_with(3);
  struct cd_subscriber b = bob();
  cd_hi_chain chain;
  cd_hi_init(&chain);
  ck_assert_ptr_null(cd_divert_refusal(&c, &chain, 2, &b, "sip:carol@ims.example.net"));
  ck_assert_str_eq(cd_divert_refusal(&c, &chain, 3, &b, "sip:carol@ims.example.net"),
                   "Diversion Limit Reached");
  ck_assert_str_eq(cd_divert_refusal(&c, &chain, 1000, &b, "sip:carol@ims.example.net"),
                   "Diversion Limit Reached");
  ck_assert_ptr_null(cd_divert_refusal(&c, &chain, 1000, &b, "sip:voicemail@ims.example.net"));
  parse(&chain, "<sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1");
  ck_assert_ptr_null(cd_divert_refusal(&c, &chain, 1, &b, "sip:dave@ims.example.net"));
  ck_assert_str_eq(cd_divert_refusal(&c, &chain, 2, &b, "sip:dave@ims.example.net"),
                   "Diversion Limit Reached");
  cd_hi_free(&chain);
}
END_TEST

START_TEST(loops_by_identity_not_spelling)
{
  struct cd_conf c = conf_with(5);
  struct cd_subscriber b = bob();
  cd_hi_chain chain;
  /* carol was reached already, written with a port-less sips-less form and params */
  parse(&chain, "<sip:carol@IMS.example.net;user=phone>;index=1, <sip:bob@ims.example.net;cause=302>;index=1.1;mp=1");
  char carol[CD_IDENTITY_KEY_MAX];
  ck_assert_int_eq(cd_identity_key("sip:carol@ims.example.net", carol, NULL), 0);
  ck_assert_str_eq(cd_divert_refusal(&c, &chain, 0, &b, carol), "Diversion Loop Detected");
  /* To the served user itself, by an alias. */
  ck_assert_str_eq(cd_divert_refusal(&c, &chain, 0, &b, "tel:+15551230002"), "Diversion Loop Detected");
  ck_assert_ptr_null(cd_divert_refusal(&c, &chain, 0, &b, "sip:dave@ims.example.net"));
  cd_hi_free(&chain);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("divert_limits");
  TCase *tc = tcase_create("refusal");
  tcase_add_test(tc, fresh_call_may_divert);
  tcase_add_test(tc, limit_counts_causes);
  tcase_add_test(tc, limit_counts_causes_with_odd_indices);
  tcase_add_test(tc, limit_counts_earlier_diversions);
  tcase_add_test(tc, loops_by_identity_not_spelling);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
