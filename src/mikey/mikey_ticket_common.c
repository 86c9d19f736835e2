/*
 * mikey_ticket_common.c - what every MIKEY-TICKET exchange of
 * mikey_ticket.h needs (declared in mikey_ticket_private.h): NTP time and
 * its windows, identities, the keys protecting a message (RFC 6043
 * §5.1.2), key forking (§5.1.1) and the session keys (§5.1.3), MACs over
 * a message and what they cover (§5.5), KEMAC encryption (RFC 3830
 * §4.2.3, RFC 6043 Table 6.5); on the KMS side the error message of §5.4
 * and the checks of an initial message before its exchange looks at it;
 * on the users' side the reading of an answer.
 *
 * Design: the exchanges differ in which payloads they carry and which
 * keys they use, not in how a key is derived, a message MACed, a KEMAC
 * sealed or a request authenticated; those steps are here, once, for the
 * fixed profile described in mikey_ticket_private.h, and an exchange
 * names its differences in a small const table (struct kms_request_kind,
 * struct kms_answer).
 */
#include <stdlib.h>
#include <string.h>

#include "mikey/mikey_ticket_private.h"

#define KEMAC_PLAIN_MAX 512
#define NTP_UNIX_OFFSET 2208988800.0   /* seconds from 1900-01-01 to 1970-01-01 */

/* ---------------------------------------------------------------- time and identities */

uint64_t mk_ntp_from_unix(double unix_seconds)
{
  double s = unix_seconds + NTP_UNIX_OFFSET;
  if (!(s > 0))
    return 0;
  uint64_t sec = (uint64_t)s;
  uint64_t frac = (uint64_t)((s - (double)sec) * 4294967296.0);
  if (frac > 0xFFFFFFFFu)
    frac = 0xFFFFFFFFu;
  return sec << 32 | frac;   /* the seconds wrap in 2036, as NTP's do */
}

bool mkt_within_window(uint64_t t, uint64_t now, uint64_t window)
{
  int64_t d = (int64_t)(t - now);
  uint64_t mag = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
  return mag <= window;
}

bool mkt_valid_id(const char *id)
{
  size_t n = id ? strnlen(id, MK_ID_MAX + 1) : 0;
  return n >= 1 && n <= MK_ID_MAX;
}

bool mkt_idr_string(const struct mk_payload *p, char out[MK_ID_MAX + 1])
{
  if (!p || p->u.idr.len == 0 || p->u.idr.len > MK_ID_MAX
      || memchr(p->u.idr.data, 0, p->u.idr.len))
    return false;
  memcpy(out, p->u.idr.data, p->u.idr.len);
  out[p->u.idr.len] = '\0';
  return true;
}

/* ---------------------------------------------------------------- keys and MACs */

int mkt_msg_key(const unsigned char *key, uint32_t constant, uint32_t csb, bool response,
                const unsigned char *randri, size_t randri_len,
                const unsigned char *randrr, size_t randrr_len,
                unsigned char *out, size_t out_len)
{
  return mk_kdf_6043_msg(PRF, key, KEY_LEN, constant, csb, response, randri, randri_len,
                         randrr, randrr_len, out, out_len);
}

int mkt_prot_keys_msg(const unsigned char *key, uint32_t csb, bool response,
                      const unsigned char *randri, size_t randri_len,
                      const unsigned char *randrr, size_t randrr_len, struct prot_keys *k)
{
  if (mkt_msg_key(key, MK_C_AUTH, csb, response, randri, randri_len, randrr, randrr_len,
                  k->auth, KEY_LEN) != 0
      || mkt_msg_key(key, MK_C_ENCR, csb, response, randri, randri_len, randrr, randrr_len,
                     k->encr, KEY_LEN) != 0
      || mkt_msg_key(key, MK_C_SALT, csb, response, randri, randri_len, randrr, randrr_len,
                     k->salt, SALT_KEY_LEN) != 0)
    return -1;
  return 0;
}

