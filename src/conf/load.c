/*
 * load.c - load and validate the cdivas configuration (see load.h and
 * cdivas.conf(5)).
 *
 * libconfig parses the file (and its @include'd files) into a tree; this
 * file walks that tree once, checking every setting against the schema and
 * copying what it accepts into a struct cd_conf. Every problem is recorded
 * as "<file>:<line>: <message>" and the walk goes on, so one load reports
 * all the errors of a file. The snapshot is returned only when there was
 * none; otherwise everything is freed and NULL is returned.
 *
 * Nothing here keeps a pointer into the libconfig tree: strings are copied
 * and file names are interned in cd_conf.files, because the tree is
 * destroyed before cd_conf_load() returns.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* strdup, strndup, PATH_MAX */
#endif
#include "conf/load.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>

void cd_conf_errors_free(struct cd_conf_errors *errs)
{
  if (errs == NULL)
    return;
  for (size_t i = 0; i < errs->count; i++)
    free(errs->msgs[i]);
  free(errs->msgs);
  errs->msgs = NULL;
  errs->count = 0;
}

/* ------------------------------------------------------------ loader state */

struct loader {
  struct cd_conf *conf;
  struct cd_conf_errors *errs;  /* may be NULL */
  size_t n_errors;              /* counted even when errs is NULL */
  bool oom;
  char *incdir;                 /* directory of the main file, NULL if none */
  /* where the identity in each index slot was written (duplicate messages) */
  const char **slot_file;
  int *slot_line;
  size_t n_keys;
};

static char *xvasprintf(const char *fmt, va_list ap)
{
  va_list aq;
  va_copy(aq, ap);
  int n = vsnprintf(NULL, 0, fmt, aq);
  va_end(aq);
  if (n < 0)
    return NULL;
  char *s = malloc((size_t)n + 1);
  if (s != NULL)
    vsnprintf(s, (size_t)n + 1, fmt, ap);
  return s;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *s = xvasprintf(fmt, ap);
  va_end(ap);
  return s;
}

static char *dup_str(struct loader *L, const char *s)
{
  char *d = strdup(s);
  if (d == NULL)
    L->oom = true;
  return d;
}

static void *alloc_zero(struct loader *L, size_t n, size_t size)
{
  void *p = calloc(n == 0 ? 1 : n, size);
  if (p == NULL)
    L->oom = true;
  return p;
}

/* Takes ownership of msg. Control characters (a "\n" escape in a quoted
 * value, say) become '?': one error, one line. */
static void push_msg(struct loader *L, char *msg)
{
  L->n_errors++;
  if (msg == NULL) {
    L->oom = true;
    return;
  }
  for (char *p = msg; *p != '\0'; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = '?';
  if (L->errs == NULL) {
    free(msg);
    return;
  }
  char **m = realloc(L->errs->msgs, (L->errs->count + 1) * sizeof *m);
  if (m == NULL) {
    free(msg);
    L->oom = true;
    return;
  }
  L->errs->msgs = m;
  m[L->errs->count++] = msg;
}

static void report(struct loader *L, const char *file, int line, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
static void report(struct loader *L, const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *text = xvasprintf(fmt, ap);
  va_end(ap);
  char *msg = text != NULL ? xasprintf("%s:%d: %s", file, line, text) : NULL;
  free(text);
  push_msg(L, msg);
}

/* The interned copy of `name` in conf->files (added when new), or NULL. */
static const char *intern_file(struct loader *L, const char *name)
{
  struct cd_conf *c = L->conf;
  for (size_t i = 0; i < c->n_files; i++)
    if (strcmp(c->files[i], name) == 0)
      return c->files[i];
  char **f = realloc(c->files, (c->n_files + 1) * sizeof *f);
  if (f == NULL) {
    L->oom = true;
    return NULL;
  }
  c->files = f;
  if ((f[c->n_files] = dup_str(L, name)) == NULL)
    return NULL;
  return f[c->n_files++];
}

/* The name under which errors in the file libconfig calls `raw` are
 * reported: the main file as it was given; an included file as libconfig
 * opened it (include directory + "/" + the name in the @include line). */
static const char *shown_file(struct loader *L, const char *raw)
{
  const char *path = L->conf->path;
  if (raw == NULL || strcmp(raw, path) == 0)
    return path;
  if (raw[0] == '/' || L->incdir == NULL) {
    const char *f = intern_file(L, raw);
    return f != NULL ? f : path;
  }
  size_t dl = strlen(L->incdir);
  bool slash = dl > 0 && L->incdir[dl - 1] == '/';
  char *joined = xasprintf("%s%s%s", L->incdir, slash ? "" : "/", raw);
  if (joined == NULL) {
    L->oom = true;
    return path;
  }
  const char *f = intern_file(L, joined);
  free(joined);
  return f != NULL ? f : path;
}

/* Where a setting was written: its own line, or the nearest enclosing
 * setting that has one (the root has none: line 1 of the main file). */
static int line_of(const config_setting_t *s)
{
  while (s != NULL && config_setting_source_line(s) == 0)
    s = config_setting_parent(s);
  return s != NULL ? (int)config_setting_source_line(s) : 1;
}

static const char *file_of(struct loader *L, const config_setting_t *s)
{
  while (s != NULL && config_setting_source_file(s) == NULL)
    s = config_setting_parent(s);
  return shown_file(L, s != NULL ? config_setting_source_file(s) : NULL);
}

static void error_at(struct loader *L, const config_setting_t *s, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static void error_at(struct loader *L, const config_setting_t *s, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *text = xvasprintf(fmt, ap);
  va_end(ap);
  char *msg = text != NULL ? xasprintf("%s:%d: %s", file_of(L, s), line_of(s), text) : NULL;
  free(text);
  push_msg(L, msg);
}

/* ------------------------------------------------------------ typed access */

static const char *type_name(const config_setting_t *s)
{
  switch (config_setting_type(s)) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64: return "an integer";
  case CONFIG_TYPE_FLOAT: return "a float";
  case CONFIG_TYPE_STRING: return "a string";
  case CONFIG_TYPE_BOOL: return "a boolean";
  case CONFIG_TYPE_ARRAY: return "an array";
  case CONFIG_TYPE_LIST: return "a list";
  case CONFIG_TYPE_GROUP: return "a group";
  default: return "nothing";
  }
}

static bool get_int(struct loader *L, const config_setting_t *s, long long lo, long long hi, int *out)
{
  const char *name = config_setting_name(s);
  int t = config_setting_type(s);
  if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
    error_at(L, s, "%s must be an integer, not %s", name, type_name(s));
    return false;
  }
  long long v = config_setting_get_int64(s);
  if (v < lo || v > hi) {
    if (hi == INT_MAX)
      error_at(L, s, "%s must be %lld or more, not %lld", name, lo, v);
    else
      error_at(L, s, "%s must be between %lld and %lld, not %lld", name, lo, hi, v);
    return false;
  }
  *out = (int)v;
  return true;
}

static bool get_bool(struct loader *L, const config_setting_t *s, bool *out)
{
  if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
    error_at(L, s, "%s must be a boolean (true or false), not %s",
             config_setting_name(s), type_name(s));
    return false;
  }
  *out = config_setting_get_bool(s) != 0;
  return true;
}

