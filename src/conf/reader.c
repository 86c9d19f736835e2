/*
 * reader.c - the error list, the typed walk over a libconfig tree and the
 * value checks shared by cdivas.conf and kms.conf (see reader.h).
 *
 * Every getter reports its own problem as "file:line: message" and lets
 * the walk go on, which is what makes one load report all the errors of
 * a file. Where a setting was written (rd_file_of, rd_line_of) and the
 * reading of the files are in source.c.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* strdup, strndup */
#endif
#include "conf/reader.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ memory */

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

char *rd_asprintf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *s = xvasprintf(fmt, ap);
  va_end(ap);
  return s;
}

char *rd_strdup(struct reader *R, const char *s)
{
  char *d = strdup(s);
  if (d == NULL)
    R->oom = true;
  return d;
}

void *rd_calloc(struct reader *R, size_t n, size_t size)
{
  void *p = calloc(n == 0 ? 1 : n, size);
  if (p == NULL)
    R->oom = true;
  return p;
}

/* ------------------------------------------------------------ errors */

void rd_push(struct reader *R, char *msg)
{
  R->n_errors++;
  if (msg == NULL) {
    R->oom = true;
    return;
  }
  for (char *p = msg; *p != '\0'; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = '?';
  if (R->errs == NULL) {
    free(msg);
    return;
  }
  char **m = realloc(R->errs->msgs, (R->errs->count + 1) * sizeof *m);
  if (m == NULL) {
    free(msg);
    R->oom = true;
    return;
  }
  R->errs->msgs = m;
  m[R->errs->count++] = msg;
}

static void vreport(struct reader *R, const char *file, int line, const char *fmt, va_list ap)
{
  char *text = xvasprintf(fmt, ap);
  char *msg = text != NULL ? rd_asprintf("%s:%d: %s", file, line, text) : NULL;
  free(text);
  rd_push(R, msg);
}

void rd_report(struct reader *R, const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vreport(R, file, line, fmt, ap);
  va_end(ap);
}

void rd_error_at(struct reader *R, const config_setting_t *s, const char *fmt, ...)
{
  const char *file = rd_file_of(R, s);
  va_list ap;
  va_start(ap, fmt);
  vreport(R, file, rd_line_of(s), fmt, ap);
  va_end(ap);
}

/* ------------------------------------------------------------ typed walk */

const char *rd_type_name(const config_setting_t *s)
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

bool rd_named(const config_setting_t *s, const char *name)
{
  return strcmp(config_setting_name(s), name) == 0;
}

bool rd_get_int(struct reader *R, const config_setting_t *s, long long lo, long long hi, int *out)
{
  const char *name = config_setting_name(s);
  int t = config_setting_type(s);
  if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
    rd_error_at(R, s, "%s must be an integer, not %s", name, rd_type_name(s));
    return false;
  }
  long long v = config_setting_get_int64(s);
  if (v < lo || v > hi) {
    if (hi == INT_MAX)
      rd_error_at(R, s, "%s must be %lld or more, not %lld", name, lo, v);
    else
      rd_error_at(R, s, "%s must be between %lld and %lld, not %lld", name, lo, hi, v);
    return false;
  }
  *out = (int)v;
  return true;
}

bool rd_get_bool(struct reader *R, const config_setting_t *s, bool *out)
{
  if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
    rd_error_at(R, s, "%s must be a boolean (true or false), not %s",
                config_setting_name(s), rd_type_name(s));
    return false;
  }
  *out = config_setting_get_bool(s) != 0;
  return true;
}

const char *rd_get_string(struct reader *R, const config_setting_t *s)
{
  if (config_setting_type(s) != CONFIG_TYPE_STRING) {
    rd_error_at(R, s, "%s must be a string, not %s", config_setting_name(s), rd_type_name(s));
    return NULL;
  }
  return config_setting_get_string(s);
}

bool rd_string_list(struct reader *R, const config_setting_t *s)
{
  int t = config_setting_type(s);
  if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
    rd_error_at(R, s, "%s must be a list of strings, not %s", config_setting_name(s),
                rd_type_name(s));
    return false;
  }
  return true;
}

const char *rd_element_string(struct reader *R, const config_setting_t *list, int i,
                              const config_setting_t **elem)
{
  const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
  *elem = e;
  if (config_setting_type(e) != CONFIG_TYPE_STRING) {
    rd_error_at(R, e, "%s entries must be strings, not %s", config_setting_name(list),
                rd_type_name(e));
    return NULL;
  }
  return config_setting_get_string(e);
}

