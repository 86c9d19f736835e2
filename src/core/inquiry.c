/*
 * inquiry.c - the KMS inquiry: request parsing, the verdict, the JSON
 * answers (see inquiry.h).
 *
 * Design:
 *  - Parsing is strict: jansson with duplicate keys and NUL escapes
 *    refused, the top level an object, every member known and of
 *    its exact JSON type, each identity turned into its canonical key at
 *    once, so that the verdict only ever compares keys.
 *  - The verdict is the ledger's (facts of diversions cdivas performed),
 *    cross-checked hop by hop with the served user's current rules through
 *    the link_ok callback: a record whose rule has since been removed,
 *    deactivated or pointed elsewhere no longer counts. Any doubt (unknown
 *    served user, unparsable rule target, an allocation failure in the
 *    search) is a deny.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "core/inquiry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#define INQUIRY_ID_MIN 8
#define INQUIRY_ID_MAX 64
#define CALL_ID_MAX 255
#define TICKET_HASH_LEN 64
#define FIELD_NAME_SHOWN 32     /* longest unknown field name echoed back */

static const char *const known_fields[] = {
  "inquiry_id", "timestamp", "kms", "initiator", "intended", "requester", "as",
  "ticket_hash", "call_id",
};

/* ------------------------------------------------------------- parsing */

static int fail(char *err, size_t errlen, const char *fmt, const char *name)
{
  if (err != NULL && errlen > 0)
    snprintf(err, errlen, fmt, name);
  return -1;
}

/* Printable ASCII without the space: ids are echoed and logged. */
static bool visible_ascii(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
      return false;
  return true;
}

/* The unknown field's name as shown in the error: at most FIELD_NAME_SHOWN
 * visible ASCII characters (others become '?'), so the message is always
 * short, printable and valid UTF-8 for the JSON error body. */
static void shown_name(const char *name, char out[FIELD_NAME_SHOWN + 4])
{
  size_t i = 0;
  for (; name[i] && i < FIELD_NAME_SHOWN; i++)
    out[i] = visible_ascii(name + i, 1) ? name[i] : '?';
  strcpy(out + i, name[i] ? "..." : "");
}

static int check_unknown_fields(json_t *root, char *err, size_t errlen)
{
  const char *name;
  json_t *value;
  json_object_foreach(root, name, value) {
    bool known = false;
    for (size_t i = 0; i < sizeof known_fields / sizeof *known_fields; i++)
      known = known || strcmp(name, known_fields[i]) == 0;
    if (!known) {
      char shown[FIELD_NAME_SHOWN + 4];
      shown_name(name, shown);
      return fail(err, errlen, "unknown field '%s'", shown);
    }
  }
  return 0;
}

/* The string member `name`: NULL with an error when missing (and
 * required) or not a string; NULL without error when absent and optional.
 * *len is its length in bytes. */
static const char *get_string(json_t *root, const char *name, bool required,
                              size_t *len, int *rc, char *err, size_t errlen)
{
  json_t *v = json_object_get(root, name);
  *rc = 0;
  if (v == NULL) {
    if (required)
      *rc = fail(err, errlen, "missing field '%s'", name);
    return NULL;
  }
  if (!json_is_string(v)) {
    *rc = fail(err, errlen, "field '%s' must be a string", name);
    return NULL;
  }
  *len = json_string_length(v);
  return json_string_value(v);
}

static int parse_inquiry_id(json_t *root, struct cd_inquiry *q, char *err, size_t errlen)
{
  size_t n = 0;
  int rc;
  const char *s = get_string(root, "inquiry_id", true, &n, &rc, err, errlen);
  if (s == NULL)
    return rc;
  if (n < INQUIRY_ID_MIN || n > INQUIRY_ID_MAX || !visible_ascii(s, n))
    return fail(err, errlen, "%s must be 8 to 64 characters", "inquiry_id");
  memcpy(q->inquiry_id, s, n + 1);
  return 0;
}

static int parse_timestamp(json_t *root, struct cd_inquiry *q, char *err, size_t errlen)
{
  json_t *v = json_object_get(root, "timestamp");
  if (v == NULL)
    return fail(err, errlen, "missing field '%s'", "timestamp");
  if (!json_is_integer(v))     /* 1.0 and "1" are not integers */
    return fail(err, errlen, "field '%s' must be an integer", "timestamp");
  q->timestamp = (long long)json_integer_value(v);
  return 0;
}

