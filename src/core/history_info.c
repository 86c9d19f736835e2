/*
 * history_info.c - History-Info chains (RFC 7044) with cause-param
 * (RFC 4458); contract in history_info.h.
 *
 * Design: received entries keep their exact text and are never
 * re-serialised, because cdivas must not rewrite History-Info it did not
 * add; parsing only extracts what decisions need (uri, index, parent tag,
 * cause). Our own entries are kept as fields and formatted on demand, so
 * Reason and Privacy can be attached after the entry exists: the served
 * user's entry learns its Reason only when the call is diverted away.
 * Parsing and diverting are all-or-nothing: new entries are built aside
 * and moved into the chain only once everything succeeded, so a caller
 * never sees half a header or half a diversion.
 *
 * Length (over 700 lines): one concept, the History-Info chain, read and
 * written the one way; parsing, the liberal numbering of received entries
 * (RFC 7044 10.3), appending and formatting share the entry model and its
 * index rules, which would otherwise leak into a header of their own.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* strnlen, strdup */
#endif
#include "core/history_info.h"
#include "core/identity.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One header value longer than this is refused (hostile input bound; 128
 * entries of a few hundred bytes fit easily). */
#define HI_VALUE_MAX 65536

/* ---- small helpers ---- */

static bool is_alpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(unsigned char c) { return is_alpha(c) || is_digit(c); }
static bool is_ws(unsigned char c) { return c == ' ' || c == '\t'; }
static bool is_control(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }
static bool in_set(unsigned char c, const char *set) {
  return c != '\0' && strchr(set, c) != NULL;
}
/* RFC 3261 token. */
static bool is_token(unsigned char c) {
  return is_alnum(c) || in_set(c, "-.!%*_+`'~");
}
static unsigned char ascii_lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool equals_nocase(const char *s, size_t n, const char *word) {
  if (strlen(word) != n) return false;
  for (size_t i = 0; i < n; i++)
    if (ascii_lower((unsigned char)s[i]) != (unsigned char)word[i]) return false;
  return true;
}

static char *dup_n(const char *s, size_t n) {
  char *copy = malloc(n + 1);
  if (!copy) return NULL;
  memcpy(copy, s, n);
  copy[n] = '\0';
  return copy;
}

static char *dup_or_null(const char *s, bool *failed) {
  if (!s) return NULL;
  char *copy = strdup(s);
  if (!copy) *failed = true;
  return copy;
}

/* ---- growable string ---- */

struct sbuf {
  char *p;
  size_t len;
  size_t cap;
  bool failed;
};

static void sb_put(struct sbuf *b, const char *s, size_t n) {
  if (b->failed) return;
  if (n > SIZE_MAX / 2 - b->len - 1) { b->failed = true; return; }
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) { b->failed = true; return; }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* Hands the string over (malloc'd "" when nothing was written). */
static char *sb_finish(struct sbuf *b) {
  if (b->failed) {
    free(b->p);
    return NULL;
  }
  if (!b->p) return strdup("");
  return b->p;
}

/* ---- index values ---- */

/* RFC 7044 index-val: number *("." number), number = "0" / %x31-39 *DIGIT
 * (a number has no leading zero; a lone 0 is the gap marker of RFC 7044
 * 10.3 rule 6, which cdivas writes itself), bounded so it fits
 * cd_hi_entry.index. */
static bool index_valid(const char *s, size_t n) {
  if (n == 0 || n >= CD_HI_INDEX_MAX) return false;
  size_t digits = 0;   /* digits of the number being read */
  bool zero = false;   /* ... which started with 0 */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '.') {
      if (digits == 0) return false;
      digits = 0;
    } else if (is_digit(c)) {
      if (digits == 0) zero = c == '0';
      else if (zero) return false;   /* "01" */
      digits++;
    } else {
      return false;
    }
  }
  return digits > 0;
}

/* True when one of entries[0, n) has index `index`. */
static bool index_taken(const cd_hi_entry *entries, size_t n, const char *index) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(entries[i].index, index) == 0) return true;
  return false;
}

/* ---- chain storage ---- */

