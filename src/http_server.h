/*
 * http.h - the HTTP(S) listener of cdivas: the KMS inquiry endpoint,
 * /metrics and /health (doc/inquiry-api.md).
 *
 * Requests are parsed by Sofia-SIP's HTTP message parser (msg + the http
 * mclass), fed from sockets cdivas accepts itself in the same su_root, so
 * TLS is done here with OpenSSL: the certificate, key and client CA come
 * straight from the conf. (Sofia-SIP's nth server cannot do this: it binds
 * its TLS transport without the certificate tags and loads
 * $HOME/.sip/auth instead.)
 */
#ifndef CDIVAS_HTTP_H
#define CDIVAS_HTTP_H

#include <stddef.h>
#include <sofia-sip/su_wait.h>

struct cd_proxy;
struct cd_http;

/* Listens on conf->inquiry.listen. Returns NULL after logging why. */
struct cd_http *cd_http_start(su_root_t *root, struct cd_proxy *proxy);

/* Closes the listener and every connection. */
void cd_http_destroy(struct cd_http *http);

#endif
