/*
 * proxy.h - the SIP side of cdivas: one nta agent in proxy mode, its
 * default leg, and the dispatch of every request that is not part of a
 * transaction nta already knows.
 *
 * INVITEs become calls (call.h); other requests are relayed statefully,
 * ACKs statelessly; REGISTER (third-party) and OPTIONS addressed to cdivas
 * itself are answered here.
 */
#ifndef CDIVAS_PROXY_H
#define CDIVAS_PROXY_H

#include <stdbool.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/nta.h>
#include "core/conf.h"
#include "core/keycount.h"
#include "store/store.h"

struct cd_call;
struct cd_relay;

struct cd_proxy {
  su_home_t home[1];
  su_root_t *root;
  nta_agent_t *agent;
  nta_leg_t *default_leg;
  struct cd_conf *conf;          /* current snapshot; calls hold their own ref */
  url_t *outbound_proxy;         /* parsed server.outbound_proxy, or NULL */
  url_t **own_urls;              /* listen URIs and identity: Route entries to pop */
  size_t n_own_urls;
  struct cd_call *calls;         /* every live call */
  struct cd_relay *relays;       /* every live non-INVITE relay */
  size_t in_flight;              /* server transactions without a final answer yet */
  bool draining;                 /* SIGTERM seen: refuse new INVITEs */
  struct cd_store *store;                 /* registrations (CFNL), ledger, replay cache: maybe shared */
  bool keeps_ledger;                      /* diversions are recorded (an inquiry endpoint listens) */
  struct cd_keycount *calls_per_user;     /* calls in progress per served user (max_calls) */
  struct {
    unsigned long diversions[CD_SVC_COUNT];
    unsigned long limit_hits;
  } stats;
  void (*on_idle)(struct cd_proxy *proxy); /* called when in_flight drops to 0 while draining */
  void *on_idle_arg;
};

/* Binds every server.listen URI and starts answering. Returns 0, or -1
 * after logging why (e.g. address in use). */
int cd_proxy_start(struct cd_proxy *proxy, su_root_t *root, struct cd_conf *conf);

/* Installs a new conf snapshot for new calls (calls in flight keep theirs). */
void cd_proxy_set_conf(struct cd_proxy *proxy, struct cd_conf *conf);

/* Stops accepting INVITEs; on_idle fires once nothing is in flight. */
void cd_proxy_drain(struct cd_proxy *proxy);

/* Tears everything down (after the loop has stopped). */
void cd_proxy_stop(struct cd_proxy *proxy);

/* True when `url` designates cdivas (one of its listen addresses, or the
 * host of server.identity). */
bool cd_proxy_is_own_url(const struct cd_proxy *proxy, url_t const *url);

/* Prepares a request copy for forwarding: pops cdivas's own Route entries
 * and decrements Max-Forwards. Returns the next-hop URL to hand to nta
 * (outbound_proxy when no Route is left), or NULL to let nta use the Route
 * set or the Request-URI. */
url_string_t const *cd_proxy_prepare_forward(struct cd_proxy *proxy, msg_t *msg, sip_t *sip);

/* Calls in progress for a served user (network-determined busy). */
long cd_proxy_calls_of(const struct cd_proxy *proxy, const char *key);
void cd_proxy_count_call(struct cd_proxy *proxy, const char *key, long delta);

/* Counters for the metrics. */
void cd_proxy_count_diversion(struct cd_proxy *proxy, enum cd_service service);
void cd_proxy_count_limit_hit(struct cd_proxy *proxy);

/* Book-keeping of server transactions without a final answer. */
void cd_proxy_transaction_started(struct cd_proxy *proxy);
void cd_proxy_transaction_answered(struct cd_proxy *proxy);

#endif
