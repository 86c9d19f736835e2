/*
 * store_backend.h - what a state store back end implements (store.h is
 * what its users see). Private to store.c and the back ends.
 */
#ifndef CDIVAS_STORE_BACKEND_H
#define CDIVAS_STORE_BACKEND_H

#include <stdio.h>
#include "store/store.h"

struct cd_store_ops {
  void (*destroy)(struct cd_store *store);
  int (*reg_update)(struct cd_store *store, const char *key, long expires);
  struct cd_store_query *(*reg_status)(struct cd_store *store, const char *key,
                                       cd_store_reg_cb cb, void *arg);
  void (*ledger_add)(struct cd_store *store, const struct cd_ledger_record *rec);
  struct cd_store_query *(*ledger_fetch)(struct cd_store *store, const char *caller,
                                         cd_store_ledger_cb cb, void *arg);
  struct cd_store_query *(*replay_claim)(struct cd_store *store, const char *kms_id,
                                         const char *inquiry_id, cd_store_claim_cb cb, void *arg);
  void (*stats)(const struct cd_store *store, struct cd_store_stats *out);
  struct cd_store_query *(*doc_write)(struct cd_store *store, const char *key, const char *text,
                                      size_t len, cd_store_doc_cb cb, void *arg);
  int (*doc_load)(struct cd_store *store, cd_store_doc_each each, void *arg, char *err, size_t errlen);
};

struct cd_store {
  const struct cd_store_ops *ops;
  struct cd_store_latency latency;   /* filled in by the back ends */
};

/* Seconds on the monotonic clock, for timing queries. */
double cd_store_clock(void);
/* Counts one query answered `seconds` after it was asked. */
void cd_store_latency_observe(struct cd_store *store, double seconds);

/* A query in flight; back ends embed it first in their own. Cancelling
 * only sets the flag: the back end frees the query when its answer comes
 * (or its connection goes). */
struct cd_store_query {
  bool cancelled;
};

#endif
