/* Unit tests for the KMS inquiry: the verdict matrix (ledger facts crossed
 * with the current rules, aliases, ticket hashes, our identity), request
 * parsing with each error message, and the JSON answers.
 *
 * Configurations are fixtures in $srcdir/tests/unit/fixtures/inquiry_*.conf
 * (srcdir defaults to "."): inquiry_base.conf, the same after rule changes
 * (inquiry_changed.conf), and after Bob left (inquiry_gone.conf). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conf/load.h"
#include "core/inquiry.h"

#define A "sip:alice@ims.example.net"
#define B "sip:bob@ims.example.net"
#define C "sip:carol@ims.example.net"
#define D "sip:dave@ims.example.net"
#define E "sip:erin@ims.example.net"
#define F "sip:frank@ims.example.net"
#define M "sip:mallory@ims.example.net"
#define VM "sip:voicemail@ims.example.net"
#define AS "sip:cdivas.ims.example.net"
#define H1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H1_UPPER "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
#define H2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define NOW 1700000000L
#define TTL 3600

/* ------------------------------------------------------------- fixtures */

static struct cd_conf *load(const char *name)
{
  const char *srcdir = getenv("srcdir");
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/unit/fixtures/%s", srcdir ? srcdir : ".", name);
  struct cd_conf_errors errs;
  struct cd_conf *conf = cd_conf_load(path, &errs);
  for (size_t i = 0; i < errs.count; i++)
    fprintf(stderr, "%s\n", errs.msgs[i]);
  cd_conf_errors_free(&errs);
  ck_assert_msg(conf != NULL, "cannot load %s", path);
  return conf;
}

static struct cd_conf *conf;
static struct cd_ledger *ledger;

static void setup(void)
{
  conf = load("inquiry_base.conf");
  ledger = cd_ledger_create(1000, TTL);
}

static void teardown(void)
{
  cd_conf_unref(conf);
  cd_ledger_destroy(ledger);
}

static void record(const char *caller, const char *served, const char *target,
                   enum cd_service svc, const char *call_id, const char *ticket)
{
  struct cd_ledger_record r = {
    .caller = caller, .served = served, .target = target, .service = svc,
    .cause = svc == CD_SVC_CFU ? 302 : 408, .when = NOW, .call_id = call_id,
    .hi_index = "1.1.1", .ticket_hash = ticket,
  };
  ck_assert_int_eq(cd_ledger_add(ledger, &r, NOW), 0);
}

/* An inquiry parsed from JSON, as the KMS would send it. */
static struct cd_inquiry ask_full(const char *initiator, const char *intended,
                                  const char *requester, const char *as,
                                  const char *ticket)
{
  char body[2048], tfield[128] = "";
  if (ticket)
    snprintf(tfield, sizeof tfield, ",\"ticket_hash\":\"%s\"", ticket);
  snprintf(body, sizeof body,
           "{\"inquiry_id\":\"inq-00000001\",\"timestamp\":%ld,\"kms\":\"kms1\","
           "\"initiator\":\"%s\",\"intended\":\"%s\",\"requester\":\"%s\",\"as\":\"%s\"%s}",
           NOW, initiator, intended, requester, as, tfield);
  struct cd_inquiry q;
  char err[128];
  ck_assert_msg(cd_inquiry_parse(body, strlen(body), &q, err, sizeof err) == 0, "%s", err);
  return q;
}

static bool permits_at(const char *initiator, const char *intended, const char *requester,
                       long now)
{
  struct cd_inquiry q = ask_full(initiator, intended, requester, AS, NULL);
  return cd_inquiry_permits(&q, conf, ledger, now);
}

static bool permits(const char *initiator, const char *intended, const char *requester)
{
  return permits_at(initiator, intended, requester, NOW + 10);
}

static bool permits_ticket(const char *requester, const char *ticket)
{
  struct cd_inquiry q = ask_full(A, B, requester, AS, ticket);
  return cd_inquiry_permits(&q, conf, ledger, NOW + 10);
}

