/*
 * diversion.c - Diversion headers (RFC 5806) as RFC 6044 interworks them
 * with History-Info; contract in diversion.h.
 *
 * The reader is deliberately forgiving: a received Diversion header is
 * only ever counted (the diversion limit) and passed on as it came, so a
 * malformed one should neither refuse a call nor make it count for less
 * than it says; every entry counts at least once.
 */
#include "core/diversion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest URI cd_diversion_format takes. */
#define DIVERSION_URI_MAX 8192

const char *cd_diversion_reason(int cause)
{
  switch (cause) {
  case 302: return "unconditional";
  case 486: return "user-busy";
  case 408: return "no-answer";
  case 480:
  case 487: return "deflection";
  case 503: return "unavailable";
  default: return "unknown";   /* 404, and what RFC 6044's table does not name */
  }
}

static bool uri_fits_angle(const char *uri)
{
  size_t n = 0;
  if (uri == NULL || *uri == '\0')
    return false;
  for (const unsigned char *p = (const unsigned char *)uri; *p; p++, n++) {
    if (n >= DIVERSION_URI_MAX || *p <= 0x20 || *p >= 0x7f || strchr("<>\"\\", *p) != NULL)
      return false;
  }
  return true;
}

char *cd_diversion_format(const char *uri, int cause, bool privacy)
{
  if (!uri_fits_angle(uri))
    return NULL;
  const char *reason = cd_diversion_reason(cause);
  const char *priv = privacy ? ";privacy=full" : "";
  size_t n = strlen(uri) + strlen(reason) + strlen(priv) + sizeof "<>;reason=;counter=1";
  char *s = malloc(n);
  if (s == NULL)
    return NULL;
  snprintf(s, n, "<%s>;reason=%s;counter=1%s", uri, reason, priv);
  return s;
}

/* ---- reading ---- */

static bool is_ws(char c) { return c == ' ' || c == '\t'; }

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

static bool name_is(const char *s, size_t n, const char *word)
{
  if (strlen(word) != n)
    return false;
  for (size_t i = 0; i < n; i++)
    if (lower(s[i]) != word[i])
      return false;
  return true;
}

/* Index just past the quoted string opening at s[i], or n when it does
 * not close. */
static size_t past_quoted(const char *s, size_t n, size_t i)
{
  for (i++; i < n; i++) {
    if (s[i] == '\\' && i + 1 < n)
      i++;
    else if (s[i] == '"')
      return i + 1;
  }
  return n;
}

/* End of the entry starting at `start`: the next ',' outside <> and
 * quoted strings, or n. */
static size_t entry_end(const char *s, size_t n, size_t start)
{
  size_t i = start;
  while (i < n) {
    if (s[i] == '"') {
      i = past_quoted(s, n, i);
    } else if (s[i] == '<') {
      const char *close = memchr(s + i, '>', n - i);
      i = close ? (size_t)(close - s) + 1 : n;
    } else if (s[i] == ',') {
      return i;
    } else {
      i++;
    }
  }
  return n;
}

/* One ";name=value" parameter of entry [i, end) into e. */
static void apply_param(struct cd_diversion_entry *e, const char *name, size_t nlen,
                        const char *val, size_t vlen)
{
  if (name_is(name, nlen, "counter")) {
    if (vlen >= 1 && vlen <= 2 && val[0] >= '0' && val[0] <= '9' &&
        (vlen == 1 || (val[1] >= '0' && val[1] <= '9'))) {
      unsigned c = (unsigned)(val[0] - '0');
      if (vlen == 2)
        c = c * 10 + (unsigned)(val[1] - '0');
      e->counter = c > 0 ? c : 1;   /* counter=0 still records a diversion */
    }
  } else if (name_is(name, nlen, "reason")) {
    if (vlen < sizeof e->reason) {
      memcpy(e->reason, val, vlen);
      e->reason[vlen] = '\0';
    }
  } else if (name_is(name, nlen, "privacy")) {
    bool off = name_is(val, vlen, "off") || name_is(val, vlen, "\"off\"");
    e->privacy = vlen > 0 && !off;
  }
}

static void parse_entry(const char *s, size_t start, size_t end, struct cd_diversion_entry *e)
{
  memset(e, 0, sizeof *e);
  e->counter = 1;
  size_t i = start;
  /* [display-name] <URI> */
  while (i < end && s[i] != '<') {
    if (s[i] == '"') {
      i = past_quoted(s, end, i);
    } else if (s[i] == ';') {
      break;        /* no name-addr: parameters only, or junk */
    } else {
      i++;
    }
  }
  if (i < end && s[i] == '<') {
    const char *close = memchr(s + i, '>', end - i);
    size_t stop = close ? (size_t)(close - s) : end;
    e->uri = s + i + 1;
    e->uri_len = stop - i - 1;
    i = close ? stop + 1 : end;
  }
  /* *( ";" name [ "=" value ] ) */
  while (i < end) {
    if (s[i] != ';') {
      i++;
      continue;
    }
    i++;
    while (i < end && is_ws(s[i]))
      i++;
    size_t name = i;
    while (i < end && s[i] != '=' && s[i] != ';' && !is_ws(s[i]))
      i++;
    size_t nlen = i - name;
    while (i < end && is_ws(s[i]))
      i++;
    size_t val = i, vlen = 0;
    if (i < end && s[i] == '=') {
      i++;
      while (i < end && is_ws(s[i]))
        i++;
      val = i;
      if (i < end && s[i] == '"')
        i = past_quoted(s, end, i);
      else
        while (i < end && s[i] != ';' && !is_ws(s[i]))
          i++;
      vlen = i - val;
    }
    apply_param(e, s + name, nlen, s + val, vlen);
  }
}

/* The next non-empty comma-separated entry of value[*i .. n), parsed into
 * *e; false when none is left. */
static bool next_entry(const char *value, size_t n, size_t *i, struct cd_diversion_entry *e)
{
  while (*i < n) {
    size_t end = entry_end(value, n, *i);
    size_t a = *i, b = end;
    *i = end + 1;
    while (a < b && is_ws(value[a]))
      a++;
    while (b > a && is_ws(value[b - 1]))
      b--;
    if (a < b) {
      parse_entry(value, a, b, e);
      return true;
    }
  }
  return false;
}

size_t cd_diversion_parse(const char *value, struct cd_diversion_entry *out, size_t max)
{
  size_t count = 0, i = 0, n = value ? strlen(value) : 0;
  struct cd_diversion_entry e;
  while (next_entry(value, n, &i, &e)) {
    if (count < max && out != NULL)
      out[count] = e;
    count++;
  }
  return count;
}

unsigned cd_diversion_count(const char *value)
{
  unsigned total = 0;
  size_t i = 0, n = value ? strlen(value) : 0;
  struct cd_diversion_entry e;
  while (total < 1000 && next_entry(value, n, &i, &e))
    total += e.counter;
  return total > 1000 ? 1000 : total;
}
