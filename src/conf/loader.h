/*
 * loader.h - the cdivas.conf loader's state and its group loaders, one
 * file each (server.c, subscribers.c, inquiry.c, store.c), called by the
 * top level in load.c. Private to src/conf.
 *
 * Each group loader is given the setting that stands for its group at the
 * top level, whatever its type: it checks that it is a group (or list),
 * walks it once, reports every problem through the reader (reader.h) and
 * goes on, and copies what it accepts into L->conf. Nothing it stores
 * points into the libconfig tree, except file names, which point into the
 * reader's name table that load.c hands to the snapshot. A loader that runs
 * out of memory sets L->rd.oom and returns what it could fill in; load.c
 * then throws the snapshot away.
 */
#ifndef CDIVAS_CONF_LOADER_H
#define CDIVAS_CONF_LOADER_H

#include "conf/reader.h"
#include "core/conf.h"

struct loader {
  struct reader rd;
  struct cd_conf *conf;
  /* where the identity in each index slot was written (duplicate
   * messages); allocated by conf_load_subscribers, freed by load.c */
  const char **slot_file;
  int *slot_line;
  size_t n_keys;
  /* where the xcap group and some of its settings are (conf_check_xcap) */
  const config_setting_t *xcap_group, *xcap_auth, *xcap_trusted, *xcap_state_dir;
};

/* server = { ... }: listen, identity and the optional server settings;
 * reports a missing listen or identity at the group. */
void conf_load_server(struct loader *L, const config_setting_t *g);

/* subscribers = ( { ... }, ... ): each subscriber with its rules, and the
 * identity index (conf->index_*), reporting a duplicate user or alias
 * with where the first one was written. */
void conf_load_subscribers(struct loader *L, const config_setting_t *s);

/* inquiry = { ... }: the HTTP(S) listener and the KMSs it trusts. */
void conf_load_inquiry(struct loader *L, const config_setting_t *g);

/* store = { ... }: memory or Redis, and the Redis settings. */
void conf_load_store(struct loader *L, const config_setting_t *g);

/* xcap = { ... }: the XCAP listener, its authentication, the documents. */
void conf_load_xcap(struct loader *L, const config_setting_t *g);
/* What the xcap group needs from the others (store.backend, the
 * identity): run once every group is loaded, while the tree lives. */
void conf_check_xcap(struct loader *L);

#endif