static void use_conf(const char *name)
{
  cd_conf_unref(conf);
  conf = load(name);
}

/* ------------------------------------------------------------- verdicts */

START_TEST(permit_for_the_right_target)
{
  record(A, B, C, CD_SVC_CFU, "call-1", "");
  ck_assert(permits(A, B, C));
}
END_TEST

START_TEST(deny_wrong_requester)
{
  record(A, B, C, CD_SVC_CFU, "call-1", "");
  ck_assert(!permits(A, B, M));
  ck_assert(!permits(A, B, D));
  ck_assert(!permits(A, B, B));
  ck_assert(!permits(A, B, A));
}
END_TEST

START_TEST(deny_other_initiator)
{
  record(A, B, C, CD_SVC_CFU, "call-1", "");
  ck_assert(!permits(M, B, C));
  ck_assert(!permits(C, B, C));
  ck_assert(!permits(A, D, C));      /* nor another intended user */
}
END_TEST

START_TEST(deny_expired_record)
{
  record(A, B, C, CD_SVC_CFU, "call-1", "");
  ck_assert(permits_at(A, B, C, NOW + TTL - 1));
  ck_assert(!permits_at(A, B, C, NOW + TTL));
}
END_TEST

START_TEST(two_hops_of_one_call)
{
  record(A, B, C, CD_SVC_CFU, "call-1", "");
  record(A, C, D, CD_SVC_CFNR, "call-1", "");
  ck_assert(permits(A, B, D));
  ck_assert(permits(A, B, C));
  ck_assert(!permits(A, B, E));
}
END_TEST

START_TEST(two_hops_of_different_calls_deny)
{
  record(A, B, C, CD_SVC_CFU, "call-1", "");
  record(A, C, D, CD_SVC_CFNR, "call-2", "");
  ck_assert(!permits(A, B, D));
  ck_assert(permits(A, C, D));       /* the second call on its own */
}
END_TEST

START_TEST(hop_limit_is_max_diversions)
{
  /* inquiry_base.conf has max_diversions = 3 */
  record(A, B, C, CD_SVC_CFU, "call-1", "");
  record(A, C, D, CD_SVC_CFNR, "call-1", "");
  record(A, D, E, CD_SVC_CFB, "call-1", "");
  record(A, E, F, CD_SVC_CFNRC, "call-1", "");
  ck_assert(permits(A, B, E));       /* 3 hops */
  ck_assert(!permits(A, B, F));      /* 4 hops */
  ck_assert(permits(A, C, F));       /* 3 hops from Carol */
}
END_TEST

START_TEST(deflection_permits)
{
  /* Bob's phone answered 302 to a target no rule names. */
  record(A, B, "sip:zoe@elsewhere.example.com", CD_SVC_CD, "call-1", "");
  ck_assert(permits(A, B, "sip:zoe@elsewhere.example.com"));
  ck_assert(!permits(A, B, C));
}
END_TEST

START_TEST(record_must_match_a_current_rule)
{
  record(A, B, M, CD_SVC_CFU, "call-1", "");      /* Bob's cfu goes to Carol */
  record(A, B, C, CD_SVC_CFB, "call-2", "");      /* Bob has no cfb to Carol */
  record(A, B, VM, CD_SVC_CFB, "call-3", "");     /* that rule is inactive */
  record(A, B, E, CD_SVC_CFNL, "call-4", "");     /* no such service at all */
  record(A, M, C, CD_SVC_CFU, "call-5", "");      /* Mallory is no subscriber */
  ck_assert(!permits(A, B, M));
  ck_assert(!permits(A, B, C));
  ck_assert(!permits(A, B, VM));
  ck_assert(!permits(A, B, E));
  ck_assert(!permits(A, M, C));
}
END_TEST