void cd_hi_init(cd_hi_chain *chain) {
  if (!chain) return;
  chain->entries = NULL;
  chain->count = 0;
  chain->capacity = 0;
}

static void entry_free(cd_hi_entry *e) {
  free(e->uri);
  free(e->reason);
  free(e->text);
  free(e->key);
  e->uri = e->reason = e->text = e->key = NULL;
}

void cd_hi_free(cd_hi_chain *chain) {
  if (!chain) return;
  for (size_t i = 0; i < chain->count; i++) entry_free(&chain->entries[i]);
  free(chain->entries);
  cd_hi_init(chain);
}

static int ensure_room(cd_hi_chain *chain, size_t extra) {
  if (extra > SIZE_MAX / sizeof(cd_hi_entry) - chain->count) return -1;
  size_t need = chain->count + extra;
  if (need <= chain->capacity) return 0;
  size_t cap = chain->capacity ? chain->capacity : 4;
  while (cap < need) cap *= 2;
  cd_hi_entry *p = realloc(chain->entries, cap * sizeof *p);
  if (!p) return -1;
  chain->entries = p;
  chain->capacity = cap;
  return 0;
}

int cd_hi_copy(cd_hi_chain *dst, const cd_hi_chain *src) {
  if (!dst) return -1;
  cd_hi_init(dst);
  if (!src || src->count == 0) return 0;
  if (ensure_room(dst, src->count) < 0) return -1;
  for (size_t i = 0; i < src->count; i++) {
    const cd_hi_entry *from = &src->entries[i];
    cd_hi_entry *to = &dst->entries[i];
    bool failed = false;
    *to = *from;
    to->uri = dup_or_null(from->uri, &failed);
    to->reason = dup_or_null(from->reason, &failed);
    to->text = dup_or_null(from->text, &failed);
    to->key = dup_or_null(from->key, &failed);
    dst->count = i + 1;
    if (failed) {
      cd_hi_free(dst);
      return -1;
    }
  }
  return 0;
}

size_t cd_hi_received(const cd_hi_chain *chain) {
  size_t n = 0;
  if (!chain) return 0;
  while (n < chain->count && !chain->entries[n].ours) n++;
  return n;
}

size_t cd_hi_unindexed(const cd_hi_chain *chain) {
  size_t n = 0;
  if (!chain) return 0;
  for (size_t i = 0; i < chain->count; i++)
    if (chain->entries[i].index[0] == '\0') n++;
  return n;
}

size_t cd_hi_diversions(const cd_hi_chain *chain) {
  size_t n = 0;
  if (!chain) return 0;
  for (size_t i = 0; i < chain->count; i++)
    if (chain->entries[i].cause != 0) n++;
  return n;
}

const char *cd_hi_key(cd_hi_entry *entry) {
  if (!entry) return NULL;
  if (!entry->key) {
    char key[CD_IDENTITY_KEY_MAX];
    if (!entry->uri || cd_identity_key(entry->uri, key, NULL) < 0) key[0] = '\0';
    entry->key = strdup(key);
  }
  return entry->key;
}

int cd_hi_set_key(cd_hi_entry *entry, const char *key) {
  char *copy = entry && key ? strdup(key) : NULL;
  if (!copy) return -1;
  free(entry->key);
  entry->key = copy;
  return 0;
}

bool cd_hi_contains_key(cd_hi_chain *chain, const char *key) {
  if (!chain || !key || !key[0]) return false;
  for (size_t i = 0; i < chain->count; i++) {
    const char *k = cd_hi_key(&chain->entries[i]);
    if (k && strcmp(k, key) == 0) return true;
  }
  return false;
}

/* ---- cause-param ---- */

/* RFC 4458 puts cause= among the URI parameters; they follow the host, so
 * the search starts after the last '@' to ignore ";..." in a user part,
 * and stops at '?' because headers are not URI parameters. A value that is
 * not a 3-digit SIP status code counts as no cause. */
