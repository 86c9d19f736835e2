/*
 * mikey.c - the MIKEY codec of RFC 3830 §6 and RFC 6043 §6 / Appendix A.3
 * (see mikey.h for the payload list).
 *
 * Design: a decoder is a cursor (bytes.h's reader) whose every read
 * checks the remaining length first, so malformed input - a truncated
 * field, a length running past the end, an unknown or misplaced Next
 * Payload value, a chain that never reaches Last, trailing bytes, an
 * identity over 255 bytes, a message over 64 KiB - ends in MK_DEC_ERR with
 * a static reason and never in a read out of bounds. A chain cannot loop:
 * each payload starts where the previous one ended, and the number of
 * payloads is capped at MK_MAX_PAYLOADS. The encoder appends into a
 * growable buffer (bytes.h's writer, at most 64 KiB) and records where the pending Next Payload field is, so
 * the chain is linked as payloads are added.
 */
#include "mikey/mikey.h"

#include <string.h>

#include "mikey/bytes.h"

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

/* ---------------------------------------------------------------- payloads */

static int ts_len(uint8_t ts_type)
{
  switch (ts_type) {
  case MK_TS_NTP_UTC:
  case MK_TS_NTP: return 8;
  case MK_TS_COUNTER:
  case MK_TS_NTP_UTC_32: return 4;
  default: return -1;
  }
}

static bool dec_ts(struct mk_reader *c, struct mk_payload *p)
{
  int n = ts_len(p->u.t.ts_type = mk_get_u8(c));
  if (c->why)
    return false;
  if (n < 0)
    return mk_read_fail(c, "unknown timestamp type");
  uint64_t v = mk_get_u32(c);
  if (n == 8)
    v = v << 32 | mk_get_u32(c);
  p->u.t.value = v;
  return !c->why;
}

static bool dec_t(struct mk_reader *c, struct mk_payload *p)
{
  p->u.t.role = 0;
  return dec_ts(c, p);
}

static bool dec_tr(struct mk_reader *c, struct mk_payload *p)
{
  p->u.t.role = mk_get_u8(c);
  return dec_ts(c, p);
}

static bool dec_rand(struct mk_reader *c, struct mk_payload *p)
{
  p->u.rand.role = 0;
  p->u.rand.len = mk_get_u8(c);
  p->u.rand.data = mk_get_bytes(c, p->u.rand.len);
  return !c->why;
}

static bool dec_randr(struct mk_reader *c, struct mk_payload *p)
{
  p->u.rand.role = mk_get_u8(c);
  p->u.rand.len = mk_get_u8(c);
  p->u.rand.data = mk_get_bytes(c, p->u.rand.len);
  return !c->why;
}

static bool dec_idr(struct mk_reader *c, struct mk_payload *p)
{
  p->u.idr.role = mk_get_u8(c);
  p->u.idr.id_type = mk_get_u8(c);
  p->u.idr.len = mk_get_u16(c);
  if (!c->why && p->u.idr.len > MK_IDR_MAX)
    return mk_read_fail(c, "identity longer than 255 bytes");
  p->u.idr.data = mk_get_bytes(c, p->u.idr.len);
  return !c->why;
}

/* TP and TICKET share their first fields (RFC 6043 §6.10). */
static bool dec_ticket(struct mk_reader *c, struct mk_payload *p, size_t start, bool ticket)
{
  struct mk_ticket_fields *t = &p->u.ticket;
  t->ticket_type = mk_get_u16(c);
  t->subtype = mk_get_u8(c);
  t->version = mk_get_u8(c);
  uint32_t w = (uint32_t)mk_get_u8(c) << 16;
  w |= (uint32_t)mk_get_u8(c) << 8;
  w |= mk_get_u8(c);
  t->prf = (uint8_t)(w >> 17);
  t->flags = (uint16_t)((w >> 5) & 0xFFF);
  t->res = (uint8_t)(w & 0x1F);
  t->tp_len = mk_get_u16(c);
  t->tp_data = mk_get_bytes(c, t->tp_len);
  if (!ticket)
    return !c->why;
  t->td_len_off = c->pos - start;
  t->td_len = mk_get_u16(c);
  t->ticket_data = mk_get_bytes(c, t->td_len);
  t->id_len_off = c->pos - start;
  t->id_len = mk_get_u16(c);
  t->init_data = mk_get_bytes(c, t->id_len);
  return !c->why;
}

