/* Unit tests for the diversion ledger: direct and chained lookups, every
 * reason a chain must not count (requester, initiator, expiry, call, hop
 * limit, ticket hash, link_ok), eviction, input limits, and a 100,000-record
 * run (no timing asserted: it must simply work and stay leak-free). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/ledger.h"

#define A "sip:alice@ims.example.net"
#define B "sip:bob@ims.example.net"
#define C "sip:carol@ims.example.net"
#define D "sip:dave@ims.example.net"
#define E "sip:erin@ims.example.net"
#define M "sip:mallory@ims.example.net"
#define H1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static struct cd_ledger_record rec(const char *caller, const char *served,
                                   const char *target, const char *call_id, long when)
{
  struct cd_ledger_record r = {
    .caller = caller, .served = served, .target = target, .service = CD_SVC_CFU,
    .cause = 302, .when = when, .call_id = call_id, .hi_index = "1.1", .ticket_hash = "",
  };
  return r;
}

static void add(struct cd_ledger *l, const char *caller, const char *served,
                const char *target, const char *call_id, long when)
{
  struct cd_ledger_record r = rec(caller, served, target, call_id, when);
  ck_assert_int_eq(cd_ledger_add(l, &r, when), 0);
}

static bool find(const struct cd_ledger *l, const char *ini, const char *intended,
                 const char *req, size_t hops, long now)
{
  return cd_ledger_find_chain(l, ini, intended, req, "", hops, now, NULL, NULL);
}

START_TEST(direct_record_is_found)
{
  struct cd_ledger *l = cd_ledger_create(100, 60);
  add(l, A, B, C, "call-1", 1000);
  ck_assert_uint_eq(cd_ledger_size(l), 1);
  ck_assert(find(l, A, B, C, 5, 1000));
  ck_assert(find(l, A, B, C, 1, 1030));
  cd_ledger_destroy(l);
}
END_TEST

START_TEST(wrong_requester_or_initiator_or_intended)
{
  struct cd_ledger *l = cd_ledger_create(100, 60);
  add(l, A, B, C, "call-1", 1000);
  ck_assert(!find(l, A, B, M, 5, 1000));      /* someone else asks */
  ck_assert(!find(l, M, B, C, 5, 1000));      /* another caller's call */
  ck_assert(!find(l, A, D, C, 5, 1000));      /* not diverted from D */
  ck_assert(!find(l, A, B, B, 5, 1000));      /* no zero-hop chain */
  ck_assert(!find(l, B, A, C, 5, 1000));      /* roles swapped */
  cd_ledger_destroy(l);
}
END_TEST

START_TEST(record_expires_exactly_at_ttl)
{
  struct cd_ledger *l = cd_ledger_create(100, 60);
  add(l, A, B, C, "call-1", 1000);
  ck_assert(find(l, A, B, C, 5, 1059));       /* live while now < when + ttl */
  ck_assert(!find(l, A, B, C, 5, 1060));      /* not yet dropped, still dead */
  ck_assert_uint_eq(cd_ledger_size(l), 1);
  cd_ledger_expire(l, 1059);
  ck_assert_uint_eq(cd_ledger_size(l), 1);
  cd_ledger_expire(l, 1060);
  ck_assert_uint_eq(cd_ledger_size(l), 0);
  ck_assert_uint_eq(cd_ledger_evictions(l), 0);  /* expiry is not eviction */
  cd_ledger_destroy(l);
}
END_TEST

START_TEST(add_expires_old_records_first)
{
  struct cd_ledger *l = cd_ledger_create(100, 60);
  add(l, A, B, C, "call-1", 1000);
  add(l, A, B, D, "call-2", 1030);
  add(l, A, E, C, "call-3", 1060);            /* drops call-1 (1000 + 60 <= 1060) */
  ck_assert_uint_eq(cd_ledger_size(l), 2);
  ck_assert(!find(l, A, B, C, 5, 1060));
  ck_assert(find(l, A, B, D, 5, 1060));
  ck_assert(find(l, A, E, C, 5, 1060));
  cd_ledger_destroy(l);
}
END_TEST

