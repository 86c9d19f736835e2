/*
 * inquiry_http.c - cdivas's HTTP routes: POST /cdiv/v1/inquiry (the KMS
 * inquiry, doc/inquiry-api.md), GET /metrics, GET /health.
 *
 * The checks run cheapest and least revealing first: size and type, then
 * the Authorization header, the JSON, the KMS and its signature, and only
 * then the replay cache (so unauthenticated requests cannot fill it) and
 * the verdict.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sofia-sip/http.h>
#include <sofia-sip/http_header.h>
#include <sofia-sip/msg_header.h>
#include "http/server.h"
#include "core/inquiry.h"
#include "core/inquiry_auth.h"
#include "cdivas/routes.h"
#include "core/ledger.h"
#include "log/log.h"
#include "sip/proxy.h"
#include "store/store.h"
#include "xcap/server.h"

/* An authenticated inquiry waiting for the state store: its replay claim
 * and the caller's diversions, asked for together (one round trip to
 * Redis: the two commands are pipelined, and answered in order). */
struct pending_inquiry {
  struct pending_inquiry *next, **prev;
  struct cd_inquiry_service *h;
  struct cd_http_request *req;
  struct cd_conf *conf;              /* the snapshot the inquiry started with */
  struct cd_inquiry q;
  char kms_id[CD_AUTH_KMS_ID_MAX];
  struct cd_store_query *claim_query, *fetch_query;  /* in flight, if any */
  bool claimed, fetched;             /* their answers came: */
  int seen;                          /* the claim's (store.h) */
  bool permit, store_down;           /* the verdict over the fetched ledger */
  bool in_handler;                   /* answered while the handler still runs: */
  bool done;
  struct cd_http_reply reply;        /* ... then the handler returns this */
};

struct cd_inquiry_service {
  struct cd_proxy *proxy;
  const struct cd_xcap_service *xcap;   /* its counters in /metrics, when there is one */
  struct cd_http_server *server;
  struct pending_inquiry *pending;
  struct {
    unsigned long permit, deny, auth_failures, bad_requests;
    unsigned long reloads, reload_failures;
  } stats;
};

/* The Authorization header as the client wrote it: Sofia-SIP splits it
 * into scheme and parameters; inquiry_auth wants the whole value. */
static char *authorization_value(http_t const *http)
{
  msg_auth_t const *au = http->http_authorization;
  if (au == NULL || au->au_scheme == NULL)
    return NULL;
  size_t len = strlen(au->au_scheme) + 2;
  for (msg_param_t const *p = au->au_params; p && *p; p++)
    len += strlen(*p) + 2;
  char *value = malloc(len);
  if (value == NULL)
    return NULL;
  strcpy(value, au->au_scheme);
  for (msg_param_t const *p = au->au_params; p && *p; p++) {
    strcat(value, p == au->au_params ? " " : ", ");
    strcat(value, *p);
  }
  return value;
}

static struct cd_http_reply auth_failure(struct cd_inquiry_service *h, const char *why)
{
  h->stats.auth_failures++;
  return cd_http_json_error(401, "Unauthorized", why);
}

/* Unlinks and frees a pending inquiry whose answer is out. */
static void pending_free(struct pending_inquiry *p)
{
  if (p->next)
    p->next->prev = p->prev;
  *p->prev = p->next;
  cd_conf_unref(p->conf);
  free(p);
}

/* Ends a pending inquiry with `reply`: through the handler's return when
 * it still runs (the memory store answers at once), else later. */
static void pending_finish(struct pending_inquiry *p, struct cd_http_reply reply)
{
  if (p->in_handler) {
    p->reply = reply;
    p->done = true;
    return;
  }
  cd_http_respond(p->req, reply);
  pending_free(p);
}

/* Both answers are in: the replay claim decides first. */
static void inquiry_decide(struct pending_inquiry *p)
{
  if (!p->claimed || !p->fetched)
    return;
  struct cd_inquiry_service *h = p->h;
  if (p->seen == 1 || p->seen == -1) {
    h->stats.auth_failures++;
    pending_finish(p, cd_http_json_error(401, "Unauthorized", p->seen == 1 ? "inquiry_id already used"
                                                                          : "too many inquiries"));
    return;
  }
  /* The store could not tell (claim or ledger): fail closed, a deny. */
  bool unavailable = p->seen != 0 || p->store_down;
  bool permit = !unavailable && p->permit;
  if (permit)
    h->stats.permit++;
  else
    h->stats.deny++;
  cd_log(CD_LOG_INFO, "inquiry %s from kms %s: %s%s", p->q.inquiry_id, p->kms_id,
         permit ? "permit" : "deny", unavailable ? " (state store unavailable)" : "");
  struct cd_http_reply r = { 200, "OK", "application/json",
                             cd_inquiry_verdict_json(p->q.inquiry_id, permit), 0, NULL, NULL };
  pending_finish(p, r);
}

