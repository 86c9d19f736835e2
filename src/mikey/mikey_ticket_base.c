/*
 * mikey_ticket_base.c - the MIKEY base ticket (RFC 6043 Appendix A) that
 * the KMS issues and opens, and the TICKET payload's other parts (§6.10):
 * the Ticket Policy (TP Data: who may resolve, the validity, the KMS),
 * the Ticket Data (THDR, T, RAND, KEMAC with MPK and TGK, V), protected
 * under keys from the KMS's ticket protection key (A.2.1), with MPKi and
 * MPKr derived from the MPK (A.2.2), and the Initiator Data (Vi, Vr) the
 * initiator adds so the KMS can check the ticket came with its
 * TRANSFER_INIT.
 *
 * Design: the ticket MAC covers the TICKET payload except its Next
 * Payload, Initiator Data and the MAC (A.1), so policy and keys cannot be
 * changed without the KMS noticing; the ticket is the KMS's own state,
 * carried by the users. Only the KMS calls build/open (it holds the TPK);
 * the initiator and responders read the policy in clear.
 */
#include <stdlib.h>
#include <string.h>

#include "mikey/mikey_ticket_private.h"

/* ---------------------------------------------------------------- the policy */

int mkt_parse_policy(const struct mk_ticket_fields *t, struct policy *pol)
{
  struct mk_chain *c = malloc(sizeof *c);
  const struct mk_payload *p;
  bool ok = true;
  int rc = MK_E_MALFORMED;
  memset(pol, 0, sizeof *pol);
  if (!c)
    return MK_E_NOMEM;
  if (mk_decode_first_chain(t->tp_data, t->tp_len, MK_CTX_TP_DATA, 0, c, NULL) != 0)
    goto out;
  if ((p = opt(c, MK_PT_IDR, MK_ROLE_I, &ok)) && !mkt_idr_string(p, pol->initiator))
    goto out;
  if ((p = opt(c, MK_PT_IDR, MK_ROLE_KMS, &ok)) && !mkt_idr_string(p, pol->kms))
    goto out;
  if ((p = opt(c, MK_PT_TR, MK_TR_START, &ok))) {
    if (p->u.t.ts_type != MK_TS_NTP_UTC_32)
      goto out;
    pol->has_start = true;
    pol->start = (uint32_t)p->u.t.value;
  }
  if ((p = opt(c, MK_PT_TR, MK_TR_END, &ok))) {
    if (p->u.t.ts_type != MK_TS_NTP_UTC_32)
      goto out;
    pol->has_end = true;
    pol->end = (uint32_t)p->u.t.value;
  }
  for (size_t i = 0; i < c->n && ok; i++) {
    p = &c->p[i];
    if (p->type != MK_PT_IDR || p->u.idr.role != MK_ROLE_R)
      continue;
    if (pol->n_recipients == MAX_RECIPIENTS
        || !mkt_idr_string(p, pol->recipients[pol->n_recipients]))
      ok = false;
    else
      pol->n_recipients++;
  }
  if (ok && pol->n_recipients > 0)
    rc = MK_OK;
out:
  free(c);
  return rc;
}

bool mkt_policy_names(const struct policy *pol, const char *id)
{
  for (size_t i = 0; i < pol->n_recipients; i++)
    if (strcmp(pol->recipients[i], id) == 0)
      return true;
  return false;
}

bool mkt_policy_fields_ok(const struct mk_ticket_fields *t)
{
  return t->ticket_type == MK_TICKET_MIKEY_BASE && t->subtype == 1 && t->version == 1
      && t->prf == PRF && (t->flags & REQUIRED_FLAGS) == REQUIRED_FLAGS
      && !(t->flags & MK_TP_G);
}