static const char *get_string(struct loader *L, const config_setting_t *s)
{
  if (config_setting_type(s) != CONFIG_TYPE_STRING) {
    error_at(L, s, "%s must be a string, not %s", config_setting_name(s), type_name(s));
    return NULL;
  }
  return config_setting_get_string(s);
}

/* A list of strings may be written [ "a", "b" ] or ( "a", "b" ). Returns
 * false (after an error) when `s` is not such a list; elements still have
 * to be checked with element_string(). */
static bool is_string_list(struct loader *L, const config_setting_t *s)
{
  int t = config_setting_type(s);
  if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
    error_at(L, s, "%s must be a list of strings, not %s", config_setting_name(s), type_name(s));
    return false;
  }
  return true;
}

static const char *element_string(struct loader *L, const config_setting_t *list, int i,
                                  const config_setting_t **elem)
{
  const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
  *elem = e;
  if (config_setting_type(e) != CONFIG_TYPE_STRING) {
    error_at(L, e, "%s entries must be strings, not %s", config_setting_name(list), type_name(e));
    return NULL;
  }
  return config_setting_get_string(e);
}

/* A list of groups: ( { ... }, { ... } ). An empty [] is accepted too. */
static bool is_group_list(struct loader *L, const config_setting_t *s)
{
  int t = config_setting_type(s);
  if (t == CONFIG_TYPE_LIST || (t == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0))
    return true;
  error_at(L, s, "%s must be a list of groups ( { ... }, ... ), not %s",
           config_setting_name(s), type_name(s));
  return false;
}

static bool is_group_elem(struct loader *L, const config_setting_t *list, const config_setting_t *e)
{
  if (config_setting_is_group(e))
    return true;
  error_at(L, e, "%s entries must be groups { ... }, not %s", config_setting_name(list), type_name(e));
  return false;
}

static bool named(const config_setting_t *s, const char *name)
{
  return strcmp(config_setting_name(s), name) == 0;
}

/* ------------------------------------------------------------ value checks */

/* Identity (sip, sips or tel URI) -> canonical key, or an error naming
 * the setting `in` with the reason from cd_identity_key(). */
static bool identity_key(struct loader *L, const config_setting_t *at, const char *uri,
                         const char *in, char key[CD_IDENTITY_KEY_MAX])
{
  const char *why = NULL;
  if (cd_identity_key(uri, key, &why) != 0) {
    error_at(L, at, "malformed URI '%s' in %s: %s", uri, in, why != NULL ? why : "invalid");
    return false;
  }
  return true;
}

static bool has_sip_scheme(const char *uri)
{
  return strncasecmp(uri, "sip:", 4) == 0 || strncasecmp(uri, "sips:", 5) == 0;
}

/* A server URI (identity, outbound_proxy): a sip or sips URI. */
static bool sip_uri(struct loader *L, const config_setting_t *at, const char *uri, const char *in,
                    char key[CD_IDENTITY_KEY_MAX])
{
  if (!identity_key(L, at, uri, in, key))
    return false;
  if (!has_sip_scheme(uri)) {
    error_at(L, at, "malformed URI '%s' in %s: not a sip or sips URI", uri, in);
    return false;
  }
  return true;
}

static bool is_hostname(const char *h, size_t n)
{
  /* RFC 1123 labels: letters, digits, '-' not at either end; a final dot
   * is allowed (fully qualified). */
  size_t label = 0;
  if (n == 0 || n > 253)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = h[i];
    if (c == '.') {
      if (label == 0 || h[i - 1] == '-')
        return false;
      label = 0;
    } else if (isalnum((unsigned char)c) || c == '-') {
      if (label == 0 && c == '-')
        return false;
      if (++label > 63)
        return false;
    } else {
      return false;
    }
  }
  return h[n - 1] != '-';
}

/* Checks a listen URI: sip:|sips: host [":" port] [";transport=" udp|tcp|tls].
 * Returns NULL, or why it is bad (in buf). */