static int uri_cause(const char *uri) {
  size_t end = strcspn(uri, "?");
  size_t start = 0;
  for (size_t i = 0; i < end; i++)
    if (uri[i] == '@') start = i + 1;
  int cause = 0;
  size_t i = start;
  while (i < end) {
    const char *semi = memchr(uri + i, ';', end - i);
    if (!semi) break;
    size_t p = (size_t)(semi - uri) + 1;
    size_t q = p;
    while (q < end && uri[q] != ';') q++;
    if (q - p == 9 && equals_nocase(uri + p, 6, "cause=") && is_digit((unsigned char)uri[p + 6]) &&
        is_digit((unsigned char)uri[p + 7]) && is_digit((unsigned char)uri[p + 8]) &&
        uri[p + 6] != '0')
      cause = (uri[p + 6] - '0') * 100 + (uri[p + 7] - '0') * 10 + (uri[p + 8] - '0');
    i = q;
  }
  return cause;
}

/* ---- parsing ---- */

struct cursor {
  const char *s;
  size_t n;
  size_t i;
};

static void skip_ws(struct cursor *c) {
  while (c->i < c->n && is_ws((unsigned char)c->s[c->i])) c->i++;
}

static bool at(const struct cursor *c, char ch) { return c->i < c->n && c->s[c->i] == ch; }

/* Cursor on an opening '"'; moves past the closing one. */
static int skip_quoted(struct cursor *c, const char **why) {
  for (size_t i = c->i + 1; i < c->n; i++) {
    if (c->s[i] == '\\') { i++; continue; }
    if (c->s[i] == '"') { c->i = i + 1; return 0; }
  }
  *why = "unterminated quoted string";
  return -1;
}

/* Optional display name (quoted string or tokens) up to the '<'. */
static int skip_display_name(struct cursor *c, const char **why) {
  while (c->i < c->n && c->s[c->i] != '<') {
    char ch = c->s[c->i];
    if (ch == '"') {
      if (skip_quoted(c, why) < 0) return -1;
      continue;
    }
    if (ch == ',' || ch == ';' || ch == '>') break;
    c->i++;
  }
  if (!at(c, '<')) { *why = "missing <URI>"; return -1; }
  return 0;
}

/* hi-targeted-to-uri: an absolute URI with no byte that would break <>. */
static int check_uri(const char *u, size_t n, const char **why) {
  if (n == 0) { *why = "empty URI"; return -1; }
  size_t i = 0;
  while (i < n && (is_alnum((unsigned char)u[i]) || in_set((unsigned char)u[i], "+-.")))
    i++;
  if (i == 0 || i == n || u[i] != ':' || !is_alpha((unsigned char)u[0])) {
    *why = "URI without scheme";
    return -1;
  }
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)u[i];
    if (is_ws(ch) || ch >= 0x80 || in_set(ch, "<\"\\")) {
      *why = "bad character in URI";
      return -1;
    }
  }
  return 0;
}

/* '<' uri '>'; stores the URI and its cause. */
static int parse_angle_uri(struct cursor *c, cd_hi_entry *e, const char **why) {
  size_t open = c->i;
  const char *close = memchr(c->s + open + 1, '>', c->n - open - 1);
  if (!close) { *why = "unterminated <"; return -1; }
  size_t len = (size_t)(close - (c->s + open + 1));
  if (check_uri(c->s + open + 1, len, why) < 0) return -1;
  e->uri = dup_n(c->s + open + 1, len);
  if (!e->uri) { *why = "out of memory"; return -1; }
  e->cause = uri_cause(e->uri);
  c->i = (size_t)(close - c->s) + 1;
  return 0;
}

/* Parameter value: quoted string or token-ish (gen-value = token / host). */
static int scan_value(struct cursor *c, size_t *start, size_t *len, const char **why) {
  *start = c->i;
  if (at(c, '"')) {
    if (skip_quoted(c, why) < 0) return -1;
  } else {
    while (c->i < c->n && (is_token((unsigned char)c->s[c->i]) ||
                           in_set((unsigned char)c->s[c->i], "[]:")))
      c->i++;
  }
  *len = c->i - *start;
  if (*len == 0) { *why = "empty parameter value"; return -1; }
  return 0;
}

static char tag_of(const char *name, size_t n) {
  if (equals_nocase(name, n, "mp")) return 'm';
  if (equals_nocase(name, n, "rc")) return 'r';
  if (equals_nocase(name, n, "np")) return 'n';
  return 0;
}

