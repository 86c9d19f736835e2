/*
 * route.h - where a request that cdivas forwards goes next: which URIs
 * name cdivas itself (its Route entries are popped, a request addressed
 * to it is answered, not forwarded), Max-Forwards, and the outbound proxy
 * when no Route is left (RFC 3261 16.4-16.6, "AS acting as a SIP proxy"
 * in TS 24.229).
 *
 * Built once from the conf at start-up: listen addresses and the identity
 * cannot change on a reload (main.c refuses such a reload).
 */
#ifndef CDIVAS_SIP_ROUTE_H
#define CDIVAS_SIP_ROUTE_H

#include <stdbool.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/url.h>
#include "core/conf.h"
#include "core/identity.h"

struct cd_route {
  su_home_t home[1];
  url_t **own_urls;           /* [0] server.identity, then server.aliases, then every listen URI */
  size_t n_own_urls;
  size_t n_any_port;          /* own_urls[0 .. n_any_port) match whatever the port when they name none */
  url_t *outbound_proxy;      /* server.outbound_proxy, or NULL */
  /* Listening on literal addresses of both families: each bound transport
   * is named (TPTAG_IDENT) by its family, and every request names the
   * family of its next hop (cd_route_ident), because Sofia-SIP's choice of
   * a transport ignores the family of a bracketed IPv6 literal and would
   * send it on the first, IPv4 socket ("Address family not supported"). */
  bool dual_stack;
  bool has_tls;               /* a TLS transport is bound: sips requests can go on */
};

/* Returns 0, or -1 (allocation failure, unparsable URI in the conf). */
int cd_route_init(struct cd_route *route, const struct cd_conf *conf);
void cd_route_deinit(struct cd_route *route);

/* True when `url` designates cdivas as a hop: the host of server.identity
 * or of an alias (any port, unless the alias names one), or one of its
 * listen addresses (host and port). A user part does not matter: iFC
 * server names such as sip:cdivas@as.example.net;lr carry one. */
bool cd_route_is_own(const struct cd_route *route, url_t const *url);

/* True when a request prepared for forwarding (cd_route_prepare_forward
 * gave `next_hop`) would come straight back to cdivas: its next hop, or
 * with no Route and no outbound proxy its Request-URI, designates cdivas.
 * Such a request is answered 482 instead of going round until 483. */
bool cd_route_loops_back(const struct cd_route *route, url_string_t const *next_hop,
                         sip_t const *sip);

/* True when a request ends at cdivas: its Request-URI is ours without a
 * user part (a user there is someone to call) and no Route is left after
 * our own entries. */
bool cd_route_ends_here(const struct cd_route *route, sip_t const *sip);

/* The session case the Route set tells (TS 24.229 5.4.3.3: the S-CSCF
 * marks what it routes to an AS): a `call=` or `sescase=` parameter (orig
 * or term) on cdivas's own Route entry, as iFC server names of IMS labs
 * carry it, else the `d=` parameter of a Kamailio S-CSCF's iscmark entry
 * right after ours (0 originating, 1 or 2 terminating). UNKNOWN when
 * neither is there. */
enum cd_sescase cd_route_sescase(const struct cd_route *route, sip_t const *sip);

/* The TPTAG_IDENT naming transports of a literal address's family:
 * "ipv4", "ipv6", or NULL for a host name. */
const char *cd_route_family_ident(const char *host);

/* The transport name (TPTAG_IDENT) a forwarded request must go out on: the
 * family of its next hop when that is a literal address and cdivas is
 * dual-stack, else NULL (let nta choose). `next_hop` is what
 * cd_route_prepare_forward returned for this request. */
const char *cd_route_ident(const struct cd_route *route, url_string_t const *next_hop,
                           sip_t const *sip);

/* Prepares a private request copy for forwarding: pops cdivas's own Route
 * entries and decrements Max-Forwards. Returns the next hop to hand to nta
 * (outbound_proxy when no Route is left), or NULL to let nta use the Route
 * set or the Request-URI. */
url_string_t const *cd_route_prepare_forward(const struct cd_route *route, msg_t *msg, sip_t *sip);

#endif
