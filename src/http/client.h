/*
 * http_client.h - one asynchronous HTTP/1.1 POST in an su_root, over TCP
 * or TLS, with a deadline: the KMS's inquiry to an AS, and the UE tool's
 * requests to the KMS.
 *
 * The response is parsed by Sofia-SIP's HTTP message parser. The callback
 * runs exactly once: with the status and body, or with status -1 and a
 * reason (connection refused, TLS failure, timeout, unparsable answer). A
 * caller that fails closed treats -1 as a refusal.
 */
#ifndef CDIVAS_HTTP_CLIENT_H
#define CDIVAS_HTTP_CLIENT_H

#include <stddef.h>
#include <sofia-sip/su_wait.h>

struct cd_http_post {
  const char *url;             /* http://host:port/path or https://... */
  const char *content_type;
  const char *const *headers;  /* extra "Name: value" lines, NULL-terminated; may be NULL */
  const void *body;
  size_t body_len;
  int timeout_ms;
  const char *ca_file;         /* https: CA to verify the server with (required) */
  const char *certificate;     /* https: client certificate, or NULL */
  const char *key;
};

typedef void (*cd_http_post_done)(void *ctx, int status, const char *body, size_t len,
                                  const char *why);

/* Starts the request. Returns 0, or -1 when it cannot even start (the
 * callback is then not called; *why says why). */
int cd_http_post_start(su_root_t *root, const struct cd_http_post *post,
                       cd_http_post_done done, void *ctx, const char **why);

#endif
