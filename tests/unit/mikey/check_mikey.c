/* Unit tests for the MIKEY codec (mikey.h): every payload and every
 * message type round-trips; malformed input - truncation at every byte,
 * lengths off by one, unknown or misplaced next-payload values, chains
 * that never end or run too long, oversized fields, trailing bytes - gives
 * a clean error; and a deterministic fuzz loop (100k mutations of valid
 * messages) never crashes. Inputs are copied into exact-size heap buffers
 * so that AddressSanitizer catches any read past the end. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mikey/mikey.h"
#include "mikey/mikey_ticket.h"

/* ---------------------------------------------------------------- helpers */

struct buf {
  unsigned char *p;
  size_t len;
};

static void buf_free(struct buf *b)
{
  free(b->p);
  b->p = NULL;
  b->len = 0;
}

/* An exact-size heap copy, so ASan sees a read one byte past the end. */
static unsigned char *exact(const unsigned char *p, size_t len)
{
  unsigned char *q = malloc(len ? len : 1);
  ck_assert_ptr_nonnull(q);
  if (len)
    memcpy(q, p, len);
  return q;
}

static int decode_exact(const unsigned char *p, size_t len)
{
  static struct mk_msg m;
  unsigned char *q = exact(p, len);
  const char *why = NULL;
  int rc = mk_decode(q, len, &m, &why);
  if (rc != 0)
    ck_assert_ptr_nonnull(why);
  free(q);
  return rc;
}

static void hdr_empty(struct mk_hdr *h, uint8_t type)
{
  memset(h, 0, sizeof *h);
  h->version = MK_VERSION;
  h->data_type = type;
  h->prf = 1;
  h->csb_id = 0xDEADBEEFu;
  h->map_type = MK_MAP_EMPTY;
}

/* Re-encodes a decoded message from its header and raw payloads. */
static void reencode(const struct mk_msg *m, struct buf *out)
{
  struct mk_enc e;
  mk_enc_init(&e);
  mk_enc_hdr(&e, &m->hdr);
  for (size_t i = 0; i < m->pl.n; i++)
    mk_enc_raw(&e, m->pl.p[i].type, m->pl.p[i].raw, m->pl.p[i].len);
  ck_assert_int_eq(mk_enc_finish(&e, &out->p, &out->len), 0);
}

static void assert_round_trip(const struct buf *b)
{
  static struct mk_msg m;
  struct buf again = { 0 };
  const char *why = NULL;
  ck_assert_msg(mk_decode(b->p, b->len, &m, &why) == 0, "decode: %s", why);
  reencode(&m, &again);
  ck_assert_uint_eq(again.len, b->len);
  ck_assert_mem_eq(again.p, b->p, b->len);
  /* payloads tile the message exactly */
  size_t at = m.hdr_len;
  for (size_t i = 0; i < m.pl.n; i++) {
    ck_assert_uint_eq(m.pl.p[i].off, at);
    ck_assert_ptr_eq(m.pl.p[i].raw, b->p + at);
    at += m.pl.p[i].len;
  }
  ck_assert_uint_eq(at, b->len);
  buf_free(&again);
}

/* Every proper prefix of a valid message is an error. */
static void assert_truncations_fail(const struct buf *b)
{
  for (size_t n = 0; n < b->len; n++)
    ck_assert_msg(decode_exact(b->p, n) != 0, "prefix of %zu/%zu bytes decoded", n, b->len);
  ck_assert_int_eq(decode_exact(b->p, b->len), 0);
}

/* ---------------------------------------------------------------- samples */

