/*
 * check_identity.c - unit tests for src/identity.c (canonical identity
 * keys and P-Served-User parsing).
 *
 * Each malformed input is checked for both the -1 and its explanation, so
 * a refactor that rejects for the wrong reason is caught too.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/identity.h"

/* Asserts that `uri` has key `want`. */
#define ck_key(uri, want)                                                      \
  do {                                                                         \
    char key_[CD_IDENTITY_KEY_MAX];                                            \
    const char *why_ = NULL;                                                   \
    int rc_ = cd_identity_key((uri), key_, &why_);                             \
    ck_assert_msg(rc_ == 0, "%s: rejected (%s)", (uri), why_ ? why_ : "?");   \
    ck_assert_str_eq(key_, (want));                                            \
  } while (0)

/* Asserts that `uri` is refused with explanation `want_why`. */
#define ck_bad(uri, want_why)                                                  \
  do {                                                                         \
    char key_[CD_IDENTITY_KEY_MAX];                                            \
    const char *why_ = NULL;                                                   \
    memset(key_, 'x', sizeof key_);                                            \
    int rc_ = cd_identity_key((uri), key_, &why_);                             \
    ck_assert_msg(rc_ == -1, "%s: accepted as %s", (uri), key_);              \
    ck_assert_ptr_nonnull(why_);                                               \
    ck_assert_str_eq(why_, (want_why));                                        \
    ck_assert_str_eq(key_, "");                                                \
  } while (0)

static char *repeat(char c, size_t n) {
  char *s = malloc(n + 1);
  ck_assert_ptr_nonnull(s);
  memset(s, c, n);
  s[n] = '\0';
  return s;
}

START_TEST(test_sip_basic) {
  ck_key("sip:bob@ims.example.net", "sip:bob@ims.example.net");
  ck_key("sip:Bob@IMS.example.net:5060;transport=tcp", "sip:Bob@ims.example.net");
  ck_key("SIPS:Bob@ims.example.net", "sip:Bob@ims.example.net");
  ck_key("sIp:bob@H", "sip:bob@h");
  ck_key("sip:ims.example.net", "sip:ims.example.net");
  ck_key("sip:ims.example.net:5061;lr", "sip:ims.example.net");
  ck_key("sip:bob@h?Subject=hi&Priority=urgent", "sip:bob@h");
  ck_key("sip:bob@h;maddr=10.0.0.1?Subject=x", "sip:bob@h");
  ck_key("sip:bob@192.0.2.1:5060", "sip:bob@192.0.2.1");
}
END_TEST

START_TEST(test_sip_userinfo) {
  ck_key("sip:bob:secret@h", "sip:bob@h");
  ck_key("sip:bob:@h", "sip:bob@h");
  ck_key("sip:b%6Fb@h", "sip:bob@h");
  ck_key("sip:%41lice@h", "sip:Alice@h");
  ck_key("sip:a%2540b@h", "sip:a%40b@h");
  ck_key("sip:j%C3%B6rg@h", "sip:j\xc3\xb6rg@h");
  ck_key("sip:+15551000002@h", "sip:+15551000002@h");
  ck_key("sip:a;b=c@h", "sip:a;b=c@h");
  ck_bad("sip:@h", "empty user part");
  ck_bad("sip::pw@h", "empty user part");
  ck_bad("sip:b%6@h", "bad %-escape in user part");
  ck_bad("sip:b%zz@h", "bad %-escape in user part");
  ck_bad("sip:b%@h", "bad %-escape in user part");
  ck_bad("sip:b%00b@h", "control character in user part");
  ck_bad("sip:b%0Ab@h", "control character in user part");
  ck_bad("<sip:a<b@h>", "bad character in user part");
  ck_bad("sip:a<b@h", "unterminated <");
  ck_bad("sip:bob:p{w@h", "bad character in password");
}
END_TEST

