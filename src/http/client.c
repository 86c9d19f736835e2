/*
 * http_client.c - asynchronous HTTP(S) POST (see http_client.h).
 *
 * connect() is non-blocking, TLS is driven by OpenSSL's WANT_READ /
 * WANT_WRITE, and the whole exchange has one deadline timer. The request
 * is small and written from one buffer; the response is fed to a
 * Sofia-SIP HTTP msg_t until msg_extract() says it is complete (or the
 * server closed the connection).
 */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdbool.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/http.h>
#include <sofia-sip/http_header.h>
#include "http/client.h"
#include "http/stream.h"

#define MAX_RESPONSE 65536

struct exchange {
  su_root_t *root;
  cd_http_post_done done;
  void *ctx;
  int fd;
  su_wait_t wait[1];
  int reg;
  su_timer_t *deadline;
  SSL_CTX *tls_ctx;
  SSL *ssl;
  char *out;
  size_t out_len, out_sent;
  bool connected;
  msg_t *msg;
};

static void exchange_free(struct exchange *x)
{
  if (x->reg >= 0)
    su_root_deregister(x->root, x->reg);
  if (x->deadline)
    su_timer_destroy(x->deadline);
  if (x->ssl)
    SSL_free(x->ssl);
  if (x->tls_ctx)
    SSL_CTX_free(x->tls_ctx);
  if (x->fd >= 0)
    close(x->fd);
  if (x->msg)
    msg_destroy(x->msg);
  free(x->out);
  free(x);
}

static void finish(struct exchange *x, int status, const char *body, size_t len, const char *why)
{
  x->done(x->ctx, status, body, len, why);
  exchange_free(x);
}

static void want(struct exchange *x, int events)
{
  su_root_eventmask(x->root, x->reg, x->fd, events | SU_WAIT_ERR | SU_WAIT_HUP);
}

static void timed_out(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
  (void)m; (void)t;
  finish((struct exchange *)arg, -1, NULL, 0, "timeout");
}

/* Returns 1 when the response is complete (finished), 0 to wait, -1 after
 * finishing with an error. */
static int parse(struct exchange *x, bool eof)
{
  int r = msg_extract(x->msg);
  http_t *http = http_object(x->msg);
  if (r == 0 && !eof)
    return 0;
  if (r <= 0 && eof && http && http->http_status && !http->http_content_length) {
    /* A response delimited by the connection's end. */
    msg_mark_as_complete(x->msg, 0);
  } else if (r <= 0 || http == NULL || http->http_status == NULL ||
             msg_get_flags(x->msg, MSG_FLG_ERROR | MSG_FLG_TOOLARGE)) {
    finish(x, -1, NULL, 0, "malformed HTTP response");
    return -1;
  }
  const char *body = http->http_payload ? http->http_payload->pl_data : "";
  size_t len = http->http_payload ? http->http_payload->pl_len : 0;
  finish(x, http->http_status->st_status, body, len, NULL);
  return 1;
}

static void on_readable(struct exchange *x)
{
  for (;;) {
    msg_iovec_t vec[4];
    issize_t veclen = msg_recv_iovec(x->msg, vec, 4, 4096, 0);
    if (veclen < 0) {
      finish(x, -1, NULL, 0, "response too large");
      return;
    }
    size_t n = 0;
    const char *why = NULL;
    switch (cd_stream_read(x->fd, x->ssl, vec[0].mv_base, vec[0].mv_len, &n, &why)) {
    case CD_STREAM_OK:
    case CD_STREAM_EOF:
      break;
    case CD_STREAM_WANT_IN:
      return;
    case CD_STREAM_WANT_OUT:
      want(x, SU_WAIT_OUT);
      return;
    case CD_STREAM_FAILED:
      finish(x, -1, NULL, 0, why);
      return;
    }
    msg_recv_commit(x->msg, (usize_t)n, n == 0);
    if (parse(x, n == 0) != 0)
      return;
  }
}

static void on_writable(struct exchange *x)
{
  const char *why = NULL;
  switch (cd_stream_write(x->fd, x->ssl, x->out, x->out_len, &x->out_sent, &why)) {
  case CD_STREAM_OK:
  case CD_STREAM_WANT_IN:   /* all sent: the response; or TLS must read first */
    want(x, SU_WAIT_IN);
    return;
  case CD_STREAM_WANT_OUT:
    want(x, SU_WAIT_OUT);
    return;
  case CD_STREAM_EOF:
  case CD_STREAM_FAILED:
    finish(x, -1, NULL, 0, why ? why : "connection closed by the peer");
    return;
  }
}

static int on_event(su_root_magic_t *m, su_wait_t *w, su_wakeup_arg_t *arg)
{
  (void)m;
  struct exchange *x = (struct exchange *)arg;
  int events = su_wait_events(w, x->fd);
  if (!x->connected) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      finish(x, -1, NULL, 0, strerror(err));
      return 0;
    }
    x->connected = true;
  }
  if (x->out_sent < x->out_len)
    on_writable(x);
  else if (events & (SU_WAIT_IN | SU_WAIT_HUP | SU_WAIT_ERR))
    on_readable(x);
  return 0;
}

struct url_parts {
  bool tls;
  char host[256];
  char port[8];
  const char *path;
};