START_TEST(rule_changed_since_deny)
{
  record(A, B, C, CD_SVC_CFU, "call-1", "");
  record(A, C, D, CD_SVC_CFNR, "call-1", "");
  record(A, B, M, CD_SVC_CFU, "call-2", "");
  ck_assert(permits(A, B, C));
  ck_assert(permits(A, B, D));
  use_conf("inquiry_changed.conf");  /* Bob's cfu now to Mallory, Carol's cfnr off */
  ck_assert(!permits(A, B, C));
  ck_assert(!permits(A, B, D));
  ck_assert(!permits(A, C, D));      /* the inactive rule */
  ck_assert(permits(A, B, M));       /* the record that matches today's rule */
}
END_TEST

START_TEST(served_user_gone_deny)
{
  record(A, B, C, CD_SVC_CFU, "call-1", "");
  record(A, C, D, CD_SVC_CFNR, "call-2", "");
  use_conf("inquiry_gone.conf");
  ck_assert(!permits(A, B, C));
  ck_assert(permits(A, C, D));
}
END_TEST

START_TEST(ticket_hash_verdicts)
{
  record(A, B, C, CD_SVC_CFU, "call-1", H1);
  ck_assert(permits_ticket(C, H1));              /* match */
  ck_assert(permits_ticket(C, H1_UPPER));        /* the same, in upper case */
  ck_assert(!permits_ticket(C, H2));             /* mismatch */
  ck_assert(permits_ticket(C, NULL));            /* the inquiry has none */
}
END_TEST

START_TEST(ticket_hash_absent_in_record)
{
  record(A, B, C, CD_SVC_CFU, "call-1", "");
  ck_assert(permits_ticket(C, H2));
  ck_assert(permits_ticket(C, NULL));
}
END_TEST

START_TEST(aliases_are_the_same_user)
{
  record(A, B, C, CD_SVC_CFU, "call-1", "");
  ck_assert(permits("tel:+1-555-100-0001", "tel:+15551000002", "tel:+15551000003"));
  ck_assert(permits(A, "sip:robert@IMS.example.net", C));
  ck_assert(permits(A, B, "sip:+15551000003@ims.example.net;user=phone"));
  ck_assert(permits("<sip:alice@ims.example.net:5060;transport=tcp>", B, C));
  ck_assert(!permits(A, "tel:+15551000002", "tel:+15551000004"));
}
END_TEST

START_TEST(as_must_be_ours)
{
  record(A, B, C, CD_SVC_CFU, "call-1", "");
  struct cd_inquiry q = ask_full(A, B, C, "sip:other-as.ims.example.net", NULL);
  ck_assert(!cd_inquiry_permits(&q, conf, ledger, NOW + 10));
  q = ask_full(A, B, C, "sip:cdivas@ims.example.net", NULL);
  ck_assert(!cd_inquiry_permits(&q, conf, ledger, NOW + 10));
  q = ask_full(A, B, C, "sips:cdivas.IMS.example.net:5061;transport=tls", NULL);
  ck_assert(cd_inquiry_permits(&q, conf, ledger, NOW + 10));
}
END_TEST

START_TEST(missing_pieces_deny)
{
  record(A, B, C, CD_SVC_CFU, "call-1", "");
  struct cd_inquiry q = ask_full(A, B, C, AS, NULL);
  ck_assert(cd_inquiry_permits(&q, conf, ledger, NOW + 10));
  ck_assert(!cd_inquiry_permits(NULL, conf, ledger, NOW + 10));
  ck_assert(!cd_inquiry_permits(&q, NULL, ledger, NOW + 10));
  ck_assert(!cd_inquiry_permits(&q, conf, NULL, NOW + 10));
}
END_TEST

START_TEST(canonical_maps_aliases)
{
  char out[CD_IDENTITY_KEY_MAX];
  cd_inquiry_canonical(conf, "tel:+15551000002", out);
  ck_assert_str_eq(out, B);
  cd_inquiry_canonical(conf, "sip:robert@ims.example.net", out);
  ck_assert_str_eq(out, B);
  cd_inquiry_canonical(conf, B, out);
  ck_assert_str_eq(out, B);
  cd_inquiry_canonical(conf, M, out);
  ck_assert_str_eq(out, M);
  strcpy(out, "tel:+15551000003");               /* in place */
  cd_inquiry_canonical(conf, out, out);
  ck_assert_str_eq(out, C);
}
END_TEST