START_TEST(test_sip_host) {
  ck_key("sip:bob@[2001:DB8::1]:5060;transport=udp", "sip:bob@[2001:db8::1]");
  ck_key("sip:[::1]", "sip:[::1]");
  ck_bad("sip:bob@", "empty host");
  ck_bad("sip:", "empty host");
  ck_bad("sip:bob@:5060", "empty host");
  ck_bad("sip:bob@;user=phone", "empty host");
  ck_bad("sip:bob@[]", "empty host");
  ck_bad("sip:bob@[2001:db8::1", "unterminated [ in host");
  ck_bad("sip:bob@[2001:zz::1]", "bad IPv6 reference");
  ck_bad("sip:bob@[::1]x", "bad character in host");
  ck_bad("sip:bob@h_x", "bad character in host");
  ck_bad("sip:bob@_h", "bad character in host");
  ck_bad("sip:bob@h:", "bad port");
  ck_bad("sip:bob@h:abc", "bad port");
  ck_bad("sip:bob@h:99999", "bad port");
  ck_bad("sip:bob@h:1234567", "bad port");
  ck_bad("<sip:bob@h;a<b>", "bad character in URI parameters");
  ck_bad("sip:bob@h;a\"b", "unterminated quoted string");
  ck_bad("sip:bob@h;a=\"b\"", "display name without <URI>");
  ck_bad("sip:bob@h;a=%g1", "bad %-escape in URI parameters");
  ck_bad("sip:bob@h?a={b}", "bad character in URI headers");
  ck_bad("sip:bob@h?a=%2", "bad %-escape in URI headers");
}
END_TEST

START_TEST(test_name_addr) {
  ck_key("<sip:Bob@ims.example.net>", "sip:Bob@ims.example.net");
  ck_key("\"Bob\" <sip:bob@h>;tag=x", "sip:bob@h");
  ck_key("Bob Smith <sip:bob@h:5060;transport=tcp>;tag=1", "sip:bob@h");
  ck_key("\"a <b> c\" <sip:x@h>", "sip:x@h");
  ck_key("\"a > b\" <sip:x@h>", "sip:x@h");
  ck_key("\"quote \\\" <sip:y@z>\" <sip:x@h>", "sip:x@h");
  ck_key("\"J\xc3\xb6rg\" <sip:x@h>", "sip:x@h");
  ck_key("<sip:x@h> trailing ; junk > <", "sip:x@h");
  ck_key("<sip:+1-555-100-0002@h;user=phone>;tag=9", "tel:+15551000002");
  ck_bad("\"Bob <sip:bob@h>", "unterminated quoted string");
  ck_bad("\"Bob\\\" <sip:bob@h>", "unterminated quoted string");
  ck_bad("\"Bob\"", "display name without <URI>");
  ck_bad("<sip:bob@h", "unterminated <");
  ck_bad("Bob <", "unterminated <");
  ck_bad("<>", "empty URI");
  ck_bad("a>b <sip:x@h>", "> without <");
  ck_bad("<sip:bob@h >", "whitespace in URI");
  ck_bad("< sip:bob@h>", "whitespace in URI");
  ck_bad("\"\xff\" <sip:x@h>", "invalid UTF-8");
  ck_bad("\"\xc3\" <sip:x@h>", "invalid UTF-8");
  ck_bad("\"\xed\xa0\x80\" <sip:x@h>", "invalid UTF-8");
}
END_TEST

START_TEST(test_user_phone) {
  ck_key("sip:+1-555-100-0002;npdi@host;user=phone", "tel:+15551000002");
  ck_key("sip:+15551000002@host;USER=Phone", "tel:+15551000002");
  ck_key("sip:+1(555)100.0002@host;transport=udp;user=phone;lr", "tel:+15551000002");
  ck_key("sip:+1%20555%201000002@host;user=phone", "tel:+15551000002");
  ck_key("sip:1234;phone-context=example.com@h;user=phone", "tel:1234;phone-context=example.com");
  ck_key("sip:1234;phone-context=%2B49-30@h;user=phone", "tel:+49301234");
  ck_key("sip:*31%23ab@h;user=phone", "tel:*31#AB");
  ck_bad("sip:*31#@h;user=phone", "bad character in user part");
  /* Not a telephone number: stays a SIP identity. */
  ck_key("sip:alice@h;user=phone", "sip:alice@h");
  ck_key("sip:+1-555@h;user=phones", "sip:+1-555@h");
  ck_key("sip:+@h;user=phone", "sip:+@h");
  ck_key("sip:12+3@h;user=phone", "sip:12+3@h");
  ck_key("sip:h;user=phone", "sip:h");
  /* Without user=phone the user part is a plain user name. */
  ck_key("sip:+15551000002@h", "sip:+15551000002@h");
}
END_TEST

