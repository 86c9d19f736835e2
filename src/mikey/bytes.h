/*
 * bytes.h - bounded big-endian byte buffers, the one place where MIKEY
 * data is turned into bytes and back: the message codec (mikey.c,
 * mikey_payload.c), the key derivation labels (mikey_crypto.c), the
 * initiator's state (mikey_ticket_state.c) and the replay tag
 * (mikey_ticket_resolve.c).
 *
 * Design: MIKEY (RFC 3830 §6) writes every integer in network byte order
 * and bounds every field by the length before it, so two small types do
 * all the work: a writer that appends and a reader that consumes. Both
 * keep a sticky failure instead of returning an error from each call: a
 * caller writes or reads a whole structure and checks once at the end,
 * and nothing after the first failure is written or read.
 *
 *   writer  mk_writer_heap(): a growable malloc'd buffer of at most `max`
 *           bytes (MK_MSG_MAX for messages); mk_writer_fixed(): the
 *           caller's array, never reallocated. Fails on overflow or out
 *           of memory. Growing copies into a fresh block and wipes the
 *           old one, and freeing wipes too, so keys being encoded never
 *           linger in freed memory.
 *   reader  a cursor over const bytes; every read checks the remaining
 *           length first and fails with "truncated payload" rather than
 *           read past the end. Pointers it returns point into the input.
 */
#ifndef CDIVAS_MIKEY_BYTES_H
#define CDIVAS_MIKEY_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- writer */

struct mk_writer {
  unsigned char *p;
  size_t len;
  size_t cap;              /* bytes allocated (heap) or available (fixed) */
  size_t max;              /* len never exceeds this */
  bool heap;               /* p is malloc'd and ours, else the caller's */
  bool failed;             /* overflow, out of memory or mk_writer_fail() */
};

/* A growable buffer holding at most `max` bytes; nothing is allocated
 * until the first byte is written. */
void mk_writer_heap(struct mk_writer *w, size_t max);

/* Writes into buf[0..cap). */
void mk_writer_fixed(struct mk_writer *w, unsigned char *buf, size_t cap);

/* Marks the writer failed (a caller's own check did not hold). */
void mk_writer_fail(struct mk_writer *w);

/* Wipes and frees a heap buffer and empties the writer; a fixed one is
 * only emptied (its array is the caller's to wipe). */
void mk_writer_free(struct mk_writer *w);

/* Hands a heap buffer over: 0 with *out (caller frees) and *out_len, or
 * -1 when the writer failed or holds nothing; the writer is emptied. */
int mk_writer_take(struct mk_writer *w, unsigned char **out, size_t *out_len);

/* Appends n bytes (p may be NULL when n is 0). */
void mk_put(struct mk_writer *w, const void *p, size_t n);
void mk_put_u8(struct mk_writer *w, uint8_t v);
void mk_put_u16(struct mk_writer *w, uint16_t v);
void mk_put_u32(struct mk_writer *w, uint32_t v);
void mk_put_u64(struct mk_writer *w, uint64_t v);

/* ---------------------------------------------------------------- reader */

struct mk_reader {
  const unsigned char *b;
  size_t len, pos;
  const char *why;         /* the first failure, NULL while all is well */
};

void mk_reader_init(struct mk_reader *r, const unsigned char *buf, size_t len);

/* Records `why` unless an earlier failure is recorded; returns false so
 * that a check can end with `return mk_read_fail(r, "...")`. */
bool mk_read_fail(struct mk_reader *r, const char *why);

/* Reads return 0 (or NULL) once the reader has failed. */
uint8_t mk_get_u8(struct mk_reader *r);
uint16_t mk_get_u16(struct mk_reader *r);
uint32_t mk_get_u32(struct mk_reader *r);

/* The next n bytes, skipped; NULL when fewer are left. */
const unsigned char *mk_get_bytes(struct mk_reader *r, size_t n);

#endif
