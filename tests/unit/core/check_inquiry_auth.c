/* Unit tests for inquiry authentication: a known-answer HMAC, sign/verify,
 * single-bit changes, the Authorization header grammar, the freshness
 * window, hex keys, and the replay cache. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/inquiry_auth.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KAT_BODY "{\"inquiry_id\":\"kat-0001\"}"
#define KAT_TS 1700000000LL
/* Obtained once, independently of this code, with
 *   printf 'POST\n/cdiv/v1/inquiry\n1700000000\n{"inquiry_id":"kat-0001"}' > kat.msg
 *   openssl dgst -sha256 -mac HMAC -macopt hexkey:<KEY_HEX> kat.msg
 *   openssl dgst -sha256 -mac HMAC -macopt hexkey:<KEY_HEX> -binary kat.msg | base64
 * (OpenSSL 3.0.22). */
#define KAT_HEX "5bf906d9d74e6c31d7cc92ec60f9d24ac523fd8c0e80bfde01f3cdc9026bbcf4"
#define KAT_B64 "W/kG2ddObDHXzJLsYPnSSsUj/YwOgL/eAfPNyQJrvPQ="

static void key(unsigned char k[CD_AUTH_KEY_LEN])
{
  ck_assert_int_eq(cd_auth_key_from_hex(KEY_HEX, k), 0);
}

static void unhex(const char *hex, unsigned char *out, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
    out[i] = (unsigned char)v;
  }
}

START_TEST(known_answer)
{
  unsigned char k[CD_AUTH_KEY_LEN], sig[CD_AUTH_SIG_LEN], want[CD_AUTH_SIG_LEN];
  char b64[64];
  key(k);
  unhex(KAT_HEX, want, sizeof want);
  cd_auth_sign(k, KAT_TS, KAT_BODY, strlen(KAT_BODY), sig);
  ck_assert_mem_eq(sig, want, CD_AUTH_SIG_LEN);
  cd_auth_sig_base64(sig, b64);
  ck_assert_str_eq(b64, KAT_B64);
  ck_assert(cd_auth_verify(k, KAT_TS, KAT_BODY, strlen(KAT_BODY), want));
}
END_TEST

START_TEST(sign_verify_round_trip)
{
  unsigned char k[CD_AUTH_KEY_LEN], sig[CD_AUTH_SIG_LEN];
  key(k);
  const char *body = "{\"inquiry_id\":\"0123456789\",\"timestamp\":5}";
  cd_auth_sign(k, 5, body, strlen(body), sig);
  ck_assert(cd_auth_verify(k, 5, body, strlen(body), sig));
  cd_auth_sign(k, -7, "", 0, sig);            /* empty body, negative time */
  ck_assert(cd_auth_verify(k, -7, "", 0, sig));
  ck_assert(cd_auth_verify(k, -7, NULL, 0, sig));
  ck_assert(!cd_auth_verify(k, 7, "", 0, sig));
}
END_TEST

START_TEST(any_flipped_bit_fails)
{
  unsigned char k[CD_AUTH_KEY_LEN], sig[CD_AUTH_SIG_LEN];
  char body[] = KAT_BODY;
  size_t len = strlen(body);
  key(k);
  cd_auth_sign(k, KAT_TS, body, len, sig);
  for (size_t i = 0; i < len * 8; i++) {       /* body */
    body[i / 8] ^= (char)(1 << (i % 8));
    ck_assert(!cd_auth_verify(k, KAT_TS, body, len, sig));
    body[i / 8] ^= (char)(1 << (i % 8));
  }
  for (int i = 0; i < 63; i++)                 /* timestamp */
    ck_assert(!cd_auth_verify(k, KAT_TS ^ (1LL << i), body, len, sig));
  for (size_t i = 0; i < CD_AUTH_KEY_LEN * 8; i++) {   /* key */
    k[i / 8] ^= (unsigned char)(1 << (i % 8));
    ck_assert(!cd_auth_verify(k, KAT_TS, body, len, sig));
    k[i / 8] ^= (unsigned char)(1 << (i % 8));
  }
  for (size_t i = 0; i < CD_AUTH_SIG_LEN * 8; i++) {   /* signature */
    sig[i / 8] ^= (unsigned char)(1 << (i % 8));
    ck_assert(!cd_auth_verify(k, KAT_TS, body, len, sig));
    sig[i / 8] ^= (unsigned char)(1 << (i % 8));
  }
  ck_assert(!cd_auth_verify(k, KAT_TS, body, len - 1, sig));   /* truncated */
  ck_assert(cd_auth_verify(k, KAT_TS, body, len, sig));
}
END_TEST

