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
#include "sip/call.h"
#include "sip/inflight.h"
#include "sip/route.h"
#include "store/store.h"

struct cd_relay;

struct cd_proxy {
  su_home_t home[1];
  su_root_t *root;
  nta_agent_t *agent;
  nta_leg_t *default_leg;
  struct cd_conf *conf;          /* current snapshot; calls hold their own ref */
  struct cd_route route;         /* own addresses, next hop */
  struct cd_inflight inflight;   /* server transactions without a final answer; the drain */
  struct cd_store *store;        /* registrations (CFNL), ledger, replay cache: maybe shared */
  struct cd_keycount *calls_per_user; /* calls in progress per served user (max_calls) */
  struct cd_calls calls;         /* every live call, and what they share */
  struct cd_relay *relays;       /* every live non-INVITE relay */
};

/* Binds every server.listen URI and starts answering. Returns 0, or -1
 * after logging why (e.g. address in use). */
int cd_proxy_start(struct cd_proxy *proxy, su_root_t *root, struct cd_conf *conf);

/* Installs a new conf snapshot for new calls (calls in flight keep theirs). */
void cd_proxy_set_conf(struct cd_proxy *proxy, struct cd_conf *conf);

/* Stops accepting INVITEs; inflight.on_idle fires once nothing is in flight. */
void cd_proxy_drain(struct cd_proxy *proxy);

/* Tears everything down (after the loop has stopped). */
void cd_proxy_stop(struct cd_proxy *proxy);

#endif
