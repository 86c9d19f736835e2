/*
 * mikey_ticket_request.c - Ticket Request (RFC 6043 §4.2.1), PSK variant:
 * the initiator asks the KMS for a ticket naming its recipients
 * (REQUEST_INIT_PSK, mk_request_init), the KMS checks the request, grants
 * its policy and issues the ticket with the initiator's keys
 * (REQUEST_RESP, mk_kms_request), and the initiator opens the answer into
 * its state (mk_request_resp).
 *
 * Design: the KMS keeps nothing per request. What it must know again at
 * resolve time - policy, MPK, TGK - goes into the ticket under its own key
 * (mikey_ticket_base.c), and what the initiator must know later goes into
 * the state it is handed (mikey_ticket_state.c). The KMS grants the policy
 * it is asked for plus its own identity, the initiator and a validity
 * period, and refuses the rest with the error message RFC 6043 §5.4 wants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mikey/mikey_ticket_private.h"

/* ---------------------------------------------------------------- A: REQUEST_INIT */

int mk_request_init(const char *initiator, const unsigned char psk[MK_PSK_LEN],
                    const char *kms_id, const char *const *recipients, size_t n_recipients,
                    uint32_t csb_id, uint64_t now, const unsigned char rand[MK_RAND_LEN],
                    unsigned char **out, size_t *out_len, const char **why)
{
  struct mk_enc e;
  struct mk_hdr h;
  struct policy pol;
  unsigned char *tp = NULL, auth[KEY_LEN];
  size_t tp_len = 0;
  if (!mkt_valid_id(initiator) || !mkt_valid_id(kms_id) || !psk || !rand || !out || !out_len
      || !recipients || n_recipients == 0 || n_recipients > MAX_RECIPIENTS)
    return say(why, "bad argument", MK_E_MALFORMED);
  memset(&pol, 0, sizeof pol);
  for (size_t i = 0; i < n_recipients; i++) {
    if (!mkt_valid_id(recipients[i]))
      return say(why, "bad recipient identity", MK_E_MALFORMED);
    strcpy(pol.recipients[i], recipients[i]);
  }
  pol.n_recipients = n_recipients;
  if (mkt_encode_policy(&pol, &tp, &tp_len) != 0 || tp_len > 0xFFFF) {
    free(tp);
    return say(why, "out of memory", MK_E_NOMEM);
  }
  if (mkt_msg_key(psk, MK_C_AUTH, csb_id, false, rand, MK_RAND_LEN, NULL, 0, auth, KEY_LEN) != 0) {
    free(tp);
    mk_wipe(auth, sizeof auth);
    return say(why, "crypto failure", MK_E_NOMEM);
  }
  struct mk_ticket_fields t = { .ticket_type = MK_TICKET_MIKEY_BASE, .subtype = 1, .version = 1,
                                .prf = PRF, .flags = DESIRED_FLAGS,
                                .tp_len = (uint16_t)tp_len, .tp_data = tp };
  /* REQUEST_INIT_PSK = HDR, T, RANDRi, [IDRi], [IDRkms], TP, [IDRpsk], V */
  mkt_hdr_init(&h, MK_DT_REQUEST_INIT_PSK, true, csb_id);
  mkt_enc_start(&e, &h, now);
  mk_enc_randr(&e, MK_RAND_I, rand, MK_RAND_LEN);
  mk_enc_idr(&e, MK_ROLE_I, MK_ID_URI, initiator, strlen(initiator));
  mk_enc_idr(&e, MK_ROLE_KMS, MK_ID_URI, kms_id, strlen(kms_id));
  mk_enc_ticket(&e, false, &t);
  free(tp);
  /* MAC: REQUEST_INIT || Identity_i || Identity_kms */
  struct mk_iov ids[2] = { { initiator, strlen(initiator) }, { kms_id, strlen(kms_id) } };
  int sealed = mkt_finish_with_v(&e, auth, ids, 2, out, out_len);
  mk_wipe(auth, sizeof auth);
  if (sealed != 0)
    return say(why, sealed == -1 ? "out of memory" : "crypto failure", MK_E_NOMEM);
  return say(why, NULL, MK_OK);
}

/* ---------------------------------------------------------------- KMS: REQUEST_RESP */

