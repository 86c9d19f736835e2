/*
 * docs.h - the subscribers' own simservs documents, and the conf snapshot
 * in force that they make.
 *
 * The conf file gives every subscriber its rules; a subscriber's own
 * document (written over XCAP or by a feature code) replaces them until
 * it is removed (by the subscriber's DELETE of the document, or by the
 * operator deleting it from the store: doc/xcap.md). The snapshot in
 * force is the loaded conf with every own document applied
 * (cd_conf_with_own): calls take it as before, so a call keeps the rules
 * it started with whatever changes after.
 *
 * The module keeps the documents' rules by subscriber key, writes each
 * change through the state store (the state directory or Redis) and only
 * then installs the new snapshot, so what is in force is always durable.
 * The daemon gives it two hooks: where the snapshot in force is read and
 * how a new one is installed (the SIP proxy's).
 */
#ifndef CDIVAS_XCAP_DOCS_H
#define CDIVAS_XCAP_DOCS_H

#include <stdbool.h>
#include <stddef.h>
#include "core/conf.h"
#include "store/store.h"

struct cd_docs_env {
  struct cd_store *store;
  struct cd_conf *(*current)(void *ctx);            /* the snapshot in force */
  void (*install)(void *ctx, struct cd_conf *conf); /* takes its own reference */
  void *ctx;
};

struct cd_docs;
/* A change on its way to the store. */
struct cd_docs_change;

struct cd_docs *cd_docs_create(const struct cd_docs_env *env);
/* Drops pending changes (their callbacks will not run). */
void cd_docs_destroy(struct cd_docs *docs);

/* Reads every stored document (blocking), checks each (its subscriber in
 * `base`, not self_service = false, a document cdivas can take) and
 * installs base with those that pass; each one refused is logged. With
 * base->xcap.enabled false no document applies. Returns the number in
 * force, or -1 when the store could not be read: the documents read
 * before, if any, then stay in force on the new base. */
int cd_docs_reload(struct cd_docs *docs, struct cd_conf *base);

/* Checks stored documents without a daemon (cdivas -t): every document
 * of conf->xcap.state_dir; problems printed as "file: message" on
 * stderr. Returns the number of problems, or -1 when the directory
 * cannot be read. */
int cd_docs_check_dir(const struct cd_conf *conf);

/* The result of a change: ok is false when the store could not take it
 * (nothing changed). */
typedef void (*cd_docs_done)(void *arg, bool ok);

/* Makes `own` (referenced) the document of the subscriber `key` (its
 * canonical user key), `text` its canonical text; own NULL removes the
 * document: the conf file's rules apply again. The new snapshot is in
 * force before done runs. Returns the change (cancel it with
 * cd_docs_cancel; done then never runs), NULL when done ran already (the
 * state directory answers at once), or NULL with *busy set when a change
 * of this subscriber is still on its way (done does not run). */
struct cd_docs_change *cd_docs_set(struct cd_docs *docs, const char *key, struct cd_own_rules *own,
                                   const char *text, size_t len, cd_docs_done done, void *arg,
                                   bool *busy);
void cd_docs_cancel(struct cd_docs_change *change);

/* Whether `key` has a document of its own now. */
bool cd_docs_has(const struct cd_docs *docs, const char *key);

#endif
