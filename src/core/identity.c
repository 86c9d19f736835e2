/*
 * identity.c - canonical identity keys for sip, sips and tel URIs, and the
 * P-Served-User header value (contract in identity.h).
 *
 * Design: one forward pass over a bounded input, no allocation. The input
 * is cut into spans (pointer + length) on the RFC 3261 / RFC 3966
 * delimiters, every span is checked against its grammar's character set,
 * and the key is written through a bounded writer that turns overflow into
 * an error instead of truncating: a truncated key could make two different
 * users compare equal, which is worse than refusing the identity.
 * Parsing is deliberately strict about what reaches the key (user, host,
 * telephone number) and only charset-checks what is dropped (parameters,
 * headers), so odd but harmless parameters do not reject a real caller.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* strnlen, strdup */
#endif
#include "core/identity.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Longer inputs are refused outright; identities in configuration and
 * headers are far shorter, and this bounds the work done on hostile input. */
#define IDENTITY_INPUT_MAX 8192

struct span {
  const char *p;
  size_t n;
};

static struct span span_make(const char *p, size_t n) {
  struct span s = {p, n};
  return s;
}

static struct span span_sub(struct span s, size_t from, size_t to) {
  return span_make(s.p + from, to - from);
}

/* Position of the first `c` in `s`, or s.n when absent. */
static size_t span_find(struct span s, char c) {
  const char *hit = s.n ? memchr(s.p, c, s.n) : NULL;
  return hit ? (size_t)(hit - s.p) : s.n;
}

/* ---- character classes (ASCII only: the locale must not change keys) ---- */

static bool is_alpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(unsigned char c) { return is_alpha(c) || is_digit(c); }
static bool is_hex(unsigned char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static bool is_ws(unsigned char c) { return c == ' ' || c == '\t'; }
/* CR and LF are accepted around the whole value (a line read from a file
 * or a header still carrying its line end), never inside it. */
static bool is_trim_ws(unsigned char c) { return is_ws(c) || c == '\r' || c == '\n'; }
static bool is_control(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }
static bool in_set(unsigned char c, const char *set) {
  return c != '\0' && strchr(set, c) != NULL;
}
/* RFC 3261 unreserved = alphanum / mark. */
static bool is_unreserved(unsigned char c) {
  return is_alnum(c) || in_set(c, "-_.!~*'()");
}
/* RFC 3261 token. */
static bool is_token(unsigned char c) {
  return is_alnum(c) || in_set(c, "-.!%*_+`'~");
}
static unsigned char ascii_lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}
static unsigned char ascii_upper(unsigned char c) {
  return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 'a' + 'A') : c;
}
static int hex_value(unsigned char c) {
  if (is_digit(c)) return c - '0';
  return ascii_lower(c) - 'a' + 10;
}

static bool span_equals_nocase(struct span s, const char *word) {
  size_t n = strlen(word);
  if (s.n != n) return false;
  for (size_t i = 0; i < n; i++)
    if (ascii_lower((unsigned char)s.p[i]) != (unsigned char)word[i]) return false;
  return true;
}

bool cd_utf8_valid(const char *text, size_t n) {
  const unsigned char *p = (const unsigned char *)text;
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1fu; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0fu; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07u; }
    else return false;
    if (n - i < len) return false;
    for (size_t k = 1; k < len; k++) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3fu);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) return false;
    if (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) return false;
    i += len;
  }
  return true;
}

static struct span trim(struct span s) {
  while (s.n && is_trim_ws((unsigned char)s.p[0])) { s.p++; s.n--; }
  while (s.n && is_trim_ws((unsigned char)s.p[s.n - 1])) s.n--;
  return s;
}

static size_t skip_ws(struct span s, size_t i) {
  while (i < s.n && is_ws((unsigned char)s.p[i])) i++;
  return i;
}

/* Checks the whole value once so later steps can assume printable text. */
static int check_value_bytes(struct span s, const char **why) {
  for (size_t i = 0; i < s.n; i++) {
    if (is_control((unsigned char)s.p[i])) { *why = "control character"; return -1; }
  }
  if (!cd_utf8_valid(s.p, s.n)) { *why = "invalid UTF-8"; return -1; }
  return 0;
}

