/*
 * fuzz_inquiry.c - libFuzzer target for the KMS inquiry request: the JSON
 * body (cd_inquiry_parse, src/inquiry.h, jansson) and the Authorization
 * header (cd_auth_parse_header, src/inquiry_auth.h).
 *
 * The same input is used twice: as the body (an exact-size heap copy, no
 * NUL, so AddressSanitizer sees a read past `len`) and as the header value
 * (a NUL-terminated copy).
 *
 * Invariants (abort() when broken):
 *  - cd_inquiry_parse: on -1 the error text is non-empty and the inquiry
 *    all zeros; on 0 the error text is empty, every field holds what the
 *    contract says (lengths, character sets, canonical keys), and the
 *    JSON answers for it can be built (cd_inquiry_verdict_json with its
 *    inquiry_id, cd_inquiry_error_json with any error text the parser
 *    produced);
 *  - cd_auth_parse_header: on -1 kms is "" and sig zero; on 0 the header
 *    rebuilt from the parsed kms and sig parses back to the same values.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/inquiry.h"
#include "core/inquiry_auth.h"

static void die(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz_inquiry: invariant broken: %s\n%s\n", what, detail ? detail : "");
  abort();
}

static bool all_zero(const void *p, size_t n)
{
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i])
      return false;
  return true;
}

static bool visible(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
      return false;
  return true;
}

/* A canonical key (identity.h); fuzz_identity checks keys in depth. */
static void check_key(const char *key, const char *name)
{
  size_t n = strnlen(key, CD_IDENTITY_KEY_MAX);
  if (n == 0 || n == CD_IDENTITY_KEY_MAX ||
      (strncmp(key, "sip:", 4) != 0 && strncmp(key, "tel:", 4) != 0))
    die("identity field is not a key", name);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f)
      die("control byte in an identity key", name);
}

static void check_inquiry(const uint8_t *data, size_t size)
{
  unsigned char *body = malloc(size ? size : 1);
  if (!body)
    return;
  if (size)
    memcpy(body, data, size);
  struct cd_inquiry q;
  char err[128];
  memset(err, 'x', sizeof err);
  int rc = cd_inquiry_parse((const char *)body, size, &q, err, sizeof err);
  if (memchr(err, '\0', sizeof err) == NULL)
    die("error text not NUL-terminated", NULL);
  if (rc != 0) {
    if (err[0] == '\0')
      die("parse failed without an error text", NULL);
    if (!all_zero(&q, sizeof q))
      die("parse failed but left half an inquiry", err);
    char *json = cd_inquiry_error_json(err);
    if (json == NULL)
      die("cd_inquiry_error_json refused a parser error text", err);
    free(json);
  } else {
    if (err[0] != '\0')
      die("parse succeeded with an error text", err);
    size_t n = strlen(q.inquiry_id);
    if (n < 8 || n > 64 || !visible(q.inquiry_id))
      die("bad inquiry_id accepted", q.inquiry_id);
    n = strlen(q.kms);
    if (n < 1 || n >= CD_AUTH_KMS_ID_MAX || !visible(q.kms) || strpbrk(q.kms, "\"\\"))
      die("bad kms accepted", q.kms);
    n = strlen(q.ticket_hash);
    if (n != 0 && (n != 64 || strspn(q.ticket_hash, "0123456789abcdef") != 64))
      die("bad ticket_hash accepted", q.ticket_hash);
    if (strlen(q.call_id) > 255 || !visible(q.call_id))
      die("bad call_id accepted", q.call_id);
    check_key(q.initiator, "initiator");
    check_key(q.intended, "intended");
    check_key(q.requester, "requester");
    check_key(q.as, "as");
    char *json = cd_inquiry_verdict_json(q.inquiry_id, size & 1);
    if (json == NULL)
      die("cd_inquiry_verdict_json refused a parsed inquiry_id", q.inquiry_id);
    free(json);
  }
  /* A NULL error buffer is allowed. */
  (void)cd_inquiry_parse((const char *)body, size, &q, NULL, 0);
  free(body);
}

static void check_auth(const uint8_t *data, size_t size)
{
  char *value = malloc(size + 1);
  if (!value)
    return;
  memcpy(value, data, size);
  value[size] = '\0';
  char kms[CD_AUTH_KMS_ID_MAX];
  unsigned char sig[CD_AUTH_SIG_LEN];
  memset(kms, 'x', sizeof kms);
  memset(sig, 0xAA, sizeof sig);
  int rc = cd_auth_parse_header(value, kms, sig);
  if (rc != 0) {
    if (kms[0] != '\0' || !all_zero(sig, sizeof sig))
      die("failed parse left kms or sig", value);
  } else {
    size_t n = strnlen(kms, CD_AUTH_KMS_ID_MAX);
    if (n == 0 || n >= CD_AUTH_KMS_ID_MAX || !visible(kms) || strpbrk(kms, "\"\\"))
      die("bad kms accepted", value);
    char b64[64], header[CD_AUTH_KMS_ID_MAX + 128];
    cd_auth_sig_base64(sig, b64);
    snprintf(header, sizeof header, "CDIV-HMAC-SHA256 sig=\"%s\", kms=\"%s\"", b64, kms);
    char kms2[CD_AUTH_KMS_ID_MAX];
    unsigned char sig2[CD_AUTH_SIG_LEN];
    if (cd_auth_parse_header(header, kms2, sig2) != 0 || strcmp(kms, kms2) != 0 ||
        memcmp(sig, sig2, sizeof sig) != 0)
      die("rebuilt Authorization header does not round-trip", header);
  }
  free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  check_inquiry(data, size);
  check_auth(data, size);
  return 0;
}
