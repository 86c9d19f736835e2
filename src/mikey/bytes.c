/*
 * bytes.c - the bounded big-endian writer and reader of bytes.h.
 *
 * Design: the writer checks the bound before it touches memory, grows a
 * heap buffer by doubling from 256 bytes (a typical MIKEY message fits in
 * one or two steps), and moves to a larger block by hand rather than with
 * realloc so that the old block can be wiped: encoders write keys (KEMAC
 * plaintext, the UE's state). The reader is the decoder's cursor: a
 * length check before every access, nothing else.
 */
#include "mikey/bytes.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define FIRST_CAP 256

void mk_writer_heap(struct mk_writer *w, size_t max)
{
  memset(w, 0, sizeof *w);
  w->max = max;
  w->heap = true;
}

void mk_writer_fixed(struct mk_writer *w, unsigned char *buf, size_t cap)
{
  memset(w, 0, sizeof *w);
  w->p = buf;
  w->cap = w->max = cap;
}

void mk_writer_fail(struct mk_writer *w)
{
  w->failed = true;
}

void mk_writer_free(struct mk_writer *w)
{
  if (w->heap) {
    if (w->p)
      OPENSSL_cleanse(w->p, w->cap);
    free(w->p);
    w->p = NULL;
    w->cap = 0;
  }
  w->len = 0;
  w->failed = false;
}

int mk_writer_take(struct mk_writer *w, unsigned char **out, size_t *out_len)
{
  if (w->failed || !w->heap || !w->p) {
    mk_writer_free(w);
    return -1;
  }
  *out = w->p;
  *out_len = w->len;
  w->p = NULL;
  mk_writer_free(w);
  return 0;
}

/* Makes room for n more bytes of a heap buffer. */
static bool grow(struct mk_writer *w, size_t n)
{
  size_t cap = w->cap ? w->cap : FIRST_CAP;
  while (cap < w->len + n)
    cap *= 2;
  unsigned char *q = malloc(cap);
  if (!q)
    return false;
  if (w->len)
    memcpy(q, w->p, w->len);
  if (w->p) {
    OPENSSL_cleanse(w->p, w->cap);
    free(w->p);
  }
  w->p = q;
  w->cap = cap;
  return true;
}

void mk_put(struct mk_writer *w, const void *p, size_t n)
{
  if (w->failed)
    return;
  if (n > w->max - w->len) {
    w->failed = true;
    return;
  }
  if (w->len + n > w->cap && (!w->heap || !grow(w, n))) {
    w->failed = true;
    return;
  }
  if (n)
    memcpy(w->p + w->len, p, n);
  w->len += n;
}

void mk_put_u8(struct mk_writer *w, uint8_t v)
{
  mk_put(w, &v, 1);
}

void mk_put_u16(struct mk_writer *w, uint16_t v)
{
  unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };
  mk_put(w, b, sizeof b);
}

void mk_put_u32(struct mk_writer *w, uint32_t v)
{
  unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
                         (unsigned char)(v >> 8), (unsigned char)v };
  mk_put(w, b, sizeof b);
}

void mk_put_u64(struct mk_writer *w, uint64_t v)
{
  mk_put_u32(w, (uint32_t)(v >> 32));
  mk_put_u32(w, (uint32_t)v);
}

/* ---------------------------------------------------------------- reader */

void mk_reader_init(struct mk_reader *r, const unsigned char *buf, size_t len)
{
  r->b = buf;
  r->len = len;
  r->pos = 0;
  r->why = NULL;
}

bool mk_read_fail(struct mk_reader *r, const char *why)
{
  if (!r->why)
    r->why = why;
  return false;
}

/* True when n more bytes can be read. */
static bool need(struct mk_reader *r, size_t n)
{
  if (r->why)
    return false;
  if (n > r->len - r->pos)
    return mk_read_fail(r, "truncated payload");
  return true;
}

uint8_t mk_get_u8(struct mk_reader *r)
{
  if (!need(r, 1))
    return 0;
  return r->b[r->pos++];
}

uint16_t mk_get_u16(struct mk_reader *r)
{
  if (!need(r, 2))
    return 0;
  uint16_t v = (uint16_t)(r->b[r->pos] << 8 | r->b[r->pos + 1]);
  r->pos += 2;
  return v;
}

uint32_t mk_get_u32(struct mk_reader *r)
{
  if (!need(r, 4))
    return 0;
  uint32_t v = (uint32_t)r->b[r->pos] << 24 | (uint32_t)r->b[r->pos + 1] << 16
             | (uint32_t)r->b[r->pos + 2] << 8 | r->b[r->pos + 3];
  r->pos += 4;
  return v;
}

const unsigned char *mk_get_bytes(struct mk_reader *r, size_t n)
{
  if (!need(r, n))
    return NULL;
  const unsigned char *p = r->b + r->pos;
  r->pos += n;
  return p;
}