/* ------------------------------------------------------------- parsing */

static const char *const names[] = {
  "inquiry_id", "timestamp", "kms", "initiator", "intended", "requester", "as",
  "ticket_hash", "call_id",
};
static const char *const good[] = {
  "\"inq-00000001\"", "1700000000", "\"kms1.example.net\"",
  "\"Alice <sip:alice@ims.example.net>;tag=1\"", "\"tel:+1-555-100-0002\"",
  "\"sip:carol@IMS.example.net:5060\"", "\"sip:cdivas.ims.example.net\"",
  "\"" H1_UPPER "\"", "\"a84b4c76e66710@pc33.example.com\"",
};
#define N_FIELDS (sizeof names / sizeof *names)

/* The good body with field `name` set to the raw JSON `raw`, or left out
 * when raw is NULL; a name not in the list is added. */
static const char *body_with(const char *name, const char *raw)
{
  static char body[CD_INQUIRY_BODY_MAX * 2];
  size_t n = 0;
  bool found = false;
  n += (size_t)snprintf(body + n, sizeof body - n, "{");
  for (size_t i = 0; i < N_FIELDS; i++) {
    const char *v = good[i];
    if (name && strcmp(name, names[i]) == 0) {
      found = true;
      if ((v = raw) == NULL)
        continue;
    }
    n += (size_t)snprintf(body + n, sizeof body - n, "%s\"%s\":%s", n > 1 ? "," : "",
                          names[i], v);
  }
  if (name && !found)
    n += (size_t)snprintf(body + n, sizeof body - n, ",\"%s\":%s", name, raw);
  snprintf(body + n, sizeof body - n, "}");
  return body;
}

static void expect_error_len(const char *body, size_t len, const char *msg)
{
  struct cd_inquiry q;
  char err[128] = "unset";
  ck_assert_msg(cd_inquiry_parse(body, len, &q, err, sizeof err) == -1,
                "accepted: %s", body ? body : "(null)");
  ck_assert_str_eq(err, msg);
  ck_assert_str_eq(q.initiator, "");             /* never half an inquiry */
}

static void expect_error(const char *body, const char *msg)
{
  expect_error_len(body, body ? strlen(body) : 0, msg);
}

static void expect_ok(const char *body, struct cd_inquiry *q)
{
  char err[128] = "";
  ck_assert_msg(cd_inquiry_parse(body, strlen(body), q, err, sizeof err) == 0, "%s: %s",
                err, body);
}

START_TEST(parse_good)
{
  struct cd_inquiry q;
  expect_ok(body_with(NULL, NULL), &q);
  ck_assert_str_eq(q.inquiry_id, "inq-00000001");
  ck_assert_int_eq(q.timestamp, 1700000000LL);
  ck_assert_str_eq(q.kms, "kms1.example.net");
  ck_assert_str_eq(q.initiator, A);
  ck_assert_str_eq(q.intended, "tel:+15551000002");   /* aliases are mapped later */
  ck_assert_str_eq(q.requester, C);
  ck_assert_str_eq(q.as, AS);
  ck_assert_str_eq(q.ticket_hash, H1);                /* lower-cased */
  ck_assert_str_eq(q.call_id, "a84b4c76e66710@pc33.example.com");
}
END_TEST

START_TEST(parse_optional_fields_absent)
{
  struct cd_inquiry q;
  char body[CD_INQUIRY_BODY_MAX * 2];
  strcpy(body, body_with("ticket_hash", NULL));
  expect_ok(body, &q);
  ck_assert_str_eq(q.ticket_hash, "");
  expect_ok(body_with("call_id", NULL), &q);
  ck_assert_str_eq(q.call_id, "");
  expect_ok(body_with("call_id", "\"\""), &q);
  ck_assert_str_eq(q.call_id, "");
  expect_ok(body_with("timestamp", "-5"), &q);        /* freshness is checked elsewhere */
  ck_assert_int_eq(q.timestamp, -5);
}
END_TEST