int mkt_encode_policy(const struct policy *pol, unsigned char **out, size_t *out_len)
{
  struct mk_enc e;
  mk_enc_init(&e);
  mk_enc_first(&e);
  if (pol->kms[0])
    mk_enc_idr(&e, MK_ROLE_KMS, MK_ID_URI, pol->kms, strlen(pol->kms));
  if (pol->initiator[0])
    mk_enc_idr(&e, MK_ROLE_I, MK_ID_URI, pol->initiator, strlen(pol->initiator));
  if (pol->has_start)
    mk_enc_tr(&e, MK_TR_START, MK_TS_NTP_UTC_32, pol->start);
  if (pol->has_end)
    mk_enc_tr(&e, MK_TR_END, MK_TS_NTP_UTC_32, pol->end);
  for (size_t i = 0; i < pol->n_recipients; i++)
    mk_enc_idr(&e, MK_ROLE_R, MK_ID_URI, pol->recipients[i], strlen(pol->recipients[i]));
  return mk_enc_finish(&e, out, out_len);
}

/* ---------------------------------------------------------------- the ticket (KMS) */

/* a <= b for nearby 32-bit NTP seconds (NTP-UTC-32, RFC 4330 era rule). */
static bool ntp32_le(uint32_t a, uint32_t b)
{
  return (int32_t)(b - a) >= 0;
}

/* RFC 6043 Appendix A.2.1: keys from the TPK, with the ticket's RAND. */
static int prot_keys_tpk(const unsigned char tpk[KEY_LEN], const unsigned char *rand,
                         size_t rand_len, struct prot_keys *k)
{
  if (mk_kdf_6043_ticket(PRF, tpk, KEY_LEN, MK_C_AUTH, 0x05, rand, rand_len, k->auth, KEY_LEN)
      || mk_kdf_6043_ticket(PRF, tpk, KEY_LEN, MK_C_ENCR, 0x05, rand, rand_len, k->encr, KEY_LEN)
      || mk_kdf_6043_ticket(PRF, tpk, KEY_LEN, MK_C_SALT, 0x05, rand, rand_len, k->salt,
                            SALT_KEY_LEN))
    return -1;
  return 0;
}

int mkt_mpk_keys(const unsigned char mpk[KEY_LEN], const unsigned char *rand, size_t rand_len,
                 unsigned char mpki[KEY_LEN], unsigned char mpkr[KEY_LEN])
{
  return mk_kdf_6043_ticket(PRF, mpk, KEY_LEN, MK_C_MPKI, 0x06, rand, rand_len, mpki,
                            KEY_LEN) == 0
      && mk_kdf_6043_ticket(PRF, mpk, KEY_LEN, MK_C_MPKR, 0x06, rand, rand_len, mpkr,
                            KEY_LEN) == 0 ? 0 : -1;
}

/* DECISION: the KMS's 64 random bytes are expanded with the PRF into the
 * TGK, the MPK and the ticket's RAND (80 bytes), so the three are
 * independent even though the contract hands over 64 bytes. */
int mkt_expand_rand(const unsigned char rand_tgk[64], struct ticket_secrets *s)
{
  static const char label[] = "cdivas MIKEY-TICKET TGK MPK RAND";
  unsigned char out[2 * KEY_LEN + MK_RAND_LEN];
  if (mk_prf(PRF, rand_tgk, 64, (const unsigned char *)label, sizeof label - 1, out,
             sizeof out) != 0)
    return -1;
  memcpy(s->tgk, out, KEY_LEN);
  memcpy(s->mpk, out + KEY_LEN, KEY_LEN);
  memcpy(s->rand, out + 2 * KEY_LEN, MK_RAND_LEN);
  mk_wipe(out, sizeof out);
  return 0;
}

/* Ticket Data = THDR, T, RAND, KEMAC, V (RFC 6043 Appendix A) with the
 * MAC field left zero. DECISION: THDR Data is empty (no key versioning:
 * one TPK per KMS) and IDRpsk is left out for the same reason. */
static int encode_ticket_data(const struct prot_keys *k, uint64_t now,
                              const struct ticket_secrets *s, unsigned char **out, size_t *len)
{
  struct mk_enc e;
  struct key_item items[2] = {
    { MK_KD_MPK, SPI_MPKI, s->mpk },
    { MK_KD_TGK, SPI_TGK, s->tgk },
  };
  mk_enc_init(&e);
  mk_enc_thdr(&e, NULL, 0);
  mk_enc_t(&e, MK_TS_NTP_UTC, now);
  mk_enc_rand(&e, s->rand, MK_RAND_LEN);
  /* A.1: "If CSB ID is needed in the IV creation it SHALL be set to 0xFFFFFFFF" */
  mkt_enc_kemac(&e, k, 0xFFFFFFFFu, now, items, 2);
  mk_enc_v(&e, MAC_ALG, NULL, MAC_LEN);
  return mk_enc_finish(&e, out, len);
}

