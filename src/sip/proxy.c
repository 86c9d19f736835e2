/*
 * proxy.c - nta agent, listening transports and request dispatch (see proxy.h).
 *
 * nta runs in proxy mode (NTATAG_UA(0)): no automatic To-tags, no 487 of
 * its own to a CANCEL (the downstream 487 is relayed instead), 2xx not
 * ACKed. Every request that matches no transaction reaches the default
 * leg's callback below.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/url.h>
#include "log/log.h"
#include "sip/proxy.h"
#include "sip/sip_msg.h"

/* Distinct inquiry_ids the memory store remembers at once (2 x 30 s of
 * inquiries). */
#define REPLAY_CAPACITY 2000000

/* Largest SIP message accepted (Sofia-SIP's default is 2 MB). */
#define CD_SIP_MAX_MESSAGE 65536

/* A stateful relay of one non-INVITE request (BYE, OPTIONS, MESSAGE, ...). */
struct cd_relay {
  struct cd_relay *next, **prev;
  struct cd_proxy *proxy;
  nta_incoming_t *irq;
  nta_outgoing_t *orq;
};

/* ---------------------------------------------------------------- relays */

static void relay_destroy(struct cd_relay *relay)
{
  if (relay->next)
    relay->next->prev = relay->prev;
  *relay->prev = relay->next;
  if (relay->orq)
    nta_outgoing_destroy(relay->orq);
  nta_incoming_destroy(relay->irq);
  cd_inflight_answered(&relay->proxy->inflight);
  free(relay);
}

static int relay_response(nta_outgoing_magic_t *magic, nta_outgoing_t *orq, sip_t const *sip)
{
  struct cd_relay *relay = (struct cd_relay *)magic;
  if (sip == NULL) {
    int status = nta_outgoing_status(orq);
    if (status < 300 || status > 699)
      status = 500;
    nta_incoming_treply(relay->irq, status, sip_status_phrase(status), TAG_END());
    relay_destroy(relay);
    return 0;
  }
  msg_t *response = nta_outgoing_getresponse(orq);
  sip_via_remove(response, sip_object(response));
  nta_incoming_mreply(relay->irq, response);
  if (sip->sip_status->st_status >= 200)
    relay_destroy(relay);
  return 0;
}

/* A private copy of the received request: the server transaction keeps
 * the original untouched. */
static msg_t *copy_request(nta_incoming_t *irq)
{
  msg_t *received = nta_incoming_getrequest(irq);
  msg_t *copy = received ? msg_copy(received) : NULL;
  msg_destroy(received);
  return copy;
}

static int relay_request(struct cd_proxy *proxy, nta_incoming_t *irq)
{
  struct cd_relay *relay = calloc(1, sizeof *relay);
  if (relay == NULL)
    return 500;
  msg_t *msg = copy_request(irq);
  if (msg == NULL) {
    free(relay);
    return 500;
  }
  url_string_t const *next_hop = cd_route_prepare_forward(&proxy->route, msg, sip_object(msg));
  if (cd_route_loops_back(&proxy->route, next_hop, sip_object(msg))) {
    msg_destroy(msg);
    free(relay);
    return 482;   /* it would come straight back here */
  }
  relay->proxy = proxy;
  relay->irq = irq;
  const char *ident = cd_route_ident(&proxy->route, next_hop, sip_object(msg));
  relay->orq = nta_outgoing_mcreate(proxy->agent, relay_response, (nta_outgoing_magic_t *)relay,
                                    next_hop, msg, TAG_IF(ident, TPTAG_IDENT(ident)), TAG_END());
  if (relay->orq == NULL) {
    msg_destroy(msg);
    free(relay);
    return 500;
  }
  relay->next = proxy->relays;
  if (relay->next)
    relay->next->prev = &relay->next;
  relay->prev = &proxy->relays;
  proxy->relays = relay;
  cd_inflight_started(&proxy->inflight);
  return 0;
}