/* The same character set as the kms parameter of the Authorization header
 * (inquiry_auth.c), so that the two can be compared. */
static int parse_kms(json_t *root, struct cd_inquiry *q, char *err, size_t errlen)
{
  size_t n = 0;
  int rc;
  const char *s = get_string(root, "kms", true, &n, &rc, err, errlen);
  if (s == NULL)
    return rc;
  if (n == 0 || n >= CD_AUTH_KMS_ID_MAX || !visible_ascii(s, n) ||
      memchr(s, '"', n) || memchr(s, '\\', n))
    return fail(err, errlen, "%s must be 1 to 127 characters", "kms");
  memcpy(q->kms, s, n + 1);
  return 0;
}

static int parse_identity(json_t *root, const char *name, char key[CD_IDENTITY_KEY_MAX],
                          char *err, size_t errlen)
{
  size_t n = 0;
  int rc;
  const char *s = get_string(root, name, true, &n, &rc, err, errlen);
  if (s == NULL)
    return rc;
  if (cd_identity_key_n(s, n, key, NULL) < 0)
    return fail(err, errlen, "field '%s' is not a SIP or tel URI", name);
  return 0;
}

static int hex_lower(char c)
{
  if (c >= '0' && c <= '9') return c;
  if (c >= 'a' && c <= 'f') return c;
  if (c >= 'A' && c <= 'F') return c - 'A' + 'a';
  return -1;
}

static int parse_ticket_hash(json_t *root, struct cd_inquiry *q, char *err, size_t errlen)
{
  size_t n = 0;
  int rc;
  const char *s = get_string(root, "ticket_hash", false, &n, &rc, err, errlen);
  if (s == NULL)
    return rc;
  if (n != TICKET_HASH_LEN)
    return fail(err, errlen, "%s must be 64 hex digits", "ticket_hash");
  for (size_t i = 0; i < n; i++) {
    int c = hex_lower(s[i]);
    if (c < 0)
      return fail(err, errlen, "%s must be 64 hex digits", "ticket_hash");
    q->ticket_hash[i] = (char)c;
  }
  q->ticket_hash[n] = '\0';
  return 0;
}

static int parse_call_id(json_t *root, struct cd_inquiry *q, char *err, size_t errlen)
{
  size_t n = 0;
  int rc;
  const char *s = get_string(root, "call_id", false, &n, &rc, err, errlen);
  if (s == NULL)
    return rc;
  if (n > CALL_ID_MAX || !visible_ascii(s, n))
    return fail(err, errlen, "%s must be at most 255 characters", "call_id");
  memcpy(q->call_id, s, n + 1);
  return 0;
}

static int parse_fields(json_t *root, struct cd_inquiry *q, char *err, size_t errlen)
{
  if (check_unknown_fields(root, err, errlen) < 0 ||
      parse_inquiry_id(root, q, err, errlen) < 0 ||
      parse_timestamp(root, q, err, errlen) < 0 ||
      parse_kms(root, q, err, errlen) < 0 ||
      parse_identity(root, "initiator", q->initiator, err, errlen) < 0 ||
      parse_identity(root, "intended", q->intended, err, errlen) < 0 ||
      parse_identity(root, "requester", q->requester, err, errlen) < 0 ||
      parse_identity(root, "as", q->as, err, errlen) < 0 ||
      parse_ticket_hash(root, q, err, errlen) < 0 ||
      parse_call_id(root, q, err, errlen) < 0)
    return -1;
  return 0;
}

int cd_inquiry_parse(const char *body, size_t len, struct cd_inquiry *q,
                     char *err, size_t errlen)
{
  if (err != NULL && errlen > 0)
    err[0] = '\0';
  if (q == NULL)
    return fail(err, errlen, "%s", "malformed JSON");
  memset(q, 0, sizeof *q);
  if (len > CD_INQUIRY_BODY_MAX)
    return fail(err, errlen, "%s", "request body too large");
  if (body == NULL)
    return fail(err, errlen, "%s", "malformed JSON");
  json_error_t jerr;
  /* jansson refuses "\u0000" in strings unless JSON_ALLOW_NUL is given
   * (there is no JSON_DISALLOW_NUL flag), so keys and values are C strings. */
  json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL)
    return fail(err, errlen, "%s", "malformed JSON");
  int rc = json_is_object(root) ? parse_fields(root, q, err, errlen)
                                : fail(err, errlen, "%s", "request must be a JSON object");
  json_decref(root);
  if (rc < 0)
    memset(q, 0, sizeof *q);    /* never half an inquiry */
  return rc;
}

