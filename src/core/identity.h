/*
 * identity.h - canonical form of user identities (SIP, SIPS and tel URIs).
 *
 * Served users, aliases, callers and inquiry identities are compared by a
 * canonical key so that "sip:Bob@IMS.example.net:5060;transport=tcp",
 * "sips:Bob@ims.example.net" and "<sip:Bob@ims.example.net>" are the same
 * user, and "tel:+1-555-100-0002" equals "sip:+15551000002@host;user=phone".
 *
 * Key format:
 *   "sip:" user "@" host     (sips folds into sip, host lower-case, port,
 *                             URI parameters and headers dropped, user part
 *                             percent-decoded but case kept, RFC 3261 19.1.4)
 *   "sip:" host              (no user part)
 *   "tel:+" digits           (global number; visual separators - . ( ) and
 *                             spaces removed; also from sip:...;user=phone)
 *   "tel:" digits            (local number, same cleaning; parameters dropped)
 *
 * Pure string code: no Sofia-SIP, no allocation.
 *
 * Details the format above leaves open (decided in identity.c):
 *  - sip:...;user=phone becomes a tel key only when the user part (up to its
 *    first ';') is a telephone number: optional leading '+', digits, * # A-D
 *    and visual separators, at least one digit; otherwise it stays a sip key.
 *    In a SIP user part '#' must be written %23 (RFC 3261 25.1).
 *  - Number characters a-d are upper-cased; the same set is accepted for
 *    global (+) and local numbers.
 *  - The decoded user part may hold UTF-8 or other non-ASCII bytes (kept as
 *    they are); a decoded control character (%00..%1F, %7F) is malformed,
 *    so a key never contains an early NUL.
 *  - A display name may be a quoted string (backslash escapes honoured) or
 *    tokens; it must be valid UTF-8. The URI itself must be ASCII with no
 *    whitespace; params and headers are only checked for legal characters.
 *  - Inputs longer than 8192 bytes are refused ("identity too long"), as is
 *    any key that would not fit CD_IDENTITY_KEY_MAX (never truncated).
 *  - On failure `key` is "" and *why is one of: "empty identity",
 *    "control character", "invalid UTF-8", "unterminated quoted string",
 *    "unterminated <", "> without <", "display name without <URI>",
 *    "empty URI", "whitespace in URI", "non-ASCII byte in URI",
 *    "missing URI scheme", "unknown URI scheme", "empty user part",
 *    "bad character in user part", "bad %-escape in user part",
 *    "control character in user part", "bad character in password",
 *    "empty host", "bad character in host", "unterminated [ in host",
 *    "bad IPv6 reference", "bad port", "bad character in URI parameters",
 *    "bad %-escape in URI parameters", "bad character in URI headers",
 *    "bad %-escape in URI headers", "bad character in telephone number",
 *    "telephone number without digits", "identity too long".
 */
#ifndef CDIVAS_IDENTITY_H
#define CDIVAS_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

/* Longest key produced; longer identities are rejected as malformed. */
#define CD_IDENTITY_KEY_MAX 256

/* Writes the canonical key of `uri` into `key` (CD_IDENTITY_KEY_MAX bytes).
 * `uri` may be a bare URI or a name-addr ("Bob" <sip:bob@h>;tag=x): the part
 * inside the first <...> is used when present.
 * Returns 0, or -1 when `uri` is not a well-formed sip/sips/tel URI; then
 * *why (if why is not NULL) points to a static explanation. */
int cd_identity_key(const char *uri, char key[CD_IDENTITY_KEY_MAX],
                    const char **why);

/* Whether text[0..n) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF). Display names and header values may
 * carry UTF-8 (RFC 3261 UTF8-NONASCII); other bytes above 0x7f are garbage
 * cdivas refuses rather than relays or logs. */
bool cd_utf8_valid(const char *text, size_t n);

/* Like cd_identity_key() on the first `len` bytes of `uri`. */
int cd_identity_key_n(const char *uri, size_t len,
                      char key[CD_IDENTITY_KEY_MAX], const char **why);

/* The URI a request for a sips: Request-URI is retargeted to (RFC 5630
 * 3.1.3: a sips request stays secure end to end): sip:x becomes sips:x,
 * sips: stays. Writes it into `out` (size n); returns 0, or -1 when the
 * URI cannot be made secure (a tel: URI, no sip scheme) or does not fit. */
int cd_identity_secure_uri(const char *uri, char *out, size_t n);

/* What P-Served-User (RFC 5502) says besides the identity. The session
 * case matters most: CDIV is a terminating service (TS 24.604 4.5.2), so
 * an originating request is never diverted. */
enum cd_regstate { CD_REGSTATE_UNKNOWN = 0, CD_REGSTATE_REG, CD_REGSTATE_UNREG };
enum cd_sescase { CD_SESCASE_UNKNOWN = 0, CD_SESCASE_ORIG, CD_SESCASE_TERM };
struct cd_served_params {
  enum cd_regstate regstate;   /* regstate=reg|unreg, else UNKNOWN */
  enum cd_sescase sescase;     /* sescase=orig|term, else UNKNOWN */
};

/* Parses a P-Served-User header value (RFC 5502), e.g.
 *   <sip:bob@ims.example.net>;sescase=term;regstate=unreg
 * Writes the served user's canonical key and, when params is not NULL,
 * the regstate and sescase parameters (UNKNOWN when absent or of another
 * value). Returns 0 or -1 (malformed, *why explains).
 * A display name is allowed. Without <>, the URI ends at the first ';'
 * (RFC 3261 20: what follows an addr-spec are header parameters, so a bare
 * "sip:+1555@h;user=phone" keeps a sip key). Parameter names and values
 * compare case-insensitively; values may be quoted; a later parameter of
 * the same name wins. Anything after the URI other than ;name[=value]
 * parameters is malformed ("unexpected text after URI", "empty parameter",
 * "empty parameter value", besides the cd_identity_key() reasons). On
 * failure key is "" and both params UNKNOWN. */
int cd_served_user_parse(const char *value, char key[CD_IDENTITY_KEY_MAX],
                         struct cd_served_params *params, const char **why);

#endif