static const char *check_listen(const char *uri, char *buf, size_t bufsize)
{
  const char *p;
  bool sips = false;
  if (strncasecmp(uri, "sip:", 4) == 0) {
    p = uri + 4;
  } else if (strncasecmp(uri, "sips:", 5) == 0) {
    p = uri + 5;
    sips = true;
  } else {
    return "expected sip:host[:port][;transport=udp|tcp|tls] or sips:...";
  }
  if (strpbrk(p, "@") != NULL)
    return "a listen URI has no user part";
  if (strpbrk(p, "?") != NULL)
    return "a listen URI has no headers";
  char host[256];
  if (*p == '[') {
    const char *close = strchr(p, ']');
    size_t n = close != NULL ? (size_t)(close - p - 1) : 0;
    struct in6_addr a6;
    if (close == NULL || n == 0 || n >= sizeof host)
      return "bad IPv6 reference (expected [address])";
    memcpy(host, p + 1, n);
    host[n] = '\0';
    if (inet_pton(AF_INET6, host, &a6) != 1)
      return "bad IPv6 address";
    p = close + 1;
  } else {
    size_t n = strcspn(p, ":;");
    if (n == 0)
      return "empty host";
    if (n >= sizeof host)
      return "host too long";
    memcpy(host, p, n);
    host[n] = '\0';
    if (strspn(host, "0123456789.") == n) {
      struct in_addr a4;
      if (inet_pton(AF_INET, host, &a4) != 1)
        return "bad IPv4 address";
    } else if (!is_hostname(host, n)) {
      return "bad host name";
    }
    p += n;
  }
  if (*p == ':') {
    p++;
    size_t n = strspn(p, "0123456789");
    long port = 0;
    for (size_t i = 0; i < n && port <= 65535; i++)
      port = port * 10 + (p[i] - '0');
    if (n == 0 || port < 1 || port > 65535 || (p[n] != '\0' && p[n] != ';'))
      return "bad port (expected 1..65535)";
    p += n;
  }
  bool transport = false;
  while (*p == ';') {
    p++;
    size_t n = strcspn(p, ";");
    if (n > 10 && strncasecmp(p, "transport=", 10) == 0) {
      const char *v = p + 10;
      size_t vn = n - 10;
      if (transport)
        return "transport given twice";
      transport = true;
      if (vn == 3 && strncasecmp(v, "udp", 3) == 0) {
        if (sips)
          return "sips cannot use transport=udp";
      } else if (!(vn == 3 && (strncasecmp(v, "tcp", 3) == 0 || strncasecmp(v, "tls", 3) == 0))) {
        snprintf(buf, bufsize, "unknown transport '%.*s' (expected udp, tcp or tls)", (int)vn, v);
        return buf;
      }
    } else {
      snprintf(buf, bufsize, "unsupported parameter '%.*s' (only transport=udp|tcp|tls)", (int)n, p);
      return buf;
    }
    p += n;
  }
  if (*p != '\0') {
    snprintf(buf, bufsize, "unexpected '%s' after the host", p);
    return buf;
  }
  return NULL;
}

/* An IANA zone name that exists as a TZif file under $TZDIR or
 * /usr/share/zoneinfo. Returns NULL or why not (in buf). */
static const char *check_timezone(const char *name, char *buf, size_t bufsize)
{
  const char *dir = getenv("TZDIR");
  if (dir == NULL || *dir == '\0')
    dir = "/usr/share/zoneinfo";
  /* Only plain relative names: no "/x", no "..", no empty component. */
  bool ok = name[0] != '/' && name[strlen(name) - 1] != '/' && strstr(name, "//") == NULL;
  for (const char *p = name; ok && *p != '\0'; p++)
    if (!isalnum((unsigned char)*p) && strchr("/_-+.", *p) == NULL)
      ok = false;
  for (const char *p = name; ok && (p = strstr(p, "..")) != NULL; p++)
    if ((p == name || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
      ok = false;
  if (!ok || strcmp(name, ".") == 0 || strncmp(name, "./", 2) == 0 || strstr(name, "/./") != NULL)
    return "not an IANA time zone name (like Europe/Paris)";
  char *path = xasprintf("%s/%s", dir, name);
  if (path == NULL)
    return "out of memory";
  char magic[4] = {0};
  FILE *f = fopen(path, "rb");
  bool found = f != NULL && fread(magic, 1, sizeof magic, f) == sizeof magic &&
               memcmp(magic, "TZif", 4) == 0;
  if (f != NULL)
    fclose(f);
  free(path);
  if (!found) {
    snprintf(buf, bufsize, "no zone file under %s", dir);
    return buf;
  }
  return NULL;
}

/* "mon-fri", "sat,sun", "mon-wed,fri": bit 0 = Monday. NULL or why (in buf). */
static const char *parse_days(const char *s, unsigned *out, char *buf, size_t bufsize)
{
  static const char *const names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
  unsigned days = 0;
  const char *p = s;
  for (;;) {
    while (*p == ' ' || *p == '\t')
      p++;
    size_t n = strcspn(p, ",");
    size_t t = n;
    while (t > 0 && (p[t - 1] == ' ' || p[t - 1] == '\t'))
      t--;
    if (t == 0)
      return *s == '\0' ? "no day given" : "empty item in the day list";
    /* one day, or first-last */
    int ends[2] = { -1, -1 };
    size_t parts = 0;
    for (size_t i = 0; i < t; parts++) {
      size_t k = i;
      while (k < t && p[k] != '-')
        k++;
      if (parts == 2) {
        snprintf(buf, bufsize, "bad range '%.*s'", (int)t, p);
        return buf;
      }
      int d = -1;
      for (int j = 0; j < 7; j++)
        if (k - i == 3 && strncasecmp(p + i, names[j], 3) == 0)
          d = j;
      if (d < 0) {
        snprintf(buf, bufsize, "unknown day '%.*s' (expected mon, tue, wed, thu, fri, sat or sun)",
                 (int)(k - i), p + i);
        return buf;
      }
      ends[parts] = d;
      i = k;
      if (i < t) {          /* at '-': a second day must follow */
        i++;
        if (i == t) {
          snprintf(buf, bufsize, "bad range '%.*s'", (int)t, p);
          return buf;
        }
      }
    }
    if (parts == 1)
      ends[1] = ends[0];
    /* a range may wrap past Sunday: "fri-mon" */
    for (int d = ends[0];; d = (d + 1) % 7) {
      days |= 1u << d;
      if (d == ends[1])
        break;
    }
    p += n;
    if (*p == '\0')
      break;
    p++;                    /* ',' */
  }
  *out = days;
  return NULL;
}

/* "HH:MM", 00:00..23:59, and 24:00 when allow_24. Minutes, or -1. */
static int parse_time(const char *s, bool allow_24)
{
  if (!(isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) && s[2] == ':' &&
        isdigit((unsigned char)s[3]) && isdigit((unsigned char)s[4]) && s[5] == '\0'))
    return -1;
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h < 24 && m < 60)
    return h * 60 + m;
  if (allow_24 && h == 24 && m == 0)
    return 24 * 60;
  return -1;
}

/* ------------------------------------------------------------ server */

