/*
 * inquiry_auth.c - authenticating a KMS inquiry (see inquiry_auth.h).
 *
 * Design:
 *  - HMAC-SHA-256 through OpenSSL 3's EVP_MAC, fed in pieces (prefix,
 *    timestamp, body) so the body is never copied. If OpenSSL fails, the
 *    verification fails: an error never turns into an accepted signature.
 *  - The Authorization header is parsed by hand, strictly: exactly the
 *    grammar of the header comment, each parameter once, nothing else. The
 *    signature must be the canonical 44-character padded base64 of 32
 *    bytes (decoded, re-encoded and compared), so there is one spelling.
 *  - The replay cache stores no strings: each (kms, inquiry_id) is reduced
 *    to the first 128 bits of SHA-256(kms '\0' inquiry_id) (a kms id holds
 *    no NUL, so the encoding is unambiguous). Two pairs colliding would
 *    only make the second look like a replay, i.e. be denied: fail closed,
 *    and at 2^-128 not a practical concern. Entries live in a FIFO ring
 *    (arrival order = expiry order, as `now` never goes back) indexed by
 *    an open-addressing set with backward-shift deletion; the capacity is
 *    fixed at creation, so memory is bounded and a full cache refuses.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* strnlen */
#endif
#include "core/inquiry_auth.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#define SCHEME "CDIV-HMAC-SHA256"
#define SIG_B64_LEN 44          /* base64 of 32 bytes: 43 characters and one '=' */
#define HEADER_MAX 1024         /* far above a valid header (~230 bytes) */
#define SIGNED_PREFIX "POST\n/cdiv/v1/inquiry\n"

/* ------------------------------------------------------------- signature */

/* HMAC-SHA-256 of the signed string. Returns 0, or -1 when OpenSSL fails. */
static int compute(const unsigned char key[CD_AUTH_KEY_LEN], long long timestamp,
                   const void *body, size_t len, unsigned char out[CD_AUTH_SIG_LEN])
{
  char ts[32];
  int n = snprintf(ts, sizeof ts, "%lld\n", timestamp);
  if (n < 0 || (size_t)n >= sizeof ts || (body == NULL && len > 0))
    return -1;
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
    OSSL_PARAM_construct_end(),
  };
  size_t outl = 0;
  int ok = ctx != NULL && EVP_MAC_init(ctx, key, CD_AUTH_KEY_LEN, params) &&
           EVP_MAC_update(ctx, (const unsigned char *)SIGNED_PREFIX, strlen(SIGNED_PREFIX)) &&
           EVP_MAC_update(ctx, (const unsigned char *)ts, (size_t)n) &&
           (len == 0 || EVP_MAC_update(ctx, body, len)) &&
           EVP_MAC_final(ctx, out, &outl, CD_AUTH_SIG_LEN) && outl == CD_AUTH_SIG_LEN;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return ok ? 0 : -1;
}

void cd_auth_sign(const unsigned char key[CD_AUTH_KEY_LEN], long long timestamp,
                  const void *body, size_t len, unsigned char sig[CD_AUTH_SIG_LEN])
{
  if (compute(key, timestamp, body, len, sig) < 0)
    memset(sig, 0, CD_AUTH_SIG_LEN);   /* never verifies: cd_auth_verify recomputes */
}

bool cd_auth_verify(const unsigned char key[CD_AUTH_KEY_LEN], long long timestamp,
                    const void *body, size_t len, const unsigned char sig[CD_AUTH_SIG_LEN])
{
  unsigned char expected[CD_AUTH_SIG_LEN];
  if (key == NULL || sig == NULL || compute(key, timestamp, body, len, expected) < 0)
    return false;
  bool ok = CRYPTO_memcmp(expected, sig, CD_AUTH_SIG_LEN) == 0;
  OPENSSL_cleanse(expected, sizeof expected);
  return ok;
}

bool cd_auth_fresh(long long timestamp, long now)
{
  /* The difference in unsigned arithmetic is exact, whatever the signs. */
  unsigned long long t = (unsigned long long)timestamp, n = (unsigned long long)(long long)now;
  unsigned long long d = timestamp >= (long long)now ? t - n : n - t;
  return d <= CD_AUTH_WINDOW;
}

static int hex_digit(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int cd_auth_key_from_hex(const char *hex, unsigned char key[CD_AUTH_KEY_LEN])
{
  unsigned char k[CD_AUTH_KEY_LEN];
  if (hex == NULL || strnlen(hex, 2 * CD_AUTH_KEY_LEN + 1) != 2 * CD_AUTH_KEY_LEN)
    return -1;
  for (size_t i = 0; i < CD_AUTH_KEY_LEN; i++) {
    int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      OPENSSL_cleanse(k, sizeof k);
      return -1;
    }
    k[i] = (unsigned char)(hi << 4 | lo);
  }
  memcpy(key, k, sizeof k);
  OPENSSL_cleanse(k, sizeof k);
  return 0;
}