static bool index_valued(const char *name, size_t n) {
  return equals_nocase(name, n, "index") || tag_of(name, n) != 0;
}

/* What the header parameters of one entry said about its index. */
struct index_seen {
  bool index;     /* an index parameter was there (valid or not) */
  bool unusable;  /* ... but missing a value, malformed, or given twice */
};

/* Applies one header parameter we care about; others are kept in text.
 * Being liberal (cdivas never refuses a call for its History-Info
 * numbering): an index that is malformed or given twice leaves the entry
 * without one (e->index ""), a malformed or second mp/rc/np is ignored. */
static void apply_param(cd_hi_entry *e, const char *name, size_t nlen, const char *val,
                        size_t vlen, struct index_seen *seen) {
  char tag = tag_of(name, nlen);
  bool valid = val && index_valid(val, vlen);
  if (equals_nocase(name, nlen, "index")) {
    if (seen->index || !valid) {
      seen->unusable = true;
    } else {
      memcpy(e->index, val, vlen);
      e->index[vlen] = '\0';
    }
    seen->index = true;
    if (seen->unusable) e->index[0] = '\0';
  } else if (tag && !e->tag && valid) {
    memcpy(e->parent, val, vlen);
    e->parent[vlen] = '\0';
    e->tag = tag;
  }
}

/* *( SEMI name [ EQUAL value ] ); stops before ',' or the end. */
static int parse_header_params(struct cursor *c, cd_hi_entry *e, size_t *text_end,
                               const char **why) {
  struct index_seen seen = {false, false};
  for (;;) {
    skip_ws(c);
    if (c->i == c->n || at(c, ',')) break;
    if (!at(c, ';')) { *why = "junk after History-Info entry"; return -1; }
    c->i++;
    skip_ws(c);
    size_t name = c->i;
    while (c->i < c->n && is_token((unsigned char)c->s[c->i])) c->i++;
    size_t nlen = c->i - name;
    if (nlen == 0) { *why = "empty parameter"; return -1; }
    *text_end = c->i;
    skip_ws(c);
    size_t vstart = 0, vlen = 0;
    bool has_value = at(c, '=');
    if (has_value) {
      c->i++;
      size_t after_eq = c->i;
      skip_ws(c);
      /* "index=" is an unusable index, not a reason to refuse the call. */
      bool empty_ok = index_valued(c->s + name, nlen) &&
                      (c->i == c->n || at(c, ';') || at(c, ','));
      if (empty_ok) {
        vstart = c->i;
        *text_end = after_eq;
      } else {
        if (scan_value(c, &vstart, &vlen, why) < 0) return -1;
        *text_end = c->i;
      }
    }
    apply_param(e, c->s + name, nlen, has_value ? c->s + vstart : NULL, vlen, &seen);
  }
  return 0;
}

/* One hi-entry starting at c->i; leaves the cursor on ',' or the end. */
static int parse_entry(struct cursor *c, cd_hi_entry *e, const char **why) {
  skip_ws(c);
  if (c->i == c->n || at(c, ',')) { *why = "empty History-Info entry"; return -1; }
  size_t start = c->i;
  if (skip_display_name(c, why) < 0) return -1;
  if (parse_angle_uri(c, e, why) < 0) return -1;
  size_t text_end = c->i;
  if (parse_header_params(c, e, &text_end, why) < 0) return -1;
  e->text = dup_n(c->s + start, text_end - start);
  if (!e->text) { *why = "out of memory"; return -1; }
  e->ours = false;
  return 0;
}

static int check_value(const char *value, size_t n, const char **why) {
  for (size_t i = 0; i < n; i++) {
    if (is_control((unsigned char)value[i])) { *why = "control character"; return -1; }
  }
  if (!cd_utf8_valid(value, n)) { *why = "invalid UTF-8"; return -1; }
  return 0;
}

/* Parses every entry of `value` into `tmp`; `already` entries are in the
 * call's chain and count against the bound. */
