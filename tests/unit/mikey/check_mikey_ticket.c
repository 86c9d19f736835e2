/* Unit tests for the MIKEY-TICKET exchanges (mikey_ticket.h) with fixed
 * randomness and time: A gets a ticket for B, B resolves it and both
 * derive the same keys; C resolves it after a diversion (ID-AS + CDIV) and
 * gets keys forked to C that A derives from C's TRANSFER_RESP; and every
 * refusal: deny, wrong PSK, expired ticket or timestamp, tampered ticket,
 * tampered TRANSFER_INIT, unknown users, replayed RESOLVE_INIT, a
 * TRANSFER_RESP naming someone else. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mikey/mikey.h"
#include "mikey/mikey_ticket.h"

#define ID_A "sip:alice@example.com"
#define ID_B "sip:bob@example.com"
#define ID_C "sip:carol@example.com"
#define ID_AS "sip:cdiv-as.example.com;lr"
#define ID_KMS "kms.example.com"
#define SEC(s) ((uint64_t)(s) << 32)

static unsigned char PSK_A[MK_PSK_LEN], PSK_B[MK_PSK_LEN], PSK_C[MK_PSK_LEN];
static uint64_t NOW;

static void fill(unsigned char *p, size_t n, unsigned char seed)
{
  for (size_t i = 0; i < n; i++)
    p[i] = (unsigned char)(seed + 7 * i);
}

static bool lookup(void *ctx, const char *id, unsigned char psk[MK_PSK_LEN])
{
  (void)ctx;
  const unsigned char *k = strcmp(id, ID_A) == 0 ? PSK_A : strcmp(id, ID_B) == 0 ? PSK_B
                         : strcmp(id, ID_C) == 0 ? PSK_C : NULL;
  if (k)
    memcpy(psk, k, MK_PSK_LEN);
  return k != NULL;
}

static struct mk_kms KMS;

static void setup(void)
{
  fill(PSK_A, MK_PSK_LEN, 0x11);
  fill(PSK_B, MK_PSK_LEN, 0x22);
  fill(PSK_C, MK_PSK_LEN, 0x33);
  NOW = mk_ntp_from_unix(1700000000.25);
  memset(&KMS, 0, sizeof KMS);
  KMS.id = ID_KMS;
  fill(KMS.ticket_key, MK_PSK_LEN, 0x77);
  KMS.lookup = lookup;
  KMS.lookup_ctx = NULL;
  KMS.ticket_lifetime = SEC(3600);
  KMS.window = SEC(30);
}

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

/* A's side up to TRANSFER_INIT. */
struct flow {
  struct buf req, resp, state, ti;
};

static void flow_free(struct flow *f)
{
  buf_free(&f->req);
  buf_free(&f->resp);
  buf_free(&f->state);
  buf_free(&f->ti);
}

static void flow_ticket(struct flow *f)
{
  const char *recipients[] = { ID_B };
  unsigned char rand_a[MK_RAND_LEN], rand_tgk[64], rand_ti[MK_RAND_LEN];
  const char *why = NULL;
  fill(rand_a, sizeof rand_a, 0xA0);
  fill(rand_tgk, sizeof rand_tgk, 0x5C);
  fill(rand_ti, sizeof rand_ti, 0xB1);
  memset(f, 0, sizeof *f);
  ck_assert_int_eq(mk_request_init(ID_A, PSK_A, ID_KMS, recipients, 1, 0x01020304u, NOW, rand_a,
                                   &f->req.p, &f->req.len, &why), MK_OK);
  ck_assert_int_eq(mk_kms_request(&KMS, f->req.p, f->req.len, NOW + SEC(1), rand_tgk,
                                  &f->resp.p, &f->resp.len, &why), MK_OK);
  ck_assert_int_eq(mk_request_resp(f->resp.p, f->resp.len, ID_A, PSK_A, f->req.p, f->req.len,
                                   &f->state.p, &f->state.len, &why), MK_OK);
  ck_assert_int_eq(mk_transfer_init(f->state.p, f->state.len, NOW + SEC(2), rand_ti,
                                    &f->ti.p, &f->ti.len, &why), MK_OK);
}

