/*
 * check_registrations.c - unit tests for src/registrations.c, the bounded
 * table of served users' registration state (UNKNOWN / REGISTERED /
 * UNREGISTERED) fed by third-party REGISTERs.
 *
 * Covers: the three states and the exact expiry boundary, in-place updates
 * (re-registration, deregistration, negative Expires), the capacity bound
 * (a full table refuses new users but still updates known ones), key
 * handling (copied, exact match, length limit), time arithmetic at the
 * edges of `long`, and enough keys to exercise probing. Run under ASan/LSan
 * or valgrind: the table owns its key copies.
 */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/registrations.h"

#define BOB "sip:bob@ims.example.net"
#define CAROL "sip:carol@ims.example.net"
#define DAVE "sip:dave@ims.example.net"

static struct cd_registrations *new_table(size_t capacity) {
  struct cd_registrations *regs = cd_reg_create(capacity);
  ck_assert_ptr_nonnull(regs);
  ck_assert_uint_eq(cd_reg_count(regs), 0);
  return regs;
}

START_TEST(unknown_until_heard_of) {
  struct cd_registrations *regs = new_table(4);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 0), CD_REG_UNKNOWN);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 1000000), CD_REG_UNKNOWN);
  ck_assert_int_eq(cd_reg_update(regs, BOB, 3600, 100), 0);
  /* Another user is still unknown, not unregistered. */
  ck_assert_int_eq(cd_reg_status(regs, CAROL, 100), CD_REG_UNKNOWN);
  cd_reg_destroy(regs);
}
END_TEST

/* REGISTERED on [now, now+expires), UNREGISTERED from now+expires on: a
 * user whose registration just ran out is not reachable. */
START_TEST(registered_until_expiry) {
  struct cd_registrations *regs = new_table(4);
  ck_assert_int_eq(cd_reg_update(regs, BOB, 600, 1000), 0);
  ck_assert_uint_eq(cd_reg_count(regs), 1);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 1000), CD_REG_REGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 1599), CD_REG_REGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 1600), CD_REG_UNREGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 1601), CD_REG_UNREGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, BOB, LONG_MAX), CD_REG_UNREGISTERED);
  /* Expired entries are kept: forgetting would turn them into UNKNOWN. */
  ck_assert_uint_eq(cd_reg_count(regs), 1);
  cd_reg_destroy(regs);
}
END_TEST

START_TEST(one_second_registration) {
  struct cd_registrations *regs = new_table(1);
  ck_assert_int_eq(cd_reg_update(regs, BOB, 1, 50), 0);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 50), CD_REG_REGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 51), CD_REG_UNREGISTERED);
  cd_reg_destroy(regs);
}
END_TEST

START_TEST(deregistration_updates_in_place) {
  struct cd_registrations *regs = new_table(4);
  ck_assert_int_eq(cd_reg_update(regs, BOB, 3600, 0), 0);
  ck_assert_int_eq(cd_reg_update(regs, BOB, 0, 10), 0);
  ck_assert_uint_eq(cd_reg_count(regs), 1);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 10), CD_REG_UNREGISTERED);
  /* Still unregistered where the old registration would have run. */
  ck_assert_int_eq(cd_reg_status(regs, BOB, 20), CD_REG_UNREGISTERED);
  /* And registered again after a new REGISTER. */
  ck_assert_int_eq(cd_reg_update(regs, BOB, 60, 30), 0);
  ck_assert_uint_eq(cd_reg_count(regs), 1);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 30), CD_REG_REGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 90), CD_REG_UNREGISTERED);
  cd_reg_destroy(regs);
}
END_TEST

/* The S-CSCF said the user is gone: that is knowledge, not ignorance. */
START_TEST(deregistration_of_unknown_user) {
  struct cd_registrations *regs = new_table(4);
  ck_assert_int_eq(cd_reg_update(regs, BOB, 0, 10), 0);
  ck_assert_uint_eq(cd_reg_count(regs), 1);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 10), CD_REG_UNREGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 0), CD_REG_UNREGISTERED);
  cd_reg_destroy(regs);
}
END_TEST

