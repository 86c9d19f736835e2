/*
 * docs.c - the subscribers' own documents and the snapshot in force (see
 * docs.h).
 *
 * The documents are kept as a small array of (key, rules), in the order
 * they were made: every change rebuilds the snapshot from the loaded conf
 * and all of them (cd_conf_with_own sorts them), which costs O(n log n)
 * for n documents, once per change, never per call.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* strdup */
#endif
#include "xcap/docs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log/log.h"
#include "simservs/cdiv.h"

struct entry {
  char *key;
  struct cd_own_rules *own;
};

struct cd_docs_change {
  struct cd_docs *docs;
  struct cd_docs_change *next, **prev;
  char *key;
  struct cd_own_rules *own;     /* NULL: remove */
  cd_docs_done done;
  void *arg;
  struct cd_store_query *query;
  bool cancelled;               /* done must not run */
  bool in_set;                  /* cd_docs_set still runs */
  bool finished;                /* answered while in_set */
};

struct cd_docs {
  struct cd_docs_env env;
  struct cd_conf *base;         /* the loaded conf the documents apply to */
  struct entry *entries;
  size_t n, cap;
  struct cd_docs_change *changes;
};

struct cd_docs *cd_docs_create(const struct cd_docs_env *env)
{
  struct cd_docs *d = calloc(1, sizeof *d);
  if (d)
    d->env = *env;
  return d;
}

static void clear_entries(struct entry *e, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(e[i].key);
    cd_own_rules_unref(e[i].own);
  }
  free(e);
}

static void change_free(struct cd_docs_change *c)
{
  if (c->prev) {
    if (c->next)
      c->next->prev = c->prev;
    *c->prev = c->next;
  }
  cd_own_rules_unref(c->own);
  free(c->key);
  free(c);
}

void cd_docs_destroy(struct cd_docs *docs)
{
  if (docs == NULL)
    return;
  while (docs->changes) {
    cd_store_cancel(docs->changes->query);
    change_free(docs->changes);
  }
  clear_entries(docs->entries, docs->n);
  cd_conf_unref(docs->base);
  free(docs);
}

/* Builds the snapshot of base and the documents and puts it in force. */
static void install(struct cd_docs *docs)
{
  if (docs->base == NULL)
    return;
  size_t n = docs->base->xcap.enabled ? docs->n : 0;
  const struct cd_subscriber **subs = calloc(n + 1, sizeof *subs);
  struct cd_own_rules **owns = calloc(n + 1, sizeof *owns);
  struct cd_conf *c = NULL;
  if (subs && owns) {
    for (size_t i = 0; i < n; i++) {
      subs[i] = cd_conf_find(docs->base, docs->entries[i].key);
      owns[i] = docs->entries[i].own;
    }
    c = cd_conf_with_own(docs->base, n, subs, owns);
  }
  free(subs);
  free(owns);
  if (c == NULL) {
    cd_log(CD_LOG_ERROR, "xcap: out of memory: the subscribers' documents are not in force");
    return;
  }
  docs->env.install(docs->env.ctx, c);
  cd_conf_unref(c);
}

static struct entry *find(const struct cd_docs *docs, const char *key)
{
  for (size_t i = 0; i < docs->n; i++)
    if (strcmp(docs->entries[i].key, key) == 0)
      return &docs->entries[i];
  return NULL;
}

bool cd_docs_has(const struct cd_docs *docs, const char *key)
{
  return find(docs, key) != NULL;
}

/* Sets (own not NULL, referenced) or removes the entry of key. */
static bool put_entry(struct cd_docs *docs, const char *key, struct cd_own_rules *own)
{
  struct entry *e = find(docs, key);
  if (e && own) {
    cd_own_rules_unref(e->own);
    e->own = cd_own_rules_ref(own);
    return true;
  }
  if (e) {
    free(e->key);
    cd_own_rules_unref(e->own);
    *e = docs->entries[--docs->n];
    return true;
  }
  if (own == NULL)
    return true;
  if (docs->n == docs->cap) {
    size_t cap = docs->cap ? docs->cap * 2 : 16;
    struct entry *g = realloc(docs->entries, cap * sizeof *g);
    if (g == NULL)
      return false;
    docs->entries = g;
    docs->cap = cap;
  }
  char *k = strdup(key);
  if (k == NULL)
    return false;
  docs->entries[docs->n++] = (struct entry){ k, cd_own_rules_ref(own) };
  return true;
}

/* ------------------------------------------------------------ loading */

struct loading {
  struct cd_docs *docs;
  const struct cd_conf *conf;
  struct entry *entries;
  size_t n, cap;
  int refused;
  bool print;                   /* cdivas -t: to stderr, not the log */
};