static bool dec_kemac(struct mk_reader *c, struct mk_payload *p)
{
  p->u.kemac.encr_alg = mk_get_u8(c);
  p->u.kemac.encr_len = mk_get_u16(c);
  p->u.kemac.encr = mk_get_bytes(c, p->u.kemac.encr_len);
  p->u.kemac.mac_alg = mk_get_u8(c);
  if (c->why)
    return false;
  switch (p->u.kemac.mac_alg) {
  case 0: p->u.kemac.mac_len = 0; break;
  case 1: p->u.kemac.mac_len = 20; break;
  case 2: p->u.kemac.mac_len = 32; break;
  default: return mk_read_fail(c, "unknown MAC algorithm");
  }
  p->u.kemac.mac = mk_get_bytes(c, p->u.kemac.mac_len);
  return !c->why;
}

static bool dec_v(struct mk_reader *c, struct mk_payload *p)
{
  p->u.v.alg = mk_get_u8(c);
  if (c->why)
    return false;
  switch (p->u.v.alg) {
  case 0: p->u.v.mac_len = 0; break;
  case 1: p->u.v.mac_len = 20; break;
  case 2: p->u.v.mac_len = 32; break;
  default: return mk_read_fail(c, "unknown MAC algorithm");
  }
  p->u.v.mac = mk_get_bytes(c, p->u.v.mac_len);
  return !c->why;
}

static bool keydata_has_salt(uint8_t type)
{
  return type == MK_KD_TGK_SALT || type == MK_KD_TEK_SALT || type == MK_KD_GTGK_SALT;
}

static bool dec_keydata(struct mk_reader *c, struct mk_payload *p)
{
  uint8_t tk = mk_get_u8(c);
  p->u.keydata.type = tk >> 4;
  p->u.keydata.kv = tk & 0x0F;
  if (!c->why && p->u.keydata.type > MK_KD_MPK)
    return mk_read_fail(c, "unknown key data type");
  p->u.keydata.key_len = mk_get_u16(c);
  p->u.keydata.key = mk_get_bytes(c, p->u.keydata.key_len);
  if (keydata_has_salt(p->u.keydata.type)) {
    p->u.keydata.salt_len = mk_get_u16(c);
    p->u.keydata.salt = mk_get_bytes(c, p->u.keydata.salt_len);
  }
  if (c->why)
    return false;
  switch (p->u.keydata.kv) {
  case MK_KV_NULL:
    return true;
  case MK_KV_SPI:
    p->u.keydata.spi_len = mk_get_u8(c);
    p->u.keydata.spi = mk_get_bytes(c, p->u.keydata.spi_len);
    return !c->why;
  case MK_KV_INTERVAL:
    p->u.keydata.vf_len = mk_get_u8(c);
    p->u.keydata.vf = mk_get_bytes(c, p->u.keydata.vf_len);
    p->u.keydata.vt_len = mk_get_u8(c);
    p->u.keydata.vt = mk_get_bytes(c, p->u.keydata.vt_len);
    return !c->why;
  default:
    return mk_read_fail(c, "unknown key validity type");
  }
}

/* SP parameters are Type/Length/Value triples that must fill the field. */
static bool dec_sp(struct mk_reader *c, struct mk_payload *p)
{
  p->u.sp.policy_no = mk_get_u8(c);
  p->u.sp.prot_type = mk_get_u8(c);
  p->u.sp.len = mk_get_u16(c);
  p->u.sp.params = mk_get_bytes(c, p->u.sp.len);
  if (c->why)
    return false;
  struct mk_reader tlv;
  mk_reader_init(&tlv, p->u.sp.params, p->u.sp.len);
  while (tlv.pos < tlv.len) {
    (void)mk_get_u8(&tlv);
    (void)mk_get_bytes(&tlv, mk_get_u8(&tlv));
    if (tlv.why)
      return mk_read_fail(c, "SP parameter runs past the payload");
  }
  return true;
}

static bool dec_err(struct mk_reader *c, struct mk_payload *p)
{
  p->u.err.error_no = mk_get_u8(c);
  p->u.err.reserved = mk_get_u16(c);
  return !c->why;
}

static bool dec_ext(struct mk_reader *c, struct mk_payload *p)
{
  p->u.ext.type = mk_get_u8(c);
  p->u.ext.len = mk_get_u16(c);
  p->u.ext.data = mk_get_bytes(c, p->u.ext.len);
  return !c->why;
}

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

