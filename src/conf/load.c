/*
 * load.c - load and validate the cdivas configuration (see load.h and
 * cdivas.conf(5)): the top level of the loader.
 *
 * The reader (reader.h, source.c) reads the main file with its @include'd
 * files into a libconfig tree; this file walks the top level of that tree
 * and hands each group to its loader (loader.h: server.c, subscribers.c,
 * inquiry.c, store.c), which checks every setting against the schema and
 * copies what it accepts into a struct cd_conf. Every problem is recorded
 * as "<file>:<line>: <message>" and the walk goes on, so one load reports
 * all the errors of a file. The snapshot is returned only when there was
 * none; otherwise everything is freed and NULL is returned.
 *
 * Nothing in the snapshot points into the libconfig tree: strings are
 * copied, and the file names that rules and subscribers point at are the
 * reader's name table, handed over to cd_conf.files, because the tree is
 * destroyed before cd_conf_load() returns.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* strdup */
#endif
#include "conf/load.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "conf/loader.h"

static void load_root(struct loader *L, const config_setting_t *root)
{
  struct reader *R = &L->rd;
  bool has_server = false;
  for (int i = 0; i < config_setting_length(root); i++) {
    const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
    if (rd_named(s, "server")) {
      has_server = true;
      conf_load_server(L, s);
    } else if (rd_named(s, "subscribers")) {
      conf_load_subscribers(L, s);
    } else if (rd_named(s, "inquiry")) {
      conf_load_inquiry(L, s);
    } else if (rd_named(s, "store")) {
      conf_load_store(L, s);
    } else if (rd_named(s, "xcap")) {
      conf_load_xcap(L, s);
    } else {
      rd_error_at(R, s, "unknown setting '%s' at top level", config_setting_name(s));
    }
  }
  if (!has_server)
    rd_report(R, rd_path(R), 1, "missing required group 'server'");
  conf_check_xcap(L);
}

struct cd_conf *cd_conf_load(const char *path, struct cd_conf_errors *errs)
{
  struct loader L = { .rd = { .errs = errs } };
  struct reader *R = &L.rd;
  struct cd_conf *c;

  if (errs != NULL) {
    errs->msgs = NULL;
    errs->count = 0;
  }
  if (path == NULL || *path == '\0') {
    rd_push(R, rd_asprintf("%s: cannot read: %s", path != NULL ? path : "(null)", strerror(ENOENT)));
    return NULL;
  }
  if ((c = calloc(1, sizeof *c)) == NULL) {
    rd_push(R, rd_asprintf("%s: out of memory", path));
    return NULL;
  }
  L.conf = c;
  c->refs = 1;
  c->no_reply_timer = 20;
  c->max_diversions = 5;
  c->log_level = CD_LOG_INFO;
  c->limit_response = 480;
  c->shutdown_grace = 32;
  c->inquiry.record_ttl = 300;
  c->inquiry.max_records = 100000;
  c->store.port = 6379;
  c->store.timeout_ms = 200;
  c->store.registration_retain = 86400;
  c->xcap.auth = CD_XCAP_AUTH_DIGEST;
  c->xcap.feature_codes = true;

  const config_setting_t *root = rd_open(R, path, errs);
  if (root != NULL)
    load_root(&L, root);
  rd_take_files(R, &c->files, &c->n_files);
  c->path = c->n_files > 0 ? c->files[0] : NULL;
  rd_close(R);
  free(L.slot_file);
  free(L.slot_line);

  if (!R->oom && c->store.host == NULL && (c->store.host = strdup("127.0.0.1")) == NULL)
    R->oom = true;
  if (!R->oom && c->store.prefix == NULL && (c->store.prefix = strdup("cdivas:")) == NULL)
    R->oom = true;
  if (R->oom && R->n_errors == 0)
    rd_push(R, rd_asprintf("%s: out of memory", path));
  if (R->n_errors > 0 || R->oom) {
    cd_conf_free(c);
    return NULL;
  }
  return c;
}