/* `i` is on an opening '"'. Sets *end just past the closing quote;
 * false when the string never closes (a backslash escapes any byte). */
static bool skip_quoted(struct span s, size_t i, size_t *end) {
  for (i++; i < s.n; i++) {
    if (s.p[i] == '\\') { i++; continue; }
    if (s.p[i] == '"') { *end = i + 1; return true; }
  }
  return false;
}

/* ---- bounded key writer ---- */

struct keybuf {
  char *out;
  size_t len;
  bool overflow;
};

static void kb_reset(struct keybuf *kb, size_t len) {
  kb->len = len;
  kb->out[len] = '\0';
}

static void kb_putc(struct keybuf *kb, char c) {
  if (kb->len + 1 >= CD_IDENTITY_KEY_MAX) { kb->overflow = true; return; }
  kb->out[kb->len++] = c;
  kb->out[kb->len] = '\0';
}

static void kb_puts(struct keybuf *kb, const char *s) {
  while (*s) kb_putc(kb, *s++);
}

/* ---- locating the URI ---- */

/* Finds the URI in a bare URI or a name-addr. With `bare_stops_at_param`
 * (header values, RFC 3261 20: an addr-spec without <> cannot carry URI
 * parameters) a bare URI ends at the first ';'. *tail is what follows the
 * URI (header parameters). */
static int locate_uri(struct span in, bool bare_stops_at_param, struct span *uri,
                      struct span *tail, const char **why) {
  size_t i = 0;
  bool saw_display_quote = false;
  while (i < in.n && in.p[i] != '<') {
    if (in.p[i] == '"') {
      size_t end;
      if (!skip_quoted(in, i, &end)) { *why = "unterminated quoted string"; return -1; }
      i = end;
      saw_display_quote = true;
      continue;
    }
    if (in.p[i] == '>') { *why = "> without <"; return -1; }
    i++;
  }
  if (i == in.n) {
    if (saw_display_quote) { *why = "display name without <URI>"; return -1; }
    size_t end = bare_stops_at_param ? span_find(in, ';') : in.n;
    *uri = span_sub(in, 0, end);
    *tail = span_sub(in, end, in.n);
    return 0;
  }
  struct span rest = span_sub(in, i + 1, in.n);
  size_t close = span_find(rest, '>');
  if (close == rest.n) { *why = "unterminated <"; return -1; }
  *uri = span_sub(rest, 0, close);
  *tail = span_sub(rest, close + 1, rest.n);
  return 0;
}

/* ---- URI components ---- */

/* Every byte of `s` must be unreserved, in `extra`, or part of a %XX. */
static int check_escaped(struct span s, const char *extra, const char *why_char,
                         const char *why_escape, const char **why) {
  for (size_t i = 0; i < s.n; i++) {
    unsigned char c = (unsigned char)s.p[i];
    if (c == '%') {
      if (s.n - i < 3 || !is_hex((unsigned char)s.p[i + 1]) ||
          !is_hex((unsigned char)s.p[i + 2])) {
        *why = why_escape;
        return -1;
      }
      i += 2;
      continue;
    }
    if (!is_unreserved(c) && !in_set(c, extra)) { *why = why_char; return -1; }
  }
  return 0;
}

/* Byte at s.p[*i], decoding a %XX escape (already validated). */
static unsigned char next_decoded(struct span s, size_t *i) {
  unsigned char c = (unsigned char)s.p[*i];
  if (c == '%' && s.n - *i >= 3 && is_hex((unsigned char)s.p[*i + 1]) &&
      is_hex((unsigned char)s.p[*i + 2])) {
    c = (unsigned char)(hex_value((unsigned char)s.p[*i + 1]) * 16 +
                        hex_value((unsigned char)s.p[*i + 2]));
    *i += 3;
    return c;
  }
  *i += 1;
  return c;
}

/* URI parameters (RFC 3261 paramchar, RFC 3966 paramchar: same set). */
static int check_params(struct span params, const char **why) {
  return check_escaped(params, "[]/:&+$=;", "bad character in URI parameters",
                       "bad %-escape in URI parameters", why);
}

