/*
 * call.h - one incoming INVITE and what cdivas does with it: find the
 * served user, apply the first diversion rule that holds, forward, relay
 * the answers, pass on a CANCEL.
 *
 * The proxy (proxy.h) hands every initial INVITE to cd_call_invite() with
 * the environment its calls share; calls never see the proxy itself, so
 * the dependency goes one way: proxy -> call -> route, inflight, store.
 */
#ifndef CDIVAS_SIP_CALL_H
#define CDIVAS_SIP_CALL_H

#include <stdbool.h>
#include <sofia-sip/nta.h>
#include "core/conf.h"
#include "core/feature_code.h"
#include "core/keycount.h"
#include "sip/inflight.h"
#include "sip/route.h"
#include "store/store.h"

struct cd_call;

/* Counters for the metrics. */
struct cd_call_stats {
  unsigned long diversions[CD_SVC_COUNT];
  unsigned long limit_hits;     /* diversions refused: limit, loop, History-Info full */
  unsigned long diversion_headers; /* Diversion headers (RFC 5806) added, one per diversion */
};

/* What a feature code dialled in an originating INVITE does, when the
 * daemon has somewhere to keep rules (cdivas wires the XCAP documents in:
 * xcap/feature.h). start answers through done exactly once unless
 * cancelled, possibly before it returns (it then returns NULL); why is the
 * parser's reason for a code that is not right. */
struct cd_feature_hook {
  void *(*start)(void *ctx, const char *served_key, const struct cd_feature_code *fc, const char *why,
                 cd_feature_done done, void *arg);
  void (*cancel)(void *op);
  void *ctx;
};

/* What the calls of one proxy share. The proxy fills it in once started;
 * the calls own only `live` and `stats`. */
struct cd_calls {
  su_root_t *root;
  nta_agent_t *agent;
  nta_leg_t *default_leg;            /* for the MESSAGE to a served user */
  const struct cd_route *route;
  struct cd_inflight *inflight;
  struct cd_store *store;            /* registrations (CFNL), ledger */
  bool keeps_ledger;                 /* diversions are recorded (an inquiry endpoint listens) */
  struct cd_keycount *per_user;      /* calls in progress per served user (max_calls) */
  struct cd_feature_hook feature;    /* start NULL: feature codes are proxied as calls */
  struct cd_call_stats stats;
  struct cd_call *live;              /* every live call */
};

/* Takes an initial INVITE from the default leg; `conf` is the snapshot the
 * call keeps (it takes its own reference). Returns what nta's leg callback
 * expects: 0 when the call answers later, or a status >= 300 that nta
 * sends itself. */
int cd_call_invite(struct cd_calls *calls, struct cd_conf *conf, nta_incoming_t *irq,
                   sip_t const *sip);

/* Destroys every call (at exit). */
void cd_calls_destroy_all(struct cd_calls *calls);

#endif