int mkt_prot_keys_answer(const unsigned char *psk, uint32_t csb, uint8_t rand_role,
                         const struct mk_payload *rand, struct prot_keys *k)
{
  const unsigned char *p = rand->u.rand.data;
  size_t n = rand->u.rand.len;
  return rand_role == MK_RAND_I ? mkt_prot_keys_msg(psk, csb, true, p, n, NULL, 0, k)
                                : mkt_prot_keys_msg(psk, csb, true, NULL, 0, p, n, k);
}

/* TEK and salt of crypto session cs_id from TGK' (RFC 6043 §5.1.3 with
 * RANDRi (H flag), no RANDRr (G flag clear)). DECISION: the salt is
 * derived (constant 0x39A2C14B) rather than carried, so it is forked too. */
int mkt_session_keys(const unsigned char tgk_f[KEY_LEN], uint8_t cs_id,
                     const struct mk_payload *randri, struct mk_session_keys *keys)
{
  return mk_kdf_6043_tgk(PRF, tgk_f, KEY_LEN, MK_C_TEK, cs_id, randri->u.rand.data,
                         randri->u.rand.len, NULL, 0, keys->tek, MK_TEK_LEN) == 0
      && mk_kdf_6043_tgk(PRF, tgk_f, KEY_LEN, MK_C_TGK_SALT, cs_id, randri->u.rand.data,
                         randri->u.rand.len, NULL, 0, keys->salt, MK_SALT_LEN) == 0 ? 0 : -1;
}

int mkt_fork(const unsigned char mpkr[KEY_LEN], const unsigned char tgk[KEY_LEN],
             const void *id, size_t id_len, const unsigned char rand_kms[MK_RAND_LEN],
             unsigned char mpkr_f[KEY_LEN], unsigned char tgk_f[KEY_LEN])
{
  return mk_kdf_6043_fork(PRF, mpkr, KEY_LEN, MK_C_FORK_MPKR, id, id_len, rand_kms, MK_RAND_LEN,
                          mpkr_f) == 0
      && mk_kdf_6043_fork(PRF, tgk, KEY_LEN, MK_C_FORK_TGK, id, id_len, rand_kms, MK_RAND_LEN,
                          tgk_f) == 0 ? 0 : -1;
}

int mkt_mac_parts(const unsigned char *key, const struct mk_iov *parts, size_t n,
                  unsigned char mac[MAC_LEN])
{
  size_t len = 0;
  return mk_mac(MAC_ALG, key, KEY_LEN, parts, n, mac, &len) == 0 && len == MAC_LEN ? 0 : -1;
}

/* Fills the MAC field (the last MAC_LEN bytes) of a finished message whose
 * last payload is V: the MAC covers the message up to the MAC field, then
 * `extra` (identities or the initial message, RFC 6043 Table 5.2). */
static int seal(unsigned char *msg, size_t len, const unsigned char *key,
                const struct mk_iov *extra, size_t n_extra)
{
  struct mk_iov parts[4];
  if (len < MAC_LEN || n_extra > 3)
    return -1;
  parts[0] = (struct mk_iov){ msg, len - MAC_LEN };
  for (size_t i = 0; i < n_extra; i++)
    parts[1 + i] = extra[i];
  return mkt_mac_parts(key, parts, 1 + n_extra, msg + len - MAC_LEN);
}

int mkt_finish_with_v(struct mk_enc *e, const unsigned char *key, const struct mk_iov *extra,
                      size_t n_extra, unsigned char **out, size_t *out_len)
{
  mk_enc_v(e, MAC_ALG, NULL, MAC_LEN);
  if (mk_enc_finish(e, out, out_len) != 0)
    return -1;
  if (seal(*out, *out_len, key, extra, n_extra) != 0) {
    free(*out);
    *out = NULL;
    return -2;
  }
  return 0;
}

const struct mk_payload *mkt_final_v(const struct mk_msg *m)
{
  const struct mk_payload *v = m->pl.n ? &m->pl.p[m->pl.n - 1] : NULL;
  if (!v || v->type != MK_PT_V || v->u.v.alg != MAC_ALG || v->u.v.mac_len != MAC_LEN)
    return NULL;
  return v;
}

