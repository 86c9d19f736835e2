/*
 * xcap.c - the xcap group of cdivas.conf (cdivas.conf(5), XCAP SETTINGS):
 * the HTTP(S) listener of the subscribers' simservs documents
 * (doc/xcap.md), how a client proves who it is, and where the documents
 * are kept. See loader.h for what a group loader does.
 *
 * The state directory is checked here (a directory cdivas may write), so
 * that "cdivas -t" finds a wrong path rather than the first PUT. Whether
 * it is needed depends on store.backend, which may be written after this
 * group: load.c checks that at the end (conf_check_xcap).
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* strdup */
#endif
#include "conf/loader.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "a.b.c.d", "a.b.c.d/len", "v6", "v6/len" -> net. NULL or why. */
static const char *parse_net(const char *s, struct cd_net *net)
{
  char addr[64];
  const char *slash = strchr(s, '/');
  size_t n = slash ? (size_t)(slash - s) : strlen(s);
  if (n == 0 || n >= sizeof addr)
    return "expected an IPv4 or IPv6 address, optionally with /prefix";
  memcpy(addr, s, n);
  addr[n] = '\0';
  memset(net, 0, sizeof *net);
  int max;
  if (inet_pton(AF_INET, addr, net->addr) == 1) {
    net->family = 4;
    max = 32;
  } else if (inet_pton(AF_INET6, addr, net->addr) == 1) {
    net->family = 6;
    max = 128;
  } else {
    return "not a numeric IPv4 or IPv6 address";
  }
  net->prefix = max;
  if (slash) {
    char *end;
    long p = strtol(slash + 1, &end, 10);
    if (end == slash + 1 || *end != '\0' || p < 0 || p > max)
      return max == 32 ? "bad prefix length (0..32)" : "bad prefix length (0..128)";
    net->prefix = (int)p;
  }
  return NULL;
}

static void load_trusted(struct loader *L, const config_setting_t *s)
{
  struct reader *R = &L->rd;
  struct cd_xcap_conf *x = &L->conf->xcap;
  if (!rd_string_list(R, s))
    return;
  int n = config_setting_length(s);
  if ((x->trusted_proxies = rd_calloc(R, (size_t)n, sizeof *x->trusted_proxies)) == NULL)
    return;
  for (int i = 0; i < n; i++) {
    const config_setting_t *e;
    const char *str = rd_element_string(R, s, i, &e), *why;
    if (str == NULL)
      continue;
    if ((why = parse_net(str, &x->trusted_proxies[x->n_trusted_proxies])) != NULL)
      rd_error_at(R, e, "bad trusted_proxies entry '%s': %s", str, why);
    else
      x->n_trusted_proxies++;
  }
}

static void load_auth(struct reader *R, const config_setting_t *s, struct cd_xcap_conf *x)
{
  x->auth = 0;
  bool single = config_setting_type(s) == CONFIG_TYPE_STRING;
  if (!single && !rd_string_list(R, s))
    return;
  int n = single ? 1 : config_setting_length(s);
  for (int i = 0; i < n; i++) {
    const config_setting_t *e = s;
    const char *str = single ? rd_get_string(R, s) : rd_element_string(R, s, i, &e);
    if (str == NULL)
      continue;
    if (strcmp(str, "digest") == 0)
      x->auth |= CD_XCAP_AUTH_DIGEST;
    else if (strcmp(str, "asserted-identity") == 0)
      x->auth |= CD_XCAP_AUTH_ASSERTED;
    else
      rd_error_at(R, e, "unknown auth '%s' (expected digest or asserted-identity)", str);
  }
  if (n == 0)
    rd_error_at(R, s, "auth must not be empty (digest, asserted-identity or both)");
}