/* A responder's side: RESOLVE_INIT, the KMS's open/finish, RESOLVE_RESP. */
struct resolver {
  struct buf ri, rr;
  struct mk_resolve_request req;
  struct mk_session_keys keys;
  int open_rc, finish_rc, resp_rc;
};

static void resolve(const struct flow *f, struct resolver *r, const char *id,
                    const unsigned char *psk, const char *id_as, bool cdiv, bool permit,
                    uint64_t at, unsigned char rand_seed)
{
  unsigned char rand[MK_RAND_LEN], rand_kms[MK_RAND_LEN];
  const char *why = NULL;
  struct buf err = { 0 };
  fill(rand, sizeof rand, rand_seed);
  fill(rand_kms, sizeof rand_kms, (unsigned char)(rand_seed ^ 0xFF));
  memset(r, 0, sizeof *r);
  ck_assert_int_eq(mk_resolve_init(id, psk, f->ti.p, f->ti.len, id_as, cdiv, at, rand,
                                   &r->ri.p, &r->ri.len, &why), MK_OK);
  r->open_rc = mk_kms_resolve_open(&KMS, r->ri.p, r->ri.len, at + SEC(1), &r->req, &err.p,
                                   &err.len, &why);
  if (r->open_rc != MK_OK) {
    ck_assert_ptr_nonnull(err.p);          /* a MIKEY error message to send back */
    r->rr = err;
    return;
  }
  ck_assert_ptr_null(err.p);
  r->finish_rc = mk_kms_resolve_finish(&KMS, r->ri.p, r->ri.len, &r->req, permit, at + SEC(2),
                                       rand_kms, &r->rr.p, &r->rr.len, &why);
  ck_assert_ptr_nonnull(r->rr.p);
  r->resp_rc = mk_resolve_resp(r->rr.p, r->rr.len, id, psk, r->ri.p, r->ri.len, f->ti.p,
                               f->ti.len, &r->keys, &why);
}

static void resolver_free(struct resolver *r)
{
  buf_free(&r->ri);
  buf_free(&r->rr);
}

/* TRANSFER_RESP from the responder's keys, then A's keys from it. */
static int initiator_keys_from(const struct flow *f, const struct mk_session_keys *rk,
                               struct mk_session_keys *ak)
{
  struct buf tr = { 0 };
  const char *why = NULL;
  ck_assert_int_eq(mk_transfer_resp(rk, f->ti.p, f->ti.len, NOW + SEC(5), &tr.p, &tr.len, &why),
                   MK_OK);
  int rc = mk_initiator_keys(f->state.p, f->state.len, f->ti.p, f->ti.len, tr.p, tr.len, ak, &why);
  buf_free(&tr);
  return rc;
}

START_TEST(ntp_conversion)
{
  ck_assert_uint_eq(mk_ntp_from_unix(0.0), SEC(2208988800u));
  ck_assert_uint_eq(mk_ntp_from_unix(1.5), SEC(2208988801u) | 0x80000000u);
}
END_TEST

START_TEST(b_resolves_and_gets_a_keys)
{
  struct flow f;
  struct resolver b;
  struct mk_session_keys a;
  flow_ticket(&f);
  resolve(&f, &b, ID_B, PSK_B, NULL, false, true, NOW + SEC(3), 0xC0);
  ck_assert_int_eq(b.open_rc, MK_OK);
  ck_assert(b.req.requester_allowed);
  ck_assert(!b.req.cdiv);
  ck_assert_str_eq(b.req.id_as, "");
  ck_assert_str_eq(b.req.requester, ID_B);
  ck_assert_int_eq(b.finish_rc, MK_OK);
  ck_assert_int_eq(b.resp_rc, MK_OK);
  ck_assert_str_eq(b.keys.responder, ID_B);
  ck_assert_uint_eq(b.keys.csb_id, 0x01020304u);
  ck_assert_uint_eq(b.keys.cs_id, 1);
  ck_assert_int_eq(initiator_keys_from(&f, &b.keys, &a), MK_OK);
  ck_assert_mem_eq(a.tek, b.keys.tek, MK_TEK_LEN);
  ck_assert_mem_eq(a.salt, b.keys.salt, MK_SALT_LEN);
  ck_assert_str_eq(a.responder, ID_B);
  ck_assert_mem_eq(&a, &b.keys, sizeof a);
  resolver_free(&b);
  flow_free(&f);
}
END_TEST