static bool dec_payload(struct mk_reader *c, uint8_t type, struct mk_payload *p)
{
  size_t start = c->pos;
  memset(p, 0, sizeof *p);
  p->type = type;
  p->next = mk_get_u8(c);
  bool ok;
  switch (type) {
  case MK_PT_KEMAC: ok = dec_kemac(c, p); break;
  case MK_PT_T: ok = dec_t(c, p); break;
  case MK_PT_V: ok = dec_v(c, p); break;
  case MK_PT_SP: ok = dec_sp(c, p); break;
  case MK_PT_RAND: ok = dec_rand(c, p); break;
  case MK_PT_ERR: ok = dec_err(c, p); break;
  case MK_PT_TR: ok = dec_tr(c, p); break;
  case MK_PT_IDR: ok = dec_idr(c, p); break;
  case MK_PT_RANDR: ok = dec_randr(c, p); break;
  case MK_PT_TP: ok = dec_ticket(c, p, start, false); break;
  case MK_PT_TICKET: ok = dec_ticket(c, p, start, true); break;
  case MK_PT_KEYDATA: ok = dec_keydata(c, p); break;
  case MK_PT_EXT: ok = dec_ext(c, p); break;
  default: ok = mk_read_fail(c, "unknown payload type");
  }
  if (!ok || c->why)
    return false;
  p->raw = c->b + start;
  p->len = c->pos - start;
  p->off = start;
  return true;
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
    if (!dec_payload(c, type, p))
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

int mk_decode_chain(const unsigned char *buf, size_t len, uint8_t first, enum mk_ctx ctx,
                    size_t base, struct mk_chain *out, const char **why)
{
  struct mk_reader c;
  mk_reader_init(&c, buf, len);
  if (!buf && len)
    mk_read_fail(&c, "no input");
  else if (len > MK_MSG_MAX)
    mk_read_fail(&c, "longer than 64 KiB");
  else
    dec_chain(&c, first, ctx, base, out);
  if (why)
    *why = c.why;
  return c.why ? MK_DEC_ERR : 0;
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
  mk_reader_init(&c, buf, len);
  memset(thdr, 0, sizeof *thdr);
  if (!buf || len == 0)
    mk_read_fail(&c, "empty ticket data");
  else if (len > MK_MSG_MAX)
    mk_read_fail(&c, "longer than 64 KiB");
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
  if (why)
    *why = c.why;
  return c.why ? MK_DEC_ERR : 0;
}

int mk_decode(const unsigned char *buf, size_t len, struct mk_msg *msg, const char **why)
{
  struct mk_reader c;
  mk_reader_init(&c, buf, len);
  memset(msg, 0, sizeof *msg);
  if (!buf || len == 0)
    mk_read_fail(&c, "empty message");
  else if (len > MK_MSG_MAX)
    mk_read_fail(&c, "longer than 64 KiB");
  else if (dec_hdr(&c, &msg->hdr)) {
    msg->hdr_len = c.pos;
    dec_chain(&c, msg->hdr.next, MK_CTX_MSG, 0, &msg->pl);
  }
  msg->buf = buf;
  msg->len = len;
  if (why)
    *why = c.why;
  return c.why ? MK_DEC_ERR : 0;
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
 * first byte, written as 0 here) becomes the pending slot. */
static void begin(struct mk_enc *e, uint16_t type)
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
  begin(e, MK_PT_THDR);
  mk_put_u16(&e->w, len);
  mk_put(&e->w, data, len);
}

static void enc_ts(struct mk_enc *e, uint8_t ts_type, uint64_t value)
{
  int n = ts_len(ts_type);
  if (n < 0)
    mk_writer_fail(&e->w);
  mk_put_u8(&e->w, ts_type);
  if (n == 8)
    mk_put_u32(&e->w, (uint32_t)(value >> 32));
  mk_put_u32(&e->w, (uint32_t)value);
}

void mk_enc_t(struct mk_enc *e, uint8_t ts_type, uint64_t value)
{
  begin(e, MK_PT_T);
  enc_ts(e, ts_type, value);
}

void mk_enc_tr(struct mk_enc *e, uint8_t role, uint8_t ts_type, uint64_t value)
{
  begin(e, MK_PT_TR);
  mk_put_u8(&e->w, role);
  enc_ts(e, ts_type, value);
}

void mk_enc_rand(struct mk_enc *e, const unsigned char *r, uint8_t len)
{
  begin(e, MK_PT_RAND);
  mk_put_u8(&e->w, len);
  mk_put(&e->w, r, len);
}

void mk_enc_randr(struct mk_enc *e, uint8_t role, const unsigned char *r, uint8_t len)
{
  begin(e, MK_PT_RANDR);
  mk_put_u8(&e->w, role);
  mk_put_u8(&e->w, len);
  mk_put(&e->w, r, len);
}

void mk_enc_idr(struct mk_enc *e, uint8_t role, uint8_t id_type, const void *id, size_t len)
{
  if (len > MK_IDR_MAX)
    mk_writer_fail(&e->w);
  begin(e, MK_PT_IDR);
  mk_put_u8(&e->w, role);
  mk_put_u8(&e->w, id_type);
  mk_put_u16(&e->w, (uint16_t)len);
  mk_put(&e->w, id, len > MK_IDR_MAX ? 0 : len);
}