static int parse_value(cd_hi_chain *tmp, const char *value, size_t n, size_t already,
                       const char **why) {
  struct cursor c = {value, n, 0};
  for (;;) {
    if (already + tmp->count >= CD_HI_MAX_ENTRIES) {
      *why = "too many History-Info entries";
      return -1;
    }
    if (ensure_room(tmp, 1) < 0) { *why = "out of memory"; return -1; }
    cd_hi_entry *e = &tmp->entries[tmp->count];
    memset(e, 0, sizeof *e);
    int rc = parse_entry(&c, e, why);
    tmp->count++;  /* counted even on error so cd_hi_free releases it */
    if (rc < 0) return -1;
    if (c.i == c.n) return 0;
    c.i++;  /* the ',' */
  }
}

int cd_hi_parse(cd_hi_chain *chain, const char *value, const char **why) {
  const char *ignored;
  if (!why) why = &ignored;
  if (!chain || !value) { *why = "no History-Info value"; return -1; }
  size_t n = strnlen(value, HI_VALUE_MAX + 1);
  if (n > HI_VALUE_MAX) { *why = "History-Info value too long"; return -1; }
  if (check_value(value, n, why) < 0) return -1;
  cd_hi_chain tmp;
  cd_hi_init(&tmp);
  if (parse_value(&tmp, value, n, chain->count, why) < 0) {
    cd_hi_free(&tmp);
    return -1;
  }
  /* An index given to an earlier entry (of this value or of the chain)
   * cannot place this one: it goes without. */
  for (size_t i = 0; i < tmp.count; i++) {
    cd_hi_entry *e = &tmp.entries[i];
    if (e->index[0] && (index_taken(chain->entries, chain->count, e->index) ||
                        index_taken(tmp.entries, i, e->index)))
      e->index[0] = '\0';
  }
  if (ensure_room(chain, tmp.count) < 0) {
    cd_hi_free(&tmp);
    *why = "out of memory";
    return -1;
  }
  /* Ownership of the strings moves with the structs. */
  memcpy(chain->entries + chain->count, tmp.entries, tmp.count * sizeof *tmp.entries);
  chain->count += tmp.count;
  free(tmp.entries);
  return 0;
}

/* ---- diversion ---- */

/* A URI we put between <> ourselves must not be able to end it early or
 * smuggle another entry into the header. */
static bool uri_fits_angle(const char *uri) {
  if (!uri || !*uri || strlen(uri) > HI_VALUE_MAX) return false;
  for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
    if (is_ws(*p) || is_control(*p) || *p >= 0x80 || in_set(*p, "<>\"\\")) return false;
  return true;
}

/* target_uri with ";cause=NNN" among its parameters, before any '?'. */
static char *uri_with_cause(const char *target, int cause) {
  size_t q = strcspn(target, "?");
  char param[16];
  snprintf(param, sizeof param, ";cause=%03d", cause);
  struct sbuf b = {0};
  sb_put(&b, target, q);
  sb_puts(&b, param);
  sb_puts(&b, target + q);
  return sb_finish(&b);
}

/* index + suffix (".1", ".0.1") into out (CD_HI_INDEX_MAX); false when it
 * would not fit. index may be "", for a top-level index. */
static bool extend_index(const char *index, const char *suffix, char out[CD_HI_INDEX_MAX]) {
  size_t n = strnlen(index, CD_HI_INDEX_MAX);
  if (n == 0) suffix++;   /* "" + ".0.1" = "0.1" */
  size_t k = strlen(suffix);
  if (n + k >= CD_HI_INDEX_MAX) return false;
  memmove(out, index, n);
  memcpy(out + n, suffix, k + 1);
  return true;
}

static bool child_index(const char *index, char out[CD_HI_INDEX_MAX]) {
  return extend_index(index, ".1", out);
}

/* "1.2" -> "1.3": the next index among the siblings of `index`. */
static bool sibling_index(const char *index, char out[CD_HI_INDEX_MAX]) {
  const char *dot = strrchr(index, '.');
  const char *last = dot ? dot + 1 : index;
  if (strlen(last) > 9) return false;
  unsigned long n = strtoul(last, NULL, 10);
  if (n >= 999999999UL) return false;
  int len = snprintf(out, CD_HI_INDEX_MAX, "%.*s%lu", (int)(last - index), index, n + 1);
  return len > 0 && len < CD_HI_INDEX_MAX;
}