static void on_ledger(void *arg, const struct cd_ledger *view)
{
  struct pending_inquiry *p = arg;
  p->fetch_query = NULL;
  p->fetched = true;
  /* The view lives only during this call: the verdict is reached now. */
  p->store_down = view == NULL;
  p->permit = view && cd_inquiry_permits(&p->q, p->conf, view, (long)time(NULL));
  inquiry_decide(p);
}

static void on_claim(void *arg, int seen)
{
  struct pending_inquiry *p = arg;
  p->claim_query = NULL;
  p->claimed = true;
  p->seen = seen;
  inquiry_decide(p);
}

/* The replay claim and the verdict, from the state store. While
 * in_handler is set nothing frees p: the memory store answers at once. */
static struct cd_http_reply inquiry_consult_store(struct cd_inquiry_service *h,
                                                  struct cd_http_request *req,
                                                  const struct cd_inquiry *q, const char *kms_id)
{
  struct pending_inquiry *p = calloc(1, sizeof *p);
  if (p == NULL)
    return cd_http_json_error(503, "Service Unavailable", "out of memory");
  p->h = h;
  p->req = req;
  p->conf = cd_conf_ref(h->proxy->conf);
  p->q = *q;
  snprintf(p->kms_id, sizeof p->kms_id, "%s", kms_id);
  p->in_handler = true;
  p->next = h->pending;
  if (p->next)
    p->next->prev = &p->next;
  p->prev = &h->pending;
  h->pending = p;
  struct cd_store_query *query = cd_store_replay_claim(h->proxy->store, kms_id, q->inquiry_id,
                                                       on_claim, p);
  if (query)
    p->claim_query = query;
  char caller[CD_IDENTITY_KEY_MAX];
  cd_inquiry_canonical(p->conf, q->initiator, caller);
  query = cd_store_ledger_fetch(h->proxy->store, caller, on_ledger, p);
  if (query)
    p->fetch_query = query;
  p->in_handler = false;
  if (!p->done) {
    struct cd_http_reply later = { 0, NULL, NULL, NULL, 0, NULL, NULL };
    return later;
  }
  struct cd_http_reply r = p->reply;
  pending_free(p);
  return r;
}

static struct cd_http_reply inquiry(struct cd_inquiry_service *h, struct cd_http_request *req,
                                    http_t const *http)
{
  const struct cd_conf *conf = h->proxy->conf;
  size_t len = http->http_payload ? http->http_payload->pl_len : 0;
  const char *body = http->http_payload ? http->http_payload->pl_data : "";
  char err[160];

  if (len > CD_INQUIRY_BODY_MAX) {
    h->stats.bad_requests++;
    snprintf(err, sizeof err, "body larger than %d bytes", CD_INQUIRY_BODY_MAX);
    return cd_http_json_error(400, "Bad Request", err);
  }
  if (http->http_content_type == NULL || http->http_content_type->c_type == NULL ||
      strcasecmp(http->http_content_type->c_type, "application/json") != 0) {
    h->stats.bad_requests++;
    return cd_http_json_error(400, "Bad Request", "Content-Type must be application/json");
  }
  char *auth = authorization_value(http);
  char kms_id[CD_AUTH_KMS_ID_MAX];
  unsigned char sig[CD_AUTH_SIG_LEN];
  int bad_header = auth == NULL || cd_auth_parse_header(auth, kms_id, sig) < 0;
  free(auth);
  if (bad_header)
    return auth_failure(h, "missing or malformed Authorization");

  struct cd_inquiry q;
  if (cd_inquiry_parse(body, len, &q, err, sizeof err) < 0) {
    h->stats.bad_requests++;
    return cd_http_json_error(400, "Bad Request", err);
  }
  const struct cd_kms *kms = cd_conf_kms(conf, kms_id);
  if (kms == NULL)
    return auth_failure(h, "unknown kms");
  if (strcmp(q.kms, kms_id) != 0)
    return auth_failure(h, "kms in the body differs from the Authorization");
  long now = (long)time(NULL);
  if (!cd_auth_fresh(q.timestamp, now))
    return auth_failure(h, "timestamp outside the allowed window");
  if (!cd_auth_verify(kms->key, q.timestamp, body, len, sig))
    return auth_failure(h, "bad signature");
  return inquiry_consult_store(h, req, &q, kms_id);
}

/* Appends printf output to a growing buffer. */
struct text { char *s; size_t len, cap; };
static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0)
      return;
    if (t->s && t->len + (size_t)n < t->cap) {
      t->len += (size_t)n;
      return;
    }
    size_t cap = (t->cap + (size_t)n + 1) * 2;
    char *s = realloc(t->s, cap);
    if (s == NULL)
      return;
    t->s = s;
    t->cap = cap;
  }
}