START_TEST(out_of_order_when_is_never_counted_once_dead)
{
  /* A record added late with an old `when` sits behind a live head; it
   * must not count even though expiry has not reached it yet. */
  struct cd_ledger *l = cd_ledger_create(100, 60);
  add(l, A, B, C, "call-1", 1000);
  struct cd_ledger_record r = rec(A, D, E, "call-2", 950);
  ck_assert_int_eq(cd_ledger_add(l, &r, 1000), 0);
  ck_assert(find(l, A, D, E, 5, 1009));
  ck_assert(!find(l, A, D, E, 5, 1010));
  cd_ledger_expire(l, 1010);
  ck_assert_uint_eq(cd_ledger_size(l), 2);
  cd_ledger_expire(l, 1060);
  ck_assert_uint_eq(cd_ledger_size(l), 0);
  cd_ledger_destroy(l);
}
END_TEST

START_TEST(two_hops_of_one_call)
{
  struct cd_ledger *l = cd_ledger_create(100, 60);
  add(l, A, B, C, "call-1", 1000);
  add(l, A, C, D, "call-1", 1001);
  ck_assert(find(l, A, B, D, 5, 1010));
  ck_assert(find(l, A, B, D, 2, 1010));
  ck_assert(find(l, A, B, C, 5, 1010));       /* C was on the way */
  ck_assert(find(l, A, C, D, 5, 1010));       /* an inquiry for C's own ticket */
  ck_assert(!find(l, A, B, D, 1, 1010));
  ck_assert(!find(l, A, B, D, 5, 1060));      /* the first hop has expired */
  cd_ledger_destroy(l);
}
END_TEST

START_TEST(two_hops_of_different_calls_deny)
{
  struct cd_ledger *l = cd_ledger_create(100, 60);
  add(l, A, B, C, "call-1", 1000);
  add(l, A, C, D, "call-2", 1001);
  ck_assert(!find(l, A, B, D, 5, 1010));
  cd_ledger_destroy(l);
}
END_TEST

START_TEST(hops_without_call_id_do_not_chain)
{
  struct cd_ledger *l = cd_ledger_create(100, 60);
  add(l, A, B, C, "", 1000);
  add(l, A, C, D, "", 1001);
  ck_assert(find(l, A, B, C, 5, 1010));       /* one hop needs no call id */
  ck_assert(!find(l, A, B, D, 5, 1010));      /* "" and "" are not one call */
  struct cd_ledger_record r = rec(A, E, M, NULL, 1002);   /* NULL is "" */
  ck_assert_int_eq(cd_ledger_add(l, &r, 1002), 0);
  ck_assert(find(l, A, E, M, 5, 1010));
  cd_ledger_destroy(l);
}
END_TEST

START_TEST(hop_limit)
{
  struct cd_ledger *l = cd_ledger_create(100, 60);
  add(l, A, B, C, "call-1", 1000);
  add(l, A, C, D, "call-1", 1001);
  add(l, A, D, E, "call-1", 1002);
  ck_assert(!find(l, A, B, E, 2, 1010));
  ck_assert(find(l, A, B, E, 3, 1010));
  ck_assert(!find(l, A, B, C, 0, 1010));      /* zero hops allows nothing */
  cd_ledger_destroy(l);
}
END_TEST

START_TEST(shortest_chain_counts_for_the_limit)
{
  /* B -> C -> D -> E and a shortcut B -> E of the same call. */
  struct cd_ledger *l = cd_ledger_create(100, 60);
  add(l, A, B, C, "call-1", 1000);
  add(l, A, C, D, "call-1", 1001);
  add(l, A, D, E, "call-1", 1002);
  add(l, A, C, E, "call-1", 1003);
  ck_assert(find(l, A, B, E, 2, 1010));
  cd_ledger_destroy(l);
}
END_TEST

START_TEST(cycles_terminate)
{
  struct cd_ledger *l = cd_ledger_create(100, 60);
  add(l, A, B, C, "call-1", 1000);
  add(l, A, C, B, "call-1", 1001);
  ck_assert(!find(l, A, B, D, 20, 1010));
  ck_assert(!find(l, A, B, D, (size_t)-1, 1010));
  ck_assert(find(l, A, B, B, 2, 1010));       /* B -> C -> B is a real chain */
  cd_ledger_destroy(l);
}
END_TEST

START_TEST(duplicate_records_stay_linear)
{
  /* The same Call-ID reused by many INVITEs, diverting back and forth:
   * a path enumeration would need 1000^20 steps. */
  struct cd_ledger *l = cd_ledger_create(10000, 60);
  for (int i = 0; i < 1000; i++) {
    add(l, A, B, C, "call-1", 1000);
    add(l, A, C, B, "call-1", 1000);
  }
  ck_assert(!find(l, A, B, D, 20, 1010));
  add(l, A, C, D, "call-1", 1000);
  ck_assert(find(l, A, B, D, 20, 1010));
  cd_ledger_destroy(l);
}
END_TEST