static const unsigned char RND[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const unsigned char MAC[32] = { 0xAA, 0xBB, 0xCC };

enum sample {
  S_T, S_T32, S_TR, S_RAND, S_RANDR, S_IDR, S_TP, S_TICKET, S_KEMAC, S_V1, S_V2, S_SP, S_ERR,
  S_EXT, S_SRTP_MAP, S_GENERIC_MAP, S_ALL, S_COUNT,
};

/* A message carrying one payload of a kind (or all of them). */
static void sample(enum sample s, struct buf *out)
{
  static const unsigned char policies[3] = { 0, 1, 2 }, sd[10] = { 9, 8, 7 }, spi[4] = { 1 };
  static const unsigned char params[6] = { 0, 1, 1, 1, 1, 16 };
  static const unsigned char tp_data[] = {
    MK_PT_IDR, 0, MK_ROLE_R, MK_ID_URI, 0, 3, 'a', 'b', 'c',
  };
  static const unsigned char td[] = { MK_PT_T, 0, 0, 0, MK_PT_LAST, MK_TS_COUNTER, 0, 0, 0, 1 };
  static const unsigned char init[] = { 0x55, 0x66 };
  struct mk_hdr h;
  struct mk_enc e;
  hdr_empty(&h, MK_DT_TRANSFER_INIT);
  if (s == S_SRTP_MAP) {
    h.map_type = MK_MAP_SRTP_ID;
    h.n_cs = 2;
    h.cs[0] = (struct mk_cs){ .policy_no = 3, .ssrc = 0x11223344u, .roc = 5 };
    h.cs[1] = (struct mk_cs){ .policy_no = 4, .ssrc = 0x55667788u, .roc = 0 };
  } else if (s == S_GENERIC_MAP || s == S_ALL) {
    h.map_type = MK_MAP_GENERIC_ID;
    h.n_cs = 2;
    h.cs[0] = (struct mk_cs){ .cs_id = 1, .prot_type = 0, .s = true, .n_policies = 3,
                              .policies = policies, .session_data_len = 10, .session_data = sd,
                              .spi_len = 4, .spi = spi };
    h.cs[1] = (struct mk_cs){ .cs_id = 7, .prot_type = 0 };
  }
  struct mk_ticket_fields t = { .ticket_type = 1, .subtype = 1, .version = 1, .prf = 1,
                                .flags = MK_TP_D | MK_TP_I | MK_TP_O, .res = 0,
                                .tp_len = sizeof tp_data, .tp_data = tp_data, .td_len = sizeof td,
                                .ticket_data = td, .id_len = sizeof init, .init_data = init };
  mk_enc_init(&e);
  mk_enc_hdr(&e, &h);
  bool all = s == S_ALL;
  if (s == S_T || all)
    mk_enc_t(&e, MK_TS_NTP_UTC, 0x0102030405060708ull);
  if (s == S_T32 || all)
    mk_enc_t(&e, MK_TS_NTP_UTC_32, 0x0A0B0C0Du);
  if (s == S_TR || all)
    mk_enc_tr(&e, MK_TR_END, MK_TS_NTP, 0x1112131415161718ull);
  if (s == S_RAND || all)
    mk_enc_rand(&e, RND, 16);
  if (s == S_RANDR || all)
    mk_enc_randr(&e, MK_RAND_KMS, RND, 7);
  if (s == S_IDR || all)
    mk_enc_idr(&e, 240, MK_ID_URI, "sip:as@example.com", 18);
  if (s == S_TP || all)
    mk_enc_ticket(&e, false, &t);
  if (s == S_TICKET || all)
    mk_enc_ticket(&e, true, &t);
  if (s == S_KEMAC || all)
    mk_enc_kemac(&e, 3, RND, 16, 2, MAC, 32);
  if (s == S_SP || all)
    mk_enc_sp(&e, 0, 0, params, sizeof params);
  if (s == S_ERR || all)
    mk_enc_err(&e, 14);
  if (s == S_EXT || all)
    mk_enc_ext(&e, 241, RND, 5);
  if (s == S_V1)
    mk_enc_v(&e, 1, MAC, 20);
  if (s == S_V2 || all || s == S_SRTP_MAP || s == S_GENERIC_MAP)
    mk_enc_v(&e, 2, MAC, 32);
  ck_assert_int_eq(mk_enc_finish(&e, &out->p, &out->len), 0);
}

/* ---------------------------------------------------------------- flow messages */

static unsigned char PSK[3][MK_PSK_LEN];

static bool lookup(void *ctx, const char *id, unsigned char psk[MK_PSK_LEN])
{
  (void)ctx;
  static const char *ids[3] = { "sip:a@x", "sip:b@x", "sip:c@x" };
  for (int i = 0; i < 3; i++)
    if (strcmp(id, ids[i]) == 0) {
      memcpy(psk, PSK[i], MK_PSK_LEN);
      return true;
    }
  return false;
}

enum { M_REQ, M_RESP, M_TI, M_RI, M_RR, M_TR, M_ERR, M_COUNT };

struct flow {
  struct mk_kms kms;
  struct buf m[M_COUNT];
  struct buf state;
  struct mk_session_keys keys;
  uint64_t now;
};

static void flow_run(struct flow *f)
{
  unsigned char r[64];
  const char *why = NULL, *rcpt[] = { "sip:b@x" };
  struct mk_resolve_request q;
  struct buf err = { 0 };
  memset(f, 0, sizeof *f);
  for (int i = 0; i < 3; i++)
    memset(PSK[i], 0x10 * (i + 1), MK_PSK_LEN);
  memset(r, 0x42, sizeof r);
  f->now = mk_ntp_from_unix(1700000000.0);
  f->kms.id = "kms";
  memset(f->kms.ticket_key, 0x99, MK_PSK_LEN);
  f->kms.lookup = lookup;
  f->kms.ticket_lifetime = (uint64_t)3600 << 32;
  f->kms.window = (uint64_t)30 << 32;
  ck_assert_int_eq(mk_request_init("sip:a@x", PSK[0], "kms", rcpt, 1, 77, f->now, r,
                                   &f->m[M_REQ].p, &f->m[M_REQ].len, &why), MK_OK);
  ck_assert_int_eq(mk_kms_request(&f->kms, f->m[M_REQ].p, f->m[M_REQ].len, f->now, r,
                                  &f->m[M_RESP].p, &f->m[M_RESP].len, &why), MK_OK);
  ck_assert_int_eq(mk_request_resp(f->m[M_RESP].p, f->m[M_RESP].len, "sip:a@x", PSK[0],
                                   f->m[M_REQ].p, f->m[M_REQ].len, &f->state.p, &f->state.len,
                                   &why), MK_OK);
  ck_assert_int_eq(mk_transfer_init(f->state.p, f->state.len, f->now, r, &f->m[M_TI].p,
                                    &f->m[M_TI].len, &why), MK_OK);
  ck_assert_int_eq(mk_resolve_init("sip:c@x", PSK[2], f->m[M_TI].p, f->m[M_TI].len, "sip:as@x",
                                   true, f->now, r, &f->m[M_RI].p, &f->m[M_RI].len, &why), MK_OK);
  ck_assert_int_eq(mk_kms_resolve_open(&f->kms, f->m[M_RI].p, f->m[M_RI].len, f->now, &q, &err.p,
                                       &err.len, &why), MK_OK);
  ck_assert_int_eq(mk_kms_resolve_finish(&f->kms, f->m[M_RI].p, f->m[M_RI].len, &q, true, f->now,
                                         r, &f->m[M_RR].p, &f->m[M_RR].len, &why), MK_OK);
  ck_assert_int_eq(mk_resolve_resp(f->m[M_RR].p, f->m[M_RR].len, "sip:c@x", PSK[2], f->m[M_RI].p,
                                   f->m[M_RI].len, f->m[M_TI].p, f->m[M_TI].len, &f->keys, &why),
                   MK_OK);
  ck_assert_int_eq(mk_transfer_resp(&f->keys, f->m[M_TI].p, f->m[M_TI].len, f->now, &f->m[M_TR].p,
                                    &f->m[M_TR].len, &why), MK_OK);
  ck_assert_int_eq(mk_kms_resolve_finish(&f->kms, f->m[M_RI].p, f->m[M_RI].len, &q, false, f->now,
                                         r, &f->m[M_ERR].p, &f->m[M_ERR].len, &why),
                   MK_E_NOT_ALLOWED);
}

static void flow_free(struct flow *f)
{
  for (int i = 0; i < M_COUNT; i++)
    buf_free(&f->m[i]);
  buf_free(&f->state);
}

/* ---------------------------------------------------------------- round trips */

START_TEST(every_payload_round_trips)
{
  static struct mk_msg m;
  for (int s = 0; s < S_COUNT; s++) {
    struct buf b = { 0 };
    sample((enum sample)s, &b);
    assert_round_trip(&b);
    buf_free(&b);
  }
  /* and the fields come back */
  struct buf b = { 0 };
  sample(S_ALL, &b);
  ck_assert_int_eq(mk_decode(b.p, b.len, &m, NULL), 0);
  ck_assert_uint_eq(m.hdr.version, 1);
  ck_assert_uint_eq(m.hdr.data_type, MK_DT_TRANSFER_INIT);
  ck_assert_uint_eq(m.hdr.prf, 1);
  ck_assert_uint_eq(m.hdr.csb_id, 0xDEADBEEFu);
  ck_assert_uint_eq(m.hdr.map_type, MK_MAP_GENERIC_ID);
  ck_assert_uint_eq(m.hdr.n_cs, 2);
  ck_assert_uint_eq(m.hdr.cs[0].cs_id, 1);
  ck_assert(m.hdr.cs[0].s);
  ck_assert_uint_eq(m.hdr.cs[0].n_policies, 3);
  ck_assert_uint_eq(m.hdr.cs[0].policies[2], 2);
  ck_assert_uint_eq(m.hdr.cs[0].session_data_len, 10);
  ck_assert_uint_eq(m.hdr.cs[0].session_data[0], 9);
  ck_assert_uint_eq(m.hdr.cs[0].spi_len, 4);
  ck_assert_uint_eq(m.hdr.cs[1].cs_id, 7);
  ck_assert_uint_eq(m.pl.n, 13);
  const struct mk_payload *p;
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_T, -1, &p), MK_DEC_ERR);   /* two T payloads */
  ck_assert_uint_eq(mk_count(&m.pl, MK_PT_T, -1), 2);
  ck_assert_uint_eq(m.pl.p[0].u.t.value, 0x0102030405060708ull);
  ck_assert_uint_eq(m.pl.p[1].u.t.ts_type, MK_TS_NTP_UTC_32);
  ck_assert_uint_eq(m.pl.p[1].u.t.value, 0x0A0B0C0Du);
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_TR, MK_TR_END, &p), 1);
  ck_assert_uint_eq(p->u.t.value, 0x1112131415161718ull);
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_RAND, -1, &p), 1);
  ck_assert_mem_eq(p->u.rand.data, RND, 16);
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_RANDR, MK_RAND_KMS, &p), 1);
  ck_assert_uint_eq(p->u.rand.len, 7);
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_IDR, 240, &p), 1);
  ck_assert_uint_eq(p->u.idr.len, 18);
  ck_assert_mem_eq(p->u.idr.data, "sip:as@example.com", 18);
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_IDR, MK_ROLE_R, &p), 0);
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_TICKET, -1, &p), 1);
  ck_assert_uint_eq(p->u.ticket.ticket_type, 1);
  ck_assert_uint_eq(p->u.ticket.prf, 1);
  ck_assert_uint_eq(p->u.ticket.flags, MK_TP_D | MK_TP_I | MK_TP_O);
  ck_assert_uint_eq(p->u.ticket.tp_len, 9);
  ck_assert_uint_eq(p->u.ticket.td_len, 10);
  ck_assert_uint_eq(p->u.ticket.id_len, 2);
  ck_assert_uint_eq(p->raw[p->u.ticket.td_len_off + 2], MK_PT_T);   /* Ticket Data starts there */
  ck_assert_uint_eq(p->raw[p->u.ticket.id_len_off + 2], 0x55);
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_TP, -1, &p), 1);
  ck_assert_uint_eq(p->len, 1 + 7 + 2 + 9);
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_KEMAC, -1, &p), 1);
  ck_assert_uint_eq(p->u.kemac.encr_alg, 3);
  ck_assert_uint_eq(p->u.kemac.encr_len, 16);
  ck_assert_uint_eq(p->u.kemac.mac_alg, 2);
  ck_assert_uint_eq(p->u.kemac.mac_len, 32);
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_SP, -1, &p), 1);
  ck_assert_uint_eq(p->u.sp.len, 6);
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_ERR, -1, &p), 1);
  ck_assert_uint_eq(p->u.err.error_no, 14);
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_EXT, -1, &p), 1);
  ck_assert_uint_eq(p->u.ext.type, 241);
  ck_assert_uint_eq(p->u.ext.len, 5);
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_V, -1, &p), 1);
  ck_assert_ptr_eq(p, &m.pl.p[m.pl.n - 1]);
  ck_assert_uint_eq(p->u.v.mac_len, 32);
  buf_free(&b);
  /* SRTP-ID map */
  sample(S_SRTP_MAP, &b);
  ck_assert_int_eq(mk_decode(b.p, b.len, &m, NULL), 0);
  ck_assert_uint_eq(m.hdr.map_type, MK_MAP_SRTP_ID);
  ck_assert_uint_eq(m.hdr.cs[0].cs_id, 1);
  ck_assert_uint_eq(m.hdr.cs[1].cs_id, 2);
  ck_assert_uint_eq(m.hdr.cs[1].policy_no, 4);
  ck_assert_uint_eq(m.hdr.cs[1].ssrc, 0x55667788u);
  ck_assert_uint_eq(m.hdr.cs[0].roc, 5);
  ck_assert_uint_eq(m.hdr_len, 10 + 2 * 9);
  buf_free(&b);
}
END_TEST