START_TEST(c_resolves_after_diversion_with_forked_keys)
{
  struct flow f;
  struct resolver b, c;
  struct mk_session_keys a;
  unsigned char hash[32];
  const char *why = NULL;
  flow_ticket(&f);
  resolve(&f, &b, ID_B, PSK_B, NULL, false, true, NOW + SEC(3), 0xC0);
  ck_assert_int_eq(b.resp_rc, MK_OK);
  resolve(&f, &c, ID_C, PSK_C, ID_AS, true, true, NOW + SEC(4), 0xD0);
  ck_assert_int_eq(c.open_rc, MK_OK);
  ck_assert(!c.req.requester_allowed);
  ck_assert(c.req.cdiv);
  ck_assert_str_eq(c.req.id_as, ID_AS);
  ck_assert_str_eq(c.req.initiator, ID_A);
  ck_assert_str_eq(c.req.requester, ID_C);
  ck_assert_uint_eq(c.req.n_recipients, 1);
  ck_assert_str_eq(c.req.recipients[0], ID_B);
  ck_assert_int_eq(mk_ticket_hash(f.ti.p, f.ti.len, hash, &why), MK_OK);
  ck_assert_mem_eq(c.req.ticket_hash, hash, 32);
  ck_assert_int_eq(c.finish_rc, MK_OK);
  ck_assert_int_eq(c.resp_rc, MK_OK);
  ck_assert_str_eq(c.keys.responder, ID_C);
  ck_assert_int_eq(initiator_keys_from(&f, &c.keys, &a), MK_OK);
  ck_assert_mem_eq(&a, &c.keys, sizeof a);
  /* forking: C's keys are not B's */
  ck_assert(memcmp(c.keys.tek, b.keys.tek, MK_TEK_LEN) != 0);
  ck_assert(memcmp(c.keys.salt, b.keys.salt, MK_SALT_LEN) != 0);
  ck_assert(memcmp(c.keys.mpkr, b.keys.mpkr, MK_PSK_LEN) != 0);
  resolver_free(&b);
  resolver_free(&c);
  flow_free(&f);
}
END_TEST

START_TEST(cdiv_alone_and_id_as_alone_are_reported)
{
  struct flow f;
  struct resolver c;
  flow_ticket(&f);
  resolve(&f, &c, ID_C, PSK_C, NULL, true, true, NOW + SEC(4), 0xD0);
  ck_assert_int_eq(c.open_rc, MK_OK);
  ck_assert(c.req.cdiv);
  ck_assert_str_eq(c.req.id_as, "");
  resolver_free(&c);
  resolve(&f, &c, ID_C, PSK_C, ID_AS, false, true, NOW + SEC(4), 0xD1);
  ck_assert_int_eq(c.open_rc, MK_OK);
  ck_assert(!c.req.cdiv);
  ck_assert_str_eq(c.req.id_as, ID_AS);
  resolver_free(&c);
  flow_free(&f);
}
END_TEST

START_TEST(deny_gives_an_error_message)
{
  struct flow f;
  struct resolver c;
  struct mk_msg m;
  flow_ticket(&f);
  resolve(&f, &c, ID_C, PSK_C, ID_AS, true, false, NOW + SEC(4), 0xD0);
  ck_assert_int_eq(c.open_rc, MK_OK);
  ck_assert_int_eq(c.finish_rc, MK_E_NOT_ALLOWED);
  ck_assert_int_eq(mk_decode(c.rr.p, c.rr.len, &m, NULL), 0);
  ck_assert_uint_eq(m.hdr.data_type, MK_DT_ERROR);
  ck_assert_uint_eq(m.hdr.csb_id, 0x01020304u);
  ck_assert_uint_eq(mk_count(&m.pl, MK_PT_ERR, -1), 1);
  ck_assert_uint_eq(mk_count(&m.pl, MK_PT_V, -1), 1);    /* authenticated refusal */
  ck_assert_int_eq(c.resp_rc, MK_E_REFUSED);
  resolver_free(&c);
  flow_free(&f);
}
END_TEST

