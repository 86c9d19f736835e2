/*
 * server.h - the XCAP server of the subscribers' simservs documents
 * (RFC 4825 on the simservs application usage of TS 24.623; doc/xcap.md)
 * on its own HTTP(S) listener (http/server.h), configured by the xcap
 * group of cdivas.conf.
 *
 * GET, PUT and DELETE of the whole document and of what a node selector
 * names (simservs/selector.h), with ETags and If-Match / If-None-Match;
 * a change is checked as a whole document (simservs/cdiv.h), written
 * through the documents module (docs.h) and in force for new calls when
 * the answer goes out. Who may do it: a subscriber, on its own document
 * only, proven by HTTP Digest (digest.h) with its password from the conf,
 * or named in X-3GPP-Asserted-Identity (X-3GPP-Intended-Identity) by an
 * authentication proxy among xcap.trusted_proxies; and not when its
 * self_service is false.
 */
#ifndef CDIVAS_XCAP_SERVER_H
#define CDIVAS_XCAP_SERVER_H

#include <sofia-sip/su_wait.h>
#include "core/conf.h"
#include "xcap/docs.h"

struct cd_xcap_env {
  struct cd_docs *docs;
  struct cd_conf *(*current)(void *ctx);   /* the snapshot in force */
  void *ctx;
};

struct cd_xcap_stats {
  unsigned long gets, puts, deletes;        /* answered 2xx */
  unsigned long auth_failures;              /* 401 and 403 */
  unsigned long refused;                    /* any other 4xx */
};

struct cd_xcap_service;

/* Listens on conf->xcap.listen; NULL after logging why. */
struct cd_xcap_service *cd_xcap_start(su_root_t *root, const struct cd_conf *conf,
                                      const struct cd_xcap_env *env);
/* Answers what waits with 503 and stops. */
void cd_xcap_destroy(struct cd_xcap_service *x);
void cd_xcap_stats(const struct cd_xcap_service *x, struct cd_xcap_stats *out);

#endif
