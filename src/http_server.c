/*
 * http.c - HTTP(S) listener: KMS inquiry, /metrics, /health (see http.h).
 *
 * Each accepted connection reads into a Sofia-SIP msg_t of the HTTP class
 * (msg_recv_iovec / msg_recv_commit / msg_extract, the same calls tport
 * uses), with a size cap so a huge request is refused, not buffered. TLS
 * (OpenSSL) sits between the socket and the parser; nothing ever blocks:
 * every socket is non-blocking and registered in the daemon's su_root.
 * Responses are small and built directly as text.
 */
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/http.h>
#include <sofia-sip/http_header.h>
#include "http.h"
#include "inquiry.h"
#include "inquiry_auth.h"
#include "ledger.h"
#include "log.h"
#include "proxy.h"

#define MAX_CONNECTIONS 512
#define IDLE_MS 10000
/* Headers plus the largest body we accept: anything beyond is refused
 * while it is still arriving. */
#define MAX_REQUEST (CD_INQUIRY_BODY_MAX + 16384)
/* Distinct inquiry_ids remembered at once (2 x 30 s of inquiries). */
#define REPLAY_CAPACITY 2000000

struct conn {
  struct conn *next, **prev;
  struct cd_http *http;
  int fd;
  SSL *ssl;
  su_wait_t wait[1];
  int reg;                 /* su_root registration index */
  msg_t *msg;              /* request being received */
  char *out;               /* response being sent */
  size_t out_len, out_sent;
  bool close_after;
  bool dead;               /* closed; freed once the current event is over */
  su_timer_t *idle;
};

struct cd_http {
  su_root_t *root;
  struct cd_proxy *proxy;
  int listen_fd;
  su_wait_t wait[1];
  int reg;
  SSL_CTX *tls;
  struct conn *conns;
  size_t n_conns;
  struct cd_replay_cache *replay;
  struct {
    unsigned long permit, deny, auth_failures, bad_requests;
  } stats;
};

/* ---------------------------------------------------------------- responses */

struct reply {
  int status;
  const char *phrase;
  const char *content_type;
  char *body;              /* malloc'd */
  const char *allow;       /* for 405 */
};

static struct reply json_error(int status, const char *phrase, const char *message)
{
  struct reply r = { status, phrase, "application/json", cd_inquiry_error_json(message), NULL };
  return r;
}

static void conn_close(struct conn *c);
static void conn_want(struct conn *c, int events);

static void conn_flush(struct conn *c)
{
  while (c->out_sent < c->out_len) {
    size_t left = c->out_len - c->out_sent;
    ssize_t n;
    if (c->ssl) {
      int w = SSL_write(c->ssl, c->out + c->out_sent, (int)left);
      if (w <= 0) {
        int e = SSL_get_error(c->ssl, w);
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
          conn_want(c, e == SSL_ERROR_WANT_WRITE ? SU_WAIT_OUT : SU_WAIT_IN);
          return;
        }
        conn_close(c);
        return;
      }
      n = w;
    } else {
      n = send(c->fd, c->out + c->out_sent, left, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          conn_want(c, SU_WAIT_OUT);
          return;
        }
        conn_close(c);
        return;
      }
    }
    c->out_sent += (size_t)n;
  }
  free(c->out);
  c->out = NULL;
  c->out_len = c->out_sent = 0;
  if (c->close_after) {
    conn_close(c);
    return;
  }
  conn_want(c, SU_WAIT_IN);
}

static void conn_respond(struct conn *c, struct reply r)
{
  const char *body = r.body ? r.body : "";
  size_t body_len = strlen(body);
  char head[512];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\n"
                   "Content-Type: %s\r\n"
                   "Content-Length: %zu\r\n"
                   "%s%s%s"
                   "Connection: %s\r\n\r\n",
                   r.status, r.phrase, r.content_type ? r.content_type : "application/json",
                   body_len, r.allow ? "Allow: " : "", r.allow ? r.allow : "",
                   r.allow ? "\r\n" : "", c->close_after ? "close" : "keep-alive");
  c->out = malloc((size_t)n + body_len);
  if (c->out == NULL) {
    free(r.body);
    conn_close(c);
    return;
  }
  memcpy(c->out, head, (size_t)n);
  memcpy(c->out + n, body, body_len);
  c->out_len = (size_t)n + body_len;
  c->out_sent = 0;
  free(r.body);
  conn_flush(c);
}