START_TEST(wrong_psk_is_auth_failure)
{
  struct flow f;
  struct resolver c;
  unsigned char bad[MK_PSK_LEN], rand[MK_RAND_LEN], rand_tgk[64];
  struct buf req = { 0 }, resp = { 0 };
  const char *why = NULL, *recipients[] = { ID_B };
  struct mk_msg m;
  fill(bad, sizeof bad, 0x99);
  flow_ticket(&f);
  resolve(&f, &c, ID_C, bad, ID_AS, true, true, NOW + SEC(4), 0xD0);
  ck_assert_int_eq(c.open_rc, MK_E_AUTH);
  ck_assert_int_eq(mk_decode(c.rr.p, c.rr.len, &m, NULL), 0);
  ck_assert_uint_eq(m.hdr.data_type, MK_DT_ERROR);
  ck_assert_uint_eq(mk_count(&m.pl, MK_PT_V, -1), 0);    /* unauthenticated: peer unknown */
  resolver_free(&c);
  /* and at request time */
  fill(rand, sizeof rand, 1);
  fill(rand_tgk, sizeof rand_tgk, 2);
  ck_assert_int_eq(mk_request_init(ID_A, bad, ID_KMS, recipients, 1, 7, NOW, rand, &req.p,
                                   &req.len, &why), MK_OK);
  ck_assert_int_eq(mk_kms_request(&KMS, req.p, req.len, NOW, rand_tgk, &resp.p, &resp.len, &why),
                   MK_E_AUTH);
  ck_assert_ptr_nonnull(resp.p);
  struct buf state = { 0 };
  ck_assert_int_eq(mk_request_resp(resp.p, resp.len, ID_A, bad, req.p, req.len, &state.p,
                                   &state.len, &why), MK_E_REFUSED);
  ck_assert_ptr_null(state.p);
  buf_free(&req);
  buf_free(&resp);
  flow_free(&f);
}
END_TEST

START_TEST(expired_ticket_and_stale_timestamp)
{
  struct flow f;
  struct resolver c;
  flow_ticket(&f);
  /* the ticket is valid for an hour from NOW + 1 s (KMS time) */
  resolve(&f, &c, ID_B, PSK_B, NULL, false, true, NOW + SEC(3700), 0xC0);
  ck_assert_int_eq(c.open_rc, MK_E_EXPIRED);
  resolver_free(&c);
  resolve(&f, &c, ID_B, PSK_B, NULL, false, true, NOW + SEC(3500), 0xC0);
  ck_assert_int_eq(c.open_rc, MK_OK);
  resolver_free(&c);
  /* a RESOLVE_INIT whose T is outside the window */
  unsigned char rand[MK_RAND_LEN];
  struct buf ri = { 0 }, err = { 0 };
  struct mk_resolve_request req;
  const char *why = NULL;
  fill(rand, sizeof rand, 3);
  ck_assert_int_eq(mk_resolve_init(ID_B, PSK_B, f.ti.p, f.ti.len, NULL, false, NOW, rand,
                                   &ri.p, &ri.len, &why), MK_OK);
  ck_assert_int_eq(mk_kms_resolve_open(&KMS, ri.p, ri.len, NOW + SEC(31), &req, &err.p, &err.len,
                                       &why), MK_E_EXPIRED);
  ck_assert_ptr_nonnull(err.p);
  buf_free(&err);
  ck_assert_int_eq(mk_kms_resolve_open(&KMS, ri.p, ri.len, NOW - SEC(31), &req, &err.p, &err.len,
                                       &why), MK_E_EXPIRED);
  buf_free(&err);
  ck_assert_int_eq(mk_kms_resolve_open(&KMS, ri.p, ri.len, NOW + SEC(30), &req, &err.p, &err.len,
                                       &why), MK_OK);
  buf_free(&ri);
  /* a REQUEST_INIT whose T is outside the window */
  struct buf req2 = { 0 }, resp = { 0 };
  unsigned char rand_tgk[64];
  const char *recipients[] = { ID_B };
  fill(rand_tgk, sizeof rand_tgk, 4);
  ck_assert_int_eq(mk_request_init(ID_A, PSK_A, ID_KMS, recipients, 1, 9, NOW, rand, &req2.p,
                                   &req2.len, &why), MK_OK);
  ck_assert_int_eq(mk_kms_request(&KMS, req2.p, req2.len, NOW + SEC(60), rand_tgk, &resp.p,
                                  &resp.len, &why), MK_E_EXPIRED);
  buf_free(&req2);
  buf_free(&resp);
  flow_free(&f);
}
END_TEST