/* ------------------------------------------------------------- header */

static int parse(const char *value, char kms[CD_AUTH_KMS_ID_MAX],
                 unsigned char sig[CD_AUTH_SIG_LEN])
{
  return cd_auth_parse_header(value, kms, sig);
}

static bool parses(const char *value)
{
  char kms[CD_AUTH_KMS_ID_MAX];
  unsigned char sig[CD_AUTH_SIG_LEN];
  return parse(value, kms, sig) == 0;
}

START_TEST(header_good)
{
  char kms[CD_AUTH_KMS_ID_MAX];
  unsigned char sig[CD_AUTH_SIG_LEN], want[CD_AUTH_SIG_LEN];
  unhex(KAT_HEX, want, sizeof want);
  ck_assert_int_eq(parse("CDIV-HMAC-SHA256 kms=\"kms1.example.net\", sig=\"" KAT_B64 "\"",
                         kms, sig), 0);
  ck_assert_str_eq(kms, "kms1.example.net");
  ck_assert_mem_eq(sig, want, CD_AUTH_SIG_LEN);
  /* reversed, names in other cases, no space after the comma */
  memset(sig, 0, sizeof sig);
  ck_assert_int_eq(parse("CDIV-HMAC-SHA256 SIG=\"" KAT_B64 "\",Kms=\"k-2\"", kms, sig), 0);
  ck_assert_str_eq(kms, "k-2");
  ck_assert_mem_eq(sig, want, CD_AUTH_SIG_LEN);
  /* extra spaces and tabs around '=' and ',', and at the end */
  ck_assert_int_eq(parse("CDIV-HMAC-SHA256    kms \t=  \"k3\"  , \t sig= \"" KAT_B64
                         "\" \t", kms, sig), 0);
  ck_assert_str_eq(kms, "k3");
  /* the longest kms id */
  char v[400], id[CD_AUTH_KMS_ID_MAX];
  memset(id, 'k', CD_AUTH_KMS_ID_MAX - 1);
  id[CD_AUTH_KMS_ID_MAX - 1] = '\0';
  snprintf(v, sizeof v, "CDIV-HMAC-SHA256 kms=\"%s\", sig=\"%s\"", id, KAT_B64);
  ck_assert_int_eq(parse(v, kms, sig), 0);
  ck_assert_str_eq(kms, id);
}
END_TEST

START_TEST(header_bad_scheme)
{
  ck_assert(!parses("cdiv-hmac-sha256 kms=\"k\", sig=\"" KAT_B64 "\""));
  ck_assert(!parses("CDIV-HMAC-SHA1 kms=\"k\", sig=\"" KAT_B64 "\""));
  ck_assert(!parses("CDIV-HMAC-SHA256X kms=\"k\", sig=\"" KAT_B64 "\""));
  ck_assert(!parses("CDIV-HMAC-SHA256kms=\"k\", sig=\"" KAT_B64 "\""));
  ck_assert(!parses("CDIV-HMAC-SHA256\tkms=\"k\", sig=\"" KAT_B64 "\""));
  ck_assert(!parses(" CDIV-HMAC-SHA256 kms=\"k\", sig=\"" KAT_B64 "\""));
  ck_assert(!parses("Bearer abc"));
  ck_assert(!parses("CDIV-HMAC-SHA256"));
  ck_assert(!parses("CDIV-HMAC-SHA256 "));
  ck_assert(!parses(""));
  ck_assert(!parses(NULL));
}
END_TEST

