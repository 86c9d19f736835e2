/*
 * check_history_info.c - unit tests for src/history_info.c (RFC 7044
 * History-Info chains with RFC 4458 cause-param).
 *
 * The wire strings of the protocol brief (CFU, CFB, two hops in one call)
 * are reproduced exactly, built only through cd_hi_divert, so a change in
 * formatting or index arithmetic shows up as a diff against the brief.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/history_info.h"
#include "core/identity.h"

#define BOB "sip:bob@ims.example.net"
#define CAROL "sip:carol@ims.example.net"
#define DAVE "sip:dave@ims.example.net"
#define BUSY_REASON "SIP;cause=486;text=\"Busy Here\""

/* The served user is the URI ctx: the entry's key is ctx's key. */
static bool same_uri(const char *key, void *ctx) {
  char want[CD_IDENTITY_KEY_MAX];
  return cd_identity_key(ctx, want, NULL) == 0 && strcmp(key, want) == 0;
}

/* Asserts cd_hi_format(chain, from, private_from) == want. */
static void ck_format(const cd_hi_chain *chain, size_t from, long private_from,
                      const char *want) {
  char *got = cd_hi_format(chain, from, private_from);
  ck_assert_ptr_nonnull(got);
  ck_assert_str_eq(got, want);
  free(got);
}

/* Asserts that parsing `value` into an empty chain fails with `want_why`. */
static void ck_parse_bad(const char *value, const char *want_why) {
  cd_hi_chain chain;
  const char *why = NULL;
  cd_hi_init(&chain);
  ck_assert_msg(cd_hi_parse(&chain, value, &why) == -1, "accepted: %.200s", value);
  ck_assert_ptr_nonnull(why);
  ck_assert_msg(strcmp(why, want_why) == 0, "%.200s: got \"%s\", want \"%s\"", value, why,
                want_why);
  ck_assert_uint_eq(chain.count, 0);
  cd_hi_free(&chain);
}

/* n entries "<sip:uN@x>;index=1.N": siblings, because a chain of children
 * would hit CD_HI_INDEX_MAX long before the entry bound. */
static char *many_entries(size_t n) {
  size_t cap = n * 40 + 1;
  char *s = malloc(cap);
  ck_assert_ptr_nonnull(s);
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(s + len, cap - len, "%s<sip:u%zu@x>;index=1.%zu", i ? ", " : "",
                            i, i + 1);
  return s;
}

START_TEST(test_cfu) {
  cd_hi_chain chain;
  cd_hi_init(&chain);
  long pos = cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 302, NULL, false);
  ck_assert_int_eq(pos, 1);
  ck_assert_uint_eq(chain.count, 2);
  ck_format(&chain, 0, -1,
            "<sip:bob@ims.example.net>;index=1, "
            "<sip:carol@ims.example.net;cause=302>;index=1.1;mp=1");
  ck_assert_str_eq(chain.entries[1].index, "1.1");
  ck_assert_str_eq(chain.entries[1].parent, "1");
  ck_assert_int_eq(chain.entries[1].tag, 'm');
  ck_assert_int_eq(chain.entries[1].cause, 302);
  ck_assert(chain.entries[0].ours && chain.entries[1].ours);
  ck_assert_uint_eq(cd_hi_received(&chain), 0);
  ck_assert_uint_eq(cd_hi_diversions(&chain), 1);
  cd_hi_free(&chain);
}
END_TEST

START_TEST(test_cfb_reason) {
  cd_hi_chain chain;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 486, BUSY_REASON, false), 1);
  ck_format(&chain, 0, -1,
            "<sip:bob@ims.example.net?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%20Here%22>;"
            "index=1, <sip:carol@ims.example.net;cause=486>;index=1.1;mp=1");
  cd_hi_free(&chain);
}
END_TEST

START_TEST(test_two_hops) {
  cd_hi_chain chain;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 302, NULL, true), 1);
  ck_assert_int_eq(cd_hi_divert(&chain, CAROL, same_uri, CAROL, DAVE, 486, BUSY_REASON, false),
                   2);
  ck_format(&chain, 0, -1,
            "<sip:bob@ims.example.net?Privacy=history>;index=1, "
            "<sip:carol@ims.example.net;cause=302?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy"
            "%20Here%22>;index=1.1;mp=1, "
            "<sip:dave@ims.example.net;cause=486>;index=1.1.1;mp=1.1");
  ck_assert_uint_eq(cd_hi_diversions(&chain), 2);
  cd_hi_free(&chain);
}
END_TEST

