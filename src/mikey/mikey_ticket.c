/*
 * mikey_ticket.c - the MIKEY-TICKET (RFC 6043) mode 1 exchanges of
 * mikey_ticket.h: Ticket Request (PSK), Ticket Transfer and Ticket Resolve
 * (PSK), with the MIKEY base ticket of Appendix A and key forking
 * (§5.1.1) always on.
 *
 * Design: one fixed profile, the 256-bit set of RFC 6043 and nothing
 * shorter mixed in: PRF-HMAC-SHA-256 (PRF func 1) everywhere, AES-CM-256
 * (Encr alg 3) for every KEMAC, HMAC-SHA-256-256 (MAC alg 2) for every V,
 * 256-bit PSKs, TPK, MPK and TGK. Every function is pure: it decodes what
 * it is given (including its own earlier messages, which the caller keeps),
 * so the KMS is stateless and a replay cache, if any, lives with the
 * caller (mk_resolve_request.replay_tag). Errors are negative MK_E_* codes
 * with a static *why; the KMS side also returns a MIKEY error message
 * (RFC 6043 §5.4) in *out.
 *
 * Key hierarchy (who derives what):
 *   KMS: TGK, MPK, ticket RAND from rand_tgk; MPKi, MPKr from MPK (A.2.2);
 *        the ticket's KEMAC under keys from the TPK = kms->ticket_key (A.2.1);
 *        MPKr' and TGK' forked to the resolving responder (§5.1.1).
 *   A:   MPKi, MPKr, TGK from REQUEST_RESP; MPKr', TGK' once TRANSFER_RESP
 *        names the responder and carries RANDRkms.
 *   C:   MPKi, MPKr', TGK' from RESOLVE_RESP.
 *   A, C: TEK and salt from TGK' (§5.1.3 with RANDRi, H flag set).
 *
 * The RFC leaves choices; each is marked "DECISION:" where it is made.
 */
#include "mikey/mikey_ticket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mikey/mikey.h"
#include "mikey/mikey_crypto.h"

#define PRF MK_PRF_HMAC_SHA_256
#define MAC_ALG MK_MAC_HMAC_SHA_256_256
#define MAC_LEN 32
#define KEY_LEN 32
#define SALT_KEY_LEN MK_SALT_KEY_LEN
#define MAX_RECIPIENTS 8
#define KEMAC_PLAIN_MAX 512
#define NTP_UNIX_OFFSET 2208988800.0   /* seconds from 1900-01-01 to 1970-01-01 */

/* DECISION: the Ticket Policy the KMS grants: D (KMS-generated), E (resolve
 * mandatory: mode 1), F (TRANSFER_RESP sent), H (RANDRi in the TEK
 * derivation), I (key forking), K (the KMS changed the desired policy: it
 * always adds IDRkms, IDRi and the validity), N, O (plain RFC 6043
 * processing). G is clear (no RANDRr: the responder's keys come from the
 * KMS before TRANSFER_RESP, and mk_transfer_resp takes no randomness), J is
 * clear (no reuse: the CSB ID is fixed at request time and RFC 6043 §5.3
 * wants a new one per reuse), L and M are clear (no session keys from the
 * peers). The initiator asks for the same minus K. */
#define GRANTED_FLAGS \
  (MK_TP_D | MK_TP_E | MK_TP_F | MK_TP_H | MK_TP_I | MK_TP_K | MK_TP_N | MK_TP_O)
#define DESIRED_FLAGS (GRANTED_FLAGS & ~MK_TP_K)
#define REQUIRED_FLAGS (MK_TP_F | MK_TP_H | MK_TP_I)

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

/* DECISION: every identity (initiator, responders, KMS, ID-AS) is sent as
 * ID Type URI (1) and compared byte for byte; IDRpsk is never sent (the
 * KMS finds the PSK from IDRi/IDRr). Error numbers the KMS sends: Auth
 * failure (0) for a bad MAC and for a refusal ("Unauthorized"), Invalid
 * TS (1) for a timestamp outside the window or an expired ticket, Invalid
 * ID (7) for an unknown user, Invalid PRF (2), Invalid DT (11), Invalid
 * TICKET (14), Invalid TPpar (15), Unspecified (12) for malformed input.
 * Error messages are MACed only once the peer is authenticated. */

/* DECISION: key validity is an SPI (RFC 6043 §6.2.1 wants one per key):
 * one byte naming the key's place in the KEMAC. */
#define SPI_MPKI 1
#define SPI_MPKR 2
#define SPI_TGK 3

static const char STATE_MAGIC[4] = { 'M', 'K', 'T', '1' };

static int say(const char **why, const char *msg, int rc)
{
  if (why)
    *why = msg;
  return rc;
}

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

/* |t - now| <= window, comparing as signed distance so that the NTP era
 * wrap (2036) does not break a comparison of nearby times (RFC 4330 §3). */
static bool within_window(uint64_t t, uint64_t now, uint64_t window)
{
  int64_t d = (int64_t)(t - now);
  uint64_t mag = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
  return mag <= window;
}

/* a <= b for nearby 32-bit NTP seconds (NTP-UTC-32, RFC 4330 era rule). */
static bool ntp32_le(uint32_t a, uint32_t b)
{
  return (int32_t)(b - a) >= 0;
}

static bool valid_id(const char *id)
{
  size_t n = id ? strnlen(id, MK_ID_MAX + 1) : 0;
  return n >= 1 && n <= MK_ID_MAX;
}

/* Copies an IDR's identity into a C string; empty or NUL-bearing
 * identities are refused (they cannot be compared as strings). */
static bool idr_string(const struct mk_payload *p, char out[MK_ID_MAX + 1])
{
  if (!p || p->u.idr.len == 0 || p->u.idr.len > MK_ID_MAX
      || memchr(p->u.idr.data, 0, p->u.idr.len))
    return false;
  memcpy(out, p->u.idr.data, p->u.idr.len);
  out[p->u.idr.len] = '\0';
  return true;
}

/* Exactly one payload of type/role; anything else is malformed. */
static const struct mk_payload *one(const struct mk_chain *c, uint16_t type, int role)
{
  const struct mk_payload *p = NULL;
  return mk_find(c, type, role, &p) == 1 ? p : NULL;
}

/* At most one: *ok is false when there are several. */
static const struct mk_payload *opt(const struct mk_chain *c, uint16_t type, int role, bool *ok)
{
  const struct mk_payload *p = NULL;
  if (mk_find(c, type, role, &p) < 0)
    *ok = false;
  return p;
}

/* ---------------------------------------------------------------- keys and MACs */

/* RFC 6043 §5.1.2 with our PRF. */
static int msg_key(const unsigned char *key, uint32_t constant, uint32_t csb, bool response,
                   const unsigned char *randri, size_t randri_len,
                   const unsigned char *randrr, size_t randrr_len,
                   unsigned char *out, size_t out_len)
{
  return mk_kdf_6043_msg(PRF, key, KEY_LEN, constant, csb, response, randri, randri_len,
                         randrr, randrr_len, out, out_len);
}

/* The three keys protecting one MIKEY message (RFC 3830 §4.1.4 constants). */
struct prot_keys {
  unsigned char auth[KEY_LEN];
  unsigned char encr[KEY_LEN];
  unsigned char salt[SALT_KEY_LEN];
};

