/* Unit tests for per-user call counts: counting, removal at zero, growth,
 * and deletion keeping other keys reachable. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/keycount.h"

START_TEST(counts_up_and_down)
{
  struct cd_keycount *kc = cd_keycount_create();
  ck_assert_int_eq(cd_keycount_add(kc, "sip:bob@h", 1), 1);
  ck_assert_int_eq(cd_keycount_add(kc, "sip:bob@h", 1), 2);
  ck_assert_int_eq(cd_keycount_get(kc, "sip:bob@h"), 2);
  ck_assert_int_eq(cd_keycount_get(kc, "sip:carol@h"), 0);
  ck_assert_int_eq(cd_keycount_add(kc, "sip:bob@h", -1), 1);
  ck_assert_int_eq(cd_keycount_add(kc, "sip:bob@h", -1), 0);
  ck_assert_uint_eq(cd_keycount_size(kc), 0);
  ck_assert_int_eq(cd_keycount_add(kc, "sip:bob@h", -1), 0);   /* never negative */
  cd_keycount_destroy(kc);
}
END_TEST

START_TEST(many_keys_survive_growth_and_removal)
{
  struct cd_keycount *kc = cd_keycount_create();
  char key[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(key, sizeof key, "sip:u%d@h", i);
    ck_assert_int_eq(cd_keycount_add(kc, key, 1), 1);
  }
  ck_assert_uint_eq(cd_keycount_size(kc), 5000);
  for (int i = 0; i < 5000; i += 2) {
    snprintf(key, sizeof key, "sip:u%d@h", i);
    ck_assert_int_eq(cd_keycount_add(kc, key, -1), 0);
  }
  for (int i = 1; i < 5000; i += 2) {
    snprintf(key, sizeof key, "sip:u%d@h", i);
    ck_assert_int_eq(cd_keycount_get(kc, key), 1);
  }
  ck_assert_uint_eq(cd_keycount_size(kc), 2500);
  cd_keycount_destroy(kc);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("keycount");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, counts_up_and_down);
  tcase_add_test(tc, many_keys_survive_growth_and_removal);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