bool mkt_verify(const struct mk_msg *m, const unsigned char *key,
                const struct mk_iov *extra, size_t n_extra)
{
  unsigned char mac[MAC_LEN];
  struct mk_iov parts[4];
  const struct mk_payload *v = mkt_final_v(m);
  if (!v || n_extra > 3)
    return false;
  parts[0] = (struct mk_iov){ m->buf, m->len - MAC_LEN };
  for (size_t i = 0; i < n_extra; i++)
    parts[1 + i] = extra[i];
  return mkt_mac_parts(key, parts, 1 + n_extra, mac) == 0 && mk_ct_equal(mac, v->u.v.mac, MAC_LEN);
}

/* ---------------------------------------------------------------- messages and KEMACs */

void mkt_hdr_init(struct mk_hdr *h, uint8_t type, bool v, uint32_t csb)
{
  memset(h, 0, sizeof *h);
  h->version = MK_VERSION;
  h->data_type = type;
  h->v = v;
  h->prf = PRF;
  h->csb_id = csb;
  h->map_type = MK_MAP_EMPTY;       /* RFC 6043 §4.2.1.1/§4.2.3.1: #CS = 0, Empty map */
}

void mkt_enc_start(struct mk_enc *e, const struct mk_hdr *h, uint64_t now)
{
  mk_enc_init(e);
  mk_enc_hdr(e, h);
  mk_enc_t(e, MK_TS_NTP_UTC, now);
}

void mkt_enc_kemac(struct mk_enc *e, const struct prot_keys *k, uint32_t csb, uint64_t t,
                   const struct key_item *items, size_t n)
{
  struct mk_enc plain;
  unsigned char *p = NULL, iv[16], cipher[KEMAC_PLAIN_MAX];
  size_t len = 0;
  mk_enc_init(&plain);
  for (size_t i = 0; i < n; i++)
    mk_enc_keydata(&plain, items[i].type, MK_KV_SPI, items[i].key, KEY_LEN, NULL, 0,
                   &items[i].spi, 1, NULL, 0);
  mk_aes_cm_iv(k->salt, csb, t, iv);
  if (mk_enc_finish(&plain, &p, &len) != 0 || len > sizeof cipher
      || mk_aes_cm(k->encr, KEY_LEN, iv, p, len, cipher) != 0) {
    mk_enc_fail(e);
  } else {
    mk_enc_kemac(e, MK_ENCR_AES_CM_256, cipher, (uint16_t)len, MK_MAC_NULL, NULL, 0);
  }
  if (p)
    mk_wipe(p, len);
  free(p);
  mk_wipe(cipher, sizeof cipher);
}

int mkt_open_kemac(const struct mk_payload *kemac, const struct prot_keys *k, uint32_t csb,
                   uint64_t t, const uint8_t *types, size_t n, unsigned char (*keys)[KEY_LEN])
{
  unsigned char plain[KEMAC_PLAIN_MAX], iv[16];
  struct mk_chain *c = malloc(sizeof *c);
  int rc = -1;
  if (!c || !kemac || kemac->u.kemac.encr_alg != MK_ENCR_AES_CM_256
      || kemac->u.kemac.mac_alg != MK_MAC_NULL || kemac->u.kemac.encr_len > sizeof plain)
    goto out;
  mk_aes_cm_iv(k->salt, csb, t, iv);
  if (mk_aes_cm(k->encr, KEY_LEN, iv, kemac->u.kemac.encr, kemac->u.kemac.encr_len, plain) != 0
      || mk_decode_chain(plain, kemac->u.kemac.encr_len, MK_PT_KEYDATA, MK_CTX_KEMAC_DATA, 0, c,
                         NULL) != 0
      || c->n != n)
    goto out;
  for (size_t i = 0; i < n; i++) {
    if (c->p[i].u.keydata.type != types[i] || c->p[i].u.keydata.key_len != KEY_LEN)
      goto out;
    memcpy(keys[i], c->p[i].u.keydata.key, KEY_LEN);
  }
  rc = 0;
out:
  mk_wipe(plain, sizeof plain);
  free(c);
  return rc;
}

/* ---------------------------------------------------------------- the KMS side */

void mkt_kms_reply(struct kms_reply *r, uint64_t now, unsigned char **out, size_t *out_len,
                   const char **why)
{
  *r = (struct kms_reply){ .prf = PRF, .csb = 0, .now = now, .out = out, .out_len = out_len,
                           .why = why };
}