START_TEST(test_tel) {
  ck_key("tel:+1-555-100-0002;phone-context=ims.example.net", "tel:+15551000002");
  ck_key("TEL:+1(555)100.0002", "tel:+15551000002");
  /* A local number is one only within its phone-context (RFC 3966 5.1.5):
   * a global-digits context is its prefix, a domain is kept. */
  ck_key("tel:1234;phone-context=Example.COM", "tel:1234;phone-context=example.com");
  ck_key("tel:1234;phone-context=+49-30", "tel:+49301234");
  ck_key("tel:12-34;isub=1;phone-context=+4930", "tel:+49301234");
  ck_key("tel:1234", "tel:1234");
  ck_bad("tel:1234;phone-context=+x", "bad character in telephone number");
  /* Found by fuzz_identity: a decoded "@" in the key did not parse again. */
  ck_bad("tel:555.100;phone-context=%40", "bad character in telephone number");
  ck_bad("sip:1234;phone-context=a%00b@h;user=phone", "control character in user part");
  ck_key("tel:*31#", "tel:*31#");
  ck_key("tel:12ab", "tel:12AB");
  ck_key("<tel:+15551000002>;tag=x", "tel:+15551000002");
  ck_bad("tel:+", "telephone number without digits");
  ck_bad("tel:", "telephone number without digits");
  ck_bad("tel:-().", "telephone number without digits");
  ck_bad("tel:*#", "telephone number without digits");
  ck_bad("tel:12e", "bad character in telephone number");
  ck_bad("tel:1+2", "bad character in telephone number");
  ck_bad("tel:bob@h", "bad character in telephone number");
  ck_bad("tel:+1 555", "whitespace in URI");
  ck_bad("<tel:+1;a<b>", "bad character in URI parameters");
  ck_bad("tel:+1;a{b", "bad character in URI parameters");
}
END_TEST

START_TEST(test_same_user) {
  static const char *bob[] = {
      "sip:Bob@IMS.example.net:5060;transport=tcp", "sips:Bob@ims.example.net",
      "<sip:Bob@ims.example.net>", "\"Bob\" <sips:B%6fb@ims.EXAMPLE.net;lr>;tag=1",
  };
  char first[CD_IDENTITY_KEY_MAX], other[CD_IDENTITY_KEY_MAX];
  ck_assert_int_eq(cd_identity_key(bob[0], first, NULL), 0);
  for (size_t i = 1; i < sizeof bob / sizeof bob[0]; i++) {
    ck_assert_int_eq(cd_identity_key(bob[i], other, NULL), 0);
    ck_assert_str_eq(first, other);
  }
  ck_assert_int_eq(cd_identity_key("tel:+1-555-100-0002", first, NULL), 0);
  ck_assert_int_eq(cd_identity_key("sip:+15551000002@host;user=phone", other, NULL), 0);
  ck_assert_str_eq(first, other);
  /* The user part keeps its case. */
  ck_assert_int_eq(cd_identity_key("sip:bob@h", first, NULL), 0);
  ck_assert_int_eq(cd_identity_key("sip:Bob@h", other, NULL), 0);
  ck_assert_str_ne(first, other);
}
END_TEST