static const char *split_url(const char *url, struct url_parts *u)
{
  const char *rest;
  if (strncmp(url, "http://", 7) == 0)
    rest = url + 7, u->tls = false;
  else if (strncmp(url, "https://", 8) == 0)
    rest = url + 8, u->tls = true;
  else
    return "URL must start with http:// or https://";
  const char *host_end;
  const char *host = rest;
  if (*rest == '[') {
    host = rest + 1;
    host_end = strchr(host, ']');
    if (host_end == NULL)
      return "unterminated [IPv6] address in URL";
    rest = host_end + 1;
  } else {
    host_end = rest + strcspn(rest, ":/");
    rest = host_end;
  }
  if (host_end == host || (size_t)(host_end - host) >= sizeof u->host)
    return "bad host in URL";
  memcpy(u->host, host, (size_t)(host_end - host));
  u->host[host_end - host] = '\0';
  snprintf(u->port, sizeof u->port, "%s", u->tls ? "443" : "80");
  if (*rest == ':') {
    size_t n = strspn(rest + 1, "0123456789");
    if (n == 0 || n >= sizeof u->port)
      return "bad port in URL";
    memcpy(u->port, rest + 1, n);
    u->port[n] = '\0';
    rest += 1 + n;
  }
  u->path = *rest == '/' ? rest : "/";
  return NULL;
}

static const char *setup_tls(struct exchange *x, const struct cd_http_post *post, const char *host)
{
  x->tls_ctx = SSL_CTX_new(TLS_client_method());
  if (x->tls_ctx == NULL)
    return "cannot create a TLS context";
  SSL_CTX_set_min_proto_version(x->tls_ctx, TLS1_2_VERSION);
  if (post->ca_file == NULL || SSL_CTX_load_verify_locations(x->tls_ctx, post->ca_file, NULL) != 1)
    return "https needs a CA file to verify the server";
  SSL_CTX_set_verify(x->tls_ctx, SSL_VERIFY_PEER, NULL);
  if (post->certificate &&
      (SSL_CTX_use_certificate_chain_file(x->tls_ctx, post->certificate) != 1 ||
       SSL_CTX_use_PrivateKey_file(x->tls_ctx, post->key ? post->key : post->certificate,
                                   SSL_FILETYPE_PEM) != 1))
    return "cannot use the client certificate or key";
  x->ssl = SSL_new(x->tls_ctx);
  if (x->ssl == NULL || SSL_set_fd(x->ssl, x->fd) != 1)
    return "cannot create a TLS session";
  /* The server's certificate must name the host of the URL. */
  X509_VERIFY_PARAM *param = SSL_get0_param(x->ssl);
  unsigned char addr[16];
  if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
    X509_VERIFY_PARAM_set1_ip_asc(param, host);
  else {
    X509_VERIFY_PARAM_set1_host(param, host, 0);
    SSL_set_tlsext_host_name(x->ssl, host);
  }
  SSL_set_connect_state(x->ssl);
  return NULL;
}

int cd_http_post_start(su_root_t *root, const struct cd_http_post *post,
                       cd_http_post_done done, void *ctx, const char **why)
{
  struct url_parts u;
  const char *bad = split_url(post->url, &u);
  if (bad) {
    *why = bad;
    return -1;
  }
  struct exchange *x = calloc(1, sizeof *x);
  if (x == NULL) {
    *why = "out of memory";
    return -1;
  }
  x->root = root;
  x->done = done;
  x->ctx = ctx;
  x->fd = -1;
  x->reg = -1;

  struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                            .ai_flags = AI_NUMERICSERV };
  struct addrinfo *ai = NULL;
  /* Names are resolved here, blocking: the KMS and the UE tool are given
   * literal addresses in lab confs; a name costs one resolver lookup. */
  if (getaddrinfo(u.host, u.port, &hints, &ai) != 0 || ai == NULL) {
    *why = "cannot resolve the URL's host";
    goto fail;
  }
  x->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (x->fd < 0 || (connect(x->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)) {
    *why = strerror(errno);
    freeaddrinfo(ai);
    goto fail;
  }
  freeaddrinfo(ai);
  if (u.tls && (bad = setup_tls(x, post, u.host)) != NULL) {
    *why = bad;
    goto fail;
  }

  size_t cap = 1024 + post->body_len;
  for (const char *const *h = post->headers; h && *h; h++)
    cap += strlen(*h) + 2;
  x->out = malloc(cap);
  if (x->out == NULL) {
    *why = "out of memory";
    goto fail;
  }
  int n = snprintf(x->out, cap, "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: %s\r\n"
                   "Content-Length: %zu\r\nConnection: close\r\n",
                   u.path, u.host, u.port, post->content_type, post->body_len);
  for (const char *const *h = post->headers; h && *h; h++)
    n += snprintf(x->out + n, cap - (size_t)n, "%s\r\n", *h);
  n += snprintf(x->out + n, cap - (size_t)n, "\r\n");
  memcpy(x->out + n, post->body, post->body_len);
  x->out_len = (size_t)n + post->body_len;

  x->msg = msg_create(http_default_mclass(), 0);
  x->deadline = su_timer_create(su_root_task(root), post->timeout_ms);
  su_wait_create(x->wait, x->fd, SU_WAIT_OUT | SU_WAIT_ERR | SU_WAIT_HUP);
  x->reg = su_root_register(root, x->wait, on_event, x, 0);
  if (x->msg == NULL || x->deadline == NULL || x->reg < 0 ||
      su_timer_set(x->deadline, timed_out, x) < 0) {
    *why = "cannot start the exchange";
    goto fail;
  }
  msg_maxsize(x->msg, MAX_RESPONSE);
  return 0;
fail:
  exchange_free(x);
  return -1;
}
