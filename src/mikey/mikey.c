/*
 * mikey.c - the MIKEY codec of RFC 3830 §6 and RFC 6043 §6 / Appendix A.3
 * (see mikey.h for the payload list).
 *
 * Design: a decoder is a cursor (buffer, length, position) whose every read
 * checks the remaining length first, so malformed input - a truncated
 * field, a length running past the end, an unknown or misplaced Next
 * Payload value, a chain that never reaches Last, trailing bytes, an
 * identity over 255 bytes, a message over 64 KiB - ends in MK_DEC_ERR with
 * a static reason and never in a read out of bounds. A chain cannot loop:
 * each payload starts where the previous one ended, and the number of
 * payloads is capped at MK_MAX_PAYLOADS. The encoder appends into a
 * growable buffer and records where the pending Next Payload field is, so
 * the chain is linked as payloads are added.
 */
#include "mikey/mikey.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- cursor */

struct cur {
  const unsigned char *b;
  size_t len, pos;
  const char *why;      /* first failure */
};

static bool fail(struct cur *c, const char *why)
{
  if (!c->why)
    c->why = why;
  return false;
}

static bool need(struct cur *c, size_t n)
{
  if (c->why)
    return false;
  if (n > c->len - c->pos)
    return fail(c, "truncated payload");
  return true;
}

static uint8_t get8(struct cur *c)
{
  if (!need(c, 1))
    return 0;
  return c->b[c->pos++];
}

static uint16_t get16(struct cur *c)
{
  if (!need(c, 2))
    return 0;
  uint16_t v = (uint16_t)(c->b[c->pos] << 8 | c->b[c->pos + 1]);
  c->pos += 2;
  return v;
}

static uint32_t get32(struct cur *c)
{
  if (!need(c, 4))
    return 0;
  uint32_t v = (uint32_t)c->b[c->pos] << 24 | (uint32_t)c->b[c->pos + 1] << 16
             | (uint32_t)c->b[c->pos + 2] << 8 | c->b[c->pos + 3];
  c->pos += 4;
  return v;
}

/* Returns a pointer to the next n bytes and skips them, or NULL. */
static const unsigned char *getp(struct cur *c, size_t n)
{
  if (!need(c, n))
    return NULL;
  const unsigned char *p = c->b + c->pos;
  c->pos += n;
  return p;
}

/* ---------------------------------------------------------------- HDR */

static bool dec_cs_srtp(struct cur *c, struct mk_hdr *h)
{
  for (unsigned i = 0; i < h->n_cs; i++) {
    struct mk_cs *cs = &h->cs[i];
    cs->cs_id = (uint8_t)(i + 1);     /* RFC 3830 §6.1.1: the i-th stream is CS i */
    cs->prot_type = MK_PROT_SRTP;
    cs->policy_no = get8(c);
    cs->ssrc = get32(c);
    cs->roc = get32(c);
  }
  return !c->why;
}

static bool dec_cs_generic(struct cur *c, struct mk_hdr *h)
{
  for (unsigned i = 0; i < h->n_cs && !c->why; i++) {
    struct mk_cs *cs = &h->cs[i];
    cs->cs_id = get8(c);
    cs->prot_type = get8(c);
    uint8_t sp = get8(c);
    cs->s = sp & 0x80;
    cs->n_policies = sp & 0x7F;
    cs->policies = getp(c, cs->n_policies);
    cs->session_data_len = get16(c);
    cs->session_data = getp(c, cs->session_data_len);
    cs->spi_len = get8(c);
    cs->spi = getp(c, cs->spi_len);
  }
  return !c->why;
}

