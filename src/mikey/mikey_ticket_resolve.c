/*
 * mikey_ticket_resolve.c - Ticket Resolve (RFC 6043 §4.2.3), PSK variant:
 * the responder sends the ticket to the KMS (RESOLVE_INIT_PSK,
 * mk_resolve_init, with the ID-AS and CDIV indication after a diversion),
 * the KMS authenticates it and opens the ticket (mk_kms_resolve_open),
 * decides, and answers with the keys forked to the responder or an error
 * (RESOLVE_RESP, mk_kms_resolve_finish), and the responder opens the
 * answer into its session keys (mk_resolve_resp).
 *
 * Design: the KMS's decision is split in two calls because after a
 * diversion it must first ask the AS (an HTTP inquiry, outside this pure
 * library). Both calls check the RESOLVE_INIT in full, so nothing is kept
 * between them but the caller's copy of the request summary, which must
 * match (same replay tag); the replay cache itself is the caller's.
 */
#include <stdlib.h>
#include <string.h>

#include "mikey/bytes.h"
#include "mikey/mikey_ticket_private.h"

/* ---------------------------------------------------------------- C: RESOLVE_INIT */

int mk_resolve_init(const char *requester, const unsigned char psk[MK_PSK_LEN],
                    const unsigned char *transfer_init, size_t transfer_init_len,
                    const char *id_as, bool cdiv, uint64_t now,
                    const unsigned char rand[MK_RAND_LEN],
                    unsigned char **out, size_t *out_len, const char **why)
{
  struct mk_msg *ti = malloc(sizeof *ti);
  const struct mk_payload *tk;
  struct policy pol;
  struct mk_hdr h;
  struct mk_enc e;
  unsigned char auth[KEY_LEN];
  int rc = say(why, "out of memory", MK_E_NOMEM);
  if (!ti)
    return rc;
  if (!mkt_valid_id(requester) || !psk || !rand || !out || !out_len
      || (id_as && id_as[0] && !mkt_valid_id(id_as))) {
    rc = say(why, "bad argument", MK_E_MALFORMED);
    goto out;
  }
  if (mk_decode(transfer_init, transfer_init_len, ti, why) != 0
      || ti->hdr.data_type != MK_DT_TRANSFER_INIT || !(tk = one(&ti->pl, MK_PT_TICKET, -1))
      || mkt_parse_policy(&tk->u.ticket, &pol) != MK_OK || !pol.kms[0]) {
    rc = say(why, "not a TRANSFER_INIT with a resolvable ticket", MK_E_MALFORMED);
    goto out;
  }
  /* RESOLVE_INIT_PSK = HDR, T, RANDRr, [IDRr], [IDRkms], TICKET, [IDRpsk], V
   * plus, when diverted, IDR(ID-AS) and EXT(CDIV) before V. DECISION: the
   * CSB ID is the TRANSFER_INIT's (the CSB being keyed); IDRkms comes from
   * the ticket policy; the CDIV extension carries no data (presence is the
   * indication). The MAC key comes from the PSK with RANDRr only (RFC 6043
   * §5.1.2). */
  if (mkt_msg_key(psk, MK_C_AUTH, ti->hdr.csb_id, false, NULL, 0, rand, MK_RAND_LEN, auth,
                  KEY_LEN) != 0)
    goto out;
  mkt_hdr_init(&h, MK_DT_RESOLVE_INIT_PSK, true, ti->hdr.csb_id);
  mkt_enc_start(&e, &h, now);
  mk_enc_randr(&e, MK_RAND_R, rand, MK_RAND_LEN);
  mk_enc_idr(&e, MK_ROLE_R, MK_ID_URI, requester, strlen(requester));
  mk_enc_idr(&e, MK_ROLE_KMS, MK_ID_URI, pol.kms, strlen(pol.kms));
  mk_enc_raw(&e, MK_PT_TICKET, tk->raw, tk->len);
  if (id_as && id_as[0])
    mk_enc_idr(&e, MK_ROLE_AS, MK_ID_URI, id_as, strlen(id_as));
  if (cdiv)
    mk_enc_ext(&e, MK_EXT_CDIV, NULL, 0);
  /* MAC: RESOLVE_INIT || Identity_r || Identity_kms */
  struct mk_iov ids[2] = { { requester, strlen(requester) }, { pol.kms, strlen(pol.kms) } };
  if (mkt_finish_with_v(&e, auth, ids, 2, out, out_len) != 0)
    goto out;
  rc = say(why, NULL, MK_OK);
out:
  mk_wipe(auth, sizeof auth);
  free(ti);
  return rc;
}

/* ---------------------------------------------------------------- KMS: RESOLVE_RESP */