static void forward_ack(struct cd_proxy *proxy, nta_incoming_t *irq)
{
  msg_t *msg = copy_request(irq);
  if (msg == NULL)
    return;
  sip_t *sip = sip_object(msg);
  if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0) {
    msg_destroy(msg);
    return;
  }
  url_string_t const *next_hop = cd_route_prepare_forward(&proxy->route, msg, sip);
  const char *ident = cd_route_ident(&proxy->route, next_hop, sip);
  nta_outgoing_t *orq = nta_outgoing_mcreate(proxy->agent, NULL, NULL, next_hop, msg,
                                             NTATAG_STATELESS(1),
                                             TAG_IF(ident, TPTAG_IDENT(ident)), TAG_END());
  if (orq == NULL)
    msg_destroy(msg);
  else
    nta_outgoing_destroy(orq);
}

/* ---------------------------------------------------------------- dispatch */

/* The expiry a REGISTER asks for: the Contact's expires parameter, else
 * the Expires header, else 3600 (RFC 3261 10.2.1.1); "Contact: *" with
 * Expires 0 deregisters. */
static unsigned long register_expires(sip_t const *sip)
{
  if (sip->sip_contact && sip->sip_contact->m_expires)
    return strtoul(sip->sip_contact->m_expires, NULL, 10);
  if (sip->sip_expires)
    return sip->sip_expires->ex_delta;
  return 3600;
}

static int answer_register(struct cd_proxy *proxy, nta_incoming_t *irq, sip_t const *sip)
{
  /* A third-party REGISTER from the S-CSCF (iFC on REGISTER): the user
   * named in To is logged in until the expiry, or out at Expires 0. Only
   * subscribers are remembered, so REGISTERs cannot grow the table. */
  unsigned long expires = register_expires(sip);
  su_home_t home[1] = { SU_HOME_INIT(home) };
  char *to = sip->sip_to ? url_as_string(home, sip->sip_to->a_url) : NULL;
  char key[CD_IDENTITY_KEY_MAX];
  const struct cd_subscriber *sub =
    to && cd_identity_key(to, key, NULL) == 0 ? cd_conf_find(proxy->conf, key) : NULL;
  if (sub) {
    if (cd_store_reg_update(proxy->store, sub->key, (long)expires) < 0)
      cd_log(CD_LOG_WARNING, "registration of %s not stored (table full or store unavailable)",
             sub->user);
    else
      cd_log(CD_LOG_DEBUG, "third-party REGISTER: %s %s", sub->user,
             expires ? "logged in" : "logged out");
  }
  su_home_deinit(home);
  char value[32];
  snprintf(value, sizeof value, "%lu", expires);
  nta_incoming_treply(irq, SIP_200_OK, SIPTAG_EXPIRES_STR(value), TAG_END());
  return 200;
}

/* Headers a proxy relies on: a request where Sofia-SIP could not parse
 * one of them is refused rather than forwarded with the bad copy. */
static const char *const vital_headers[] = {
  "Max-Forwards", "Via", "From", "To", "Call-ID", "CSeq", "Content-Length", "Route",
};

/* Returns 0 when the request may be handled, else the status of the answer
 * (*phrase set): a Request-URI that is no SIP URI, raw non-ASCII bytes in
 * it, or an unparsable vital header. */
static int request_is_sane(sip_t const *sip, const char **phrase)
{
  url_t const *ruri = sip->sip_request->rq_url;
  if (ruri->url_type == url_invalid || ruri->url_type == url_unknown) {
    *phrase = "Unsupported URI Scheme";
    return 416;
  }
  if (ruri->url_type != url_sip && ruri->url_type != url_sips && ruri->url_type != url_tel) {
    *phrase = "Unsupported URI Scheme";
    return 416;
  }
  const char *parts[] = { ruri->url_user, ruri->url_password, ruri->url_host, ruri->url_port,
                          ruri->url_params, ruri->url_headers };
  for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
    for (const unsigned char *p = (const unsigned char *)parts[i]; p && *p; p++)
      if (*p < 0x21 || *p > 0x7e) {
        *phrase = "Bad Request-URI: raw byte outside ASCII";
        return 400;
      }
  for (msg_error_t const *e = sip->sip_error; e; e = e->er_next)
    for (size_t i = 0; e->er_name && i < sizeof vital_headers / sizeof *vital_headers; i++)
      if (strcasecmp(e->er_name, vital_headers[i]) == 0) {
        static char phrases[sizeof vital_headers / sizeof *vital_headers][40];
        snprintf(phrases[i], sizeof phrases[i], "Bad %s Header", vital_headers[i]);
        *phrase = phrases[i];
        return 400;
      }
  return 0;
}