START_TEST(test_received_served_last) {
  static const char *in =
      "<sip:alice-target@x>;index=1, <sip:bob@ims.example.net;cause=302>;index=1.1;mp=1";
  cd_hi_chain chain;
  const char *why = NULL;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_parse(&chain, in, &why), 0);
  ck_assert_uint_eq(chain.count, 2);
  ck_assert_str_eq(chain.entries[0].text, "<sip:alice-target@x>;index=1");
  ck_assert_str_eq(chain.entries[1].text, "<sip:bob@ims.example.net;cause=302>;index=1.1;mp=1");
  ck_assert_str_eq(chain.entries[1].uri, "sip:bob@ims.example.net;cause=302");
  ck_assert_int_eq(chain.entries[1].cause, 302);
  ck_assert_uint_eq(cd_hi_diversions(&chain), 1);

  long pos = cd_hi_divert(&chain, BOB, same_uri, BOB, DAVE, 486, BUSY_REASON, true);
  ck_assert_int_eq(pos, 2);
  ck_assert_uint_eq(chain.count, 3);
  ck_assert_uint_eq(cd_hi_received(&chain), 2);
  /* Received bob stays as received: no Reason, no Privacy. */
  ck_assert_ptr_null(chain.entries[1].reason);
  ck_assert(!chain.entries[1].privacy);
  ck_format(&chain, cd_hi_received(&chain), -1,
            "<sip:dave@ims.example.net;cause=486>;index=1.1.1;mp=1.1");
  ck_format(&chain, 0, -1,
            "<sip:alice-target@x>;index=1, "
            "<sip:bob@ims.example.net;cause=302>;index=1.1;mp=1, "
            "<sip:dave@ims.example.net;cause=486>;index=1.1.1;mp=1.1");
  ck_assert_uint_eq(cd_hi_diversions(&chain), 2);
  cd_hi_free(&chain);
}
END_TEST

START_TEST(test_received_served_not_last) {
  cd_hi_chain chain;
  const char *why = NULL;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_parse(&chain,
                               "<sip:alice-target@x>;index=1, "
                               "<sip:proxy-target@y;cause=404>;index=1.2;rc=1",
                               &why), 0);
  long pos = cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 302, BUSY_REASON, false);
  ck_assert_int_eq(pos, 3);
  ck_assert_uint_eq(chain.count, 4);
  ck_assert_str_eq(chain.entries[2].index, "1.2.1");
  ck_assert_int_eq(chain.entries[2].tag, 0);
  ck_format(&chain, cd_hi_received(&chain), -1,
            "<sip:bob@ims.example.net?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%20Here%22>;"
            "index=1.2.1, <sip:carol@ims.example.net;cause=302>;index=1.2.1.1;mp=1.2.1");
  cd_hi_free(&chain);
}
END_TEST

START_TEST(test_divert_without_matcher) {
  cd_hi_chain chain;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, NULL, NULL, CAROL, 302, NULL, false), 1);
  /* No matcher: bob's entry is added again, under carol's. */
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, NULL, NULL, DAVE, 302, NULL, false), 3);
  ck_format(&chain, 2, -1,
            "<sip:bob@ims.example.net>;index=1.1.1, "
            "<sip:dave@ims.example.net;cause=302>;index=1.1.1.1;mp=1.1.1");
  cd_hi_free(&chain);
}
END_TEST

START_TEST(test_target_with_headers) {
  cd_hi_chain chain;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, "sip:carol@h?X=1", 302, NULL,
                                false), 1);
  ck_assert_str_eq(chain.entries[1].uri, "sip:carol@h;cause=302?X=1");
  ck_format(&chain, 1, -1, "<sip:carol@h;cause=302?X=1>;index=1.1;mp=1");
  /* Our headers go after the existing ones with '&'. */
  ck_format(&chain, 1, 0, "<sip:carol@h;cause=302?X=1&Privacy=history>;index=1.1;mp=1");
  ck_assert_int_eq(cd_hi_divert(&chain, "sip:carol@h", same_uri, "sip:carol@h", DAVE, 408,
                                "SIP;cause=408", false), 2);
  ck_format(&chain, 1, 1,
            "<sip:carol@h;cause=302?X=1&Reason=SIP%3Bcause%3D408&Privacy=history>;"
            "index=1.1;mp=1, <sip:dave@ims.example.net;cause=408?Privacy=history>;"
            "index=1.1.1;mp=1.1");
  cd_hi_free(&chain);
}
END_TEST

START_TEST(test_reason_escaping) {
  cd_hi_chain chain;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 480,
                                "Q.850;cause=18;text=\"a&b?c<d>e,f%g h\xc3\xa9~_.-\"", false),
                   1);
  char *got = cd_hi_format_entry(&chain.entries[0], false);
  ck_assert_ptr_nonnull(got);
  ck_assert_str_eq(got, "<sip:bob@ims.example.net?Reason=Q.850%3Bcause%3D18%3Btext%3D%22a%26b"
                        "%3Fc%3Cd%3Ee%2Cf%25g%20h%C3%A9~_.-%22>;index=1");
  free(got);
  cd_hi_free(&chain);
}
END_TEST

/* The 181's History-Info: any two positions hidden, the rest as formatted. */
START_TEST(test_format_hiding) {
  cd_hi_chain chain;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 302, NULL, false), 1);
  const struct { long a, b; const char *want; } cases[] = {
    { -1, -1, "<sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1" },
    { 1, -1, "<sip:bob@ims.example.net>;index=1, "
             "<sip:carol@ims.example.net;cause=302?Privacy=history>;index=1.1;mp=1" },
    { -1, 0, "<sip:bob@ims.example.net?Privacy=history>;index=1, "
             "<sip:carol@ims.example.net;cause=302>;index=1.1;mp=1" },
    { 1, 0, "<sip:bob@ims.example.net?Privacy=history>;index=1, "
            "<sip:carol@ims.example.net;cause=302?Privacy=history>;index=1.1;mp=1" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *got = cd_hi_format_hiding(&chain, cases[i].a, cases[i].b);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, cases[i].want);
    free(got);
  }
  char *empty = cd_hi_format_hiding(NULL, 0, 1);
  ck_assert_str_eq(empty, "");
  free(empty);
  cd_hi_free(&chain);
}
END_TEST