/* The value of parameter `name` in ";"-separated params; false when absent. */
static bool param_value(struct span params, const char *name, struct span *value) {
  size_t i = 0;
  while (i < params.n) {
    struct span rest = span_sub(params, i, params.n);
    size_t end = span_find(rest, ';');
    struct span one = span_sub(rest, 0, end);
    size_t eq = span_find(one, '=');
    if (eq < one.n && span_equals_nocase(span_sub(one, 0, eq), name)) {
      *value = span_sub(one, eq + 1, one.n);
      return true;
    }
    i += end + 1;
  }
  return false;
}

static bool params_have(struct span params, const char *name, const char *value) {
  struct span v;
  return param_value(params, name, &v) && span_equals_nocase(v, value);
}

enum phone_result { PHONE_OK, PHONE_BAD_CHAR, PHONE_NO_DIGIT };

/* Writes a telephone number without visual separators. Escapes are
 * decoded first because a SIP user part may carry them (%20 as a space). */
static enum phone_result put_phone(struct keybuf *kb, struct span num) {
  bool digit_seen = false;
  size_t i = 0;
  bool first = true;
  while (i < num.n) {
    unsigned char c = next_decoded(num, &i);
    if (c == '+' && first) {
      kb_putc(kb, '+');
    } else if (is_digit(c)) {
      kb_putc(kb, (char)c);
      digit_seen = true;
    } else if (c == '*' || c == '#' || (ascii_upper(c) >= 'A' && ascii_upper(c) <= 'D')) {
      kb_putc(kb, (char)ascii_upper(c));
    } else if (!in_set(c, "-.() ")) {
      return PHONE_BAD_CHAR;
    }
    first = false;
  }
  return digit_seen ? PHONE_OK : PHONE_NO_DIGIT;
}

static int finish_key(struct keybuf *kb, const char **why) {
  if (kb->overflow) {
    kb_reset(kb, 0);
    *why = "identity too long";
    return -1;
  }
  return 0;
}

/* A telephone number with its parameters: a global number (+...) is
 * itself; a local number is only one within its phone-context (RFC 3966
 * 5.1.5), which the key keeps: a context of global digits is the number's
 * prefix ("1234;phone-context=+4930" is tel:+49301234), a domain stays
 * ("tel:1234;phone-context=ims.example.net", lower-cased); a local number
 * without a context is itself ("tel:1234"). */
static enum phone_result put_number(struct keybuf *kb, struct span num, struct span params) {
  size_t mark = kb->len;
  enum phone_result r = put_phone(kb, num);
  struct span context;
  bool global = kb->len > mark && kb->out[mark] == '+';
  if (r != PHONE_OK || global || !param_value(params, "phone-context", &context) || context.n == 0)
    return r;
  size_t at = 0;
  if (next_decoded(context, &at) == '+') {
    kb_reset(kb, mark);
    if (put_phone(kb, context) != PHONE_OK)
      return PHONE_BAD_CHAR;
    return put_phone(kb, num);
  }
  kb_puts(kb, ";phone-context=");
  for (size_t i = 0; i < context.n;) {
    /* RFC 3966: a context that is not global digits is a domain name. */
    unsigned char c = next_decoded(context, &i);
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '.'))
      return PHONE_BAD_CHAR;
    kb_putc(kb, (char)ascii_lower(c));
  }
  return PHONE_OK;
}

static int tel_key(struct span rest, struct keybuf *kb, const char **why) {
  size_t semi = span_find(rest, ';');
  struct span num = span_sub(rest, 0, semi);
  struct span params = span_sub(rest, semi < rest.n ? semi + 1 : rest.n, rest.n);
  if (check_params(params, why) < 0) return -1;
  kb_puts(kb, "tel:");
  switch (put_number(kb, num, params)) {
  case PHONE_BAD_CHAR: *why = "bad character in telephone number"; return -1;
  case PHONE_NO_DIGIT: *why = "telephone number without digits"; return -1;
  case PHONE_OK: break;
  }
  return finish_key(kb, why);
}