START_TEST(test_bad_general) {
  ck_bad("", "empty identity");
  ck_bad("  \t ", "empty identity");
  ck_bad("http://example.com/", "unknown URI scheme");
  ck_bad("mailto:bob@h", "unknown URI scheme");
  ck_bad(":bob@h", "unknown URI scheme");
  ck_bad("bob@h", "missing URI scheme");
  ck_bad("sip:bob @h", "whitespace in URI");
  ck_bad("sip:bob\t@h", "whitespace in URI");
  ck_bad("sip:bob\x01@h", "control character");
  ck_bad("sip:bob@h\r\nX: y", "control character");
  ck_bad("sip:bob\x7f@h", "control character");
  ck_bad("sip:b\xc3\xa9@h", "non-ASCII byte in URI");
  ck_bad("sip:b\xff@h", "invalid UTF-8");
  ck_key("  sip:bob@h \t\r\n", "sip:bob@h");
  ck_key("\t<sip:bob@h>  ", "sip:bob@h");
}
END_TEST

START_TEST(test_null_args) {
  char key[CD_IDENTITY_KEY_MAX];
  const char *why = NULL;
  ck_assert_int_eq(cd_identity_key(NULL, key, &why), -1);
  ck_assert_ptr_nonnull(why);
  ck_assert_int_eq(cd_identity_key("sip:a@b", NULL, &why), -1);
  ck_assert_int_eq(cd_identity_key("bogus", key, NULL), -1);
  ck_assert_int_eq(cd_identity_key("sip:a@b", key, NULL), 0);
}
END_TEST

START_TEST(test_length_bounds) {
  char key[CD_IDENTITY_KEY_MAX];
  const char *why = NULL;
  /* "sip:" + user + "@h": the longest key has CD_IDENTITY_KEY_MAX-1 bytes. */
  size_t fits = CD_IDENTITY_KEY_MAX - 1 - strlen("sip:@h");
  char *user = repeat('u', fits);
  char uri[2 * CD_IDENTITY_KEY_MAX];
  snprintf(uri, sizeof uri, "sip:%s@h", user);
  ck_assert_int_eq(cd_identity_key(uri, key, &why), 0);
  ck_assert_uint_eq(strlen(key), CD_IDENTITY_KEY_MAX - 1);
  snprintf(uri, sizeof uri, "sip:%su@h", user);
  ck_bad(uri, "identity too long");
  free(user);

  /* Escapes shrink when decoded: the bound is on the key, not the input. */
  char *esc = malloc(3 * 200 + 16);
  ck_assert_ptr_nonnull(esc);
  strcpy(esc, "sip:");
  for (int i = 0; i < 200; i++) strcat(esc, "%61");
  strcat(esc, "@h");
  ck_assert_int_eq(cd_identity_key(esc, key, &why), 0);
  ck_assert_uint_eq(strlen(key), 4 + 200 + 2);
  free(esc);

  char *digits = repeat('1', 300);
  snprintf(uri, sizeof uri, "tel:+%.300s", digits);
  ck_bad(uri, "identity too long");
  free(digits);

  char *huge = repeat('a', 1 << 20);
  memcpy(huge, "sip:", 4);
  ck_bad(huge, "identity too long");
  huge[1000] = '@';
  ck_bad(huge, "identity too long");
  free(huge);

  /* A long display name is fine as long as the whole input is bounded. */
  char *named = repeat('N', 4000);
  char *value = malloc(4000 + 32);
  ck_assert_ptr_nonnull(value);
  snprintf(value, 4000 + 32, "%s <sip:bob@h>", named);
  ck_assert_int_eq(cd_identity_key(value, key, &why), 0);
  ck_assert_str_eq(key, "sip:bob@h");
  free(named);
  free(value);
}
END_TEST