START_TEST(sub_chains_round_trip)
{
  static struct mk_chain c;
  struct mk_payload thdr;
  struct mk_enc e;
  struct buf b = { 0 };
  static const unsigned char spi[2] = { 7, 8 }, vf[6] = { 1 }, vt[6] = { 2 };
  unsigned char key[32] = { 1 }, salt[14] = { 2 };
  /* key data sub-payloads (decrypted KEMAC content) of every type and KV */
  mk_enc_init(&e);
  mk_enc_keydata(&e, MK_KD_TGK, MK_KV_NULL, key, 32, NULL, 0, NULL, 0, NULL, 0);
  mk_enc_keydata(&e, MK_KD_TEK_SALT, MK_KV_SPI, key, 16, salt, 14, spi, 2, NULL, 0);
  mk_enc_keydata(&e, MK_KD_MPK, MK_KV_INTERVAL, key, 32, NULL, 0, vf, 6, vt, 6);
  mk_enc_keydata(&e, MK_KD_GTGK_SALT, MK_KV_NULL, key, 32, salt, 14, NULL, 0, NULL, 0);
  ck_assert_int_eq(mk_enc_finish(&e, &b.p, &b.len), 0);
  ck_assert_int_eq(mk_decode_chain(b.p, b.len, MK_PT_KEYDATA, MK_CTX_KEMAC_DATA, 0, &c, NULL), 0);
  ck_assert_uint_eq(c.n, 4);
  ck_assert_uint_eq(c.p[0].u.keydata.type, MK_KD_TGK);
  ck_assert_uint_eq(c.p[0].u.keydata.key_len, 32);
  ck_assert_uint_eq(c.p[1].u.keydata.salt_len, 14);
  ck_assert_mem_eq(c.p[1].u.keydata.salt, salt, 14);
  ck_assert_uint_eq(c.p[1].u.keydata.spi_len, 2);
  ck_assert_uint_eq(c.p[1].u.keydata.spi[1], 8);
  ck_assert_uint_eq(c.p[2].u.keydata.vf_len, 6);
  ck_assert_uint_eq(c.p[2].u.keydata.vt[0], 2);
  ck_assert_uint_eq(c.p[3].u.keydata.type, MK_KD_GTGK_SALT);
  for (size_t n = 0; n < b.len; n++) {
    unsigned char *q = exact(b.p, n);
    ck_assert_int_eq(mk_decode_chain(q, n, MK_PT_KEYDATA, MK_CTX_KEMAC_DATA, 0, &c, NULL),
                     MK_DEC_ERR);
    free(q);
  }
  buf_free(&b);
  /* Ticket Data: THDR, T, RAND, V */
  mk_enc_init(&e);
  mk_enc_thdr(&e, (const unsigned char *)"hd", 2);
  mk_enc_t(&e, MK_TS_NTP_UTC, 5);
  mk_enc_rand(&e, RND, 16);
  mk_enc_v(&e, 2, MAC, 32);
  ck_assert_int_eq(mk_enc_finish(&e, &b.p, &b.len), 0);
  ck_assert_int_eq(mk_decode_ticket_data(b.p, b.len, 100, &thdr, &c, NULL), 0);
  ck_assert_uint_eq(thdr.u.thdr.len, 2);
  ck_assert_uint_eq(thdr.len, 5);
  ck_assert_uint_eq(c.n, 3);
  ck_assert_uint_eq(c.p[0].off, 105);
  for (size_t n = 0; n < b.len; n++) {
    unsigned char *q = exact(b.p, n);
    ck_assert_int_eq(mk_decode_ticket_data(q, n, 0, &thdr, &c, NULL), MK_DEC_ERR);
    free(q);
  }
  buf_free(&b);
  /* Initiator Data: First Payload, Vi, Vr (V need not be last here) */
  mk_enc_init(&e);
  mk_enc_first(&e);
  mk_enc_v(&e, 2, MAC, 32);
  mk_enc_v(&e, 2, MAC, 32);
  ck_assert_int_eq(mk_enc_finish(&e, &b.p, &b.len), 0);
  ck_assert_uint_eq(b.p[0], MK_PT_V);
  ck_assert_int_eq(mk_decode_first_chain(b.p, b.len, MK_CTX_INIT_DATA, 0, &c, NULL), 0);
  ck_assert_uint_eq(c.n, 2);
  ck_assert_uint_eq(c.p[0].next, MK_PT_V);
  ck_assert_uint_eq(c.p[1].off, 1 + 34);
  /* the same chain is refused where V must be last */
  ck_assert_int_eq(mk_decode_first_chain(b.p, b.len, MK_CTX_TICKET_DATA, 0, &c, NULL), MK_DEC_ERR);
  ck_assert_int_eq(mk_decode_first_chain(b.p, b.len, MK_CTX_TP_DATA, 0, &c, NULL), MK_DEC_ERR);
  ck_assert_int_eq(mk_decode_first_chain(b.p, 0, MK_CTX_TP_DATA, 0, &c, NULL), 0);
  ck_assert_uint_eq(c.n, 0);
  buf_free(&b);
}
END_TEST

