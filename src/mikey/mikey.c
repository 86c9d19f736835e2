/*
 * mikey.c - MIKEY message framing (RFC 3830 §6.1 and §6, RFC 6043 §6.1
 * and Appendix A.3): the common header HDR with its crypto-session maps,
 * the Next Payload chains and where each may appear, the ticket header
 * THDR, finding payloads in a chain, and the encoder that links a chain
 * as payloads are added. Each payload's own fields are mikey_payload.c;
 * both implement mikey.h.
 *
 * Design: a decoder is a cursor (bytes.h's reader) whose every read
 * checks the remaining length first, so malformed input - a truncated
 * field, a length running past the end, an unknown or misplaced Next
 * Payload value, a chain that never reaches Last, trailing bytes, an
 * identity over 255 bytes, a message over 64 KiB - ends in MK_DEC_ERR with
 * a static reason and never in a read out of bounds. A chain cannot loop:
 * each payload starts where the previous one ended, and the number of
 * payloads is capped at MK_MAX_PAYLOADS. Since MIKEY payloads carry no
 * generic length, the chain walker hands each payload to its decoder by
 * type (mk_payload_decode), after checking the type is allowed where it
 * stands (allowed()). The encoder appends into a growable buffer
 * (bytes.h's writer, at most 64 KiB) and records where the pending Next
 * Payload field is (mk_enc_begin), so the chain is linked as payloads are
 * added.
 */
#include "mikey/mikey.h"

#include <string.h>

#include "mikey/bytes.h"
#include "mikey/mikey_private.h"

/* ---------------------------------------------------------------- HDR */

static bool dec_cs_srtp(struct mk_reader *c, struct mk_hdr *h)
{
  for (unsigned i = 0; i < h->n_cs; i++) {
    struct mk_cs *cs = &h->cs[i];
    cs->cs_id = (uint8_t)(i + 1);     /* RFC 3830 §6.1.1: the i-th stream is CS i */
    cs->prot_type = MK_PROT_SRTP;
    cs->policy_no = mk_get_u8(c);
    cs->ssrc = mk_get_u32(c);
    cs->roc = mk_get_u32(c);
  }
  return !c->why;
}

static bool dec_cs_generic(struct mk_reader *c, struct mk_hdr *h)
{
  for (unsigned i = 0; i < h->n_cs && !c->why; i++) {
    struct mk_cs *cs = &h->cs[i];
    cs->cs_id = mk_get_u8(c);
    cs->prot_type = mk_get_u8(c);
    uint8_t sp = mk_get_u8(c);
    cs->s = sp & 0x80;
    cs->n_policies = sp & 0x7F;
    cs->policies = mk_get_bytes(c, cs->n_policies);
    cs->session_data_len = mk_get_u16(c);
    cs->session_data = mk_get_bytes(c, cs->session_data_len);
    cs->spi_len = mk_get_u8(c);
    cs->spi = mk_get_bytes(c, cs->spi_len);
  }
  return !c->why;
}

static bool dec_hdr(struct mk_reader *c, struct mk_hdr *h)
{
  memset(h, 0, sizeof *h);
  h->version = mk_get_u8(c);
  h->data_type = mk_get_u8(c);
  h->next = mk_get_u8(c);
  uint8_t vp = mk_get_u8(c);
  h->v = vp & 0x80;
  h->prf = vp & 0x7F;
  h->csb_id = mk_get_u32(c);
  h->n_cs = mk_get_u8(c);
  h->map_type = mk_get_u8(c);
  if (c->why)
    return false;
  if (h->version != MK_VERSION)
    return mk_read_fail(c, "unsupported MIKEY version");
  if (h->n_cs > MK_MAX_CS)
    return mk_read_fail(c, "too many crypto sessions");
  switch (h->map_type) {
  case MK_MAP_SRTP_ID: return dec_cs_srtp(c, h);
  case MK_MAP_GENERIC_ID: return dec_cs_generic(c, h);
  case MK_MAP_EMPTY: return true;    /* RFC 4563: no map info */
  default: return mk_read_fail(c, "unknown CS ID map type");
  }
}

/* ---------------------------------------------------------------- chains */

/* Which payload types a context admits (decoding needs to know them all:
 * MIKEY has no generic payload length to skip an unknown one). */
static bool allowed(enum mk_ctx ctx, uint8_t type)
{
  switch (ctx) {
  case MK_CTX_MSG:
    return type == MK_PT_KEMAC || type == MK_PT_T || type == MK_PT_V || type == MK_PT_SP
        || type == MK_PT_RAND || type == MK_PT_ERR || type == MK_PT_TR || type == MK_PT_IDR
        || type == MK_PT_RANDR || type == MK_PT_TP || type == MK_PT_TICKET
        || type == MK_PT_EXT;
  case MK_CTX_TP_DATA:
    return type == MK_PT_IDR || type == MK_PT_TR || type == MK_PT_T || type == MK_PT_KEMAC
        || type == MK_PT_RAND || type == MK_PT_RANDR || type == MK_PT_EXT;
  case MK_CTX_TICKET_DATA:
    return type == MK_PT_T || type == MK_PT_RAND || type == MK_PT_KEMAC || type == MK_PT_IDR
        || type == MK_PT_V || type == MK_PT_EXT;
  case MK_CTX_INIT_DATA:
    return type == MK_PT_V || type == MK_PT_EXT;
  case MK_CTX_KEMAC_DATA:
    return type == MK_PT_KEYDATA;
  }
  return false;
}