/* Moves `index` on to the next free sibling while an entry of the chain
 * has it already: a received chain may use the index cdivas would give
 * (it numbered out of order, or an entry it placed after the one we
 * continue from). False when no sibling fits. */
static bool make_unique(const cd_hi_chain *chain, char index[CD_HI_INDEX_MAX]) {
  while (index_taken(chain->entries, chain->count, index)) {
    char next[CD_HI_INDEX_MAX];
    if (!sibling_index(index, next)) return false;
    memcpy(index, next, CD_HI_INDEX_MAX);
  }
  return true;
}

/* The last entry with an index ("": none). */
static const char *last_index(const cd_hi_chain *chain) {
  for (size_t i = chain->count; i > 0; i--)
    if (chain->entries[i - 1].index[0]) return chain->entries[i - 1].index;
  return "";
}

long cd_hi_divert(cd_hi_chain *chain, const char *served_uri,
                  bool (*is_served)(const char *key, void *ctx), void *ctx,
                  const char *target_uri, int cause, const char *reason, bool privacy) {
  if (!chain || !uri_fits_angle(served_uri) || !uri_fits_angle(target_uri)) return -1;
  if (cause < 100 || cause > 699) return -1;
  cd_hi_entry *last = chain->count ? &chain->entries[chain->count - 1] : NULL;
  /* A last entry without a usable index is history cdivas cannot place in
   * the tree: a gap (RFC 7044 10.3 rule 6). The served user's entry is
   * then always ours, under the last index there is with a 0 level. */
  bool gap = last && last->index[0] == '\0';
  const char *last_key = last && !gap && last->uri && is_served ? cd_hi_key(last) : NULL;
  bool served_is_last = last_key && last_key[0] && is_served(last_key, ctx);
  size_t adding = served_is_last ? 1 : 2;
  if (chain->count + adding > CD_HI_MAX_ENTRIES) return -1;

  /* Everything that can fail happens before the chain is touched. */
  cd_hi_entry served = {0}, target = {0};
  if (served_is_last) {
    memcpy(served.index, last->index, CD_HI_INDEX_MAX);
  } else if (!last) {
    strcpy(served.index, "1");
  } else if (gap ? !extend_index(last_index(chain), ".0.1", served.index)
                 : !child_index(last->index, served.index)) {
    return -1;
  }
  if (!served_is_last && !make_unique(chain, served.index)) return -1;
  if (!child_index(served.index, target.index) || !make_unique(chain, target.index)) return -1;
  memcpy(target.parent, served.index, CD_HI_INDEX_MAX);
  target.tag = 'm';
  target.cause = cause;
  target.ours = true;
  target.uri = uri_with_cause(target_uri, cause);
  bool set_reason = !served_is_last || last->ours;
  char *reason_copy = (set_reason && reason) ? strdup(reason) : NULL;
  if (!served_is_last) {
    served.uri = strdup(served_uri);
    served.ours = true;
    served.cause = uri_cause(served_uri);
  }
  if (!target.uri || (set_reason && reason && !reason_copy) ||
      (!served_is_last && !served.uri) || ensure_room(chain, adding) < 0) {
    free(target.uri);
    free(served.uri);
    free(reason_copy);
    return -1;
  }

  if (!served_is_last) chain->entries[chain->count++] = served;
  cd_hi_entry *s = &chain->entries[chain->count - 1];
  if (s->ours) {
    free(s->reason);
    s->reason = reason_copy;
    s->privacy = privacy;
  }
  chain->entries[chain->count++] = target;
  return (long)chain->count - 1;
}