/* What the KMS checks first in a REQUEST_INIT_PSK. */
static const struct kms_request_kind REQUEST_INIT = {
  MK_DT_REQUEST_INIT_PSK, MK_ROLE_I, MK_RAND_I, MK_PT_TP, -1, "not a REQUEST_INIT_PSK",
  "malformed REQUEST_INIT_PSK", "unknown initiator", "REQUEST_INIT MAC check failed",
  "REQUEST_INIT timestamp outside the window",
};

/* The policy the KMS grants: the requested recipients, plus IDRkms, IDRi
 * and the validity [now, now + lifetime]. */
static int kms_grant(const struct mk_kms *kms, const struct mk_msg *m,
                     const struct kms_sender *from, uint64_t now, struct policy *pol,
                     struct kms_reply *r)
{
  const struct mk_ticket_fields *t = &one(&m->pl, MK_PT_TP, -1)->u.ticket;
  if (t->ticket_type != MK_TICKET_MIKEY_BASE || t->subtype != 1 || t->version != 1)
    return mkt_kms_fail(r, MK_E_MALFORMED, MK_ERR_TICKET, from->auth,
                        "ticket type not supported");
  if (t->prf != PRF || mkt_parse_policy(t, pol) != MK_OK
      || (pol->initiator[0] && strcmp(pol->initiator, from->id) != 0))
    return mkt_kms_fail(r, MK_E_MALFORMED, MK_ERR_TPPAR, from->auth,
                        "ticket policy not acceptable");
  snprintf(pol->kms, sizeof pol->kms, "%s", kms->id);
  strcpy(pol->initiator, from->id);
  pol->has_start = pol->has_end = true;
  pol->start = (uint32_t)(now >> 32);
  pol->end = (uint32_t)((now + kms->ticket_lifetime) >> 32);
  return MK_OK;
}

/* REQUEST_RESP = HDR, T, [IDRkms], TICKET, KEMAC, V. */
static int kms_request_resp(const struct mk_kms *kms, const struct mk_msg *m,
                            const struct kms_sender *from, const unsigned char *ticket,
                            size_t ticket_len, const struct ticket_secrets *s,
                            const unsigned char mpki[KEY_LEN], const unsigned char mpkr[KEY_LEN],
                            uint64_t now, unsigned char **out, size_t *out_len)
{
  struct mk_hdr h;
  struct mk_enc e;
  struct prot_keys k;
  struct key_item items[3] = {
    { MK_KD_MPK, SPI_MPKI, mpki }, { MK_KD_MPK, SPI_MPKR, mpkr }, { MK_KD_TGK, SPI_TGK, s->tgk },
  };
  int rc = -1;
  uint32_t csb = m->hdr.csb_id;
  if (mkt_prot_keys_answer(from->psk, csb, from->rand_role, from->rand, &k) != 0)
    goto out;
  mkt_hdr_init(&h, MK_DT_REQUEST_RESP, false, csb);
  mkt_enc_start(&e, &h, now);
  mk_enc_idr(&e, MK_ROLE_KMS, MK_ID_URI, kms->id, strlen(kms->id));
  mk_enc_raw(&e, MK_PT_TICKET, ticket, ticket_len);
  /* DECISION: T in the IV (RFC 3830 §4.2.3) is the T of the message that
   * carries the KEMAC, here the KMS's fresh timestamp. */
  mkt_enc_kemac(&e, &k, csb, now, items, 3);
  struct mk_iov init = { m->buf, m->len };     /* REQUEST_RESP || REQUEST_INIT */
  rc = mkt_finish_with_v(&e, k.auth, &init, 1, out, out_len);
out:
  mk_wipe(&k, sizeof k);
  return rc;
}