START_TEST(every_message_type_round_trips)
{
  static struct flow f;
  static struct mk_msg m;
  static const uint8_t types[M_COUNT] = {
    MK_DT_REQUEST_INIT_PSK, MK_DT_REQUEST_RESP, MK_DT_TRANSFER_INIT, MK_DT_RESOLVE_INIT_PSK,
    MK_DT_RESOLVE_RESP, MK_DT_TRANSFER_RESP, MK_DT_ERROR,
  };
  flow_run(&f);
  for (int i = 0; i < M_COUNT; i++) {
    assert_round_trip(&f.m[i]);
    ck_assert_int_eq(mk_decode(f.m[i].p, f.m[i].len, &m, NULL), 0);
    ck_assert_uint_eq(m.hdr.data_type, types[i]);
    ck_assert_uint_eq(m.hdr.prf, 1);
    ck_assert_uint_eq(m.pl.p[m.pl.n - 1].type, MK_PT_V);
  }
  /* TRANSFER_INIT: GENERIC-ID map with CS 1, and its sub-chains decode */
  ck_assert_int_eq(mk_decode(f.m[M_TI].p, f.m[M_TI].len, &m, NULL), 0);
  ck_assert_uint_eq(m.hdr.map_type, MK_MAP_GENERIC_ID);
  ck_assert_uint_eq(m.hdr.cs[0].cs_id, 1);
  ck_assert(m.hdr.v);
  const struct mk_payload *tk;
  static struct mk_chain c;
  struct mk_payload thdr;
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_TICKET, -1, &tk), 1);
  ck_assert_int_eq(mk_decode_first_chain(tk->u.ticket.tp_data, tk->u.ticket.tp_len,
                                         MK_CTX_TP_DATA, 0, &c, NULL), 0);
  ck_assert_uint_eq(mk_count(&c, MK_PT_IDR, MK_ROLE_R), 1);
  ck_assert_uint_eq(mk_count(&c, MK_PT_TR, -1), 2);
  ck_assert_int_eq(mk_decode_ticket_data(tk->u.ticket.ticket_data, tk->u.ticket.td_len, 0, &thdr,
                                         &c, NULL), 0);
  ck_assert_uint_eq(c.n, 4);   /* T, RAND, KEMAC, V */
  ck_assert_int_eq(mk_decode_first_chain(tk->u.ticket.init_data, tk->u.ticket.id_len,
                                         MK_CTX_INIT_DATA, 0, &c, NULL), 0);
  ck_assert_uint_eq(c.n, 2);
  /* RESOLVE_INIT carries ID-AS (IDR role 240) and the CDIV extension */
  ck_assert_int_eq(mk_decode(f.m[M_RI].p, f.m[M_RI].len, &m, NULL), 0);
  ck_assert_uint_eq(mk_count(&m.pl, MK_PT_IDR, MK_ROLE_AS), 1);
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_EXT, -1, &tk), 1);
  ck_assert_uint_eq(tk->u.ext.type, MK_EXT_CDIV);
  ck_assert_uint_eq(m.hdr.map_type, MK_MAP_EMPTY);
  ck_assert_uint_eq(m.hdr.n_cs, 0);
  flow_free(&f);
}
END_TEST

