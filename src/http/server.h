/*
 * http_server.h - a small HTTP/1.1 server in the daemon's su_root, with
 * optional TLS (and client certificates), for cdivas's inquiry endpoint
 * and the reference KMS.
 *
 * Requests are parsed by Sofia-SIP's HTTP message parser (msg + the http
 * mclass), fed from sockets accepted here, so TLS is done with OpenSSL
 * with the certificate, key and client CA named in the conf. (Sofia-SIP's
 * nth server cannot: it binds its TLS transport without the certificate
 * tags and loads $HOME/.sip/auth instead.)
 *
 * A handler answers at once (a reply with status >= 100) or later: it
 * returns status 0 and calls cd_http_respond() when it knows the answer
 * (the KMS waits for the AS). A connection closed meanwhile makes that
 * call a no-op.
 */
#ifndef CDIVAS_HTTP_SERVER_H
#define CDIVAS_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/http.h>

struct cd_http_reply {
  int status;                /* 0: the handler answers later */
  const char *phrase;
  const char *content_type;
  void *body;                /* malloc'd (freed by the server), may be NULL */
  size_t body_len;           /* 0 with a body: strlen(body) */
  const char *allow;         /* for 405 */
  char *headers;             /* more header lines, each ending in CRLF: malloc'd (freed by
                                the server), may be NULL */
};

/* A request being answered later. */
struct cd_http_request;

typedef struct cd_http_reply (*cd_http_handler)(void *ctx, struct cd_http_request *req,
                                                http_t const *http);

struct cd_http_listen {
  const char *url;           /* for logs */
  const char *host;          /* literal address or name; [v6] accepted */
  int port;
  bool tls;
  const char *certificate;   /* PEM, with tls */
  const char *key;
  const char *client_ca;     /* NULL: no client certificate asked for */
  size_t max_body;           /* bodies above this are refused while arriving */
};

struct cd_http_server;

/* Listens; NULL after logging why. */
struct cd_http_server *cd_http_server_start(su_root_t *root, const struct cd_http_listen *listen,
                                            cd_http_handler handler, void *ctx);
void cd_http_server_destroy(struct cd_http_server *server);

/* The answer to a request whose handler returned status 0. */
void cd_http_respond(struct cd_http_request *req, struct cd_http_reply reply);

/* The address the request came from: 4 (IPv4, 4 bytes into addr) or 6
 * (16 bytes), 0 when unknown. An IPv4-mapped IPv6 address counts as IPv4. */
int cd_http_request_peer(const struct cd_http_request *req, unsigned char addr[16]);
/* The same as text, for logs ("" when unknown). */
const char *cd_http_request_peer_text(const struct cd_http_request *req);

/* {"error": message} with the given status. */
struct cd_http_reply cd_http_json_error(int status, const char *phrase, const char *message);

/* Number of requests that failed to parse (bad HTTP, too large). */
unsigned long cd_http_server_bad_requests(const struct cd_http_server *server);

#endif