static bool find_ticket(const struct cd_ledger *l, const char *req, const char *ticket)
{
  return cd_ledger_find_chain(l, A, B, req, ticket, 5, 1010, NULL, NULL);
}

START_TEST(ticket_hash_rule)
{
  struct cd_ledger *l = cd_ledger_create(100, 60);
  struct cd_ledger_record r = rec(A, B, C, "call-1", 1000);
  r.ticket_hash = H1;
  ck_assert_int_eq(cd_ledger_add(l, &r, 1000), 0);
  add(l, A, B, D, "call-2", 1000);            /* no ticket hash recorded */
  ck_assert(find_ticket(l, C, H1));           /* match */
  ck_assert(!find_ticket(l, C, H2));          /* mismatch */
  ck_assert(find_ticket(l, C, ""));           /* inquiry has none */
  ck_assert(find_ticket(l, C, NULL));
  ck_assert(find_ticket(l, D, H2));           /* record has none */
  ck_assert(find_ticket(l, D, ""));
  cd_ledger_destroy(l);
}
END_TEST

START_TEST(ticket_hash_checked_on_every_hop)
{
  struct cd_ledger *l = cd_ledger_create(100, 60);
  struct cd_ledger_record r = rec(A, B, C, "call-1", 1000);
  r.ticket_hash = H1;
  ck_assert_int_eq(cd_ledger_add(l, &r, 1000), 0);
  r = rec(A, C, D, "call-1", 1001);
  r.ticket_hash = H2;
  ck_assert_int_eq(cd_ledger_add(l, &r, 1001), 0);
  ck_assert(!find_ticket(l, D, H1));
  ck_assert(!find_ticket(l, D, H2));
  ck_assert(find_ticket(l, D, ""));
  cd_ledger_destroy(l);
}
END_TEST

/* link_ok that vetoes records whose target is ctx, and checks the view. */
static int link_calls;
static bool veto_target(const struct cd_ledger_record *r, void *ctx)
{
  link_calls++;
  ck_assert_str_eq(r->caller, A);
  ck_assert_int_eq(r->cause, 302);
  ck_assert_int_eq(r->service, CD_SVC_CFU);
  ck_assert_str_eq(r->hi_index, "1.1");
  ck_assert_str_eq(r->ticket_hash, "");
  return ctx == NULL || strcmp(r->target, (const char *)ctx) != 0;
}

START_TEST(link_ok_veto)
{
  struct cd_ledger *l = cd_ledger_create(100, 60);
  add(l, A, B, C, "call-1", 1000);
  add(l, A, C, D, "call-1", 1001);
  link_calls = 0;
  ck_assert(cd_ledger_find_chain(l, A, B, D, "", 5, 1010, veto_target, NULL));
  ck_assert_int_gt(link_calls, 0);
  ck_assert(!cd_ledger_find_chain(l, A, B, D, "", 5, 1010, veto_target, (void *)D));
  ck_assert(!cd_ledger_find_chain(l, A, B, D, "", 5, 1010, veto_target, (void *)C));
  ck_assert(!cd_ledger_find_chain(l, A, B, C, "", 5, 1010, veto_target, (void *)C));
  ck_assert(cd_ledger_find_chain(l, A, B, C, "", 5, 1010, veto_target, (void *)D));
  cd_ledger_destroy(l);
}
END_TEST

/* Copies the view handed to link_ok; its strings live in the ledger. */
static bool capture(const struct cd_ledger_record *x, void *ctx)
{
  *(struct cd_ledger_record *)ctx = *x;
  return true;
}

START_TEST(link_ok_sees_every_field)
{
  struct cd_ledger *l = cd_ledger_create(100, 60);
  struct cd_ledger_record r = rec(A, B, C, "call-1", 1000);
  r.service = CD_SVC_CD;
  r.cause = 480;
  r.hi_index = "1.1.1";
  r.ticket_hash = H1;
  ck_assert_int_eq(cd_ledger_add(l, &r, 1000), 0);
  struct cd_ledger_record seen = {0};
  ck_assert(cd_ledger_find_chain(l, A, B, C, H1, 5, 1010, capture, &seen));
  ck_assert_str_eq(seen.caller, A);
  ck_assert_str_eq(seen.served, B);
  ck_assert_str_eq(seen.target, C);
  ck_assert_int_eq(seen.service, CD_SVC_CD);
  ck_assert_int_eq(seen.cause, 480);
  ck_assert_int_eq(seen.when, 1000);
  ck_assert_str_eq(seen.call_id, "call-1");
  ck_assert_str_eq(seen.hi_index, "1.1.1");
  ck_assert_str_eq(seen.ticket_hash, H1);
  cd_ledger_destroy(l);
}
END_TEST

