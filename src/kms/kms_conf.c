/*
 * kms_conf.c - loading the reference KMS's configuration (see kms_conf.h).
 *
 * Small on purpose: a handful of settings, read in one pass, each checked
 * where it is read so the error names its own line.
 */
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "core/conf.h"
#include "kms/kms_conf.h"

struct reader {
  const char *path;
  size_t errors;
};

static void error_at(struct reader *r, const config_setting_t *s, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static void error_at(struct reader *r, const config_setting_t *s, const char *fmt, ...)
{
  const char *file = s ? config_setting_source_file(s) : NULL;
  fprintf(stderr, "%s:%d: ", file ? file : r->path, s ? config_setting_source_line(s) : 1);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  r->errors++;
}

static const char *string_of(struct reader *r, const config_setting_t *g, const char *name, bool required)
{
  const config_setting_t *s = config_setting_get_member(g, name);
  if (s == NULL) {
    if (required)
      error_at(r, g, "missing required setting '%s'", name);
    return NULL;
  }
  if (config_setting_type(s) != CONFIG_TYPE_STRING) {
    error_at(r, s, "%s must be a string", name);
    return NULL;
  }
  return config_setting_get_string(s);
}

static char *dup_or_null(const char *s)
{
  return s && *s ? strdup(s) : NULL;
}

static void key32(struct reader *r, const config_setting_t *g, const char *name, unsigned char out[32])
{
  const char *hex = string_of(r, g, name, true);
  if (hex == NULL)
    return;
  bool ok = strlen(hex) == 64;
  for (size_t i = 0; ok && i < 32; i++) {
    unsigned v;
    ok = sscanf(hex + 2 * i, "%2x", &v) == 1 && strchr("0123456789abcdefABCDEF", hex[2 * i]) &&
         strchr("0123456789abcdefABCDEF", hex[2 * i + 1]);
    out[i] = (unsigned char)v;
  }
  if (!ok)
    error_at(r, config_setting_get_member(g, name), "%s must be exactly 64 hex digits", name);
}

static int int_of(struct reader *r, const config_setting_t *g, const char *name, int lo, int hi, int dflt)
{
  const config_setting_t *s = config_setting_get_member(g, name);
  if (s == NULL)
    return dflt;
  if (config_setting_type(s) != CONFIG_TYPE_INT) {
    error_at(r, s, "%s must be an integer", name);
    return dflt;
  }
  int v = config_setting_get_int(s);
  if (v < lo || v > hi) {
    error_at(r, s, "%s must be between %d and %d, not %d", name, lo, hi, v);
    return dflt;
  }
  return v;
}

static void identity(struct reader *r, const config_setting_t *g, const char *name,
                     char **written, char key[CD_IDENTITY_KEY_MAX])
{
  const char *uri = string_of(r, g, name, true), *why = NULL;
  if (uri == NULL)
    return;
  if (cd_identity_key(uri, key, &why) < 0) {
    error_at(r, config_setting_get_member(g, name), "malformed URI '%s' in %s: %s", uri, name, why);
    return;
  }
  *written = strdup(uri);
}

static bool readable(struct reader *r, const config_setting_t *g, const char *name, char **out)
{
  const char *file = string_of(r, g, name, false);
  if (file == NULL || *file == '\0')
    return false;
  if (access(file, R_OK) != 0) {
    error_at(r, config_setting_get_member(g, name), "%s '%s': %s", name, file, strerror(errno));
    return false;
  }
  *out = strdup(file);
  return true;
}

static void load_kms(struct reader *r, struct kms_conf *c, const config_setting_t *g)
{
  const char *id = string_of(r, g, "id", true);
  c->id = dup_or_null(id);
  const char *listen = string_of(r, g, "listen", true);
  if (listen) {
    const char *rest = NULL;
    if (strncmp(listen, "http://", 7) == 0)
      rest = listen + 7;
    else if (strncmp(listen, "https://", 8) == 0)
      rest = listen + 8, c->tls = true;
    const char *colon = rest ? strrchr(rest, ':') : NULL;
    int port = colon ? atoi(colon + 1) : 0;
    if (rest == NULL || colon == NULL || colon == rest || port < 1 || port > 65535)
      error_at(r, config_setting_get_member(g, "listen"),
               "listen must be http://host:port or https://host:port, not '%s'", listen);
    else {
      c->listen = strdup(listen);
      c->host = strndup(rest, (size_t)(colon - rest));
      c->port = port;
    }
  }
  readable(r, g, "tls_certificate", &c->tls_certificate);
  readable(r, g, "tls_key", &c->tls_key);
  readable(r, g, "tls_client_ca", &c->tls_client_ca);
  if (c->tls && (!c->tls_certificate || !c->tls_key))
    error_at(r, g, "an https:// listener needs tls_certificate and tls_key");
  key32(r, g, "ticket_key", c->ticket_key);
  c->ticket_lifetime = int_of(r, g, "ticket_lifetime", 60, 86400, 3600);
  c->inquiry_timeout = int_of(r, g, "inquiry_timeout", 1, 30, 3);
  const char *level = string_of(r, g, "log_level", false);
  enum cd_log_level lv = CD_LOG_INFO;
  if (level && cd_log_level_parse(level, &lv) < 0)
    error_at(r, config_setting_get_member(g, "log_level"), "unknown log_level '%s'", level);
  c->log_level = (int)lv;
}

/* Hands each group of a list to `load`; any other element is an error
 * (`not_group`). */
static void each_group(struct reader *r, struct kms_conf *c, const config_setting_t *list,
                       const char *not_group,
                       void (*load)(struct reader *, struct kms_conf *, const config_setting_t *))
{
  int n = config_setting_length(list);
  for (int i = 0; i < n; i++) {
    const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
    if (config_setting_is_group(g))
      load(r, c, g);
    else
      error_at(r, g, "%s", not_group);
  }
}

static void load_user(struct reader *r, struct kms_conf *c, const config_setting_t *g)
{
  struct kms_user *u = &c->users[c->n_users];
  identity(r, g, "id", &u->id, u->key);
  key32(r, g, "psk", u->psk);
  if (u->id && kms_conf_user(c, u->key))
    error_at(r, g, "duplicate user '%s'", u->id);
  if (u->id)
    c->n_users++;
}

static void load_users(struct reader *r, struct kms_conf *c, const config_setting_t *list)
{
  c->users = calloc((size_t)config_setting_length(list) + 1, sizeof *c->users);
  if (c->users)
    each_group(r, c, list, "users entries must be groups { id = ...; psk = ...; }", load_user);
}

static void load_as(struct reader *r, struct kms_conf *c, const config_setting_t *g)
{
  struct kms_as *as = &c->ases[c->n_ases];
  identity(r, g, "identity", &as->identity, as->key);
  const char *url = string_of(r, g, "inquiry_url", true);
  if (url && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
    error_at(r, config_setting_get_member(g, "inquiry_url"),
             "inquiry_url must start with http:// or https://");
  else if (url)
    as->inquiry_url = strdup(url);
  key32(r, g, "key", as->hmac_key);
  readable(r, g, "tls_ca", &as->tls_ca);
  readable(r, g, "tls_certificate", &as->tls_certificate);
  readable(r, g, "tls_key", &as->tls_key);
  if (as->inquiry_url && strncmp(as->inquiry_url, "https://", 8) == 0 && as->tls_ca == NULL)
    error_at(r, g, "an https inquiry_url needs tls_ca to verify the AS");
  if (as->identity && kms_conf_as(c, as->key))
    error_at(r, g, "duplicate application server '%s'", as->identity);
  if (as->identity)
    c->n_ases++;
}

static void load_ases(struct reader *r, struct kms_conf *c, const config_setting_t *list)
{
  c->ases = calloc((size_t)config_setting_length(list) + 1, sizeof *c->ases);
  if (c->ases)
    each_group(r, c, list, "application_servers entries must be groups", load_as);
}

struct kms_conf *kms_conf_load(const char *path, size_t *n_errors)
{
  struct reader r = { .path = path };
  config_t cfg;
  config_init(&cfg);
  char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
  if (slash) {
    *slash = '\0';
    config_set_include_dir(&cfg, dir);
  }
  struct kms_conf *c = calloc(1, sizeof *c);
  if (config_read_file(&cfg, path) != CONFIG_TRUE) {
    if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
      fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
    else
      fprintf(stderr, "%s:%d: %s\n", config_error_file(&cfg) ? config_error_file(&cfg) : path,
              config_error_line(&cfg), config_error_text(&cfg));
    r.errors++;
  } else if (c) {
    const config_setting_t *root = config_root_setting(&cfg);
    for (int i = 0; i < config_setting_length(root); i++) {
      const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
      const char *name = config_setting_name(s);
      if (strcmp(name, "kms") == 0 && config_setting_is_group(s))
        load_kms(&r, c, s);
      else if (strcmp(name, "users") == 0 && config_setting_is_list(s))
        load_users(&r, c, s);
      else if (strcmp(name, "application_servers") == 0 && config_setting_is_list(s))
        load_ases(&r, c, s);
      else
        error_at(&r, s, "unknown or mistyped setting '%s' (expected the kms group, users and application_servers lists)", name);
    }
    if (c->id == NULL && r.errors == 0)
      error_at(&r, NULL, "missing required group 'kms'");
  }
  config_destroy(&cfg);
  free(dir);
  *n_errors = r.errors + (c == NULL);
  if (r.errors || c == NULL) {
    kms_conf_free(c);
    return NULL;
  }
  return c;
}

void kms_conf_free(struct kms_conf *c)
{
  if (c == NULL)
    return;
  for (size_t i = 0; i < c->n_users; i++)
    free(c->users[i].id);
  if (c->users)
    OPENSSL_cleanse(c->users, c->n_users * sizeof *c->users);
  free(c->users);
  for (size_t i = 0; i < c->n_ases; i++) {
    free(c->ases[i].identity);
    free(c->ases[i].inquiry_url);
    free(c->ases[i].tls_ca);
    free(c->ases[i].tls_certificate);
    free(c->ases[i].tls_key);
  }
  free(c->ases);
  free(c->id);
  free(c->listen);
  free(c->host);
  free(c->tls_certificate);
  free(c->tls_key);
  free(c->tls_client_ca);
  OPENSSL_cleanse(c->ticket_key, sizeof c->ticket_key);
  free(c);
}

const struct kms_user *kms_conf_user(const struct kms_conf *conf, const char *key)
{
  for (size_t i = 0; i < conf->n_users; i++)
    if (strcmp(conf->users[i].key, key) == 0)
      return &conf->users[i];
  return NULL;
}

const struct kms_as *kms_conf_as(const struct kms_conf *conf, const char *key)
{
  for (size_t i = 0; i < conf->n_ases; i++)
    if (strcmp(conf->ases[i].key, key) == 0)
      return &conf->ases[i];
  return NULL;
}