/* A list of URIs stored as canonical keys (server.limit_exempt, rule callers). */
static void load_key_list(struct loader *L, const config_setting_t *s, bool allow_empty,
                          char ***keys_out, size_t *n_out)
{
  if (!is_string_list(L, s))
    return;
  int n = config_setting_length(s);
  if (n == 0 && !allow_empty) {
    error_at(L, s, "%s must not be empty (leave it out to match every caller)",
             config_setting_name(s));
    return;
  }
  char **keys = alloc_zero(L, (size_t)n, sizeof *keys);
  if (keys == NULL)
    return;
  *keys_out = keys;
  *n_out = (size_t)n;
  for (int i = 0; i < n; i++) {
    const config_setting_t *e;
    const char *uri = element_string(L, s, i, &e);
    char key[CD_IDENTITY_KEY_MAX];
    if (uri != NULL && identity_key(L, e, uri, config_setting_name(s), key))
      keys[i] = dup_str(L, key);
  }
}

static void load_listen(struct loader *L, const config_setting_t *s)
{
  struct cd_conf *c = L->conf;
  if (!is_string_list(L, s))
    return;
  int n = config_setting_length(s);
  if (n == 0) {
    error_at(L, s, "listen must not be empty");
    return;
  }
  if ((c->listen = alloc_zero(L, (size_t)n, sizeof *c->listen)) == NULL)
    return;
  c->n_listen = (size_t)n;
  for (int i = 0; i < n; i++) {
    const config_setting_t *e;
    const char *uri = element_string(L, s, i, &e);
    char buf[160];
    const char *why;
    if (uri == NULL)
      continue;
    if ((why = check_listen(uri, buf, sizeof buf)) != NULL) {
      error_at(L, e, "bad listen URI '%s': %s", uri, why);
      continue;
    }
    bool dup = false;
    for (int j = 0; j < i && !dup; j++)
      dup = c->listen[j] != NULL && strcasecmp(c->listen[j], uri) == 0;
    if (dup) {
      error_at(L, e, "duplicate listen URI '%s'", uri);
      continue;
    }
    c->listen[i] = dup_str(L, uri);
  }
}

/* "" means "not set" for the optional URIs. */
static void load_optional_uri(struct loader *L, const config_setting_t *s, bool sip_only, char **out)
{
  const char *uri = get_string(L, s);
  char key[CD_IDENTITY_KEY_MAX];
  if (uri == NULL || *uri == '\0')
    return;
  if (sip_only ? sip_uri(L, s, uri, config_setting_name(s), key)
               : identity_key(L, s, uri, config_setting_name(s), key))
    *out = dup_str(L, uri);
}

static void load_server(struct loader *L, const config_setting_t *g)
{
  struct cd_conf *c = L->conf;
  bool has_listen = false, has_identity = false;
  if (!config_setting_is_group(g)) {
    error_at(L, g, "server must be a group { ... }, not %s", type_name(g));
    return;
  }
  for (int i = 0; i < config_setting_length(g); i++) {
    const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
    const char *str;
    if (named(s, "listen")) {
      has_listen = true;
      load_listen(L, s);
    } else if (named(s, "identity")) {
      has_identity = true;
      if ((str = get_string(L, s)) != NULL && sip_uri(L, s, str, "identity", c->identity_key))
        c->identity = dup_str(L, str);
    } else if (named(s, "outbound_proxy")) {
      load_optional_uri(L, s, true, &c->outbound_proxy);
    } else if (named(s, "no_reply_timer")) {
      get_int(L, s, 5, 180, &c->no_reply_timer);
    } else if (named(s, "max_diversions")) {
      get_int(L, s, 1, 20, &c->max_diversions);
    } else if (named(s, "log_level")) {
      if ((str = get_string(L, s)) != NULL && cd_log_level_parse(str, &c->log_level) != 0)
        error_at(L, s, "unknown log_level '%s' (expected error, warning, notice, info or debug)", str);
    } else if (named(s, "timezone")) {
      char buf[PATH_MAX + 64];
      const char *why;
      if ((str = get_string(L, s)) == NULL || *str == '\0')
        continue;
      if ((why = check_timezone(str, buf, sizeof buf)) != NULL)
        error_at(L, s, "unknown timezone '%s': %s", str, why);
      else
        c->timezone = dup_str(L, str);
    } else if (named(s, "limit_response")) {
      get_int(L, s, 400, 699, &c->limit_response);
    } else if (named(s, "limit_destination")) {
      load_optional_uri(L, s, false, &c->limit_destination);
    } else if (named(s, "limit_exempt")) {
      load_key_list(L, s, true, &c->limit_exempt, &c->n_limit_exempt);
    } else if (named(s, "shutdown_grace")) {
      get_int(L, s, 1, 300, &c->shutdown_grace);
    } else if (named(s, "not_reachable_timer")) {
      get_int(L, s, 0, 64, &c->not_reachable_timer);
    } else {
      error_at(L, s, "unknown setting '%s' in server", config_setting_name(s));
    }
  }
  if (!has_listen)
    error_at(L, g, "missing required setting 'listen' in server");
  if (!has_identity)
    error_at(L, g, "missing required setting 'identity' in server");
}

/* ------------------------------------------------------------ subscribers */

/* Adds `key` (stable storage) for subscriber `sub`, or reports a duplicate. */
static void index_add(struct loader *L, const config_setting_t *at, const char *written,
                      const char *key, size_t sub)
{
  struct cd_conf *c = L->conf;
  if (c->index_slots == NULL || 2 * (L->n_keys + 1) > c->index_size)
    return;                 /* out of memory earlier; cannot happen otherwise */
  size_t mask = c->index_size - 1;
  size_t i = (size_t)cd_conf_key_hash(key) & mask;
  for (; c->index_slots[i] != 0; i = (i + 1) & mask)
    if (strcmp(c->index_keys[i], key) == 0) {
      error_at(L, at, "duplicate identity '%s' (also at %s:%d)", written,
               L->slot_file[i], L->slot_line[i]);
      return;
    }
  c->index_slots[i] = sub + 1;
  c->index_keys[i] = key;
  L->slot_file[i] = file_of(L, at);
  L->slot_line[i] = line_of(at);
  L->n_keys++;
}

