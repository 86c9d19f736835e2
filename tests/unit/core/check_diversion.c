/*
 * check_diversion.c - unit tests for src/core/diversion.c: the Diversion
 * header (RFC 5806) cdivas writes next to History-Info, and the counting
 * of received ones (RFC 6044 5).
 *
 * The flows are the ones RFC 6044 works through (B forwards to C, C to D;
 * the Diversion header lists the newest diversion first, History-Info the
 * oldest), with the users of cdivas's tests; the History-Info side is
 * built through cd_hi_divert, the way a call builds it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diversion.h"
#include "core/history_info.h"
#include "core/identity.h"

#define BOB "sip:bob@ims.example.net"
#define CAROL "sip:carol@ims.example.net"
#define DAVE "sip:dave@ims.example.net"

static bool same_uri(const char *key, void *ctx)
{
  char want[CD_IDENTITY_KEY_MAX];
  return cd_identity_key(ctx, want, NULL) == 0 && strcmp(key, want) == 0;
}

static void ck_entry(const char *uri, int cause, bool privacy, const char *want)
{
  char *got = cd_diversion_format(uri, cause, privacy);
  ck_assert_ptr_nonnull(got);
  ck_assert_str_eq(got, want);
  free(got);
}

/* RFC 6044's table, cause-param to diversion-reason. */
START_TEST(test_reason_table)
{
  static const struct { int cause; const char *reason; } table[] = {
    { 302, "unconditional" }, { 486, "user-busy" }, { 408, "no-answer" },
    { 480, "deflection" }, { 487, "deflection" }, { 503, "unavailable" },
    { 404, "unknown" }, { 0, "unknown" }, { 410, "unknown" }, { 600, "unknown" },
  };
  for (size_t i = 0; i < sizeof table / sizeof *table; i++)
    ck_assert_str_eq(cd_diversion_reason(table[i].cause), table[i].reason);
}
END_TEST

/* The services of TS 24.604 with the causes cdivas gives them. */
START_TEST(test_format_per_service)
{
  ck_entry(BOB, 302, false, "<sip:bob@ims.example.net>;reason=unconditional;counter=1");  /* cfu */
  ck_entry(BOB, 486, false, "<sip:bob@ims.example.net>;reason=user-busy;counter=1");      /* cfb */
  ck_entry(BOB, 408, false, "<sip:bob@ims.example.net>;reason=no-answer;counter=1");      /* cfnr */
  ck_entry(BOB, 404, false, "<sip:bob@ims.example.net>;reason=unknown;counter=1");        /* cfnl */
  ck_entry(BOB, 503, false, "<sip:bob@ims.example.net>;reason=unavailable;counter=1");    /* cfnrc */
  ck_entry(BOB, 480, false, "<sip:bob@ims.example.net>;reason=deflection;counter=1");     /* cd */
  ck_entry(BOB, 487, true, "<sip:bob@ims.example.net>;reason=deflection;counter=1;privacy=full");
  ck_entry("tel:+15551000002", 302, false, "<tel:+15551000002>;reason=unconditional;counter=1");
  ck_entry("sip:+15551000002@ims.example.net;user=phone", 486, false,
           "<sip:+15551000002@ims.example.net;user=phone>;reason=user-busy;counter=1");
}
END_TEST

START_TEST(test_format_refuses)
{
  ck_assert_ptr_null(cd_diversion_format(NULL, 302, false));
  ck_assert_ptr_null(cd_diversion_format("", 302, false));
  ck_assert_ptr_null(cd_diversion_format("sip:a@b>;x", 302, false));
  ck_assert_ptr_null(cd_diversion_format("sip:a b@c", 302, false));
  ck_assert_ptr_null(cd_diversion_format("sip:a\"@c", 302, false));
  ck_assert_ptr_null(cd_diversion_format("sip:\xc3\xa9@c", 302, false));
  ck_assert_ptr_null(cd_diversion_format("sip:a@c\r\nX: y", 302, false));
  char *big = malloc(9000);
  ck_assert_ptr_nonnull(big);
  memcpy(big, "sip:", 4);
  memset(big + 4, 'a', 8995);
  big[8999] = '\0';
  ck_assert_ptr_null(cd_diversion_format(big, 302, false));
  free(big);
}
END_TEST