/* B deflects to two Contacts; the first fails: its entry keeps why, the
 * second is its sibling under B. */
START_TEST(test_retry_sibling) {
  cd_hi_chain chain;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 480, NULL, false), 1);
  ck_assert_int_eq(cd_hi_retry(&chain, DAVE, 480, "SIP;cause=486;text=\"Busy Here\""), 2);
  ck_format(&chain, 0, -1,
            "<sip:bob@ims.example.net>;index=1, "
            "<sip:carol@ims.example.net;cause=480?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%20Here%22>;index=1.1;mp=1, "
            "<sip:dave@ims.example.net;cause=480>;index=1.2;mp=1");
  ck_assert_int_eq(cd_hi_retry(&chain, "sip:erin@h", 480, NULL), 3);
  ck_assert_str_eq(chain.entries[3].index, "1.3");
  cd_hi_free(&chain);
  /* Only after one of our retargetings. */
  const char *why = NULL;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_retry(&chain, DAVE, 480, NULL), -1);
  ck_assert_int_eq(cd_hi_parse(&chain, "<sip:a@x>;index=1, <sip:b@x;cause=302>;index=1.1;mp=1", &why), 0);
  ck_assert_int_eq(cd_hi_retry(&chain, DAVE, 480, NULL), -1);
  ck_assert_uint_eq(chain.count, 2);
  cd_hi_free(&chain);
}
END_TEST

START_TEST(test_private_from) {
  cd_hi_chain chain;
  const char *why = NULL;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_parse(&chain, "<sip:a@x>;index=1", &why), 0);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 302, NULL, true), 2);
  /* Received entries never change; bob already private gets it once. */
  ck_format(&chain, 0, 0,
            "<sip:a@x>;index=1, <sip:bob@ims.example.net?Privacy=history>;index=1.1, "
            "<sip:carol@ims.example.net;cause=302?Privacy=history>;index=1.1.1;mp=1.1");
  ck_format(&chain, 0, 2,
            "<sip:a@x>;index=1, <sip:bob@ims.example.net?Privacy=history>;index=1.1, "
            "<sip:carol@ims.example.net;cause=302?Privacy=history>;index=1.1.1;mp=1.1");
  ck_format(&chain, 0, 3,
            "<sip:a@x>;index=1, <sip:bob@ims.example.net?Privacy=history>;index=1.1, "
            "<sip:carol@ims.example.net;cause=302>;index=1.1.1;mp=1.1");
  ck_format(&chain, 0, -1,
            "<sip:a@x>;index=1, <sip:bob@ims.example.net?Privacy=history>;index=1.1, "
            "<sip:carol@ims.example.net;cause=302>;index=1.1.1;mp=1.1");
  char *entry = cd_hi_format_entry(&chain.entries[0], true);
  ck_assert_str_eq(entry, "<sip:a@x>;index=1");
  free(entry);
  entry = cd_hi_format_entry(&chain.entries[2], true);
  ck_assert_str_eq(entry,
                   "<sip:carol@ims.example.net;cause=302?Privacy=history>;index=1.1.1;mp=1.1");
  free(entry);
  cd_hi_free(&chain);
}
END_TEST

START_TEST(test_format_edges) {
  cd_hi_chain chain;
  cd_hi_init(&chain);
  ck_format(&chain, 0, -1, "");
  ck_format(NULL, 0, -1, "");
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 302, NULL, false), 1);
  ck_format(&chain, 2, -1, "");
  ck_format(&chain, 99, 0, "");
  ck_assert_ptr_null(cd_hi_format_entry(NULL, false));
  cd_hi_free(&chain);
  cd_hi_free(&chain); /* freeing twice is harmless: free re-initialises */
  cd_hi_free(NULL);
}
END_TEST