static void load_validity(struct loader *L, const config_setting_t *g, struct cd_validity *v)
{
  const config_setting_t *from_s = NULL, *to_s = NULL;
  bool ok = true;
  v->days = 0x7f;
  v->from_min = 0;
  v->to_min = 24 * 60;
  for (int i = 0; i < config_setting_length(g); i++) {
    const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
    const char *str;
    if (named(s, "days")) {
      char buf[160];
      const char *why;
      if ((str = get_string(L, s)) != NULL &&
          (why = parse_days(str, &v->days, buf, sizeof buf)) != NULL)
        error_at(L, s, "bad days '%s' in validity: %s", str, why);
    } else if (named(s, "from") || named(s, "to")) {
      bool to = named(s, "to");
      int m = -1;
      if ((str = get_string(L, s)) != NULL && (m = parse_time(str, to)) < 0)
        error_at(L, s, "bad time '%s' in %s: expected HH:MM from 00:00 to %s",
                 str, config_setting_name(s), to ? "24:00" : "23:59");
      if (m < 0) {
        ok = false;
      } else if (to) {
        v->to_min = m;
        to_s = s;
      } else {
        v->from_min = m;
        from_s = s;
      }
    } else {
      error_at(L, s, "unknown setting '%s' in validity", config_setting_name(s));
    }
  }
  if (ok && v->from_min == v->to_min) {
    const config_setting_t *at = to_s != NULL ? to_s : from_s != NULL ? from_s : g;
    error_at(L, at, "empty validity window: from and to are both %02d:%02d",
             v->from_min / 60, v->from_min % 60);
  }
}

static void load_rule(struct loader *L, const config_setting_t *g, struct cd_rule *r)
{
  const config_setting_t *service_s = NULL, *target_s = NULL, *timer_s = NULL;
  const char *target = NULL;
  bool service_ok = false;

  r->anonymous = -1;
  r->active = true;
  r->notify_caller = true;
  r->reveal_identity_to_caller = true;
  r->reveal_served_user_identity_to_caller = true;
  r->reveal_identity_to_target = true;
  r->notify_served_user = false;
  r->file = file_of(L, g);
  r->line = line_of(g);

  for (int i = 0; i < config_setting_length(g); i++) {
    const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
    const char *str;
    bool b;
    if (named(s, "service")) {
      service_s = s;
      if ((str = get_string(L, s)) == NULL)
        continue;
      if (cd_service_parse(str, &r->service) == 0)
        service_ok = true;
      else
        error_at(L, s, "unknown service '%s' (expected cfu, cfb, cfnr, cfnl, cd or cfnrc)", str);
    } else if (named(s, "target")) {
      char key[CD_IDENTITY_KEY_MAX];
      target_s = s;
      if ((str = get_string(L, s)) != NULL && identity_key(L, s, str, "target", key))
        target = str;
    } else if (named(s, "callers")) {
      load_key_list(L, s, false, &r->callers, &r->n_callers);
    } else if (named(s, "anonymous")) {
      if (get_bool(L, s, &b))
        r->anonymous = b;
    } else if (named(s, "media")) {
      if (!is_string_list(L, s))
        continue;
      if (config_setting_length(s) == 0)
        error_at(L, s, "media must not be empty (leave it out to match any media)");
      for (int j = 0; j < config_setting_length(s); j++) {
        const config_setting_t *e;
        if ((str = element_string(L, s, j, &e)) == NULL)
          continue;
        if (strcasecmp(str, "audio") == 0)
          r->media |= CD_MEDIA_AUDIO;
        else if (strcasecmp(str, "video") == 0)
          r->media |= CD_MEDIA_VIDEO;
        else
          error_at(L, e, "unknown media '%s' (expected audio or video)", str);
      }
    } else if (named(s, "validity")) {
      if (!is_group_list(L, s))
        continue;
      int n = config_setting_length(s);
      if (n == 0) {
        error_at(L, s, "validity must not be empty (leave it out for always)");
        continue;
      }
      if ((r->validity = alloc_zero(L, (size_t)n, sizeof *r->validity)) == NULL)
        continue;
      r->n_validity = (size_t)n;
      for (int j = 0; j < n; j++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)j);
        if (is_group_elem(L, s, e))
          load_validity(L, e, &r->validity[j]);
      }
    } else if (named(s, "active")) {
      get_bool(L, s, &r->active);
    } else if (named(s, "no_reply_timer")) {
      timer_s = s;
      get_int(L, s, 5, 180, &r->no_reply_timer);
    } else if (named(s, "notify_caller")) {
      get_bool(L, s, &r->notify_caller);
    } else if (named(s, "reveal_identity_to_caller")) {
      get_bool(L, s, &r->reveal_identity_to_caller);
    } else if (named(s, "reveal_served_user_identity_to_caller")) {
      get_bool(L, s, &r->reveal_served_user_identity_to_caller);
    } else if (named(s, "reveal_identity_to_target")) {
      get_bool(L, s, &r->reveal_identity_to_target);
    } else if (named(s, "notify_served_user")) {
      get_bool(L, s, &r->notify_served_user);
    } else {
      error_at(L, s, "unknown setting '%s' in rule", config_setting_name(s));
    }
  }

  if (service_s == NULL) {
    error_at(L, g, "missing required setting 'service' in rule");
    return;
  }
  if (!service_ok)
    return;
  const char *svc = cd_service_name(r->service);
  if (timer_s != NULL && r->service != CD_SVC_CFNR)
    error_at(L, timer_s, "no_reply_timer is only allowed on cfnr rules, not on %s", svc);
  if (r->service == CD_SVC_CD)
    return;                 /* target ignored: the 302's Contact decides */
  if (target_s == NULL)
    error_at(L, g, "missing required setting 'target' in %s rule", svc);
  else if (target != NULL)
    r->target = dup_str(L, target);
}