int mkt_build_ticket(const struct mk_kms *kms, const struct policy *pol, uint64_t now,
                     const struct ticket_secrets *s, unsigned char **out, size_t *out_len)
{
  struct prot_keys k;
  struct mk_enc e;
  unsigned char *tp = NULL, *td = NULL;
  size_t tp_len = 0, td_len = 0;
  int rc = -1;
  if (prot_keys_tpk(kms->ticket_key, s->rand, MK_RAND_LEN, &k) != 0
      || mkt_encode_policy(pol, &tp, &tp_len) != 0
      || encode_ticket_data(&k, now, s, &td, &td_len) != 0 || tp_len > 0xFFFF || td_len > 0xFFFF)
    goto out;
  struct mk_ticket_fields t = {
    .ticket_type = MK_TICKET_MIKEY_BASE, .subtype = 1, .version = 1, .prf = PRF,
    .flags = GRANTED_FLAGS, .tp_len = (uint16_t)tp_len, .tp_data = tp,
    .td_len = (uint16_t)td_len, .ticket_data = td,
  };
  mk_enc_init(&e);
  mk_enc_ticket(&e, true, &t);
  if (mk_enc_finish(&e, out, out_len) != 0)
    goto out;
  /* NP(1) type(2) subtype(1) version(1) prf/flags(3) = 8, TP Data length(2) */
  size_t td_end = 8 + 2 + tp_len + 2 + td_len;
  struct mk_iov cover = { *out + 1, td_end - MAC_LEN - 1 };
  if (mkt_mac_parts(k.auth, &cover, 1, *out + td_end - MAC_LEN) != 0) {
    free(*out);
    *out = NULL;
    goto out;
  }
  rc = 0;
out:
  mk_wipe(&k, sizeof k);
  if (td)
    mk_wipe(td, td_len);
  free(tp);
  free(td);
  return rc;
}

/* The Ticket Data's T, RAND, KEMAC and final V (RFC 6043 Appendix A). */
struct ticket_parts {
  const struct mk_payload *t, *rand, *kemac;
};

static int ticket_data_parts(const struct mk_chain *c, struct ticket_parts *tp)
{
  tp->t = one(c, MK_PT_T, -1);
  tp->rand = one(c, MK_PT_RAND, -1);
  tp->kemac = one(c, MK_PT_KEMAC, -1);
  const struct mk_payload *v = c->n ? &c->p[c->n - 1] : NULL;
  if (!tp->t || !tp->rand || !tp->kemac || tp->rand->u.rand.len == 0 || !v
      || v->type != MK_PT_V || v->u.v.alg != MAC_ALG || v->u.v.mac_len != MAC_LEN)
    return -1;
  return 0;
}