START_TEST(test_key_n) {
  char key[CD_IDENTITY_KEY_MAX];
  const char *why = NULL;
  ck_assert_int_eq(cd_identity_key_n("sip:bob@h;junk", 9, key, &why), 0);
  ck_assert_str_eq(key, "sip:bob@h");
  /* An exact-size heap buffer without a NUL: any over-read trips ASan. */
  static const char *inputs[] = {
      "sip:bob@h", "<sip:bob@h>", "\"x\" <sip:bob@h", "\"unterminated", "sip:b%4",
      "sip:bob@[::1", "tel:+1-555", "sip:+1;x@h;user=phone", "sip:bob@h:50", "<",
      "sip:bob@h;user=phone?x=%4",
  };
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    size_t n = strlen(inputs[i]);
    for (size_t len = 0; len <= n; len++) {
      char *buf = malloc(len ? len : 1);
      ck_assert_ptr_nonnull(buf);
      memcpy(buf, inputs[i], len);
      (void)cd_identity_key_n(buf, len, key, &why);
      free(buf);
    }
  }
  ck_assert_int_eq(cd_identity_key_n("sip:a\0b@h", 9, key, &why), -1);
  ck_assert_str_eq(why, "control character");
}
END_TEST

START_TEST(test_secure_uri) {
  char out[64];
  ck_assert_int_eq(cd_identity_secure_uri("sip:carol@ims.example.net;user=phone", out, sizeof out), 0);
  ck_assert_str_eq(out, "sips:carol@ims.example.net;user=phone");
  ck_assert_int_eq(cd_identity_secure_uri("SIPS:carol@h", out, sizeof out), 0);
  ck_assert_str_eq(out, "sips:carol@h");
  ck_assert_int_eq(cd_identity_secure_uri("tel:+4930123", out, sizeof out), -1);
  ck_assert_int_eq(cd_identity_secure_uri("sip:a-rather-long-user-name-for-the-buffer@ims.example.net", out, 16), -1);
  ck_assert_int_eq(cd_identity_secure_uri(NULL, out, sizeof out), -1);
}
END_TEST

START_TEST(test_served_user) {
  char key[CD_IDENTITY_KEY_MAX];
  struct cd_served_params p = { CD_REGSTATE_REG, CD_SESCASE_ORIG };
  const char *why = NULL;

  ck_assert_int_eq(cd_served_user_parse("<sip:bob@ims.example.net>;sescase=term;regstate=unreg",
                                        key, &p, &why), 0);
  ck_assert_str_eq(key, "sip:bob@ims.example.net");
  ck_assert_int_eq(p.regstate, CD_REGSTATE_UNREG);
  ck_assert_int_eq(p.sescase, CD_SESCASE_TERM);

  ck_assert_int_eq(cd_served_user_parse("\"Bob <B>\" <sips:Bob@IMS.example.net:5061> ; "
                                        "SesCase=orig ; RegState=REG", key, &p, &why), 0);
  ck_assert_str_eq(key, "sip:Bob@ims.example.net");
  ck_assert_int_eq(p.regstate, CD_REGSTATE_REG);
  ck_assert_int_eq(p.sescase, CD_SESCASE_ORIG);

  ck_assert_int_eq(cd_served_user_parse("<sip:bob@h>;regstate=maybe", key, &p, &why), 0);
  ck_assert_int_eq(p.regstate, CD_REGSTATE_UNKNOWN);
  p.regstate = CD_REGSTATE_REG;
  ck_assert_int_eq(cd_served_user_parse("<sip:bob@h>", key, &p, &why), 0);
  ck_assert_int_eq(p.regstate, CD_REGSTATE_UNKNOWN);
  ck_assert_int_eq(p.sescase, CD_SESCASE_UNKNOWN);   /* no parameters: the caller decides */
  ck_assert_int_eq(cd_served_user_parse("<sip:bob@h>;sescase=\"ORIG\";sescase=term", key, &p, &why), 0);
  ck_assert_int_eq(p.sescase, CD_SESCASE_TERM);
  ck_assert_int_eq(cd_served_user_parse("<sip:bob@h>;sescase=later", key, &p, &why), 0);
  ck_assert_int_eq(p.sescase, CD_SESCASE_UNKNOWN);
  ck_assert_int_eq(cd_served_user_parse("<sip:bob@h>;regstate", key, &p, &why), 0);
  ck_assert_int_eq(p.regstate, CD_REGSTATE_UNKNOWN);
  ck_assert_int_eq(cd_served_user_parse("<sip:bob@h>;x=\"a;regstate=reg\";regstate=unreg",
                                        key, &p, &why), 0);
  ck_assert_int_eq(p.regstate, CD_REGSTATE_UNREG);

  /* Bare URI: what follows belongs to the header, user=phone included. */
  ck_assert_int_eq(cd_served_user_parse("sip:bob@h;sescase=term;regstate=reg", key, &p, &why), 0);
  ck_assert_str_eq(key, "sip:bob@h");
  ck_assert_int_eq(p.regstate, CD_REGSTATE_REG);
  ck_assert_int_eq(cd_served_user_parse("sip:+15551000002@h;user=phone", key, &p, &why), 0);
  ck_assert_str_eq(key, "sip:+15551000002@h");
  ck_assert_int_eq(cd_served_user_parse("<sip:+15551000002@h;user=phone>;regstate=reg",
                                        key, &p, &why), 0);
  ck_assert_str_eq(key, "tel:+15551000002");
  ck_assert_int_eq(cd_served_user_parse("  tel:+1-555-100-0002  ", key, NULL, &why), 0);
  ck_assert_str_eq(key, "tel:+15551000002");
}
END_TEST