static int default_leg_request(nta_leg_magic_t *magic, nta_leg_t *leg,
                               nta_incoming_t *irq, sip_t const *sip)
{
  struct cd_proxy *proxy = (struct cd_proxy *)magic;
  (void)leg;
  sip_method_t method = sip->sip_request->rq_method;
  const char *phrase = NULL;
  int bad = method == sip_method_ack ? 0 : request_is_sane(sip, &phrase);
  if (bad) {
    nta_incoming_treply(irq, bad, phrase, TAG_END());
    return bad;
  }

  /* cdivas supports no extension a proxy must understand (RFC 3261 16.3). */
  if (sip->sip_proxy_require && method != sip_method_ack && method != sip_method_cancel) {
    char unsupported[256] = "";
    size_t len = 0;
    for (msg_param_t const *tag = sip->sip_proxy_require->k_items; tag && *tag; tag++)
      len += (size_t)snprintf(unsupported + len, len < sizeof unsupported ? sizeof unsupported - len : 0,
                              "%s%s", len ? ", " : "", *tag);
    if (len >= sizeof unsupported)
      unsupported[sizeof unsupported - 1] = '\0';
    nta_incoming_treply(irq, SIP_420_BAD_EXTENSION, TAG_IF(unsupported[0], SIPTAG_UNSUPPORTED_STR(unsupported)),
                        TAG_END());
    return 420;
  }

  /* A sips request must stay on TLS hop by hop (RFC 3261 26.2.2): never
   * forwarded over UDP or TCP, and refused when cdivas has no TLS. */
  if (sip->sip_request->rq_url->url_type == url_sips && !proxy->route.has_tls &&
      method != sip_method_ack) {
    nta_incoming_treply(irq, SIP_416_UNSUPPORTED_URI,
                        SIPTAG_WARNING_STR("399 cdivas \"sips needs a TLS transport; cdivas listens on none\""),
                        TAG_END());
    return 416;
  }

  switch (method) {
  case sip_method_invite:
    if (cd_route_ends_here(&proxy->route, sip))
      return 404;   /* nobody to call here: forwarding it would loop back */
    if (proxy->inflight.draining)
      return 503;
    return cd_call_invite(&proxy->calls, proxy->conf, irq, sip);
  case sip_method_ack:
    if (!cd_route_ends_here(&proxy->route, sip))
      forward_ack(proxy, irq);
    nta_incoming_destroy(irq);
    return 0;
  case sip_method_cancel:
    /* Fine per RFC 3261 9.2, but worth a line: it is often a CANCEL that
     * crossed the 2xx (the server transaction is released after a 2xx). */
    cd_log(CD_LOG_INFO, "CANCEL without a transaction to cancel (answered already, or never seen): 481 call-id=%s",
           sip->sip_call_id ? sip->sip_call_id->i_id : "-");
    return 481;
  case sip_method_register:
    return answer_register(proxy, irq, sip);
  default:
    break;
  }

  if (cd_route_ends_here(&proxy->route, sip)) {
    if (method == sip_method_options) {
      nta_incoming_treply(irq, SIP_200_OK,
                          SIPTAG_ALLOW_STR("INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, MESSAGE, INFO, UPDATE, PRACK, REFER, NOTIFY, SUBSCRIBE"),
                          SIPTAG_ACCEPT_STR("application/sdp"),
                          TAG_END());
      return 200;
    }
    return method == sip_method_unknown ? 501 : 404;
  }
  if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0)
    return 483;
  return relay_request(proxy, irq);
}

/* ---------------------------------------------------------------- transports */

/* Each listen URI becomes one bound transport per protocol: a URI without
 * ;transport= means UDP and TCP (RFC 3263), so "sip:h:p" and
 * "sip:h:p;transport=tcp" together bind TCP once. */