static int prot_keys_msg(const unsigned char *key, uint32_t csb, bool response,
                         const unsigned char *randri, size_t randri_len,
                         const unsigned char *randrr, size_t randrr_len, struct prot_keys *k)
{
  if (msg_key(key, MK_C_AUTH, csb, response, randri, randri_len, randrr, randrr_len,
              k->auth, KEY_LEN) != 0
      || msg_key(key, MK_C_ENCR, csb, response, randri, randri_len, randrr, randrr_len,
                 k->encr, KEY_LEN) != 0
      || msg_key(key, MK_C_SALT, csb, response, randri, randri_len, randrr, randrr_len,
                 k->salt, SALT_KEY_LEN) != 0)
    return -1;
  return 0;
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

/* HMAC-SHA-256-256 over parts into mac. */
static int mac_parts(const unsigned char *key, const struct mk_iov *parts, size_t n,
                     unsigned char mac[MAC_LEN])
{
  size_t len = 0;
  return mk_mac(MAC_ALG, key, KEY_LEN, parts, n, mac, &len) == 0 && len == MAC_LEN ? 0 : -1;
}

/* Fills the MAC field (the last MAC_LEN bytes) of a finished message whose
 * last payload is V: the MAC covers the message up to the MAC field, then
 * `extra` (identities or the initial message, RFC 6043 Table 5.2). */
static int seal_message(unsigned char *msg, size_t len, const unsigned char *key,
                        const struct mk_iov *extra, size_t n_extra)
{
  struct mk_iov parts[4];
  if (len < MAC_LEN || n_extra > 3)
    return -1;
  parts[0] = (struct mk_iov){ msg, len - MAC_LEN };
  for (size_t i = 0; i < n_extra; i++)
    parts[1 + i] = extra[i];
  return mac_parts(key, parts, 1 + n_extra, msg + len - MAC_LEN);
}

/* The V payload ending a decoded message, if it is ours (alg 2, 32 bytes). */
static const struct mk_payload *final_v(const struct mk_msg *m)
{
  const struct mk_payload *v = m->pl.n ? &m->pl.p[m->pl.n - 1] : NULL;
  if (!v || v->type != MK_PT_V || v->u.v.alg != MAC_ALG || v->u.v.mac_len != MAC_LEN)
    return NULL;
  return v;
}

/* Checks the final V of a message against key and extra inputs. */
static bool verify_message(const struct mk_msg *m, const unsigned char *key,
                           const struct mk_iov *extra, size_t n_extra)
{
  unsigned char mac[MAC_LEN];
  struct mk_iov parts[4];
  const struct mk_payload *v = final_v(m);
  if (!v || n_extra > 3)
    return false;
  parts[0] = (struct mk_iov){ m->buf, m->len - MAC_LEN };
  for (size_t i = 0; i < n_extra; i++)
    parts[1 + i] = extra[i];
  return mac_parts(key, parts, 1 + n_extra, mac) == 0 && mk_ct_equal(mac, v->u.v.mac, MAC_LEN);
}

/* ---------------------------------------------------------------- KEMAC */

struct key_item {
  uint8_t type;
  uint8_t spi;
  const unsigned char *key;
};

/* E(encr_key, key data sub-payloads) with AES-CM-256 (RFC 3830 §4.2.3,
 * RFC 6043 Table 6.5), MAC alg NULL because V covers the message. */
static void enc_kemac(struct mk_enc *e, const struct prot_keys *k, uint32_t csb, uint64_t t,
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

/* Decrypts a KEMAC and returns its keys in order: the types must be
 * exactly `types` (n of them), every key 256 bits. */
static int open_kemac(const struct mk_payload *kemac, const struct prot_keys *k, uint32_t csb,
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

/* ---------------------------------------------------------------- error messages */

/* RFC 6043 §5.4: Error message = HDR, T, (ERR), [V]. The V, when the peer
 * was authenticated, uses the auth_key of the message in error. */
static int build_error(uint8_t prf, uint32_t csb, uint64_t now, uint8_t err_no,
                       const unsigned char *auth_key, unsigned char **out, size_t *out_len)
{
  struct mk_enc e;
  struct mk_hdr h = { .version = MK_VERSION, .data_type = MK_DT_ERROR, .prf = prf & 0x7F,
                      .csb_id = csb, .map_type = MK_MAP_EMPTY };
  mk_enc_init(&e);
  mk_enc_hdr(&e, &h);
  mk_enc_t(&e, MK_TS_NTP_UTC, now);
  mk_enc_err(&e, err_no);
  if (auth_key)
    mk_enc_v(&e, MAC_ALG, NULL, MAC_LEN);
  if (mk_enc_finish(&e, out, out_len) != 0)
    return -1;
  if (auth_key && seal_message(*out, *out_len, auth_key, NULL, 0) != 0) {
    free(*out);
    *out = NULL;
    return -1;
  }
  return 0;
}

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

/* The KMS's failure path: an error message in *out (when out is given)
 * and the code. */
struct kms_reply {
  uint8_t prf;
  uint32_t csb;
  uint64_t now;
  unsigned char **out;
  size_t *out_len;
  const char **why;
};

static int kms_fail(const struct kms_reply *r, int rc, uint8_t err_no,
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

/* ---------------------------------------------------------------- ticket policy */

struct policy {
  char initiator[MK_ID_MAX + 1];
  char kms[MK_ID_MAX + 1];
  char recipients[MAX_RECIPIENTS][MK_ID_MAX + 1];
  size_t n_recipients;
  bool has_start, has_end;
  uint32_t start, end;                /* NTP-UTC-32 seconds */
};

/* Reads TP Data (RFC 6043 §6.10): [IDRkms], [IDRi], [TRs], [TRe], (IDRr). */
static int parse_policy(const struct mk_ticket_fields *t, struct policy *pol)
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
  if ((p = opt(c, MK_PT_IDR, MK_ROLE_I, &ok)) && !idr_string(p, pol->initiator))
    goto out;
  if ((p = opt(c, MK_PT_IDR, MK_ROLE_KMS, &ok)) && !idr_string(p, pol->kms))
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
    if (pol->n_recipients == MAX_RECIPIENTS || !idr_string(p, pol->recipients[pol->n_recipients]))
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

static bool policy_names(const struct policy *pol, const char *id)
{
  for (size_t i = 0; i < pol->n_recipients; i++)
    if (strcmp(pol->recipients[i], id) == 0)
      return true;
  return false;
}

/* Our ticket type and PRF, and the flags the exchanges rely on. */
static bool policy_fields_ok(const struct mk_ticket_fields *t)
{
  return t->ticket_type == MK_TICKET_MIKEY_BASE && t->subtype == 1 && t->version == 1
      && t->prf == PRF && (t->flags & REQUIRED_FLAGS) == REQUIRED_FLAGS
      && !(t->flags & MK_TP_G);
}

/* TP Data of a policy: First Payload, [IDRkms], [IDRi], [TRs], [TRe], (IDRr). */
static int encode_policy(const struct policy *pol, unsigned char **out, size_t *out_len)
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

struct ticket_secrets {
  unsigned char mpk[KEY_LEN];
  unsigned char tgk[KEY_LEN];
  unsigned char rand[MK_RAND_LEN];
};

/* DECISION: the KMS's 64 random bytes are expanded with the PRF into the
 * TGK, the MPK and the ticket's RAND (80 bytes), so the three are
 * independent even though the contract hands over 64 bytes. */
static int expand_rand(const unsigned char rand_tgk[64], struct ticket_secrets *s)
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
  enc_kemac(&e, k, 0xFFFFFFFFu, now, items, 2);
  mk_enc_v(&e, MAC_ALG, NULL, MAC_LEN);
  return mk_enc_finish(&e, out, len);
}

/* The TICKET payload (granted policy + Ticket Data, no Initiator Data),
 * its ticket MAC filled in: A.1 says the MAC covers the TICKET payload
 * except Next Payload, Initiator Data length, Initiator Data and the MAC. */
static int build_ticket(const struct mk_kms *kms, const struct policy *pol, uint64_t now,
                        const struct ticket_secrets *s, unsigned char **out, size_t *out_len)
{
  struct prot_keys k;
  struct mk_enc e;
  unsigned char *tp = NULL, *td = NULL;
  size_t tp_len = 0, td_len = 0;
  int rc = -1;
  if (prot_keys_tpk(kms->ticket_key, s->rand, MK_RAND_LEN, &k) != 0
      || encode_policy(pol, &tp, &tp_len) != 0
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
  if (mac_parts(k.auth, &cover, 1, *out + td_end - MAC_LEN) != 0) {
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

/* What the KMS learns from a TICKET payload it issued. */
struct opened_ticket {
  struct policy pol;
  unsigned char mpk[KEY_LEN], tgk[KEY_LEN];
  unsigned char mpki[KEY_LEN], mpkr[KEY_LEN];
  unsigned char hash[32];               /* SHA-256 of the Ticket Data */
};

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

/* Verifies the ticket MAC under the TPK, decrypts its keys, reads the
 * policy and checks the validity period. */
static int open_ticket(const struct mk_kms *kms, const struct mk_payload *tk, uint64_t now,
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
  if (!policy_fields_ok(t)) {
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
  if (mac_parts(k.auth, &cover, 1, mac) != 0
      || !mk_ct_equal(mac, tk->raw + td_end - MAC_LEN, MAC_LEN)) {
    rc = say(why, "ticket integrity check failed", MK_E_AUTH);
    goto out;
  }
  if (open_kemac(parts.kemac, &k, 0xFFFFFFFFu, parts.t->u.t.value, types, 2, keys) != 0
      || parse_policy(t, &o->pol) != MK_OK || !o->pol.initiator[0])
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
  if (mk_kdf_6043_ticket(PRF, o->mpk, KEY_LEN, MK_C_MPKI, 0x06, parts.rand->u.rand.data,
                         parts.rand->u.rand.len, o->mpki, KEY_LEN) != 0
      || mk_kdf_6043_ticket(PRF, o->mpk, KEY_LEN, MK_C_MPKR, 0x06, parts.rand->u.rand.data,
                            parts.rand->u.rand.len, o->mpkr, KEY_LEN) != 0
      || mk_sha256(&td, 1, o->hash) != 0)
    goto out;
  rc = MK_OK;
out:
  mk_wipe(&k, sizeof k);
  mk_wipe(keys, sizeof keys);
  free(c);
  return rc;
}

/* ---------------------------------------------------------------- A: request */

static void hdr_init(struct mk_hdr *h, uint8_t type, bool v, uint32_t csb)
{
  memset(h, 0, sizeof *h);
  h->version = MK_VERSION;
  h->data_type = type;
  h->v = v;
  h->prf = PRF;
  h->csb_id = csb;
  h->map_type = MK_MAP_EMPTY;       /* RFC 6043 §4.2.1.1/§4.2.3.1: #CS = 0, Empty map */
}

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
  if (!valid_id(initiator) || !valid_id(kms_id) || !psk || !rand || !out || !out_len
      || !recipients || n_recipients == 0 || n_recipients > MAX_RECIPIENTS)
    return say(why, "bad argument", MK_E_MALFORMED);
  memset(&pol, 0, sizeof pol);
  for (size_t i = 0; i < n_recipients; i++) {
    if (!valid_id(recipients[i]))
      return say(why, "bad recipient identity", MK_E_MALFORMED);
    strcpy(pol.recipients[i], recipients[i]);
  }
  pol.n_recipients = n_recipients;
  if (encode_policy(&pol, &tp, &tp_len) != 0 || tp_len > 0xFFFF) {
    free(tp);
    return say(why, "out of memory", MK_E_NOMEM);
  }
  struct mk_ticket_fields t = { .ticket_type = MK_TICKET_MIKEY_BASE, .subtype = 1, .version = 1,
                                .prf = PRF, .flags = DESIRED_FLAGS,
                                .tp_len = (uint16_t)tp_len, .tp_data = tp };
  /* REQUEST_INIT_PSK = HDR, T, RANDRi, [IDRi], [IDRkms], TP, [IDRpsk], V */
  hdr_init(&h, MK_DT_REQUEST_INIT_PSK, true, csb_id);
  mk_enc_init(&e);
  mk_enc_hdr(&e, &h);
  mk_enc_t(&e, MK_TS_NTP_UTC, now);
  mk_enc_randr(&e, MK_RAND_I, rand, MK_RAND_LEN);
  mk_enc_idr(&e, MK_ROLE_I, MK_ID_URI, initiator, strlen(initiator));
  mk_enc_idr(&e, MK_ROLE_KMS, MK_ID_URI, kms_id, strlen(kms_id));
  mk_enc_ticket(&e, false, &t);
  mk_enc_v(&e, MAC_ALG, NULL, MAC_LEN);
  free(tp);
  if (mk_enc_finish(&e, out, out_len) != 0)
    return say(why, "out of memory", MK_E_NOMEM);
  /* MAC: REQUEST_INIT || Identity_i || Identity_kms */
  struct mk_iov ids[2] = { { initiator, strlen(initiator) }, { kms_id, strlen(kms_id) } };
  if (msg_key(psk, MK_C_AUTH, csb_id, false, rand, MK_RAND_LEN, NULL, 0, auth, KEY_LEN) != 0
      || seal_message(*out, *out_len, auth, ids, 2) != 0) {
    free(*out);
    *out = NULL;
    mk_wipe(auth, sizeof auth);
    return say(why, "crypto failure", MK_E_NOMEM);
  }
  mk_wipe(auth, sizeof auth);
  return say(why, NULL, MK_OK);
}

/* ---------------------------------------------------------------- KMS: request */

/* The authenticated parts of a REQUEST_INIT_PSK. */
struct request_in {
  char initiator[MK_ID_MAX + 1];
  unsigned char psk[MK_PSK_LEN];
  const struct mk_payload *randri, *tp;
};

static int kms_check_request(const struct mk_kms *kms, const struct mk_msg *m, uint64_t now,
                             struct request_in *rq, struct kms_reply *r)
{
  const struct mk_payload *idri, *t;
  unsigned char auth[KEY_LEN];
  bool ok = true;
  if (m->hdr.data_type != MK_DT_REQUEST_INIT_PSK)
    return kms_fail(r, MK_E_MALFORMED, MK_ERR_DT, NULL, "not a REQUEST_INIT_PSK");
  if (m->hdr.prf != PRF)
    return kms_fail(r, MK_E_MALFORMED, MK_ERR_PRF, NULL, "PRF not supported");
  idri = one(&m->pl, MK_PT_IDR, MK_ROLE_I);
  rq->randri = one(&m->pl, MK_PT_RANDR, MK_RAND_I);
  rq->tp = one(&m->pl, MK_PT_TP, -1);
  t = one(&m->pl, MK_PT_T, -1);
  (void)opt(&m->pl, MK_PT_IDR, MK_ROLE_KMS, &ok);
  if (!ok || !idri || !rq->randri || !rq->tp || !t || rq->randri->u.rand.len < MK_RAND_LEN
      || m->hdr.n_cs != 0 || m->hdr.map_type != MK_MAP_EMPTY || !final_v(m)
      || !idr_string(idri, rq->initiator))
    return kms_fail(r, MK_E_MALFORMED, MK_ERR_UNSPEC, NULL, "malformed REQUEST_INIT_PSK");
  if (!kms->lookup(kms->lookup_ctx, rq->initiator, rq->psk))
    return kms_fail(r, MK_E_UNKNOWN_USER, MK_ERR_ID, NULL, "unknown initiator");
  struct mk_iov ids[2] = { { rq->initiator, strlen(rq->initiator) },
                           { kms->id, strlen(kms->id) } };
  if (msg_key(rq->psk, MK_C_AUTH, m->hdr.csb_id, false, rq->randri->u.rand.data,
              rq->randri->u.rand.len, NULL, 0, auth, KEY_LEN) != 0
      || !verify_message(m, auth, ids, 2)) {
    mk_wipe(auth, sizeof auth);
    return kms_fail(r, MK_E_AUTH, MK_ERR_AUTH, NULL, "REQUEST_INIT MAC check failed");
  }
  int rc = MK_OK;
  if (!within_window(t->u.t.value, now, kms->window) || t->u.t.ts_type != MK_TS_NTP_UTC)
    rc = kms_fail(r, MK_E_EXPIRED, MK_ERR_TS, auth, "REQUEST_INIT timestamp outside the window");
  mk_wipe(auth, sizeof auth);
  return rc;
}

/* The policy the KMS grants: the requested recipients, plus IDRkms, IDRi
 * and the validity [now, now + lifetime]. */
static int kms_grant(const struct mk_kms *kms, const struct request_in *rq, uint64_t now,
                     struct policy *pol, struct kms_reply *r, const unsigned char *auth)
{
  const struct mk_ticket_fields *t = &rq->tp->u.ticket;
  if (t->ticket_type != MK_TICKET_MIKEY_BASE || t->subtype != 1 || t->version != 1)
    return kms_fail(r, MK_E_MALFORMED, MK_ERR_TICKET, auth, "ticket type not supported");
  if (t->prf != PRF || parse_policy(t, pol) != MK_OK
      || (pol->initiator[0] && strcmp(pol->initiator, rq->initiator) != 0))
    return kms_fail(r, MK_E_MALFORMED, MK_ERR_TPPAR, auth, "ticket policy not acceptable");
  snprintf(pol->kms, sizeof pol->kms, "%s", kms->id);
  strcpy(pol->initiator, rq->initiator);
  pol->has_start = pol->has_end = true;
  pol->start = (uint32_t)(now >> 32);
  pol->end = (uint32_t)((now + kms->ticket_lifetime) >> 32);
  return MK_OK;
}

/* REQUEST_RESP = HDR, T, [IDRkms], TICKET, KEMAC, V. */
static int kms_request_resp(const struct mk_kms *kms, const struct mk_msg *m,
                            const struct request_in *rq, const unsigned char *ticket,
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
  if (prot_keys_msg(rq->psk, csb, true, rq->randri->u.rand.data, rq->randri->u.rand.len, NULL, 0,
                    &k) != 0)
    goto out;
  hdr_init(&h, MK_DT_REQUEST_RESP, false, csb);
  mk_enc_init(&e);
  mk_enc_hdr(&e, &h);
  mk_enc_t(&e, MK_TS_NTP_UTC, now);
  mk_enc_idr(&e, MK_ROLE_KMS, MK_ID_URI, kms->id, strlen(kms->id));
  mk_enc_raw(&e, MK_PT_TICKET, ticket, ticket_len);
  /* DECISION: T in the IV (RFC 3830 §4.2.3) is the T of the message that
   * carries the KEMAC, here the KMS's fresh timestamp. */
  enc_kemac(&e, &k, csb, now, items, 3);
  mk_enc_v(&e, MAC_ALG, NULL, MAC_LEN);
  if (mk_enc_finish(&e, out, out_len) != 0)
    goto out;
  struct mk_iov init = { m->buf, m->len };     /* REQUEST_RESP || REQUEST_INIT */
  if (seal_message(*out, *out_len, k.auth, &init, 1) != 0) {
    free(*out);
    *out = NULL;
    goto out;
  }
  rc = 0;
out:
  mk_wipe(&k, sizeof k);
  return rc;
}

int mk_kms_request(const struct mk_kms *kms, const unsigned char *in, size_t in_len,
                   uint64_t now, const unsigned char rand_tgk[64],
                   unsigned char **out, size_t *out_len, const char **why)
{
  struct mk_msg *m = malloc(sizeof *m);
  struct request_in rq;
  struct policy pol;
  struct ticket_secrets s;
  unsigned char mpki[KEY_LEN], mpkr[KEY_LEN], auth[KEY_LEN], *ticket = NULL;
  size_t ticket_len = 0;
  const char *dwhy = NULL;
  struct kms_reply r = { PRF, 0, now, out, out_len, why };
  int rc;
  memset(&rq, 0, sizeof rq);
  if (!m)
    return say(why, "out of memory", MK_E_NOMEM);
  if (!kms || !valid_id(kms->id) || !kms->lookup || !rand_tgk) {
    free(m);
    return kms_fail(&r, MK_E_MALFORMED, MK_ERR_UNSPEC, NULL, "bad argument");
  }
  if (mk_decode(in, in_len, m, &dwhy) != 0) {
    r.csb = m->hdr_len ? m->hdr.csb_id : 0;
    free(m);
    return kms_fail(&r, MK_E_MALFORMED, MK_ERR_UNSPEC, NULL, dwhy);
  }
  r.csb = m->hdr.csb_id;     /* RFC 6043 §5.4: version, PRF func, CSB ID as in the message */
  r.prf = m->hdr.prf;
  if ((rc = kms_check_request(kms, m, now, &rq, &r)) != MK_OK)
    goto out;
  if (msg_key(rq.psk, MK_C_AUTH, m->hdr.csb_id, false, rq.randri->u.rand.data,
              rq.randri->u.rand.len, NULL, 0, auth, KEY_LEN) != 0) {
    rc = kms_fail(&r, MK_E_NOMEM, MK_ERR_UNSPEC, NULL, "crypto failure");
    goto out;
  }
  if ((rc = kms_grant(kms, &rq, now, &pol, &r, auth)) != MK_OK)
    goto out;
  if (expand_rand(rand_tgk, &s) != 0 || build_ticket(kms, &pol, now, &s, &ticket, &ticket_len) != 0
      || mk_kdf_6043_ticket(PRF, s.mpk, KEY_LEN, MK_C_MPKI, 0x06, s.rand, MK_RAND_LEN, mpki,
                            KEY_LEN) != 0
      || mk_kdf_6043_ticket(PRF, s.mpk, KEY_LEN, MK_C_MPKR, 0x06, s.rand, MK_RAND_LEN, mpkr,
                            KEY_LEN) != 0
      || kms_request_resp(kms, m, &rq, ticket, ticket_len, &s, mpki, mpkr, now, out, out_len)
             != 0) {
    rc = kms_fail(&r, MK_E_NOMEM, MK_ERR_UNSPEC, auth, "cannot build REQUEST_RESP");
    goto out;
  }
  rc = say(why, NULL, MK_OK);
out:
  mk_wipe(&s, sizeof s);
  mk_wipe(&rq, sizeof rq);
  mk_wipe(mpki, sizeof mpki);
  mk_wipe(mpkr, sizeof mpkr);
  mk_wipe(auth, sizeof auth);
  free(ticket);
  free(m);
  return rc;
}

/* ---------------------------------------------------------------- A's state */

/* DECISION: A's state is "MKT1" | CSB ID (4) | MPKi | MPKr | TGK (32 each)
 * | len (1) initiator | len (2) TICKET payload (its Next Payload byte set
 * to Last). It holds keys: the UE tool must keep the file private. */
struct a_state {
  uint32_t csb;
  unsigned char mpki[KEY_LEN], mpkr[KEY_LEN], tgk[KEY_LEN];
  char initiator[MK_ID_MAX + 1];
  const unsigned char *ticket;
  size_t ticket_len;
};

static int state_encode(const struct a_state *st, unsigned char **out, size_t *out_len)
{
  size_t il = strlen(st->initiator);
  size_t len = 4 + 4 + 3 * KEY_LEN + 1 + il + 2 + st->ticket_len;
  unsigned char *p = malloc(len), *q = p;
  if (!p || st->ticket_len > 0xFFFF || st->ticket_len == 0)
    return free(p), -1;
  memcpy(q, STATE_MAGIC, 4), q += 4;
  for (int i = 0; i < 4; i++)
    *q++ = (unsigned char)(st->csb >> (24 - 8 * i));
  memcpy(q, st->mpki, KEY_LEN), q += KEY_LEN;
  memcpy(q, st->mpkr, KEY_LEN), q += KEY_LEN;
  memcpy(q, st->tgk, KEY_LEN), q += KEY_LEN;
  *q++ = (unsigned char)il;
  memcpy(q, st->initiator, il), q += il;
  *q++ = (unsigned char)(st->ticket_len >> 8);
  *q++ = (unsigned char)st->ticket_len;
  memcpy(q, st->ticket, st->ticket_len);
  p[len - st->ticket_len] = MK_PT_LAST;
  *out = p;
  *out_len = len;
  return 0;
}

static int state_decode(const unsigned char *p, size_t len, struct a_state *st)
{
  size_t fixed = 4 + 4 + 3 * KEY_LEN + 1;
  memset(st, 0, sizeof *st);
  if (!p || len < fixed || memcmp(p, STATE_MAGIC, 4) != 0)
    return -1;
  st->csb = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
  memcpy(st->mpki, p + 8, KEY_LEN);
  memcpy(st->mpkr, p + 8 + KEY_LEN, KEY_LEN);
  memcpy(st->tgk, p + 8 + 2 * KEY_LEN, KEY_LEN);
  size_t il = p[fixed - 1];
  if (il == 0 || len - fixed < il + 2)
    return -1;
  memcpy(st->initiator, p + fixed, il);
  st->initiator[il] = '\0';
  if (memchr(st->initiator, 0, il))
    return -1;
  size_t tl = (size_t)p[fixed + il] << 8 | p[fixed + il + 1];
  if (tl == 0 || len - fixed - il - 2 != tl)
    return -1;
  st->ticket = p + fixed + il + 2;
  st->ticket_len = tl;
  return 0;
}

/* Decodes the state's TICKET payload as a one-payload chain. */
static const struct mk_payload *state_ticket(const struct a_state *st, struct mk_chain *c)
{
  if (mk_decode_chain(st->ticket, st->ticket_len, MK_PT_TICKET, MK_CTX_MSG, 0, c, NULL) != 0
      || c->n != 1)
    return NULL;
  return &c->p[0];
}

int mk_request_resp(const unsigned char *resp, size_t resp_len,
                    const char *initiator, const unsigned char psk[MK_PSK_LEN],
                    const unsigned char *request, size_t request_len,
                    unsigned char **state, size_t *state_len, const char **why)
{
  struct mk_msg *rq = malloc(sizeof *rq), *rs = malloc(sizeof *rs);
  const struct mk_payload *randri, *tk, *kemac, *t;
  struct prot_keys k;
  struct policy pol;
  struct a_state st;
  unsigned char keys[3][KEY_LEN];
  static const uint8_t types[3] = { MK_KD_MPK, MK_KD_MPK, MK_KD_TGK };
  int rc;
  memset(&k, 0, sizeof k);
  memset(keys, 0, sizeof keys);
  if (!rq || !rs) {
    rc = say(why, "out of memory", MK_E_NOMEM);
    goto out;
  }
  if (!valid_id(initiator) || !psk || !state || !state_len
      || mk_decode(request, request_len, rq, NULL) != 0
      || rq->hdr.data_type != MK_DT_REQUEST_INIT_PSK
      || !(randri = one(&rq->pl, MK_PT_RANDR, MK_RAND_I))) {
    rc = say(why, "bad argument (request)", MK_E_MALFORMED);
    goto out;
  }
  if (mk_decode(resp, resp_len, rs, why) != 0) {
    rc = MK_E_MALFORMED;
    goto out;
  }
  if (rs->hdr.data_type == MK_DT_ERROR) {
    rc = refused(rs, why);
    goto out;
  }
  tk = one(&rs->pl, MK_PT_TICKET, -1);
  kemac = one(&rs->pl, MK_PT_KEMAC, -1);
  t = one(&rs->pl, MK_PT_T, -1);
  if (rs->hdr.data_type != MK_DT_REQUEST_RESP || rs->hdr.csb_id != rq->hdr.csb_id
      || rs->hdr.prf != PRF || !tk || !kemac || !t || !final_v(rs)) {
    rc = say(why, "not a REQUEST_RESP for this request", MK_E_MALFORMED);
    goto out;
  }
  if (prot_keys_msg(psk, rs->hdr.csb_id, true, randri->u.rand.data, randri->u.rand.len, NULL, 0,
                    &k) != 0) {
    rc = say(why, "crypto failure", MK_E_NOMEM);
    goto out;
  }
  struct mk_iov init = { request, request_len };
  if (!verify_message(rs, k.auth, &init, 1)) {
    rc = say(why, "REQUEST_RESP MAC check failed", MK_E_AUTH);
    goto out;
  }
  if (open_kemac(kemac, &k, rs->hdr.csb_id, t->u.t.value, types, 3, keys) != 0) {
    rc = say(why, "REQUEST_RESP KEMAC cannot be opened", MK_E_MALFORMED);
    goto out;
  }
  /* RFC 6043 §4.2.1.6: the granted policy must be acceptable */
  if (!policy_fields_ok(&tk->u.ticket) || parse_policy(&tk->u.ticket, &pol) != MK_OK
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
  rc = state_encode(&st, state, state_len) == 0 ? say(why, NULL, MK_OK)
                                                : say(why, "out of memory", MK_E_NOMEM);
  mk_wipe(&st, sizeof st);
out:
  mk_wipe(&k, sizeof k);
  mk_wipe(keys, sizeof keys);
  free(rq);
  free(rs);
  return rc;
}

/* ---------------------------------------------------------------- A: transfer */

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
  hdr_init(&h, MK_DT_TRANSFER_INIT, true, st->csb);   /* V agrees with the F flag */
  /* DECISION: the GENERIC-ID map (RFC 6043 §6.1: SRTP-ID SHALL NOT be used
   * here) with one SRTP crypto session, CS ID 1, policy 0; Session Data and
   * SPI are left to the responder (lengths 0). */
  h.map_type = MK_MAP_GENERIC_ID;
  h.n_cs = 1;
  h.cs[0] = (struct mk_cs){ .cs_id = CS_ID, .prot_type = MK_PROT_SRTP, .n_policies = 1,
                            .policies = policies };
  t.init_data = init_data;
  t.id_len = id_len;
  mk_enc_init(&e);
  mk_enc_hdr(&e, &h);
  mk_enc_t(&e, MK_TS_NTP_UTC, now);
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

/* Initiator Data = First Payload, Vi, Vr (RFC 6043 §6.10): Vi repeats the
 * TRANSFER_INIT MAC, Vr is a MAC under a key from MPKr (not forked).
 * DECISION: Vi is the V payload with its Next Payload pointing at Vr (the
 * RFC says "identical"; the MAC fields are what §4.2.3.6 compares). */
static int initiator_data(const unsigned char mpkr[KEY_LEN], const unsigned char mac_i[MAC_LEN],
                          unsigned char **out, size_t *out_len)
{
  struct mk_enc e;
  unsigned char key[KEY_LEN];
  mk_enc_init(&e);
  mk_enc_first(&e);
  mk_enc_v(&e, MAC_ALG, mac_i, MAC_LEN);
  mk_enc_v(&e, MAC_ALG, NULL, MAC_LEN);
  if (mk_enc_finish(&e, out, out_len) != 0)
    return -1;
  int rc = mk_kdf_6043_initiator_data(PRF, mpkr, KEY_LEN, MK_C_AUTH, key, KEY_LEN) == 0
        && seal_message(*out, *out_len, key, NULL, 0) == 0 ? 0 : -1;
  mk_wipe(key, sizeof key);
  if (rc != 0) {
    free(*out);
    *out = NULL;
  }
  return rc;
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
  if (!rand || !out || !out_len || state_decode(state, state_len, &st) != 0
      || !(tk = state_ticket(&st, c)) || parse_policy(&tk->u.ticket, &pol) != MK_OK) {
    rc = say(why, "bad state", MK_E_MALFORMED);
    goto out;
  }
  /* first pass: the message without Initiator Data, to compute the MAC */
  if (encode_transfer_init(&st, &tk->u.ticket, &pol, now, rand, NULL, 0, NULL, &first,
                           &first_len) != 0
      || mk_decode(first, first_len, m, NULL) != 0 || !(mtk = one(&m->pl, MK_PT_TICKET, -1))
      || transfer_init_cover(m, mtk, st.initiator, pol.recipients[0], parts) != 0
      || msg_key(st.mpki, MK_C_AUTH, st.csb, false, rand, MK_RAND_LEN, NULL, 0, auth,
                 KEY_LEN) != 0
      || mac_parts(auth, parts, 4, mac) != 0 || initiator_data(st.mpkr, mac, &idata, &id_len) != 0
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

/* ---------------------------------------------------------------- C: resolve */

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
  if (!valid_id(requester) || !psk || !rand || !out || !out_len
      || (id_as && id_as[0] && !valid_id(id_as))) {
    rc = say(why, "bad argument", MK_E_MALFORMED);
    goto out;
  }
  if (mk_decode(transfer_init, transfer_init_len, ti, why) != 0
      || ti->hdr.data_type != MK_DT_TRANSFER_INIT || !(tk = one(&ti->pl, MK_PT_TICKET, -1))
      || parse_policy(&tk->u.ticket, &pol) != MK_OK || !pol.kms[0]) {
    rc = say(why, "not a TRANSFER_INIT with a resolvable ticket", MK_E_MALFORMED);
    goto out;
  }
  /* RESOLVE_INIT_PSK = HDR, T, RANDRr, [IDRr], [IDRkms], TICKET, [IDRpsk], V
   * plus, when diverted, IDR(ID-AS) and EXT(CDIV) before V. DECISION: the
   * CSB ID is the TRANSFER_INIT's (the CSB being keyed); IDRkms comes from
   * the ticket policy; the CDIV extension carries no data (presence is the
   * indication). */
  hdr_init(&h, MK_DT_RESOLVE_INIT_PSK, true, ti->hdr.csb_id);
  mk_enc_init(&e);
  mk_enc_hdr(&e, &h);
  mk_enc_t(&e, MK_TS_NTP_UTC, now);
  mk_enc_randr(&e, MK_RAND_R, rand, MK_RAND_LEN);
  mk_enc_idr(&e, MK_ROLE_R, MK_ID_URI, requester, strlen(requester));
  mk_enc_idr(&e, MK_ROLE_KMS, MK_ID_URI, pol.kms, strlen(pol.kms));
  mk_enc_raw(&e, MK_PT_TICKET, tk->raw, tk->len);
  if (id_as && id_as[0])
    mk_enc_idr(&e, MK_ROLE_AS, MK_ID_URI, id_as, strlen(id_as));
  if (cdiv)
    mk_enc_ext(&e, MK_EXT_CDIV, NULL, 0);
  mk_enc_v(&e, MAC_ALG, NULL, MAC_LEN);
  if (mk_enc_finish(&e, out, out_len) != 0)
    goto out;
  /* MAC: RESOLVE_INIT || Identity_r || Identity_kms; keys from the PSK
   * with RANDRr only (RFC 6043 §5.1.2) */
  struct mk_iov ids[2] = { { requester, strlen(requester) }, { pol.kms, strlen(pol.kms) } };
  if (msg_key(psk, MK_C_AUTH, h.csb_id, false, NULL, 0, rand, MK_RAND_LEN, auth, KEY_LEN) != 0
      || seal_message(*out, *out_len, auth, ids, 2) != 0) {
    free(*out);
    *out = NULL;
    goto out;
  }
  rc = say(why, NULL, MK_OK);
out:
  mk_wipe(auth, sizeof auth);
  free(ti);
  return rc;
}

/* ---------------------------------------------------------------- KMS: resolve */

/* Everything the KMS establishes about a RESOLVE_INIT_PSK. */
struct resolve_ctx {
  struct mk_msg m;
  unsigned char psk[MK_PSK_LEN];
  unsigned char auth[KEY_LEN];          /* RESOLVE_INIT's auth key, for error messages */
  bool authenticated;
  const struct mk_payload *randrr;
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
  unsigned char rl = (unsigned char)strlen(requester), nl = randrr->u.rand.len, tv[8];
  for (int i = 0; i < 8; i++)
    tv[i] = (unsigned char)(t->u.t.value >> (56 - 8 * i));
  struct mk_iov parts[6] = { { dom, sizeof dom - 1 }, { &rl, 1 }, { requester, rl },
                             { tv, 8 }, { &nl, 1 }, { randrr->u.rand.data, nl } };
  return mk_sha256(parts, 6, tag);
}

/* Initiator Data check (RFC 6043 §4.2.3.4): Vr under a key from MPKr. */
static bool initiator_data_ok(const struct mk_ticket_fields *t, const unsigned char mpkr[KEY_LEN])
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
    ok = mac_parts(key, &cover, 1, mac) == 0
      && mk_ct_equal(mac, t->init_data + t->id_len - MAC_LEN, MAC_LEN);
  }
  mk_wipe(key, sizeof key);
  free(c);
  return ok;
}

/* Authenticates the requester (header, IDRr, PSK, MAC, timestamp). */
static int resolve_auth(const struct mk_kms *kms, struct resolve_ctx *x, uint64_t now,
                        struct kms_reply *r)
{
  const struct mk_msg *m = &x->m;
  const struct mk_payload *idrr, *t;
  bool ok = true;
  if (m->hdr.data_type != MK_DT_RESOLVE_INIT_PSK)
    return kms_fail(r, MK_E_MALFORMED, MK_ERR_DT, NULL, "not a RESOLVE_INIT_PSK");
  if (m->hdr.prf != PRF)
    return kms_fail(r, MK_E_MALFORMED, MK_ERR_PRF, NULL, "PRF not supported");
  idrr = one(&m->pl, MK_PT_IDR, MK_ROLE_R);
  x->randrr = one(&m->pl, MK_PT_RANDR, MK_RAND_R);
  t = one(&m->pl, MK_PT_T, -1);
  (void)opt(&m->pl, MK_PT_IDR, MK_ROLE_KMS, &ok);
  (void)opt(&m->pl, MK_PT_IDR, MK_ROLE_AS, &ok);
  if (!ok || !idrr || !x->randrr || !t || x->randrr->u.rand.len < MK_RAND_LEN
      || !one(&m->pl, MK_PT_TICKET, -1) || m->hdr.n_cs != 0 || m->hdr.map_type != MK_MAP_EMPTY
      || !final_v(m) || !idr_string(idrr, x->req.requester))
    return kms_fail(r, MK_E_MALFORMED, MK_ERR_UNSPEC, NULL, "malformed RESOLVE_INIT_PSK");
  if (!kms->lookup(kms->lookup_ctx, x->req.requester, x->psk))
    return kms_fail(r, MK_E_UNKNOWN_USER, MK_ERR_ID, NULL, "unknown requester");
  struct mk_iov ids[2] = { { x->req.requester, strlen(x->req.requester) },
                           { kms->id, strlen(kms->id) } };
  if (msg_key(x->psk, MK_C_AUTH, m->hdr.csb_id, false, NULL, 0, x->randrr->u.rand.data,
              x->randrr->u.rand.len, x->auth, KEY_LEN) != 0
      || !verify_message(m, x->auth, ids, 2))
    return kms_fail(r, MK_E_AUTH, MK_ERR_AUTH, NULL, "RESOLVE_INIT MAC check failed");
  x->authenticated = true;
  if (t->u.t.ts_type != MK_TS_NTP_UTC || !within_window(t->u.t.value, now, kms->window))
    return kms_fail(r, MK_E_EXPIRED, MK_ERR_TS, x->auth,
                    "RESOLVE_INIT timestamp outside the window");
  if (replay_tag(x->req.requester, t, x->randrr, x->req.replay_tag) != 0)
    return kms_fail(r, MK_E_NOMEM, MK_ERR_UNSPEC, x->auth, "crypto failure");
  return MK_OK;
}

/* Opens the ticket and fills the request summary the KMS decides on. */
static int resolve_ticket(const struct mk_kms *kms, struct resolve_ctx *x, uint64_t now,
                          struct kms_reply *r)
{
  const struct mk_payload *tk = one(&x->m.pl, MK_PT_TICKET, -1), *as;
  struct mk_resolve_request *q = &x->req;
  const char *msg = NULL;
  int rc = open_ticket(kms, tk, now, &x->tk, &msg);
  if (rc != MK_OK) {
    uint8_t err = rc == MK_E_EXPIRED ? MK_ERR_TS
                : rc == MK_E_AUTH ? MK_ERR_AUTH : MK_ERR_TICKET;
    return kms_fail(r, rc, err, x->auth, msg);
  }
  if (!initiator_data_ok(&tk->u.ticket, x->tk.mpkr))
    return kms_fail(r, MK_E_AUTH, MK_ERR_AUTH, x->auth, "initiator data check failed");
  strcpy(q->initiator, x->tk.pol.initiator);
  q->n_recipients = x->tk.pol.n_recipients;
  for (size_t i = 0; i < q->n_recipients; i++)
    strcpy(q->recipients[i], x->tk.pol.recipients[i]);
  bool ok = true;
  as = opt(&x->m.pl, MK_PT_IDR, MK_ROLE_AS, &ok);
  if (as && !idr_string(as, q->id_as))
    return kms_fail(r, MK_E_MALFORMED, MK_ERR_ID, x->auth, "bad ID-AS");
  for (size_t i = 0; i < x->m.pl.n; i++)
    if (x->m.pl.p[i].type == MK_PT_EXT && x->m.pl.p[i].u.ext.type == MK_EXT_CDIV)
      q->cdiv = true;
  q->requester_allowed = policy_names(&x->tk.pol, q->requester);
  memcpy(q->ticket_hash, x->tk.hash, 32);
  return MK_OK;
}

static int resolve_check(const struct mk_kms *kms, const unsigned char *in, size_t in_len,
                         uint64_t now, struct resolve_ctx *x, struct kms_reply *r)
{
  const char *dwhy = NULL;
  memset(x, 0, sizeof *x);
  if (!kms || !valid_id(kms->id) || !kms->lookup)
    return kms_fail(r, MK_E_MALFORMED, MK_ERR_UNSPEC, NULL, "bad argument");
  if (mk_decode(in, in_len, &x->m, &dwhy) != 0) {
    r->csb = x->m.hdr_len ? x->m.hdr.csb_id : 0;
    return kms_fail(r, MK_E_MALFORMED, MK_ERR_UNSPEC, NULL, dwhy);
  }
  r->csb = x->m.hdr.csb_id;  /* RFC 6043 §5.4: version, PRF func, CSB ID as in the message */
  r->prf = x->m.hdr.prf;
  int rc = resolve_auth(kms, x, now, r);
  return rc == MK_OK ? resolve_ticket(kms, x, now, r) : rc;
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
  struct resolve_ctx *x = malloc(sizeof *x);
  struct kms_reply r = { PRF, 0, now, out, out_len, why };
  int rc;
  if (out)
    *out = NULL;
  if (out_len)
    *out_len = 0;
  if (!x)
    return say(why, "out of memory", MK_E_NOMEM);
  if (!req) {
    rc = kms_fail(&r, MK_E_MALFORMED, MK_ERR_UNSPEC, NULL, "bad argument");
  } else if ((rc = resolve_check(kms, in, in_len, now, x, &r)) == MK_OK) {
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
  if (mk_kdf_6043_fork(PRF, x->tk.mpkr, KEY_LEN, MK_C_FORK_MPKR, (const unsigned char *)id,
                       strlen(id), rand, MK_RAND_LEN, mpkr_f) != 0
      || mk_kdf_6043_fork(PRF, x->tk.tgk, KEY_LEN, MK_C_FORK_TGK, (const unsigned char *)id,
                          strlen(id), rand, MK_RAND_LEN, tgk_f) != 0
      || prot_keys_msg(x->psk, csb, true, NULL, 0, x->randrr->u.rand.data, x->randrr->u.rand.len,
                       &k) != 0)
    goto out;
  struct key_item items[3] = {
    { MK_KD_MPK, SPI_MPKI, x->tk.mpki }, { MK_KD_MPK, SPI_MPKR, mpkr_f },
    { MK_KD_TGK, SPI_TGK, tgk_f },
  };
  hdr_init(&h, MK_DT_RESOLVE_RESP, false, csb);
  mk_enc_init(&e);
  mk_enc_hdr(&e, &h);
  mk_enc_t(&e, MK_TS_NTP_UTC, now);
  mk_enc_idr(&e, MK_ROLE_KMS, MK_ID_URI, kms->id, strlen(kms->id));
  enc_kemac(&e, &k, csb, now, items, 3);
  /* the forking modifier (IDRr, RANDRkms) - the authenticated requester */
  mk_enc_idr(&e, MK_ROLE_R, MK_ID_URI, id, strlen(id));
  mk_enc_randr(&e, MK_RAND_KMS, rand, MK_RAND_LEN);
  mk_enc_v(&e, MAC_ALG, NULL, MAC_LEN);
  if (mk_enc_finish(&e, out, out_len) != 0)
    goto out;
  struct mk_iov init = { x->m.buf, x->m.len };   /* RESOLVE_RESP || RESOLVE_INIT */
  if (seal_message(*out, *out_len, k.auth, &init, 1) != 0) {
    free(*out);
    *out = NULL;
    goto out;
  }
  rc = 0;
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
  struct resolve_ctx *x = malloc(sizeof *x);
  struct kms_reply r = { PRF, 0, now, out, out_len, why };
  int rc;
  if (out)
    *out = NULL;
  if (out_len)
    *out_len = 0;
  if (!x)
    return say(why, "out of memory", MK_E_NOMEM);
  /* DECISION: stateless - the RESOLVE_INIT is checked again in full (MAC,
   * timestamp window, ticket validity at `now`) and `req` must be the
   * summary of this very message (same replay tag). */
  if (!req || !rand || !out || !out_len)
    rc = kms_fail(&r, MK_E_MALFORMED, MK_ERR_UNSPEC, NULL, "bad argument");
  else if ((rc = resolve_check(kms, in, in_len, now, x, &r)) != MK_OK)
    ;
  else if (!mk_ct_equal(req->replay_tag, x->req.replay_tag, 32)
           || strcmp(req->requester, x->req.requester) != 0)
    rc = kms_fail(&r, MK_E_MALFORMED, MK_ERR_UNSPEC, x->auth, "request summary does not match");
  else if (!permit)
    rc = kms_fail(&r, MK_E_NOT_ALLOWED, MK_ERR_AUTH, x->auth, "not authorized to resolve");
  else if (kms_resolve_resp(kms, x, now, rand, out, out_len) != 0)
    rc = kms_fail(&r, MK_E_NOMEM, MK_ERR_UNSPEC, x->auth, "cannot build RESOLVE_RESP");
  else
    rc = say(why, NULL, MK_OK);
  resolve_ctx_free(x);
  return rc;
}

/* ---------------------------------------------------------------- C: keys */

/* TEK and salt of crypto session cs_id from TGK' (RFC 6043 §5.1.3 with
 * RANDRi (H flag), no RANDRr (G flag clear)). DECISION: the salt is
 * derived (constant 0x39A2C14B) rather than carried, so it is forked too. */
static int session_keys(const unsigned char tgk_f[KEY_LEN], uint8_t cs_id,
                        const struct mk_payload *randri, struct mk_session_keys *keys)
{
  return mk_kdf_6043_tgk(PRF, tgk_f, KEY_LEN, MK_C_TEK, cs_id, randri->u.rand.data,
                         randri->u.rand.len, NULL, 0, keys->tek, MK_TEK_LEN) == 0
      && mk_kdf_6043_tgk(PRF, tgk_f, KEY_LEN, MK_C_TGK_SALT, cs_id, randri->u.rand.data,
                         randri->u.rand.len, NULL, 0, keys->salt, MK_SALT_LEN) == 0 ? 0 : -1;
}

/* What a party needs from a TRANSFER_INIT. */
struct ti_view {
  struct mk_msg m;
  const struct mk_payload *tk, *randri, *idri, *idrr;
  char id_i[MK_ID_MAX + 1], id_r[MK_ID_MAX + 1];
  uint8_t cs_id;
};

static int ti_view(const unsigned char *buf, size_t len, struct ti_view *v)
{
  if (mk_decode(buf, len, &v->m, NULL) != 0 || v->m.hdr.data_type != MK_DT_TRANSFER_INIT
      || v->m.hdr.prf != PRF || v->m.hdr.n_cs < 1 || !final_v(&v->m))
    return -1;
  v->tk = one(&v->m.pl, MK_PT_TICKET, -1);
  v->randri = one(&v->m.pl, MK_PT_RANDR, MK_RAND_I);
  v->idri = one(&v->m.pl, MK_PT_IDR, MK_ROLE_I);
  v->idrr = one(&v->m.pl, MK_PT_IDR, MK_ROLE_R);
  if (!v->tk || !v->randri || !v->idri || !v->idrr || v->randri->u.rand.len == 0
      || !idr_string(v->idri, v->id_i) || !idr_string(v->idrr, v->id_r))
    return -1;
  v->cs_id = v->m.hdr.map_type == MK_MAP_SRTP_ID ? 1 : v->m.hdr.cs[0].cs_id;
  return 0;
}

/* Verifies TRANSFER_INIT's V under MPKi and, with key forking, that the
 * ticket's Vi repeats that MAC (RFC 6043 §4.2.3.6). */
static bool ti_authentic(const struct ti_view *v, const unsigned char mpki[KEY_LEN])
{
  struct mk_iov parts[4];
  unsigned char auth[KEY_LEN], mac[MAC_LEN];
  struct mk_chain *c = malloc(sizeof *c);
  const struct mk_payload *vv = final_v(&v->m);
  bool ok = c && transfer_init_cover(&v->m, v->tk, v->id_i, v->id_r, parts) == 0
         && msg_key(mpki, MK_C_AUTH, v->m.hdr.csb_id, false, v->randri->u.rand.data,
                    v->randri->u.rand.len, NULL, 0, auth, KEY_LEN) == 0
         && mac_parts(auth, parts, 4, mac) == 0 && mk_ct_equal(mac, vv->u.v.mac, MAC_LEN);
  if (ok && (v->tk->u.ticket.flags & MK_TP_I))
    ok = mk_decode_first_chain(v->tk->u.ticket.init_data, v->tk->u.ticket.id_len,
                               MK_CTX_INIT_DATA, 0, c, NULL) == 0
      && c->n >= 1 && c->p[0].type == MK_PT_V && c->p[0].u.v.mac_len == MAC_LEN
      && mk_ct_equal(c->p[0].u.v.mac, vv->u.v.mac, MAC_LEN);
  mk_wipe(auth, sizeof auth);
  free(c);
  return ok;
}

/* The parts of a RESOLVE_RESP C needs, MAC checked. */
static int rr_open(const struct mk_msg *rr, const struct mk_msg *ri, const unsigned char *psk,
                   unsigned char keys[3][KEY_LEN], const char **why)
{
  const struct mk_payload *randrr = one(&ri->pl, MK_PT_RANDR, MK_RAND_R);
  const struct mk_payload *kemac = one(&rr->pl, MK_PT_KEMAC, -1), *t = one(&rr->pl, MK_PT_T, -1);
  static const uint8_t types[3] = { MK_KD_MPK, MK_KD_MPK, MK_KD_TGK };
  struct prot_keys k;
  int rc;
  if (rr->hdr.data_type != MK_DT_RESOLVE_RESP || rr->hdr.csb_id != ri->hdr.csb_id
      || rr->hdr.prf != PRF || !randrr || !kemac || !t || !final_v(rr))
    return say(why, "not a RESOLVE_RESP for this request", MK_E_MALFORMED);
  if (prot_keys_msg(psk, rr->hdr.csb_id, true, NULL, 0, randrr->u.rand.data, randrr->u.rand.len,
                    &k) != 0)
    return say(why, "crypto failure", MK_E_NOMEM);
  struct mk_iov init = { ri->buf, ri->len };
  if (!verify_message(rr, k.auth, &init, 1))
    rc = say(why, "RESOLVE_RESP MAC check failed", MK_E_AUTH);
  else if (open_kemac(kemac, &k, rr->hdr.csb_id, t->u.t.value, types, 3, keys) != 0)
    rc = say(why, "RESOLVE_RESP KEMAC cannot be opened", MK_E_MALFORMED);
  else
    rc = MK_OK;
  mk_wipe(&k, sizeof k);
  return rc;
}

int mk_resolve_resp(const unsigned char *resp, size_t resp_len,
                    const char *requester, const unsigned char psk[MK_PSK_LEN],
                    const unsigned char *resolve_init, size_t resolve_init_len,
                    const unsigned char *transfer_init, size_t transfer_init_len,
                    struct mk_session_keys *keys, const char **why)
{
  struct mk_msg *ri = malloc(sizeof *ri), *rr = malloc(sizeof *rr);
  struct ti_view *ti = malloc(sizeof *ti);
  const struct mk_payload *idrr, *rkms;
  unsigned char k3[3][KEY_LEN];
  int rc = say(why, "out of memory", MK_E_NOMEM);
  memset(k3, 0, sizeof k3);
  if (!ri || !rr || !ti)
    goto out;
  if (!valid_id(requester) || !psk || !keys
      || mk_decode(resolve_init, resolve_init_len, ri, NULL) != 0
      || ri->hdr.data_type != MK_DT_RESOLVE_INIT_PSK) {
    rc = say(why, "bad argument (resolve_init)", MK_E_MALFORMED);
    goto out;
  }
  if (mk_decode(resp, resp_len, rr, why) != 0) {
    rc = MK_E_MALFORMED;
    goto out;
  }
  if (rr->hdr.data_type == MK_DT_ERROR) {
    rc = refused(rr, why);
    goto out;
  }
  if ((rc = rr_open(rr, ri, psk, k3, why)) != MK_OK)
    goto out;
  idrr = one(&rr->pl, MK_PT_IDR, MK_ROLE_R);
  rkms = one(&rr->pl, MK_PT_RANDR, MK_RAND_KMS);
  memset(keys, 0, sizeof *keys);
  /* DECISION: RANDRkms is exactly MK_RAND_LEN bytes (it is kept in the keys) */
  if (!idrr || !rkms || rkms->u.rand.len != MK_RAND_LEN || !idr_string(idrr, keys->responder)) {
    rc = say(why, "RESOLVE_RESP lacks the forking modifier", MK_E_MALFORMED);
    goto out;
  }
  if (ti_view(transfer_init, transfer_init_len, ti) != 0) {
    rc = say(why, "not a TRANSFER_INIT", MK_E_MALFORMED);
    goto out;
  }
  if (!ti_authentic(ti, k3[0])) {
    rc = say(why, "TRANSFER_INIT MAC check failed", MK_E_AUTH);
    goto out;
  }
  keys->csb_id = ti->m.hdr.csb_id;
  keys->cs_id = ti->cs_id;
  memcpy(keys->mpkr, k3[1], KEY_LEN);
  memcpy(keys->rand_kms, rkms->u.rand.data, MK_RAND_LEN);
  if (session_keys(k3[2], ti->cs_id, ti->randri, keys) != 0) {
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
  if (!keys || !out || !out_len || !valid_id(keys->responder)) {
    rc = say(why, "bad argument", MK_E_MALFORMED);
    goto out;
  }
  if (ti_view(transfer_init, transfer_init_len, ti) != 0 || ti->m.hdr.csb_id != keys->csb_id
      || ti->cs_id != keys->cs_id) {
    rc = say(why, "TRANSFER_INIT does not match the keys", MK_E_MALFORMED);
    goto out;
  }
  hdr_init(&h, MK_DT_TRANSFER_RESP, false, keys->csb_id);
  /* DECISION: the map names the one crypto session with exactly one policy
   * (#P = 1, as RFC 6043 §6.1.1 wants in responses); Session Data (SSRC)
   * and SPI stay empty: SSRCs are chosen by the media stacks, the MKI is
   * not used. */
  h.map_type = MK_MAP_GENERIC_ID;
  h.n_cs = 1;
  h.cs[0] = (struct mk_cs){ .cs_id = keys->cs_id, .prot_type = MK_PROT_SRTP, .n_policies = 1,
                            .policies = policies };
  mk_enc_init(&e);
  mk_enc_hdr(&e, &h);
  mk_enc_t(&e, MK_TS_NTP_UTC, now);
  mk_enc_idr(&e, MK_ROLE_R, MK_ID_URI, keys->responder, strlen(keys->responder));
  mk_enc_randr(&e, MK_RAND_KMS, keys->rand_kms, MK_RAND_LEN);
  mk_enc_v(&e, MAC_ALG, NULL, MAC_LEN);
  if (mk_enc_finish(&e, out, out_len) != 0)
    goto out;
  struct mk_iov init = { transfer_init, transfer_init_len };
  if (msg_key(keys->mpkr, MK_C_AUTH, keys->csb_id, true, ti->randri->u.rand.data,
              ti->randri->u.rand.len, NULL, 0, auth, KEY_LEN) != 0
      || seal_message(*out, *out_len, auth, &init, 1) != 0) {
    free(*out);
    *out = NULL;
    goto out;
  }
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
  if (!keys || state_decode(state, state_len, &st) != 0 || !(stk = state_ticket(&st, c))) {
    rc = say(why, "bad state", MK_E_MALFORMED);
    goto out;
  }
  /* the TRANSFER_INIT must be ours: same CSB, same ticket */
  if (ti_view(transfer_init, transfer_init_len, ti) != 0 || ti->m.hdr.csb_id != st.csb
      || ti->tk->u.ticket.td_len != stk->u.ticket.td_len
      || memcmp(ti->tk->u.ticket.ticket_data, stk->u.ticket.ticket_data, stk->u.ticket.td_len)) {
    rc = say(why, "TRANSFER_INIT does not carry this state's ticket", MK_E_MALFORMED);
    goto out;
  }
  if (mk_decode(transfer_resp, transfer_resp_len, tr, why) != 0) {
    rc = MK_E_MALFORMED;
    goto out;
  }
  if (tr->hdr.data_type == MK_DT_ERROR) {
    rc = refused(tr, why);
    goto out;
  }
  idrr = one(&tr->pl, MK_PT_IDR, MK_ROLE_R);
  rkms = one(&tr->pl, MK_PT_RANDR, MK_RAND_KMS);
  memset(keys, 0, sizeof *keys);
  if (tr->hdr.data_type != MK_DT_TRANSFER_RESP || tr->hdr.csb_id != st.csb || !final_v(tr)
      || !idrr || !rkms || rkms->u.rand.len != MK_RAND_LEN || !idr_string(idrr, keys->responder)) {
    rc = say(why, "not a TRANSFER_RESP for this TRANSFER_INIT", MK_E_MALFORMED);
    goto out;
  }
  /* fork MPKr and TGK to the responder TRANSFER_RESP names (§5.1.1) */
  const unsigned char *id = idrr->u.idr.data;
  struct mk_iov init = { transfer_init, transfer_init_len };
  if (mk_kdf_6043_fork(PRF, st.mpkr, KEY_LEN, MK_C_FORK_MPKR, id, idrr->u.idr.len,
                       rkms->u.rand.data, MK_RAND_LEN, mpkr_f) != 0
      || mk_kdf_6043_fork(PRF, st.tgk, KEY_LEN, MK_C_FORK_TGK, id, idrr->u.idr.len,
                          rkms->u.rand.data, MK_RAND_LEN, tgk_f) != 0
      || msg_key(mpkr_f, MK_C_AUTH, st.csb, true, ti->randri->u.rand.data,
                 ti->randri->u.rand.len, NULL, 0, auth, KEY_LEN) != 0) {
    rc = say(why, "crypto failure", MK_E_NOMEM);
    goto out;
  }
  if (!verify_message(tr, auth, &init, 1)) {
    rc = say(why, "TRANSFER_RESP MAC check failed", MK_E_AUTH);
    goto out;
  }
  keys->csb_id = st.csb;
  keys->cs_id = ti->cs_id;
  memcpy(keys->mpkr, mpkr_f, KEY_LEN);
  memcpy(keys->rand_kms, rkms->u.rand.data, MK_RAND_LEN);
  rc = session_keys(tgk_f, ti->cs_id, ti->randri, keys) == 0 ? say(why, NULL, MK_OK)
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