/* Everything the KMS establishes about a RESOLVE_INIT_PSK. */
struct resolve_ctx {
  struct mk_msg m;
  struct kms_sender from;               /* the requester */
  struct opened_ticket tk;
  struct mk_resolve_request req;
};

/* replay_tag = SHA-256("cdivas RESOLVE_INIT" || len requester || requester
 * || T value (8 bytes) || len RANDRr || RANDRr): the same message always
 * gives the same tag, any fresh T or RAND another one. */
static int replay_tag(const char *requester, const struct mk_payload *t,
                      const struct mk_payload *randrr, unsigned char tag[32])
{
  static const char dom[] = "cdivas RESOLVE_INIT";
  unsigned char in[sizeof dom - 1 + 1 + MK_ID_MAX + 8 + 1 + 255];
  size_t rl = strlen(requester);
  struct mk_writer w;
  mk_writer_fixed(&w, in, sizeof in);
  mk_put(&w, dom, sizeof dom - 1);
  mk_put_u8(&w, (uint8_t)rl);
  mk_put(&w, requester, rl);
  mk_put_u64(&w, t->u.t.value);
  mk_put_u8(&w, randrr->u.rand.len);
  mk_put(&w, randrr->u.rand.data, randrr->u.rand.len);
  struct mk_iov all = { in, w.len };
  return w.failed ? -1 : mk_sha256(&all, 1, tag);
}

/* What the KMS checks first in a RESOLVE_INIT_PSK. */
static const struct kms_request_kind RESOLVE_INIT = {
  MK_DT_RESOLVE_INIT_PSK, MK_ROLE_R, MK_RAND_R, MK_PT_TICKET, MK_ROLE_AS,
  "not a RESOLVE_INIT_PSK", "malformed RESOLVE_INIT_PSK", "unknown requester",
  "RESOLVE_INIT MAC check failed", "RESOLVE_INIT timestamp outside the window",
};

/* Authenticates the requester and tags the message for the replay cache. */
static int resolve_auth(const struct mk_kms *kms, struct resolve_ctx *x, uint64_t now,
                        struct kms_reply *r)
{
  int rc = mkt_kms_authenticate(kms, &x->m, now, &RESOLVE_INIT, &x->from, r);
  if (rc != MK_OK)
    return rc;
  strcpy(x->req.requester, x->from.id);
  if (replay_tag(x->req.requester, x->from.t, x->from.rand, x->req.replay_tag) != 0)
    return mkt_kms_fail(r, MK_E_NOMEM, MK_ERR_UNSPEC, x->from.auth, "crypto failure");
  return MK_OK;
}

/* Opens the ticket and fills the request summary the KMS decides on. */
static int resolve_ticket(const struct mk_kms *kms, struct resolve_ctx *x, uint64_t now,
                          struct kms_reply *r)
{
  const struct mk_payload *tk = one(&x->m.pl, MK_PT_TICKET, -1), *as;
  struct mk_resolve_request *q = &x->req;
  const char *msg = NULL;
  int rc = mkt_open_ticket(kms, tk, now, &x->tk, &msg);
  if (rc != MK_OK) {
    uint8_t err = rc == MK_E_EXPIRED ? MK_ERR_TS
                : rc == MK_E_AUTH ? MK_ERR_AUTH : MK_ERR_TICKET;
    return mkt_kms_fail(r, rc, err, x->from.auth, msg);
  }
  if (!mkt_initiator_data_ok(&tk->u.ticket, x->tk.mpkr))
    return mkt_kms_fail(r, MK_E_AUTH, MK_ERR_AUTH, x->from.auth, "initiator data check failed");
  strcpy(q->initiator, x->tk.pol.initiator);
  q->n_recipients = x->tk.pol.n_recipients;
  for (size_t i = 0; i < q->n_recipients; i++)
    strcpy(q->recipients[i], x->tk.pol.recipients[i]);
  bool ok = true;
  as = opt(&x->m.pl, MK_PT_IDR, MK_ROLE_AS, &ok);
  if (as && !mkt_idr_string(as, q->id_as))
    return mkt_kms_fail(r, MK_E_MALFORMED, MK_ERR_ID, x->from.auth, "bad ID-AS");
  for (size_t i = 0; i < x->m.pl.n; i++)
    if (x->m.pl.p[i].type == MK_PT_EXT && x->m.pl.p[i].u.ext.type == MK_EXT_CDIV)
      q->cdiv = true;
  q->requester_allowed = mkt_policy_names(&x->tk.pol, q->requester);
  memcpy(q->ticket_hash, x->tk.hash, 32);
  return MK_OK;
}