START_TEST(eviction_when_full)
{
  struct cd_ledger *l = cd_ledger_create(3, 3600);
  add(l, A, B, C, "call-1", 1000);
  add(l, A, B, D, "call-2", 1001);
  add(l, A, B, E, "call-3", 1002);
  ck_assert_uint_eq(cd_ledger_evictions(l), 0);
  add(l, A, B, M, "call-4", 1003);
  ck_assert_uint_eq(cd_ledger_size(l), 3);
  ck_assert_uint_eq(cd_ledger_evictions(l), 1);
  ck_assert(!find(l, A, B, C, 5, 1003));      /* the oldest went */
  ck_assert(find(l, A, B, D, 5, 1003));
  ck_assert(find(l, A, B, E, 5, 1003));
  ck_assert(find(l, A, B, M, 5, 1003));
  add(l, A, C, D, "call-5", 1004);
  ck_assert_uint_eq(cd_ledger_evictions(l), 2);
  ck_assert(!find(l, A, B, D, 5, 1004));
  cd_ledger_destroy(l);
}
END_TEST

START_TEST(expired_records_are_not_evictions)
{
  struct cd_ledger *l = cd_ledger_create(2, 60);
  add(l, A, B, C, "call-1", 1000);
  add(l, A, B, D, "call-2", 1001);
  add(l, A, B, E, "call-3", 1100);            /* both expired: no eviction */
  ck_assert_uint_eq(cd_ledger_size(l), 1);
  ck_assert_uint_eq(cd_ledger_evictions(l), 0);
  cd_ledger_destroy(l);
}
END_TEST

START_TEST(add_rejects_bad_records)
{
  struct cd_ledger *l = cd_ledger_create(10, 60);
  char *big = malloc(1026);
  memset(big, 'x', 1025);
  big[1025] = '\0';
  struct cd_ledger_record r = rec(A, B, C, "call-1", 1000);
  r.call_id = big;                            /* 1025 bytes */
  ck_assert_int_eq(cd_ledger_add(l, &r, 1000), -1);
  big[1024] = '\0';                           /* 1024 bytes is fine */
  ck_assert_int_eq(cd_ledger_add(l, &r, 1000), 0);
  ck_assert(find(l, A, B, C, 1, 1000));
  r = rec(NULL, B, C, "c", 1000);
  ck_assert_int_eq(cd_ledger_add(l, &r, 1000), -1);
  r = rec(A, "", C, "c", 1000);
  ck_assert_int_eq(cd_ledger_add(l, &r, 1000), -1);
  r = rec(A, B, NULL, "c", 1000);
  ck_assert_int_eq(cd_ledger_add(l, &r, 1000), -1);
  r = rec(A, B, C, "c", 1000);
  r.service = CD_SVC_COUNT;
  ck_assert_int_eq(cd_ledger_add(l, &r, 1000), -1);
  ck_assert_int_eq(cd_ledger_add(l, NULL, 1000), -1);
  ck_assert_uint_eq(cd_ledger_size(l), 1);
  ck_assert_ptr_null(cd_ledger_create(0, 60));
  ck_assert_ptr_null(cd_ledger_create(10, 0));
  ck_assert(!cd_ledger_find_chain(NULL, A, B, C, "", 5, 1000, NULL, NULL));
  ck_assert(!cd_ledger_find_chain(l, A, B, "", "", 5, 1000, NULL, NULL));
  free(big);
  cd_ledger_destroy(l);
  cd_ledger_destroy(NULL);
}
END_TEST