START_TEST(parse_malformed_json)
{
  expect_error("{", "malformed JSON");
  expect_error("", "malformed JSON");
  expect_error("{\"inquiry_id\":}", "malformed JSON");
  expect_error("{}x", "malformed JSON");
  expect_error("{'a':1}", "malformed JSON");
  expect_error("\"just a string\"", "malformed JSON");
  expect_error("42", "malformed JSON");
  expect_error(NULL, "malformed JSON");
  expect_error(body_with("kms", "\"a\\u0000b\""), "malformed JSON");  /* NUL escape */
  expect_error(body_with("timestamp", "123456789012345678901234567890"), "malformed JSON");
  char bad_utf8[CD_INQUIRY_BODY_MAX * 2];
  strcpy(bad_utf8, body_with("call_id", "\"\xff\xfe\""));
  expect_error(bad_utf8, "malformed JSON");
  /* a body cut short: the length counts, not the NUL */
  const char *body = body_with(NULL, NULL);
  expect_error_len(body, strlen(body) - 1, "malformed JSON");
}
END_TEST

START_TEST(parse_not_an_object)
{
  expect_error("[]", "request must be a JSON object");
  expect_error("[{\"inquiry_id\":\"inq-00000001\"}]", "request must be a JSON object");
}
END_TEST

START_TEST(parse_duplicate_key)
{
  char body[CD_INQUIRY_BODY_MAX * 2];
  strcpy(body, body_with(NULL, NULL));
  strcpy(body + strlen(body) - 1, ",\"kms\":\"kms2.example.net\"}");
  expect_error(body, "malformed JSON");
}
END_TEST

START_TEST(parse_missing_fields)
{
  char msg[64];
  for (size_t i = 0; i < 7; i++) {               /* the required ones */
    snprintf(msg, sizeof msg, "missing field '%s'", names[i]);
    expect_error(body_with(names[i], NULL), msg);
  }
  expect_error("{}", "missing field 'inquiry_id'");
}
END_TEST

START_TEST(parse_wrong_types)
{
  char msg[64];
  const char *not_strings[] = { "5", "null", "true", "[\"x\"]", "{}" };
  for (size_t i = 0; i < N_FIELDS; i++) {
    if (i == 1)
      continue;
    snprintf(msg, sizeof msg, "field '%s' must be a string", names[i]);
    for (size_t j = 0; j < sizeof not_strings / sizeof *not_strings; j++)
      expect_error(body_with(names[i], not_strings[j]), msg);
  }
  const char *not_integers[] = { "\"1700000000\"", "1700000000.0", "1.7e9", "null", "true",
                                 "[1]" };
  for (size_t j = 0; j < sizeof not_integers / sizeof *not_integers; j++)
    expect_error(body_with("timestamp", not_integers[j]), "field 'timestamp' must be an integer");
}
END_TEST

START_TEST(parse_inquiry_id_length)
{
  struct cd_inquiry q;
  const char *msg = "inquiry_id must be 8 to 64 characters";
  expect_error(body_with("inquiry_id", "\"1234567\""), msg);
  expect_error(body_with("inquiry_id", "\"\""), msg);
  expect_error(body_with("inquiry_id",
               "\"12345678901234567890123456789012345678901234567890123456789012345\""), msg);
  expect_error(body_with("inquiry_id", "\"1234 5678\""), msg);     /* not printable */
  expect_error(body_with("inquiry_id", "\"12345678\\n\""), msg);
  expect_error(body_with("inquiry_id", "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\""), msg);
  expect_ok(body_with("inquiry_id", "\"12345678\""), &q);
  ck_assert_str_eq(q.inquiry_id, "12345678");
  expect_ok(body_with("inquiry_id",
            "\"1234567890123456789012345678901234567890123456789012345678901234\""), &q);
  ck_assert_uint_eq(strlen(q.inquiry_id), 64);
}
END_TEST

