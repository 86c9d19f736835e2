/*
 * mikey_payload.c - the fields of each MIKEY payload that carries a Next
 * Payload type, both ways: KEMAC (RFC 3830 §6.2) and its key data
 * sub-payloads (§6.13), T (§6.6), V (§6.9), SP (§6.10), RAND (§6.11),
 * ERR (§6.12), general extension (§6.15), and RFC 6043's TR, IDR, RANDR
 * (§6) and TP and TICKET (§6.10). The positional HDR and THDR, and the
 * chains that hold these payloads, are mikey.c; both implement mikey.h.
 *
 * Design: one decoder and one encoder per payload, the decoders first and
 * the encoders after them in the same order. Decoders read through bytes.h's
 * reader, whose failure is sticky: a decoder reads all its fields and
 * checks once, and a field that names a length takes exactly that many
 * bytes or fails. mk_payload_decode is the one entry point (by type) and
 * records every payload's exact bytes for MACs. Encoders start with
 * mk_enc_begin, which links the payload into the chain, and mark the
 * message failed for a field their format cannot hold.
 */
#include "mikey/mikey.h"

#include <string.h>

#include "mikey/bytes.h"
#include "mikey/mikey_private.h"

/* ---------------------------------------------------------------- decoding */

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

/* T (RFC 3830 §6.6) and TR (RFC 6043): TR starts with a role. */
static bool dec_ts(struct mk_reader *c, struct mk_payload *p, bool with_role)
{
  p->u.t.role = with_role ? mk_get_u8(c) : 0;
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

/* RAND (RFC 3830 §6.11) and RANDR (RFC 6043): RANDR starts with a role. */
static bool dec_rand(struct mk_reader *c, struct mk_payload *p, bool with_role)
{
  p->u.rand.role = with_role ? mk_get_u8(c) : 0;
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

/* The MAC field that ends KEMAC and V: its length follows from the MAC
 * alg (RFC 3830 Table 6.2.b, RFC 6043 Table 6.6). */
static bool dec_mac(struct mk_reader *c, uint8_t alg, uint8_t *len, const unsigned char **mac)
{
  if (c->why)
    return false;
  switch (alg) {
  case 0: *len = 0; break;      /* NULL */
  case 1: *len = 20; break;     /* HMAC-SHA-1-160 */
  case 2: *len = 32; break;     /* HMAC-SHA-256-256 */
  default: return mk_read_fail(c, "unknown MAC algorithm");
  }
  *mac = mk_get_bytes(c, *len);
  return !c->why;
}

static bool dec_kemac(struct mk_reader *c, struct mk_payload *p)
{
  p->u.kemac.encr_alg = mk_get_u8(c);
  p->u.kemac.encr_len = mk_get_u16(c);
  p->u.kemac.encr = mk_get_bytes(c, p->u.kemac.encr_len);
  p->u.kemac.mac_alg = mk_get_u8(c);
  return dec_mac(c, p->u.kemac.mac_alg, &p->u.kemac.mac_len, &p->u.kemac.mac);
}

static bool dec_v(struct mk_reader *c, struct mk_payload *p)
{
  p->u.v.alg = mk_get_u8(c);
  return dec_mac(c, p->u.v.alg, &p->u.v.mac_len, &p->u.v.mac);
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

bool mk_payload_decode(struct mk_reader *c, uint8_t type, struct mk_payload *p)
{
  size_t start = c->pos;
  memset(p, 0, sizeof *p);
  p->type = type;
  p->next = mk_get_u8(c);
  bool ok;
  switch (type) {
  case MK_PT_KEMAC: ok = dec_kemac(c, p); break;
  case MK_PT_T: ok = dec_ts(c, p, false); break;
  case MK_PT_V: ok = dec_v(c, p); break;
  case MK_PT_SP: ok = dec_sp(c, p); break;
  case MK_PT_RAND: ok = dec_rand(c, p, false); break;
  case MK_PT_ERR: ok = dec_err(c, p); break;
  case MK_PT_TR: ok = dec_ts(c, p, true); break;
  case MK_PT_IDR: ok = dec_idr(c, p); break;
  case MK_PT_RANDR: ok = dec_rand(c, p, true); break;
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

/* ---------------------------------------------------------------- encoding */

static void enc_ts(struct mk_enc *e, uint8_t ts_type, uint64_t value)
{
  int n = ts_len(ts_type);
  if (n < 0)
    mk_writer_fail(&e->w);
  mk_put_u8(&e->w, ts_type);
  if (n == 8)
    mk_put_u64(&e->w, value);
  else
    mk_put_u32(&e->w, (uint32_t)value);
}

void mk_enc_t(struct mk_enc *e, uint8_t ts_type, uint64_t value)
{
  mk_enc_begin(e, MK_PT_T);
  enc_ts(e, ts_type, value);
}

void mk_enc_tr(struct mk_enc *e, uint8_t role, uint8_t ts_type, uint64_t value)
{
  mk_enc_begin(e, MK_PT_TR);
  mk_put_u8(&e->w, role);
  enc_ts(e, ts_type, value);
}

void mk_enc_rand(struct mk_enc *e, const unsigned char *r, uint8_t len)
{
  mk_enc_begin(e, MK_PT_RAND);
  mk_put_u8(&e->w, len);
  mk_put(&e->w, r, len);
}

void mk_enc_randr(struct mk_enc *e, uint8_t role, const unsigned char *r, uint8_t len)
{
  mk_enc_begin(e, MK_PT_RANDR);
  mk_put_u8(&e->w, role);
  mk_put_u8(&e->w, len);
  mk_put(&e->w, r, len);
}

void mk_enc_idr(struct mk_enc *e, uint8_t role, uint8_t id_type, const void *id, size_t len)
{
  if (len > MK_IDR_MAX)
    mk_writer_fail(&e->w);
  mk_enc_begin(e, MK_PT_IDR);
  mk_put_u8(&e->w, role);
  mk_put_u8(&e->w, id_type);
  mk_put_u16(&e->w, (uint16_t)len);
  mk_put(&e->w, id, len > MK_IDR_MAX ? 0 : len);
}

void mk_enc_ticket(struct mk_enc *e, bool ticket, const struct mk_ticket_fields *t)
{
  if (t->prf > 0x7F || t->flags > 0xFFF || t->res > 0x1F)
    mk_writer_fail(&e->w);
  mk_enc_begin(e, ticket ? MK_PT_TICKET : MK_PT_TP);
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
  mk_enc_begin(e, MK_PT_KEMAC);
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
  mk_enc_begin(e, MK_PT_KEYDATA);
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
  mk_enc_begin(e, MK_PT_V);
  mk_put_u8(&e->w, alg);
  if (mac_len > sizeof zero && !mac)
    mk_writer_fail(&e->w);
  mk_put(&e->w, mac ? mac : zero, mac_len);
}

void mk_enc_sp(struct mk_enc *e, uint8_t policy_no, uint8_t prot_type,
               const unsigned char *params, uint16_t len)
{
  mk_enc_begin(e, MK_PT_SP);
  mk_put_u8(&e->w, policy_no);
  mk_put_u8(&e->w, prot_type);
  mk_put_u16(&e->w, len);
  mk_put(&e->w, params, len);
}

void mk_enc_err(struct mk_enc *e, uint8_t error_no)
{
  mk_enc_begin(e, MK_PT_ERR);
  mk_put_u8(&e->w, error_no);
  mk_put_u16(&e->w, 0);
}

void mk_enc_ext(struct mk_enc *e, uint8_t type, const unsigned char *data, uint16_t len)
{
  mk_enc_begin(e, MK_PT_EXT);
  mk_put_u8(&e->w, type);
  mk_put_u16(&e->w, len);
  mk_put(&e->w, data, len);
}

