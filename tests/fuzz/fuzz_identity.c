/*
 * fuzz_identity.c - libFuzzer target for canonical identity keys and the
 * P-Served-User parser (src/identity.h).
 *
 * The input goes, as a NUL-terminated copy, to cd_identity_key() and
 * cd_served_user_parse(), and, as an exact-size buffer without a NUL, to
 * cd_identity_key_n() (so AddressSanitizer sees any read past `len`).
 *
 * Invariants (abort() when broken):
 *  - a failure leaves key "" and gives a reason; a success gives a key
 *    that starts "sip:" or "tel:", is shorter than CD_IDENTITY_KEY_MAX and
 *    holds no control byte;
 *  - cd_identity_key_n() on the exact bytes agrees with cd_identity_key()
 *    on the copy when the input holds no NUL;
 *  - a key re-normalises to itself: cd_identity_key(key) == key, for every
 *    key whose user part needs no %-escape. DECISION: keys keep the user
 *    part percent-DECODED (identity.h: "user part percent-decoded but case
 *    kept"), so "sip:a%40b@h" has the key "sip:a@b@h" and
 *    "sip:a%3Ab@h" the key "sip:a:b@h", which are not valid URIs
 *    themselves (the second even reads as user "a" with password "b").
 *    Such a key cannot re-normalise to itself by design; it is still a
 *    unique name (no other URI yields it), which is all a key must be. So
 *    the invariant is checked only when every byte of the user part is
 *    one RFC 3261 allows unescaped in a user part (unreserved or
 *    "&=+$,;?/"); see tests/fuzz/README.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/identity.h"

static void die(const char *what, const char *input, const char *key)
{
  fprintf(stderr, "fuzz_identity: invariant broken: %s\ninput: %s\nkey:   %s\n", what,
          input ? input : "(null)", key ? key : "(null)");
  abort();
}

static bool user_char_plain(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != '\0' && strchr("-_.!~*'()&=+$,;?/", c) != NULL);
}

/* True when the key is itself a URI that should normalise to itself. */
static bool key_is_plain_uri(const char *key)
{
  if (strncmp(key, "sip:", 4) != 0)
    return true;                       /* tel keys: digits, + * # A-D */
  const char *user = key + 4;
  const char *at = strchr(user, '@');
  if (at == NULL)
    return true;                       /* no user part: "sip:" host */
  if (at == user || strchr(at + 1, '@') != NULL)
    return false;                      /* a decoded '@' in the user part */
  for (const char *p = user; p < at; p++)
    if (!user_char_plain((unsigned char)*p))
      return false;
  return true;
}

static void check_key(const char *input, int rc, const char *key, const char *why)
{
  if (rc != 0) {
    if (key[0] != '\0')
      die("failure left a non-empty key", input, key);
    if (why == NULL)
      die("failure without a reason", input, key);
    return;
  }
  size_t n = strnlen(key, CD_IDENTITY_KEY_MAX);
  if (n == CD_IDENTITY_KEY_MAX)
    die("key not NUL-terminated within CD_IDENTITY_KEY_MAX", input, NULL);
  if (strncmp(key, "sip:", 4) != 0 && strncmp(key, "tel:", 4) != 0)
    die("key is neither sip: nor tel:", input, key);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)key[i];
    if (c < 0x20 || c == 0x7f)
      die("control byte in key", input, key);
  }
  if (key_is_plain_uri(key)) {
    char again[CD_IDENTITY_KEY_MAX];
    const char *why2 = NULL;
    if (cd_identity_key(key, again, &why2) != 0) {
      fprintf(stderr, "re-normalising failed: %s\n", why2 ? why2 : "?");
      die("key does not re-normalise", input, key);
    }
    if (strcmp(again, key) != 0) {
      fprintf(stderr, "re-normalised: %s\n", again);
      die("key re-normalises to another key", input, key);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *value = malloc(size + 1);
  char *exact = malloc(size ? size : 1);
  if (!value || !exact) {
    free(value);
    free(exact);
    return 0;
  }
  memcpy(value, data, size);
  value[size] = '\0';
  if (size)
    memcpy(exact, data, size);

  char key[CD_IDENTITY_KEY_MAX], key_n[CD_IDENTITY_KEY_MAX], su[CD_IDENTITY_KEY_MAX];
  const char *why = NULL, *why_n = NULL, *why_su = NULL;

  int rc = cd_identity_key(value, key, &why);
  check_key(value, rc, key, why);

  int rc_n = cd_identity_key_n(exact, size, key_n, &why_n);
  check_key(value, rc_n, key_n, why_n);
  if (memchr(data, '\0', size) == NULL &&
      (rc != rc_n || strcmp(key, key_n) != 0))
    die("cd_identity_key_n differs from cd_identity_key", value, key_n);

  struct cd_served_params ps = { CD_REGSTATE_REG, CD_SESCASE_ORIG };
  int rc_su = cd_served_user_parse(value, su, &ps, &why_su);
  check_key(value, rc_su, su, why_su);
  if (rc_su != 0 && (ps.regstate != CD_REGSTATE_UNKNOWN || ps.sescase != CD_SESCASE_UNKNOWN))
    die("failed P-Served-User parse left a parameter", value, su);
  if (ps.regstate != CD_REGSTATE_UNKNOWN && ps.regstate != CD_REGSTATE_REG && ps.regstate != CD_REGSTATE_UNREG)
    die("regstate out of range", value, su);
  if (ps.sescase != CD_SESCASE_UNKNOWN && ps.sescase != CD_SESCASE_ORIG && ps.sescase != CD_SESCASE_TERM)
    die("sescase out of range", value, su);
  /* NULL out-parameters are allowed. */
  (void)cd_served_user_parse(value, su, NULL, NULL);
  (void)cd_identity_key(value, key, NULL);

  free(exact);
  free(value);
  return 0;
}