START_TEST(parse_kms_length)
{
  struct cd_inquiry q;
  char raw[300];
  const char *msg = "kms must be 1 to 127 characters";
  memset(raw, 'k', sizeof raw);
  raw[0] = '"';
  raw[128] = '"';                                 /* 127 characters */
  raw[129] = '\0';
  expect_ok(body_with("kms", raw), &q);
  ck_assert_uint_eq(strlen(q.kms), 127);
  raw[128] = 'k';
  raw[129] = '"';                                 /* 128 */
  raw[130] = '\0';
  expect_error(body_with("kms", raw), msg);
  expect_error(body_with("kms", "\"\""), msg);
  expect_error(body_with("kms", "\"k m s\""), msg);
  expect_error(body_with("kms", "\"k\\\"ms\""), msg);
  expect_error(body_with("kms", "\"k\\\\ms\""), msg);
}
END_TEST

START_TEST(parse_bad_uris)
{
  char msg[64];
  const char *bad[] = { "\"mailto:alice@example.net\"", "\"\"", "\"sip:\"", "\"alice\"",
                        "\"sip:alice@\"", "\"tel:+\"", "\"<sip:alice@h\"" };
  for (size_t i = 3; i < 7; i++) {
    snprintf(msg, sizeof msg, "field '%s' is not a SIP or tel URI", names[i]);
    for (size_t j = 0; j < sizeof bad / sizeof *bad; j++)
      expect_error(body_with(names[i], bad[j]), msg);
  }
}
END_TEST

START_TEST(parse_bad_ticket_hash)
{
  const char *msg = "ticket_hash must be 64 hex digits";
  expect_error(body_with("ticket_hash", "\"\""), msg);
  expect_error(body_with("ticket_hash",
      "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\""), msg);
  expect_error(body_with("ticket_hash",
      "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0\""), msg);
  expect_error(body_with("ticket_hash",
      "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\""), msg);
  expect_error(body_with("ticket_hash",
      "\" 123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\""), msg);
}
END_TEST

START_TEST(parse_call_id_length)
{
  struct cd_inquiry q;
  char raw[300];
  memset(raw, 'c', sizeof raw);
  raw[0] = '"';
  raw[256] = '"';                                 /* 255 characters */
  raw[257] = '\0';
  expect_ok(body_with("call_id", raw), &q);
  ck_assert_uint_eq(strlen(q.call_id), 255);
  raw[256] = 'c';
  raw[257] = '"';                                 /* 256 */
  raw[258] = '\0';
  expect_error(body_with("call_id", raw), "call_id must be at most 255 characters");
  expect_error(body_with("call_id", "\"a b\""), "call_id must be at most 255 characters");
}
END_TEST

START_TEST(parse_unknown_field)
{
  expect_error(body_with("extra", "1"), "unknown field 'extra'");
  expect_error(body_with("Kms", "\"k\""), "unknown field 'Kms'");   /* names are exact */
  expect_error(body_with("0123456789012345678901234567890123456789", "1"),
               "unknown field '01234567890123456789012345678901...'");
  expect_error(body_with("a\\u00e9\\n", "1"), "unknown field 'a\?\?\?'");
  expect_error("{\"x\":1}", "unknown field 'x'");
}
END_TEST

START_TEST(parse_too_large)
{
  size_t len = CD_INQUIRY_BODY_MAX + 1;
  char *body = malloc(len + 1);
  const char *good_body = body_with(NULL, NULL);
  size_t n = strlen(good_body);
  memcpy(body, good_body, n - 1);                 /* pad a valid body with spaces */
  memset(body + n - 1, ' ', len - n);
  body[len - 1] = '}';
  body[len] = '\0';
  expect_error_len(body, len, "request body too large");
  struct cd_inquiry q;
  char err[128];
  body[len - 2] = '}';                            /* exactly the maximum is fine */
  ck_assert_int_eq(cd_inquiry_parse(body, len - 1, &q, err, sizeof err), 0);
  free(body);
}
END_TEST

