/*
 * stream.c - non-blocking reads and writes, plain or TLS (see stream.h).
 */
#include "http/stream.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <openssl/err.h>

/* What SSL_get_error() says of a failed TLS call, as a stream result. */
static enum cd_stream_io tls_result(SSL *ssl, int ret, const char **why)
{
  switch (SSL_get_error(ssl, ret)) {
  case SSL_ERROR_WANT_READ:
    return CD_STREAM_WANT_IN;
  case SSL_ERROR_WANT_WRITE:
    return CD_STREAM_WANT_OUT;
  case SSL_ERROR_ZERO_RETURN:
    return CD_STREAM_EOF;
  default: {
    unsigned long err = ERR_get_error();
    const char *reason = err ? ERR_reason_error_string(err) : NULL;
    *why = reason ? reason : "TLS error";
    return CD_STREAM_FAILED;
  }
  }
}

enum cd_stream_io cd_stream_read(int fd, SSL *ssl, void *buf, size_t cap, size_t *got,
                                 const char **why)
{
  if (cap > INT_MAX)
    cap = INT_MAX;
  if (ssl) {
    int n = SSL_read(ssl, buf, (int)cap);
    if (n <= 0)
      return tls_result(ssl, n, why);
    *got = (size_t)n;
    return CD_STREAM_OK;
  }
  ssize_t n = recv(fd, buf, cap, 0);
  if (n == 0)
    return CD_STREAM_EOF;
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return CD_STREAM_WANT_IN;
    *why = strerror(errno);
    return CD_STREAM_FAILED;
  }
  *got = (size_t)n;
  return CD_STREAM_OK;
}

enum cd_stream_io cd_stream_write(int fd, SSL *ssl, const char *out, size_t len, size_t *sent,
                                  const char **why)
{
  while (*sent < len) {
    size_t left = len - *sent;
    if (left > INT_MAX)
      left = INT_MAX;
    if (ssl) {
      int n = SSL_write(ssl, out + *sent, (int)left);
      if (n <= 0) {
        enum cd_stream_io r = tls_result(ssl, n, why);
        if (r == CD_STREAM_EOF) {   /* closed while we still had to say something */
          *why = "connection closed by the peer";
          return CD_STREAM_FAILED;
        }
        return r;
      }
      *sent += (size_t)n;
    } else {
      ssize_t n = send(fd, out + *sent, left, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          return CD_STREAM_WANT_OUT;
        *why = strerror(errno);
        return CD_STREAM_FAILED;
      }
      *sent += (size_t)n;
    }
  }
  return CD_STREAM_OK;
}