struct sip_parts {
  bool has_user;
  struct span user;     /* raw, without ":password" */
  struct span host;
  struct span params;   /* after the first ';' of the host part, before '?' */
};

static int check_userinfo(struct span userinfo, struct sip_parts *parts, const char **why) {
  size_t colon = span_find(userinfo, ':');
  struct span user = span_sub(userinfo, 0, colon);
  if (user.n == 0) { *why = "empty user part"; return -1; }
  if (check_escaped(user, "&=+$,;?/", "bad character in user part",
                    "bad %-escape in user part", why) < 0)
    return -1;
  if (colon < userinfo.n &&
      check_escaped(span_sub(userinfo, colon + 1, userinfo.n), "&=+$,",
                    "bad character in password", "bad %-escape in password", why) < 0)
    return -1;
  parts->has_user = true;
  parts->user = user;
  return 0;
}

/* Returns the length of the host at the start of `hp`, or -1. */
static long scan_host(struct span hp, const char **why) {
  if (hp.n > 0 && hp.p[0] == '[') {
    size_t close = span_find(hp, ']');
    if (close == hp.n) { *why = "unterminated [ in host"; return -1; }
    if (close == 1) { *why = "empty host"; return -1; }
    for (size_t i = 1; i < close; i++) {
      unsigned char c = (unsigned char)hp.p[i];
      if (!is_hex(c) && c != ':' && c != '.') { *why = "bad IPv6 reference"; return -1; }
    }
    return (long)close + 1;
  }
  size_t i = 0;
  while (i < hp.n && (is_alnum((unsigned char)hp.p[i]) || hp.p[i] == '-' || hp.p[i] == '.'))
    i++;
  if (i == 0) {
    *why = (hp.n == 0 || hp.p[0] == ':' || hp.p[0] == ';' || hp.p[0] == '?')
               ? "empty host" : "bad character in host";
    return -1;
  }
  return (long)i;
}

/* Port digits after ':' (dropped from the key, but must be a port). */
static long scan_port(struct span hp, size_t i, const char **why) {
  size_t start = i;
  unsigned long value = 0;
  while (i < hp.n && is_digit((unsigned char)hp.p[i]) && i - start < 6) {
    value = value * 10 + (unsigned long)(hp.p[i] - '0');
    i++;
  }
  if (i == start || i - start > 5 || value > 65535) { *why = "bad port"; return -1; }
  return (long)i;
}

static int split_sip(struct span rest, struct sip_parts *parts, const char **why) {
  memset(parts, 0, sizeof *parts);
  /* The first '@' ends the userinfo: '@' may not appear unescaped in the
   * user part, and a lenient reading of "?h=a@b" headers keeps working. */
  size_t at = span_find(rest, '@');
  struct span hp = rest;
  if (at < rest.n) {
    if (check_userinfo(span_sub(rest, 0, at), parts, why) < 0) return -1;
    hp = span_sub(rest, at + 1, rest.n);
  }
  long host_len = scan_host(hp, why);
  if (host_len < 0) return -1;
  parts->host = span_sub(hp, 0, (size_t)host_len);
  size_t i = (size_t)host_len;
  if (i < hp.n && hp.p[i] == ':') {
    long after = scan_port(hp, i + 1, why);
    if (after < 0) return -1;
    i = (size_t)after;
  }
  if (i < hp.n && hp.p[i] == ';') {
    struct span tail = span_sub(hp, i + 1, hp.n);
    size_t q = span_find(tail, '?');
    parts->params = span_sub(tail, 0, q);
    if (check_params(parts->params, why) < 0) return -1;
    i += 1 + q;
  }
  if (i < hp.n && hp.p[i] == '?') {
    if (check_escaped(span_sub(hp, i + 1, hp.n), "[]/?:+$=&", "bad character in URI headers",
                      "bad %-escape in URI headers", why) < 0)
      return -1;
    i = hp.n;
  }
  if (i != hp.n) { *why = "bad character in host"; return -1; }
  return 0;
}

/* sip:...;user=phone with a telephone-subscriber user part is the same
 * user as the tel URI (RFC 3261 19.1.6): parameters inside the user part
 * do not change who it is, but for the phone-context of a local number
 * (put_number). */