/* ---------------------------------------------------------------- endpoints */

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

static struct reply auth_failure(struct cd_http *h, const char *why)
{
  h->stats.auth_failures++;
  return json_error(401, "Unauthorized", why);
}

static struct reply inquiry(struct cd_http *h, http_t const *http)
{
  const struct cd_conf *conf = h->proxy->conf;
  size_t len = http->http_payload ? http->http_payload->pl_len : 0;
  const char *body = http->http_payload ? http->http_payload->pl_data : "";
  char err[160];

  if (len > CD_INQUIRY_BODY_MAX) {
    h->stats.bad_requests++;
    snprintf(err, sizeof err, "body larger than %d bytes", CD_INQUIRY_BODY_MAX);
    return json_error(400, "Bad Request", err);
  }
  if (http->http_content_type == NULL || http->http_content_type->c_type == NULL ||
      strcasecmp(http->http_content_type->c_type, "application/json") != 0) {
    h->stats.bad_requests++;
    return json_error(400, "Bad Request", "Content-Type must be application/json");
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
    return json_error(400, "Bad Request", err);
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
  struct reply r = { 200, "OK", "application/json", cd_inquiry_verdict_json(q.inquiry_id, permit), NULL };
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

static struct reply metrics(struct cd_http *h)
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
               "cdivas_inquiry_bad_requests_total %lu\n", h->stats.bad_requests);
  text_add(&t, "# HELP cdivas_ledger_records Diversion records held for inquiries.\n"
               "# TYPE cdivas_ledger_records gauge\n"
               "cdivas_ledger_records %zu\n", p->ledger ? cd_ledger_size(p->ledger) : 0);
  text_add(&t, "# HELP cdivas_ledger_evictions_total Records dropped before their TTL because the ledger was full.\n"
               "# TYPE cdivas_ledger_evictions_total counter\n"
               "cdivas_ledger_evictions_total %zu\n", p->ledger ? cd_ledger_evictions(p->ledger) : 0);
  text_add(&t, "# HELP cdivas_transactions_in_flight SIP server transactions without a final answer.\n"
               "# TYPE cdivas_transactions_in_flight gauge\n"
               "cdivas_transactions_in_flight %zu\n", p->in_flight);
  struct reply r = { 200, "OK", "text/plain; version=0.0.4", t.s, NULL };
  return r;
}

static struct reply route(struct cd_http *h, http_t const *http)
{
  http_method_t method = http->http_request->rq_method;
  const char *path = http->http_request->rq_url->url_path;
  path = path ? path : "";
  if (strcmp(path, "cdiv/v1/inquiry") == 0) {
    if (method != http_method_post) {
      struct reply r = json_error(405, "Method Not Allowed", "use POST");
      r.allow = "POST";
      return r;
    }
    return inquiry(h, http);
  }
  if (strcmp(path, "metrics") == 0 || strcmp(path, "health") == 0) {
    if (method != http_method_get) {
      struct reply r = json_error(405, "Method Not Allowed", "use GET");
      r.allow = "GET";
      return r;
    }
    if (path[0] == 'm')
      return metrics(h);
    if (h->proxy->draining)
      return json_error(503, "Service Unavailable", "shutting down");
    struct reply r = { 200, "OK", "application/json", strdup("{\"status\":\"ok\"}"), NULL };
    return r;
  }
  return json_error(404, "Not Found", "no such resource");
}

/* ---------------------------------------------------------------- connections */

static void conn_want(struct conn *c, int events)
{
  su_root_eventmask(c->http->root, c->reg, c->fd, events | SU_WAIT_ERR | SU_WAIT_HUP);
}

/* Closes the connection; the memory stays until conn_free(), so that code
 * further up the current event's stack may still look at c->dead. */
static void conn_close(struct conn *c)
{
  if (c->dead)
    return;
  c->dead = true;
  struct cd_http *h = c->http;
  if (c->next)
    c->next->prev = c->prev;
  *c->prev = c->next;
  h->n_conns--;
  su_root_deregister(h->root, c->reg);
  if (c->ssl) {
    SSL_shutdown(c->ssl);
    SSL_free(c->ssl);
    c->ssl = NULL;
  }
  close(c->fd);
}

