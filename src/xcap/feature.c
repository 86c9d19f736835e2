/*
 * feature.c - feature codes applied to the subscribers' documents (see
 * feature.h).
 */
#include "xcap/feature.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log/log.h"
#include "simservs/cdiv.h"

struct op {
  cd_feature_done done;
  void *arg;
  bool cancelled;
  char key[CD_IDENTITY_KEY_MAX];
  char text[300];
};

static void on_stored(void *arg, bool ok)
{
  struct op *op = arg;
  if (ok)
    cd_log(CD_LOG_INFO, "feature code of %s: %s", op->key, op->text);
  else
    cd_log(CD_LOG_ERROR, "feature code of %s not stored: %s", op->key, op->text);
  if (!op->cancelled)
    op->done(op->arg, ok ? 603 : 500, ok ? op->text : "the change could not be stored; nothing changed");
  free(op);
}

void *cd_features_start(void *features, const char *key, const struct cd_feature_code *fc, const char *why,
                        cd_feature_done done, void *arg)
{
  struct cd_features *f = features;
  struct cd_conf *conf = f->current(f->ctx);
  const struct cd_subscriber *sub = cd_conf_find(conf, key);
  char text[300];
  if (sub == NULL) {
    cd_log(CD_LOG_NOTICE, "feature code from %s, who is no subscriber: 403", key[0] ? key : "an unknown caller");
    done(arg, 403, "only subscribers may set call forwarding");
    return NULL;
  }
  if (why) {
    snprintf(text, sizeof text, "%s", why);
    cd_log(CD_LOG_INFO, "feature code of %s refused: %s", sub->user, text);
    done(arg, 484, text);
    return NULL;
  }
  if (!sub->self_service) {
    cd_log(CD_LOG_NOTICE, "feature code of %s refused: self_service = false", sub->user);
    done(arg, 403, "call forwarding is set by the operator for this user");
    return NULL;
  }
  struct cd_own_rules *own = NULL;
  if (cd_feature_code_apply(fc, sub, &own, text, sizeof text) < 0) {
    done(arg, strstr(text, "out of memory") ? 500 : 603, text);
    return NULL;
  }
  if (own == NULL) {            /* interrogation: nothing changes */
    cd_log(CD_LOG_INFO, "feature code of %s: %s", sub->user, text);
    done(arg, 603, text);
    return NULL;
  }
  /* The document to be, checked as XCAP checks one. */
  struct ss_cdiv view = ss_cdiv_of_own(own);
  size_t len = 0;
  char *doc = ss_cdiv_text(&view, &len, NULL);
  struct ss_error err = {0};
  struct cd_own_rules *check = doc ? ss_cdiv_parse_text(doc, len, &err) : NULL;
  if (check == NULL) {
    free(doc);
    cd_own_rules_unref(own);
    cd_log(CD_LOG_INFO, "feature code of %s refused: %s", sub->user, err.phrase);
    done(arg, doc ? 484 : 500, doc ? err.phrase : "out of memory");
    return NULL;
  }
  cd_own_rules_unref(check);
  struct op *op = calloc(1, sizeof *op);
  if (op == NULL) {
    free(doc);
    cd_own_rules_unref(own);
    done(arg, 500, "out of memory");
    return NULL;
  }
  op->done = done;
  op->arg = arg;
  snprintf(op->key, sizeof op->key, "%s", sub->key);
  snprintf(op->text, sizeof op->text, "%s", text);
  bool busy = false;
  struct cd_docs_change *change = cd_docs_set(f->docs, sub->key, own, doc, len, on_stored, op, &busy);
  free(doc);
  cd_own_rules_unref(own);
  if (busy) {
    free(op);
    done(arg, 503, "another change of these rules is on its way; try again");
    return NULL;
  }
  return change ? op : NULL;
}

void cd_features_cancel(void *op)
{
  if (op)
    ((struct op *)op)->cancelled = true;
}