static bool try_phone_key(const struct sip_parts *parts, struct keybuf *kb) {
  if (!parts->has_user || !params_have(parts->params, "user", "phone")) return false;
  size_t semi = span_find(parts->user, ';');
  struct span num = span_sub(parts->user, 0, semi);
  struct span params = span_sub(parts->user, semi < parts->user.n ? semi + 1 : parts->user.n,
                                parts->user.n);
  kb_puts(kb, "tel:");
  if (put_number(kb, num, params) == PHONE_OK) return true;
  kb_reset(kb, 0);
  kb->overflow = false;
  return false;
}

static int put_user_decoded(struct keybuf *kb, struct span user, const char **why) {
  size_t i = 0;
  while (i < user.n) {
    unsigned char c = next_decoded(user, &i);
    /* A decoded NUL would end the key early and merge distinct users. */
    if (is_control(c) || c == '\t') { *why = "control character in user part"; return -1; }
    kb_putc(kb, (char)c);
  }
  return 0;
}

static int sip_key(struct span rest, struct keybuf *kb, const char **why) {
  struct sip_parts parts;
  if (split_sip(rest, &parts, why) < 0) return -1;
  if (try_phone_key(&parts, kb)) return finish_key(kb, why);
  kb_puts(kb, "sip:");
  if (parts.has_user) {
    if (put_user_decoded(kb, parts.user, why) < 0) { kb_reset(kb, 0); return -1; }
    kb_putc(kb, '@');
  }
  for (size_t i = 0; i < parts.host.n; i++)
    kb_putc(kb, (char)ascii_lower((unsigned char)parts.host.p[i]));
  return finish_key(kb, why);
}

static int check_uri_bytes(struct span uri, const char **why) {
  for (size_t i = 0; i < uri.n; i++) {
    unsigned char c = (unsigned char)uri.p[i];
    if (is_ws(c)) { *why = "whitespace in URI"; return -1; }
    if (is_control(c)) { *why = "control character"; return -1; }
    if (c >= 0x80) { *why = "non-ASCII byte in URI"; return -1; }
  }
  return 0;
}

static int key_from_uri(struct span uri, char key[CD_IDENTITY_KEY_MAX], const char **why) {
  struct keybuf kb = {key, 0, false};
  kb_reset(&kb, 0);
  if (uri.n == 0) { *why = "empty URI"; return -1; }
  if (check_uri_bytes(uri, why) < 0) return -1;
  size_t colon = span_find(uri, ':');
  if (colon == uri.n) { *why = "missing URI scheme"; return -1; }
  struct span scheme = span_sub(uri, 0, colon);
  struct span rest = span_sub(uri, colon + 1, uri.n);
  int rc;
  if (span_equals_nocase(scheme, "sip") || span_equals_nocase(scheme, "sips")) {
    rc = sip_key(rest, &kb, why);
  } else if (span_equals_nocase(scheme, "tel")) {
    rc = tel_key(rest, &kb, why);
  } else {
    *why = "unknown URI scheme";
    return -1;
  }
  if (rc < 0) kb_reset(&kb, 0);
  return rc;
}

/* Trims and checks the raw value; shared by both entry points. */
static int prepare_input(const char *text, size_t len, struct span *out, const char **why) {
  if (len > IDENTITY_INPUT_MAX) { *why = "identity too long"; return -1; }
  struct span in = trim(span_make(text, len));
  if (in.n == 0) { *why = "empty identity"; return -1; }
  if (check_value_bytes(in, why) < 0) return -1;
  *out = in;
  return 0;
}

int cd_identity_key_n(const char *uri, size_t len, char key[CD_IDENTITY_KEY_MAX],
                      const char **why) {
  const char *ignored;
  if (!why) why = &ignored;
  if (!key) { *why = "no key buffer"; return -1; }
  key[0] = '\0';
  if (!uri) { *why = "no identity"; return -1; }
  struct span in, u, tail;
  if (prepare_input(uri, len, &in, why) < 0) return -1;
  if (locate_uri(in, false, &u, &tail, why) < 0) return -1;
  return key_from_uri(u, key, why);
}