/* ---------------------------------------------------------------- malformed */

START_TEST(truncation_at_every_offset_fails)
{
  static struct flow f;
  for (int s = 0; s < S_COUNT; s++) {
    struct buf b = { 0 };
    sample((enum sample)s, &b);
    assert_truncations_fail(&b);
    buf_free(&b);
  }
  flow_run(&f);
  for (int i = 0; i < M_COUNT; i++)
    assert_truncations_fail(&f.m[i]);
  flow_free(&f);
}
END_TEST

/* A one-payload message: HDR (10 bytes, empty map) then the payload. */
static void one_payload(const unsigned char *pl, size_t len, uint8_t type, struct buf *out)
{
  static const unsigned char hdr[10] = { 1, MK_DT_ERROR, 0, 1, 0, 0, 0, 1, 0, MK_MAP_EMPTY };
  out->len = 10 + len;
  out->p = malloc(out->len);
  ck_assert_ptr_nonnull(out->p);
  memcpy(out->p, hdr, 10);
  out->p[2] = type;
  memcpy(out->p + 10, pl, len);
}

static int decode_one(const unsigned char *pl, size_t len, uint8_t type)
{
  struct buf b = { 0 };
  one_payload(pl, len, type, &b);
  int rc = decode_exact(b.p, b.len);
  buf_free(&b);
  return rc;
}

START_TEST(lengths_off_by_one_fail)
{
  unsigned char p[300];
  /* RAND: length byte at 1 */
  memset(p, 0, sizeof p);
  p[1] = 16;
  ck_assert_int_eq(decode_one(p, 2 + 16, MK_PT_RAND), 0);
  p[1] = 17;
  ck_assert_int_eq(decode_one(p, 2 + 16, MK_PT_RAND), MK_DEC_ERR);
  p[1] = 15;
  ck_assert_int_eq(decode_one(p, 2 + 16, MK_PT_RAND), MK_DEC_ERR);
  /* RANDR: length at 2 */
  memset(p, 0, sizeof p);
  p[1] = 1, p[2] = 16;
  ck_assert_int_eq(decode_one(p, 3 + 16, MK_PT_RANDR), 0);
  p[2] = 17;
  ck_assert_int_eq(decode_one(p, 3 + 16, MK_PT_RANDR), MK_DEC_ERR);
  p[2] = 15;
  ck_assert_int_eq(decode_one(p, 3 + 16, MK_PT_RANDR), MK_DEC_ERR);
  /* IDR: 16-bit length at 3 */
  memset(p, 'x', sizeof p);
  p[0] = 0, p[1] = 2, p[2] = 1, p[3] = 0, p[4] = 10;
  ck_assert_int_eq(decode_one(p, 5 + 10, MK_PT_IDR), 0);
  p[4] = 11;
  ck_assert_int_eq(decode_one(p, 5 + 10, MK_PT_IDR), MK_DEC_ERR);
  p[4] = 9;
  ck_assert_int_eq(decode_one(p, 5 + 10, MK_PT_IDR), MK_DEC_ERR);
  /* EXT: 16-bit length at 2 */
  memset(p, 0, sizeof p);
  p[1] = 241, p[3] = 4;
  ck_assert_int_eq(decode_one(p, 4 + 4, MK_PT_EXT), 0);
  p[3] = 5;
  ck_assert_int_eq(decode_one(p, 4 + 4, MK_PT_EXT), MK_DEC_ERR);
  p[3] = 3;
  ck_assert_int_eq(decode_one(p, 4 + 4, MK_PT_EXT), MK_DEC_ERR);
  /* SP: 16-bit length at 3, TLVs must fill it */
  memset(p, 0, sizeof p);
  p[4] = 6, p[5] = 0, p[6] = 1, p[7] = 1, p[8] = 1, p[9] = 1, p[10] = 32;
  ck_assert_int_eq(decode_one(p, 5 + 6, MK_PT_SP), 0);
  p[4] = 7;
  ck_assert_int_eq(decode_one(p, 5 + 6, MK_PT_SP), MK_DEC_ERR);
  p[4] = 5;
  ck_assert_int_eq(decode_one(p, 5 + 6, MK_PT_SP), MK_DEC_ERR);
  p[4] = 6, p[9] = 2;          /* inner TLV length one too long */
  ck_assert_int_eq(decode_one(p, 5 + 6, MK_PT_SP), MK_DEC_ERR);
  /* KEMAC: encr length at 2-3 */
  memset(p, 0, sizeof p);
  p[1] = 3, p[3] = 8, p[12] = 0;   /* 8 bytes, MAC NULL */
  ck_assert_int_eq(decode_one(p, 4 + 8 + 1, MK_PT_KEMAC), 0);
  p[3] = 9;
  ck_assert_int_eq(decode_one(p, 4 + 8 + 1, MK_PT_KEMAC), MK_DEC_ERR);
  p[3] = 7;
  ck_assert_int_eq(decode_one(p, 4 + 8 + 1, MK_PT_KEMAC), MK_DEC_ERR);
  /* TICKET: TP, Ticket Data and Initiator Data lengths */
  memset(p, 0, sizeof p);
  p[2] = 1, p[3] = 1, p[4] = 1, p[5] = 2;
  p[9] = 2;                         /* TP Data length 2 (bytes 10-11) */
  p[13] = 3;                        /* Ticket Data length 3 (14-16) */
  p[18] = 1;                        /* Initiator Data length 1 (19) */
  ck_assert_int_eq(decode_one(p, 20, MK_PT_TICKET), 0);
  for (int field = 0; field < 3; field++) {
    static const int at[3] = { 9, 13, 18 };
    p[at[field]]++;
    ck_assert_int_eq(decode_one(p, 20, MK_PT_TICKET), MK_DEC_ERR);
    p[at[field]] -= 2;
    ck_assert_int_eq(decode_one(p, 20, MK_PT_TICKET), MK_DEC_ERR);
    p[at[field]]++;
  }
  /* TP: its TP Data length at 8-9 */
  memset(p, 0, sizeof p);
  p[2] = 1, p[3] = 1, p[4] = 1, p[5] = 2, p[9] = 4;
  ck_assert_int_eq(decode_one(p, 14, MK_PT_TP), 0);
  p[9] = 5;
  ck_assert_int_eq(decode_one(p, 14, MK_PT_TP), MK_DEC_ERR);
  p[9] = 3;
  ck_assert_int_eq(decode_one(p, 14, MK_PT_TP), MK_DEC_ERR);
  /* V with a MAC alg whose length does not match the bytes */
  memset(p, 0, sizeof p);
  p[1] = 2;
  ck_assert_int_eq(decode_one(p, 2 + 32, MK_PT_V), 0);
  ck_assert_int_eq(decode_one(p, 2 + 31, MK_PT_V), MK_DEC_ERR);
  ck_assert_int_eq(decode_one(p, 2 + 33, MK_PT_V), MK_DEC_ERR);
  p[1] = 1;
  ck_assert_int_eq(decode_one(p, 2 + 32, MK_PT_V), MK_DEC_ERR);
}
END_TEST