bool rd_group_list(struct reader *R, const config_setting_t *s)
{
  int t = config_setting_type(s);
  if (t == CONFIG_TYPE_LIST || (t == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0))
    return true;
  rd_error_at(R, s, "%s must be a list of groups ( { ... }, ... ), not %s",
              config_setting_name(s), rd_type_name(s));
  return false;
}

bool rd_group_elem(struct reader *R, const config_setting_t *list, const config_setting_t *e)
{
  if (config_setting_is_group(e))
    return true;
  rd_error_at(R, e, "%s entries must be groups { ... }, not %s", config_setting_name(list),
              rd_type_name(e));
  return false;
}

/* ------------------------------------------------------------ shared values */

bool rd_identity(struct reader *R, const config_setting_t *at, const char *uri, const char *in,
                 char key[CD_IDENTITY_KEY_MAX])
{
  const char *why = NULL;
  if (cd_identity_key(uri, key, &why) != 0) {
    rd_error_at(R, at, "malformed URI '%s' in %s: %s", uri, in, why != NULL ? why : "invalid");
    return false;
  }
  return true;
}

void rd_key_list(struct reader *R, const config_setting_t *s, bool allow_empty,
                 char ***keys_out, size_t *n_out)
{
  if (!rd_string_list(R, s))
    return;
  int n = config_setting_length(s);
  if (n == 0 && !allow_empty) {
    rd_error_at(R, s, "%s must not be empty (leave it out to match every caller)",
                config_setting_name(s));
    return;
  }
  char **keys = rd_calloc(R, (size_t)n, sizeof *keys);
  if (keys == NULL)
    return;
  *keys_out = keys;
  *n_out = (size_t)n;
  for (int i = 0; i < n; i++) {
    const config_setting_t *e;
    const char *uri = rd_element_string(R, s, i, &e);
    char key[CD_IDENTITY_KEY_MAX];
    if (uri != NULL && rd_identity(R, e, uri, config_setting_name(s), key))
      keys[i] = rd_strdup(R, key);
  }
}

bool rd_readable(struct reader *R, const config_setting_t *s, const char *file)
{
  if (access(file, R_OK) == 0)
    return true;
  rd_error_at(R, s, "%s '%s': %s", config_setting_name(s), file, strerror(errno));
  return false;
}

static int hex_value(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool rd_hex32(const char *hex, unsigned char out[32])
{
  if (hex == NULL || strlen(hex) != 64)
    return false;
  for (size_t b = 0; b < 32; b++) {
    int hi = hex_value(hex[2 * b]), lo = hex_value(hex[2 * b + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out[b] = (unsigned char)(hi << 4 | lo);
  }
  return true;
}

const char *rd_http_url(const char *url, bool *tls, char **host_out, int *port_out, char *buf,
                        size_t bufsize)
{
  const char *rest;
  bool https;
  if (strncmp(url, "http://", 7) == 0)
    rest = url + 7, https = false;
  else if (strncmp(url, "https://", 8) == 0)
    rest = url + 8, https = true;
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
  *tls = https;
  *host_out = strndup(host, (size_t)(host_end - host));
  *port_out = (int)p;
  return NULL;
}

bool rd_listener_setting(struct reader *R, const config_setting_t *s, const char *group,
                         const struct rd_listener *l)
{
  const char *str, *why;
  char buf[160];
  if (rd_named(s, "listen")) {
    if ((str = rd_get_string(R, s)) == NULL)
      return true;
    if ((why = rd_http_url(str, l->tls, l->host, l->port, buf, sizeof buf)) != NULL)
      rd_error_at(R, s, "bad %s listen URL '%s': %s", group, str, why);
    else if (*l->host == NULL)
      R->oom = true;
    else
      *l->listen = rd_strdup(R, str);
    return true;
  }
  char **slot = rd_named(s, "tls_certificate") ? l->tls_certificate
                : rd_named(s, "tls_key")       ? l->tls_key
                : rd_named(s, "tls_client_ca") ? l->tls_client_ca : NULL;
  if (slot == NULL)
    return false;
  if ((str = rd_get_string(R, s)) != NULL && *str != '\0' && rd_readable(R, s, str))
    *slot = rd_strdup(R, str);
  return true;
}