START_TEST(header_bad_params)
{
  char kms[CD_AUTH_KMS_ID_MAX] = "junk";
  unsigned char sig[CD_AUTH_SIG_LEN];
  ck_assert_int_eq(parse("CDIV-HMAC-SHA256 kms=\"k\"", kms, sig), -1);   /* missing sig */
  ck_assert_str_eq(kms, "");                                             /* cleared */
  ck_assert(!parses("CDIV-HMAC-SHA256 sig=\"" KAT_B64 "\""));           /* missing kms */
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"k\", kms=\"k\", sig=\"" KAT_B64 "\""));
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"k\", KMS=\"j\", sig=\"" KAT_B64 "\""));
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"k\", sig=\"" KAT_B64 "\", sig=\"" KAT_B64 "\""));
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"k\", sig=\"" KAT_B64 "\", alg=\"x\""));
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"k\", sig=\"" KAT_B64 "\", ks=\"x\""));
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"k\", sig=\"" KAT_B64 "\","));     /* trailing , */
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"k\",, sig=\"" KAT_B64 "\""));     /* empty element */
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"k\" sig=\"" KAT_B64 "\""));       /* no comma */
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=k, sig=\"" KAT_B64 "\""));          /* unquoted */
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"k, sig=\"" KAT_B64 "\""));        /* quote soup */
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"k\", sig=\"" KAT_B64));           /* unterminated */
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"k\", sig"));
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"k\", =\"x\", sig=\"" KAT_B64 "\""));
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"\", sig=\"" KAT_B64 "\""));       /* empty kms */
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"a b\", sig=\"" KAT_B64 "\""));    /* space */
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"a\\\\b\", sig=\"" KAT_B64 "\"")); /* backslash */
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"a\x01\", sig=\"" KAT_B64 "\""));  /* control */
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"\xc3\xa9\", sig=\"" KAT_B64 "\"")); /* non-ASCII */
  ck_assert(!parses("CDIV-HMAC-SHA256 kms=\"k\", sig=\"" KAT_B64 "\" x"));
  /* a kms id of 128 characters is one too many */
  char v[400], id[CD_AUTH_KMS_ID_MAX + 1];
  memset(id, 'k', CD_AUTH_KMS_ID_MAX);
  id[CD_AUTH_KMS_ID_MAX] = '\0';
  snprintf(v, sizeof v, "CDIV-HMAC-SHA256 kms=\"%s\", sig=\"%s\"", id, KAT_B64);
  ck_assert(!parses(v));
}
END_TEST

static bool parses_sig(const char *b64)
{
  char v[256];
  snprintf(v, sizeof v, "CDIV-HMAC-SHA256 kms=\"k\", sig=\"%s\"", b64);
  return parses(v);
}

START_TEST(header_bad_signature)
{
  unsigned char raw[CD_AUTH_SIG_LEN];
  char b64[64];
  memset(raw, 0xa5, sizeof raw);
  cd_auth_sig_base64(raw, b64);
  ck_assert_str_eq(b64, "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU=");
  ck_assert(parses_sig(b64));
  ck_assert(parses_sig(KAT_B64));
  ck_assert(!parses_sig("paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpQ=="));   /* 31 bytes */
  ck_assert(!parses_sig("paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWl"));   /* 33 bytes */
  ck_assert(!parses_sig("W/kG2ddObDHXzJLsYPnSSsUj/YwOgL/eAfPNyQJrvPQ"));    /* no padding */
  ck_assert(!parses_sig("W/kG2ddObDHXzJLsYPnSSsUj/YwOgL/eAfPNyQJrvPR="));   /* non-canonical */
  ck_assert(!parses_sig("W/kG2ddObDHXzJLsYPnSSsUj/YwOgL/eAfPNyQJrvP*="));   /* bad char */
  ck_assert(!parses_sig("W_kG2ddObDHXzJLsYPnSSsUj_YwOgL_eAfPNyQJrvPQ="));   /* base64url */
  ck_assert(!parses_sig(" W/kG2ddObDHXzJLsYPnSSsUj/YwOgL/eAfPNyQJrvPQ="));  /* space */
  ck_assert(!parses_sig("W/kG2ddObDHXzJLsYPnSSsUj/YwOgL/eAfPNyQJrvPQ=AAAA"));
  ck_assert(!parses_sig("W/kG2ddObDHXzJLsYPnSSsUj/YwOgL/eAfPNyQJrv=Q="));
  ck_assert(!parses_sig(""));
  ck_assert(!parses_sig("===="));
}
END_TEST

