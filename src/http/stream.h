/*
 * stream.h - one non-blocking read or write on a connected socket, plain
 * or TLS (OpenSSL), for the HTTP server and client. It exists so that
 * both handle EAGAIN and TLS's WANT_READ / WANT_WRITE (a TLS read may have
 * to write, and a write to read, during a renegotiation) the one way.
 */
#ifndef CDIVAS_HTTP_STREAM_H
#define CDIVAS_HTTP_STREAM_H

#include <stddef.h>
#include <openssl/ssl.h>

enum cd_stream_io {
  CD_STREAM_OK,        /* read some bytes / wrote everything */
  CD_STREAM_EOF,       /* the peer closed (a TLS close_notify or a FIN) */
  CD_STREAM_WANT_IN,   /* would block: wait until readable, then call again */
  CD_STREAM_WANT_OUT,  /* would block: wait until writable, then call again */
  CD_STREAM_FAILED     /* *why says what went wrong */
};

/* Reads at most `cap` (> 0) bytes from `ssl` when not NULL, else from `fd`;
 * on CD_STREAM_OK *got is at least 1. */
enum cd_stream_io cd_stream_read(int fd, SSL *ssl, void *buf, size_t cap, size_t *got,
                                 const char **why);

/* Writes out[*sent .. len) as far as it goes without blocking, advancing
 * *sent; CD_STREAM_OK once all of it is written. */
enum cd_stream_io cd_stream_write(int fd, SSL *ssl, const char *out, size_t len, size_t *sent,
                                  const char **why);

#endif