static struct cd_http_reply metrics(struct cd_inquiry_service *h)
{
  struct cd_proxy *p = h->proxy;
  struct text t = {0};
  text_add(&t, "# HELP cdivas_diversions_total Diversions performed, by service.\n"
               "# TYPE cdivas_diversions_total counter\n");
  for (int svc = 0; svc < CD_SVC_COUNT; svc++)
    text_add(&t, "cdivas_diversions_total{service=\"%s\"} %lu\n",
             cd_service_name((enum cd_service)svc), p->calls.stats.diversions[svc]);
  text_add(&t, "# HELP cdivas_limit_hits_total Diversions refused by the diversion limit or loop check.\n"
               "# TYPE cdivas_limit_hits_total counter\n"
               "cdivas_limit_hits_total %lu\n", p->calls.stats.limit_hits);
  text_add(&t, "# HELP cdivas_diversion_headers_total Diversion headers (RFC 5806) added, one per diversion.\n"
               "# TYPE cdivas_diversion_headers_total counter\n"
               "cdivas_diversion_headers_total %lu\n", p->calls.stats.diversion_headers);
  text_add(&t, "# HELP cdivas_inquiries_total KMS inquiries answered, by verdict.\n"
               "# TYPE cdivas_inquiries_total counter\n"
               "cdivas_inquiries_total{verdict=\"permit\"} %lu\n"
               "cdivas_inquiries_total{verdict=\"deny\"} %lu\n", h->stats.permit, h->stats.deny);
  text_add(&t, "# HELP cdivas_inquiry_auth_failures_total Inquiries refused with 401.\n"
               "# TYPE cdivas_inquiry_auth_failures_total counter\n"
               "cdivas_inquiry_auth_failures_total %lu\n", h->stats.auth_failures);
  text_add(&t, "# HELP cdivas_inquiry_bad_requests_total Inquiries refused with 400.\n"
               "# TYPE cdivas_inquiry_bad_requests_total counter\n"
               "cdivas_inquiry_bad_requests_total %lu\n",
           h->stats.bad_requests + cd_http_server_bad_requests(h->server));
  struct cd_store_stats st;
  cd_store_stats(p->store, &st);
  text_add(&t, "# HELP cdivas_ledger_records Diversion records held for inquiries (memory store only).\n"
               "# TYPE cdivas_ledger_records gauge\n"
               "cdivas_ledger_records %zu\n", st.ledger_records);
  text_add(&t, "# HELP cdivas_ledger_evictions_total Records dropped before their TTL because the ledger was full.\n"
               "# TYPE cdivas_ledger_evictions_total counter\n"
               "cdivas_ledger_evictions_total %zu\n", st.ledger_evictions);
  text_add(&t, "# HELP cdivas_store_up Whether the state store answers (1) or not (0).\n"
               "# TYPE cdivas_store_up gauge\n"
               "cdivas_store_up{backend=\"%s\"} %d\n", st.backend, st.up ? 1 : 0);
  text_add(&t, "# HELP cdivas_store_errors_total Store queries answered unavailable (calls went on, inquiries were denied).\n"
               "# TYPE cdivas_store_errors_total counter\n"
               "cdivas_store_errors_total %lu\n", st.errors);
  text_add(&t, "# HELP cdivas_store_lost_records_total Writes the store could not take (diversion records, registrations).\n"
               "# TYPE cdivas_store_lost_records_total counter\n"
               "cdivas_store_lost_records_total %lu\n", st.lost_records);
  text_add(&t, "# HELP cdivas_store_reconnects_total Connections to the store re-established.\n"
               "# TYPE cdivas_store_reconnects_total counter\n"
               "cdivas_store_reconnects_total %lu\n", st.reconnects);
  text_add(&t, "# HELP cdivas_store_query_duration_seconds How long store queries waited for their answer.\n"
               "# TYPE cdivas_store_query_duration_seconds histogram\n");
  unsigned long below = 0;
  for (int i = 0; i < CD_STORE_LATENCY_BUCKETS; i++) {
    below += st.latency.buckets[i];
    text_add(&t, "cdivas_store_query_duration_seconds_bucket{le=\"%g\"} %lu\n",
             cd_store_latency_bounds[i], below);
  }
  text_add(&t, "cdivas_store_query_duration_seconds_bucket{le=\"+Inf\"} %lu\n"
               "cdivas_store_query_duration_seconds_sum %.9f\n"
               "cdivas_store_query_duration_seconds_count %lu\n",
           st.latency.count, st.latency.sum, st.latency.count);
  if (h->xcap) {
    struct cd_xcap_stats x;
    cd_xcap_stats(h->xcap, &x);
    text_add(&t, "# HELP cdivas_xcap_requests_total XCAP requests answered 2xx, by method.\n"
                 "# TYPE cdivas_xcap_requests_total counter\n"
                 "cdivas_xcap_requests_total{method=\"GET\"} %lu\n"
                 "cdivas_xcap_requests_total{method=\"PUT\"} %lu\n"
                 "cdivas_xcap_requests_total{method=\"DELETE\"} %lu\n", x.gets, x.puts, x.deletes);
    text_add(&t, "# HELP cdivas_xcap_refused_total XCAP requests refused: 401 and 403 (auth), any other 4xx.\n"
                 "# TYPE cdivas_xcap_refused_total counter\n"
                 "cdivas_xcap_refused_total{reason=\"auth\"} %lu\n"
                 "cdivas_xcap_refused_total{reason=\"request\"} %lu\n", x.auth_failures, x.refused);
  }
  text_add(&t, "# HELP cdivas_transactions_in_flight SIP server transactions without a final answer.\n"
               "# TYPE cdivas_transactions_in_flight gauge\n"
               "cdivas_transactions_in_flight %zu\n", p->inflight.count);
  text_add(&t, "# HELP cdivas_reloads_total Configuration reloads on SIGHUP, by result (a failed one keeps the running configuration).\n"
               "# TYPE cdivas_reloads_total counter\n"
               "cdivas_reloads_total{result=\"ok\"} %lu\n"
               "cdivas_reloads_total{result=\"failed\"} %lu\n",
           h->stats.reloads, h->stats.reload_failures);
  struct cd_http_reply r = { 200, "OK", "text/plain; version=0.0.4", t.s, 0, NULL, NULL };
  return r;
}

