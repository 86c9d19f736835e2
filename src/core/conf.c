/*
 * conf.c - the configuration snapshot as the rest of cdivas sees it (see
 * conf.h): service and log-level names, the subscriber index lookup,
 * reference counting and freeing. Loading and validating a file is
 * src/conf/'s job; nothing here knows libconfig.
 */
#include "core/conf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
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

void cd_rule_free(struct cd_rule *r)
{
  if (r == NULL)
    return;
  free(r->id);
  free(r->target);
  free_strv(r->callers, r->n_callers);
  free(r->validity);
  free(r->periods);
  r->id = r->target = NULL;
  r->callers = NULL;
  r->validity = NULL;
  r->periods = NULL;
  r->n_callers = r->n_validity = r->n_periods = 0;
}

static void free_rules(struct cd_rule *rules, size_t n)
{
  if (rules != NULL)
    for (size_t i = 0; i < n; i++)
      cd_rule_free(&rules[i]);
  free(rules);
}

static void free_subscriber(struct cd_subscriber *s)
{
  free(s->user);
  free_strv(s->aliases, s->n_aliases);
  free_strv(s->alias_keys, s->n_aliases);
  free_rules(s->rules, s->n_rules);
  if (s->password)
    OPENSSL_cleanse(s->password, strlen(s->password));
  free(s->password);
}

static void free_xcap(struct cd_xcap_conf *x)
{
  free(x->listen);
  free(x->host);
  free(x->tls_certificate);
  free(x->tls_key);
  free(x->tls_client_ca);
  free(x->realm);
  free(x->trusted_proxies);
  free(x->state_dir);
}

void cd_conf_free(struct cd_conf *c)
{
  if (c == NULL)
    return;
  if (c->base != NULL) {        /* derived: everything else is the base's */
    for (size_t i = 0; i < c->n_own; i++)
      cd_own_rules_unref(c->own[i].rules);
    free(c->own);
    cd_conf_unref(c->base);
    free(c);
    return;
  }
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
  free_xcap(&c->xcap);
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
    if (strcmp(conf->index_keys[i], key) == 0) {
      size_t index = conf->index_slots[i] - 1;
      /* A subscriber with its own rules: binary search of the overrides. */
      size_t lo = 0, hi = conf->n_own;
      while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (conf->own[mid].index == index)
          return &conf->own[mid].sub;
        if (conf->own[mid].index < index)
          lo = mid + 1;
        else
          hi = mid;
      }
      return &conf->subscribers[index];
    }
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


/* ------------------------------------------------------------ own rules */

struct cd_own_rules *cd_own_rules_new(void)
{
  struct cd_own_rules *own = calloc(1, sizeof *own);
  if (own != NULL)
    own->refs = 1;
  return own;
}

struct cd_own_rules *cd_own_rules_ref(struct cd_own_rules *own)
{
  if (own != NULL)
    own->refs++;
  return own;
}

void cd_own_rules_unref(struct cd_own_rules *own)
{
  if (own == NULL || --own->refs > 0)
    return;
  free_rules(own->rules, own->n_rules);
  free(own);
}

struct cd_conf *cd_conf_base(struct cd_conf *conf)
{
  return conf != NULL && conf->base != NULL ? conf->base : conf;
}

/* An override being placed: its subscriber's index and its place in the input. */
struct placing {
  size_t index;
  size_t input;
};

static int by_index_then_input(const void *a, const void *b)
{
  const struct placing *x = a, *y = b;
  if (x->index != y->index)
    return x->index < y->index ? -1 : 1;
  return x->input < y->input ? -1 : x->input > y->input;
}

struct cd_conf *cd_conf_with_own(struct cd_conf *base, size_t n,
                                 const struct cd_subscriber *const *subs,
                                 struct cd_own_rules *const *own)
{
  base = cd_conf_base(base);
  if (base == NULL)
    return NULL;
  if (n == 0)
    return cd_conf_ref(base);
  struct cd_conf *d = malloc(sizeof *d);
  struct placing *p = malloc(n * sizeof *p);
  struct cd_own_entry *e = calloc(n, sizeof *e);
  if (d == NULL || p == NULL || e == NULL) {
    free(d);
    free(p);
    free(e);
    return NULL;
  }
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    /* subs[i] may be the base's subscriber or a derived snapshot's copy
     * of it: its key finds the base's. */
    const struct cd_subscriber *b = subs[i] && own[i] ? cd_conf_find(base, subs[i]->key) : NULL;
    if (b != NULL)
      p[k++] = (struct placing){ (size_t)(b - base->subscribers), i };
  }
  qsort(p, k, sizeof *p, by_index_then_input);
  size_t w = 0;
  for (size_t i = 0; i < k; i++) {
    if (i + 1 < k && p[i + 1].index == p[i].index)
      continue;                 /* a later duplicate wins */
    struct cd_own_rules *o = own[p[i].input];
    e[w].index = p[i].index;
    e[w].sub = base->subscribers[p[i].index];
    e[w].sub.rules = o->rules;
    e[w].sub.n_rules = o->n_rules;
    e[w].sub.no_reply_timer = o->no_reply_timer;
    e[w].sub.deactivated = o->deactivated;
    e[w].sub.own = o;
    e[w].rules = cd_own_rules_ref(o);
    w++;
  }
  free(p);
  *d = *base;
  d->base = cd_conf_ref(base);
  d->own = e;
  d->n_own = w;
  d->refs = 1;
  return d;
}

