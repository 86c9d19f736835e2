/*
 * store.c - the state store interface (store.h) and its memory back end,
 * which keeps the tables in this process and answers every query at once.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* strdup */
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/inquiry_auth.h"
#include "log/log.h"
#include "store/store.h"
#include "store/backend.h"

/* ------------------------------------------------------------ dispatch */

struct cd_store *cd_store_create(su_root_t *root, const struct cd_store_conf *conf,
                                 const struct cd_store_limits *limits, char *err, size_t errlen)
{
  if (conf->backend == CD_STORE_REDIS)
    return cd_store_redis_create(root, conf, limits, err, errlen);
  struct cd_store *store = cd_store_memory_create(limits);
  if (store == NULL)
    snprintf(err, errlen, "out of memory");
  return store;
}

void cd_store_destroy(struct cd_store *store)
{
  if (store)
    store->ops->destroy(store);
}

int cd_store_reg_update(struct cd_store *store, const char *key, long expires)
{
  return store->ops->reg_update(store, key, expires < 0 ? 0 : expires);
}

struct cd_store_query *cd_store_reg_status(struct cd_store *store, const char *key,
                                           cd_store_reg_cb cb, void *arg)
{
  return store->ops->reg_status(store, key, cb, arg);
}

void cd_store_ledger_add(struct cd_store *store, const struct cd_ledger_record *rec)
{
  store->ops->ledger_add(store, rec);
}

struct cd_store_query *cd_store_ledger_fetch(struct cd_store *store, const char *caller,
                                             cd_store_ledger_cb cb, void *arg)
{
  return store->ops->ledger_fetch(store, caller, cb, arg);
}

struct cd_store_query *cd_store_replay_claim(struct cd_store *store, const char *kms_id,
                                             const char *inquiry_id,
                                             cd_store_claim_cb cb, void *arg)
{
  return store->ops->replay_claim(store, kms_id, inquiry_id, cb, arg);
}

struct cd_store_query *cd_store_doc_write(struct cd_store *store, const char *key,
                                          const char *text, size_t len,
                                          cd_store_doc_cb cb, void *arg)
{
  return store->ops->doc_write(store, key, text, len, cb, arg);
}

int cd_store_doc_load(struct cd_store *store, cd_store_doc_each each, void *arg,
                      char *err, size_t errlen)
{
  return store->ops->doc_load(store, each, arg, err, errlen);
}

void cd_store_cancel(struct cd_store_query *query)
{
  if (query)
    query->cancelled = true;
}

void cd_store_stats(const struct cd_store *store, struct cd_store_stats *out)
{
  memset(out, 0, sizeof *out);
  store->ops->stats(store, out);
  out->latency = store->latency;
}

/* From 100 us (a memory lookup, a Redis round trip on loopback) to 5 s,
 * the largest store.timeout_ms. */
const double cd_store_latency_bounds[CD_STORE_LATENCY_BUCKETS] = {
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};

double cd_store_clock(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void cd_store_latency_observe(struct cd_store *store, double seconds)
{
  struct cd_store_latency *l = &store->latency;
  size_t i = 0;
  while (i < CD_STORE_LATENCY_BUCKETS && seconds > cd_store_latency_bounds[i])
    i++;
  l->buckets[i]++;
  l->count++;
  l->sum += seconds;
}

/* ------------------------------------------------------------ memory */

struct memory_store {
  struct cd_store base;
  struct cd_registrations *registrations;
  struct cd_ledger *ledger;              /* NULL without a ledger */
  struct cd_replay_cache *replay;
  char *docs_dir;                        /* NULL: no documents */
  unsigned long lost_records;
};

/* Registrations expire on the monotonic clock: a wall-clock step must not
 * log everybody out. */
static long monotonic_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec;
}

static void memory_destroy(struct cd_store *store)
{
  struct memory_store *m = (struct memory_store *)store;
  cd_reg_destroy(m->registrations);
  cd_ledger_destroy(m->ledger);
  cd_replay_destroy(m->replay);
  free(m->docs_dir);
  free(m);
}

static int memory_reg_update(struct cd_store *store, const char *key, long expires)
{
  struct memory_store *m = (struct memory_store *)store;
  return cd_reg_update(m->registrations, key, expires, monotonic_seconds());
}