START_TEST(bad_next_payload_chains_fail)
{
  struct buf b = { 0 };
  unsigned char p[64];
  memset(p, 0, sizeof p);
  p[1] = MK_ERR_AUTH;
  ck_assert_int_eq(decode_one(p, 4, MK_PT_ERR), 0);
  /* unknown types, payloads not allowed at message level */
  static const uint8_t bad[] = { 2, 3, 4, 6, 7, 8, 18, 19, MK_PT_KEYDATA, 22, 99, 200, 255 };
  for (size_t i = 0; i < sizeof bad; i++)
    ck_assert_int_eq(decode_one(p, 4, bad[i]), MK_DEC_ERR);
  /* the ERR points at a next payload that is not there (unterminated) */
  p[0] = MK_PT_ERR;
  ck_assert_int_eq(decode_one(p, 4, MK_PT_ERR), MK_DEC_ERR);
  ck_assert_int_eq(decode_one(p, 8, MK_PT_ERR), 0);   /* ERR, ERR */
  /* V followed by something */
  memset(p, 0, sizeof p);
  p[0] = MK_PT_ERR, p[1] = 2;
  ck_assert_int_eq(decode_one(p, 34 + 4, MK_PT_V), MK_DEC_ERR);
  /* trailing bytes after Last */
  memset(p, 0, sizeof p);
  ck_assert_int_eq(decode_one(p, 5, MK_PT_ERR), MK_DEC_ERR);
  ck_assert_int_eq(decode_one(p, 0, MK_PT_LAST), 0);    /* a bare HDR */
  ck_assert_int_eq(decode_one(p, 1, MK_PT_LAST), MK_DEC_ERR);
  /* a self-referencing chain: ERR -> ERR -> ... stops at MK_MAX_PAYLOADS */
  unsigned char *many = calloc(MK_MAX_PAYLOADS + 1, 4);
  for (size_t i = 0; i < MK_MAX_PAYLOADS; i++)
    many[4 * i] = i + 1 < MK_MAX_PAYLOADS ? MK_PT_ERR : MK_PT_LAST;
  ck_assert_int_eq(decode_one(many, 4 * MK_MAX_PAYLOADS, MK_PT_ERR), 0);
  for (size_t i = 0; i <= MK_MAX_PAYLOADS; i++)
    many[4 * i] = i < MK_MAX_PAYLOADS ? MK_PT_ERR : MK_PT_LAST;
  ck_assert_int_eq(decode_one(many, 4 * (MK_MAX_PAYLOADS + 1), MK_PT_ERR), MK_DEC_ERR);
  free(many);
  /* HDR: unknown version, map type, too many crypto sessions */
  sample(S_T, &b);
  b.p[0] = 2;
  ck_assert_int_eq(decode_exact(b.p, b.len), MK_DEC_ERR);
  b.p[0] = 1;
  b.p[9] = 3;
  ck_assert_int_eq(decode_exact(b.p, b.len), MK_DEC_ERR);
  b.p[9] = MK_MAP_EMPTY;
  b.p[8] = 5;                       /* #CS with an empty map: no map info */
  ck_assert_int_eq(decode_exact(b.p, b.len), 0);
  buf_free(&b);
  sample(S_SRTP_MAP, &b);
  b.p[8] = 3;                       /* one more CS than present */
  ck_assert_int_eq(decode_exact(b.p, b.len), MK_DEC_ERR);
  b.p[8] = MK_MAX_CS + 1;
  ck_assert_int_eq(decode_exact(b.p, b.len), MK_DEC_ERR);
  buf_free(&b);
  /* unknown TS type, MAC alg, key data type, KV type */
  memset(p, 0, sizeof p);
  p[1] = 4;
  ck_assert_int_eq(decode_one(p, 10, MK_PT_T), MK_DEC_ERR);
  p[1] = 3;
  ck_assert_int_eq(decode_one(p, 6, MK_PT_T), 0);
  memset(p, 0, sizeof p);
  p[1] = 3;
  ck_assert_int_eq(decode_one(p, 2, MK_PT_V), MK_DEC_ERR);
  static struct mk_chain c;
  unsigned char kd[8] = { 0, 0x70, 0, 1, 0xAA, 0, 0, 0 };
  ck_assert_int_eq(mk_decode_chain(kd, 5, MK_PT_KEYDATA, MK_CTX_KEMAC_DATA, 0, &c, NULL),
                   MK_DEC_ERR);
  kd[1] = 0x03;                     /* TGK, KV 3 */
  ck_assert_int_eq(mk_decode_chain(kd, 5, MK_PT_KEYDATA, MK_CTX_KEMAC_DATA, 0, &c, NULL),
                   MK_DEC_ERR);
  kd[1] = 0x00;
  ck_assert_int_eq(mk_decode_chain(kd, 5, MK_PT_KEYDATA, MK_CTX_KEMAC_DATA, 0, &c, NULL), 0);
  ck_assert_int_eq(mk_decode_chain(kd, 5, MK_PT_T, MK_CTX_KEMAC_DATA, 0, &c, NULL), MK_DEC_ERR);
  /* payloads outside the context that admits them */
  unsigned char err4[4] = { 0, 0, 0, 0 };
  ck_assert_int_eq(mk_decode_first_chain((unsigned char[]){ MK_PT_ERR, 0, 0, 0, 0 }, 5,
                                         MK_CTX_INIT_DATA, 0, &c, NULL), MK_DEC_ERR);
  ck_assert_int_eq(mk_decode_first_chain((unsigned char[]){ MK_PT_ERR, 0, 0, 0, 0 }, 5,
                                         MK_CTX_TP_DATA, 0, &c, NULL), MK_DEC_ERR);
  ck_assert_int_eq(mk_decode_chain(err4, 4, MK_PT_ERR, MK_CTX_MSG, 0, &c, NULL), 0);
  ck_assert_int_eq(mk_decode_chain(err4, 4, MK_PT_TICKET, MK_CTX_TP_DATA, 0, &c, NULL),
                   MK_DEC_ERR);
  ck_assert_int_eq(mk_decode_chain(err4, 4, MK_PT_TP, MK_CTX_TICKET_DATA, 0, &c, NULL),
                   MK_DEC_ERR);
  /* a First Payload byte of Last with payload bytes after it */
  unsigned char fp[5] = { MK_PT_LAST, 0, 0, 0, 0 };
  ck_assert_int_eq(mk_decode_first_chain(fp, 5, MK_CTX_TP_DATA, 0, &c, NULL), MK_DEC_ERR);
  ck_assert_int_eq(mk_decode_first_chain(fp, 1, MK_CTX_TP_DATA, 0, &c, NULL), 0);
}
END_TEST