/* RFC 6044's forwarding flow: B's calls go to C unconditionally, C does
 * not answer and forwards to D. History-Info records the two diversions
 * oldest first; the Diversion header newest first, each diverting user
 * with the reason of the cause its diversion carries. */
START_TEST(test_flow_cfu_then_cfnr)
{
  cd_hi_chain chain;
  cd_hi_init(&chain);
  long c = cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 302, NULL, false);
  ck_assert_int_eq(c, 1);
  char *first = cd_diversion_format(BOB, chain.entries[c].cause, cd_hi_private(&chain.entries[0]));
  long d = cd_hi_divert(&chain, CAROL, same_uri, CAROL, DAVE, 408,
                        "SIP;cause=408;text=\"Request Timeout\"", true);
  ck_assert_int_eq(d, 2);
  char *second = cd_diversion_format(CAROL, chain.entries[d].cause, cd_hi_private(&chain.entries[1]));
  char value[512];
  snprintf(value, sizeof value, "%s, %s", second, first);
  ck_assert_str_eq(value,
                   "<sip:carol@ims.example.net>;reason=no-answer;counter=1;privacy=full, "
                   "<sip:bob@ims.example.net>;reason=unconditional;counter=1");
  char *hi = cd_hi_format(&chain, 0, -1);
  ck_assert_str_eq(hi,
                   "<sip:bob@ims.example.net>;index=1, "
                   "<sip:carol@ims.example.net;cause=302?Reason=SIP%3Bcause%3D408%3Btext%3D%22"
                   "Request%20Timeout%22&Privacy=history>;index=1.1;mp=1, "
                   "<sip:dave@ims.example.net;cause=408>;index=1.1.1;mp=1.1");
  /* The Diversion side records as many diversions as History-Info. */
  ck_assert_uint_eq(cd_diversion_count(value), cd_hi_diversions(&chain));
  free(hi);
  free(first);
  free(second);
  cd_hi_free(&chain);
}
END_TEST

/* A received History-Info entry's privacy is read from its URI. */
START_TEST(test_received_privacy)
{
  cd_hi_chain chain;
  const char *why = NULL;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_parse(&chain,
                               "<sip:a@x?privacy=HISTORY>;index=1, "
                               "<sip:b@x;cause=302?Reason=SIP%3Bcause%3D486&Privacy=history>;index=1.1, "
                               "<sip:c@x?Privacy=none>;index=1.2, <sip:d@x;privacy=history>;index=1.3",
                               &why), 0);
  ck_assert(cd_hi_private(&chain.entries[0]));
  ck_assert(cd_hi_private(&chain.entries[1]));
  ck_assert(!cd_hi_private(&chain.entries[2]));
  ck_assert(!cd_hi_private(&chain.entries[3]));   /* a URI parameter, not the header */
  ck_assert(!cd_hi_private(NULL));
  cd_hi_free(&chain);
}
END_TEST

/* RFC 6044 5: without History-Info, the diversions are the sum of the
 * Diversion counters. */
START_TEST(test_count)
{
  ck_assert_uint_eq(cd_diversion_count(NULL), 0);
  ck_assert_uint_eq(cd_diversion_count(""), 0);
  ck_assert_uint_eq(cd_diversion_count("<sip:bob@ims.example.net>;reason=user-busy;counter=1"), 1);
  ck_assert_uint_eq(cd_diversion_count("<sip:carol@ims.example.net>;reason=no-answer;counter=1, "
                                       "<sip:bob@ims.example.net>;reason=unconditional;counter=1"), 2);
  /* One header for several diversions by the same user (RFC 5806 counter). */
  ck_assert_uint_eq(cd_diversion_count("<sip:bob@h>;reason=unconditional;counter=3"), 3);
  ck_assert_uint_eq(cd_diversion_count("\"Bob, B.\" <sip:bob@h;x=1,2>;counter=2;privacy=full, <tel:+1>"), 3);
  /* Liberal: no counter, a bad one, 0, three digits each count once. */
  ck_assert_uint_eq(cd_diversion_count("<sip:a@h>, <sip:b@h>;counter=x, <sip:c@h>;counter=0, "
                                       "<sip:d@h>;counter=100, <sip:e@h>;counter="), 5);
  ck_assert_uint_eq(cd_diversion_count("<sip:a@h>;counter=99, <sip:b@h>;COUNTER = 07"), 106);
  ck_assert_uint_eq(cd_diversion_count(",,<sip:a@h>,  ,"), 1);
  ck_assert_uint_eq(cd_diversion_count("<sip:a@h;counter=5"), 1);        /* unterminated */
  ck_assert_uint_eq(cd_diversion_count("\"open <sip:a@h>;counter=5, <sip:b@h>"), 1);
  ck_assert_uint_eq(cd_diversion_count("garbage"), 1);
  /* Bounded. */
  size_t n = 2000;
  char *many = malloc(n * 16 + 1);
  ck_assert_ptr_nonnull(many);
  many[0] = '\0';
  for (size_t i = 0; i < n; i++)
    strcat(many, "<a:b>;counter=9,");
  ck_assert_uint_eq(cd_diversion_count(many), 1000);
  free(many);
}
END_TEST