static struct cd_http_reply route(void *ctx, struct cd_http_request *req, http_t const *http)
{
  struct cd_inquiry_service *h = ctx;
  http_method_t method = http->http_request->rq_method;
  const char *path = http->http_request->rq_url->url_path;
  path = path ? path : "";
  if (strcmp(path, "cdiv/v1/inquiry") == 0) {
    if (method != http_method_post) {
      struct cd_http_reply r = cd_http_json_error(405, "Method Not Allowed", "use POST");
      r.allow = "POST";
      return r;
    }
    return inquiry(h, req, http);
  }
  if (strcmp(path, "metrics") == 0 || strcmp(path, "health") == 0) {
    if (method != http_method_get) {
      struct cd_http_reply r = cd_http_json_error(405, "Method Not Allowed", "use GET");
      r.allow = "GET";
      return r;
    }
    if (path[0] == 'm')
      return metrics(h);
    if (h->proxy->inflight.draining)
      return cd_http_json_error(503, "Service Unavailable", "shutting down");
    struct cd_http_reply r = { 200, "OK", "application/json", strdup("{\"status\":\"ok\"}"), 0, NULL, NULL };
    return r;
  }
  return cd_http_json_error(404, "Not Found", "no such resource");
}

struct cd_inquiry_service *cd_inquiry_service_start(su_root_t *root, struct cd_proxy *proxy)
{
  const struct cd_inquiry_conf *q = &proxy->conf->inquiry;
  struct cd_inquiry_service *h = calloc(1, sizeof *h);
  if (h == NULL)
    return NULL;
  h->proxy = proxy;
  struct cd_http_listen listen = {
    .url = q->listen, .host = q->host, .port = q->port, .tls = q->tls,
    .certificate = q->tls_certificate, .key = q->tls_key, .client_ca = q->tls_client_ca,
    .max_body = CD_INQUIRY_BODY_MAX,
  };
  if ((h->server = cd_http_server_start(root, &listen, route, h)) == NULL) {
    cd_inquiry_service_destroy(h);
    return NULL;
  }
  return h;
}

void cd_inquiry_service_count_reload(struct cd_inquiry_service *h, bool ok)
{
  if (h == NULL)
    return;
  if (ok)
    h->stats.reloads++;
  else
    h->stats.reload_failures++;
}

void cd_inquiry_service_show_xcap(struct cd_inquiry_service *h, const struct cd_xcap_service *xcap)
{
  if (h)
    h->xcap = xcap;
}

void cd_inquiry_service_destroy(struct cd_inquiry_service *h)
{
  if (h == NULL)
    return;
  while (h->pending) {
    struct pending_inquiry *p = h->pending;
    h->pending = p->next;
    cd_store_cancel(p->claim_query);
    cd_store_cancel(p->fetch_query);
    cd_http_respond(p->req, cd_http_json_error(503, "Service Unavailable", "shutting down"));
    cd_conf_unref(p->conf);
    free(p);
  }
  cd_http_server_destroy(h->server);
  free(h);
}