/* Offsets within a TRANSFER_INIT: the TICKET payload, its TP Data and its
 * Ticket Data. */
struct ticket_offs {
  size_t tk, tp, tp_len, td, td_len;
};

static void ticket_offsets(const struct buf *ti, struct ticket_offs *o)
{
  struct mk_msg m;
  const struct mk_payload *tk = NULL;
  ck_assert_int_eq(mk_decode(ti->p, ti->len, &m, NULL), 0);
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_TICKET, -1, &tk), 1);
  o->tk = tk->off;
  o->tp = (size_t)(tk->u.ticket.tp_data - ti->p);
  o->tp_len = tk->u.ticket.tp_len;
  o->td = (size_t)(tk->u.ticket.ticket_data - ti->p);
  o->td_len = tk->u.ticket.td_len;
}

START_TEST(tampered_ticket_bytes_are_auth_failures)
{
  struct flow f;
  struct ticket_offs o;
  flow_ticket(&f);
  ticket_offsets(&f.ti, &o);
  /* the ticket MAC covers the policy (flags, recipients, validity) and the
   * Ticket Data (timestamp, RAND, encrypted keys, the MAC itself) */
  size_t offsets[] = {
    o.tk + 6,                 /* flags E..L: the L flag */
    o.tp + o.tp_len - 1,      /* last byte of the recipient's identity */
    o.td + 5,                 /* the Ticket Data's timestamp */
    o.td + o.td_len / 2,      /* inside the KEMAC */
    o.td + o.td_len - 10,     /* inside the MAC */
    o.td + o.td_len - 1,
  };
  for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
    struct resolver c;
    f.ti.p[offsets[i]] ^= 0x01;
    resolve(&f, &c, ID_B, PSK_B, NULL, false, true, NOW + SEC(3), 0xC0);
    ck_assert_msg(c.open_rc == MK_E_AUTH, "offset %zu: rc %d", offsets[i], c.open_rc);
    f.ti.p[offsets[i]] ^= 0x01;
    resolver_free(&c);
  }
  flow_free(&f);
}
END_TEST

START_TEST(tampered_transfer_init_is_detected_by_the_responder)
{
  struct flow f;
  struct resolver b;
  struct mk_msg m;
  const struct mk_payload *sp = NULL;
  flow_ticket(&f);
  ck_assert_int_eq(mk_decode(f.ti.p, f.ti.len, &m, NULL), 0);
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_SP, -1, &sp), 1);
  /* the SP is outside the ticket: the KMS resolves, the responder's
   * check of TRANSFER_INIT under MPKi fails */
  f.ti.p[sp->off + sp->len - 1] ^= 0x01;
  resolve(&f, &b, ID_B, PSK_B, NULL, false, true, NOW + SEC(3), 0xC0);
  ck_assert_int_eq(b.open_rc, MK_OK);
  ck_assert_int_eq(b.finish_rc, MK_OK);
  ck_assert_int_eq(b.resp_rc, MK_E_AUTH);
  resolver_free(&b);
  f.ti.p[sp->off + sp->len - 1] ^= 0x01;
  /* the Initiator Data (Vi, Vr) is checked by the KMS */
  const struct mk_payload *tk = NULL;
  ck_assert_int_eq(mk_find(&m.pl, MK_PT_TICKET, -1, &tk), 1);
  size_t last = (size_t)(tk->u.ticket.init_data - f.ti.p) + tk->u.ticket.id_len - 1;
  f.ti.p[last] ^= 0x01;
  resolve(&f, &b, ID_B, PSK_B, NULL, false, true, NOW + SEC(3), 0xC0);
  ck_assert_int_eq(b.open_rc, MK_E_AUTH);
  resolver_free(&b);
  flow_free(&f);
}
END_TEST