START_TEST(test_parse_fields) {
  cd_hi_chain chain;
  const char *why = NULL;
  cd_hi_init(&chain);
  ck_assert_int_eq(
      cd_hi_parse(&chain,
                  "  \"Bob, <the> \\\"boss\\\"\" <sip:bob@h;cause=486?Reason=SIP%3Bcause%3D486>"
                  " ; index = 1.22.3 ; NP=1.22 ; foo ; bar=\"x, y\" \t, Carol <sip:carol@h,x>;"
                  "INDEX=1;rc=1.1, <tel:+1555;cause=4866>;index=2;mp=1, "
                  "<sip:x;cause=302@h;cause=404;lr>;index=3, <sip:y@h?cause=302>;index=4, "
                  "<sip:z@h;cause=099>;index=5, <sip:w@h;CAUSE=410>;index=6",
                  &why),
      0);
  ck_assert_uint_eq(chain.count, 7);
  cd_hi_entry *e = chain.entries;
  ck_assert_str_eq(e[0].text,
                   "\"Bob, <the> \\\"boss\\\"\" <sip:bob@h;cause=486?Reason=SIP%3Bcause%3D486>"
                   " ; index = 1.22.3 ; NP=1.22 ; foo ; bar=\"x, y\"");
  ck_assert_str_eq(e[0].uri, "sip:bob@h;cause=486?Reason=SIP%3Bcause%3D486");
  ck_assert_str_eq(e[0].index, "1.22.3");
  ck_assert_str_eq(e[0].parent, "1.22");
  ck_assert_int_eq(e[0].tag, 'n');
  ck_assert_int_eq(e[0].cause, 486);
  ck_assert(!e[0].ours);
  ck_assert_ptr_null(e[0].reason);
  ck_assert_str_eq(e[1].uri, "sip:carol@h,x");
  ck_assert_str_eq(e[1].index, "1");
  ck_assert_int_eq(e[1].tag, 'r');
  ck_assert_str_eq(e[1].parent, "1.1");
  ck_assert_int_eq(e[1].cause, 0);
  ck_assert_int_eq(e[2].cause, 0);  /* 4 digits: not a cause */
  ck_assert_int_eq(e[2].tag, 'm');
  ck_assert_int_eq(e[3].cause, 404); /* ";cause=302" in the user part is not a URI param */
  ck_assert_int_eq(e[4].cause, 0);   /* after '?': a header, not a param */
  ck_assert_int_eq(e[5].cause, 0);
  ck_assert_int_eq(e[6].cause, 410);
  ck_assert_str_eq(e[6].parent, "");
  ck_assert_int_eq(e[6].tag, 0);
  ck_assert_uint_eq(cd_hi_diversions(&chain), 3);
  ck_assert_uint_eq(cd_hi_received(&chain), 7);
  /* Received entries go out exactly as they came. */
  ck_format(&chain, 1, -1,
            "Carol <sip:carol@h,x>;INDEX=1;rc=1.1, <tel:+1555;cause=4866>;index=2;mp=1, "
            "<sip:x;cause=302@h;cause=404;lr>;index=3, <sip:y@h?cause=302>;index=4, "
            "<sip:z@h;cause=099>;index=5, <sip:w@h;CAUSE=410>;index=6");
  cd_hi_free(&chain);
}
END_TEST

START_TEST(test_parse_multiple_values) {
  cd_hi_chain chain;
  const char *why = NULL;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_parse(&chain, "<sip:a@x>;index=1", &why), 0);
  ck_assert_int_eq(cd_hi_parse(&chain, "<sip:b@x;cause=302>;index=1.1;mp=1", &why), 0);
  ck_assert_int_eq(cd_hi_parse(&chain, "<sip:c@x>;index=1.1.1, <sip:d@x>;index=1.1.2", &why), 0);
  ck_assert_uint_eq(chain.count, 4);
  ck_format(&chain, 0, -1,
            "<sip:a@x>;index=1, <sip:b@x;cause=302>;index=1.1;mp=1, <sip:c@x>;index=1.1.1, "
            "<sip:d@x>;index=1.1.2");
  /* A bad value later in the call leaves what was parsed before. */
  ck_assert_int_eq(cd_hi_parse(&chain, "<sip:e@x>;index=2, <sip:f@x", &why), -1);
  ck_assert_str_eq(why, "unterminated <");
  ck_assert_uint_eq(chain.count, 4);
  /* An index of an earlier header value cannot place a later entry. */
  ck_assert_int_eq(cd_hi_parse(&chain, "<sip:e@x>;index=1.1.2, <sip:f@x>;index=2", &why), 0);
  ck_assert_uint_eq(chain.count, 6);
  ck_assert_str_eq(chain.entries[4].index, "");
  ck_assert_str_eq(chain.entries[5].index, "2");
  ck_assert_uint_eq(cd_hi_unindexed(&chain), 1);
  cd_hi_free(&chain);
}
END_TEST

START_TEST(test_parse_malformed) {
  ck_parse_bad("<sip:a@x>;index=\"1", "unterminated quoted string");
  ck_parse_bad("<sip:a@x>;foo=", "empty parameter value");
  ck_parse_bad("<sip:a@x;index=1", "unterminated <");
  ck_parse_bad("\"Bob <sip:a@x>;index=1", "unterminated quoted string");
  ck_parse_bad("<sip:a@x>;index=1;x=\"open", "unterminated quoted string");
  ck_parse_bad("", "empty History-Info entry");
  ck_parse_bad("   ", "empty History-Info entry");
  ck_parse_bad("<sip:a@x>;index=1,,<sip:b@x>;index=2", "empty History-Info entry");
  ck_parse_bad("<sip:a@x>;index=1, ", "empty History-Info entry");
  ck_parse_bad(", <sip:a@x>;index=1", "empty History-Info entry");
  ck_parse_bad("sip:a@x;index=1", "missing <URI>");
  ck_parse_bad("Bob", "missing <URI>");
  ck_parse_bad("<sip:a@x>>;index=1", "junk after History-Info entry");
  ck_parse_bad("<sip:a@x>;index=1 <sip:b@x>;index=2", "junk after History-Info entry");
  ck_parse_bad("<sip:a@x>;;index=1", "empty parameter");
  ck_parse_bad("<>;index=1", "empty URI");
  ck_parse_bad("<a@x>;index=1", "URI without scheme");
  ck_parse_bad("<sip:a @x>;index=1", "bad character in URI");
  ck_parse_bad("<sip:a<b@x>;index=1", "bad character in URI");
  ck_parse_bad("<sip:a\xc3\xa9@x>;index=1", "bad character in URI");
  ck_parse_bad("\"\xff\" <sip:a@x>;index=1", "invalid UTF-8");
  ck_parse_bad("<sip:a@x>;index=1\r\n", "control character");
}
END_TEST