struct bind_spec { char uri[300]; const char *ident; };

static bool already_bound(struct bind_spec *specs, size_t n, const char *uri)
{
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(specs[i].uri, uri) == 0)
      return true;
  return false;
}

static size_t plan_bindings(su_home_t *home, const struct cd_conf *conf, struct bind_spec *specs, size_t max)
{
  size_t n = 0;
  for (size_t i = 0; i < conf->n_listen; i++) {
    url_t *url = url_hdup(home, URL_STRING_MAKE(conf->listen[i])->us_url);
    if (url == NULL)
      continue;
    char transport[16] = "";
    if (url->url_params)
      url_param(url->url_params, "transport", transport, sizeof transport);
    const char *protos[2] = { transport, NULL };
    if (!transport[0]) {
      protos[0] = url->url_type == url_sips ? "tls" : "udp";
      protos[1] = url->url_type == url_sips ? NULL : "tcp";
    }
    const char *host = url->url_host;
    bool v6 = strchr(host, ':') != NULL && host[0] != '[';
    for (int p = 0; p < 2 && protos[p]; p++) {
      if (n >= max)
        break;
      snprintf(specs[n].uri, sizeof specs[n].uri, "%s:%s%s%s:%s;transport=%s",
               url->url_type == url_sips ? "sips" : "sip", v6 ? "[" : "", host,
               v6 ? "]" : "", cd_sip_url_port(url), protos[p]);
      specs[n].ident = cd_route_family_ident(host);
      if (!already_bound(specs, n, specs[n].uri))
        n++;
    }
  }
  return n;
}

/* A burst (a moment without CPU, a retransmission storm) must wait in the
 * kernel, not be dropped: a lost answer costs a retransmission at best and
 * a call at worst. Sofia-SIP leaves the system default (about 208 KiB) and
 * has no tag for it, so the SIP UDP sockets - the only IP datagram sockets
 * cdivas has - are found among the open descriptors. As root,
 * SO_RCVBUFFORCE may pass net.core.rmem_max. */
#define UDP_BUFFER_BYTES (8 * 1024 * 1024)
static void enlarge_udp_buffers(void)
{
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL)
    return;
  for (struct dirent *e; (e = readdir(dir)) != NULL;) {
    int fd = atoi(e->d_name), type = 0, domain = 0, size = UDP_BUFFER_BYTES;
    socklen_t len = sizeof type;
    if (fd < 0 || fd == dirfd(dir) || e->d_name[0] == '.' ||
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_DGRAM)
      continue;
    len = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
        (domain != AF_INET && domain != AF_INET6))
      continue;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    len = sizeof size;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &len) == 0)
      cd_log(CD_LOG_DEBUG, "UDP socket %d: receive buffer %d bytes", fd, size);
  }
  closedir(dir);
}