START_TEST(unknown_users)
{
  struct flow f;
  struct resolver r;
  unsigned char psk[MK_PSK_LEN], rand[MK_RAND_LEN], rand_tgk[64];
  struct buf req = { 0 }, resp = { 0 };
  const char *why = NULL, *recipients[] = { ID_B };
  fill(psk, sizeof psk, 0x44);
  flow_ticket(&f);
  resolve(&f, &r, "sip:mallory@example.com", psk, NULL, false, true, NOW + SEC(3), 0xC0);
  ck_assert_int_eq(r.open_rc, MK_E_UNKNOWN_USER);
  resolver_free(&r);
  fill(rand, sizeof rand, 5);
  fill(rand_tgk, sizeof rand_tgk, 6);
  ck_assert_int_eq(mk_request_init("sip:mallory@example.com", psk, ID_KMS, recipients, 1, 1, NOW,
                                   rand, &req.p, &req.len, &why), MK_OK);
  ck_assert_int_eq(mk_kms_request(&KMS, req.p, req.len, NOW, rand_tgk, &resp.p, &resp.len, &why),
                   MK_E_UNKNOWN_USER);
  ck_assert_ptr_nonnull(resp.p);
  buf_free(&req);
  buf_free(&resp);
  flow_free(&f);
}
END_TEST

START_TEST(replayed_resolve_init_has_the_same_tag)
{
  struct flow f;
  struct buf ri = { 0 }, ri2 = { 0 }, err = { 0 };
  struct mk_resolve_request q1, q2, q3;
  unsigned char rand[MK_RAND_LEN];
  const char *why = NULL;
  flow_ticket(&f);
  fill(rand, sizeof rand, 0xE0);
  ck_assert_int_eq(mk_resolve_init(ID_C, PSK_C, f.ti.p, f.ti.len, ID_AS, true, NOW + SEC(3), rand,
                                   &ri.p, &ri.len, &why), MK_OK);
  ck_assert_int_eq(mk_kms_resolve_open(&KMS, ri.p, ri.len, NOW + SEC(3), &q1, &err.p,
                                       &err.len, &why),
                   MK_OK);
  ck_assert_int_eq(mk_kms_resolve_open(&KMS, ri.p, ri.len, NOW + SEC(8), &q2, &err.p, &err.len,
                                       &why), MK_OK);
  ck_assert_mem_eq(q1.replay_tag, q2.replay_tag, 32);
  /* the KMS's replay cache (the caller's) refuses the second one */
  unsigned char cache[4][32];
  size_t n_cache = 0;
  struct mk_resolve_request *seen[] = { &q1, &q2 };
  int accepted = 0;
  for (size_t i = 0; i < 2; i++) {
    bool dup = false;
    for (size_t j = 0; j < n_cache; j++)
      dup |= memcmp(cache[j], seen[i]->replay_tag, 32) == 0;
    if (!dup) {
      memcpy(cache[n_cache++], seen[i]->replay_tag, 32);
      accepted++;
    }
  }
  ck_assert_int_eq(accepted, 1);
  /* a fresh RAND gives a fresh tag */
  rand[0] ^= 1;
  ck_assert_int_eq(mk_resolve_init(ID_C, PSK_C, f.ti.p, f.ti.len, ID_AS, true, NOW + SEC(3), rand,
                                   &ri2.p, &ri2.len, &why), MK_OK);
  ck_assert_int_eq(mk_kms_resolve_open(&KMS, ri2.p, ri2.len, NOW + SEC(3), &q3, &err.p,
                                       &err.len, &why),
                   MK_OK);
  ck_assert(memcmp(q1.replay_tag, q3.replay_tag, 32) != 0);
  /* finish refuses a summary that belongs to another RESOLVE_INIT */
  unsigned char rk[MK_RAND_LEN];
  fill(rk, sizeof rk, 9);
  ck_assert_int_eq(mk_kms_resolve_finish(&KMS, ri.p, ri.len, &q3, true, NOW + SEC(3), rk,
                                         &err.p, &err.len,
                                         &why), MK_E_MALFORMED);
  buf_free(&err);
  buf_free(&ri);
  buf_free(&ri2);
  flow_free(&f);
}
END_TEST