START_TEST(test_index_length) {
  char value[256];
  char index[CD_HI_INDEX_MAX + 2];
  /* CD_HI_INDEX_MAX - 1 characters fit; CD_HI_INDEX_MAX do not. */
  memset(index, '1', CD_HI_INDEX_MAX - 1);
  index[CD_HI_INDEX_MAX - 1] = '\0';
  snprintf(value, sizeof value, "<sip:a@x>;index=%s", index);
  cd_hi_chain chain;
  const char *why = NULL;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_parse(&chain, value, &why), 0);
  ck_assert_str_eq(chain.entries[0].index, index);
  /* The target's index would not fit: the diversion is refused whole. */
  ck_assert_int_eq(cd_hi_divert(&chain, "sip:a@x", same_uri, "sip:a@x", CAROL, 302, NULL, false),
                   -1);
  ck_assert_uint_eq(chain.count, 1);
  cd_hi_free(&chain);
  /* One more is kept without an index: ours then go under a gap. */
  strcat(index, "1");
  snprintf(value, sizeof value, "<sip:a@x>;index=%s", index);
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_parse(&chain, value, &why), 0);
  ck_assert_str_eq(chain.entries[0].index, "");
  ck_assert_int_eq(cd_hi_divert(&chain, "sip:a@x", same_uri, "sip:a@x", CAROL, 302, NULL, false),
                   2);
  ck_format(&chain, 1, -1,
            "<sip:a@x>;index=0.1, <sip:carol@ims.example.net;cause=302>;index=0.1.1;mp=0.1");
  cd_hi_free(&chain);
}
END_TEST

START_TEST(test_too_many) {
  cd_hi_chain chain;
  const char *why = NULL;
  char *value = many_entries(CD_HI_MAX_ENTRIES);
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_parse(&chain, value, &why), 0);
  ck_assert_uint_eq(chain.count, CD_HI_MAX_ENTRIES);
  free(value);
  /* A full chain takes no more, not even one diversion. */
  ck_assert_int_eq(cd_hi_parse(&chain, "<sip:z@x>;index=2", &why), -1);
  ck_assert_str_eq(why, "too many History-Info entries");
  ck_assert_uint_eq(chain.count, CD_HI_MAX_ENTRIES);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 302, NULL, false), -1);
  ck_assert_uint_eq(chain.count, CD_HI_MAX_ENTRIES);
  cd_hi_free(&chain);

  /* Entries add up over several header values. */
  cd_hi_init(&chain);
  value = many_entries(100);
  ck_assert_int_eq(cd_hi_parse(&chain, value, &why), 0);
  free(value);
  value = many_entries(30);
  ck_assert_int_eq(cd_hi_parse(&chain, value, &why), -1);
  ck_assert_str_eq(why, "too many History-Info entries");
  ck_assert_uint_eq(chain.count, 100);
  free(value);
  cd_hi_free(&chain);

  value = many_entries(200);
  ck_parse_bad(value, "too many History-Info entries");
  free(value);
}
END_TEST

START_TEST(test_huge_value) {
  size_t n = 1 << 20;
  char *value = malloc(n + 1);
  ck_assert_ptr_nonnull(value);
  memset(value, '<', n);
  value[n] = '\0';
  ck_parse_bad(value, "History-Info value too long");
  /* Within the bound, unbalanced brackets are reported, not chased. */
  value[60000] = '\0';
  ck_parse_bad(value, "unterminated <");
  memset(value, '"', 60000);
  ck_parse_bad(value, "missing <URI>");
  value[59999] = '\0';
  ck_parse_bad(value, "unterminated quoted string");
  value[59999] = ',';
  memset(value, ',', 60000);
  ck_parse_bad(value, "empty History-Info entry");
  free(value);
}
END_TEST

START_TEST(test_prefix_bytes) {
  /* Every prefix of a valid value, in an exact-size heap buffer: a parser
   * reading past the NUL or the entry end trips ASan. */
  static const char *full =
      "\"Bob \\\" <x>\" <sip:bob@h;cause=486?X=1>;index=1.1;mp=1;y=\"a,b\", <tel:+1>;index=2";
  size_t n = strlen(full);
  for (size_t len = 0; len <= n; len++) {
    char *buf = malloc(len + 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, full, len);
    buf[len] = '\0';
    cd_hi_chain chain;
    const char *why = NULL;
    cd_hi_init(&chain);
    int rc = cd_hi_parse(&chain, buf, &why);
    ck_assert(rc == 0 || why != NULL);
    cd_hi_free(&chain);
    free(buf);
  }
}
END_TEST