static void conn_free(struct conn *c)
{
  if (c->idle)
    su_timer_destroy(c->idle);
  if (c->msg)
    msg_destroy(c->msg);
  free(c->out);
  free(c);
}

static void conn_idle(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
  (void)magic; (void)t;
  struct conn *c = (struct conn *)arg;
  conn_close(c);
  conn_free(c);
}

/* Handles every complete request in c->msg. Returns false when the
 * connection was closed. */
static bool conn_process(struct conn *c)
{
  while (c->msg && c->out == NULL) {
    int r = msg_extract(c->msg);
    bool too_large = msg_get_flags(c->msg, MSG_FLG_TOOLARGE) != 0;
    if (r == 0 && !too_large)
      return true;   /* need more bytes */
    http_t *http = http_object(c->msg);
    if (r < 0 || too_large || http == NULL || http->http_request == NULL ||
        msg_get_flags(c->msg, MSG_FLG_ERROR)) {
      c->http->stats.bad_requests++;
      c->close_after = true;
      msg_destroy(c->msg);
      c->msg = NULL;
      conn_respond(c, too_large
                   ? json_error(400, "Bad Request", "request too large")
                   : json_error(400, "Bad Request", "malformed HTTP request"));
      return !c->dead;   /* still sending the answer: close after it */
    }
    c->close_after = http->http_request->rq_version != http_version_1_1 ||
                     (http->http_connection && http->http_connection->k_items &&
                      http->http_connection->k_items[0] &&
                      strcasecmp(http->http_connection->k_items[0], "close") == 0);
    struct reply reply = route(c->http, http);
    msg_t *next = msg_next(c->msg);
    msg_destroy(c->msg);
    c->msg = next;
    conn_respond(c, reply);
    if (c->dead)
      return false;
  }
  return true;
}

static bool conn_read(struct conn *c)
{
  for (int rounds = 0; rounds < 16 && c->out == NULL; rounds++) {
    if (c->msg == NULL) {
      c->msg = msg_create(http_default_mclass(), 0);
      if (c->msg == NULL)
        return false;
      msg_maxsize(c->msg, MAX_REQUEST);
    }
    msg_iovec_t vec[4];
    issize_t veclen = msg_recv_iovec(c->msg, vec, 4, 4096, 0);
    if (veclen < 0) {
      msg_mark_as_complete(c->msg, MSG_FLG_TOOLARGE);
      return conn_process(c);
    }
    ssize_t n;
    if (c->ssl) {
      int got = SSL_read(c->ssl, vec[0].mv_base, (int)vec[0].mv_len);
      if (got <= 0) {
        int e = SSL_get_error(c->ssl, got);
        if (e == SSL_ERROR_WANT_READ)
          return true;
        if (e == SSL_ERROR_WANT_WRITE) {
          conn_want(c, SU_WAIT_OUT);
          return true;
        }
        if (e != SSL_ERROR_ZERO_RETURN)
          cd_log(CD_LOG_DEBUG, "https: TLS error: %s", ERR_reason_error_string(ERR_get_error()));
        return false;
      }
      n = got;
    } else {
      n = recv(c->fd, vec[0].mv_base, vec[0].mv_len, 0);
      if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    if (n == 0)
      return false;
    msg_recv_commit(c->msg, (usize_t)n, 0);
    if (!conn_process(c))
      return false;
    su_timer_set_interval(c->idle, conn_idle, c, IDLE_MS);
  }
  return true;
}

static int conn_event(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
  (void)magic;
  struct conn *c = (struct conn *)arg;
  int events = su_wait_events(w, c->fd);
  if (c->out)
    conn_flush(c);
  else if ((events & (SU_WAIT_IN | SU_WAIT_OUT)) && !conn_read(c))
    conn_close(c);   /* end of stream or error */
  else if ((events & (SU_WAIT_ERR | SU_WAIT_HUP)) && !(events & SU_WAIT_IN))
    conn_close(c);
  if (c->dead)
    conn_free(c);
  return 0;
}

static int accept_event(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
  (void)magic; (void)w;
  struct cd_http *h = (struct cd_http *)arg;
  for (int i = 0; i < 64; i++) {
    int fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
      return 0;
    if (h->n_conns >= MAX_CONNECTIONS) {
      close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
      close(fd);
      continue;
    }
    c->http = h;
    c->fd = fd;
    if (h->tls) {
      c->ssl = SSL_new(h->tls);
      if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
        SSL_free(c->ssl);
        close(fd);
        free(c);
        continue;
      }
      SSL_set_accept_state(c->ssl);
    }
    c->idle = su_timer_create(su_root_task(h->root), IDLE_MS);
    su_wait_create(c->wait, fd, SU_WAIT_IN | SU_WAIT_ERR | SU_WAIT_HUP);
    c->reg = su_root_register(h->root, c->wait, conn_event, c, 0);
    if (c->reg < 0 || c->idle == NULL) {
      if (c->idle)
        su_timer_destroy(c->idle);
      SSL_free(c->ssl);
      close(fd);
      free(c);
      continue;
    }
    su_timer_set(c->idle, conn_idle, c);
    c->next = h->conns;
    if (c->next)
      c->next->prev = &c->next;
    c->prev = &h->conns;
    h->conns = c;
    h->n_conns++;
  }
  return 0;
}