int mk_kms_request(const struct mk_kms *kms, const unsigned char *in, size_t in_len,
                   uint64_t now, const unsigned char rand_tgk[64],
                   unsigned char **out, size_t *out_len, const char **why)
{
  struct mk_msg *m = malloc(sizeof *m);
  struct kms_sender from;
  struct policy pol;
  struct ticket_secrets s;
  unsigned char mpki[KEY_LEN], mpkr[KEY_LEN], *ticket = NULL;
  size_t ticket_len = 0;
  struct kms_reply r;
  int rc;
  mkt_kms_reply(&r, now, out, out_len, why);
  memset(&from, 0, sizeof from);
  if (!m)
    return say(why, "out of memory", MK_E_NOMEM);
  if (!rand_tgk)
    rc = mkt_kms_fail(&r, MK_E_MALFORMED, MK_ERR_UNSPEC, NULL, "bad argument");
  else
    rc = mkt_kms_decode(kms, in, in_len, m, &r);
  if (rc != MK_OK) {
    free(m);
    return rc;
  }
  if ((rc = mkt_kms_authenticate(kms, m, now, &REQUEST_INIT, &from, &r)) != MK_OK
      || (rc = kms_grant(kms, m, &from, now, &pol, &r)) != MK_OK)
    goto out;
  if (mkt_expand_rand(rand_tgk, &s) != 0
      || mkt_build_ticket(kms, &pol, now, &s, &ticket, &ticket_len) != 0
      || mkt_mpk_keys(s.mpk, s.rand, MK_RAND_LEN, mpki, mpkr) != 0
      || kms_request_resp(kms, m, &from, ticket, ticket_len, &s, mpki, mpkr, now, out, out_len)
             != 0) {
    rc = mkt_kms_fail(&r, MK_E_NOMEM, MK_ERR_UNSPEC, from.auth, "cannot build REQUEST_RESP");
    goto out;
  }
  rc = say(why, NULL, MK_OK);
out:
  mk_wipe(&s, sizeof s);
  mk_wipe(&from, sizeof from);
  mk_wipe(mpki, sizeof mpki);
  mk_wipe(mpkr, sizeof mpkr);
  free(ticket);
  free(m);
  return rc;
}

/* ---------------------------------------------------------------- A: the answer */

int mk_request_resp(const unsigned char *resp, size_t resp_len,
                    const char *initiator, const unsigned char psk[MK_PSK_LEN],
                    const unsigned char *request, size_t request_len,
                    unsigned char **state, size_t *state_len, const char **why)
{
  static const struct kms_answer answer = {
    MK_DT_REQUEST_RESP, MK_PT_TICKET, MK_RAND_I, "not a REQUEST_RESP for this request",
    "REQUEST_RESP MAC check failed", "REQUEST_RESP KEMAC cannot be opened",
  };
  struct mk_msg *rq = malloc(sizeof *rq), *rs = malloc(sizeof *rs);
  const struct mk_payload *tk;
  struct policy pol;
  struct a_state st;
  unsigned char keys[3][KEY_LEN];
  int rc;
  memset(keys, 0, sizeof keys);
  if (!rq || !rs) {
    rc = say(why, "out of memory", MK_E_NOMEM);
    goto out;
  }
  if (!mkt_valid_id(initiator) || !psk || !state || !state_len
      || mk_decode(request, request_len, rq, NULL) != 0
      || rq->hdr.data_type != MK_DT_REQUEST_INIT_PSK
      || !one(&rq->pl, MK_PT_RANDR, MK_RAND_I)) {
    rc = say(why, "bad argument (request)", MK_E_MALFORMED);
    goto out;
  }
  if ((rc = mkt_decode_answer(resp, resp_len, rs, why)) != MK_OK
      || (rc = mkt_open_kms_answer(rs, rq, &answer, psk, keys, why)) != MK_OK)
    goto out;
  tk = one(&rs->pl, MK_PT_TICKET, -1);
  /* RFC 6043 §4.2.1.6: the granted policy must be acceptable */
  if (!mkt_policy_fields_ok(&tk->u.ticket) || mkt_parse_policy(&tk->u.ticket, &pol) != MK_OK
      || strcmp(pol.initiator, initiator) != 0 || !pol.kms[0] || tk->u.ticket.id_len != 0) {
    rc = say(why, "granted ticket policy not acceptable", MK_E_MALFORMED);
    goto out;
  }
  memset(&st, 0, sizeof st);
  st.csb = rs->hdr.csb_id;
  memcpy(st.mpki, keys[0], KEY_LEN);
  memcpy(st.mpkr, keys[1], KEY_LEN);
  memcpy(st.tgk, keys[2], KEY_LEN);
  strcpy(st.initiator, initiator);
  st.ticket = tk->raw;
  st.ticket_len = tk->len;
  rc = mkt_state_encode(&st, state, state_len) == 0 ? say(why, NULL, MK_OK)
                                                    : say(why, "out of memory", MK_E_NOMEM);
  mk_wipe(&st, sizeof st);
out:
  mk_wipe(keys, sizeof keys);
  free(rq);
  free(rs);
  return rc;
}