START_TEST(test_contains) {
  cd_hi_chain chain;
  const char *why = NULL;
  cd_hi_init(&chain);
  char carol[CD_IDENTITY_KEY_MAX], a[CD_IDENTITY_KEY_MAX];
  ck_assert_int_eq(cd_identity_key(CAROL, carol, NULL), 0);
  ck_assert_int_eq(cd_identity_key("sip:a@x", a, NULL), 0);
  ck_assert(!cd_hi_contains_key(&chain, carol));
  ck_assert_int_eq(cd_hi_parse(&chain, "<sip:a@x>;index=1", &why), 0);
  ck_assert(!cd_hi_contains_key(&chain, carol));
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 302, NULL, false), 2);
  /* The target entry carries ;cause=302: the key is the identity's. */
  ck_assert(cd_hi_contains_key(&chain, carol));
  ck_assert(cd_hi_contains_key(&chain, a));
  ck_assert(!cd_hi_contains_key(&chain, "sip:nobody@x"));
  ck_assert(!cd_hi_contains_key(&chain, ""));
  ck_assert(!cd_hi_contains_key(&chain, NULL));
  ck_assert(!cd_hi_contains_key(NULL, carol));
  cd_hi_free(&chain);
}
END_TEST

START_TEST(test_copy_independent) {
  cd_hi_chain a, b;
  const char *why = NULL;
  cd_hi_init(&a);
  ck_assert_int_eq(cd_hi_parse(&a, "<sip:a@x>;index=1", &why), 0);
  ck_assert_int_eq(cd_hi_divert(&a, BOB, same_uri, BOB, CAROL, 302, NULL, true), 2);
  ck_assert_int_eq(cd_hi_copy(&b, &a), 0);
  ck_assert_uint_eq(b.count, 3);
  char *fa = cd_hi_format(&a, 0, -1);
  char *fb = cd_hi_format(&b, 0, -1);
  ck_assert_str_eq(fa, fb);
  free(fb);
  /* Each branch diverts on its own: the other copy does not move. */
  ck_assert_int_eq(cd_hi_divert(&b, CAROL, same_uri, CAROL, DAVE, 486, BUSY_REASON, false), 3);
  ck_assert_uint_eq(a.count, 3);
  ck_assert_ptr_null(a.entries[2].reason);
  ck_assert_ptr_nonnull(b.entries[2].reason);
  ck_assert_ptr_ne(a.entries[0].text, b.entries[0].text);
  ck_assert_ptr_ne(a.entries[1].uri, b.entries[1].uri);
  char *fa2 = cd_hi_format(&a, 0, -1);
  ck_assert_str_eq(fa, fa2);
  free(fa);
  free(fa2);
  cd_hi_free(&a);
  ck_format(&b, 0, -1,
            "<sip:a@x>;index=1, <sip:bob@ims.example.net?Privacy=history>;index=1.1, "
            "<sip:carol@ims.example.net;cause=302?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy"
            "%20Here%22>;index=1.1.1;mp=1.1, "
            "<sip:dave@ims.example.net;cause=486>;index=1.1.1.1;mp=1.1.1");
  cd_hi_free(&b);

  cd_hi_init(&a);
  ck_assert_int_eq(cd_hi_copy(&b, &a), 0);
  ck_assert_uint_eq(b.count, 0);
  ck_assert_int_eq(cd_hi_copy(NULL, &a), -1);
  cd_hi_free(&b);
}
END_TEST

START_TEST(test_divert_bad_args) {
  cd_hi_chain chain;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_divert(NULL, BOB, same_uri, BOB, CAROL, 302, NULL, false), -1);
  ck_assert_int_eq(cd_hi_divert(&chain, NULL, same_uri, BOB, CAROL, 302, NULL, false), -1);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, NULL, 302, NULL, false), -1);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, "", 302, NULL, false), -1);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, "sip:c@h>;index=9", 302, NULL,
                                false), -1);
  ck_assert_int_eq(cd_hi_divert(&chain, "sip:b @h", same_uri, BOB, CAROL, 302, NULL, false), -1);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 0, NULL, false), -1);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 1000, NULL, false), -1);
  ck_assert_uint_eq(chain.count, 0);
  cd_hi_free(&chain);
}
END_TEST

/* Index values that are not RFC 7044 index-vals, or not usable: the entry
 * is kept verbatim, without an index; never a parse error. */