static void load_subscriber(struct loader *L, const config_setting_t *g, size_t idx)
{
  struct cd_subscriber *sub = &L->conf->subscribers[idx];
  bool has_user = false;
  sub->file = file_of(L, g);
  sub->line = line_of(g);
  for (int i = 0; i < config_setting_length(g); i++) {
    const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
    const char *str;
    if (named(s, "user")) {
      has_user = true;
      if ((str = get_string(L, s)) != NULL && identity_key(L, s, str, "user", sub->key)) {
        sub->user = dup_str(L, str);
        index_add(L, s, str, sub->key, idx);
      }
    } else if (named(s, "aliases")) {
      if (!is_string_list(L, s))
        continue;
      int n = config_setting_length(s);
      sub->aliases = alloc_zero(L, (size_t)n, sizeof *sub->aliases);
      sub->alias_keys = alloc_zero(L, (size_t)n, sizeof *sub->alias_keys);
      if (sub->aliases == NULL || sub->alias_keys == NULL)
        continue;
      sub->n_aliases = (size_t)n;
      for (int j = 0; j < n; j++) {
        const config_setting_t *e;
        char key[CD_IDENTITY_KEY_MAX];
        if ((str = element_string(L, s, j, &e)) == NULL || !identity_key(L, e, str, "aliases", key))
          continue;
        sub->aliases[j] = dup_str(L, str);
        if ((sub->alias_keys[j] = dup_str(L, key)) != NULL)
          index_add(L, e, str, sub->alias_keys[j], idx);
      }
    } else if (named(s, "no_reply_timer")) {
      get_int(L, s, 5, 180, &sub->no_reply_timer);
    } else if (named(s, "max_calls")) {
      get_int(L, s, 0, INT_MAX, &sub->max_calls);
    } else if (named(s, "rules")) {
      if (!is_group_list(L, s))
        continue;
      int n = config_setting_length(s);
      if ((sub->rules = alloc_zero(L, (size_t)n, sizeof *sub->rules)) == NULL)
        continue;
      sub->n_rules = (size_t)n;
      for (int j = 0; j < n; j++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)j);
        if (is_group_elem(L, s, e))
          load_rule(L, e, &sub->rules[j]);
      }
    } else {
      error_at(L, s, "unknown setting '%s' in subscriber", config_setting_name(s));
    }
  }
  if (!has_user)
    error_at(L, g, "missing required setting 'user' in subscriber");
}

static void load_subscribers(struct loader *L, const config_setting_t *s)
{
  struct cd_conf *c = L->conf;
  if (!is_group_list(L, s))
    return;
  int n = config_setting_length(s);
  if (n == 0)
    return;
  /* Upper bound of the keys: every user and every alias. */
  size_t keys = 0;
  for (int i = 0; i < n; i++) {
    const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
    const config_setting_t *a = config_setting_is_group(e) ? config_setting_get_member(e, "aliases") : NULL;
    keys += 1 + (a != NULL && config_setting_is_aggregate(a) ? (size_t)config_setting_length(a) : 0);
  }
  size_t size = 8;
  while (size < 2 * keys)
    size *= 2;
  c->subscribers = alloc_zero(L, (size_t)n, sizeof *c->subscribers);
  c->index_slots = alloc_zero(L, size, sizeof *c->index_slots);
  c->index_keys = alloc_zero(L, size, sizeof *c->index_keys);
  L->slot_file = alloc_zero(L, size, sizeof *L->slot_file);
  L->slot_line = alloc_zero(L, size, sizeof *L->slot_line);
  if (L->oom)
    return;
  c->n_subscribers = (size_t)n;
  c->index_size = size;
  for (int i = 0; i < n; i++) {
    const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
    if (is_group_elem(L, s, e))
      load_subscriber(L, e, (size_t)i);
  }
}

/* ------------------------------------------------------------ top level */

/* ------------------------------------------------------------ inquiry */

