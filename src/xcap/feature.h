/*
 * feature.h - feature codes (core/feature_code.h) applied to the
 * subscribers' documents (docs.h): the same documents, the same store and
 * the same checks as XCAP, so that a code dialled shows in the next GET
 * and a document PUT shows in the next interrogation.
 *
 * The outcome is a status and a sentence (cdivas(8), FEATURE CODES):
 * 603 with what was done or what is in force; 403 when the dialling user
 * is no subscriber or may not change its rules (self_service = false);
 * 484 for a code that is not right, or a number that is no usable target;
 * 500 or 503 when the store could not take the change.
 */
#ifndef CDIVAS_XCAP_FEATURE_H
#define CDIVAS_XCAP_FEATURE_H

#include "core/feature_code.h"
#include "xcap/docs.h"

struct cd_features {
  struct cd_docs *docs;
  struct cd_conf *(*current)(void *ctx);
  void *ctx;
};

/* Applies fc for the subscriber whose canonical key is `key`; done runs
 * exactly once unless cancelled, possibly before this returns (which then
 * returns NULL). `why` is the parser's reason when it refused the code
 * (fc is then not looked at): answered 484 at once. */
void *cd_features_start(void *features, const char *key, const struct cd_feature_code *fc, const char *why,
                        cd_feature_done done, void *arg);
void cd_features_cancel(void *op);

#endif