int mkt_open_ticket(const struct mk_kms *kms, const struct mk_payload *tk, uint64_t now,
                    struct opened_ticket *o, const char **why)
{
  const struct mk_ticket_fields *t = &tk->u.ticket;
  struct mk_chain *c = malloc(sizeof *c);
  struct mk_payload thdr;
  struct ticket_parts parts;
  struct prot_keys k;
  unsigned char mac[MAC_LEN], keys[2][KEY_LEN];
  static const uint8_t types[2] = { MK_KD_MPK, MK_KD_TGK };
  int rc = say(why, "ticket is malformed", MK_E_MALFORMED);
  memset(&k, 0, sizeof k);
  if (!c)
    return say(why, "out of memory", MK_E_NOMEM);
  if (!mkt_policy_fields_ok(t)) {
    rc = say(why, "ticket type or policy not supported", MK_E_MALFORMED);
    goto out;
  }
  if (mk_decode_ticket_data(t->ticket_data, t->td_len, 0, &thdr, c, NULL) != 0
      || ticket_data_parts(c, &parts) != 0 || t->td_len < MAC_LEN)
    goto out;
  if (prot_keys_tpk(kms->ticket_key, parts.rand->u.rand.data, parts.rand->u.rand.len, &k) != 0)
    goto out;
  size_t td_end = t->td_len_off + 2 + t->td_len;
  struct mk_iov cover = { tk->raw + 1, td_end - MAC_LEN - 1 };
  if (mkt_mac_parts(k.auth, &cover, 1, mac) != 0
      || !mk_ct_equal(mac, tk->raw + td_end - MAC_LEN, MAC_LEN)) {
    rc = say(why, "ticket integrity check failed", MK_E_AUTH);
    goto out;
  }
  if (mkt_open_kemac(parts.kemac, &k, 0xFFFFFFFFu, parts.t->u.t.value, types, 2, keys) != 0
      || mkt_parse_policy(t, &o->pol) != MK_OK || !o->pol.initiator[0])
    goto out;
  uint32_t now32 = (uint32_t)(now >> 32);
  if ((o->pol.has_start && !ntp32_le(o->pol.start, now32))
      || (o->pol.has_end && !ntp32_le(now32, o->pol.end))) {
    rc = say(why, "ticket outside its validity period", MK_E_EXPIRED);
    goto out;
  }
  memcpy(o->mpk, keys[0], KEY_LEN);
  memcpy(o->tgk, keys[1], KEY_LEN);
  struct mk_iov td = { t->ticket_data, t->td_len };
  if (mkt_mpk_keys(o->mpk, parts.rand->u.rand.data, parts.rand->u.rand.len, o->mpki, o->mpkr)
          != 0
      || mk_sha256(&td, 1, o->hash) != 0)
    goto out;
  rc = MK_OK;
out:
  mk_wipe(&k, sizeof k);
  mk_wipe(keys, sizeof keys);
  free(c);
  return rc;
}

/* ---------------------------------------------------------------- Initiator Data */

/* Initiator Data = First Payload, Vi, Vr (RFC 6043 §6.10): Vi repeats the
 * TRANSFER_INIT MAC, Vr is a MAC under a key from MPKr (not forked).
 * DECISION: Vi is the V payload with its Next Payload pointing at Vr (the
 * RFC says "identical"; the MAC fields are what §4.2.3.6 compares). */
int mkt_initiator_data(const unsigned char mpkr[KEY_LEN], const unsigned char mac_i[MAC_LEN],
                       unsigned char **out, size_t *out_len)
{
  struct mk_enc e;
  unsigned char key[KEY_LEN];
  int rc = -1;
  if (mk_kdf_6043_initiator_data(PRF, mpkr, KEY_LEN, MK_C_AUTH, key, KEY_LEN) == 0) {
    mk_enc_init(&e);
    mk_enc_first(&e);
    mk_enc_v(&e, MAC_ALG, mac_i, MAC_LEN);
    rc = mkt_finish_with_v(&e, key, NULL, 0, out, out_len) == 0 ? 0 : -1;
  }
  mk_wipe(key, sizeof key);
  return rc;
}

bool mkt_initiator_data_ok(const struct mk_ticket_fields *t, const unsigned char mpkr[KEY_LEN])
{
  struct mk_chain *c = malloc(sizeof *c);
  unsigned char key[KEY_LEN], mac[MAC_LEN];
  bool ok = false;
  if (c && t->id_len > MAC_LEN
      && mk_decode_first_chain(t->init_data, t->id_len, MK_CTX_INIT_DATA, 0, c, NULL) == 0
      && c->n == 2 && c->p[0].type == MK_PT_V && c->p[1].type == MK_PT_V
      && c->p[0].u.v.alg == MAC_ALG && c->p[1].u.v.alg == MAC_ALG
      && mk_kdf_6043_initiator_data(PRF, mpkr, KEY_LEN, MK_C_AUTH, key, KEY_LEN) == 0) {
    struct mk_iov cover = { t->init_data, t->id_len - MAC_LEN };
    ok = mkt_mac_parts(key, &cover, 1, mac) == 0
      && mk_ct_equal(mac, t->init_data + t->id_len - MAC_LEN, MAC_LEN);
  }
  mk_wipe(key, sizeof key);
  free(c);
  return ok;
}
