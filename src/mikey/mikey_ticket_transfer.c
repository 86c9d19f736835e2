/*
 * mikey_ticket_transfer.c - Ticket Transfer (RFC 6043 §4.2.2): the
 * initiator sends the ticket to the responder in TRANSFER_INIT
 * (mk_transfer_init, with the Initiator Data of §6.10), the responder that
 * resolved it answers with TRANSFER_RESP (mk_transfer_resp), and the
 * initiator derives the keys forked to that responder (mk_initiator_keys).
 * Also the ticket's hash as the AS records it (mk_ticket_hash) and the
 * reading and checking of a TRANSFER_INIT the resolving responder shares.
 *
 * Design: TRANSFER_INIT is encoded twice, first without Initiator Data to
 * compute its MAC (which §5.5 takes over the message minus that data),
 * then with it, since Vi repeats the MAC. The initiator learns who
 * answered only from TRANSFER_RESP, so it forks its keys only then, to
 * the identity named there; a TRANSFER_RESP that verifies under those
 * forked keys proves the KMS resolved the ticket for that identity.
 */
#include <stdlib.h>
#include <string.h>

#include "mikey/mikey_ticket_private.h"

/* DECISION: the SRTP policy sent in TRANSFER_INIT (RFC 3830 §6.10.1 TLVs):
 * AES-CM with a 256-bit master key and 112-bit salt, HMAC-SHA-1 with an
 * 80-bit tag, i.e. AES_256_CM_HMAC_SHA1_80 (RFC 6188), matching TEK and
 * salt lengths. */
static const unsigned char SRTP_POLICY[] = {
  0, 1, 1,     /* encryption algorithm: AES-CM */
  1, 1, 32,    /* session encryption key length */
  2, 1, 1,     /* authentication algorithm: HMAC-SHA-1 */
  3, 1, 20,    /* session authentication key length */
  4, 1, 14,    /* session salt key length */
  5, 1, 0,     /* SRTP PRF: AES-CM */
  7, 1, 1,     /* SRTP encryption on */
  8, 1, 1,     /* SRTCP encryption on */
  10, 1, 1,    /* SRTP authentication on */
  11, 1, 10,   /* authentication tag length */
};
#define SRTP_POLICY_NO 0
#define CS_ID 1      /* the one crypto session of the CSB */

/* ---------------------------------------------------------------- A: TRANSFER_INIT */

/* TRANSFER_INIT = HDR, T, RANDRi, IDRi, IDRr, SP, TICKET, V, the TICKET
 * carrying `init_data` and V carrying `mac` (zeros when NULL). */
static int encode_transfer_init(const struct a_state *st, const struct mk_ticket_fields *tk,
                                const struct policy *pol, uint64_t now,
                                const unsigned char rand[MK_RAND_LEN],
                                const unsigned char *init_data, uint16_t id_len,
                                const unsigned char *mac, unsigned char **out, size_t *out_len)
{
  static const uint8_t policies[1] = { SRTP_POLICY_NO };
  struct mk_hdr h;
  struct mk_enc e;
  struct mk_ticket_fields t = *tk;
  mkt_hdr_init(&h, MK_DT_TRANSFER_INIT, true, st->csb);   /* V agrees with the F flag */
  /* DECISION: the GENERIC-ID map (RFC 6043 §6.1: SRTP-ID SHALL NOT be used
   * here) with one SRTP crypto session, CS ID 1, policy 0; Session Data and
   * SPI are left to the responder (lengths 0). */
  h.map_type = MK_MAP_GENERIC_ID;
  h.n_cs = 1;
  h.cs[0] = (struct mk_cs){ .cs_id = CS_ID, .prot_type = MK_PROT_SRTP, .n_policies = 1,
                            .policies = policies };
  t.init_data = init_data;
  t.id_len = id_len;
  mkt_enc_start(&e, &h, now);
  mk_enc_randr(&e, MK_RAND_I, rand, MK_RAND_LEN);
  mk_enc_idr(&e, MK_ROLE_I, MK_ID_URI, st->initiator, strlen(st->initiator));
  /* DECISION: IDRr is the first recipient of the ticket (the callee B). */
  mk_enc_idr(&e, MK_ROLE_R, MK_ID_URI, pol->recipients[0], strlen(pol->recipients[0]));
  mk_enc_sp(&e, SRTP_POLICY_NO, MK_PROT_SRTP, SRTP_POLICY, sizeof SRTP_POLICY);
  mk_enc_ticket(&e, true, &t);
  mk_enc_v(&e, MAC_ALG, mac, MAC_LEN);
  return mk_enc_finish(&e, out, out_len);
}