/* ------------------------------------------------------------- verdict */

void cd_inquiry_canonical(const struct cd_conf *conf, const char *key,
                          char out[CD_IDENTITY_KEY_MAX])
{
  const struct cd_subscriber *sub = key ? cd_conf_find(conf, key) : NULL;
  const char *src = sub ? sub->key : key ? key : "";
  size_t n = strnlen(src, CD_IDENTITY_KEY_MAX);
  if (n == CD_IDENTITY_KEY_MAX)
    n = 0;                      /* not a key: "" matches nothing */
  memmove(out, src, n);         /* out may be key */
  out[n] = '\0';
}

/* True when `written` (a rule target as written in the configuration)
 * names the user whose canonical key is `key`. */
static bool target_is(const struct cd_conf *conf, const char *written, const char *key)
{
  char k[CD_IDENTITY_KEY_MAX];
  if (written == NULL || cd_identity_key(written, k, NULL) < 0)
    return false;
  cd_inquiry_canonical(conf, k, k);
  return k[0] != '\0' && strcmp(k, key) == 0;
}

/* A hop still counts when the served user's current rules would divert to
 * the same target by the same service; a deflection (cd) was the served
 * user's phone's choice, not a rule's. */
static bool link_ok(const struct cd_ledger_record *rec, void *ctx)
{
  const struct cd_conf *conf = ctx;
  if (rec->service == CD_SVC_CD)
    return true;
  const struct cd_subscriber *sub = cd_conf_find(conf, rec->served);
  if (sub == NULL || sub->deactivated)
    return false;
  for (size_t i = 0; i < sub->n_rules; i++) {
    const struct cd_rule *r = &sub->rules[i];
    if (r->active && r->service == rec->service && target_is(conf, r->target, rec->target))
      return true;
  }
  return false;
}

static bool is_our_identity(const struct cd_inquiry *q, const struct cd_conf *conf)
{
  char as[CD_IDENTITY_KEY_MAX], ours[CD_IDENTITY_KEY_MAX];
  cd_inquiry_canonical(conf, q->as, as);
  cd_inquiry_canonical(conf, conf->identity_key, ours);
  return as[0] != '\0' && strcmp(as, ours) == 0;
}

bool cd_inquiry_permits(const struct cd_inquiry *q, const struct cd_conf *conf,
                        const struct cd_ledger *ledger, long now)
{
  if (q == NULL || conf == NULL || ledger == NULL || conf->max_diversions <= 0 ||
      !is_our_identity(q, conf))
    return false;
  char initiator[CD_IDENTITY_KEY_MAX], intended[CD_IDENTITY_KEY_MAX],
       requester[CD_IDENTITY_KEY_MAX];
  cd_inquiry_canonical(conf, q->initiator, initiator);
  cd_inquiry_canonical(conf, q->intended, intended);
  cd_inquiry_canonical(conf, q->requester, requester);
  return cd_ledger_find_chain(ledger, initiator, intended, requester, q->ticket_hash,
                              (size_t)conf->max_diversions, now, link_ok, (void *)conf);
}

/* ------------------------------------------------------------- answers */

/* Dumps `obj` compactly and releases it; NULL when obj is NULL. */
static char *dump(json_t *obj)
{
  char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
  json_decref(obj);
  return s;
}

char *cd_inquiry_verdict_json(const char *inquiry_id, bool permit)
{
  json_t *id = inquiry_id ? json_string(inquiry_id) : NULL;   /* NULL if not UTF-8 */
  if (id == NULL)
    return NULL;
  json_t *obj = json_object();
  if (obj == NULL || json_object_set_new(obj, "inquiry_id", id) < 0 ||
      json_object_set_new(obj, "verdict", json_string(permit ? "permit" : "deny")) < 0) {
    if (obj == NULL)
      json_decref(id);
    json_decref(obj);
    return NULL;
  }
  return dump(obj);
}

char *cd_inquiry_error_json(const char *message)
{
  json_t *msg = message ? json_string(message) : NULL;
  if (msg == NULL)
    return NULL;
  json_t *obj = json_object();
  if (obj == NULL) {
    json_decref(msg);
    return NULL;
  }
  if (json_object_set_new(obj, "error", msg) < 0) {
    json_decref(obj);
    return NULL;
  }
  return dump(obj);
}
