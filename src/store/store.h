/*
 * store.h - the state that several cdivas instances behind one S-CSCF
 * must share: what third-party REGISTERs said (CFNL), the diversion
 * ledger (KMS inquiries), the inquiry replay cache, and the subscribers'
 * own simservs documents (XCAP, feature codes; doc/xcap.md).
 *
 * Two back ends behind one interface (doc/cluster.md):
 *   memory - in-process tables (registrations.c, ledger.c, the replay
 *            cache of inquiry_auth.c); the default, nothing to install.
 *            Documents go to files in xcap.state_dir (docs_dir.c).
 *   redis  - one Redis server shared by every instance (store_redis.c),
 *            driven asynchronously from the daemon's su_root: nothing on
 *            the SIP path ever blocks on it; key expiry does the TTLs.
 *
 * Writes are fire and forget. Queries answer through a callback, exactly
 * once unless cancelled: the memory back end answers before the query
 * function returns (which then returns NULL); the redis one answers later,
 * and always within store.timeout_ms (a late reply is dropped), with
 * "unavailable" when Redis is down or slow. What each caller does with
 * "unavailable" is its own policy: a call goes ahead as if the store knew
 * nothing (calls never fail because of the store), an inquiry is denied.
 */
#ifndef CDIVAS_STORE_H
#define CDIVAS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sofia-sip/su_wait.h>
#include "core/conf.h"
#include "core/ledger.h"
#include "core/registrations.h"

struct cd_store;
/* A query waiting for its answer (redis only). */
struct cd_store_query;

struct cd_store_limits {
  size_t registrations;      /* memory: users the registration table holds */
  size_t ledger_records;     /* memory: ledger size; redis: records kept per caller */
  long ledger_ttl;           /* seconds a diversion record lives; 0: no ledger */
  size_t replay_ids;         /* memory: inquiry ids remembered at once */
  const char *docs_dir;      /* memory: the documents' directory (xcap.state_dir); NULL: none */
};

/* The memory back end; NULL on allocation failure. */
struct cd_store *cd_store_memory_create(const struct cd_store_limits *limits);

/* The redis back end: connects (blocking, at start-up only), checks that
 * the server answers (AUTH, SELECT, PING) and then runs asynchronously in
 * `root`. Returns NULL with the reason in `err` when Redis cannot be
 * reached or refuses us: cdivas then refuses to start. */
struct cd_store *cd_store_redis_create(su_root_t *root, const struct cd_store_conf *conf,
                                       const struct cd_store_limits *limits,
                                       char *err, size_t errlen);

/* The back end the conf asks for. */
struct cd_store *cd_store_create(su_root_t *root, const struct cd_store_conf *conf,
                                 const struct cd_store_limits *limits, char *err, size_t errlen);

/* Answers every pending query "unavailable", then frees everything. */
void cd_store_destroy(struct cd_store *store);

/* ---------------------------------------------------------- registrations */

/* A third-party REGISTER for `key` (a canonical identity key) with
 * `expires` seconds (0: deregistration). Returns 0, or -1 when the memory
 * table is full (the user then stays unknown), the key is unusable, or
 * the write cannot go out to Redis (counted as lost). */
int cd_store_reg_update(struct cd_store *store, const char *key, long expires);

typedef void (*cd_store_reg_cb)(void *arg, enum cd_reg_status status, bool available);

/* The user's registration state. `available` is false when the store could
 * not answer (status is then CD_REG_UNKNOWN). */
struct cd_store_query *cd_store_reg_status(struct cd_store *store, const char *key,
                                           cd_store_reg_cb cb, void *arg);

/* --------------------------------------------------------------- ledger */

/* Records a diversion (see ledger.h; caller, served and target canonical).
 * Without a ledger (ledger_ttl 0) it does nothing. A record the store
 * cannot take is counted as lost (cd_store_stats). */
void cd_store_ledger_add(struct cd_store *store, const struct cd_ledger_record *rec);

/* The diversions of calls from `caller`, as a ledger to search with
 * cd_ledger_find_chain() or cd_inquiry_permits(). The view is valid only
 * during the callback; NULL when the store could not answer. */