START_TEST(negative_expires_is_deregistration) {
  struct cd_registrations *regs = new_table(4);
  ck_assert_int_eq(cd_reg_update(regs, BOB, 3600, 0), 0);
  ck_assert_int_eq(cd_reg_update(regs, BOB, -1, 5), 0);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 5), CD_REG_UNREGISTERED);
  ck_assert_int_eq(cd_reg_update(regs, CAROL, LONG_MIN, 5), 0);
  ck_assert_int_eq(cd_reg_status(regs, CAROL, 5), CD_REG_UNREGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, CAROL, 0), CD_REG_UNREGISTERED);
  ck_assert_uint_eq(cd_reg_count(regs), 2);
  cd_reg_destroy(regs);
}
END_TEST

/* Re-registration replaces the expiry, even with a shorter one. */
START_TEST(reregistration_replaces_expiry) {
  struct cd_registrations *regs = new_table(4);
  ck_assert_int_eq(cd_reg_update(regs, BOB, 3600, 0), 0);
  ck_assert_int_eq(cd_reg_update(regs, BOB, 100, 1000), 0);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 1099), CD_REG_REGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 1100), CD_REG_UNREGISTERED);
  ck_assert_int_eq(cd_reg_update(regs, BOB, 7200, 2000), 0);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 9199), CD_REG_REGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 9200), CD_REG_UNREGISTERED);
  ck_assert_uint_eq(cd_reg_count(regs), 1);
  cd_reg_destroy(regs);
}
END_TEST

START_TEST(users_are_independent) {
  struct cd_registrations *regs = new_table(4);
  ck_assert_int_eq(cd_reg_update(regs, BOB, 100, 0), 0);
  ck_assert_int_eq(cd_reg_update(regs, CAROL, 200, 0), 0);
  ck_assert_int_eq(cd_reg_update(regs, DAVE, 0, 0), 0);
  ck_assert_uint_eq(cd_reg_count(regs), 3);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 150), CD_REG_UNREGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, CAROL, 150), CD_REG_REGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, DAVE, 150), CD_REG_UNREGISTERED);
  cd_reg_destroy(regs);
}
END_TEST

/* The bound keeps a REGISTER flood for strangers from growing the table,
 * but must not stop known users from (de)registering. */
START_TEST(full_table) {
  struct cd_registrations *regs = new_table(2);
  ck_assert_int_eq(cd_reg_update(regs, BOB, 100, 0), 0);
  ck_assert_int_eq(cd_reg_update(regs, CAROL, 0, 0), 0);
  ck_assert_int_eq(cd_reg_update(regs, DAVE, 100, 0), -1);
  ck_assert_int_eq(cd_reg_status(regs, DAVE, 0), CD_REG_UNKNOWN);
  ck_assert_int_eq(cd_reg_update(regs, DAVE, 0, 0), -1);
  ck_assert_int_eq(cd_reg_status(regs, DAVE, 0), CD_REG_UNKNOWN);
  ck_assert_uint_eq(cd_reg_count(regs), 2);
  ck_assert_int_eq(cd_reg_update(regs, BOB, 0, 10), 0);
  ck_assert_int_eq(cd_reg_update(regs, CAROL, 100, 10), 0);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 10), CD_REG_UNREGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, CAROL, 10), CD_REG_REGISTERED);
  ck_assert_uint_eq(cd_reg_count(regs), 2);
  cd_reg_destroy(regs);
}
END_TEST

START_TEST(capacity_zero_knows_nobody) {
  struct cd_registrations *regs = new_table(0);
  ck_assert_int_eq(cd_reg_update(regs, BOB, 100, 0), -1);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 0), CD_REG_UNKNOWN);
  ck_assert_uint_eq(cd_reg_count(regs), 0);
  cd_reg_destroy(regs);
}
END_TEST

/* A capacity whose slot array cannot be sized must fail cleanly, not wrap. */
START_TEST(absurd_capacity_fails) {
  ck_assert_ptr_null(cd_reg_create(SIZE_MAX));
  ck_assert_ptr_null(cd_reg_create(SIZE_MAX / 2));
  cd_reg_destroy(NULL);
}
END_TEST

/* Exactly `capacity` users fit, each found with its own state, whatever the
 * hash does with them; odd capacities exercise the internal rounding. The
 * keys share long prefixes, as real identities do. */
