/*
 * http_server.c - HTTP/1.1 server with optional TLS (see http_server.h).
 *
 * Each accepted connection reads into a Sofia-SIP msg_t of the HTTP class
 * (msg_recv_iovec / msg_recv_commit / msg_extract, the same calls tport
 * uses), with a size cap so a huge request is refused, not buffered. TLS
 * (OpenSSL) sits between the socket and the parser; nothing ever blocks:
 * every socket is non-blocking and registered in the daemon's su_root.
 * Responses are small and built directly as text. One request per
 * connection is handled at a time (pipelined requests wait their turn).
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
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/http.h>
#include <sofia-sip/http_header.h>
#include "http/server.h"
#include "http/stream.h"
#include "log/log.h"

#define MAX_CONNECTIONS 512
#define IDLE_MS 10000
/* Room for the request line and headers on top of the largest body. */
#define MAX_HEADERS 16384

struct cd_http_request {
  struct conn *conn;       /* NULL once the connection is gone */
  int family;              /* the peer's, copied from the connection */
  unsigned char addr[16];
  char addr_text[48];
};

struct conn {
  struct conn *next, **prev;
  struct cd_http_server *http;
  struct cd_http_request *pending;  /* a request being answered later */
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
  int family;              /* the peer: 4 or 6, 0 unknown */
  unsigned char addr[16];
  char addr_text[48];
};

struct cd_http_server {
  su_root_t *root;
  cd_http_handler handler;
  void *ctx;
  size_t max_request;
  int listen_fd;
  su_wait_t wait[1];
  int reg;
  SSL_CTX *tls;
  struct conn *conns;
  size_t n_conns;
  unsigned long bad_requests;
};

/* ---------------------------------------------------------------- responses */

struct cd_http_reply cd_http_json_error(int status, const char *phrase, const char *message)
{
  /* The message is ours (a constant or a parser's short reason); JSON
   * escaping is still done so that no input can break the document. */
  size_t len = strlen(message), k = 0;
  char *body = malloc(len * 6 + 16);
  if (body) {
    k += (size_t)sprintf(body, "{\"error\":\"");
    for (size_t i = 0; i < len; i++) {
      unsigned char ch = (unsigned char)message[i];
      if (ch == '"' || ch == '\\')
        k += (size_t)sprintf(body + k, "\\%c", ch);
      else if (ch < 0x20 || ch >= 0x7f)
        k += (size_t)sprintf(body + k, "\\u%04x", ch);
      else
        body[k++] = (char)ch;
    }
    strcpy(body + k, "\"}");
  }
  struct cd_http_reply r = { status, phrase, "application/json", body, 0, NULL, NULL };
  return r;
}

unsigned long cd_http_server_bad_requests(const struct cd_http_server *server)
{
  return server->bad_requests;
}

static void conn_close(struct conn *c);
static void conn_free(struct conn *c);
static void conn_want(struct conn *c, int events);
static bool conn_process(struct conn *c);

