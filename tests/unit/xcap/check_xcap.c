/*
 * Unit tests for the XCAP URI (src/xcap/uri.c) and HTTP Digest
 * (src/xcap/digest.c): the RFC 7616 examples, nonces fresh, stale and
 * forged, and the document URIs phones send.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "xcap/digest.h"
#include "xcap/uri.h"

START_TEST(document_uris)
{
  struct cd_xcap_uri u;
  const char *why = NULL;
  ck_assert_int_eq(cd_xcap_uri_parse("simservs.ngn.etsi.org/users/sip:bob@ims.example.net/simservs.xml", NULL,
                                     &u, &why), 0);
  ck_assert_str_eq(u.xui, "sip:bob@ims.example.net");
  ck_assert_ptr_null(u.selector);
  ck_assert_ptr_null(u.query);
  cd_xcap_uri_free(&u);
  /* as Sofia-SIP leaves an encoded one: some escapes decoded, others not */
  ck_assert_int_eq(cd_xcap_uri_parse("simservs.ngn.etsi.org/users/sip:bob%40ims.example.net/simservs.xml/~~/"
                                     "simservs/communication-diversion/cp:ruleset/cp:rule%5B@id=%22a%20b%22%5D",
                                     "xmlns(cp=urn:ietf:params:xml:ns:common-policy)", &u, &why), 0);
  ck_assert_str_eq(u.xui, "sip:bob@ims.example.net");
  ck_assert_str_eq(u.selector, "simservs/communication-diversion/cp:ruleset/cp:rule[@id=\"a b\"]");
  ck_assert_str_eq(u.query, "xmlns(cp=urn:ietf:params:xml:ns:common-policy)");
  cd_xcap_uri_free(&u);
  ck_assert_int_eq(cd_xcap_uri_parse("simservs.ngn.etsi.org/users/tel:+15551000002/simservs.xml/~~/simservs", NULL,
                                     &u, &why), 0);
  ck_assert_str_eq(u.xui, "tel:+15551000002");
  ck_assert_str_eq(u.selector, "simservs");
  cd_xcap_uri_free(&u);
  /* an XUI that itself holds /simservs.xml */
  ck_assert_int_eq(cd_xcap_uri_parse("simservs.ngn.etsi.org/users/sip:a%2Fsimservs.xml@h/simservs.xml", NULL,
                                     &u, &why), 0);
  ck_assert_str_eq(u.xui, "sip:a/simservs.xml@h");
  cd_xcap_uri_free(&u);
  const char *bad[] = {
    "org.etsi.ngn.simservs/users/sip:bob@h/simservs.xml", "simservs.ngn.etsi.org/global/index",
    "simservs.ngn.etsi.org/users/sip:bob@h/index", "simservs.ngn.etsi.org/users//simservs.xml",
    "simservs.ngn.etsi.org/users/sip:bob@h/simservs.xml/~~/", "simservs.ngn.etsi.org/users/sip:bob%4@h/simservs.xml",
    "simservs.ngn.etsi.org/users/sip:bob%00@h/simservs.xml", "simservs.ngn.etsi.org/users/sip:bob@h/simservs.xmlx",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_msg(cd_xcap_uri_parse(bad[i], NULL, &u, &why) < 0, "accepted %s", bad[i]);
    ck_assert_ptr_null(u.xui);
  }
  ck_assert_int_eq(cd_xcap_uri_parse("simservs.ngn.etsi.org/users/sip:b@h/simservs.xml", "x%zz", &u, &why), -1);
  ck_assert_str_eq(why, "bad %-escape in the query");
}
END_TEST

/* RFC 7616 3.9.1 */
static const char *const rfc_params[] = {
  "username=\"Mufasa\"", "realm=\"http-auth@example.org\"", "uri=\"/dir/index.html\"",
  "algorithm=MD5", "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\"", "nc=00000001",
  "cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\"", "qop=auth",
  "response=\"8ca523f5e9506fed4657c9700eebdbec\"", "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
  NULL,
};