START_TEST(many_users) {
  static const size_t capacities[] = { 1, 3, 7, 64, 100, 1000, 4097 };
  for (size_t c = 0; c < sizeof capacities / sizeof capacities[0]; c++) {
    size_t cap = capacities[c];
    struct cd_registrations *regs = new_table(cap);
    char key[64];
    for (size_t i = 0; i < cap; i++) {
      snprintf(key, sizeof key, "sip:user%zu@ims.example.net", i);
      /* Odd users deregistered, even ones registered for i+1 seconds. */
      ck_assert_int_eq(cd_reg_update(regs, key, i % 2 ? 0 : (long)i + 1, 0), 0);
    }
    ck_assert_uint_eq(cd_reg_count(regs), cap);
    snprintf(key, sizeof key, "sip:user%zu@ims.example.net", cap);
    ck_assert_int_eq(cd_reg_update(regs, key, 100, 0), -1);
    ck_assert_int_eq(cd_reg_status(regs, key, 0), CD_REG_UNKNOWN);
    for (size_t i = 0; i < cap; i++) {
      snprintf(key, sizeof key, "sip:user%zu@ims.example.net", i);
      enum cd_reg_status want = i % 2 ? CD_REG_UNREGISTERED : CD_REG_REGISTERED;
      ck_assert_msg(cd_reg_status(regs, key, (long)i) == want, "cap %zu: %s", cap, key);
      ck_assert_int_eq(cd_reg_status(regs, key, (long)i + 1), CD_REG_UNREGISTERED);
    }
    /* Updating everyone again must not add entries. */
    for (size_t i = 0; i < cap; i++) {
      snprintf(key, sizeof key, "sip:user%zu@ims.example.net", i);
      ck_assert_int_eq(cd_reg_update(regs, key, 10, 5), 0);
    }
    ck_assert_uint_eq(cd_reg_count(regs), cap);
    for (size_t i = 0; i < cap; i++) {
      snprintf(key, sizeof key, "sip:user%zu@ims.example.net", i);
      ck_assert_int_eq(cd_reg_status(regs, key, 14), CD_REG_REGISTERED);
    }
    cd_reg_destroy(regs);
  }
}
END_TEST

/* The caller's buffer is reused for the next REGISTER: the table must
 * keep its own copy. */
START_TEST(keys_are_copied) {
  struct cd_registrations *regs = new_table(4);
  char buf[CD_IDENTITY_KEY_MAX];
  strcpy(buf, BOB);
  ck_assert_int_eq(cd_reg_update(regs, buf, 100, 0), 0);
  strcpy(buf, CAROL);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 0), CD_REG_REGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, buf, 0), CD_REG_UNKNOWN);
  memset(buf, 'x', sizeof buf - 1);
  buf[sizeof buf - 1] = '\0';
  ck_assert_int_eq(cd_reg_status(regs, BOB, 0), CD_REG_REGISTERED);
  cd_reg_destroy(regs);
}
END_TEST

/* Keys are canonical already: matching is exact, not case-folded and not
 * by prefix. */
START_TEST(keys_match_exactly) {
  struct cd_registrations *regs = new_table(8);
  ck_assert_int_eq(cd_reg_update(regs, "sip:bob@h", 100, 0), 0);
  ck_assert_int_eq(cd_reg_status(regs, "sip:Bob@h", 0), CD_REG_UNKNOWN);
  ck_assert_int_eq(cd_reg_status(regs, "sip:bob@h2", 0), CD_REG_UNKNOWN);
  ck_assert_int_eq(cd_reg_status(regs, "sip:bob@", 0), CD_REG_UNKNOWN);
  ck_assert_int_eq(cd_reg_update(regs, "sip:bob@h2", 0, 0), 0);
  ck_assert_int_eq(cd_reg_status(regs, "sip:bob@h", 0), CD_REG_REGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, "sip:bob@h2", 0), CD_REG_UNREGISTERED);
  ck_assert_uint_eq(cd_reg_count(regs), 2);
  cd_reg_destroy(regs);
}
END_TEST

/* CD_IDENTITY_KEY_MAX-1 characters is the longest key identity.c makes;
 * anything longer is refused, never truncated into someone else's key. */