int cd_proxy_start(struct cd_proxy *proxy, su_root_t *root, struct cd_conf *conf)
{
  su_home_init(proxy->home);
  proxy->root = root;
  proxy->conf = cd_conf_ref(conf);
  if (cd_route_init(&proxy->route, conf) < 0)
    return -1;
  proxy->calls_per_user = cd_keycount_create();
  if (proxy->calls_per_user == NULL)
    return -1;
  struct cd_store_limits limits = {
    /* Room for every subscriber's registration, with slack for those a
     * reload adds. */
    .registrations = conf->n_subscribers * 4 + 1024,
    /* Memory: the whole ledger. Redis: the records kept per caller, enough
     * for every diversion of a busy caller within record_ttl. */
    .ledger_records = conf->store.backend == CD_STORE_REDIS ? 256 : (size_t)conf->inquiry.max_records,
    .ledger_ttl = conf->inquiry.listen ? conf->inquiry.record_ttl : 0,
    .replay_ids = REPLAY_CAPACITY,
    .docs_dir = conf->xcap.state_dir,
  };
  char why[400];
  if ((proxy->store = cd_store_create(root, &conf->store, &limits, why, sizeof why)) == NULL) {
    cd_log(CD_LOG_ERROR, "state store: %s", why);
    errno = 0;
    return -1;
  }

  struct bind_spec specs[64];
  size_t n = plan_bindings(proxy->home, conf, specs, 64);
  if (n == 0) {
    cd_log(CD_LOG_ERROR, "no usable listen address");
    return -1;
  }
  bool v4 = false, v6 = false;
  for (size_t i = 0; i < n; i++) {
    v4 |= specs[i].ident && strcmp(specs[i].ident, "ipv4") == 0;
    v6 |= specs[i].ident && strcmp(specs[i].ident, "ipv6") == 0;
  }
  proxy->route.dual_stack = v4 && v6;
  for (size_t i = 0; i < n; i++)
    proxy->route.has_tls |= strstr(specs[i].uri, ";transport=tls") != NULL;
  bool dual = proxy->route.dual_stack;
  proxy->agent = nta_agent_create(root, URL_STRING_MAKE(specs[0].uri), NULL, NULL,
                                  TAG_IF(dual && specs[0].ident, TPTAG_IDENT(specs[0].ident)),
                                  NTATAG_UA(0),
                                  NTATAG_CANCEL_487(0),
                                  NTATAG_SERVER_RPORT(1),
                                  NTATAG_CLIENT_RPORT(1),
                                  /* A bound on one message: parsing is
                                   * quadratic in the number of headers. */
                                  NTATAG_MAXSIZE(CD_SIP_MAX_MESSAGE),
                                  TAG_END());
  if (proxy->agent == NULL) {
    cd_log(CD_LOG_ERROR, "cannot listen on %s: %s", specs[0].uri, strerror(errno));
    return -1;
  }
  for (size_t i = 1; i < n; i++) {
    if (nta_agent_add_tport(proxy->agent, URL_STRING_MAKE(specs[i].uri),
                            TAG_IF(dual && specs[i].ident, TPTAG_IDENT(specs[i].ident)),
                            TAG_END()) < 0) {
      cd_log(CD_LOG_ERROR, "cannot listen on %s: %s", specs[i].uri, strerror(errno));
      return -1;
    }
  }
  for (size_t i = 0; i < n; i++)
    cd_log(CD_LOG_NOTICE, "listening on %s", specs[i].uri);
  enlarge_udp_buffers();

  proxy->default_leg = nta_leg_tcreate(proxy->agent, default_leg_request,
                                       (nta_leg_magic_t *)proxy,
                                       NTATAG_NO_DIALOG(1), TAG_END());
  if (proxy->default_leg == NULL) {
    cd_log(CD_LOG_ERROR, "cannot create the default leg");
    return -1;
  }
  proxy->calls = (struct cd_calls){
    .root = root, .agent = proxy->agent, .default_leg = proxy->default_leg,
    .route = &proxy->route, .inflight = &proxy->inflight, .store = proxy->store,
    .keeps_ledger = limits.ledger_ttl > 0, .per_user = proxy->calls_per_user,
  };
  return 0;
}

void cd_proxy_set_conf(struct cd_proxy *proxy, struct cd_conf *conf)
{
  struct cd_conf *old = proxy->conf;
  proxy->conf = cd_conf_ref(conf);
  cd_conf_unref(old);
}

void cd_proxy_drain(struct cd_proxy *proxy)
{
  cd_inflight_drain(&proxy->inflight);
}

void cd_proxy_stop(struct cd_proxy *proxy)
{
  cd_calls_destroy_all(&proxy->calls);
  while (proxy->relays)
    relay_destroy(proxy->relays);
  if (proxy->default_leg)
    nta_leg_destroy(proxy->default_leg);
  if (proxy->agent)
    nta_agent_destroy(proxy->agent);
  proxy->default_leg = NULL;
  proxy->agent = NULL;
  if (proxy->conf)
    cd_conf_unref(proxy->conf);
  proxy->conf = NULL;
  cd_store_destroy(proxy->store);
  proxy->store = NULL;
  cd_keycount_destroy(proxy->calls_per_user);
  proxy->calls_per_user = NULL;
  cd_route_deinit(&proxy->route);
  su_home_deinit(proxy->home);
}