START_TEST(transfer_resp_naming_someone_else)
{
  struct flow f;
  struct resolver b, c;
  struct mk_session_keys a, forged;
  flow_ticket(&f);
  resolve(&f, &b, ID_B, PSK_B, NULL, false, true, NOW + SEC(3), 0xC0);
  resolve(&f, &c, ID_C, PSK_C, ID_AS, true, true, NOW + SEC(4), 0xD0);
  ck_assert_int_eq(b.resp_rc, MK_OK);
  ck_assert_int_eq(c.resp_rc, MK_OK);
  /* B's genuine TRANSFER_RESP: A derives B's keys, not C's */
  ck_assert_int_eq(initiator_keys_from(&f, &b.keys, &a), MK_OK);
  ck_assert_str_eq(a.responder, ID_B);
  ck_assert(memcmp(a.tek, c.keys.tek, MK_TEK_LEN) != 0);
  /* C claiming to be B with C's MPKr': the MAC does not verify */
  forged = c.keys;
  strcpy(forged.responder, ID_B);
  ck_assert_int_eq(initiator_keys_from(&f, &forged, &a), MK_E_AUTH);
  /* C's modifier but someone else's RANDRkms: same */
  forged = c.keys;
  forged.rand_kms[0] ^= 1;
  ck_assert_int_eq(initiator_keys_from(&f, &forged, &a), MK_E_AUTH);
  resolver_free(&b);
  resolver_free(&c);
  flow_free(&f);
}
END_TEST

START_TEST(malformed_inputs_get_error_messages)
{
  unsigned char junk[40], rand_tgk[64];
  struct buf out = { 0 };
  struct mk_resolve_request q;
  const char *why = NULL;
  struct mk_msg m;
  fill(junk, sizeof junk, 0);
  fill(rand_tgk, sizeof rand_tgk, 1);
  ck_assert_int_eq(mk_kms_request(&KMS, junk, sizeof junk, NOW, rand_tgk, &out.p, &out.len, &why),
                   MK_E_MALFORMED);
  ck_assert_ptr_nonnull(why);
  ck_assert_int_eq(mk_decode(out.p, out.len, &m, NULL), 0);
  ck_assert_uint_eq(m.hdr.data_type, MK_DT_ERROR);
  buf_free(&out);
  ck_assert_int_eq(mk_kms_resolve_open(&KMS, junk, sizeof junk, NOW, &q, &out.p, &out.len, &why),
                   MK_E_MALFORMED);
  ck_assert_ptr_nonnull(out.p);
  buf_free(&out);
  ck_assert_int_eq(mk_kms_resolve_open(&KMS, NULL, 0, NOW, &q, &out.p, &out.len, &why),
                   MK_E_MALFORMED);
  buf_free(&out);
  /* a REQUEST_INIT offered as a RESOLVE_INIT */
  struct flow f;
  flow_ticket(&f);
  ck_assert_int_eq(mk_kms_resolve_open(&KMS, f.req.p, f.req.len, NOW, &q, &out.p, &out.len, &why),
                   MK_E_MALFORMED);
  buf_free(&out);
  /* A's state, TRANSFER_INIT and TRANSFER_RESP checks */
  struct mk_session_keys k;
  ck_assert_int_eq(mk_initiator_keys(junk, sizeof junk, f.ti.p, f.ti.len, f.ti.p, f.ti.len, &k,
                                     &why), MK_E_MALFORMED);
  ck_assert_int_eq(mk_initiator_keys(f.state.p, f.state.len, f.ti.p, f.ti.len, f.ti.p, f.ti.len,
                                     &k, &why), MK_E_MALFORMED);
  ck_assert_int_eq(mk_transfer_init(f.state.p, f.state.len - 1, NOW, junk, &out.p, &out.len, &why),
                   MK_E_MALFORMED);
  unsigned char hash[32];
  ck_assert_int_eq(mk_ticket_hash(f.req.p, f.req.len, hash, &why), MK_E_MALFORMED);
  flow_free(&f);
}
END_TEST