static void conn_flush(struct conn *c)
{
  const char *why = NULL;
  switch (cd_stream_write(c->fd, c->ssl, c->out, c->out_len, &c->out_sent, &why)) {
  case CD_STREAM_OK:
    break;
  case CD_STREAM_WANT_IN:
    conn_want(c, SU_WAIT_IN);
    return;
  case CD_STREAM_WANT_OUT:
    conn_want(c, SU_WAIT_OUT);
    return;
  case CD_STREAM_EOF:
  case CD_STREAM_FAILED:
    cd_log(CD_LOG_DEBUG, "http: write error: %s", why ? why : "connection closed");
    conn_close(c);
    return;
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

static void conn_respond(struct conn *c, struct cd_http_reply r)
{
  size_t body_len = r.body ? (r.body_len ? r.body_len : strlen(r.body)) : 0;
  size_t extra = r.headers ? strlen(r.headers) : 0;
  char head[512];
  /* An answer without a body and without a type says no type. */
  bool typed = r.content_type != NULL || body_len > 0;
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\n"
                   "%s%s%s"
                   "Content-Length: %zu\r\n"
                   "%s%s%s"
                   "Connection: %s\r\n",
                   r.status, r.phrase, typed ? "Content-Type: " : "",
                   typed ? (r.content_type ? r.content_type : "application/json") : "", typed ? "\r\n" : "",
                   body_len, r.allow ? "Allow: " : "", r.allow ? r.allow : "",
                   r.allow ? "\r\n" : "", c->close_after ? "close" : "keep-alive");
  if (n < 0 || (size_t)n >= sizeof head)
    n = 0;
  c->out = malloc((size_t)n + extra + 2 + body_len);
  if (c->out == NULL || n == 0) {
    free(r.body);
    free(r.headers);
    free(c->out);
    c->out = NULL;
    conn_close(c);
    return;
  }
  memcpy(c->out, head, (size_t)n);
  if (extra)
    memcpy(c->out + n, r.headers, extra);
  memcpy(c->out + n + extra, "\r\n", 2);
  n += (int)extra + 2;
  free(r.headers);
  if (body_len)
    memcpy(c->out + n, r.body, body_len);
  c->out_len = (size_t)n + body_len;
  c->out_sent = 0;
  free(r.body);
  conn_flush(c);
}

void cd_http_respond(struct cd_http_request *req, struct cd_http_reply reply)
{
  struct conn *c = req->conn;
  free(req);
  if (c == NULL) {
    free(reply.body);
    free(reply.headers);
    return;
  }
  c->pending = NULL;
  conn_respond(c, reply);
  /* Requests that arrived behind this one. */
  if (!c->dead && !c->out && c->msg && !conn_process(c))
    conn_close(c);
  if (c->dead)
    conn_free(c);
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
  struct cd_http_server *h = c->http;
  if (c->pending) {
    c->pending->conn = NULL;   /* the late answer will find nobody */
    c->pending = NULL;
  }
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
  while (c->msg && c->out == NULL && c->pending == NULL) {
    int r = msg_extract(c->msg);
    bool too_large = msg_get_flags(c->msg, MSG_FLG_TOOLARGE) != 0;
    if (r == 0 && !too_large)
      return true;   /* need more bytes */
    http_t *http = http_object(c->msg);
    if (r < 0 || too_large || http == NULL || http->http_request == NULL ||
        msg_get_flags(c->msg, MSG_FLG_ERROR)) {
      c->http->bad_requests++;
      c->close_after = true;
      msg_destroy(c->msg);
      c->msg = NULL;
      conn_respond(c, too_large
                   ? cd_http_json_error(400, "Bad Request", "request too large")
                   : cd_http_json_error(400, "Bad Request", "malformed HTTP request"));
      return !c->dead;   /* still sending the answer: close after it */
    }
    c->close_after = http->http_request->rq_version != http_version_1_1 ||
                     (http->http_connection && http->http_connection->k_items &&
                      http->http_connection->k_items[0] &&
                      strcasecmp(http->http_connection->k_items[0], "close") == 0);
    struct cd_http_request *req = calloc(1, sizeof *req);
    if (req == NULL)
      return false;
    req->conn = c;
    req->family = c->family;
    memcpy(req->addr, c->addr, sizeof req->addr);
    memcpy(req->addr_text, c->addr_text, sizeof req->addr_text);
    c->pending = req;
    struct cd_http_reply reply = c->http->handler(c->http->ctx, req, http);
    msg_t *next = msg_next(c->msg);
    msg_destroy(c->msg);
    c->msg = next;
    if (reply.status == 0) {
      conn_want(c, 0);   /* read nothing more until the answer is out */
      return true;
    }
    c->pending = NULL;
    free(req);
    conn_respond(c, reply);
    if (c->dead)
      return false;
  }
  return true;
}

static bool conn_read(struct conn *c)
{
  for (int rounds = 0; rounds < 16 && c->out == NULL && c->pending == NULL; rounds++) {
    if (c->msg == NULL) {
      c->msg = msg_create(http_default_mclass(), 0);
      if (c->msg == NULL)
        return false;
      msg_maxsize(c->msg, c->http->max_request);
    }
    msg_iovec_t vec[4];
    issize_t veclen = msg_recv_iovec(c->msg, vec, 4, 4096, 0);
    if (veclen < 0) {
      msg_mark_as_complete(c->msg, MSG_FLG_TOOLARGE);
      return conn_process(c);
    }
    size_t n = 0;
    const char *why = NULL;
    switch (cd_stream_read(c->fd, c->ssl, vec[0].mv_base, vec[0].mv_len, &n, &why)) {
    case CD_STREAM_OK:
      break;
    case CD_STREAM_WANT_IN:
      return true;
    case CD_STREAM_WANT_OUT:
      conn_want(c, SU_WAIT_OUT);
      return true;
    case CD_STREAM_FAILED:
      cd_log(CD_LOG_DEBUG, "http: read error: %s", why);
      return false;
    case CD_STREAM_EOF:
      return false;
    }
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

/* Where the connection comes from, for handlers that trust some peers. */
static void peer_address(struct conn *c, const struct sockaddr_storage *peer)
{
  static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  if (peer->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)peer;
    c->family = 4;
    memcpy(c->addr, &in->sin_addr, 4);
  } else if (peer->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)peer;
    if (memcmp(in6->sin6_addr.s6_addr, mapped, 12) == 0) {
      c->family = 4;
      memcpy(c->addr, in6->sin6_addr.s6_addr + 12, 4);
    } else {
      c->family = 6;
      memcpy(c->addr, in6->sin6_addr.s6_addr, 16);
    }
  }
  if (c->family == 0 || inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, c->addr_text,
                                  sizeof c->addr_text) == NULL)
    c->addr_text[0] = '\0';
}