typedef void (*cd_store_ledger_cb)(void *arg, const struct cd_ledger *view);
struct cd_store_query *cd_store_ledger_fetch(struct cd_store *store, const char *caller,
                                             cd_store_ledger_cb cb, void *arg);

/* --------------------------------------------------------- replay cache */

/* Claims (kms_id, inquiry_id) for 2*CD_AUTH_WINDOW seconds. The callback
 * gets 0 when the pair is new (and now claimed), 1 when it was already
 * used, -1 when the memory cache is full, -2 when the store could not
 * answer. Anything but 0: fail closed. */
typedef void (*cd_store_claim_cb)(void *arg, int seen);
struct cd_store_query *cd_store_replay_claim(struct cd_store *store, const char *kms_id,
                                             const char *inquiry_id,
                                             cd_store_claim_cb cb, void *arg);

/* ------------------------------------------------------------ documents */

/* A subscriber's own simservs document, by its canonical key: memory ->
 * the file docs_dir/<key, %-encoded>.xml, written atomically (temporary
 * file, fsync, rename, fsync of the directory); redis -> the key
 * P simservs:<key>. Writes `len` bytes of `text`, or removes the document
 * when text is NULL (a missing one is no error). The callback says
 * whether the change is durable: at once (memory; the query returned is
 * then NULL) or within store.timeout_ms (redis). */
typedef void (*cd_store_doc_cb)(void *arg, bool ok);
struct cd_store_query *cd_store_doc_write(struct cd_store *store, const char *key,
                                          const char *text, size_t len,
                                          cd_store_doc_cb cb, void *arg);

/* Every stored document, read at once (blocking: start-up and SIGHUP):
 * each(arg, key, text, len, where, NULL) per document, where names it
 * for messages (a file, a Redis key); a document that cannot be read is
 * each(arg, key, NULL, 0, where, why). Returns 0, or -1 with why in err
 * when the documents cannot be listed at all. Without documents (memory
 * store without docs_dir): 0 and no call. */
typedef void (*cd_store_doc_each)(void *arg, const char *key, const char *text, size_t len,
                                  const char *where, const char *error);
int cd_store_doc_load(struct cd_store *store, cd_store_doc_each each, void *arg,
                      char *err, size_t errlen);

/* The same over a state directory, without a store (cdivas -t), and the
 * write cd_store_doc_write() does there: 0, or -1 with errno. */
int cd_store_docs_dir_load(const char *dir, cd_store_doc_each each, void *arg,
                           char *err, size_t errlen);
int cd_store_docs_dir_write(const char *dir, const char *key, const char *text, size_t len);

/* The file name of a key's document ("sip%3Abob@ims.example.net.xml"),
 * and the key of a file name: 0, or -1 (too long; not a document's). */
int cd_store_doc_file_name(const char *key, char *out, size_t size);
int cd_store_doc_file_key(const char *name, char key[CD_IDENTITY_KEY_MAX]);

/* -------------------------------------------------------------- queries */

/* Drops a pending query: its callback will not run. */
void cd_store_cancel(struct cd_store_query *query);

/* How long queries waited for their answer, as a histogram: the memory
 * back end times its table lookup, the redis one the round trip (or the
 * timeout, when the answer came too late). Bucket bounds in seconds. */
#define CD_STORE_LATENCY_BUCKETS 15
extern const double cd_store_latency_bounds[CD_STORE_LATENCY_BUCKETS];
struct cd_store_latency {
  unsigned long buckets[CD_STORE_LATENCY_BUCKETS + 1]; /* per bucket, not cumulative; last: above all */
  unsigned long count;
  double sum;                  /* seconds */
};

struct cd_store_stats {
  const char *backend;         /* "memory" or "redis" */
  bool up;                     /* redis: connected and answering */
  unsigned long errors;        /* queries answered "unavailable" */
  unsigned long lost_records;  /* writes the store could not take: diversion records, registrations */
  unsigned long reconnects;    /* redis: connections re-established */
  size_t ledger_records;       /* memory: records held (redis: not known, 0) */
  size_t ledger_evictions;     /* memory: records dropped because the ledger was full */
  struct cd_store_latency latency;
};
void cd_store_stats(const struct cd_store *store, struct cd_store_stats *out);

#endif