long cd_hi_retry(cd_hi_chain *chain, const char *target_uri, int cause, const char *reason) {
  if (!chain || chain->count == 0 || !uri_fits_angle(target_uri)) return -1;
  if (cause < 100 || cause > 699) return -1;
  cd_hi_entry *last = &chain->entries[chain->count - 1];
  if (!last->ours || last->tag != 'm' || !last->parent[0]) return -1;
  if (chain->count + 1 > CD_HI_MAX_ENTRIES) return -1;
  cd_hi_entry target = {0};
  if (!sibling_index(last->index, target.index) || !make_unique(chain, target.index)) return -1;
  memcpy(target.parent, last->parent, CD_HI_INDEX_MAX);
  target.tag = 'm';
  target.cause = cause;
  target.ours = true;
  target.uri = uri_with_cause(target_uri, cause);
  char *reason_copy = reason ? strdup(reason) : NULL;
  if (!target.uri || (reason && !reason_copy) || ensure_room(chain, 1) < 0) {
    free(target.uri);
    free(reason_copy);
    return -1;
  }
  last = &chain->entries[chain->count - 1];   /* ensure_room may have moved it */
  free(last->reason);
  last->reason = reason_copy;
  chain->entries[chain->count++] = target;
  return (long)chain->count - 1;
}

/* ---- privacy ---- */

bool cd_hi_private(const cd_hi_entry *e) {
  if (!e) return false;
  if (e->ours) return e->privacy;
  const char *q = e->uri ? strchr(e->uri, '?') : NULL;
  while (q) {
    const char *h = q + 1;
    size_t n = strcspn(h, "&");
    if (n == strlen("Privacy=history") && equals_nocase(h, n, "privacy=history")) return true;
    q = h[n] ? h + n : NULL;
  }
  return false;
}

/* ---- formatting ---- */

/* RFC 3986 unreserved stays; everything else becomes %XX, so the value
 * cannot break the URI header (";", "=", "&", "?"), the <> or the
 * header (",", quotes). */
static void put_escaped(struct sbuf *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (is_alnum(*p) || in_set(*p, "-._~")) {
      sb_put(b, (const char *)p, 1);
    } else {
      char esc[3] = {'%', hex[*p >> 4], hex[*p & 0x0f]};
      sb_put(b, esc, 3);
    }
  }
}

static const char *tag_name(char tag) {
  switch (tag) {
  case 'm': return "mp";
  case 'r': return "rc";
  case 'n': return "np";
  default: return NULL;
  }
}

static void put_entry(struct sbuf *b, const cd_hi_entry *e, bool force_private) {
  if (!e->ours && e->text) {
    sb_puts(b, e->text);
    return;
  }
  const char *uri = e->uri ? e->uri : "";
  bool has_query = strchr(uri, '?') != NULL;
  sb_puts(b, "<");
  sb_puts(b, uri);
  if (e->ours && e->reason) {
    sb_puts(b, has_query ? "&Reason=" : "?Reason=");
    put_escaped(b, e->reason);
    has_query = true;
  }
  if (e->ours && (e->privacy || force_private))
    sb_puts(b, has_query ? "&Privacy=history" : "?Privacy=history");
  sb_puts(b, ">;index=");
  sb_puts(b, e->index);
  const char *tag = tag_name(e->tag);
  if (tag && e->parent[0]) {
    sb_puts(b, ";");
    sb_puts(b, tag);
    sb_puts(b, "=");
    sb_puts(b, e->parent);
  }
}

char *cd_hi_format_entry(const cd_hi_entry *entry, bool force_private) {
  if (!entry) return NULL;
  struct sbuf b = {0};
  put_entry(&b, entry, force_private);
  return sb_finish(&b);
}

char *cd_hi_format_hiding(const cd_hi_chain *chain, long hide_a, long hide_b) {
  struct sbuf b = {0};
  size_t count = chain ? chain->count : 0;
  for (size_t i = 0; i < count; i++) {
    if (i > 0) sb_puts(&b, ", ");
    put_entry(&b, &chain->entries[i], (long)i == hide_a || (long)i == hide_b);
  }
  return sb_finish(&b);
}

char *cd_hi_format(const cd_hi_chain *chain, size_t from, long private_from) {
  struct sbuf b = {0};
  size_t count = chain ? chain->count : 0;
  for (size_t i = from; i < count; i++) {
    if (i > from) sb_puts(&b, ", ");
    bool force = private_from >= 0 && i >= (size_t)private_from;
    put_entry(&b, &chain->entries[i], force);
  }
  return sb_finish(&b);
}
