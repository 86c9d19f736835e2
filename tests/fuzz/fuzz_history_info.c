/*
 * fuzz_history_info.c - libFuzzer target for the History-Info parser
 * (src/history_info.h).
 *
 * The input is one History-Info header value (a NUL-terminated copy; an
 * embedded NUL simply ends the value early, as it would in a C string).
 * When it parses, the chain goes through everything a call does with a
 * received chain: count diversions, format it, divert it to a fixed
 * target, fork (copy) it, free it.
 *
 * Invariants (abort() when broken, so libFuzzer reports a crash):
 *  - formatting our own entries after cd_hi_divert and re-parsing the
 *    result succeeds, with one entry per entry formatted;
 *  - formatting the whole chain (received entries verbatim + ours) and
 *    re-parsing it succeeds with the same number of entries, and
 *    formatting that re-parsed chain gives the same string again;
 *  - the copy formats exactly like the original;
 *  - cd_hi_parse never fails for an index's sake: whatever the received
 *    numbering, the entries cdivas adds re-parse each with its index, and
 *    none of those indices is one another entry of the chain has.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/history_info.h"

#define TARGET_URI "sip:carol@ims.example.net;transport=tcp?X-Hdr=1"
#define SERVED_URI "sip:bob@ims.example.net"
#define REASON "SIP;cause=486;text=\"Busy Here\", é"

/* A served-user check that sometimes matches a received entry, so the
 * "served user is the last entry" path runs on fuzzed entries too. */
static bool is_served(const char *key, void *ctx)
{
  (void)ctx;
  return strstr(key, "bob") != NULL;
}

static void die(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz_history_info: invariant broken: %s\n%s\n", what,
          detail ? detail : "(null)");
  abort();
}

/* Re-parses `text` into a fresh chain; returns its entry count, or aborts. */
static size_t reparse(const char *text, const char *what)
{
  cd_hi_chain again;
  const char *why = NULL;
  cd_hi_init(&again);
  if (cd_hi_parse(&again, text, &why) != 0) {
    fprintf(stderr, "re-parse failed: %s\n", why ? why : "?");
    die(what, text);
  }
  size_t n = again.count;
  cd_hi_free(&again);
  return n;
}

/* Our entries [from, count) have indices no other entry has, and keep
 * them when re-parsed on their own. */
static void check_our_indices(const cd_hi_chain *chain, size_t from)
{
  for (size_t i = from; i < chain->count; i++) {
    const char *index = chain->entries[i].index;
    if (!index[0])
      die("an entry of ours has no index", index);
    for (size_t j = 0; j < chain->count; j++)
      if (j != i && strcmp(chain->entries[j].index, index) == 0)
        die("an index of ours is used twice in the chain", index);
  }
  char *text = cd_hi_format(chain, from, -1);
  if (!text || strlen(text) > 65536) {
    free(text);
    return;
  }
  cd_hi_chain again;
  cd_hi_init(&again);
  if (cd_hi_parse(&again, text, NULL) != 0 || cd_hi_unindexed(&again) != 0)
    die("our entries lose their indices when re-parsed", text);
  cd_hi_free(&again);
  free(text);
}

/* Formats [from, count) and checks it re-parses into count - from entries,
 * and (for the whole chain) that the re-parsed chain formats the same. */
static void check_round_trip(const cd_hi_chain *chain, size_t from, const char *what)
{
  if (from >= chain->count)
    return;
  char *text = cd_hi_format(chain, from, -1);
  if (!text)
    return;                         /* allocation failure */
  if (strlen(text) > 65536) {       /* over cd_hi_parse's documented bound */
    free(text);
    return;
  }
  if (reparse(text, what) != chain->count - from)
    die(what, text);
  if (from == 0) {
    cd_hi_chain again;
    cd_hi_init(&again);
    if (cd_hi_parse(&again, text, NULL) == 0) {
      char *text2 = cd_hi_format(&again, 0, -1);
      if (text2 && strcmp(text, text2) != 0)
        die("format(parse(format(chain))) differs", text2);
      free(text2);
    }
    cd_hi_free(&again);
  }
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *value = malloc(size + 1);
  if (!value)
    return 0;
  memcpy(value, data, size);
  value[size] = '\0';

  cd_hi_chain chain;
  const char *why = NULL;
  cd_hi_init(&chain);
  int rc = cd_hi_parse(&chain, value, &why);
  if (rc != 0) {
    if (why == NULL)
      die("cd_hi_parse failed without a reason", value);
    if (chain.count != 0)
      die("cd_hi_parse failed but changed the chain", value);
    cd_hi_free(&chain);
    free(value);
    return 0;
  }

  (void)cd_hi_diversions(&chain);
  (void)cd_hi_received(&chain);
  char *all = cd_hi_format(&chain, 0, -1);
  free(all);
  char *priv = cd_hi_format(&chain, 0, 0);
  free(priv);
  for (size_t i = 0; i < chain.count; i++)
    free(cd_hi_format_entry(&chain.entries[i], i & 1));

  /* The received chain, formatted verbatim, re-parses to itself. */
  check_round_trip(&chain, 0, "received chain does not round-trip");

  /* A second parse appends (a second History-Info header line). */
  cd_hi_chain twice;
  if (cd_hi_copy(&twice, &chain) == 0) {
    if (cd_hi_parse(&twice, value, NULL) == 0 && twice.count != 2 * chain.count)
      die("appending a header did not add its entries", value);
    cd_hi_free(&twice);
  }

  /* Divert to a fixed target; the cause and privacy vary with the input. */
  size_t received = cd_hi_received(&chain);
  int cause = 302 + (int)(size % 4) * 61;            /* 302, 363, 424, 485 */
  long pos = cd_hi_divert(&chain, SERVED_URI, is_served, NULL, TARGET_URI, cause,
                          (size & 1) ? REASON : NULL, (size & 2) != 0);
  if (pos >= 0) {
    if ((size_t)pos != chain.count - 1 || chain.entries[pos].cause != cause)
      die("cd_hi_divert returned a wrong position or cause", value);
    /* Invariant from the brief: our own entries format into a value that
     * parses again. */
    check_round_trip(&chain, received, "our entries do not re-parse");
    check_our_indices(&chain, received);
    /* The whole chain (received verbatim + ours) too. */
    check_round_trip(&chain, 0, "diverted chain does not round-trip");
    char *p181 = cd_hi_format(&chain, 0, (long)received);
    if (p181 && strlen(p181) <= 65536) {
      if (reparse(p181, "181 chain does not re-parse") != chain.count)
        die("181 chain re-parses to another entry count", p181);
    }
    free(p181);
    /* Divert once more from the new target (a second hop). */
    (void)cd_hi_divert(&chain, TARGET_URI, NULL, NULL, "tel:+15551000003", 486, NULL, true);
  }

  cd_hi_chain copy;
  if (cd_hi_copy(&copy, &chain) == 0) {
    char *a = cd_hi_format(&chain, 0, -1);
    char *b = cd_hi_format(&copy, 0, -1);
    if (a && b && strcmp(a, b) != 0)
      die("copy formats differently", b);
    free(a);
    free(b);
    cd_hi_free(&copy);
  }
  cd_hi_free(&chain);
  free(value);
  return 0;
}