/* The TRANSFER_INIT MAC input: the message without the TICKET's Initiator
 * Data length and Initiator Data (RFC 6043 §5.5) and without the MAC,
 * then Identity_i || Identity_r. */
static int transfer_init_cover(const struct mk_msg *m, const struct mk_payload *tk,
                               const char *id_i, const char *id_r, struct mk_iov parts[4])
{
  size_t cut = tk->off + tk->u.ticket.id_len_off;
  size_t resume = cut + 2 + tk->u.ticket.id_len;
  if (m->len < MAC_LEN || resume > m->len - MAC_LEN)
    return -1;
  parts[0] = (struct mk_iov){ m->buf, cut };
  parts[1] = (struct mk_iov){ m->buf + resume, m->len - MAC_LEN - resume };
  parts[2] = (struct mk_iov){ id_i, strlen(id_i) };
  parts[3] = (struct mk_iov){ id_r, strlen(id_r) };
  return 0;
}

int mk_transfer_init(const unsigned char *state, size_t state_len, uint64_t now,
                     const unsigned char rand[MK_RAND_LEN],
                     unsigned char **out, size_t *out_len, const char **why)
{
  struct a_state st;
  struct mk_chain *c = malloc(sizeof *c);
  struct mk_msg *m = malloc(sizeof *m);
  struct policy pol;
  const struct mk_payload *tk, *mtk;
  unsigned char *first = NULL, *idata = NULL, auth[KEY_LEN], mac[MAC_LEN];
  size_t first_len = 0, id_len = 0;
  struct mk_iov parts[4];
  int rc = say(why, "out of memory", MK_E_NOMEM);
  if (!c || !m)
    goto out;
  if (!rand || !out || !out_len || mkt_state_decode(state, state_len, &st) != 0
      || !(tk = mkt_state_ticket(&st, c)) || mkt_parse_policy(&tk->u.ticket, &pol) != MK_OK) {
    rc = say(why, "bad state", MK_E_MALFORMED);
    goto out;
  }
  /* first pass: the message without Initiator Data, to compute the MAC */
  if (encode_transfer_init(&st, &tk->u.ticket, &pol, now, rand, NULL, 0, NULL, &first,
                           &first_len) != 0
      || mk_decode(first, first_len, m, NULL) != 0 || !(mtk = one(&m->pl, MK_PT_TICKET, -1))
      || transfer_init_cover(m, mtk, st.initiator, pol.recipients[0], parts) != 0
      || mkt_msg_key(st.mpki, MK_C_AUTH, st.csb, false, rand, MK_RAND_LEN, NULL, 0, auth,
                     KEY_LEN) != 0
      || mkt_mac_parts(auth, parts, 4, mac) != 0
      || mkt_initiator_data(st.mpkr, mac, &idata, &id_len) != 0
      || id_len > 0xFFFF)
    goto out;
  /* second pass: the same message with Initiator Data and the MAC */
  if (encode_transfer_init(&st, &tk->u.ticket, &pol, now, rand, idata, (uint16_t)id_len, mac, out,
                           out_len) != 0)
    goto out;
  rc = say(why, NULL, MK_OK);
out:
  mk_wipe(&st, sizeof st);
  mk_wipe(auth, sizeof auth);
  free(first);
  free(idata);
  free(c);
  free(m);
  return rc;
}

int mk_ticket_hash(const unsigned char *transfer_init, size_t len,
                   unsigned char hash[32], const char **why)
{
  struct mk_msg *m = malloc(sizeof *m);
  const struct mk_payload *tk;
  int rc = say(why, "not a TRANSFER_INIT with one TICKET", MK_E_MALFORMED);
  if (!m)
    return say(why, "out of memory", MK_E_NOMEM);
  if (hash && mk_decode(transfer_init, len, m, NULL) == 0
      && m->hdr.data_type == MK_DT_TRANSFER_INIT && (tk = one(&m->pl, MK_PT_TICKET, -1))
      && tk->u.ticket.td_len > 0) {
    struct mk_iov td = { tk->u.ticket.ticket_data, tk->u.ticket.td_len };
    rc = mk_sha256(&td, 1, hash) == 0 ? say(why, NULL, MK_OK) : say(why, "crypto", MK_E_NOMEM);
  }
  free(m);
  return rc;
}

/* ---------------------------------------------------------------- reading a TRANSFER_INIT */