int cd_http_request_peer(const struct cd_http_request *req, unsigned char addr[16])
{
  memcpy(addr, req->addr, 16);
  return req->family;
}

const char *cd_http_request_peer_text(const struct cd_http_request *req)
{
  return req->addr_text;
}

static int accept_event(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
  (void)magic; (void)w;
  struct cd_http_server *h = (struct cd_http_server *)arg;
  for (int i = 0; i < 64; i++) {
    struct sockaddr_storage peer;
    socklen_t peer_len = sizeof peer;
    int fd = accept4(h->listen_fd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
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
    peer_address(c, &peer);
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

static SSL_CTX *tls_context(const struct cd_http_listen *q)
{
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == NULL)
    return NULL;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, q->certificate) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, q->key, SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    cd_log(CD_LOG_ERROR, "%s: cannot use TLS certificate %s / key %s: %s", q->url, q->certificate, q->key,
           ERR_reason_error_string(ERR_get_error()));
    SSL_CTX_free(ctx);
    return NULL;
  }
  if (q->client_ca) {
    if (SSL_CTX_load_verify_locations(ctx, q->client_ca, NULL) != 1) {
      cd_log(CD_LOG_ERROR, "%s: cannot load client CA %s: %s", q->url, q->client_ca,
             ERR_reason_error_string(ERR_get_error()));
      SSL_CTX_free(ctx);
      return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
  }
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

static int listen_socket(const struct cd_http_listen *q)
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

struct cd_http_server *cd_http_server_start(su_root_t *root, const struct cd_http_listen *q,
                                            cd_http_handler handler, void *ctx)
{
  struct cd_http_server *h = calloc(1, sizeof *h);
  if (h == NULL)
    return NULL;
  h->root = root;
  h->handler = handler;
  h->ctx = ctx;
  h->max_request = q->max_body + MAX_HEADERS;
  h->listen_fd = -1;
  h->reg = -1;
  if (q->tls && (h->tls = tls_context(q)) == NULL)
    goto fail;
  h->listen_fd = listen_socket(q);
  if (h->listen_fd < 0) {
    cd_log(CD_LOG_ERROR, "cannot listen on %s: %s", q->url, strerror(errno));
    goto fail;
  }
  su_wait_create(h->wait, h->listen_fd, SU_WAIT_ACCEPT);
  h->reg = su_root_register(root, h->wait, accept_event, h, 0);
  if (h->reg < 0)
    goto fail;
  cd_log(CD_LOG_NOTICE, "HTTP endpoint on %s%s", q->url,
         q->client_ca ? " (client certificates required)" : "");
  return h;
fail:
  cd_http_server_destroy(h);
  return NULL;
}

void cd_http_server_destroy(struct cd_http_server *h)
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
  free(h);
}