static void refuse(struct loading *L, const char *where, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static void refuse(struct loading *L, const char *where, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  L->refused++;
  if (L->print)
    fprintf(stderr, "%s: %s\n", where, msg);
  else
    cd_log(CD_LOG_ERROR, "xcap: document %s not in force: %s", where, msg);
}

static void on_stored(void *arg, const char *key, const char *text, size_t len, const char *where,
                      const char *error)
{
  struct loading *L = arg;
  const struct cd_subscriber *sub = cd_conf_find(L->conf, key);
  if (error) {
    refuse(L, where, "cannot read it: %s", error);
    return;
  }
  if (sub == NULL) {
    refuse(L, where, "no subscriber %s in the conf (remove the document)", key);
    return;
  }
  if (strcmp(sub->key, key) != 0) {
    refuse(L, where, "%s is an alias of %s now (remove the document)", key, sub->user);
    return;
  }
  if (!sub->self_service) {
    refuse(L, where, "%s has self_service = false: the conf file's rules apply", sub->user);
    return;
  }
  struct ss_error err = {0};
  struct cd_own_rules *own = ss_cdiv_parse_text(text, len, &err);
  if (own == NULL) {
    refuse(L, where, "%s", err.phrase);
    return;
  }
  if (L->print) {
    cd_own_rules_unref(own);
    return;
  }
  if (L->n == L->cap) {
    size_t cap = L->cap ? L->cap * 2 : 16;
    struct entry *g = realloc(L->entries, cap * sizeof *g);
    if (g == NULL) {
      cd_own_rules_unref(own);
      refuse(L, where, "out of memory");
      return;
    }
    L->entries = g;
    L->cap = cap;
  }
  char *k = strdup(key);
  if (k == NULL) {
    cd_own_rules_unref(own);
    refuse(L, where, "out of memory");
    return;
  }
  L->entries[L->n++] = (struct entry){ k, own };
}

int cd_docs_reload(struct cd_docs *docs, struct cd_conf *base)
{
  struct loading L = { .docs = docs, .conf = base };
  char err[300];
  int rc = 0;
  if (base->xcap.enabled &&
      cd_store_doc_load(docs->env.store, on_stored, &L, err, sizeof err) < 0) {
    /* A store that cannot be read now (Redis away during a SIGHUP) must
     * not take the documents out of force: those read before stay. */
    cd_log(CD_LOG_ERROR, "xcap: cannot read the subscribers' documents: %s; %s", err,
           docs->n ? "the documents read before stay in force" : "the conf file's rules apply");
    clear_entries(L.entries, L.n);
    rc = -1;
  } else {
    clear_entries(docs->entries, docs->n);
    docs->entries = L.entries;
    docs->n = L.n;
    docs->cap = L.cap;
  }
  cd_conf_unref(docs->base);
  docs->base = cd_conf_ref(cd_conf_base(base));
  install(docs);
  if (rc == 0 && base->xcap.enabled)
    cd_log(CD_LOG_NOTICE, "xcap: %zu subscriber document%s in force%s", docs->n, docs->n == 1 ? "" : "s",
           L.refused ? " (some refused, see above)" : "");
  return rc < 0 ? -1 : (int)docs->n;
}

int cd_docs_check_dir(const struct cd_conf *conf)
{
  struct loading L = { .conf = conf, .print = true };
  char err[300];
  if (!conf->xcap.enabled || conf->xcap.state_dir == NULL)
    return 0;
  if (cd_store_docs_dir_load(conf->xcap.state_dir, on_stored, &L, err, sizeof err) < 0) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  return L.refused;
}

/* ------------------------------------------------------------ changes */

static void on_written(void *arg, bool ok)
{
  struct cd_docs_change *c = arg;
  struct cd_docs *docs = c->docs;
  c->query = NULL;
  if (ok && !put_entry(docs, c->key, c->own)) {
    cd_log(CD_LOG_ERROR, "xcap: out of memory: the document of %s is stored but not in force", c->key);
    ok = false;
  }
  if (ok)
    install(docs);
  if (!c->cancelled)
    c->done(c->arg, ok);
  if (c->in_set)
    c->finished = true;
  else
    change_free(c);
}

struct cd_docs_change *cd_docs_set(struct cd_docs *docs, const char *key, struct cd_own_rules *own,
                                   const char *text, size_t len, cd_docs_done done, void *arg,
                                   bool *busy)
{
  *busy = false;
  for (struct cd_docs_change *c = docs->changes; c; c = c->next)
    if (strcmp(c->key, key) == 0) {
      *busy = true;
      return NULL;
    }
  struct cd_docs_change *c = calloc(1, sizeof *c);
  if (c == NULL || (c->key = strdup(key)) == NULL) {
    free(c);
    done(arg, false);
    return NULL;
  }
  c->docs = docs;
  c->own = cd_own_rules_ref(own);
  c->done = done;
  c->arg = arg;
  c->next = docs->changes;
  if (c->next)
    c->next->prev = &c->next;
  c->prev = &docs->changes;
  docs->changes = c;
  c->in_set = true;
  struct cd_store_query *q = cd_store_doc_write(docs->env.store, key, own ? text : NULL, own ? len : 0,
                                                on_written, c);
  c->in_set = false;
  if (c->finished) {
    change_free(c);
    return NULL;
  }
  c->query = q;
  return c;
}

void cd_docs_cancel(struct cd_docs_change *change)
{
  if (change)
    change->cancelled = true;
}