START_TEST(record_bytes_is_honest)
{
  struct cd_ledger_record r = {
    .caller = "sip:alice.a@ims1.example.net", .served = "sip:bob.bbb@ims1.example.net",
    .target = "sip:carol.c@ims1.example.net", .service = CD_SVC_CFU, .cause = 302,
    .when = 0, .call_id = "a84b4c76e66710-314159-1@pc33.example.com",
    .hi_index = "1.1", .ticket_hash = H1,
  };
  size_t strings = strlen(r.caller) + strlen(r.served) + strlen(r.target) +
                   strlen(r.call_id) + strlen(r.hi_index) + strlen(r.ticket_hash) + 6;
  size_t bytes = cd_ledger_record_bytes(&r);
  fprintf(stderr, "ledger: %zu bytes per record (%zu bytes of strings)\n", bytes, strings);
  ck_assert_uint_ge(bytes, strings + 5 * sizeof(void *));   /* links, time, chunk header */
  ck_assert_uint_le(bytes, strings + 128);
  r.call_id = "";
  ck_assert_uint_lt(cd_ledger_record_bytes(&r), bytes);
  r.caller = NULL;
  ck_assert_uint_eq(cd_ledger_record_bytes(&r), 0);
}
END_TEST

START_TEST(hundred_thousand_records)
{
  enum { N = 100000 };
  struct cd_ledger *l = cd_ledger_create(N, 3600);
  char caller[64], served[64], target[64], call_id[64];
  for (int i = 0; i < N; i++) {
    snprintf(caller, sizeof caller, "sip:caller%d@ims.example.net", i % 5000);
    snprintf(served, sizeof served, "sip:served%d@ims.example.net", i);
    snprintf(target, sizeof target, "sip:target%d@ims.example.net", i);
    snprintf(call_id, sizeof call_id, "%d@pc.example.com", i);
    struct cd_ledger_record r = rec(caller, served, target, call_id, 1000 + i / 100);
    ck_assert_int_eq(cd_ledger_add(l, &r, 1000 + i / 100), 0);
  }
  ck_assert_uint_eq(cd_ledger_size(l), N);
  ck_assert_uint_eq(cd_ledger_evictions(l), 0);
  long now = 1000 + N / 100;
  for (int i = 0; i < N; i++) {
    snprintf(caller, sizeof caller, "sip:caller%d@ims.example.net", i % 5000);
    snprintf(served, sizeof served, "sip:served%d@ims.example.net", i);
    snprintf(target, sizeof target, "sip:target%d@ims.example.net", i);
    ck_assert(find(l, caller, served, target, 5, now));
    snprintf(target, sizeof target, "sip:target%d@ims.example.net", i + 1);
    ck_assert(!find(l, caller, served, target, 5, now));
  }
  /* One more evicts the first. */
  struct cd_ledger_record r = rec(A, B, C, "x", now);
  ck_assert_int_eq(cd_ledger_add(l, &r, now), 0);
  ck_assert_uint_eq(cd_ledger_size(l), N);
  ck_assert_uint_eq(cd_ledger_evictions(l), 1);
  ck_assert(!find(l, "sip:caller0@ims.example.net", "sip:served0@ims.example.net",
                  "sip:target0@ims.example.net", 5, now));
  /* Everything expires. */
  cd_ledger_expire(l, now + 3600);
  ck_assert_uint_eq(cd_ledger_size(l), 0);
  add(l, A, B, C, "y", now + 3600);
  ck_assert(find(l, A, B, C, 5, now + 3600));
  cd_ledger_destroy(l);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("ledger");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, direct_record_is_found);
  tcase_add_test(tc, wrong_requester_or_initiator_or_intended);
  tcase_add_test(tc, record_expires_exactly_at_ttl);
  tcase_add_test(tc, add_expires_old_records_first);
  tcase_add_test(tc, out_of_order_when_is_never_counted_once_dead);
  tcase_add_test(tc, two_hops_of_one_call);
  tcase_add_test(tc, two_hops_of_different_calls_deny);
  tcase_add_test(tc, hops_without_call_id_do_not_chain);
  tcase_add_test(tc, hop_limit);
  tcase_add_test(tc, shortest_chain_counts_for_the_limit);
  tcase_add_test(tc, cycles_terminate);
  tcase_add_test(tc, duplicate_records_stay_linear);
  tcase_add_test(tc, ticket_hash_rule);
  tcase_add_test(tc, ticket_hash_checked_on_every_hop);
  tcase_add_test(tc, link_ok_veto);
  tcase_add_test(tc, link_ok_sees_every_field);
  tcase_add_test(tc, eviction_when_full);
  tcase_add_test(tc, expired_records_are_not_evictions);
  tcase_add_test(tc, add_rejects_bad_records);
  tcase_add_test(tc, record_bytes_is_honest);
  tcase_add_test(tc, hundred_thousand_records);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