int cd_identity_key(const char *uri, char key[CD_IDENTITY_KEY_MAX], const char **why) {
  /* strnlen keeps a huge or unterminated-looking input from being walked
   * to its end just to be refused. */
  size_t len = uri ? strnlen(uri, IDENTITY_INPUT_MAX + 1) : 0;
  return cd_identity_key_n(uri, len, key, why);
}

/* ---- P-Served-User ---- */

/* Header parameter value: token, host-like token ([v6]:port) or quoted. */
static long scan_param_value(struct span s, size_t i, const char **why) {
  if (i < s.n && s.p[i] == '"') {
    size_t end;
    if (!skip_quoted(s, i, &end)) { *why = "unterminated quoted string"; return -1; }
    return (long)end;
  }
  size_t start = i;
  while (i < s.n && (is_token((unsigned char)s.p[i]) || in_set((unsigned char)s.p[i], "[]:")))
    i++;
  if (i == start) { *why = "empty parameter value"; return -1; }
  return (long)i;
}

static enum cd_regstate regstate_of(struct span value) {
  if (span_equals_nocase(value, "reg")) return CD_REGSTATE_REG;
  if (span_equals_nocase(value, "unreg")) return CD_REGSTATE_UNREG;
  return CD_REGSTATE_UNKNOWN;
}

static enum cd_sescase sescase_of(struct span value) {
  if (span_equals_nocase(value, "orig")) return CD_SESCASE_ORIG;
  if (span_equals_nocase(value, "term")) return CD_SESCASE_TERM;
  return CD_SESCASE_UNKNOWN;
}

/* ;name[=value] ... after the URI (RFC 5502 served-user-param). */
static int parse_served_params(struct span tail, struct cd_served_params *out, const char **why) {
  size_t i = skip_ws(tail, 0);
  while (i < tail.n) {
    if (tail.p[i] != ';') { *why = "unexpected text after URI"; return -1; }
    i = skip_ws(tail, i + 1);
    size_t name_start = i;
    while (i < tail.n && is_token((unsigned char)tail.p[i])) i++;
    struct span name = span_sub(tail, name_start, i);
    if (name.n == 0) { *why = "empty parameter"; return -1; }
    i = skip_ws(tail, i);
    struct span value = span_make(tail.p + i, 0);
    if (i < tail.n && tail.p[i] == '=') {
      i = skip_ws(tail, i + 1);
      long end = scan_param_value(tail, i, why);
      if (end < 0) return -1;
      value = span_sub(tail, i, (size_t)end);
      i = skip_ws(tail, (size_t)end);
    }
    if (span_equals_nocase(name, "regstate")) out->regstate = regstate_of(value);
    if (span_equals_nocase(name, "sescase")) out->sescase = sescase_of(value);
  }
  return 0;
}

int cd_served_user_parse(const char *value, char key[CD_IDENTITY_KEY_MAX],
                         struct cd_served_params *params, const char **why) {
  const char *ignored;
  if (!why) why = &ignored;
  if (params) *params = (struct cd_served_params){0};
  if (!key) { *why = "no key buffer"; return -1; }
  key[0] = '\0';
  if (!value) { *why = "no P-Served-User value"; return -1; }
  struct span in, uri, tail;
  if (prepare_input(value, strnlen(value, IDENTITY_INPUT_MAX + 1), &in, why) < 0) return -1;
  if (locate_uri(in, true, &uri, &tail, why) < 0) return -1;
  if (key_from_uri(uri, key, why) < 0) return -1;
  struct cd_served_params found = {0};
  if (parse_served_params(tail, &found, why) < 0) {
    key[0] = '\0';
    return -1;
  }
  if (params) *params = found;
  return 0;
}

int cd_identity_secure_uri(const char *uri, char *out, size_t n) {
  if (!uri || !out) return -1;
  const char *rest;
  if (strncasecmp(uri, "sips:", 5) == 0) rest = uri + 5;
  else if (strncasecmp(uri, "sip:", 4) == 0) rest = uri + 4;
  else return -1;
  int len = snprintf(out, n, "sips:%s", rest);
  return len >= 0 && (size_t)len < n ? 0 : -1;
}