START_TEST(header_huge_input)
{
  size_t n = 1 << 20;
  char *v = malloc(n + 1);
  memcpy(v, "CDIV-HMAC-SHA256 kms=\"", 22);
  memset(v + 22, 'k', n - 22);
  v[n] = '\0';
  ck_assert(!parses(v));                        /* also never terminated */
  snprintf(v, n, "CDIV-HMAC-SHA256 kms=\"k\", sig=\"%s\"", KAT_B64);
  size_t len = strlen(v);
  memset(v + len, ' ', 2000);                   /* valid but absurdly padded */
  v[len + 2000] = '\0';
  ck_assert(!parses(v));
  free(v);
}
END_TEST

/* ------------------------------------------------------------- misc */

START_TEST(freshness_window)
{
  long now = 1700000000;
  ck_assert(cd_auth_fresh(now, now));
  ck_assert(cd_auth_fresh(now + 30, now));
  ck_assert(cd_auth_fresh(now - 30, now));
  ck_assert(!cd_auth_fresh(now + 31, now));
  ck_assert(!cd_auth_fresh(now - 31, now));
  ck_assert(!cd_auth_fresh(LLONG_MAX, now));
  ck_assert(!cd_auth_fresh(LLONG_MIN, now));
  ck_assert(!cd_auth_fresh(LLONG_MIN, LONG_MAX));
  ck_assert(!cd_auth_fresh(LLONG_MAX, LONG_MIN));
  ck_assert(cd_auth_fresh(LLONG_MAX - 30, LONG_MAX));
}
END_TEST