int mkt_ti_open(const unsigned char *buf, size_t len, struct ti_view *v)
{
  if (mk_decode(buf, len, &v->m, NULL) != 0 || v->m.hdr.data_type != MK_DT_TRANSFER_INIT
      || v->m.hdr.prf != PRF || v->m.hdr.n_cs < 1 || !mkt_final_v(&v->m))
    return -1;
  v->tk = one(&v->m.pl, MK_PT_TICKET, -1);
  v->randri = one(&v->m.pl, MK_PT_RANDR, MK_RAND_I);
  v->idri = one(&v->m.pl, MK_PT_IDR, MK_ROLE_I);
  v->idrr = one(&v->m.pl, MK_PT_IDR, MK_ROLE_R);
  if (!v->tk || !v->randri || !v->idri || !v->idrr || v->randri->u.rand.len == 0
      || !mkt_idr_string(v->idri, v->id_i) || !mkt_idr_string(v->idrr, v->id_r))
    return -1;
  v->cs_id = v->m.hdr.map_type == MK_MAP_SRTP_ID ? 1 : v->m.hdr.cs[0].cs_id;
  return 0;
}

bool mkt_ti_authentic(const struct ti_view *v, const unsigned char mpki[KEY_LEN])
{
  struct mk_iov parts[4];
  unsigned char auth[KEY_LEN], mac[MAC_LEN];
  struct mk_chain *c = malloc(sizeof *c);
  const struct mk_payload *vv = mkt_final_v(&v->m);
  bool ok = c && transfer_init_cover(&v->m, v->tk, v->id_i, v->id_r, parts) == 0
         && mkt_msg_key(mpki, MK_C_AUTH, v->m.hdr.csb_id, false, v->randri->u.rand.data,
                        v->randri->u.rand.len, NULL, 0, auth, KEY_LEN) == 0
         && mkt_mac_parts(auth, parts, 4, mac) == 0 && mk_ct_equal(mac, vv->u.v.mac, MAC_LEN);
  if (ok && (v->tk->u.ticket.flags & MK_TP_I))
    ok = mk_decode_first_chain(v->tk->u.ticket.init_data, v->tk->u.ticket.id_len,
                               MK_CTX_INIT_DATA, 0, c, NULL) == 0
      && c->n >= 1 && c->p[0].type == MK_PT_V && c->p[0].u.v.mac_len == MAC_LEN
      && mk_ct_equal(c->p[0].u.v.mac, vv->u.v.mac, MAC_LEN);
  mk_wipe(auth, sizeof auth);
  free(c);
  return ok;
}

/* ---------------------------------------------------------------- C: TRANSFER_RESP */

/* TRANSFER_RESP = HDR, T, IDRr, RANDRkms, V (RFC 6043 §4.2.2.3, G clear so
 * no RANDRr), MACed with MPKr' over TRANSFER_RESP || TRANSFER_INIT. */
int mk_transfer_resp(const struct mk_session_keys *keys,
                     const unsigned char *transfer_init, size_t transfer_init_len,
                     uint64_t now, unsigned char **out, size_t *out_len, const char **why)
{
  struct ti_view *ti = malloc(sizeof *ti);
  struct mk_hdr h;
  struct mk_enc e;
  unsigned char auth[KEY_LEN];
  static const uint8_t policies[1] = { SRTP_POLICY_NO };
  int rc = say(why, "out of memory", MK_E_NOMEM);
  if (!ti)
    return rc;
  if (!keys || !out || !out_len || !mkt_valid_id(keys->responder)) {
    rc = say(why, "bad argument", MK_E_MALFORMED);
    goto out;
  }
  if (mkt_ti_open(transfer_init, transfer_init_len, ti) != 0 || ti->m.hdr.csb_id != keys->csb_id
      || ti->cs_id != keys->cs_id) {
    rc = say(why, "TRANSFER_INIT does not match the keys", MK_E_MALFORMED);
    goto out;
  }
  if (mkt_msg_key(keys->mpkr, MK_C_AUTH, keys->csb_id, true, ti->randri->u.rand.data,
                  ti->randri->u.rand.len, NULL, 0, auth, KEY_LEN) != 0)
    goto out;
  mkt_hdr_init(&h, MK_DT_TRANSFER_RESP, false, keys->csb_id);
  /* DECISION: the map names the one crypto session with exactly one policy
   * (#P = 1, as RFC 6043 §6.1.1 wants in responses); Session Data (SSRC)
   * and SPI stay empty: SSRCs are chosen by the media stacks, the MKI is
   * not used. */
  h.map_type = MK_MAP_GENERIC_ID;
  h.n_cs = 1;
  h.cs[0] = (struct mk_cs){ .cs_id = keys->cs_id, .prot_type = MK_PROT_SRTP, .n_policies = 1,
                            .policies = policies };
  mkt_enc_start(&e, &h, now);
  mk_enc_idr(&e, MK_ROLE_R, MK_ID_URI, keys->responder, strlen(keys->responder));
  mk_enc_randr(&e, MK_RAND_KMS, keys->rand_kms, MK_RAND_LEN);
  struct mk_iov init = { transfer_init, transfer_init_len };
  if (mkt_finish_with_v(&e, auth, &init, 1, out, out_len) != 0)
    goto out;
  rc = say(why, NULL, MK_OK);
out:
  mk_wipe(auth, sizeof auth);
  free(ti);
  return rc;
}