START_TEST(oversized_fields_fail)
{
  unsigned char *p = calloc(1, MK_MSG_MAX + 16);
  ck_assert_ptr_nonnull(p);
  /* an identity of 255 bytes is fine, 256 is not (even when present) */
  p[1] = 2, p[2] = 1, p[3] = 0, p[4] = 255;
  memset(p + 5, 'a', 300);
  ck_assert_int_eq(decode_one(p, 5 + 255, MK_PT_IDR), 0);
  p[3] = 1, p[4] = 0;
  ck_assert_int_eq(decode_one(p, 5 + 256, MK_PT_IDR), MK_DEC_ERR);
  /* a message over 64 KiB: an EXT of 65535 bytes after the HDR */
  memset(p, 0, MK_MSG_MAX + 16);
  p[1] = 241, p[2] = 0xFF, p[3] = 0xFF;
  ck_assert_int_eq(decode_one(p, 4 + 65535 - 14, MK_PT_EXT), MK_DEC_ERR);   /* lengths differ */
  struct buf b = { 0 };
  one_payload(p, 4 + 65535, MK_PT_EXT, &b);
  ck_assert_uint_gt(b.len, MK_MSG_MAX);
  ck_assert_int_eq(decode_exact(b.p, b.len), MK_DEC_ERR);
  buf_free(&b);
  /* the encoder refuses them too */
  struct mk_enc e;
  struct mk_hdr h;
  char id[256];
  memset(id, 'a', sizeof id);
  hdr_empty(&h, MK_DT_ERROR);
  mk_enc_init(&e);
  mk_enc_hdr(&e, &h);
  mk_enc_idr(&e, 1, 1, id, 256);
  ck_assert_int_eq(mk_enc_finish(&e, &b.p, &b.len), -1);
  ck_assert_ptr_null(b.p);
  mk_enc_init(&e);
  mk_enc_hdr(&e, &h);
  for (int i = 0; i < 2; i++)
    mk_enc_ext(&e, 241, p, 40000);
  ck_assert_int_eq(mk_enc_finish(&e, &b.p, &b.len), -1);
  mk_enc_init(&e);
  h.n_cs = MK_MAX_CS + 1;
  mk_enc_hdr(&e, &h);
  ck_assert_int_eq(mk_enc_finish(&e, &b.p, &b.len), -1);
  mk_enc_init(&e);
  h.n_cs = 0;
  h.map_type = 9;
  mk_enc_hdr(&e, &h);
  ck_assert_int_eq(mk_enc_finish(&e, &b.p, &b.len), -1);
  mk_enc_init(&e);
  ck_assert_int_eq(mk_enc_finish(&e, &b.p, &b.len), -1);   /* nothing encoded */
  free(p);
  /* empty and NULL input */
  static struct mk_msg m;
  ck_assert_int_eq(mk_decode(NULL, 0, &m, NULL), MK_DEC_ERR);
  ck_assert_int_eq(mk_decode(NULL, 10, &m, NULL), MK_DEC_ERR);
}
END_TEST

/* ---------------------------------------------------------------- fuzz */

static uint64_t rng_state;