static int resolve_check(const struct mk_kms *kms, const unsigned char *in, size_t in_len,
                         uint64_t now, struct resolve_ctx *x, struct kms_reply *r)
{
  memset(x, 0, sizeof *x);
  int rc = mkt_kms_decode(kms, in, in_len, &x->m, r);
  if (rc == MK_OK)
    rc = resolve_auth(kms, x, now, r);
  return rc == MK_OK ? resolve_ticket(kms, x, now, r) : rc;
}

/* What mk_kms_resolve_open and _finish start with: no message out yet, the
 * reply context for error messages, and the work area (freed with
 * resolve_ctx_free), NULL with *why when out of memory. */
static struct resolve_ctx *resolve_start(struct kms_reply *r, uint64_t now, unsigned char **out,
                                         size_t *out_len, const char **why)
{
  mkt_kms_reply(r, now, out, out_len, why);
  if (out)
    *out = NULL;
  if (out_len)
    *out_len = 0;
  struct resolve_ctx *x = malloc(sizeof *x);
  if (!x)
    say(why, "out of memory", MK_E_NOMEM);
  return x;
}

static void resolve_ctx_free(struct resolve_ctx *x)
{
  if (!x)
    return;
  mk_wipe(x, sizeof *x);
  free(x);
}

int mk_kms_resolve_open(const struct mk_kms *kms, const unsigned char *in, size_t in_len,
                        uint64_t now, struct mk_resolve_request *req,
                        unsigned char **out, size_t *out_len, const char **why)
{
  struct kms_reply r;
  struct resolve_ctx *x = resolve_start(&r, now, out, out_len, why);
  if (!x)
    return MK_E_NOMEM;
  int rc = req ? resolve_check(kms, in, in_len, now, x, &r)
               : mkt_kms_fail(&r, MK_E_MALFORMED, MK_ERR_UNSPEC, NULL, "bad argument");
  if (rc == MK_OK) {
    *req = x->req;
    rc = say(why, NULL, MK_OK);
  }
  resolve_ctx_free(x);
  return rc;
}

/* RESOLVE_RESP = HDR, T, [IDRkms], KEMAC, [IDRr], [RANDRkms], V with the
 * KEMAC holding MPKi || MPKr' || TGK' forked to the requester. */
static int kms_resolve_resp(const struct mk_kms *kms, const struct resolve_ctx *x, uint64_t now,
                            const unsigned char rand[MK_RAND_LEN], unsigned char **out,
                            size_t *out_len)
{
  const char *id = x->req.requester;
  unsigned char mpkr_f[KEY_LEN], tgk_f[KEY_LEN];
  struct prot_keys k;
  struct mk_hdr h;
  struct mk_enc e;
  int rc = -1;
  uint32_t csb = x->m.hdr.csb_id;
  if (mkt_fork(x->tk.mpkr, x->tk.tgk, id, strlen(id), rand, mpkr_f, tgk_f) != 0
      || mkt_prot_keys_answer(x->from.psk, csb, x->from.rand_role, x->from.rand, &k) != 0)
    goto out;
  struct key_item items[3] = {
    { MK_KD_MPK, SPI_MPKI, x->tk.mpki }, { MK_KD_MPK, SPI_MPKR, mpkr_f },
    { MK_KD_TGK, SPI_TGK, tgk_f },
  };
  mkt_hdr_init(&h, MK_DT_RESOLVE_RESP, false, csb);
  mkt_enc_start(&e, &h, now);
  mk_enc_idr(&e, MK_ROLE_KMS, MK_ID_URI, kms->id, strlen(kms->id));
  mkt_enc_kemac(&e, &k, csb, now, items, 3);
  /* the forking modifier (IDRr, RANDRkms) - the authenticated requester */
  mk_enc_idr(&e, MK_ROLE_R, MK_ID_URI, id, strlen(id));
  mk_enc_randr(&e, MK_RAND_KMS, rand, MK_RAND_LEN);
  struct mk_iov init = { x->m.buf, x->m.len };   /* RESOLVE_RESP || RESOLVE_INIT */
  rc = mkt_finish_with_v(&e, k.auth, &init, 1, out, out_len);
out:
  mk_wipe(&k, sizeof k);
  mk_wipe(mpkr_f, sizeof mpkr_f);
  mk_wipe(tgk_f, sizeof tgk_f);
  return rc;
}