START_TEST(rfc7616_examples)
{
  struct cd_digest_credentials c;
  ck_assert_int_eq(cd_digest_parse(rfc_params, &c), 0);
  ck_assert_str_eq(c.username, "Mufasa");
  ck_assert_str_eq(c.uri, "/dir/index.html");
  ck_assert(cd_digest_verify(&c, "GET", "Circle of Life"));
  ck_assert(!cd_digest_verify(&c, "GET", "Circle of life"));
  ck_assert(!cd_digest_verify(&c, "PUT", "Circle of Life"));
  strcpy(c.algorithm, "SHA-256");
  strcpy(c.response, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
  ck_assert(cd_digest_verify(&c, "GET", "Circle of Life"));
  strcpy(c.algorithm, "SHA-512-256");
  ck_assert(!cd_digest_verify(&c, "GET", "Circle of Life"));
  strcpy(c.algorithm, "SHA-256");
  strcpy(c.qop, "auth-int");
  ck_assert(!cd_digest_verify(&c, "GET", "Circle of Life"));
  strcpy(c.qop, "auth");
  c.userhash = true;
  ck_assert(!cd_digest_verify(&c, "GET", "Circle of Life"));
  /* missing fields */
  const char *const lacking[] = { "username=\"Mufasa\"", "nonce=\"x\"", "uri=\"/\"", NULL };
  ck_assert_int_eq(cd_digest_parse(lacking, &c), -1);
  const char *const escaped[] = { "username=\"a\\\"b\"", "nonce=x", "uri=/", "response=r", NULL };
  ck_assert_int_eq(cd_digest_parse(escaped, &c), 0);
  ck_assert_str_eq(c.username, "a\"b");
}
END_TEST

START_TEST(nonces)
{
  unsigned char secret[CD_DIGEST_SECRET_LEN], other[CD_DIGEST_SECRET_LEN];
  memset(secret, 7, sizeof secret);
  memset(other, 8, sizeof other);
  char n[CD_DIGEST_NONCE_LEN + 1];
  cd_digest_nonce(secret, "realm", 1000000, n);
  ck_assert_uint_eq(strlen(n), CD_DIGEST_NONCE_LEN);
  ck_assert_int_eq(cd_digest_nonce_check(secret, "realm", n, 1000000), 0);
  ck_assert_int_eq(cd_digest_nonce_check(secret, "realm", n, 1000000 + CD_DIGEST_NONCE_LIFETIME), 0);
  ck_assert_int_eq(cd_digest_nonce_check(secret, "realm", n, 1000001 + CD_DIGEST_NONCE_LIFETIME), 1);
  ck_assert_int_eq(cd_digest_nonce_check(secret, "realm", n, 1000000 - 60), -1);   /* from the future */
  ck_assert_int_eq(cd_digest_nonce_check(other, "realm", n, 1000000), -1);
  ck_assert_int_eq(cd_digest_nonce_check(secret, "other realm", n, 1000000), -1);
  n[5] = n[5] == 'A' ? 'B' : 'A';
  ck_assert_int_eq(cd_digest_nonce_check(secret, "realm", n, 1000000), -1);
  ck_assert_int_eq(cd_digest_nonce_check(secret, "realm", "short", 1000000), -1);
  ck_assert_int_eq(cd_digest_nonce_check(secret, "realm", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", 1000000), -1);
  char *ch = cd_digest_challenge(secret, "xcap.example.net", 1000000, true);
  cd_digest_nonce(secret, "xcap.example.net", 1000000, n);
  ck_assert_ptr_nonnull(strstr(ch, "WWW-Authenticate: Digest realm=\"xcap.example.net\", qop=\"auth\", "
                                   "algorithm=SHA-256, nonce=\""));
  ck_assert_ptr_nonnull(strstr(ch, n));
  ck_assert_ptr_nonnull(strstr(ch, "algorithm=MD5"));
  ck_assert_ptr_nonnull(strstr(ch, "stale=true\r\n"));
  free(ch);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("xcap");
  TCase *tc = tcase_create("uri and digest");
  tcase_add_test(tc, document_uris);
  tcase_add_test(tc, rfc7616_examples);
  tcase_add_test(tc, nonces);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
