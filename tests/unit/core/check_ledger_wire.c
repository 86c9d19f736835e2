/*
 * check_ledger_wire.c - unit tests for src/ledger_wire.c, a diversion
 * record as the one line of text the redis store keeps.
 *
 * Covers: a round trip of every field, empty optional fields, every byte
 * the format forbids on the way out, and on the way in everything that is
 * not a well-formed line of this version (the data comes from a server
 * other processes write to).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ledger_wire.h"

static struct cd_ledger_record sample(void)
{
  struct cd_ledger_record rec = {
    .caller = "sip:alice@ims.example.net", .served = "sip:bob@ims.example.net",
    .target = "sip:carol@ims.example.net", .service = CD_SVC_CFNR, .cause = 408,
    .when = 1795000000, .call_id = "a84b4c76e66710@pc33", .hi_index = "1.1.1",
    .ticket_hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  };
  return rec;
}

/* decode() wants a NUL after the line, as Redis replies have. */
static int decode(const char *line, char **buf, struct cd_ledger_record *rec)
{
  *buf = strdup(line);
  ck_assert_ptr_nonnull(*buf);
  return cd_ledger_wire_decode(*buf, strlen(*buf), rec);
}

START_TEST(round_trip) {
  struct cd_ledger_record in = sample(), out;
  char *line = cd_ledger_wire_encode(&in);
  ck_assert_ptr_nonnull(line);
  ck_assert_str_eq(line, "1\tsip:alice@ims.example.net\tsip:bob@ims.example.net\t"
                         "sip:carol@ims.example.net\tcfnr\t408\t1795000000\ta84b4c76e66710@pc33\t"
                         "1.1.1\t9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  ck_assert_int_eq(cd_ledger_wire_decode(line, strlen(line), &out), 0);
  ck_assert_str_eq(out.caller, in.caller);
  ck_assert_str_eq(out.served, in.served);
  ck_assert_str_eq(out.target, in.target);
  ck_assert_int_eq(out.service, CD_SVC_CFNR);
  ck_assert_int_eq(out.cause, 408);
  ck_assert_int_eq(out.when, 1795000000);
  ck_assert_str_eq(out.call_id, in.call_id);
  ck_assert_str_eq(out.hi_index, in.hi_index);
  ck_assert_str_eq(out.ticket_hash, in.ticket_hash);
  free(line);
}
END_TEST

START_TEST(every_service_round_trips) {
  for (int svc = 0; svc < CD_SVC_COUNT; svc++) {
    struct cd_ledger_record in = sample(), out;
    in.service = (enum cd_service)svc;
    char *line = cd_ledger_wire_encode(&in);
    ck_assert_ptr_nonnull(line);
    ck_assert_int_eq(cd_ledger_wire_decode(line, strlen(line), &out), 0);
    ck_assert_int_eq(out.service, svc);
    free(line);
  }
}
END_TEST

START_TEST(optional_fields_may_be_empty) {
  struct cd_ledger_record in = sample(), out;
  in.call_id = NULL;
  in.hi_index = "";
  in.ticket_hash = NULL;
  char *line = cd_ledger_wire_encode(&in);
  ck_assert_ptr_nonnull(line);
  ck_assert_int_eq(cd_ledger_wire_decode(line, strlen(line), &out), 0);
  ck_assert_str_eq(out.call_id, "");
  ck_assert_str_eq(out.hi_index, "");
  ck_assert_str_eq(out.ticket_hash, "");
  free(line);
}
END_TEST

START_TEST(encode_refuses_what_cannot_be_read_back) {
  const char *bad[] = { "a\tb", "a\nb", "a\rb" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    struct cd_ledger_record rec = sample();
    rec.caller = bad[i];
    ck_assert_ptr_null(cd_ledger_wire_encode(&rec));
    rec = sample();
    rec.call_id = bad[i];
    ck_assert_ptr_null(cd_ledger_wire_encode(&rec));
    rec = sample();
    rec.ticket_hash = bad[i];
    ck_assert_ptr_null(cd_ledger_wire_encode(&rec));
  }
  struct cd_ledger_record rec = sample();
  rec.target = "";
  ck_assert_ptr_null(cd_ledger_wire_encode(&rec));
  rec = sample();
  rec.served = NULL;
  ck_assert_ptr_null(cd_ledger_wire_encode(&rec));
  rec = sample();
  rec.service = CD_SVC_COUNT;
  ck_assert_ptr_null(cd_ledger_wire_encode(&rec));
  char long_id[1100];
  memset(long_id, 'x', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  rec = sample();
  rec.call_id = long_id;
  ck_assert_ptr_null(cd_ledger_wire_encode(&rec));
  ck_assert_ptr_null(cd_ledger_wire_encode(NULL));
}
END_TEST

START_TEST(decode_refuses_malformed_lines) {
  const char *bad[] = {
    "",
    "1",
    "2\ta\tb\tc\tcfu\t302\t1\t\t\t",                 /* another version */
    "1\ta\tb\tc\tcfu\t302\t1\t\t",                  /* nine fields */
    "1\ta\tb\tc\tcfu\t302\t1\t\t\t\t",              /* eleven */
    "1\t\tb\tc\tcfu\t302\t1\t\t\t",                 /* empty caller */
    "1\ta\t\tc\tcfu\t302\t1\t\t\t",                 /* empty served */
    "1\ta\tb\t\tcfu\t302\t1\t\t\t",                 /* empty target */
    "1\ta\tb\tc\tcfx\t302\t1\t\t\t",                /* unknown service */
    "1\ta\tb\tc\tcfu\t99\t1\t\t\t",                 /* cause out of range */
    "1\ta\tb\tc\tcfu\t700\t1\t\t\t",
    "1\ta\tb\tc\tcfu\t30x\t1\t\t\t",
    "1\ta\tb\tc\tcfu\t+302\t1\t\t\t",
    "1\ta\tb\tc\tcfu\t302\t-1\t\t\t",               /* time before the epoch */
    "1\ta\tb\tc\tcfu\t302\t99999999999999999999\t\t\t",
    "1\ta\tb\tc\tcfu\t302\t\t\t\t",                 /* no time */
    "1\ta\tb\tc\tcfu\t302\t 1\t\t\t",
    "1\ta\tb\tc\tcfu\t302\t1\tid\r\n\t\t",          /* CR LF inside */
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char *buf;
    struct cd_ledger_record rec;
    ck_assert_msg(decode(bad[i], &buf, &rec) == -1, "accepted bad line %zu", i);
    ck_assert_ptr_null(rec.caller);
    free(buf);
  }
}
END_TEST

START_TEST(decode_refuses_nul_and_missing_terminator) {
  char line[] = "1\ta\tb\tc\tcfu\t302\t1\t\t\t";
  struct cd_ledger_record rec;
  char with_nul[sizeof line];
  memcpy(with_nul, line, sizeof line);
  with_nul[3] = '\0';
  ck_assert_int_eq(cd_ledger_wire_decode(with_nul, sizeof line - 1, &rec), -1);
  /* The byte after len must be the terminator. */
  char longer[] = "1\ta\tb\tc\tcfu\t302\t1\t\t\tX";
  ck_assert_int_eq(cd_ledger_wire_decode(longer, sizeof longer - 2, &rec), -1);
  ck_assert_int_eq(cd_ledger_wire_decode(NULL, 0, &rec), -1);
  ck_assert_int_eq(cd_ledger_wire_decode(line, sizeof line - 1, &rec), 0);
  ck_assert_str_eq(rec.target, "c");
  ck_assert_int_eq(rec.when, 1);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("ledger_wire");
  TCase *tc = tcase_create("encode");
  tcase_add_test(tc, round_trip);
  tcase_add_test(tc, every_service_round_trips);
  tcase_add_test(tc, optional_fields_may_be_empty);
  tcase_add_test(tc, encode_refuses_what_cannot_be_read_back);
  suite_add_tcase(s, tc);
  tc = tcase_create("decode");
  tcase_add_test(tc, decode_refuses_malformed_lines);
  tcase_add_test(tc, decode_refuses_nul_and_missing_terminator);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