static int hex_value(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* "http://host:port" or "https://host:port", host an IPv4 address, a
 * [IPv6] reference or a name; no path (nth serves the whole site). */
static const char *parse_http_listen(const char *url, struct cd_inquiry_conf *q, char *buf, size_t bufsize)
{
  const char *rest;
  if (strncmp(url, "http://", 7) == 0)
    rest = url + 7, q->tls = false;
  else if (strncmp(url, "https://", 8) == 0)
    rest = url + 8, q->tls = true;
  else
    return "must start with http:// or https://";
  const char *host = rest, *host_end, *port;
  if (*rest == '[') {
    host_end = strchr(rest, ']');
    if (host_end == NULL)
      return "unterminated [IPv6] address";
    host_end++;
  } else {
    host_end = rest + strcspn(rest, ":/");
  }
  if (host_end == host)
    return "missing host";
  if (*host_end != ':')
    return "missing :port";
  port = host_end + 1;
  char *end;
  long p = strtol(port, &end, 10);
  if (end == port || p < 1 || p > 65535)
    return "bad port";
  if (*end == '/' && end[1] == '\0')
    end++;
  if (*end != '\0') {
    snprintf(buf, bufsize, "unexpected '%.40s' after the port (no path allowed)", end);
    return buf;
  }
  q->host = strndup(host, (size_t)(host_end - host));
  q->port = (int)p;
  return NULL;
}

static void load_kms_list(struct loader *L, const config_setting_t *s)
{
  struct cd_inquiry_conf *q = &L->conf->inquiry;
  if (!is_group_list(L, s))
    return;
  int n = config_setting_length(s);
  q->kms = alloc_zero(L, (size_t)n + 1, sizeof *q->kms);
  if (q->kms == NULL)
    return;
  for (int i = 0; i < n; i++) {
    const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
    if (!is_group_elem(L, s, g))
      continue;
    const char *id = NULL, *key = NULL;
    for (int k = 0; k < config_setting_length(g); k++) {
      const config_setting_t *e = config_setting_get_elem(g, (unsigned)k);
      if (named(e, "id"))
        id = get_string(L, e);
      else if (named(e, "key"))
        key = get_string(L, e);
      else
        error_at(L, e, "unknown setting '%s' in kms", config_setting_name(e));
    }
    if (id == NULL || *id == '\0' || strlen(id) >= 128) {
      error_at(L, g, "kms entry needs an id of 1 to 127 characters");
      continue;
    }
    if (cd_conf_kms(L->conf, id)) {
      error_at(L, g, "duplicate kms id '%s'", id);
      continue;
    }
    struct cd_kms *kms = &q->kms[q->n_kms];
    bool key_ok = key && strlen(key) == 64;
    for (size_t b = 0; key_ok && b < 32; b++) {
      int hi = hex_value(key[2 * b]), lo = hex_value(key[2 * b + 1]);
      key_ok = hi >= 0 && lo >= 0;
      if (key_ok)
        kms->key[b] = (unsigned char)(hi << 4 | lo);
    }
    if (!key_ok) {
      error_at(L, g, "kms '%s' needs a key of exactly 64 hex digits", id);
      continue;
    }
    kms->id = dup_str(L, id);
    q->n_kms++;
  }
}

static void load_inquiry(struct loader *L, const config_setting_t *g)
{
  struct cd_inquiry_conf *q = &L->conf->inquiry;
  char buf[160];
  if (!config_setting_is_group(g)) {
    error_at(L, g, "inquiry must be a group { ... }, not %s", type_name(g));
    return;
  }
  for (int i = 0; i < config_setting_length(g); i++) {
    const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
    const char *str, *why;
    if (named(s, "listen")) {
      if ((str = get_string(L, s)) == NULL)
        continue;
      if ((why = parse_http_listen(str, q, buf, sizeof buf)) != NULL)
        error_at(L, s, "bad inquiry listen URL '%s': %s", str, why);
      else
        q->listen = dup_str(L, str);
    } else if (named(s, "record_ttl")) {
      get_int(L, s, 10, 86400, &q->record_ttl);
    } else if (named(s, "max_records")) {
      get_int(L, s, 1, 10000000, &q->max_records);
    } else if (named(s, "tls_certificate") || named(s, "tls_key") || named(s, "tls_client_ca")) {
      if ((str = get_string(L, s)) == NULL || *str == '\0')
        continue;
      if (access(str, R_OK) != 0) {
        error_at(L, s, "%s '%s': %s", config_setting_name(s), str, strerror(errno));
        continue;
      }
      char **slot = named(s, "tls_certificate") ? &q->tls_certificate
                    : named(s, "tls_key") ? &q->tls_key : &q->tls_client_ca;
      *slot = dup_str(L, str);
    } else if (named(s, "kms")) {
      load_kms_list(L, s);
    } else {
      error_at(L, s, "unknown setting '%s' in inquiry", config_setting_name(s));
    }
  }
  if (q->listen == NULL)
    error_at(L, g, "missing required setting 'listen' in inquiry");
  if (q->listen && q->tls && (q->tls_certificate == NULL || q->tls_key == NULL))
    error_at(L, g, "an https:// inquiry listener needs tls_certificate and tls_key");
  if (q->listen && !q->tls && (q->tls_certificate || q->tls_key || q->tls_client_ca))
    error_at(L, g, "tls_certificate, tls_key and tls_client_ca need an https:// listen URL");
  if (q->n_kms == 0)
    error_at(L, g, "inquiry needs at least one kms = ( { id = \"...\"; key = \"<64 hex digits>\"; } )");
}

/* ------------------------------------------------------------ store */

/* "host:port", "[v6]:port", or "host" (port 6379). */
static const char *parse_store_address(const char *addr, struct cd_store_conf *st)
{
  const char *host = addr, *host_end;
  if (*addr == '[') {
    host = addr + 1;
    host_end = strchr(host, ']');
    if (host_end == NULL)
      return "unterminated [IPv6] address";
  } else {
    host_end = strchr(addr, ':');
    if (host_end == NULL)
      host_end = addr + strlen(addr);
    else if (strchr(host_end + 1, ':') != NULL)
      return "write an IPv6 address as [address]:port";
  }
  if (host_end == host)
    return "missing host";
  const char *after = *addr == '[' ? host_end + 1 : host_end;
  long port = 6379;
  if (*after == ':') {
    char *end;
    port = strtol(after + 1, &end, 10);
    if (end == after + 1 || *end != '\0' || port < 1 || port > 65535)
      return "bad port";
  } else if (*after != '\0') {
    return "expected :port after the address";
  }
  free(st->host);
  st->host = strndup(host, (size_t)(host_end - host));
  st->port = (int)port;
  return NULL;
}

static void load_store(struct loader *L, const config_setting_t *g)
{
  struct cd_store_conf *st = &L->conf->store;
  if (!config_setting_is_group(g)) {
    error_at(L, g, "store must be a group { ... }, not %s", type_name(g));
    return;
  }
  bool bad_backend = false;
  const config_setting_t *redis_setting = NULL;   /* the first Redis-only setting */
  for (int i = 0; i < config_setting_length(g); i++) {
    const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
    const char *str, *why;
    if (named(s, "backend")) {
      if ((str = get_string(L, s)) == NULL)
        continue;
      if (strcmp(str, "memory") == 0)
        st->backend = CD_STORE_MEMORY;
      else if (strcmp(str, "redis") == 0)
        st->backend = CD_STORE_REDIS;
      else
        error_at(L, s, "unknown store backend '%s' (memory or redis)", str), bad_backend = true;
    } else if (named(s, "address")) {
      redis_setting = redis_setting ? redis_setting : s;
      if ((str = get_string(L, s)) != NULL && (why = parse_store_address(str, st)) != NULL)
        error_at(L, s, "bad store address '%s': %s", str, why);
    } else if (named(s, "socket") || named(s, "password") || named(s, "prefix")) {
      redis_setting = redis_setting ? redis_setting : s;
      if ((str = get_string(L, s)) == NULL)
        continue;
      if (*str == '\0' && !named(s, "prefix")) {
        error_at(L, s, "%s must not be empty", config_setting_name(s));
        continue;
      }
      if (strlen(str) > 255) {
        error_at(L, s, "%s must be at most 255 characters", config_setting_name(s));
        continue;
      }
      if (named(s, "prefix") && strpbrk(str, " \t\r\n") != NULL) {
        error_at(L, s, "prefix must not contain white space");
        continue;
      }
      char **slot = named(s, "socket") ? &st->socket : named(s, "password") ? &st->password
                                                                            : &st->prefix;
      free(*slot);
      *slot = dup_str(L, str);
    } else if (named(s, "database")) {
      redis_setting = redis_setting ? redis_setting : s;
      get_int(L, s, 0, 1000000, &st->database);
    } else if (named(s, "timeout_ms")) {
      get_int(L, s, 10, 5000, &st->timeout_ms);
    } else if (named(s, "registration_retain")) {
      get_int(L, s, 60, 30 * 86400, &st->registration_retain);
    } else {
      error_at(L, s, "unknown setting '%s' in store", config_setting_name(s));
    }
  }
  if (redis_setting && st->backend != CD_STORE_REDIS && !bad_backend)
    error_at(L, redis_setting, "%s needs backend = \"redis\"", config_setting_name(redis_setting));
}

static void load_root(struct loader *L, const config_setting_t *root)
{
  bool has_server = false;
  for (int i = 0; i < config_setting_length(root); i++) {
    const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
    if (named(s, "server")) {
      has_server = true;
      load_server(L, s);
    } else if (named(s, "subscribers")) {
      load_subscribers(L, s);
    } else if (named(s, "inquiry")) {
      load_inquiry(L, s);
    } else if (named(s, "store")) {
      load_store(L, s);
    } else {
      error_at(L, s, "unknown setting '%s' at top level", config_setting_name(s));
    }
  }
  if (!has_server)
    report(L, L->conf->path, 1, "missing required group 'server'");
}

/* libconfig 1.5 opens whatever an @include names: a directory makes its
 * scanner call exit(), a FIFO or device hangs the load. So every @include
 * is checked first, recursively: it must be a regular file (a missing one
 * is left to libconfig, which reports it with file:line). */
static bool includes_are_files(struct loader *L, const char *file, const char *incdir, int depth)
{
  FILE *f = fopen(file, "r");
  if (f == NULL)
    return true;   /* libconfig reports what it cannot read */
  bool ok = true;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  for (int lineno = 1; (len = getline(&line, &cap, f)) >= 0; lineno++) {
    if (memchr(line, '\0', (size_t)len) != NULL) {
      /* libconfig would cut the line there, an @include name included. */
      report(L, file, lineno, "NUL byte in the file");
      ok = false;
      break;
    }
    const char *p = line;
    while (*p == ' ' || *p == '\t')
      p++;
    if (strncmp(p, "@include", 8) != 0)
      continue;
    const char *q = strchr(p + 8, '"'), *e = q ? strchr(q + 1, '"') : NULL;
    if (q == NULL || e == NULL)
      continue;   /* a syntax error libconfig will report */
    if (memchr(q + 1, '\\', (size_t)(e - q - 1)) != NULL) {
      report(L, file, lineno, "@include names may not contain backslashes");
      ok = false;
      continue;
    }
    char target[4096];
    int n = (q[1] == '/' || incdir == NULL)
              ? snprintf(target, sizeof target, "%.*s", (int)(e - q - 1), q + 1)
              : snprintf(target, sizeof target, "%s/%.*s", incdir, (int)(e - q - 1), q + 1);
    if (n < 0 || (size_t)n >= sizeof target)
      continue;
    struct stat st;
    if (stat(target, &st) != 0)
      continue;
    if (!S_ISREG(st.st_mode)) {
      report(L, file, lineno, "@include \"%.*s\" is not a regular file", (int)(e - q - 1), q + 1);
      ok = false;
    } else if (depth >= 10) {
      report(L, file, lineno, "@include nested more than 10 deep");
      ok = false;
    } else if (!includes_are_files(L, target, incdir, depth + 1)) {
      ok = false;
    }
  }
  free(line);
  fclose(f);
  return ok;
}

struct cd_conf *cd_conf_load(const char *path, struct cd_conf_errors *errs)
{
  struct loader L = { .errs = errs };
  struct cd_conf *c;
  config_t cfg;

  if (errs != NULL) {
    errs->msgs = NULL;
    errs->count = 0;
  }
  if (path == NULL || *path == '\0') {
    push_msg(&L, xasprintf("%s: cannot read: %s", path != NULL ? path : "(null)", strerror(ENOENT)));
    return NULL;
  }
  if ((c = calloc(1, sizeof *c)) == NULL) {
    push_msg(&L, xasprintf("%s: out of memory", path));
    return NULL;
  }
  L.conf = c;
  c->refs = 1;
  c->no_reply_timer = 20;
  c->max_diversions = 5;
  c->log_level = CD_LOG_INFO;
  c->limit_response = 480;
  c->shutdown_grace = 32;
  c->inquiry.record_ttl = 300;
  c->inquiry.max_records = 100000;
  c->store.port = 6379;
  c->store.timeout_ms = 200;
  c->store.registration_retain = 86400;
  c->path = intern_file(&L, path);
  if (c->path == NULL) {
    cd_conf_free(c);
    push_msg(&L, xasprintf("%s: out of memory", path));
    return NULL;
  }

  /* @include "x" is looked for next to the main file; a path without a
   * directory leaves libconfig to open "x" relative to the working
   * directory, which is the same place. */
  const char *slash = strrchr(path, '/');
  if (slash != NULL)
    L.incdir = slash == path ? dup_str(&L, "/") : strndup(path, (size_t)(slash - path));
  if (slash != NULL && L.incdir == NULL)
    L.oom = true;

  config_init(&cfg);
  if (L.incdir != NULL)
    config_set_include_dir(&cfg, L.incdir);
  errno = 0;
  if (L.oom || !includes_are_files(&L, path, L.incdir, 0)) {
    /* reported; libconfig must not open what is not a file */
  } else if (config_read_file(&cfg, path) != CONFIG_TRUE) {
    int e = errno;
    if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO && config_error_file(&cfg) == NULL) {
      struct stat st;
      if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        e = EISDIR;
      push_msg(&L, xasprintf("%s: cannot read: %s", path,
                             e != 0 ? strerror(e) : config_error_text(&cfg)));
    } else {
      report(&L, shown_file(&L, config_error_file(&cfg)), config_error_line(&cfg), "%s",
             config_error_text(&cfg) != NULL ? config_error_text(&cfg) : "syntax error");
    }
  } else if (!L.oom) {
    load_root(&L, config_root_setting(&cfg));
  }
  config_destroy(&cfg);
  free(L.incdir);
  free(L.slot_file);
  free(L.slot_line);

  if (!L.oom && c->store.host == NULL && (c->store.host = strdup("127.0.0.1")) == NULL)
    L.oom = true;
  if (!L.oom && c->store.prefix == NULL && (c->store.prefix = strdup("cdivas:")) == NULL)
    L.oom = true;
  if (L.oom && L.n_errors == 0)
    push_msg(&L, xasprintf("%s: out of memory", path));
  if (L.n_errors > 0 || L.oom) {
    cd_conf_free(c);
    return NULL;
  }
  return c;
}
