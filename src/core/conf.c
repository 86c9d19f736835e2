/*
 * conf.c - the configuration snapshot as the rest of cdivas sees it (see
 * conf.h): service and log-level names, the subscriber index lookup,
 * reference counting and freeing. Loading and validating a file is
 * src/conf/'s job; nothing here knows libconfig.
 */
#include "core/conf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>

/* ------------------------------------------------------------ names */

static const char *const service_names[CD_SVC_COUNT] = {
  [CD_SVC_CFU] = "cfu", [CD_SVC_CFB] = "cfb", [CD_SVC_CFNR] = "cfnr",
  [CD_SVC_CFNL] = "cfnl", [CD_SVC_CD] = "cd", [CD_SVC_CFNRC] = "cfnrc",
};

const char *cd_service_name(enum cd_service svc)
{
  if ((unsigned)svc < CD_SVC_COUNT)
    return service_names[svc];
  return "unknown";
}

/* Case-insensitive: "CFU" is how 3GPP writes it. */
int cd_service_parse(const char *name, enum cd_service *svc)
{
  if (name == NULL)
    return -1;
  for (unsigned i = 0; i < CD_SVC_COUNT; i++)
    if (strcasecmp(name, service_names[i]) == 0) {
      if (svc != NULL)
        *svc = (enum cd_service)i;
      return 0;
    }
  return -1;
}

static const char *const log_level_names[] = {
  [CD_LOG_ERROR] = "error", [CD_LOG_WARNING] = "warning",
  [CD_LOG_NOTICE] = "notice", [CD_LOG_INFO] = "info",
  [CD_LOG_DEBUG] = "debug",
};
#define N_LOG_LEVELS (sizeof log_level_names / sizeof log_level_names[0])

const char *cd_log_level_name(enum cd_log_level level)
{
  if ((unsigned)level < N_LOG_LEVELS)
    return log_level_names[level];
  return "unknown";
}

int cd_log_level_parse(const char *name, enum cd_log_level *level)
{
  if (name == NULL)
    return -1;
  for (unsigned i = 0; i < N_LOG_LEVELS; i++)
    if (strcasecmp(name, log_level_names[i]) == 0) {
      if (level != NULL)
        *level = (enum cd_log_level)i;
      return 0;
    }
  return -1;
}

/* ------------------------------------------------------------ freeing */

static void free_strv(char **v, size_t n)
{
  if (v == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

static void free_rule(struct cd_rule *r)
{
  free(r->target);
  free_strv(r->callers, r->n_callers);
  free(r->validity);
}

static void free_subscriber(struct cd_subscriber *s)
{
  free(s->user);
  free_strv(s->aliases, s->n_aliases);
  free_strv(s->alias_keys, s->n_aliases);
  if (s->rules != NULL)
    for (size_t i = 0; i < s->n_rules; i++)
      free_rule(&s->rules[i]);
  free(s->rules);
}

void cd_conf_free(struct cd_conf *c)
{
  if (c == NULL)
    return;
  free_strv(c->listen, c->n_listen);
  free_strv(c->aliases, c->n_aliases);
  free(c->identity);
  free(c->outbound_proxy);
  free(c->timezone);
  free(c->limit_destination);
  free_strv(c->limit_exempt, c->n_limit_exempt);
  free(c->inquiry.listen);
  free(c->inquiry.host);
  free(c->inquiry.tls_certificate);
  free(c->inquiry.tls_key);
  free(c->inquiry.tls_client_ca);
  for (size_t i = 0; i < c->inquiry.n_kms; i++)
    free(c->inquiry.kms[i].id);
  if (c->inquiry.kms)
    OPENSSL_cleanse(c->inquiry.kms, c->inquiry.n_kms * sizeof *c->inquiry.kms);
  free(c->inquiry.kms);
  free(c->store.host);
  free(c->store.socket);
  if (c->store.password)
    OPENSSL_cleanse(c->store.password, strlen(c->store.password));
  free(c->store.password);
  free(c->store.prefix);
  if (c->subscribers != NULL)
    for (size_t i = 0; i < c->n_subscribers; i++)
      free_subscriber(&c->subscribers[i]);
  free(c->subscribers);
  free(c->index_slots);
  free(c->index_keys);
  free_strv(c->files, c->n_files);
  free(c);
}

struct cd_conf *cd_conf_ref(struct cd_conf *conf)
{
  if (conf != NULL)
    conf->refs++;
  return conf;
}

void cd_conf_unref(struct cd_conf *conf)
{
  if (conf != NULL && --conf->refs <= 0)
    cd_conf_free(conf);
}

/* ------------------------------------------------------------ index */

uint64_t cd_conf_key_hash(const char *s)
{
  uint64_t h = 14695981039346656037ULL;
  for (; *s != '\0'; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  return h;
}

const struct cd_subscriber *cd_conf_find(const struct cd_conf *conf, const char *key)
{
  if (conf == NULL || key == NULL || conf->index_size == 0)
    return NULL;
  size_t mask = conf->index_size - 1;
  /* The table is never more than half full: the probe ends on a free slot. */
  for (size_t i = (size_t)cd_conf_key_hash(key) & mask; conf->index_slots[i] != 0; i = (i + 1) & mask)
    if (strcmp(conf->index_keys[i], key) == 0)
      return &conf->subscribers[conf->index_slots[i] - 1];
  return NULL;
}

bool cd_conf_diversion_header(const struct cd_conf *conf, const struct cd_subscriber *sub)
{
  if (sub != NULL && sub->diversion_header >= 0)
    return sub->diversion_header != 0;
  return conf->diversion_header;
}

bool cd_subscriber_has_key(const struct cd_subscriber *sub, const char *key)
{
  if (strcmp(key, sub->key) == 0)
    return true;
  for (size_t i = 0; i < sub->n_aliases; i++)
    if (strcmp(key, sub->alias_keys[i]) == 0)
      return true;
  return false;
}

const struct cd_kms *cd_conf_kms(const struct cd_conf *conf, const char *id)
{
  for (size_t i = 0; i < conf->inquiry.n_kms; i++)
    if (strcmp(conf->inquiry.kms[i].id, id) == 0)
      return &conf->inquiry.kms[i];
  return NULL;
}

