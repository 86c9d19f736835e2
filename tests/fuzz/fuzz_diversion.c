/*
 * fuzz_diversion.c - libFuzzer target for the Diversion header reader
 * (src/core/diversion.h).
 *
 * The input is one Diversion header value (a NUL-terminated copy). It is
 * read entry by entry and counted, and the URI of each entry that fits
 * between <> goes through cd_diversion_format and is read back.
 *
 * Invariants (abort() when broken):
 *  - cd_diversion_parse gives the same number of entries whatever `max`;
 *  - every entry counts 1..99, and cd_diversion_count is the sum of the
 *    counters, capped at 1000;
 *  - an entry's URI lies inside the value;
 *  - what cd_diversion_format writes reads back as one entry with that
 *    URI, counter 1, the reason cd_diversion_reason gives, and its privacy.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diversion.h"

#define SLOTS 64

static void die(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz_diversion: invariant broken: %s\n%s\n", what, detail ? detail : "(null)");
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *value = malloc(size + 1);
  if (!value)
    return 0;
  memcpy(value, data, size);
  value[size] = '\0';
  size_t len = strlen(value);

  struct cd_diversion_entry e[SLOTS];
  size_t n = cd_diversion_parse(value, e, SLOTS);
  if (cd_diversion_parse(value, NULL, 0) != n || cd_diversion_parse(value, e, 1) != n)
    die("the entry count depends on the slots", value);
  n = cd_diversion_parse(value, e, SLOTS);
  unsigned sum = 0;
  for (size_t i = 0; i < n && i < SLOTS; i++) {
    if (e[i].counter < 1 || e[i].counter > CD_DIVERSION_COUNTER_MAX)
      die("a counter out of 1..99", value);
    if (e[i].uri_len && (e[i].uri < value || e[i].uri + e[i].uri_len > value + len))
      die("a URI outside the value", value);
    sum += e[i].counter;
  }
  unsigned count = cd_diversion_count(value);
  if (n <= SLOTS && count != (sum > 1000 ? 1000 : sum))
    die("the count is not the sum of the counters", value);
  if (count > 1000 || (n > 0 && count == 0))
    die("the count is out of bounds", value);

  for (size_t i = 0; i < n && i < SLOTS; i++) {
    if (e[i].uri_len == 0)
      continue;
    char *uri = malloc(e[i].uri_len + 1);
    if (!uri)
      break;
    memcpy(uri, e[i].uri, e[i].uri_len);
    uri[e[i].uri_len] = '\0';
    int cause = 300 + (int)((size + i) % 300);
    bool privacy = (size + i) & 1;
    char *mine = cd_diversion_format(uri, cause, privacy);
    if (mine) {
      struct cd_diversion_entry back;
      if (cd_diversion_parse(mine, &back, 1) != 1 || back.uri_len != strlen(uri) ||
          memcmp(back.uri, uri, back.uri_len) != 0 || back.counter != 1 ||
          strcmp(back.reason, cd_diversion_reason(cause)) != 0 || back.privacy != privacy)
        die("a formatted entry does not read back", mine);
      free(mine);
    }
    free(uri);
  }
  free(value);
  return 0;
}