/* ---------------------------------------------------------------- start/stop */

static SSL_CTX *tls_context(const struct cd_inquiry_conf *q)
{
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == NULL)
    return NULL;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, q->tls_certificate) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, q->tls_key, SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    cd_log(CD_LOG_ERROR, "inquiry TLS: cannot use %s / %s: %s", q->tls_certificate, q->tls_key,
           ERR_reason_error_string(ERR_get_error()));
    SSL_CTX_free(ctx);
    return NULL;
  }
  if (q->tls_client_ca) {
    if (SSL_CTX_load_verify_locations(ctx, q->tls_client_ca, NULL) != 1) {
      cd_log(CD_LOG_ERROR, "inquiry TLS: cannot load client CA %s: %s", q->tls_client_ca,
             ERR_reason_error_string(ERR_get_error()));
      SSL_CTX_free(ctx);
      return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
  }
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

static int listen_socket(const struct cd_inquiry_conf *q)
{
  char host[256], port[16];
  snprintf(port, sizeof port, "%d", q->port);
  size_t hl = strlen(q->host);
  if (q->host[0] == '[' && hl >= 2)
    snprintf(host, sizeof host, "%.*s", (int)(hl - 2), q->host + 1);
  else
    snprintf(host, sizeof host, "%s", q->host);
  struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                            .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
  struct addrinfo *ai = NULL;
  if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL)
    return -1;
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0)
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
    int saved = errno;
    if (fd >= 0)
      close(fd);
    freeaddrinfo(ai);
    errno = saved;
    return -1;
  }
  freeaddrinfo(ai);
  return fd;
}

struct cd_http *cd_http_start(su_root_t *root, struct cd_proxy *proxy)
{
  const struct cd_inquiry_conf *q = &proxy->conf->inquiry;
  struct cd_http *h = calloc(1, sizeof *h);
  if (h == NULL)
    return NULL;
  h->root = root;
  h->proxy = proxy;
  h->listen_fd = -1;
  h->reg = -1;
  h->replay = cd_replay_create(REPLAY_CAPACITY);
  if (h->replay == NULL)
    goto fail;
  if (q->tls && (h->tls = tls_context(q)) == NULL)
    goto fail;
  h->listen_fd = listen_socket(q);
  if (h->listen_fd < 0) {
    cd_log(CD_LOG_ERROR, "cannot listen on %s: %s", q->listen, strerror(errno));
    goto fail;
  }
  su_wait_create(h->wait, h->listen_fd, SU_WAIT_ACCEPT);
  h->reg = su_root_register(root, h->wait, accept_event, h, 0);
  if (h->reg < 0)
    goto fail;
  cd_log(CD_LOG_NOTICE, "inquiry endpoint on %s%s", q->listen,
         q->tls_client_ca ? " (client certificates required)" : "");
  return h;
fail:
  cd_http_destroy(h);
  return NULL;
}

void cd_http_destroy(struct cd_http *h)
{
  if (h == NULL)
    return;
  while (h->conns) {
    struct conn *c = h->conns;
    conn_close(c);
    conn_free(c);
  }
  if (h->reg >= 0)
    su_root_deregister(h->root, h->reg);
  if (h->listen_fd >= 0)
    close(h->listen_fd);
  SSL_CTX_free(h->tls);
  cd_replay_destroy(h->replay);
  free(h);
}
