/*
 * server.c - the server group of cdivas.conf (cdivas.conf(5), SERVER
 * SETTINGS): where cdivas listens, who it is, and the settings that hold
 * for every call. See loader.h for what a group loader does.
 *
 * The listen URIs and the time zone are checked here to the letter
 * (host, port, transport; a zone file that exists) because a mistake in
 * them would otherwise only show when the proxy binds or a validity
 * window is evaluated, long after "cdivas -t" said the file was fine.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* strdup, PATH_MAX */
#endif
#include "conf/loader.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool has_sip_scheme(const char *uri)
{
  return strncasecmp(uri, "sip:", 4) == 0 || strncasecmp(uri, "sips:", 5) == 0;
}

/* A server URI (identity, outbound_proxy): a sip or sips URI. */
static bool sip_uri(struct reader *R, const config_setting_t *at, const char *uri, const char *in,
                    char key[CD_IDENTITY_KEY_MAX])
{
  if (!rd_identity(R, at, uri, in, key))
    return false;
  if (!has_sip_scheme(uri)) {
    rd_error_at(R, at, "malformed URI '%s' in %s: not a sip or sips URI", uri, in);
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
  char *path = rd_asprintf("%s/%s", dir, name);
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

static void load_listen(struct loader *L, const config_setting_t *s)
{
  struct reader *R = &L->rd;
  struct cd_conf *c = L->conf;
  if (!rd_string_list(R, s))
    return;
  int n = config_setting_length(s);
  if (n == 0) {
    rd_error_at(R, s, "listen must not be empty");
    return;
  }
  if ((c->listen = rd_calloc(R, (size_t)n, sizeof *c->listen)) == NULL)
    return;
  c->n_listen = (size_t)n;
  for (int i = 0; i < n; i++) {
    const config_setting_t *e;
    const char *uri = rd_element_string(R, s, i, &e);
    char buf[160];
    const char *why;
    if (uri == NULL)
      continue;
    if ((why = check_listen(uri, buf, sizeof buf)) != NULL) {
      rd_error_at(R, e, "bad listen URI '%s': %s", uri, why);
      continue;
    }
    bool dup = false;
    for (int j = 0; j < i && !dup; j++)
      dup = c->listen[j] != NULL && strcasecmp(c->listen[j], uri) == 0;
    if (dup) {
      rd_error_at(R, e, "duplicate listen URI '%s'", uri);
      continue;
    }
    c->listen[i] = rd_strdup(R, uri);
  }
}

/* "" means "not set" for the optional URIs. */
static void load_optional_uri(struct reader *R, const config_setting_t *s, bool sip_only, char **out)
{
  const char *uri = rd_get_string(R, s);
  char key[CD_IDENTITY_KEY_MAX];
  if (uri == NULL || *uri == '\0')
    return;
  if (sip_only ? sip_uri(R, s, uri, config_setting_name(s), key)
               : rd_identity(R, s, uri, config_setting_name(s), key))
    *out = rd_strdup(R, uri);
}

/* aliases = [ "sip:as.lab.example.net", "sip:10.0.0.5:5070" ]: sip or
 * sips URIs with a host, kept as written (sip/route.c parses them). */
static void load_aliases(struct loader *L, const config_setting_t *s)
{
  struct reader *R = &L->rd;
  struct cd_conf *c = L->conf;
  if (!rd_string_list(R, s))
    return;
  int n = config_setting_length(s);
  if ((c->aliases = rd_calloc(R, (size_t)n, sizeof *c->aliases)) == NULL)
    return;
  c->n_aliases = (size_t)n;
  for (int i = 0; i < n; i++) {
    const config_setting_t *e;
    const char *uri = rd_element_string(R, s, i, &e);
    char key[CD_IDENTITY_KEY_MAX];
    if (uri != NULL && sip_uri(R, e, uri, "aliases", key))
      c->aliases[i] = rd_strdup(R, uri);
  }
}

void conf_load_server(struct loader *L, const config_setting_t *g)
{
  struct reader *R = &L->rd;
  struct cd_conf *c = L->conf;
  bool has_listen = false, has_identity = false;
  if (!config_setting_is_group(g)) {
    rd_error_at(R, g, "server must be a group { ... }, not %s", rd_type_name(g));
    return;
  }
  for (int i = 0; i < config_setting_length(g); i++) {
    const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
    const char *str;
    if (rd_named(s, "listen")) {
      has_listen = true;
      load_listen(L, s);
    } else if (rd_named(s, "identity")) {
      has_identity = true;
      if ((str = rd_get_string(R, s)) != NULL && sip_uri(R, s, str, "identity", c->identity_key))
        c->identity = rd_strdup(R, str);
    } else if (rd_named(s, "aliases")) {
      load_aliases(L, s);
    } else if (rd_named(s, "decline_is_busy")) {
      rd_get_bool(R, s, &c->decline_is_busy);
    } else if (rd_named(s, "outbound_proxy")) {
      load_optional_uri(R, s, true, &c->outbound_proxy);
    } else if (rd_named(s, "no_reply_timer")) {
      rd_get_int(R, s, 5, 180, &c->no_reply_timer);
    } else if (rd_named(s, "max_diversions")) {
      rd_get_int(R, s, 1, 20, &c->max_diversions);
    } else if (rd_named(s, "log_level")) {
      if ((str = rd_get_string(R, s)) != NULL && cd_log_level_parse(str, &c->log_level) != 0)
        rd_error_at(R, s, "unknown log_level '%s' (expected error, warning, notice, info or debug)", str);
    } else if (rd_named(s, "timezone")) {
      char buf[PATH_MAX + 64];
      const char *why;
      if ((str = rd_get_string(R, s)) == NULL || *str == '\0')
        continue;
      if ((why = check_timezone(str, buf, sizeof buf)) != NULL)
        rd_error_at(R, s, "unknown timezone '%s': %s", str, why);
      else
        c->timezone = rd_strdup(R, str);
    } else if (rd_named(s, "limit_response")) {
      rd_get_int(R, s, 400, 699, &c->limit_response);
    } else if (rd_named(s, "limit_destination")) {
      load_optional_uri(R, s, false, &c->limit_destination);
    } else if (rd_named(s, "limit_exempt")) {
      rd_key_list(R, s, true, &c->limit_exempt, &c->n_limit_exempt);
    } else if (rd_named(s, "shutdown_grace")) {
      rd_get_int(R, s, 1, 300, &c->shutdown_grace);
    } else if (rd_named(s, "not_reachable_timer")) {
      rd_get_int(R, s, 0, 64, &c->not_reachable_timer);
    } else if (rd_named(s, "diversion_header")) {
      rd_get_bool(R, s, &c->diversion_header);
    } else {
      rd_error_at(R, s, "unknown setting '%s' in server", config_setting_name(s));
    }
  }
  if (!has_listen)
    rd_error_at(R, g, "missing required setting 'listen' in server");
  if (!has_identity)
    rd_error_at(R, g, "missing required setting 'identity' in server");
}