/* ---------------------------------------------------------------- A: keys */

int mk_initiator_keys(const unsigned char *state, size_t state_len,
                      const unsigned char *transfer_init, size_t transfer_init_len,
                      const unsigned char *transfer_resp, size_t transfer_resp_len,
                      struct mk_session_keys *keys, const char **why)
{
  struct a_state st;
  struct ti_view *ti = malloc(sizeof *ti);
  struct mk_msg *tr = malloc(sizeof *tr);
  struct mk_chain *c = malloc(sizeof *c);
  const struct mk_payload *stk, *idrr, *rkms;
  unsigned char mpkr_f[KEY_LEN], tgk_f[KEY_LEN], auth[KEY_LEN];
  int rc = say(why, "out of memory", MK_E_NOMEM);
  if (!ti || !tr || !c)
    goto out;
  if (!keys || mkt_state_decode(state, state_len, &st) != 0 || !(stk = mkt_state_ticket(&st, c))) {
    rc = say(why, "bad state", MK_E_MALFORMED);
    goto out;
  }
  /* the TRANSFER_INIT must be ours: same CSB, same ticket */
  if (mkt_ti_open(transfer_init, transfer_init_len, ti) != 0 || ti->m.hdr.csb_id != st.csb
      || ti->tk->u.ticket.td_len != stk->u.ticket.td_len
      || memcmp(ti->tk->u.ticket.ticket_data, stk->u.ticket.ticket_data, stk->u.ticket.td_len)) {
    rc = say(why, "TRANSFER_INIT does not carry this state's ticket", MK_E_MALFORMED);
    goto out;
  }
  if ((rc = mkt_decode_answer(transfer_resp, transfer_resp_len, tr, why)) != MK_OK)
    goto out;
  idrr = one(&tr->pl, MK_PT_IDR, MK_ROLE_R);
  rkms = one(&tr->pl, MK_PT_RANDR, MK_RAND_KMS);
  memset(keys, 0, sizeof *keys);
  if (tr->hdr.data_type != MK_DT_TRANSFER_RESP || tr->hdr.csb_id != st.csb || !mkt_final_v(tr)
      || !idrr || !rkms || rkms->u.rand.len != MK_RAND_LEN
      || !mkt_idr_string(idrr, keys->responder)) {
    rc = say(why, "not a TRANSFER_RESP for this TRANSFER_INIT", MK_E_MALFORMED);
    goto out;
  }
  /* fork MPKr and TGK to the responder TRANSFER_RESP names (§5.1.1) */
  struct mk_iov init = { transfer_init, transfer_init_len };
  if (mkt_fork(st.mpkr, st.tgk, idrr->u.idr.data, idrr->u.idr.len, rkms->u.rand.data, mpkr_f,
               tgk_f) != 0
      || mkt_msg_key(mpkr_f, MK_C_AUTH, st.csb, true, ti->randri->u.rand.data,
                     ti->randri->u.rand.len, NULL, 0, auth, KEY_LEN) != 0) {
    rc = say(why, "crypto failure", MK_E_NOMEM);
    goto out;
  }
  if (!mkt_verify(tr, auth, &init, 1)) {
    rc = say(why, "TRANSFER_RESP MAC check failed", MK_E_AUTH);
    goto out;
  }
  keys->csb_id = st.csb;
  keys->cs_id = ti->cs_id;
  memcpy(keys->mpkr, mpkr_f, KEY_LEN);
  memcpy(keys->rand_kms, rkms->u.rand.data, MK_RAND_LEN);
  rc = mkt_session_keys(tgk_f, ti->cs_id, ti->randri, keys) == 0
           ? say(why, NULL, MK_OK)
           : say(why, "crypto", MK_E_NOMEM);
out:
  if (rc != MK_OK && keys)
    mk_wipe(keys, sizeof *keys);
  mk_wipe(&st, sizeof st);
  mk_wipe(mpkr_f, sizeof mpkr_f);
  mk_wipe(tgk_f, sizeof tgk_f);
  mk_wipe(auth, sizeof auth);
  free(ti);
  free(tr);
  free(c);
  return rc;
}