/* RFC 6043 §5.4: Error message = HDR, T, (ERR), [V]. The V, when the peer
 * was authenticated, uses the auth_key of the message in error. */
static int build_error(uint8_t prf, uint32_t csb, uint64_t now, uint8_t err_no,
                       const unsigned char *auth_key, unsigned char **out, size_t *out_len)
{
  struct mk_enc e;
  struct mk_hdr h = { .version = MK_VERSION, .data_type = MK_DT_ERROR, .prf = prf & 0x7F,
                      .csb_id = csb, .map_type = MK_MAP_EMPTY };
  mkt_enc_start(&e, &h, now);
  mk_enc_err(&e, err_no);
  if (!auth_key)
    return mk_enc_finish(&e, out, out_len);
  return mkt_finish_with_v(&e, auth_key, NULL, 0, out, out_len) == 0 ? 0 : -1;
}

int mkt_kms_fail(const struct kms_reply *r, int rc, uint8_t err_no,
                 const unsigned char *auth_key, const char *msg)
{
  if (r->out && r->out_len) {
    *r->out = NULL;
    *r->out_len = 0;
    if (build_error(r->prf, r->csb, r->now, err_no, auth_key, r->out, r->out_len) != 0)
      rc = MK_E_NOMEM;
  }
  return say(r->why, msg, rc);
}

int mkt_kms_decode(const struct mk_kms *kms, const unsigned char *in, size_t in_len,
                   struct mk_msg *m, struct kms_reply *r)
{
  const char *dwhy = NULL;
  if (!kms || !mkt_valid_id(kms->id) || !kms->lookup)
    return mkt_kms_fail(r, MK_E_MALFORMED, MK_ERR_UNSPEC, NULL, "bad argument");
  if (mk_decode(in, in_len, m, &dwhy) != 0) {
    r->csb = m->hdr_len ? m->hdr.csb_id : 0;
    return mkt_kms_fail(r, MK_E_MALFORMED, MK_ERR_UNSPEC, NULL, dwhy);
  }
  r->csb = m->hdr.csb_id;    /* RFC 6043 §5.4: version, PRF func, CSB ID as in the message */
  r->prf = m->hdr.prf;
  return MK_OK;
}

int mkt_kms_authenticate(const struct mk_kms *kms, const struct mk_msg *m, uint64_t now,
                         const struct kms_request_kind *kind, struct kms_sender *s,
                         struct kms_reply *r)
{
  const struct mk_payload *idr;
  bool ok = true;
  if (m->hdr.data_type != kind->data_type)
    return mkt_kms_fail(r, MK_E_MALFORMED, MK_ERR_DT, NULL, kind->not_it);
  if (m->hdr.prf != PRF)
    return mkt_kms_fail(r, MK_E_MALFORMED, MK_ERR_PRF, NULL, "PRF not supported");
  idr = one(&m->pl, MK_PT_IDR, kind->id_role);
  s->rand = one(&m->pl, MK_PT_RANDR, kind->rand_role);
  s->rand_role = kind->rand_role;
  s->t = one(&m->pl, MK_PT_T, -1);
  (void)opt(&m->pl, MK_PT_IDR, MK_ROLE_KMS, &ok);
  if (kind->also_once >= 0)
    (void)opt(&m->pl, MK_PT_IDR, kind->also_once, &ok);
  if (!ok || !idr || !s->rand || !s->t || s->rand->u.rand.len < MK_RAND_LEN
      || !one(&m->pl, kind->carries, -1) || m->hdr.n_cs != 0 || m->hdr.map_type != MK_MAP_EMPTY
      || !mkt_final_v(m) || !mkt_idr_string(idr, s->id))
    return mkt_kms_fail(r, MK_E_MALFORMED, MK_ERR_UNSPEC, NULL, kind->malformed);
  if (!kms->lookup(kms->lookup_ctx, s->id, s->psk))
    return mkt_kms_fail(r, MK_E_UNKNOWN_USER, MK_ERR_ID, NULL, kind->unknown);
  const unsigned char *p = s->rand->u.rand.data;
  size_t n = s->rand->u.rand.len;
  bool mine = kind->rand_role == MK_RAND_I;
  struct mk_iov ids[2] = { { s->id, strlen(s->id) }, { kms->id, strlen(kms->id) } };
  if (mkt_msg_key(s->psk, MK_C_AUTH, m->hdr.csb_id, false, mine ? p : NULL, mine ? n : 0,
                  mine ? NULL : p, mine ? 0 : n, s->auth, KEY_LEN) != 0
      || !mkt_verify(m, s->auth, ids, 2))
    return mkt_kms_fail(r, MK_E_AUTH, MK_ERR_AUTH, NULL, kind->bad_mac);
  if (s->t->u.t.ts_type != MK_TS_NTP_UTC || !mkt_within_window(s->t->u.t.value, now, kms->window))
    return mkt_kms_fail(r, MK_E_EXPIRED, MK_ERR_TS, s->auth, kind->stale);
  return MK_OK;
}

