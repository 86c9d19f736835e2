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
#include "http_server.h"
#include "inquiry.h"
#include "inquiry_auth.h"
#include "inquiry_http.h"
#include "ledger.h"
#include "log.h"
#include "proxy.h"

/* Distinct inquiry_ids remembered at once (2 x 30 s of inquiries). */
#define REPLAY_CAPACITY 2000000

struct cd_inquiry_service {
  struct cd_proxy *proxy;
  struct cd_http_server *server;
  struct cd_replay_cache *replay;
  struct {
    unsigned long permit, deny, auth_failures, bad_requests;
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

static struct cd_http_reply inquiry(struct cd_inquiry_service *h, http_t const *http)
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
  int seen = cd_replay_check(h->replay, kms_id, q.inquiry_id, now);
  if (seen != 0)
    return auth_failure(h, seen > 0 ? "inquiry_id already used" : "too many inquiries");

  bool permit = h->proxy->ledger && cd_inquiry_permits(&q, conf, h->proxy->ledger, now);
  if (permit)
    h->stats.permit++;
  else
    h->stats.deny++;
  cd_log(CD_LOG_INFO, "inquiry %s from kms %s: %s", q.inquiry_id, kms_id,
         permit ? "permit" : "deny");
  struct cd_http_reply r = { 200, "OK", "application/json", cd_inquiry_verdict_json(q.inquiry_id, permit), 0, NULL };
  return r;
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
             cd_service_name((enum cd_service)svc), p->stats.diversions[svc]);
  text_add(&t, "# HELP cdivas_limit_hits_total Diversions refused by the diversion limit or loop check.\n"
               "# TYPE cdivas_limit_hits_total counter\n"
               "cdivas_limit_hits_total %lu\n", p->stats.limit_hits);
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
  text_add(&t, "# HELP cdivas_ledger_records Diversion records held for inquiries.\n"
               "# TYPE cdivas_ledger_records gauge\n"
               "cdivas_ledger_records %zu\n", p->ledger ? cd_ledger_size(p->ledger) : 0);
  text_add(&t, "# HELP cdivas_ledger_evictions_total Records dropped before their TTL because the ledger was full.\n"
               "# TYPE cdivas_ledger_evictions_total counter\n"
               "cdivas_ledger_evictions_total %zu\n", p->ledger ? cd_ledger_evictions(p->ledger) : 0);
  text_add(&t, "# HELP cdivas_transactions_in_flight SIP server transactions without a final answer.\n"
               "# TYPE cdivas_transactions_in_flight gauge\n"
               "cdivas_transactions_in_flight %zu\n", p->in_flight);
  struct cd_http_reply r = { 200, "OK", "text/plain; version=0.0.4", t.s, 0, NULL };
  return r;
}

static struct cd_http_reply route(void *ctx, struct cd_http_request *req, http_t const *http)
{
  (void)req;
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
    return inquiry(h, http);
  }
  if (strcmp(path, "metrics") == 0 || strcmp(path, "health") == 0) {
    if (method != http_method_get) {
      struct cd_http_reply r = cd_http_json_error(405, "Method Not Allowed", "use GET");
      r.allow = "GET";
      return r;
    }
    if (path[0] == 'm')
      return metrics(h);
    if (h->proxy->draining)
      return cd_http_json_error(503, "Service Unavailable", "shutting down");
    struct cd_http_reply r = { 200, "OK", "application/json", strdup("{\"status\":\"ok\"}"), 0, NULL };
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
  h->replay = cd_replay_create(REPLAY_CAPACITY);
  struct cd_http_listen listen = {
    .url = q->listen, .host = q->host, .port = q->port, .tls = q->tls,
    .certificate = q->tls_certificate, .key = q->tls_key, .client_ca = q->tls_client_ca,
    .max_body = CD_INQUIRY_BODY_MAX,
  };
  if (h->replay == NULL || (h->server = cd_http_server_start(root, &listen, route, h)) == NULL) {
    cd_inquiry_service_destroy(h);
    return NULL;
  }
  return h;
}

void cd_inquiry_service_destroy(struct cd_inquiry_service *h)
{
  if (h == NULL)
    return;
  cd_http_server_destroy(h->server);
  cd_replay_destroy(h->replay);
  free(h);
}
