/*
 * inquiry_auth.h - authenticating a KMS inquiry (doc/inquiry-api.md).
 *
 *   Authorization: CDIV-HMAC-SHA256 kms="<id>", sig="<base64>"
 *
 * sig is HMAC-SHA-256, with the KMS's 32-byte key, over
 *   "POST\n/cdiv/v1/inquiry\n" <timestamp as decimal> "\n" <body bytes>.
 * The timestamp must be within +-CD_AUTH_WINDOW seconds of now, and an
 * inquiry_id is accepted once per KMS within the window (replay cache).
 * Crypto through OpenSSL; the signature comparison is constant-time.
 */
#ifndef CDIVAS_INQUIRY_AUTH_H
#define CDIVAS_INQUIRY_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define CD_AUTH_WINDOW 30
#define CD_AUTH_KMS_ID_MAX 128
#define CD_AUTH_KEY_LEN 32
#define CD_AUTH_SIG_LEN 32

/* Parses the Authorization header value. Returns 0, or -1 (malformed:
 * wrong scheme, missing kms or sig, bad base64, signature not 32 bytes,
 * kms id longer than CD_AUTH_KMS_ID_MAX-1). Parameter order is free;
 * values are quoted strings; whitespace around commas and '=' is allowed.
 * Precisely: the case-sensitive scheme, one or more SP, then
 * name OWS "=" OWS quoted-value, separated by OWS "," OWS, optional OWS at
 * the end (OWS = SP / HTAB). Names kms and sig are case-insensitive and
 * each must appear exactly once; any other parameter, an empty list
 * element, a backslash or control or non-ASCII byte in a value is -1. The
 * kms id is 1..127 visible ASCII characters (no space, '"' or '\'); sig
 * is the canonical padded base64 (44 characters) of exactly 32 bytes.
 * Inputs over 1024 bytes are -1. On -1, kms_id is "" and sig zeroed. */
int cd_auth_parse_header(const char *value, char kms_id[CD_AUTH_KMS_ID_MAX],
                         unsigned char sig[CD_AUTH_SIG_LEN]);

/* Computes the signature (used by the KMS side and the tests). Should
 * OpenSSL fail, sig is all zeros (cd_auth_verify then still refuses it:
 * it fails closed on its own OpenSSL errors). */
void cd_auth_sign(const unsigned char key[CD_AUTH_KEY_LEN], long long timestamp,
                  const void *body, size_t len, unsigned char sig[CD_AUTH_SIG_LEN]);

/* Constant-time check of `sig` against the expected signature. */
bool cd_auth_verify(const unsigned char key[CD_AUTH_KEY_LEN], long long timestamp,
                    const void *body, size_t len, const unsigned char sig[CD_AUTH_SIG_LEN]);

/* True when |timestamp - now| <= CD_AUTH_WINDOW. */
bool cd_auth_fresh(long long timestamp, long now);

/* Decodes 64 hex digits into a 32-byte key. Returns 0 or -1. */
int cd_auth_key_from_hex(const char *hex, unsigned char key[CD_AUTH_KEY_LEN]);

/* Base64 of the signature, NUL-terminated (for clients and tests). */
void cd_auth_sig_base64(const unsigned char sig[CD_AUTH_SIG_LEN], char out[64]);

/* The replay cache: remembers (kms, inquiry_id) pairs for 2*CD_AUTH_WINDOW
 * seconds, at most `capacity` of them (a full cache refuses new ids: fail
 * closed). A pair first seen at t is a replay through t + 2*CD_AUTH_WINDOW
 * inclusive (its timestamp may be fresh until then) and new again after.
 * Pairs are kept as 128-bit SHA-256 prefixes; a collision could only make
 * a new pair look like a replay (a deny). Check a pair only after its
 * signature verified, or anyone could fill the cache.
 * cd_replay_create returns NULL on allocation failure or capacity 0. */
struct cd_replay_cache;
struct cd_replay_cache *cd_replay_create(size_t capacity);
void cd_replay_destroy(struct cd_replay_cache *cache);
/* Returns 0 when the pair is new (and remembers it), 1 when it was seen
 * within the window, -1 when the cache is full (or on NULL arguments or an
 * OpenSSL failure). `now` must never go back. */
int cd_replay_check(struct cd_replay_cache *cache, const char *kms_id,
                    const char *inquiry_id, long now);
size_t cd_replay_size(const struct cd_replay_cache *cache);

/* The name a shared replay cache (the redis store) keeps the pair under:
 * the same 128-bit SHA-256 prefix, as 32 hex digits. Returns 0, or -1
 * (out "") on NULL arguments or an OpenSSL failure. */
int cd_replay_pair_hex(const char *kms_id, const char *inquiry_id, char out[33]);

#endif