static uint64_t rng(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* A mutation of a valid message: flipped, overwritten, inserted or
 * removed bytes, or a truncation. */
static size_t mutate(const struct buf *in, unsigned char *out, size_t cap)
{
  size_t len = in->len < cap ? in->len : cap;
  memcpy(out, in->p, len);
  int edits = 1 + (int)(rng() % 4);
  for (int i = 0; i < edits && len > 0; i++) {
    size_t at = rng() % len;
    switch (rng() % 6) {
    case 0: out[at] ^= (unsigned char)(1u << (rng() % 8)); break;
    case 1: out[at] = (unsigned char)rng(); break;
    case 2: out[at] = (unsigned char)(rng() % 2 ? 0xFF : 0x00); break;
    case 3:
      if (len < cap) {
        memmove(out + at + 1, out + at, len - at);
        out[at] = (unsigned char)rng();
        len++;
      }
      break;
    case 4:
      memmove(out + at, out + at + 1, len - at - 1);
      len--;
      break;
    default: len = at; break;
    }
  }
  return len;
}

/* Decodes m and every sub-chain it carries, as the exchanges do. */
static void decode_deep(const unsigned char *p, size_t len)
{
  static struct mk_msg m;
  static struct mk_chain c;
  struct mk_payload thdr;
  if (mk_decode(p, len, &m, NULL) != 0)
    return;
  for (size_t i = 0; i < m.pl.n; i++) {
    const struct mk_payload *pl = &m.pl.p[i];
    if (pl->type == MK_PT_TP || pl->type == MK_PT_TICKET)
      (void)mk_decode_first_chain(pl->u.ticket.tp_data, pl->u.ticket.tp_len, MK_CTX_TP_DATA, 0,
                                  &c, NULL);
    if (pl->type == MK_PT_TICKET) {
      (void)mk_decode_ticket_data(pl->u.ticket.ticket_data, pl->u.ticket.td_len, 0, &thdr, &c,
                                  NULL);
      (void)mk_decode_first_chain(pl->u.ticket.init_data, pl->u.ticket.id_len, MK_CTX_INIT_DATA,
                                  0, &c, NULL);
    }
    if (pl->type == MK_PT_KEMAC)
      (void)mk_decode_chain(pl->u.kemac.encr, pl->u.kemac.encr_len, MK_PT_KEYDATA,
                            MK_CTX_KEMAC_DATA, 0, &c, NULL);
  }
}

START_TEST(fuzz_decoder_never_crashes)
{
  static struct flow f;
  struct buf seeds[M_COUNT + S_COUNT];
  size_t n_seeds = 0, decoded = 0;
  flow_run(&f);
  for (int i = 0; i < M_COUNT; i++)
    seeds[n_seeds++] = f.m[i];
  for (int s = 0; s < S_COUNT; s++) {
    seeds[n_seeds] = (struct buf){ 0 };
    sample((enum sample)s, &seeds[n_seeds++]);
  }
  rng_state = 0x9E3779B97F4A7C15ull;
  unsigned char tmp[4096];
  for (int iter = 0; iter < 100000; iter++) {
    const struct buf *seed = &seeds[rng() % n_seeds];
    size_t len = mutate(seed, tmp, sizeof tmp);
    unsigned char *q = exact(tmp, len);
    static struct mk_msg m;
    if (mk_decode(q, len, &m, NULL) == 0)
      decoded++;
    decode_deep(q, len);
    free(q);
  }
  ck_assert_uint_gt(decoded, 0);     /* some mutations stay well-formed */
  for (int s = 0; s < S_COUNT; s++)
    buf_free(&seeds[M_COUNT + s]);
  flow_free(&f);
}
END_TEST

/* The exchanges on mutated input: an error code, never a crash, and never
 * a success on a message whose authenticated bytes changed. */
START_TEST(fuzz_exchanges_never_crash)
{
  static struct flow f;
  unsigned char tmp[4096], r[64];
  const char *why;
  flow_run(&f);
  memset(r, 7, sizeof r);
  rng_state = 0x123456789ABCDEFull;
  for (int iter = 0; iter < 3000; iter++) {
    int which = (int)(rng() % 6);
    static const int seed_of[6] = { M_REQ, M_RESP, M_RI, M_RR, M_TR, M_TI };
    const struct buf *seed = &f.m[seed_of[which]];
    size_t len = mutate(seed, tmp, sizeof tmp);
    unsigned char *q = exact(tmp, len);
    bool same = len == seed->len && memcmp(q, seed->p, len) == 0;
    struct buf out = { 0 };
    struct mk_resolve_request req;
    struct mk_session_keys keys;
    int rc;
    why = NULL;
    switch (which) {
    case 0:
      rc = mk_kms_request(&f.kms, q, len, f.now, r, &out.p, &out.len, &why);
      break;
    case 1:
      rc = mk_request_resp(q, len, "sip:a@x", PSK[0], f.m[M_REQ].p, f.m[M_REQ].len, &out.p,
                           &out.len, &why);
      break;
    case 2:
      rc = mk_kms_resolve_open(&f.kms, q, len, f.now, &req, &out.p, &out.len, &why);
      break;
    case 3:
      rc = mk_resolve_resp(q, len, "sip:c@x", PSK[2], f.m[M_RI].p, f.m[M_RI].len, f.m[M_TI].p,
                           f.m[M_TI].len, &keys, &why);
      break;
    case 4:
      rc = mk_initiator_keys(f.state.p, f.state.len, f.m[M_TI].p, f.m[M_TI].len, q, len, &keys,
                             &why);
      break;
    default:
      rc = mk_resolve_init("sip:c@x", PSK[2], q, len, NULL, false, f.now, r, &out.p, &out.len,
                           &why);
      break;
    }
    if (rc != MK_OK)
      ck_assert_ptr_nonnull(why);
    /* which 5 (building a RESOLVE_INIT) does not authenticate; the
     * others must refuse every changed byte of a MACed message */
    if (!same && which != 5)
      ck_assert_int_ne(rc, MK_OK);
    buf_free(&out);
    free(q);
  }
  flow_free(&f);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("mikey");
  TCase *tc = tcase_create("codec");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, every_payload_round_trips);
  tcase_add_test(tc, sub_chains_round_trip);
  tcase_add_test(tc, every_message_type_round_trips);
  tcase_add_test(tc, truncation_at_every_offset_fails);
  tcase_add_test(tc, lengths_off_by_one_fail);
  tcase_add_test(tc, bad_next_payload_chains_fail);
  tcase_add_test(tc, oversized_fields_fail);
  tcase_add_test(tc, fuzz_decoder_never_crashes);
  tcase_add_test(tc, fuzz_exchanges_never_crash);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