int mk_kms_resolve_finish(const struct mk_kms *kms, const unsigned char *in, size_t in_len,
                          const struct mk_resolve_request *req, bool permit, uint64_t now,
                          const unsigned char rand[MK_RAND_LEN],
                          unsigned char **out, size_t *out_len, const char **why)
{
  struct kms_reply r;
  struct resolve_ctx *x = resolve_start(&r, now, out, out_len, why);
  if (!x)
    return MK_E_NOMEM;
  /* DECISION: stateless - the RESOLVE_INIT is checked again in full (MAC,
   * timestamp window, ticket validity at `now`) and `req` must be the
   * summary of this very message (same replay tag). */
  int rc;
  if (!req || !rand || !out || !out_len)
    rc = mkt_kms_fail(&r, MK_E_MALFORMED, MK_ERR_UNSPEC, NULL, "bad argument");
  else if ((rc = resolve_check(kms, in, in_len, now, x, &r)) != MK_OK)
    ;
  else if (!mk_ct_equal(req->replay_tag, x->req.replay_tag, 32)
           || strcmp(req->requester, x->req.requester) != 0)
    rc = mkt_kms_fail(&r, MK_E_MALFORMED, MK_ERR_UNSPEC, x->from.auth,
                      "request summary does not match");
  else if (!permit)
    rc = mkt_kms_fail(&r, MK_E_NOT_ALLOWED, MK_ERR_AUTH, x->from.auth, "not authorized to resolve");
  else if (kms_resolve_resp(kms, x, now, rand, out, out_len) != 0)
    rc = mkt_kms_fail(&r, MK_E_NOMEM, MK_ERR_UNSPEC, x->from.auth, "cannot build RESOLVE_RESP");
  else
    rc = say(why, NULL, MK_OK);
  resolve_ctx_free(x);
  return rc;
}

/* ---------------------------------------------------------------- C: keys */

int mk_resolve_resp(const unsigned char *resp, size_t resp_len,
                    const char *requester, const unsigned char psk[MK_PSK_LEN],
                    const unsigned char *resolve_init, size_t resolve_init_len,
                    const unsigned char *transfer_init, size_t transfer_init_len,
                    struct mk_session_keys *keys, const char **why)
{
  static const struct kms_answer answer = {
    MK_DT_RESOLVE_RESP, 0, MK_RAND_R, "not a RESOLVE_RESP for this request",
    "RESOLVE_RESP MAC check failed", "RESOLVE_RESP KEMAC cannot be opened",
  };
  struct mk_msg *ri = malloc(sizeof *ri), *rr = malloc(sizeof *rr);
  struct ti_view *ti = malloc(sizeof *ti);
  const struct mk_payload *idrr, *rkms;
  unsigned char k3[3][KEY_LEN];
  int rc = say(why, "out of memory", MK_E_NOMEM);
  memset(k3, 0, sizeof k3);
  if (!ri || !rr || !ti)
    goto out;
  if (!mkt_valid_id(requester) || !psk || !keys
      || mk_decode(resolve_init, resolve_init_len, ri, NULL) != 0
      || ri->hdr.data_type != MK_DT_RESOLVE_INIT_PSK) {
    rc = say(why, "bad argument (resolve_init)", MK_E_MALFORMED);
    goto out;
  }
  if ((rc = mkt_decode_answer(resp, resp_len, rr, why)) != MK_OK
      || (rc = mkt_open_kms_answer(rr, ri, &answer, psk, k3, why)) != MK_OK)
    goto out;
  idrr = one(&rr->pl, MK_PT_IDR, MK_ROLE_R);
  rkms = one(&rr->pl, MK_PT_RANDR, MK_RAND_KMS);
  memset(keys, 0, sizeof *keys);
  /* DECISION: RANDRkms is exactly MK_RAND_LEN bytes (it is kept in the keys) */
  if (!idrr || !rkms || rkms->u.rand.len != MK_RAND_LEN || !mkt_idr_string(idrr, keys->responder)) {
    rc = say(why, "RESOLVE_RESP lacks the forking modifier", MK_E_MALFORMED);
    goto out;
  }
  if (mkt_ti_open(transfer_init, transfer_init_len, ti) != 0) {
    rc = say(why, "not a TRANSFER_INIT", MK_E_MALFORMED);
    goto out;
  }
  if (!mkt_ti_authentic(ti, k3[0])) {
    rc = say(why, "TRANSFER_INIT MAC check failed", MK_E_AUTH);
    goto out;
  }
  keys->csb_id = ti->m.hdr.csb_id;
  keys->cs_id = ti->cs_id;
  memcpy(keys->mpkr, k3[1], KEY_LEN);
  memcpy(keys->rand_kms, rkms->u.rand.data, MK_RAND_LEN);
  if (mkt_session_keys(k3[2], ti->cs_id, ti->randri, keys) != 0) {
    rc = say(why, "crypto failure", MK_E_NOMEM);
    goto out;
  }
  rc = say(why, NULL, MK_OK);
out:
  if (rc != MK_OK && keys)
    mk_wipe(keys, sizeof *keys);
  mk_wipe(k3, sizeof k3);
  free(ri);
  free(rr);
  free(ti);
  return rc;
}