/* Walks a chain from `first` until Next Payload = Last, which must be the
 * last byte-wise too (no trailing garbage). */
static bool dec_chain(struct mk_reader *c, uint8_t first, enum mk_ctx ctx, size_t base,
                      struct mk_chain *out)
{
  uint8_t type = first;
  out->n = 0;
  while (type != MK_PT_LAST) {
    if (!allowed(ctx, type))
      return mk_read_fail(c, "unexpected next payload");
    if (out->n == MK_MAX_PAYLOADS)
      return mk_read_fail(c, "too many payloads");
    if (c->pos == c->len)
      return mk_read_fail(c, "payload chain not terminated");
    struct mk_payload *p = &out->p[out->n];
    if (!mk_payload_decode(c, type, p))
      return false;
    p->off += base;
    out->n++;
    type = p->next;
    bool v_last = ctx == MK_CTX_MSG || ctx == MK_CTX_TICKET_DATA;
    if (v_last && p->type == MK_PT_V && type != MK_PT_LAST)
      return mk_read_fail(c, "verification payload is not last");
  }
  if (c->pos != c->len)
    return mk_read_fail(c, "trailing bytes after the last payload");
  return true;
}

/* Starts reading a whole input of at most 64 KiB; `empty`, when not NULL,
 * is the reason to refuse an empty one. False when it cannot be read. */
static bool open_input(struct mk_reader *c, const unsigned char *buf, size_t len,
                       const char *empty)
{
  mk_reader_init(c, buf, len);
  if (empty && (!buf || len == 0))
    return mk_read_fail(c, empty);
  if (!buf && len)
    return mk_read_fail(c, "no input");
  if (len > MK_MSG_MAX)
    return mk_read_fail(c, "longer than 64 KiB");
  return true;
}

/* The public decoders' result: 0, or MK_DEC_ERR with *why. */
static int input_result(const struct mk_reader *c, const char **why)
{
  if (why)
    *why = c->why;
  return c->why ? MK_DEC_ERR : 0;
}

int mk_decode_chain(const unsigned char *buf, size_t len, uint8_t first, enum mk_ctx ctx,
                    size_t base, struct mk_chain *out, const char **why)
{
  struct mk_reader c;
  if (open_input(&c, buf, len, NULL))
    dec_chain(&c, first, ctx, base, out);
  return input_result(&c, why);
}

int mk_decode_first_chain(const unsigned char *buf, size_t len, enum mk_ctx ctx, size_t base,
                          struct mk_chain *out, const char **why)
{
  if (len == 0) {
    out->n = 0;
    return 0;
  }
  if (!buf) {
    if (why)
      *why = "no input";
    return MK_DEC_ERR;
  }
  /* the "First Payload" byte names the first payload; it must not be Last
   * when payloads follow (checked by dec_chain's trailing-byte rule) */
  return mk_decode_chain(buf + 1, len - 1, buf[0], ctx, base + 1, out, why);
}

int mk_decode_ticket_data(const unsigned char *buf, size_t len, size_t base,
                          struct mk_payload *thdr, struct mk_chain *out, const char **why)
{
  struct mk_reader c;
  memset(thdr, 0, sizeof *thdr);
  open_input(&c, buf, len, "empty ticket data");
  thdr->type = MK_PT_THDR;
  thdr->next = mk_get_u8(&c);
  thdr->u.thdr.len = mk_get_u16(&c);
  thdr->u.thdr.data = mk_get_bytes(&c, thdr->u.thdr.len);
  if (!c.why) {
    thdr->raw = buf;
    thdr->len = c.pos;
    thdr->off = base;
    dec_chain(&c, thdr->next, MK_CTX_TICKET_DATA, base, out);
  }
  return input_result(&c, why);
}

int mk_decode(const unsigned char *buf, size_t len, struct mk_msg *msg, const char **why)
{
  struct mk_reader c;
  memset(msg, 0, sizeof *msg);
  if (open_input(&c, buf, len, "empty message") && dec_hdr(&c, &msg->hdr)) {
    msg->hdr_len = c.pos;
    dec_chain(&c, msg->hdr.next, MK_CTX_MSG, 0, &msg->pl);
  }
  msg->buf = buf;
  msg->len = len;
  return input_result(&c, why);
}

static int role_of(const struct mk_payload *p)
{
  switch (p->type) {
  case MK_PT_IDR: return p->u.idr.role;
  case MK_PT_RANDR: return p->u.rand.role;
  case MK_PT_TR: return p->u.t.role;
  default: return -1;
  }
}

