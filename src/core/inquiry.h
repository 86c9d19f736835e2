/*
 * inquiry.h - the KMS inquiry (seed steps 10-11): the request body, the
 * verdict, and the JSON answers. The HTTP side is in http.c; this file
 * knows no sockets.
 *
 * A permit needs all of: `as` is this server's identity; the ledger holds a
 * live chain intended -> ... -> requester for calls from initiator, of at
 * most server.max_diversions hops; the ticket hashes agree where both
 * exist; and every hop still agrees with the served user's current rules
 * (an active rule of that service to that target), or was a deflection
 * (cd: the target was chosen by the served user's phone). Everything else
 * is a deny, and a deny never says why.
 */
#ifndef CDIVAS_INQUIRY_H
#define CDIVAS_INQUIRY_H

#include <stdbool.h>
#include <stddef.h>
#include "core/conf.h"
#include "core/identity.h"
#include "core/inquiry_auth.h"
#include "core/ledger.h"

#define CD_INQUIRY_BODY_MAX 8192

struct cd_inquiry {
  char inquiry_id[65];             /* 8..64 characters */
  long long timestamp;             /* seconds since the epoch */
  char kms[CD_AUTH_KMS_ID_MAX];
  char initiator[CD_IDENTITY_KEY_MAX];  /* canonical keys */
  char intended[CD_IDENTITY_KEY_MAX];
  char requester[CD_IDENTITY_KEY_MAX];
  char as[CD_IDENTITY_KEY_MAX];
  char ticket_hash[65];            /* lower-case hex, "" when absent */
  char call_id[256];               /* "" when absent */
};

/* Parses and validates a request body (jansson). Returns 0, or -1 with a
 * short reason in `err` (for the 400 JSON error): "malformed JSON" (also
 * for a duplicate key, a \u0000 escape or invalid UTF-8), "request must be
 * a JSON object", "request body too large" (len > CD_INQUIRY_BODY_MAX),
 * "missing field 'x'", "field 'x' must be a string", "field 'x' must be an
 * integer", "inquiry_id must be 8 to 64 characters", "kms must be 1 to 127
 * characters", "field 'x' is not a SIP or tel URI", "ticket_hash must be
 * 64 hex digits", "call_id must be at most 255 characters", "unknown field
 * 'x'" (the name cut to 32 characters, non-printable bytes shown as '?').
 * Fields: inquiry_id, timestamp, kms, initiator, intended, requester, as
 * (required); ticket_hash, call_id (optional). "Characters" of inquiry_id,
 * kms and call_id are visible ASCII (0x21-0x7E; kms also without '"' and
 * '\', like the Authorization header's kms). timestamp is any JSON
 * integer (freshness is checked by the caller). ticket_hash is stored in
 * lower case; call_id is informational (the verdict does not use it). The
 * first problem found is reported: unknown fields first, then the fields
 * in the order above. On -1, *q is all zeros. */
int cd_inquiry_parse(const char *body, size_t len, struct cd_inquiry *q,
                     char *err, size_t errlen);

/* The canonical key cdivas records and compares: the subscriber's main key
 * when `key` is one of its user or alias keys, else `key` itself. Writes
 * into `out` (may equal key); "" for a NULL or over-long key. */
void cd_inquiry_canonical(const struct cd_conf *conf, const char *key,
                          char out[CD_IDENTITY_KEY_MAX]);

/* The verdict (see the header comment). */
bool cd_inquiry_permits(const struct cd_inquiry *q, const struct cd_conf *conf,
                        const struct cd_ledger *ledger, long now);

/* Response bodies (malloc'd; caller frees; NULL on allocation failure,
 * a NULL argument or an argument that is not UTF-8):
 *   {"inquiry_id":"...","verdict":"permit"|"deny"}
 *   {"error":"..."} */
char *cd_inquiry_verdict_json(const char *inquiry_id, bool permit);
char *cd_inquiry_error_json(const char *message);

#endif