START_TEST(key_from_hex)
{
  unsigned char k[CD_AUTH_KEY_LEN], want[CD_AUTH_KEY_LEN];
  for (int i = 0; i < CD_AUTH_KEY_LEN; i++)
    want[i] = (unsigned char)i;
  ck_assert_int_eq(cd_auth_key_from_hex(KEY_HEX, k), 0);
  ck_assert_mem_eq(k, want, sizeof k);
  ck_assert_int_eq(cd_auth_key_from_hex(
      "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", k), 0);
  ck_assert_mem_eq(k, want, sizeof k);
  memset(k, 0x55, sizeof k);
  ck_assert_int_eq(cd_auth_key_from_hex(
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1", k), -1);  /* 63 */
  ck_assert_int_eq(cd_auth_key_from_hex(KEY_HEX "0", k), -1);                     /* 65 */
  ck_assert_int_eq(cd_auth_key_from_hex(
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g", k), -1);
  ck_assert_int_eq(cd_auth_key_from_hex(
      " 00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", k), -1);
  ck_assert_int_eq(cd_auth_key_from_hex("", k), -1);
  ck_assert_int_eq(cd_auth_key_from_hex(NULL, k), -1);
  unsigned char untouched[CD_AUTH_KEY_LEN];
  memset(untouched, 0x55, sizeof untouched);
  ck_assert_mem_eq(k, untouched, sizeof k);    /* failures leave the key alone */
}
END_TEST

/* ------------------------------------------------------------- replay */

START_TEST(replay_new_repeat_other_kms)
{
  struct cd_replay_cache *c = cd_replay_create(16);
  ck_assert_int_eq(cd_replay_check(c, "kms1", "inquiry-1", 1000), 0);
  ck_assert_int_eq(cd_replay_check(c, "kms1", "inquiry-1", 1000), 1);
  ck_assert_int_eq(cd_replay_check(c, "kms1", "inquiry-1", 1030), 1);
  ck_assert_int_eq(cd_replay_check(c, "kms2", "inquiry-1", 1000), 0);   /* other KMS */
  ck_assert_int_eq(cd_replay_check(c, "kms1", "inquiry-2", 1000), 0);
  /* the separator matters: ("kms1", "x") is not ("kms1x", "") */
  ck_assert_int_eq(cd_replay_check(c, "kms1i", "nquiry-1", 1000), 0);
  ck_assert_uint_eq(cd_replay_size(c), 4);
  cd_replay_destroy(c);
}
END_TEST

START_TEST(replay_expiry)
{
  /* Seen at t: a timestamp up to t + 30 is fresh until t + 60, so the pair
   * is remembered through t + 60 and forgotten at t + 61. */
  struct cd_replay_cache *c = cd_replay_create(16);
  ck_assert_int_eq(cd_replay_check(c, "kms1", "inquiry-1", 1000), 0);
  ck_assert_int_eq(cd_replay_check(c, "kms1", "inquiry-2", 1010), 0);
  ck_assert_int_eq(cd_replay_check(c, "kms1", "inquiry-1", 1060), 1);
  ck_assert_uint_eq(cd_replay_size(c), 2);
  ck_assert_int_eq(cd_replay_check(c, "kms1", "inquiry-1", 1061), 0);   /* re-remembered */
  ck_assert_int_eq(cd_replay_check(c, "kms1", "inquiry-2", 1061), 1);
  ck_assert_int_eq(cd_replay_check(c, "kms1", "inquiry-2", 1071), 0);
  ck_assert_uint_eq(cd_replay_size(c), 2);
  ck_assert_int_eq(cd_replay_check(c, "kms9", "other-id", 5000), 0);    /* all gone */
  ck_assert_uint_eq(cd_replay_size(c), 1);
  cd_replay_destroy(c);
}
END_TEST

START_TEST(replay_full_cache_refuses)
{
  struct cd_replay_cache *c = cd_replay_create(3);
  ck_assert_int_eq(cd_replay_check(c, "k", "id-00001", 1000), 0);
  ck_assert_int_eq(cd_replay_check(c, "k", "id-00002", 1001), 0);
  ck_assert_int_eq(cd_replay_check(c, "k", "id-00003", 1002), 0);
  ck_assert_int_eq(cd_replay_check(c, "k", "id-00004", 1002), -1);
  ck_assert_int_eq(cd_replay_check(c, "k", "id-00001", 1002), 1);       /* still known */
  ck_assert_uint_eq(cd_replay_size(c), 3);
  ck_assert_int_eq(cd_replay_check(c, "k", "id-00004", 1061), 0);       /* id-1 expired */
  ck_assert_int_eq(cd_replay_check(c, "k", "id-00005", 1061), -1);
  ck_assert_int_eq(cd_replay_check(NULL, "k", "x", 1), -1);
  ck_assert_int_eq(cd_replay_check(c, NULL, "x", 1), -1);
  ck_assert_ptr_null(cd_replay_create(0));
  cd_replay_destroy(c);
  cd_replay_destroy(NULL);
}
END_TEST

START_TEST(replay_many_wraps_the_ring)
{
  /* Thousands of ids over simulated hours: the ring wraps many times and
   * the set's deletions must keep every live id findable. */
  struct cd_replay_cache *c = cd_replay_create(1000);
  char id[32];
  for (long i = 0; i < 20000; i++) {
    long now = 1000 + i / 10;                   /* 10 per second: 610 live */
    snprintf(id, sizeof id, "id-%08ld", i);
    ck_assert_int_eq(cd_replay_check(c, "kms", id, now), 0);
    if (i >= 600) {
      snprintf(id, sizeof id, "id-%08ld", i - 600);
      ck_assert_int_eq(cd_replay_check(c, "kms", id, now), 1);
    }
  }
  ck_assert_uint_le(cd_replay_size(c), 1000);
  cd_replay_destroy(c);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("inquiry_auth");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, known_answer);
  tcase_add_test(tc, sign_verify_round_trip);
  tcase_add_test(tc, any_flipped_bit_fails);
  tcase_add_test(tc, header_good);
  tcase_add_test(tc, header_bad_scheme);
  tcase_add_test(tc, header_bad_params);
  tcase_add_test(tc, header_bad_signature);
  tcase_add_test(tc, header_huge_input);
  tcase_add_test(tc, freshness_window);
  tcase_add_test(tc, key_from_hex);
  tcase_add_test(tc, replay_new_repeat_other_kms);
  tcase_add_test(tc, replay_expiry);
  tcase_add_test(tc, replay_full_cache_refuses);
  tcase_add_test(tc, replay_many_wraps_the_ring);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