START_TEST(parse_small_error_buffers)
{
  struct cd_inquiry q;
  char err[8];
  const char *body = body_with("kms", NULL);
  ck_assert_int_eq(cd_inquiry_parse(body, strlen(body), &q, err, sizeof err), -1);
  ck_assert_str_eq(err, "missing");
  ck_assert_int_eq(cd_inquiry_parse(body, strlen(body), &q, NULL, 0), -1);
  ck_assert_int_eq(cd_inquiry_parse(body, strlen(body), NULL, err, sizeof err), -1);
}
END_TEST

/* ------------------------------------------------------------- answers */

START_TEST(answers)
{
  char *s = cd_inquiry_verdict_json("inq-00000001", true);
  ck_assert_str_eq(s, "{\"inquiry_id\":\"inq-00000001\",\"verdict\":\"permit\"}");
  free(s);
  s = cd_inquiry_verdict_json("inq-00000001", false);
  ck_assert_str_eq(s, "{\"inquiry_id\":\"inq-00000001\",\"verdict\":\"deny\"}");
  free(s);
  s = cd_inquiry_error_json("missing field 'kms'");
  ck_assert_str_eq(s, "{\"error\":\"missing field 'kms'\"}");
  free(s);
  s = cd_inquiry_error_json("a \"quoted\" \\ and\nnewline");
  ck_assert_str_eq(s, "{\"error\":\"a \\\"quoted\\\" \\\\ and\\nnewline\"}");
  free(s);
  ck_assert_ptr_null(cd_inquiry_verdict_json(NULL, true));
  ck_assert_ptr_null(cd_inquiry_verdict_json("\xff", true));
  ck_assert_ptr_null(cd_inquiry_error_json(NULL));
  ck_assert_ptr_null(cd_inquiry_error_json("\xc3"));
}
END_TEST

int main(void)
{
  Suite *s = suite_create("inquiry");
  TCase *v = tcase_create("verdict");
  tcase_add_checked_fixture(v, setup, teardown);
  tcase_add_test(v, permit_for_the_right_target);
  tcase_add_test(v, deny_wrong_requester);
  tcase_add_test(v, deny_other_initiator);
  tcase_add_test(v, deny_expired_record);
  tcase_add_test(v, two_hops_of_one_call);
  tcase_add_test(v, two_hops_of_different_calls_deny);
  tcase_add_test(v, hop_limit_is_max_diversions);
  tcase_add_test(v, deflection_permits);
  tcase_add_test(v, record_must_match_a_current_rule);
  tcase_add_test(v, rule_changed_since_deny);
  tcase_add_test(v, served_user_gone_deny);
  tcase_add_test(v, ticket_hash_verdicts);
  tcase_add_test(v, ticket_hash_absent_in_record);
  tcase_add_test(v, aliases_are_the_same_user);
  tcase_add_test(v, as_must_be_ours);
  tcase_add_test(v, missing_pieces_deny);
  tcase_add_test(v, canonical_maps_aliases);
  suite_add_tcase(s, v);
  TCase *p = tcase_create("parse");
  tcase_add_test(p, parse_good);
  tcase_add_test(p, parse_optional_fields_absent);
  tcase_add_test(p, parse_malformed_json);
  tcase_add_test(p, parse_not_an_object);
  tcase_add_test(p, parse_duplicate_key);
  tcase_add_test(p, parse_missing_fields);
  tcase_add_test(p, parse_wrong_types);
  tcase_add_test(p, parse_inquiry_id_length);
  tcase_add_test(p, parse_kms_length);
  tcase_add_test(p, parse_bad_uris);
  tcase_add_test(p, parse_bad_ticket_hash);
  tcase_add_test(p, parse_call_id_length);
  tcase_add_test(p, parse_unknown_field);
  tcase_add_test(p, parse_too_large);
  tcase_add_test(p, parse_small_error_buffers);
  tcase_add_test(p, answers);
  suite_add_tcase(s, p);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