START_TEST(test_parse_odd_indices) {
  static const struct { const char *value; const char *index; char tag; const char *parent; } cases[] = {
    { "<sip:a@x>", "", 0, "" },
    { "<sip:a@x>;mp=1", "", 'm', "1" },
    { "<sip:a@x>;index=01", "", 0, "" },
    { "<sip:a@x>;index=1.01", "", 0, "" },
    { "<sip:a@x>;index=00", "", 0, "" },
    { "<sip:a@x>;index=1..1", "", 0, "" },
    { "<sip:a@x>;index=1..2;mp=1", "", 'm', "1" },
    { "<sip:a@x>;index=1.", "", 0, "" },
    { "<sip:a@x>;index=.1", "", 0, "" },
    { "<sip:a@x>;index=a", "", 0, "" },
    { "<sip:a@x>;index=1a", "", 0, "" },
    { "<sip:a@x>;index=-1", "", 0, "" },
    { "<sip:a@x>;index=\"1\"", "", 0, "" },
    { "<sip:a@x>;index", "", 0, "" },
    { "<sip:a@x>;index=", "", 0, "" },
    { "<sip:a@x>;index= ;mp=1", "", 'm', "1" },
    { "<sip:a@x>;index=1;index=1", "", 0, "" },
    { "<sip:a@x>;index=1;index=2", "", 0, "" },
    { "<sip:a@x>;index=x;index=2", "", 0, "" },
    /* mp/rc/np: the first well-formed one counts, the rest is ignored */
    { "<sip:a@x>;index=1.1;mp=1;rc=1", "1.1", 'm', "1" },
    { "<sip:a@x>;index=1.1;np=1;np=2", "1.1", 'n', "1" },
    { "<sip:a@x>;index=1.1;mp=01;rc=1", "1.1", 'r', "1" },
    { "<sip:a@x>;index=1.1;rc", "1.1", 0, "" },
    { "<sip:a@x>;index=1.1;mp=", "1.1", 0, "" },
    /* RFC 7044's index-val has 0 (the gap marker), not leading zeros */
    { "<sip:a@x>;index=0", "0", 0, "" },
    { "<sip:a@x>;index=1.0", "1.0", 0, "" },
    { "<sip:a@x>;index=1.0.1;mp=0", "1.0.1", 'm', "0" },
    { "<sip:a@x>;index=10.20", "10.20", 0, "" },
    { "<sip:a@x>;Index=3", "3", 0, "" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cd_hi_chain chain;
    const char *why = NULL;
    cd_hi_init(&chain);
    ck_assert_msg(cd_hi_parse(&chain, cases[i].value, &why) == 0, "%s: %s", cases[i].value,
                  why ? why : "?");
    ck_assert_uint_eq(chain.count, 1);
    ck_assert_msg(strcmp(chain.entries[0].index, cases[i].index) == 0, "%s: index \"%s\"",
                  cases[i].value, chain.entries[0].index);
    ck_assert_msg(chain.entries[0].tag == cases[i].tag, "%s: tag %d", cases[i].value,
                  chain.entries[0].tag);
    ck_assert_str_eq(chain.entries[0].parent, cases[i].parent);
    /* Kept exactly as received. */
    char *text = cd_hi_format(&chain, 0, -1);
    ck_assert_str_eq(text, cases[i].value);
    free(text);
    ck_assert_uint_eq(cd_hi_unindexed(&chain), cases[i].index[0] ? 0 : 1);
    cd_hi_free(&chain);
  }
}
END_TEST

/* Duplicate indices: the first entry keeps it, the later ones go without. */
START_TEST(test_parse_duplicate_indices) {
  cd_hi_chain chain;
  const char *why = NULL;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_parse(&chain,
                               "<sip:a@x>;index=1, <sip:b@x;cause=302>;index=1.1;mp=1, "
                               "<sip:c@x;cause=486>;index=1.1;mp=1, <sip:d@x>;index=1",
                               &why), 0);
  ck_assert_uint_eq(chain.count, 4);
  ck_assert_str_eq(chain.entries[0].index, "1");
  ck_assert_str_eq(chain.entries[1].index, "1.1");
  ck_assert_str_eq(chain.entries[2].index, "");
  ck_assert_str_eq(chain.entries[3].index, "");
  ck_assert_int_eq(chain.entries[2].cause, 486);
  ck_assert_uint_eq(cd_hi_unindexed(&chain), 2);
  ck_assert_uint_eq(cd_hi_diversions(&chain), 2);
  cd_hi_free(&chain);
}
END_TEST

/* The INVITE of the issue: odd indices everywhere, bob (served, CFU) last.
 * The received entries stay as they came, ours continue under the last
 * index there is (1.1) with the gap marker, and every diversion counts. */
START_TEST(test_divert_after_odd_indices) {
  static const char *in =
      "<sip:alice-old@ims.example.net>;index=1, "
      "<sip:ann@ims.example.net;cause=302>;index=1.1;mp=1, "
      "<sip:amy@ims.example.net;cause=486>;index=1.1;mp=1, "
      "<sip:abe@ims.example.net;cause=408>;index=01, "
      "<sip:bob@ims.example.net;cause=480>;index=1..2;mp=x";
  cd_hi_chain chain;
  const char *why = NULL;
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_parse(&chain, in, &why), 0);
  ck_assert_uint_eq(chain.count, 5);
  ck_assert_uint_eq(cd_hi_diversions(&chain), 4);
  ck_assert_uint_eq(cd_hi_unindexed(&chain), 3);
  /* bob is the last entry, but has no index to hang carol's under. */
  long pos = cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 302, NULL, false);
  ck_assert_int_eq(pos, 6);
  ck_format(&chain, 0, -1,
            "<sip:alice-old@ims.example.net>;index=1, "
            "<sip:ann@ims.example.net;cause=302>;index=1.1;mp=1, "
            "<sip:amy@ims.example.net;cause=486>;index=1.1;mp=1, "
            "<sip:abe@ims.example.net;cause=408>;index=01, "
            "<sip:bob@ims.example.net;cause=480>;index=1..2;mp=x, "
            "<sip:bob@ims.example.net>;index=1.1.0.1, "
            "<sip:carol@ims.example.net;cause=302>;index=1.1.0.1.1;mp=1.1.0.1");
  ck_assert_uint_eq(cd_hi_diversions(&chain), 5);
  /* A second hop continues normally from our entries. */
  ck_assert_int_eq(cd_hi_divert(&chain, CAROL, same_uri, CAROL, DAVE, 486, BUSY_REASON, false),
                   7);
  ck_assert_str_eq(chain.entries[7].index, "1.1.0.1.1.1");
  ck_assert_str_eq(chain.entries[7].parent, "1.1.0.1.1");
  /* Our entries re-parse with every index in place. */
  char *ours = cd_hi_format(&chain, cd_hi_received(&chain), -1);
  cd_hi_chain again;
  cd_hi_init(&again);
  ck_assert_int_eq(cd_hi_parse(&again, ours, &why), 0);
  ck_assert_uint_eq(again.count, 3);
  ck_assert_uint_eq(cd_hi_unindexed(&again), 0);
  cd_hi_free(&again);
  free(ours);
  cd_hi_free(&chain);
}
END_TEST