void cd_auth_sig_base64(const unsigned char sig[CD_AUTH_SIG_LEN], char out[64])
{
  EVP_EncodeBlock((unsigned char *)out, sig, CD_AUTH_SIG_LEN);   /* 44 chars + NUL */
}

/* ------------------------------------------------------------- header */

/* The bytes of a kms id: visible ASCII except the quote and the backslash
 * (a backslash would be an escape in an HTTP quoted-string). */
static bool kms_char(unsigned char c)
{
  return c > 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* RFC 9110 tchar. */
static bool token_char(unsigned char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *skip_ows(const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* Decodes the canonical base64 of exactly 32 bytes. EVP_DecodeBlock counts
 * the padding as output bytes and accepts non-canonical trailing bits, so
 * the shape is checked first and the result re-encoded and compared. */
static int decode_sig(const char *b64, size_t len, unsigned char sig[CD_AUTH_SIG_LEN])
{
  unsigned char buf[SIG_B64_LEN];   /* 33 bytes decoded (with the pad) */
  char again[SIG_B64_LEN + 1];
  if (len != SIG_B64_LEN || b64[SIG_B64_LEN - 1] != '=' || b64[SIG_B64_LEN - 2] == '=')
    return -1;
  if (EVP_DecodeBlock(buf, (const unsigned char *)b64, SIG_B64_LEN) != CD_AUTH_SIG_LEN + 1)
    return -1;
  EVP_EncodeBlock((unsigned char *)again, buf, CD_AUTH_SIG_LEN);
  if (memcmp(again, b64, SIG_B64_LEN) != 0)
    return -1;
  memcpy(sig, buf, CD_AUTH_SIG_LEN);
  return 0;
}

/* Parses one `name = "value"` at *pp; sets name/value spans and advances. */
static int parse_param(const char **pp, const char **name, size_t *name_len,
                       const char **val, size_t *val_len)
{
  const char *p = *pp;
  *name = p;
  while (token_char((unsigned char)*p))
    p++;
  *name_len = (size_t)(p - *name);
  p = skip_ows(p);
  if (*name_len == 0 || *p != '=')
    return -1;
  p = skip_ows(p + 1);
  if (*p != '"')
    return -1;               /* values are quoted strings, always */
  *val = ++p;
  while (*p && *p != '"') {
    unsigned char c = (unsigned char)*p;
    if (c < 0x20 || c >= 0x7f || c == '\\')
      return -1;             /* no escapes, no controls, ASCII only */
    p++;
  }
  if (*p != '"')
    return -1;               /* unterminated */
  *val_len = (size_t)(p - *val);
  *pp = p + 1;
  return 0;
}

static int set_kms(const char *v, size_t n, char kms_id[CD_AUTH_KMS_ID_MAX])
{
  if (n == 0 || n >= CD_AUTH_KMS_ID_MAX)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (!kms_char((unsigned char)v[i]))
      return -1;
  memcpy(kms_id, v, n);
  kms_id[n] = '\0';
  return 0;
}

/* Stores one parameter; each of kms and sig must come exactly once. */
static int take_param(const char *name, size_t name_len, const char *v, size_t n,
                      bool seen[2], char kms_id[CD_AUTH_KMS_ID_MAX],
                      unsigned char sig[CD_AUTH_SIG_LEN])
{
  if (name_len != 3)
    return -1;
  if (strncasecmp(name, "kms", 3) == 0) {
    if (seen[0] || set_kms(v, n, kms_id) < 0)
      return -1;
    seen[0] = true;
    return 0;
  }
  if (strncasecmp(name, "sig", 3) == 0) {
    if (seen[1] || decode_sig(v, n, sig) < 0)
      return -1;
    seen[1] = true;
    return 0;
  }
  return -1;                 /* unknown parameter */
}

static int parse_params(const char *p, char kms_id[CD_AUTH_KMS_ID_MAX],
                        unsigned char sig[CD_AUTH_SIG_LEN])
{
  bool seen[2] = { false, false };
  for (;;) {
    const char *name, *val;
    size_t name_len, val_len;
    if (parse_param(&p, &name, &name_len, &val, &val_len) < 0 ||
        take_param(name, name_len, val, val_len, seen, kms_id, sig) < 0)
      return -1;
    p = skip_ows(p);
    if (*p == '\0')
      break;
    if (*p != ',')
      return -1;
    p = skip_ows(p + 1);     /* an empty element or a trailing comma fails next */
  }
  return seen[0] && seen[1] ? 0 : -1;
}

int cd_auth_parse_header(const char *value, char kms_id[CD_AUTH_KMS_ID_MAX],
                         unsigned char sig[CD_AUTH_SIG_LEN])
{
  char kms[CD_AUTH_KMS_ID_MAX];
  unsigned char s[CD_AUTH_SIG_LEN];
  size_t scheme_len = strlen(SCHEME);
  int rc = -1;
  if (value != NULL && strnlen(value, HEADER_MAX + 1) <= HEADER_MAX &&
      strncmp(value, SCHEME, scheme_len) == 0 && value[scheme_len] == ' ') {
    const char *p = value + scheme_len;
    while (*p == ' ')
      p++;
    rc = parse_params(p, kms, s);
  }
  if (rc == 0) {
    memcpy(kms_id, kms, sizeof kms);
    memcpy(sig, s, sizeof s);
  } else {
    kms_id[0] = '\0';
    memset(sig, 0, CD_AUTH_SIG_LEN);
  }
  return rc;
}

/* ------------------------------------------------------------- replay cache */

struct replay_entry {
  uint64_t h[2];
  long expires;              /* remembered while now <= expires */
};

struct cd_replay_cache {
  struct replay_entry *ring; /* FIFO: ring[head] is the oldest */
  size_t capacity, head, count;
  size_t *set;               /* ring index + 1, 0 = free */
  size_t set_size;           /* power of two, >= 2 * capacity */
};

struct cd_replay_cache *cd_replay_create(size_t capacity)
{
  if (capacity == 0 || capacity > SIZE_MAX / 4 / sizeof(struct replay_entry))
    return NULL;
  struct cd_replay_cache *c = calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  c->set_size = 1;
  while (c->set_size < 2 * capacity)
    c->set_size *= 2;
  c->capacity = capacity;
  c->ring = calloc(capacity, sizeof *c->ring);
  c->set = calloc(c->set_size, sizeof *c->set);
  if (c->ring == NULL || c->set == NULL) {
    cd_replay_destroy(c);
    return NULL;
  }
  return c;
}

void cd_replay_destroy(struct cd_replay_cache *c)
{
  if (c == NULL)
    return;
  free(c->ring);
  free(c->set);
  free(c);
}

size_t cd_replay_size(const struct cd_replay_cache *c)
{
  return c ? c->count : 0;
}

/* SHA-256(kms '\0' inquiry_id), first 128 bits. Returns 0 or -1. */
static int pair_digest(const char *kms_id, const char *inquiry_id, uint64_t h[2])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
           EVP_DigestUpdate(ctx, kms_id, strlen(kms_id) + 1) &&
           EVP_DigestUpdate(ctx, inquiry_id, strlen(inquiry_id)) &&
           EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen >= 16;
  EVP_MD_CTX_free(ctx);
  if (!ok)
    return -1;
  memcpy(&h[0], md, 8);
  memcpy(&h[1], md + 8, 8);
  return 0;
}

int cd_replay_pair_hex(const char *kms_id, const char *inquiry_id, char out[33])
{
  uint64_t h[2];
  out[0] = '\0';
  if (kms_id == NULL || inquiry_id == NULL || pair_digest(kms_id, inquiry_id, h) < 0)
    return -1;
  const unsigned char *b = (const unsigned char *)h;
  for (int i = 0; i < 16; i++)
    snprintf(out + 2 * i, 3, "%02x", b[i]);
  return 0;
}

static size_t home_slot(const struct cd_replay_cache *c, const uint64_t h[2])
{
  return (size_t)h[0] & (c->set_size - 1);
}

/* The set slot holding `h`, or the free slot ending its probe. */
static size_t find_slot(const struct cd_replay_cache *c, const uint64_t h[2])
{
  size_t mask = c->set_size - 1, i = home_slot(c, h);
  for (; c->set[i]; i = (i + 1) & mask) {
    const struct replay_entry *e = &c->ring[c->set[i] - 1];
    if (e->h[0] == h[0] && e->h[1] == h[1])
      break;
  }
  return i;
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void set_remove(struct cd_replay_cache *c, size_t i)
{
  size_t mask = c->set_size - 1;
  c->set[i] = 0;
  for (size_t j = (i + 1) & mask; c->set[j]; j = (j + 1) & mask) {
    size_t home = home_slot(c, c->ring[c->set[j] - 1].h);
    if (((j - home) & mask) >= ((j - i) & mask)) {
      c->set[i] = c->set[j];
      c->set[j] = 0;
      i = j;
    }
  }
}

static void drop_expired(struct cd_replay_cache *c, long now)
{
  while (c->count > 0 && c->ring[c->head].expires < now) {
    set_remove(c, find_slot(c, c->ring[c->head].h));
    c->head = (c->head + 1) % c->capacity;
    c->count--;
  }
}

int cd_replay_check(struct cd_replay_cache *c, const char *kms_id,
                    const char *inquiry_id, long now)
{
  uint64_t h[2];
  if (c == NULL || kms_id == NULL || inquiry_id == NULL ||
      pair_digest(kms_id, inquiry_id, h) < 0)
    return -1;
  drop_expired(c, now);
  size_t slot = find_slot(c, h);
  if (c->set[slot])
    return 1;
  if (c->count == c->capacity)
    return -1;
  size_t at = (c->head + c->count) % c->capacity;
  c->ring[at].h[0] = h[0];
  c->ring[at].h[1] = h[1];
  /* A timestamp seen at `now` is fresh until now + 2W at the latest. */
  c->ring[at].expires = now > LONG_MAX - 2 * CD_AUTH_WINDOW ? LONG_MAX
                                                             : now + 2 * CD_AUTH_WINDOW;
  c->set[slot] = at + 1;
  c->count++;
  return 0;
}