START_TEST(key_length_limit) {
  struct cd_registrations *regs = new_table(4);
  char longest[CD_IDENTITY_KEY_MAX];
  memset(longest, 'a', sizeof longest - 1);
  longest[sizeof longest - 1] = '\0';
  ck_assert_int_eq(cd_reg_update(regs, longest, 100, 0), 0);
  ck_assert_int_eq(cd_reg_status(regs, longest, 0), CD_REG_REGISTERED);

  char too_long[CD_IDENTITY_KEY_MAX + 1];
  memset(too_long, 'a', sizeof too_long - 1);
  too_long[sizeof too_long - 1] = '\0';
  ck_assert_int_eq(cd_reg_update(regs, too_long, 100, 0), -1);
  ck_assert_int_eq(cd_reg_status(regs, too_long, 0), CD_REG_UNKNOWN);

  char *huge = malloc(100000);
  ck_assert_ptr_nonnull(huge);
  memset(huge, 'a', 99999);
  huge[99999] = '\0';
  ck_assert_int_eq(cd_reg_update(regs, huge, 100, 0), -1);
  ck_assert_int_eq(cd_reg_status(regs, huge, 0), CD_REG_UNKNOWN);
  free(huge);

  ck_assert_uint_eq(cd_reg_count(regs), 1);
  cd_reg_destroy(regs);
}
END_TEST

/* An empty key is what a failed identity parse leaves; NULL is a bug in
 * the caller. Neither may become an entry. */
START_TEST(empty_and_null_keys) {
  struct cd_registrations *regs = new_table(4);
  ck_assert_int_eq(cd_reg_update(regs, "", 100, 0), -1);
  ck_assert_int_eq(cd_reg_status(regs, "", 0), CD_REG_UNKNOWN);
  ck_assert_int_eq(cd_reg_update(regs, NULL, 100, 0), -1);
  ck_assert_int_eq(cd_reg_status(regs, NULL, 0), CD_REG_UNKNOWN);
  ck_assert_uint_eq(cd_reg_count(regs), 0);
  cd_reg_destroy(regs);
}
END_TEST

/* A huge Expires (or a late clock) must not wrap into the past and make a
 * fresh registration look expired. */
START_TEST(time_arithmetic_edges) {
  struct cd_registrations *regs = new_table(4);
  ck_assert_int_eq(cd_reg_update(regs, BOB, LONG_MAX, 1000), 0);
  ck_assert_int_eq(cd_reg_status(regs, BOB, 1000), CD_REG_REGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, BOB, LONG_MAX - 1), CD_REG_REGISTERED);

  ck_assert_int_eq(cd_reg_update(regs, CAROL, 3600, LONG_MAX - 10), 0);
  ck_assert_int_eq(cd_reg_status(regs, CAROL, LONG_MAX - 10), CD_REG_REGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, CAROL, LONG_MAX - 1), CD_REG_REGISTERED);

  /* Monotonic clocks may start anywhere, below zero included. */
  ck_assert_int_eq(cd_reg_update(regs, DAVE, 10, -5), 0);
  ck_assert_int_eq(cd_reg_status(regs, DAVE, -5), CD_REG_REGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, DAVE, 4), CD_REG_REGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, DAVE, 5), CD_REG_UNREGISTERED);
  ck_assert_int_eq(cd_reg_update(regs, DAVE, LONG_MAX, LONG_MIN), 0);
  ck_assert_int_eq(cd_reg_status(regs, DAVE, LONG_MIN), CD_REG_REGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, DAVE, -2), CD_REG_REGISTERED);
  ck_assert_int_eq(cd_reg_status(regs, DAVE, -1), CD_REG_UNREGISTERED);
  cd_reg_destroy(regs);
}
END_TEST

int main(void) {
  Suite *s = suite_create("registrations");

  TCase *tc = tcase_create("states");
  tcase_add_test(tc, unknown_until_heard_of);
  tcase_add_test(tc, registered_until_expiry);
  tcase_add_test(tc, one_second_registration);
  tcase_add_test(tc, deregistration_updates_in_place);
  tcase_add_test(tc, deregistration_of_unknown_user);
  tcase_add_test(tc, negative_expires_is_deregistration);
  tcase_add_test(tc, reregistration_replaces_expiry);
  tcase_add_test(tc, users_are_independent);
  tcase_add_test(tc, time_arithmetic_edges);
  suite_add_tcase(s, tc);

  tc = tcase_create("table");
  tcase_add_test(tc, full_table);
  tcase_add_test(tc, capacity_zero_knows_nobody);
  tcase_add_test(tc, absurd_capacity_fails);
  tcase_add_test(tc, many_users);
  suite_add_tcase(s, tc);

  tc = tcase_create("keys");
  tcase_add_test(tc, keys_are_copied);
  tcase_add_test(tc, keys_match_exactly);
  tcase_add_test(tc, key_length_limit);
  tcase_add_test(tc, empty_and_null_keys);
  suite_add_tcase(s, tc);

  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