size_t mk_count(const struct mk_chain *c, uint16_t type, int role)
{
  size_t n = 0;
  for (size_t i = 0; i < c->n; i++)
    if (c->p[i].type == type && (role < 0 || role_of(&c->p[i]) == role))
      n++;
  return n;
}

int mk_find(const struct mk_chain *c, uint16_t type, int role, const struct mk_payload **out)
{
  const struct mk_payload *found = NULL;
  for (size_t i = 0; i < c->n; i++) {
    if (c->p[i].type != type || (role >= 0 && role_of(&c->p[i]) != role))
      continue;
    if (found)
      return MK_DEC_ERR;
    found = &c->p[i];
  }
  *out = found;
  return found ? 1 : 0;
}

/* ---------------------------------------------------------------- encoder */

void mk_enc_init(struct mk_enc *e)
{
  memset(e, 0, sizeof *e);
  mk_writer_heap(&e->w, MK_MSG_MAX);
}

void mk_enc_free(struct mk_enc *e)
{
  mk_writer_free(&e->w);
  mk_enc_init(e);
}

void mk_enc_fail(struct mk_enc *e)
{
  mk_writer_fail(&e->w);
}

/* Links the new payload into the chain; its own Next Payload byte (the
 * first byte, written as 0 here) becomes the pending slot (mikey_private.h). */
void mk_enc_begin(struct mk_enc *e, uint16_t type)
{
  if (e->w.failed)
    return;
  if (e->has_np)
    e->w.p[e->np_off] = (unsigned char)type;
  e->np_off = e->w.len;
  e->has_np = true;
  mk_put_u8(&e->w, 0);
}

static void enc_cs(struct mk_enc *e, const struct mk_hdr *h)
{
  for (unsigned i = 0; i < h->n_cs && i < MK_MAX_CS; i++) {
    const struct mk_cs *cs = &h->cs[i];
    if (h->map_type == MK_MAP_SRTP_ID) {
      mk_put_u8(&e->w, cs->policy_no);
      mk_put_u32(&e->w, cs->ssrc);
      mk_put_u32(&e->w, cs->roc);
    } else if (h->map_type == MK_MAP_GENERIC_ID) {
      if (cs->n_policies > 0x7F)
        mk_writer_fail(&e->w);
      mk_put_u8(&e->w, cs->cs_id);
      mk_put_u8(&e->w, cs->prot_type);
      mk_put_u8(&e->w, (uint8_t)((cs->s ? 0x80 : 0) | (cs->n_policies & 0x7F)));
      mk_put(&e->w, cs->policies, cs->n_policies);
      mk_put_u16(&e->w, cs->session_data_len);
      mk_put(&e->w, cs->session_data, cs->session_data_len);
      mk_put_u8(&e->w, cs->spi_len);
      mk_put(&e->w, cs->spi, cs->spi_len);
    }
  }
}

void mk_enc_hdr(struct mk_enc *e, const struct mk_hdr *h)
{
  if (h->n_cs > MK_MAX_CS || h->prf > 0x7F)
    mk_writer_fail(&e->w);
  mk_put_u8(&e->w, h->version);
  mk_put_u8(&e->w, h->data_type);
  e->np_off = e->w.len;
  e->has_np = true;
  mk_put_u8(&e->w, 0);
  mk_put_u8(&e->w, (uint8_t)((h->v ? 0x80 : 0) | (h->prf & 0x7F)));
  mk_put_u32(&e->w, h->csb_id);
  mk_put_u8(&e->w, h->n_cs);
  mk_put_u8(&e->w, h->map_type);
  if (h->map_type != MK_MAP_SRTP_ID && h->map_type != MK_MAP_GENERIC_ID
      && h->map_type != MK_MAP_EMPTY)
    mk_writer_fail(&e->w);
  enc_cs(e, h);
}

void mk_enc_first(struct mk_enc *e)
{
  if (e->w.failed)
    return;
  e->np_off = e->w.len;
  e->has_np = true;
  mk_put_u8(&e->w, 0);
}

void mk_enc_thdr(struct mk_enc *e, const unsigned char *data, uint16_t len)
{
  e->has_np = false;                 /* THDR is first by position */
  mk_enc_begin(e, MK_PT_THDR);
  mk_put_u16(&e->w, len);
  mk_put(&e->w, data, len);
}

void mk_enc_raw(struct mk_enc *e, uint16_t type, const unsigned char *payload, size_t len)
{
  if (!payload || len == 0) {
    mk_writer_fail(&e->w);
    return;
  }
  mk_enc_begin(e, type);
  mk_put(&e->w, payload + 1, len - 1);
}

int mk_enc_finish(struct mk_enc *e, unsigned char **out, size_t *out_len)
{
  if (!e->w.failed && e->has_np && e->w.p)
    e->w.p[e->np_off] = MK_PT_LAST;
  int rc = mk_writer_take(&e->w, out, out_len);
  mk_enc_init(e);
  return rc;
}