START_TEST(request_arguments_are_checked)
{
  unsigned char rand[MK_RAND_LEN];
  struct buf out = { 0 };
  const char *why = NULL, *none[] = { NULL }, *nine[9];
  char longid[300];
  memset(longid, 'x', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0';
  fill(rand, sizeof rand, 1);
  for (int i = 0; i < 9; i++)
    nine[i] = ID_B;
  ck_assert_int_eq(mk_request_init(ID_A, PSK_A, ID_KMS, none, 1, 1, NOW, rand, &out.p, &out.len,
                                   &why), MK_E_MALFORMED);
  ck_assert_int_eq(mk_request_init(ID_A, PSK_A, ID_KMS, nine, 0, 1, NOW, rand, &out.p, &out.len,
                                   &why), MK_E_MALFORMED);
  ck_assert_int_eq(mk_request_init(ID_A, PSK_A, ID_KMS, nine, 9, 1, NOW, rand, &out.p, &out.len,
                                   &why), MK_E_MALFORMED);
  ck_assert_int_eq(mk_request_init(longid, PSK_A, ID_KMS, nine, 1, 1, NOW, rand, &out.p, &out.len,
                                   &why), MK_E_MALFORMED);
  ck_assert_ptr_null(out.p);
  /* eight recipients are fine and come back in order */
  struct buf resp = { 0 }, state = { 0 }, ti = { 0 }, ri = { 0 }, err = { 0 };
  const char *eight[8] = { "sip:r0@x", "sip:r1@x", "sip:r2@x", "sip:r3@x",
                           "sip:r4@x", "sip:r5@x", "sip:r6@x", ID_C };
  unsigned char rand_tgk[64];
  struct mk_resolve_request q;
  fill(rand_tgk, sizeof rand_tgk, 3);
  ck_assert_int_eq(mk_request_init(ID_A, PSK_A, ID_KMS, eight, 8, 5, NOW, rand, &out.p, &out.len,
                                   &why), MK_OK);
  ck_assert_int_eq(mk_kms_request(&KMS, out.p, out.len, NOW, rand_tgk, &resp.p, &resp.len, &why),
                   MK_OK);
  ck_assert_int_eq(mk_request_resp(resp.p, resp.len, ID_A, PSK_A, out.p, out.len, &state.p,
                                   &state.len, &why), MK_OK);
  ck_assert_int_eq(mk_transfer_init(state.p, state.len, NOW, rand, &ti.p, &ti.len, &why), MK_OK);
  ck_assert_int_eq(mk_resolve_init(ID_C, PSK_C, ti.p, ti.len, NULL, false, NOW, rand,
                                   &ri.p, &ri.len, &why), MK_OK);
  ck_assert_int_eq(mk_kms_resolve_open(&KMS, ri.p, ri.len, NOW, &q, &err.p, &err.len, &why), MK_OK);
  ck_assert_uint_eq(q.n_recipients, 8);
  ck_assert_str_eq(q.recipients[0], "sip:r0@x");
  ck_assert_str_eq(q.recipients[7], ID_C);
  ck_assert(q.requester_allowed);
  /* the REQUEST_RESP is bound to its REQUEST_INIT */
  struct buf other = { 0 };
  ck_assert_int_eq(mk_request_init(ID_A, PSK_A, ID_KMS, eight, 8, 5, NOW + 1, rand, &other.p,
                                   &other.len, &why), MK_OK);
  free(state.p);
  state.p = NULL;
  ck_assert_int_eq(mk_request_resp(resp.p, resp.len, ID_A, PSK_A, other.p, other.len, &state.p,
                                   &state.len, &why), MK_E_AUTH);
  buf_free(&other);
  buf_free(&out);
  buf_free(&resp);
  buf_free(&state);
  buf_free(&ti);
  buf_free(&ri);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("mikey_ticket");
  TCase *tc = tcase_create("flow");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, ntp_conversion);
  tcase_add_test(tc, b_resolves_and_gets_a_keys);
  tcase_add_test(tc, c_resolves_after_diversion_with_forked_keys);
  tcase_add_test(tc, cdiv_alone_and_id_as_alone_are_reported);
  tcase_add_test(tc, deny_gives_an_error_message);
  tcase_add_test(tc, wrong_psk_is_auth_failure);
  tcase_add_test(tc, expired_ticket_and_stale_timestamp);
  tcase_add_test(tc, tampered_ticket_bytes_are_auth_failures);
  tcase_add_test(tc, tampered_transfer_init_is_detected_by_the_responder);
  tcase_add_test(tc, unknown_users);
  tcase_add_test(tc, replayed_resolve_init_has_the_same_tag);
  tcase_add_test(tc, transfer_resp_naming_someone_else);
  tcase_add_test(tc, malformed_inputs_get_error_messages);
  tcase_add_test(tc, request_arguments_are_checked);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