START_TEST(test_divert_gap_cases) {
  const char *why = NULL;
  cd_hi_chain chain;
  /* No entry has an index: ours start at 0.1. */
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_parse(&chain, "<sip:a@x;cause=302>, <sip:b@x>;index=a.b", &why), 0);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 486, NULL, false), 3);
  ck_format(&chain, 2, -1,
            "<sip:bob@ims.example.net>;index=0.1, "
            "<sip:carol@ims.example.net;cause=486>;index=0.1.1;mp=0.1");
  ck_assert_uint_eq(cd_hi_diversions(&chain), 2);
  cd_hi_free(&chain);

  /* Entries without index in the middle, a usable last one: as usual. */
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_parse(&chain, "<sip:a@x>;index=1, <sip:m@x;cause=302>, "
                                       "<sip:bob@ims.example.net;cause=302>;index=1.1;mp=1", &why), 0);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 302, NULL, false), 3);
  ck_format(&chain, 3, -1, "<sip:carol@ims.example.net;cause=302>;index=1.1.1;mp=1.1");
  cd_hi_free(&chain);

  /* The index ours would get is taken: the next free sibling. */
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_parse(&chain, "<sip:x@x>;index=1.1, <sip:y@x>;index=1.2, <sip:a@x>;index=1",
                               &why), 0);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 302, NULL, false), 4);
  ck_format(&chain, 3, -1,
            "<sip:bob@ims.example.net>;index=1.3, "
            "<sip:carol@ims.example.net;cause=302>;index=1.3.1;mp=1.3");
  cd_hi_free(&chain);
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_parse(&chain, "<sip:c@x>;index=1.1, <sip:bob@ims.example.net>;index=1",
                               &why), 0);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 302, NULL, false), 2);
  ck_format(&chain, 2, -1, "<sip:carol@ims.example.net;cause=302>;index=1.2;mp=1");
  cd_hi_free(&chain);

  /* A gap marker of the index ours would get, taken already. */
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_parse(&chain, "<sip:p@x>;index=1.0.1, <sip:a@x>;index=1, <sip:z@x>",
                               &why), 0);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 302, NULL, false), 4);
  ck_assert_str_eq(chain.entries[3].index, "1.0.2");
  ck_assert_str_eq(chain.entries[4].index, "1.0.2.1");
  /* The retry of a deflection skips a taken sibling too. */
  cd_hi_free(&chain);
  cd_hi_init(&chain);
  ck_assert_int_eq(cd_hi_parse(&chain, "<sip:q@x>;index=1.2, <sip:bob@ims.example.net>;index=1",
                               &why), 0);
  ck_assert_int_eq(cd_hi_divert(&chain, BOB, same_uri, BOB, CAROL, 480, NULL, false), 2);
  ck_assert_str_eq(chain.entries[2].index, "1.1");
  ck_assert_int_eq(cd_hi_retry(&chain, DAVE, 480, NULL), 3);
  ck_assert_str_eq(chain.entries[3].index, "1.3");
  ck_assert_str_eq(chain.entries[3].parent, "1");
  cd_hi_free(&chain);
}
END_TEST

static Suite *history_info_suite(void) {
  Suite *s = suite_create("history_info");
  TCase *wire = tcase_create("wire");
  tcase_add_test(wire, test_cfu);
  tcase_add_test(wire, test_cfb_reason);
  tcase_add_test(wire, test_two_hops);
  tcase_add_test(wire, test_received_served_last);
  tcase_add_test(wire, test_received_served_not_last);
  tcase_add_test(wire, test_divert_without_matcher);
  tcase_add_test(wire, test_target_with_headers);
  tcase_add_test(wire, test_reason_escaping);
  tcase_add_test(wire, test_private_from);
  tcase_add_test(wire, test_format_hiding);
  tcase_add_test(wire, test_retry_sibling);
  tcase_add_test(wire, test_format_edges);
  suite_add_tcase(s, wire);
  TCase *parse = tcase_create("parse");
  tcase_add_test(parse, test_parse_fields);
  tcase_add_test(parse, test_parse_multiple_values);
  tcase_add_test(parse, test_parse_malformed);
  tcase_add_test(parse, test_parse_odd_indices);
  tcase_add_test(parse, test_parse_duplicate_indices);
  tcase_add_test(parse, test_index_length);
  tcase_add_test(parse, test_too_many);
  tcase_add_test(parse, test_huge_value);
  tcase_add_test(parse, test_prefix_bytes);
  suite_add_tcase(s, parse);
  TCase *chain = tcase_create("chain");
  tcase_add_test(chain, test_contains);
  tcase_add_test(chain, test_copy_independent);
  tcase_add_test(chain, test_divert_bad_args);
  tcase_add_test(chain, test_divert_after_odd_indices);
  tcase_add_test(chain, test_divert_gap_cases);
  suite_add_tcase(s, chain);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(history_info_suite());
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
