/*
 * digest.h - HTTP Digest access authentication (RFC 7616) for the XCAP
 * server: MD5 and SHA-256 (and their -sess forms), qop=auth, with
 * stateless nonces.
 *
 * A nonce is the time it was made and an HMAC-SHA-256 over that time and
 * the realm under a secret drawn when the server starts:
 * base64url(8-byte time || first 16 bytes of the HMAC). It is good for
 * CD_DIGEST_NONCE_LIFETIME seconds; an older one of ours is answered with
 * stale=true, so clients retry without asking the user. Nonce counts are
 * not tracked: within its lifetime a captured request could be replayed
 * (run Digest over https; doc/xcap.md).
 */
#ifndef CDIVAS_XCAP_DIGEST_H
#define CDIVAS_XCAP_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#define CD_DIGEST_NONCE_LIFETIME 300
#define CD_DIGEST_NONCE_LEN 32
#define CD_DIGEST_SECRET_LEN 32

/* The parameters of an Authorization: Digest header (values unquoted). */
struct cd_digest_credentials {
  char username[257];
  char realm[129];
  char nonce[65];
  char uri[2048];
  char response[129];
  char algorithm[32];         /* "" when absent: MD5 */
  char cnonce[129];
  char qop[16];
  char nc[16];
  bool userhash;              /* userhash=true (not supported) */
};

/* Fills *c from Sofia-SIP's parameter list of the header ("name=value"
 * strings, values possibly quoted, NULL-terminated). Returns 0, or -1
 * when a parameter is too long or username, nonce, uri or response is
 * missing. */
int cd_digest_parse(const char *const *params, struct cd_digest_credentials *c);

/* A fresh nonce for `now` (out: CD_DIGEST_NONCE_LEN + 1 bytes). */
void cd_digest_nonce(const unsigned char *secret, const char *realm, long now,
                     char *out);

/* 0: ours and fresh; 1: ours but stale; -1: not ours. */
int cd_digest_nonce_check(const unsigned char *secret, const char *realm,
                          const char *nonce, long now);

/* The two WWW-Authenticate header lines (SHA-256 first, then MD5), each
 * ending in CRLF: malloc'd, or NULL when out of memory. */
char *cd_digest_challenge(const unsigned char *secret, const char *realm,
                          long now, bool stale);

/* Whether the credentials' response is the one `password` gives for
 * `method` (qop=auth only; algorithms MD5, MD5-sess, SHA-256,
 * SHA-256-sess). The nonce, realm and uri are the caller's to check. */
bool cd_digest_verify(const struct cd_digest_credentials *c, const char *method, const char *password);

#endif