static bool dec_hdr(struct cur *c, struct mk_hdr *h)
{
  memset(h, 0, sizeof *h);
  h->version = get8(c);
  h->data_type = get8(c);
  h->next = get8(c);
  uint8_t vp = get8(c);
  h->v = vp & 0x80;
  h->prf = vp & 0x7F;
  h->csb_id = get32(c);
  h->n_cs = get8(c);
  h->map_type = get8(c);
  if (c->why)
    return false;
  if (h->version != MK_VERSION)
    return fail(c, "unsupported MIKEY version");
  if (h->n_cs > MK_MAX_CS)
    return fail(c, "too many crypto sessions");
  switch (h->map_type) {
  case MK_MAP_SRTP_ID: return dec_cs_srtp(c, h);
  case MK_MAP_GENERIC_ID: return dec_cs_generic(c, h);
  case MK_MAP_EMPTY: return true;    /* RFC 4563: no map info */
  default: return fail(c, "unknown CS ID map type");
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

static bool dec_ts(struct cur *c, struct mk_payload *p)
{
  int n = ts_len(p->u.t.ts_type = get8(c));
  if (c->why)
    return false;
  if (n < 0)
    return fail(c, "unknown timestamp type");
  uint64_t v = get32(c);
  if (n == 8)
    v = v << 32 | get32(c);
  p->u.t.value = v;
  return !c->why;
}

static bool dec_t(struct cur *c, struct mk_payload *p)
{
  p->u.t.role = 0;
  return dec_ts(c, p);
}

static bool dec_tr(struct cur *c, struct mk_payload *p)
{
  p->u.t.role = get8(c);
  return dec_ts(c, p);
}

static bool dec_rand(struct cur *c, struct mk_payload *p)
{
  p->u.rand.role = 0;
  p->u.rand.len = get8(c);
  p->u.rand.data = getp(c, p->u.rand.len);
  return !c->why;
}

static bool dec_randr(struct cur *c, struct mk_payload *p)
{
  p->u.rand.role = get8(c);
  p->u.rand.len = get8(c);
  p->u.rand.data = getp(c, p->u.rand.len);
  return !c->why;
}

static bool dec_idr(struct cur *c, struct mk_payload *p)
{
  p->u.idr.role = get8(c);
  p->u.idr.id_type = get8(c);
  p->u.idr.len = get16(c);
  if (!c->why && p->u.idr.len > MK_IDR_MAX)
    return fail(c, "identity longer than 255 bytes");
  p->u.idr.data = getp(c, p->u.idr.len);
  return !c->why;
}

/* TP and TICKET share their first fields (RFC 6043 §6.10). */
static bool dec_ticket(struct cur *c, struct mk_payload *p, size_t start, bool ticket)
{
  struct mk_ticket_fields *t = &p->u.ticket;
  t->ticket_type = get16(c);
  t->subtype = get8(c);
  t->version = get8(c);
  uint32_t w = (uint32_t)get8(c) << 16;
  w |= (uint32_t)get8(c) << 8;
  w |= get8(c);
  t->prf = (uint8_t)(w >> 17);
  t->flags = (uint16_t)((w >> 5) & 0xFFF);
  t->res = (uint8_t)(w & 0x1F);
  t->tp_len = get16(c);
  t->tp_data = getp(c, t->tp_len);
  if (!ticket)
    return !c->why;
  t->td_len_off = c->pos - start;
  t->td_len = get16(c);
  t->ticket_data = getp(c, t->td_len);
  t->id_len_off = c->pos - start;
  t->id_len = get16(c);
  t->init_data = getp(c, t->id_len);
  return !c->why;
}

static bool dec_kemac(struct cur *c, struct mk_payload *p)
{
  p->u.kemac.encr_alg = get8(c);
  p->u.kemac.encr_len = get16(c);
  p->u.kemac.encr = getp(c, p->u.kemac.encr_len);
  p->u.kemac.mac_alg = get8(c);
  if (c->why)
    return false;
  switch (p->u.kemac.mac_alg) {
  case 0: p->u.kemac.mac_len = 0; break;
  case 1: p->u.kemac.mac_len = 20; break;
  case 2: p->u.kemac.mac_len = 32; break;
  default: return fail(c, "unknown MAC algorithm");
  }
  p->u.kemac.mac = getp(c, p->u.kemac.mac_len);
  return !c->why;
}

static bool dec_v(struct cur *c, struct mk_payload *p)
{
  p->u.v.alg = get8(c);
  if (c->why)
    return false;
  switch (p->u.v.alg) {
  case 0: p->u.v.mac_len = 0; break;
  case 1: p->u.v.mac_len = 20; break;
  case 2: p->u.v.mac_len = 32; break;
  default: return fail(c, "unknown MAC algorithm");
  }
  p->u.v.mac = getp(c, p->u.v.mac_len);
  return !c->why;
}

static bool keydata_has_salt(uint8_t type)
{
  return type == MK_KD_TGK_SALT || type == MK_KD_TEK_SALT || type == MK_KD_GTGK_SALT;
}

static bool dec_keydata(struct cur *c, struct mk_payload *p)
{
  uint8_t tk = get8(c);
  p->u.keydata.type = tk >> 4;
  p->u.keydata.kv = tk & 0x0F;
  if (!c->why && p->u.keydata.type > MK_KD_MPK)
    return fail(c, "unknown key data type");
  p->u.keydata.key_len = get16(c);
  p->u.keydata.key = getp(c, p->u.keydata.key_len);
  if (keydata_has_salt(p->u.keydata.type)) {
    p->u.keydata.salt_len = get16(c);
    p->u.keydata.salt = getp(c, p->u.keydata.salt_len);
  }
  if (c->why)
    return false;
  switch (p->u.keydata.kv) {
  case MK_KV_NULL:
    return true;
  case MK_KV_SPI:
    p->u.keydata.spi_len = get8(c);
    p->u.keydata.spi = getp(c, p->u.keydata.spi_len);
    return !c->why;
  case MK_KV_INTERVAL:
    p->u.keydata.vf_len = get8(c);
    p->u.keydata.vf = getp(c, p->u.keydata.vf_len);
    p->u.keydata.vt_len = get8(c);
    p->u.keydata.vt = getp(c, p->u.keydata.vt_len);
    return !c->why;
  default:
    return fail(c, "unknown key validity type");
  }
}

/* SP parameters are Type/Length/Value triples that must fill the field. */
static bool dec_sp(struct cur *c, struct mk_payload *p)
{
  p->u.sp.policy_no = get8(c);
  p->u.sp.prot_type = get8(c);
  p->u.sp.len = get16(c);
  p->u.sp.params = getp(c, p->u.sp.len);
  if (c->why)
    return false;
  struct cur tlv = { p->u.sp.params, p->u.sp.len, 0, NULL };
  while (tlv.pos < tlv.len) {
    (void)get8(&tlv);
    (void)getp(&tlv, get8(&tlv));
    if (tlv.why)
      return fail(c, "SP parameter runs past the payload");
  }
  return true;
}

static bool dec_err(struct cur *c, struct mk_payload *p)
{
  p->u.err.error_no = get8(c);
  p->u.err.reserved = get16(c);
  return !c->why;
}

static bool dec_ext(struct cur *c, struct mk_payload *p)
{
  p->u.ext.type = get8(c);
  p->u.ext.len = get16(c);
  p->u.ext.data = getp(c, p->u.ext.len);
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

static bool dec_payload(struct cur *c, uint8_t type, struct mk_payload *p)
{
  size_t start = c->pos;
  memset(p, 0, sizeof *p);
  p->type = type;
  p->next = get8(c);
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
  default: ok = fail(c, "unknown payload type");
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
static bool dec_chain(struct cur *c, uint8_t first, enum mk_ctx ctx, size_t base,
                      struct mk_chain *out)
{
  uint8_t type = first;
  out->n = 0;
  while (type != MK_PT_LAST) {
    if (!allowed(ctx, type))
      return fail(c, "unexpected next payload");
    if (out->n == MK_MAX_PAYLOADS)
      return fail(c, "too many payloads");
    if (c->pos == c->len)
      return fail(c, "payload chain not terminated");
    struct mk_payload *p = &out->p[out->n];
    if (!dec_payload(c, type, p))
      return false;
    p->off += base;
    out->n++;
    type = p->next;
    bool v_last = ctx == MK_CTX_MSG || ctx == MK_CTX_TICKET_DATA;
    if (v_last && p->type == MK_PT_V && type != MK_PT_LAST)
      return fail(c, "verification payload is not last");
  }
  if (c->pos != c->len)
    return fail(c, "trailing bytes after the last payload");
  return true;
}

int mk_decode_chain(const unsigned char *buf, size_t len, uint8_t first, enum mk_ctx ctx,
                    size_t base, struct mk_chain *out, const char **why)
{
  struct cur c = { buf, len, 0, NULL };
  if (!buf && len)
    fail(&c, "no input");
  else if (len > MK_MSG_MAX)
    fail(&c, "longer than 64 KiB");
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
  struct cur c = { buf, len, 0, NULL };
  memset(thdr, 0, sizeof *thdr);
  if (!buf || len == 0)
    fail(&c, "empty ticket data");
  else if (len > MK_MSG_MAX)
    fail(&c, "longer than 64 KiB");
  thdr->type = MK_PT_THDR;
  thdr->next = get8(&c);
  thdr->u.thdr.len = get16(&c);
  thdr->u.thdr.data = getp(&c, thdr->u.thdr.len);
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
  struct cur c = { buf, len, 0, NULL };
  memset(msg, 0, sizeof *msg);
  if (!buf || len == 0)
    fail(&c, "empty message");
  else if (len > MK_MSG_MAX)
    fail(&c, "longer than 64 KiB");
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
}

void mk_enc_free(struct mk_enc *e)
{
  free(e->p);
  mk_enc_init(e);
}

static void put(struct mk_enc *e, const void *p, size_t n)
{
  if (e->failed)
    return;
  if (n > MK_MSG_MAX - e->len) {
    e->failed = true;
    return;
  }
  if (e->len + n > e->cap) {
    size_t cap = e->cap ? e->cap : 256;
    while (cap < e->len + n)
      cap *= 2;
    unsigned char *q = realloc(e->p, cap);
    if (!q) {
      e->failed = true;
      return;
    }
    e->p = q;
    e->cap = cap;
  }
  if (n)
    memcpy(e->p + e->len, p, n);
  e->len += n;
}

static void put8(struct mk_enc *e, uint8_t v) { put(e, &v, 1); }

static void put16(struct mk_enc *e, uint16_t v)
{
  unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };
  put(e, b, 2);
}

static void put32(struct mk_enc *e, uint32_t v)
{
  unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
                         (unsigned char)(v >> 8), (unsigned char)v };
  put(e, b, 4);
}

/* Links the new payload into the chain; its own Next Payload byte (the
 * first byte, written as 0 here) becomes the pending slot. */
static void begin(struct mk_enc *e, uint16_t type)
{
  if (e->failed)
    return;
  if (e->has_np)
    e->p[e->np_off] = (unsigned char)type;
  e->np_off = e->len;
  e->has_np = true;
  put8(e, 0);
}

static void enc_cs(struct mk_enc *e, const struct mk_hdr *h)
{
  for (unsigned i = 0; i < h->n_cs && i < MK_MAX_CS; i++) {
    const struct mk_cs *cs = &h->cs[i];
    if (h->map_type == MK_MAP_SRTP_ID) {
      put8(e, cs->policy_no);
      put32(e, cs->ssrc);
      put32(e, cs->roc);
    } else if (h->map_type == MK_MAP_GENERIC_ID) {
      if (cs->n_policies > 0x7F)
        e->failed = true;
      put8(e, cs->cs_id);
      put8(e, cs->prot_type);
      put8(e, (uint8_t)((cs->s ? 0x80 : 0) | (cs->n_policies & 0x7F)));
      put(e, cs->policies, cs->n_policies);
      put16(e, cs->session_data_len);
      put(e, cs->session_data, cs->session_data_len);
      put8(e, cs->spi_len);
      put(e, cs->spi, cs->spi_len);
    }
  }
}

void mk_enc_hdr(struct mk_enc *e, const struct mk_hdr *h)
{
  if (h->n_cs > MK_MAX_CS || h->prf > 0x7F)
    e->failed = true;
  put8(e, h->version);
  put8(e, h->data_type);
  e->np_off = e->len;
  e->has_np = true;
  put8(e, 0);
  put8(e, (uint8_t)((h->v ? 0x80 : 0) | (h->prf & 0x7F)));
  put32(e, h->csb_id);
  put8(e, h->n_cs);
  put8(e, h->map_type);
  if (h->map_type != MK_MAP_SRTP_ID && h->map_type != MK_MAP_GENERIC_ID
      && h->map_type != MK_MAP_EMPTY)
    e->failed = true;
  enc_cs(e, h);
}

void mk_enc_first(struct mk_enc *e)
{
  if (e->failed)
    return;
  e->np_off = e->len;
  e->has_np = true;
  put8(e, 0);
}

void mk_enc_thdr(struct mk_enc *e, const unsigned char *data, uint16_t len)
{
  e->has_np = false;                 /* THDR is first by position */
  begin(e, MK_PT_THDR);
  put16(e, len);
  put(e, data, len);
}

static void enc_ts(struct mk_enc *e, uint8_t ts_type, uint64_t value)
{
  int n = ts_len(ts_type);
  if (n < 0)
    e->failed = true;
  put8(e, ts_type);
  if (n == 8)
    put32(e, (uint32_t)(value >> 32));
  put32(e, (uint32_t)value);
}

void mk_enc_t(struct mk_enc *e, uint8_t ts_type, uint64_t value)
{
  begin(e, MK_PT_T);
  enc_ts(e, ts_type, value);
}

void mk_enc_tr(struct mk_enc *e, uint8_t role, uint8_t ts_type, uint64_t value)
{
  begin(e, MK_PT_TR);
  put8(e, role);
  enc_ts(e, ts_type, value);
}

void mk_enc_rand(struct mk_enc *e, const unsigned char *r, uint8_t len)
{
  begin(e, MK_PT_RAND);
  put8(e, len);
  put(e, r, len);
}

void mk_enc_randr(struct mk_enc *e, uint8_t role, const unsigned char *r, uint8_t len)
{
  begin(e, MK_PT_RANDR);
  put8(e, role);
  put8(e, len);
  put(e, r, len);
}

void mk_enc_idr(struct mk_enc *e, uint8_t role, uint8_t id_type, const void *id, size_t len)
{
  if (len > MK_IDR_MAX)
    e->failed = true;
  begin(e, MK_PT_IDR);
  put8(e, role);
  put8(e, id_type);
  put16(e, (uint16_t)len);
  put(e, id, len > MK_IDR_MAX ? 0 : len);
}

void mk_enc_ticket(struct mk_enc *e, bool ticket, const struct mk_ticket_fields *t)
{
  if (t->prf > 0x7F || t->flags > 0xFFF || t->res > 0x1F)
    e->failed = true;
  begin(e, ticket ? MK_PT_TICKET : MK_PT_TP);
  put16(e, t->ticket_type);
  put8(e, t->subtype);
  put8(e, t->version);
  uint32_t w = (uint32_t)(t->prf & 0x7F) << 17 | (uint32_t)(t->flags & 0xFFF) << 5
             | (t->res & 0x1F);
  put8(e, (uint8_t)(w >> 16));
  put8(e, (uint8_t)(w >> 8));
  put8(e, (uint8_t)w);
  put16(e, t->tp_len);
  put(e, t->tp_data, t->tp_len);
  if (!ticket)
    return;
  put16(e, t->td_len);
  put(e, t->ticket_data, t->td_len);
  put16(e, t->id_len);
  put(e, t->init_data, t->id_len);
}

void mk_enc_kemac(struct mk_enc *e, uint8_t encr_alg, const unsigned char *encr, uint16_t encr_len,
                  uint8_t mac_alg, const unsigned char *mac, uint8_t mac_len)
{
  begin(e, MK_PT_KEMAC);
  put8(e, encr_alg);
  put16(e, encr_len);
  put(e, encr, encr_len);
  put8(e, mac_alg);
  put(e, mac, mac_len);
}

void mk_enc_keydata(struct mk_enc *e, uint8_t type, uint8_t kv,
                    const unsigned char *key, uint16_t key_len,
                    const unsigned char *salt, uint16_t salt_len,
                    const unsigned char *kv1, uint8_t kv1_len,
                    const unsigned char *kv2, uint8_t kv2_len)
{
  if (type > MK_KD_MPK || kv > MK_KV_INTERVAL)
    e->failed = true;
  begin(e, MK_PT_KEYDATA);
  put8(e, (uint8_t)(type << 4 | (kv & 0x0F)));
  put16(e, key_len);
  put(e, key, key_len);
  if (keydata_has_salt(type)) {
    put16(e, salt_len);
    put(e, salt, salt_len);
  }
  if (kv == MK_KV_SPI || kv == MK_KV_INTERVAL) {
    put8(e, kv1_len);
    put(e, kv1, kv1_len);
  }
  if (kv == MK_KV_INTERVAL) {
    put8(e, kv2_len);
    put(e, kv2, kv2_len);
  }
}

void mk_enc_v(struct mk_enc *e, uint8_t alg, const unsigned char *mac, uint8_t mac_len)
{
  static const unsigned char zero[32];
  begin(e, MK_PT_V);
  put8(e, alg);
  if (mac_len > sizeof zero && !mac)
    e->failed = true;
  put(e, mac ? mac : zero, mac_len);
}

void mk_enc_sp(struct mk_enc *e, uint8_t policy_no, uint8_t prot_type,
               const unsigned char *params, uint16_t len)
{
  begin(e, MK_PT_SP);
  put8(e, policy_no);
  put8(e, prot_type);
  put16(e, len);
  put(e, params, len);
}

void mk_enc_err(struct mk_enc *e, uint8_t error_no)
{
  begin(e, MK_PT_ERR);
  put8(e, error_no);
  put16(e, 0);
}

void mk_enc_ext(struct mk_enc *e, uint8_t type, const unsigned char *data, uint16_t len)
{
  begin(e, MK_PT_EXT);
  put8(e, type);
  put16(e, len);
  put(e, data, len);
}

void mk_enc_raw(struct mk_enc *e, uint16_t type, const unsigned char *payload, size_t len)
{
  if (!payload || len == 0) {
    e->failed = true;
    return;
  }
  begin(e, type);
  put(e, payload + 1, len - 1);
}

int mk_enc_finish(struct mk_enc *e, unsigned char **out, size_t *out_len)
{
  if (!e->failed && e->has_np && e->p)
    e->p[e->np_off] = MK_PT_LAST;
  if (e->failed || !e->p) {
    mk_enc_free(e);
    return -1;
  }
  *out = e->p;
  *out_len = e->len;
  e->p = NULL;
  mk_enc_free(e);
  return 0;
}