/* ------------------------------------------------------------ rule ids and copies */

static char *dup_or_null(const char *s, bool *oom)
{
  if (s == NULL)
    return NULL;
  char *d = malloc(strlen(s) + 1);
  if (d == NULL)
    *oom = true;
  else
    strcpy(d, s);
  return d;
}

int cd_rule_copy(struct cd_rule *dst, const struct cd_rule *src)
{
  bool oom = false;
  *dst = *src;
  dst->file = NULL;
  dst->line = 0;
  dst->id = dup_or_null(src->id, &oom);
  dst->target = dup_or_null(src->target, &oom);
  dst->callers = NULL;
  dst->validity = NULL;
  dst->periods = NULL;
  dst->n_callers = dst->n_validity = dst->n_periods = 0;
  if (src->n_callers > 0 && (dst->callers = calloc(src->n_callers, sizeof *dst->callers)) == NULL)
    oom = true;
  else
    for (size_t i = 0; i < src->n_callers; i++, dst->n_callers++)
      dst->callers[i] = dup_or_null(src->callers[i], &oom);
  if (src->n_validity > 0 && !oom) {
    if ((dst->validity = malloc(src->n_validity * sizeof *dst->validity)) == NULL)
      oom = true;
    else
      memcpy(dst->validity, src->validity, src->n_validity * sizeof *dst->validity),
        dst->n_validity = src->n_validity;
  }
  if (src->n_periods > 0 && !oom) {
    if ((dst->periods = malloc(src->n_periods * sizeof *dst->periods)) == NULL)
      oom = true;
    else
      memcpy(dst->periods, src->periods, src->n_periods * sizeof *dst->periods),
        dst->n_periods = src->n_periods;
  }
  if (oom) {
    cd_rule_free(dst);
    return -1;
  }
  return 0;
}

static const char *const default_ids[CD_SVC_COUNT] = {
  [CD_SVC_CFU] = "call-diversion-unconditional", [CD_SVC_CFB] = "call-diversion-busy",
  [CD_SVC_CFNR] = "call-diversion-no-reply", [CD_SVC_CFNL] = "call-diversion-not-logged-in",
  [CD_SVC_CD] = "call-deflection", [CD_SVC_CFNRC] = "call-diversion-not-reachable",
};

const char *cd_rule_default_id(enum cd_service svc, unsigned nth, char *buf, size_t size)
{
  const char *base = (unsigned)svc < CD_SVC_COUNT ? default_ids[svc] : "rule";
  if (nth <= 1)
    snprintf(buf, size, "%s", base);
  else
    snprintf(buf, size, "%s-%u", base, nth);
  return buf;
}

static bool id_taken(const struct cd_rule *rules, size_t n, const char *id)
{
  for (size_t i = 0; i < n; i++)
    if (rules[i].id != NULL && strcmp(rules[i].id, id) == 0)
      return true;
  return false;
}

int cd_rules_assign_ids(struct cd_rule *rules, size_t n)
{
  unsigned nth[CD_SVC_COUNT] = {0};
  for (size_t i = 0; i < n; i++) {
    unsigned svc = (unsigned)rules[i].service < CD_SVC_COUNT ? (unsigned)rules[i].service : 0;
    if (rules[i].id != NULL)
      continue;
    char buf[64];
    do
      cd_rule_default_id(rules[i].service, ++nth[svc], buf, sizeof buf);
    while (id_taken(rules, n, buf));
    bool oom = false;
    if ((rules[i].id = dup_or_null(buf, &oom)) == NULL)
      return -1;
  }
  return 0;
}

const char *cd_rules_duplicate_id(const struct cd_rule *rules, size_t n)
{
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      if (rules[i].id && rules[j].id && strcmp(rules[i].id, rules[j].id) == 0)
        return rules[i].id;
  return NULL;
}

bool cd_net_contains(const struct cd_net *net, int family, const unsigned char *addr)
{
  if (net->family != family)
    return false;
  int bits = net->prefix;
  for (int i = 0; bits > 0; i++, bits -= 8) {
    unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;
    if ((net->addr[i] & mask) != (addr[i] & mask))
      return false;
  }
  return true;
}

void cd_rule_defaults(struct cd_rule *r)
{
  r->anonymous = -1;
  r->active = true;
  r->notify_caller = true;
  r->reveal_identity_to_caller = true;
  r->reveal_served_user_identity_to_caller = true;
  r->reveal_identity_to_target = true;
  r->notify_served_user = false;
}