static struct cd_store_query *memory_reg_status(struct cd_store *store, const char *key,
                                                cd_store_reg_cb cb, void *arg)
{
  struct memory_store *m = (struct memory_store *)store;
  double start = cd_store_clock();
  enum cd_reg_status status = cd_reg_status(m->registrations, key, monotonic_seconds());
  cd_store_latency_observe(store, cd_store_clock() - start);
  cb(arg, status, true);
  return NULL;
}

static void memory_ledger_add(struct cd_store *store, const struct cd_ledger_record *rec)
{
  struct memory_store *m = (struct memory_store *)store;
  if (m->ledger && cd_ledger_add(m->ledger, rec, (long)time(NULL)) < 0)
    m->lost_records++;
}

static struct cd_store_query *memory_ledger_fetch(struct cd_store *store, const char *caller,
                                                  cd_store_ledger_cb cb, void *arg)
{
  (void)caller;   /* the whole ledger is at hand, indexed by caller */
  struct memory_store *m = (struct memory_store *)store;
  cd_store_latency_observe(store, 0);   /* nothing to look up: the callback searches */
  cb(arg, m->ledger);
  return NULL;
}

static struct cd_store_query *memory_replay_claim(struct cd_store *store, const char *kms_id,
                                                  const char *inquiry_id,
                                                  cd_store_claim_cb cb, void *arg)
{
  struct memory_store *m = (struct memory_store *)store;
  double start = cd_store_clock();
  int seen = cd_replay_check(m->replay, kms_id, inquiry_id, (long)time(NULL));
  cd_store_latency_observe(store, cd_store_clock() - start);
  cb(arg, seen);
  return NULL;
}

static void memory_stats(const struct cd_store *store, struct cd_store_stats *out)
{
  const struct memory_store *m = (const struct memory_store *)store;
  out->backend = "memory";
  out->up = true;
  out->lost_records = m->lost_records;
  out->ledger_records = m->ledger ? cd_ledger_size(m->ledger) : 0;
  out->ledger_evictions = m->ledger ? cd_ledger_evictions(m->ledger) : 0;
}

static struct cd_store_query *memory_doc_write(struct cd_store *store, const char *key,
                                               const char *text, size_t len,
                                               cd_store_doc_cb cb, void *arg)
{
  struct memory_store *m = (struct memory_store *)store;
  bool ok = m->docs_dir != NULL && cd_store_docs_dir_write(m->docs_dir, key, text, len) == 0;
  if (!ok)
    cd_log(CD_LOG_ERROR, "store: cannot %s the document of %s in %s: %s", text ? "write" : "remove",
           key, m->docs_dir ? m->docs_dir : "(no state_dir)", m->docs_dir ? strerror(errno) : "-");
  cb(arg, ok);
  return NULL;
}

static int memory_doc_load(struct cd_store *store, cd_store_doc_each each, void *arg,
                           char *err, size_t errlen)
{
  struct memory_store *m = (struct memory_store *)store;
  return m->docs_dir ? cd_store_docs_dir_load(m->docs_dir, each, arg, err, errlen) : 0;
}

static const struct cd_store_ops memory_ops = {
  memory_destroy, memory_reg_update, memory_reg_status, memory_ledger_add,
  memory_ledger_fetch, memory_replay_claim, memory_stats, memory_doc_write, memory_doc_load,
};

struct cd_store *cd_store_memory_create(const struct cd_store_limits *limits)
{
  struct memory_store *m = calloc(1, sizeof *m);
  if (m == NULL)
    return NULL;
  m->base.ops = &memory_ops;
  m->registrations = cd_reg_create(limits->registrations);
  m->replay = cd_replay_create(limits->replay_ids ? limits->replay_ids : 1);
  if (limits->ledger_ttl > 0)
    m->ledger = cd_ledger_create(limits->ledger_records, limits->ledger_ttl);
  if (limits->docs_dir && (m->docs_dir = strdup(limits->docs_dir)) == NULL) {
    memory_destroy(&m->base);
    return NULL;
  }
  if (m->registrations == NULL || m->replay == NULL ||
      (limits->ledger_ttl > 0 && m->ledger == NULL)) {
    memory_destroy(&m->base);
    return NULL;
  }
  return &m->base;
}