static void load_state_dir(struct reader *R, const config_setting_t *s, struct cd_xcap_conf *x)
{
  const char *str = rd_get_string(R, s);
  struct stat st;
  if (str == NULL)
    return;
  if (*str == '\0') {
    rd_error_at(R, s, "state_dir must not be empty");
    return;
  }
  /* Relative to the main file's directory, as @include is: cdivas
   * changes its directory to / when it daemonizes. */
  char *path = str[0] != '/' && R->incdir ? rd_asprintf("%s/%s", R->incdir, str) : rd_strdup(R, str);
  if (path == NULL) {
    R->oom = true;
    return;
  }
  if (stat(path, &st) < 0 || (!S_ISDIR(st.st_mode) && (errno = ENOTDIR)) ||
      access(path, W_OK | X_OK) < 0) {
    rd_error_at(R, s, "state_dir '%s': %s", str, strerror(errno));
    free(path);
    return;
  }
  x->state_dir = path;
}

void conf_load_xcap(struct loader *L, const config_setting_t *g)
{
  struct reader *R = &L->rd;
  struct cd_xcap_conf *x = &L->conf->xcap;
  const struct rd_listener listener = { &x->listen, &x->tls, &x->host, &x->port,
                                         &x->tls_certificate, &x->tls_key, &x->tls_client_ca };
  if (!config_setting_is_group(g)) {
    rd_error_at(R, g, "xcap must be a group { ... }, not %s", rd_type_name(g));
    return;
  }
  x->enabled = true;
  L->xcap_group = g;
  for (int i = 0; i < config_setting_length(g); i++) {
    const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
    const char *str;
    if (rd_listener_setting(R, s, "xcap", &listener))
      continue;
    if (rd_named(s, "auth")) {
      L->xcap_auth = s;
      load_auth(R, s, x);
    } else if (rd_named(s, "realm")) {
      if ((str = rd_get_string(R, s)) == NULL)
        continue;
      if (*str == '\0' || strlen(str) > 128 || strpbrk(str, "\"\\") != NULL)
        rd_error_at(R, s, "realm must be 1 to 128 characters without \" or \\");
      else
        x->realm = rd_strdup(R, str);
    } else if (rd_named(s, "trusted_proxies")) {
      L->xcap_trusted = s;
      load_trusted(L, s);
    } else if (rd_named(s, "state_dir")) {
      L->xcap_state_dir = s;
      load_state_dir(R, s, x);
    } else if (rd_named(s, "feature_codes")) {
      rd_get_bool(R, s, &x->feature_codes);
    } else {
      rd_error_at(R, s, "unknown setting '%s' in xcap", config_setting_name(s));
    }
  }
  if (x->listen && x->tls && (x->tls_certificate == NULL || x->tls_key == NULL))
    rd_error_at(R, g, "an https:// xcap listener needs tls_certificate and tls_key");
  if (!x->tls && (x->tls_certificate || x->tls_key || x->tls_client_ca))
    rd_error_at(R, g, "tls_certificate, tls_key and tls_client_ca need an https:// xcap listen URL");
  if ((x->auth & CD_XCAP_AUTH_ASSERTED) && L->xcap_trusted == NULL)
    rd_error_at(R, L->xcap_auth, "auth asserted-identity needs trusted_proxies (the authentication proxies' addresses)");
  if (!(x->auth & CD_XCAP_AUTH_ASSERTED) && L->xcap_trusted != NULL)
    rd_error_at(R, L->xcap_trusted, "trusted_proxies is only used with auth asserted-identity");
}

void conf_check_xcap(struct loader *L)
{
  struct reader *R = &L->rd;
  struct cd_conf *c = L->conf;
  struct cd_xcap_conf *x = &c->xcap;
  if (!x->enabled)
    return;
  if (c->store.backend == CD_STORE_MEMORY && L->xcap_state_dir == NULL)
    rd_error_at(R, L->xcap_group, "xcap needs state_dir (where the subscribers' documents are kept) "
                "with the memory store");
  if (c->store.backend == CD_STORE_REDIS && L->xcap_state_dir != NULL)
    rd_error_at(R, L->xcap_state_dir, "state_dir is not used with store.backend \"redis\" "
                "(the documents are kept in Redis)");
  if (x->realm == NULL && c->identity != NULL) {
    /* The host of server.identity: sip:[user@]host[:port][;params] */
    const char *h = strchr(c->identity, ':');
    h = h ? h + 1 : c->identity;
    const char *at = strchr(h, '@');
    if (at)
      h = at + 1;
    size_t n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":;?>");
    if ((x->realm = strndup(h, n)) == NULL)
      R->oom = true;
  }
}
