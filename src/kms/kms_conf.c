/*
 * kms_conf.c - loading the reference KMS's configuration (see kms_conf.h).
 *
 * Small on purpose: a handful of settings, read in one pass, each checked
 * where it is read so the error names its own line. Reading, @include and
 * the file:line error list are cdivas.conf's own (conf/reader.h), so both
 * daemons report errors the one way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "conf/reader.h"
#include "core/conf.h"
#include "kms/kms_conf.h"

#define error_at rd_error_at

static const char *string_of(struct reader *r, const config_setting_t *g, const char *name, bool required)
{
  const config_setting_t *s = config_setting_get_member(g, name);
  if (s == NULL) {
    if (required)
      error_at(r, g, "missing required setting '%s'", name);
    return NULL;
  }
  return rd_get_string(r, s);
}

static char *dup_or_null(struct reader *r, const char *s)
{
  return s && *s ? rd_strdup(r, s) : NULL;
}

static void key32(struct reader *r, const config_setting_t *g, const char *name, unsigned char out[32])
{
  const char *hex = string_of(r, g, name, true);
  if (hex != NULL && !rd_hex32(hex, out))
    error_at(r, config_setting_get_member(g, name), "%s must be exactly 64 hex digits", name);
}

static int int_of(struct reader *r, const config_setting_t *g, const char *name, int lo, int hi, int dflt)
{
  const config_setting_t *s = config_setting_get_member(g, name);
  int v = dflt;
  if (s != NULL && !rd_get_int(r, s, lo, hi, &v))
    return dflt;
  return v;
}

static void identity(struct reader *r, const config_setting_t *g, const char *name,
                     char **written, char key[CD_IDENTITY_KEY_MAX])
{
  const char *uri = string_of(r, g, name, true);
  if (uri != NULL && rd_identity(r, config_setting_get_member(g, name), uri, name, key))
    *written = rd_strdup(r, uri);
}

static bool readable(struct reader *r, const config_setting_t *g, const char *name, char **out)
{
  const char *file = string_of(r, g, name, false);
  if (file == NULL || *file == '\0' || !rd_readable(r, config_setting_get_member(g, name), file))
    return false;
  *out = rd_strdup(r, file);
  return *out != NULL;
}

static void load_kms(struct reader *r, struct kms_conf *c, const config_setting_t *g)
{
  const char *id = string_of(r, g, "id", true);
  c->id = dup_or_null(r, id);
  const char *listen = string_of(r, g, "listen", true);
  char buf[96];
  const char *why = listen ? rd_http_url(listen, &c->tls, &c->host, &c->port, buf, sizeof buf) : NULL;
  if (why != NULL)
    error_at(r, config_setting_get_member(g, "listen"),
             "bad listen URL '%s': %s", listen, why);
  else if (listen != NULL && (c->host == NULL || (c->listen = rd_strdup(r, listen)) == NULL))
    r->oom = true;
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

/* Each entry is counted, even one without its id (an error): kms_conf_free
 * then frees what it holds. */
static void load_user(struct reader *r, struct kms_conf *c, const config_setting_t *g)
{
  struct kms_user *u = &c->users[c->n_users];
  identity(r, g, "id", &u->id, u->key);
  key32(r, g, "psk", u->psk);
  if (u->id && kms_conf_user(c, u->key))
    error_at(r, g, "duplicate user '%s'", u->id);
  c->n_users++;
}

static void load_users(struct reader *r, struct kms_conf *c, const config_setting_t *list)
{
  c->users = rd_calloc(r, (size_t)config_setting_length(list) + 1, sizeof *c->users);
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
    as->inquiry_url = rd_strdup(r, url);
  key32(r, g, "key", as->hmac_key);
  readable(r, g, "tls_ca", &as->tls_ca);
  readable(r, g, "tls_certificate", &as->tls_certificate);
  readable(r, g, "tls_key", &as->tls_key);
  if (as->inquiry_url && strncmp(as->inquiry_url, "https://", 8) == 0 && as->tls_ca == NULL)
    error_at(r, g, "an https inquiry_url needs tls_ca to verify the AS");
  if (as->identity && kms_conf_as(c, as->key))
    error_at(r, g, "duplicate application server '%s'", as->identity);
  c->n_ases++;   /* as in load_user */
}

static void load_ases(struct reader *r, struct kms_conf *c, const config_setting_t *list)
{
  c->ases = rd_calloc(r, (size_t)config_setting_length(list) + 1, sizeof *c->ases);
  if (c->ases)
    each_group(r, c, list, "application_servers entries must be groups", load_as);
}

struct kms_conf *kms_conf_load(const char *path, size_t *n_errors)
{
  struct reader r;
  struct cd_conf_errors errs;
  struct kms_conf *c = NULL;
  const config_setting_t *root = rd_open(&r, path, &errs);
  if (root != NULL && (c = rd_calloc(&r, 1, sizeof *c)) != NULL) {
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
    if (c->id == NULL && r.n_errors == 0)
      error_at(&r, root, "missing required group 'kms'");
  }
  if (r.oom && r.n_errors == 0)
    rd_push(&r, rd_asprintf("%s: out of memory", path));
  rd_close(&r);
  for (size_t i = 0; i < errs.count; i++)
    fprintf(stderr, "%s\n", errs.msgs[i]);
  *n_errors = errs.count;
  cd_conf_errors_free(&errs);
  if (*n_errors > 0) {
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