START_TEST(test_served_user_bad) {
  static const struct { const char *value, *why; } bad[] = {
      {"", "empty identity"},
      {"<sip:bob@h", "unterminated <"},
      {"\"Bob <sip:bob@h>", "unterminated quoted string"},
      {"<sip:bob@h> junk", "unexpected text after URI"},
      {"<sip:bob@h>;sescase=term junk", "unexpected text after URI"},
      {"<sip:bob@h>;;regstate=reg", "empty parameter"},
      {"<sip:bob@h>;regstate=", "empty parameter value"},
      {"<sip:bob@h>;x=\"open", "unterminated quoted string"},
      {"<sip:bob@h>;x=<y>", "empty parameter value"},
      {"<http://h>;regstate=reg", "unknown URI scheme"},
      {"<sip:@h>", "empty user part"},
      {"sip:bob@h junk", "whitespace in URI"},
      {"<sip:bob@h>;regstate=reg\x01", "control character"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char key[CD_IDENTITY_KEY_MAX];
    struct cd_served_params p = { CD_REGSTATE_REG, CD_SESCASE_ORIG };
    const char *why = NULL;
    ck_assert_msg(cd_served_user_parse(bad[i].value, key, &p, &why) == -1, "%s accepted",
                  bad[i].value);
    ck_assert_str_eq(why, bad[i].why);
    ck_assert_str_eq(key, "");
    ck_assert_int_eq(p.regstate, CD_REGSTATE_UNKNOWN);
    ck_assert_int_eq(p.sescase, CD_SESCASE_UNKNOWN);
  }
  char key[CD_IDENTITY_KEY_MAX];
  ck_assert_int_eq(cd_served_user_parse(NULL, key, NULL, NULL), -1);
  char *huge = repeat(';', 100000);
  huge[0] = '<';
  ck_assert_int_eq(cd_served_user_parse(huge, key, NULL, NULL), -1);
  free(huge);
}
END_TEST

static Suite *identity_suite(void) {
  Suite *s = suite_create("identity");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_sip_basic);
  tcase_add_test(tc, test_sip_userinfo);
  tcase_add_test(tc, test_sip_host);
  tcase_add_test(tc, test_name_addr);
  tcase_add_test(tc, test_user_phone);
  tcase_add_test(tc, test_tel);
  tcase_add_test(tc, test_same_user);
  tcase_add_test(tc, test_bad_general);
  tcase_add_test(tc, test_null_args);
  tcase_add_test(tc, test_length_bounds);
  tcase_add_test(tc, test_key_n);
  tcase_add_test(tc, test_served_user);
  tcase_add_test(tc, test_secure_uri);
  tcase_add_test(tc, test_served_user_bad);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(identity_suite());
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