START_TEST(test_parse_fields)
{
  struct cd_diversion_entry e[4];
  const char *v = "\"C\" <sip:carol@ims.example.net>;reason=no-answer;counter=1;privacy=full, "
                  "<sip:bob@ims.example.net>;Reason=\"user-busy\";counter=2;privacy=off;screen=no,"
                  "<tel:+15551000002>";
  ck_assert_uint_eq(cd_diversion_parse(v, e, 4), 3);
  ck_assert_uint_eq(e[0].uri_len, strlen(CAROL));
  ck_assert(strncmp(e[0].uri, CAROL, e[0].uri_len) == 0);
  ck_assert_str_eq(e[0].reason, "no-answer");
  ck_assert_uint_eq(e[0].counter, 1);
  ck_assert(e[0].privacy);
  ck_assert(strncmp(e[1].uri, BOB, e[1].uri_len) == 0);
  ck_assert_str_eq(e[1].reason, "\"user-busy\"");
  ck_assert_uint_eq(e[1].counter, 2);
  ck_assert(!e[1].privacy);
  ck_assert_uint_eq(e[2].uri_len, strlen("tel:+15551000002"));
  ck_assert_str_eq(e[2].reason, "");
  ck_assert_uint_eq(e[2].counter, 1);
  /* Fewer slots than entries: the count is still all of them. */
  ck_assert_uint_eq(cd_diversion_parse(v, e, 1), 3);
  ck_assert_uint_eq(cd_diversion_parse(v, NULL, 0), 3);
  ck_assert_uint_eq(cd_diversion_parse(";counter=4", e, 4), 1);
  ck_assert_uint_eq(e[0].uri_len, 0);
  ck_assert_uint_eq(e[0].counter, 4);
}
END_TEST

/* What cdivas writes, it reads back as written. */
START_TEST(test_round_trip)
{
  static const int causes[] = { 302, 486, 408, 404, 503, 480, 487 };
  for (size_t i = 0; i < sizeof causes / sizeof *causes; i++) {
    char *s = cd_diversion_format(BOB, causes[i], i & 1);
    struct cd_diversion_entry e;
    ck_assert_uint_eq(cd_diversion_parse(s, &e, 1), 1);
    ck_assert(e.uri_len == strlen(BOB) && strncmp(e.uri, BOB, e.uri_len) == 0);
    ck_assert_str_eq(e.reason, cd_diversion_reason(causes[i]));
    ck_assert_uint_eq(e.counter, 1);
    ck_assert(e.privacy == (bool)(i & 1));
    free(s);
  }
}
END_TEST

static Suite *diversion_suite(void)
{
  Suite *s = suite_create("diversion");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_reason_table);
  tcase_add_test(tc, test_format_per_service);
  tcase_add_test(tc, test_format_refuses);
  tcase_add_test(tc, test_flow_cfu_then_cfnr);
  tcase_add_test(tc, test_received_privacy);
  tcase_add_test(tc, test_count);
  tcase_add_test(tc, test_parse_fields);
  tcase_add_test(tc, test_round_trip);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(diversion_suite());
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