/* ---------------------------------------------------------------- answers */

static const char *error_text(uint8_t err_no)
{
  switch (err_no) {
  case MK_ERR_AUTH: return "the peer answered: authentication failure / unauthorized";
  case MK_ERR_TS: return "the peer answered: invalid timestamp or expired ticket";
  case MK_ERR_PRF: return "the peer answered: PRF not supported";
  case MK_ERR_ID: return "the peer answered: identity not known";
  case MK_ERR_DT: return "the peer answered: data type not supported";
  case MK_ERR_TICKET: return "the peer answered: ticket type not supported";
  case MK_ERR_TPPAR: return "the peer answered: ticket policy not acceptable";
  default: return "the peer answered with a MIKEY error message";
  }
}

/* When `m` is an error message: MK_E_REFUSED with the first ERR's text. */
static int refused(const struct mk_msg *m, const char **why)
{
  const struct mk_payload *err = NULL;
  for (size_t i = 0; i < m->pl.n && !err; i++)
    if (m->pl.p[i].type == MK_PT_ERR)
      err = &m->pl.p[i];
  return say(why, err ? error_text(err->u.err.error_no) : "the peer answered with an error",
             MK_E_REFUSED);
}

int mkt_decode_answer(const unsigned char *buf, size_t len, struct mk_msg *m, const char **why)
{
  if (mk_decode(buf, len, m, why) != 0)
    return MK_E_MALFORMED;
  if (m->hdr.data_type == MK_DT_ERROR)
    return refused(m, why);
  return MK_OK;
}

int mkt_open_kms_answer(const struct mk_msg *ans, const struct mk_msg *init,
                        const struct kms_answer *kind, const unsigned char *psk,
                        unsigned char keys[3][KEY_LEN], const char **why)
{
  static const uint8_t types[3] = { MK_KD_MPK, MK_KD_MPK, MK_KD_TGK };
  const struct mk_payload *rand = one(&init->pl, MK_PT_RANDR, kind->rand_role);
  const struct mk_payload *kemac = one(&ans->pl, MK_PT_KEMAC, -1), *t = one(&ans->pl, MK_PT_T, -1);
  struct prot_keys k;
  int rc;
  if (ans->hdr.data_type != kind->data_type || ans->hdr.csb_id != init->hdr.csb_id
      || ans->hdr.prf != PRF || (kind->also && !one(&ans->pl, kind->also, -1)) || !rand
      || !kemac || !t || !mkt_final_v(ans))
    return say(why, kind->not_it, MK_E_MALFORMED);
  if (mkt_prot_keys_answer(psk, ans->hdr.csb_id, kind->rand_role, rand, &k) != 0)
    return say(why, "crypto failure", MK_E_NOMEM);
  struct mk_iov whole_init = { init->buf, init->len };
  if (!mkt_verify(ans, k.auth, &whole_init, 1))
    rc = say(why, kind->bad_mac, MK_E_AUTH);
  else if (mkt_open_kemac(kemac, &k, ans->hdr.csb_id, t->u.t.value, types, 3, keys) != 0)
    rc = say(why, kind->bad_kemac, MK_E_MALFORMED);
  else
    rc = MK_OK;
  mk_wipe(&k, sizeof k);
  return rc;
}