void mk_enc_ticket(struct mk_enc *e, bool ticket, const struct mk_ticket_fields *t)
{
  if (t->prf > 0x7F || t->flags > 0xFFF || t->res > 0x1F)
    mk_writer_fail(&e->w);
  begin(e, ticket ? MK_PT_TICKET : MK_PT_TP);
  mk_put_u16(&e->w, t->ticket_type);
  mk_put_u8(&e->w, t->subtype);
  mk_put_u8(&e->w, t->version);
  uint32_t w = (uint32_t)(t->prf & 0x7F) << 17 | (uint32_t)(t->flags & 0xFFF) << 5
             | (t->res & 0x1F);
  mk_put_u8(&e->w, (uint8_t)(w >> 16));
  mk_put_u8(&e->w, (uint8_t)(w >> 8));
  mk_put_u8(&e->w, (uint8_t)w);
  mk_put_u16(&e->w, t->tp_len);
  mk_put(&e->w, t->tp_data, t->tp_len);
  if (!ticket)
    return;
  mk_put_u16(&e->w, t->td_len);
  mk_put(&e->w, t->ticket_data, t->td_len);
  mk_put_u16(&e->w, t->id_len);
  mk_put(&e->w, t->init_data, t->id_len);
}

void mk_enc_kemac(struct mk_enc *e, uint8_t encr_alg, const unsigned char *encr, uint16_t encr_len,
                  uint8_t mac_alg, const unsigned char *mac, uint8_t mac_len)
{
  begin(e, MK_PT_KEMAC);
  mk_put_u8(&e->w, encr_alg);
  mk_put_u16(&e->w, encr_len);
  mk_put(&e->w, encr, encr_len);
  mk_put_u8(&e->w, mac_alg);
  mk_put(&e->w, mac, mac_len);
}

void mk_enc_keydata(struct mk_enc *e, uint8_t type, uint8_t kv,
                    const unsigned char *key, uint16_t key_len,
                    const unsigned char *salt, uint16_t salt_len,
                    const unsigned char *kv1, uint8_t kv1_len,
                    const unsigned char *kv2, uint8_t kv2_len)
{
  if (type > MK_KD_MPK || kv > MK_KV_INTERVAL)
    mk_writer_fail(&e->w);
  begin(e, MK_PT_KEYDATA);
  mk_put_u8(&e->w, (uint8_t)(type << 4 | (kv & 0x0F)));
  mk_put_u16(&e->w, key_len);
  mk_put(&e->w, key, key_len);
  if (keydata_has_salt(type)) {
    mk_put_u16(&e->w, salt_len);
    mk_put(&e->w, salt, salt_len);
  }
  if (kv == MK_KV_SPI || kv == MK_KV_INTERVAL) {
    mk_put_u8(&e->w, kv1_len);
    mk_put(&e->w, kv1, kv1_len);
  }
  if (kv == MK_KV_INTERVAL) {
    mk_put_u8(&e->w, kv2_len);
    mk_put(&e->w, kv2, kv2_len);
  }
}

void mk_enc_v(struct mk_enc *e, uint8_t alg, const unsigned char *mac, uint8_t mac_len)
{
  static const unsigned char zero[32];
  begin(e, MK_PT_V);
  mk_put_u8(&e->w, alg);
  if (mac_len > sizeof zero && !mac)
    mk_writer_fail(&e->w);
  mk_put(&e->w, mac ? mac : zero, mac_len);
}

void mk_enc_sp(struct mk_enc *e, uint8_t policy_no, uint8_t prot_type,
               const unsigned char *params, uint16_t len)
{
  begin(e, MK_PT_SP);
  mk_put_u8(&e->w, policy_no);
  mk_put_u8(&e->w, prot_type);
  mk_put_u16(&e->w, len);
  mk_put(&e->w, params, len);
}

void mk_enc_err(struct mk_enc *e, uint8_t error_no)
{
  begin(e, MK_PT_ERR);
  mk_put_u8(&e->w, error_no);
  mk_put_u16(&e->w, 0);
}

void mk_enc_ext(struct mk_enc *e, uint8_t type, const unsigned char *data, uint16_t len)
{
  begin(e, MK_PT_EXT);
  mk_put_u8(&e->w, type);
  mk_put_u16(&e->w, len);
  mk_put(&e->w, data, len);
}

void mk_enc_raw(struct mk_enc *e, uint16_t type, const unsigned char *payload, size_t len)
{
  if (!payload || len == 0) {
    mk_writer_fail(&e->w);
    return;
  }
  begin(e, type);
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
