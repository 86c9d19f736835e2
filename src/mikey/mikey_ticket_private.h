/*
 * mikey_ticket_private.h - what the files implementing mikey_ticket.h
 * share, and nothing outside src/mikey uses:
 *
 *   mikey_ticket_common.c    keys and MACs of the profile, KEMACs, error
 *                            messages, checks every exchange makes
 *   mikey_ticket_base.c      the MIKEY base ticket (RFC 6043 Appendix A):
 *                            Ticket Policy, Ticket Data, Initiator Data
 *   mikey_ticket_state.c     the initiator's state between the exchanges
 *   mikey_ticket_request.c   Ticket Request (RFC 6043 §4.2.1)
 *   mikey_ticket_transfer.c  Ticket Transfer (RFC 6043 §4.2.2)
 *   mikey_ticket_resolve.c   Ticket Resolve (RFC 6043 §4.2.3)
 *
 * The profile: one fixed set, the 256-bit algorithms of RFC 6043 and
 * nothing shorter mixed in: PRF-HMAC-SHA-256 (PRF func 1) everywhere,
 * AES-CM-256 (Encr alg 3) for every KEMAC, HMAC-SHA-256-256 (MAC alg 2)
 * for every V, 256-bit PSKs, TPK, MPK and TGK. Every function is pure: it
 * decodes what it is given (including its own earlier messages, which the
 * caller keeps), so the KMS is stateless and a replay cache, if any, lives
 * with the caller (mk_resolve_request.replay_tag). Errors are negative
 * MK_E_* codes with a static *why; the KMS side also returns a MIKEY error
 * message (RFC 6043 §5.4) in *out.
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
 * Functions shared between the files carry the prefix mkt_.
 */
#ifndef CDIVAS_MIKEY_TICKET_PRIVATE_H
#define CDIVAS_MIKEY_TICKET_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mikey/mikey.h"
#include "mikey/mikey_crypto.h"
#include "mikey/mikey_ticket.h"

#define PRF MK_PRF_HMAC_SHA_256
#define MAC_ALG MK_MAC_HMAC_SHA_256_256
#define MAC_LEN 32
#define KEY_LEN 32
#define SALT_KEY_LEN MK_SALT_KEY_LEN
#define MAX_RECIPIENTS 8

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

/* ---------------------------------------------------------------- small checks */

static inline int say(const char **why, const char *msg, int rc)
{
  if (why)
    *why = msg;
  return rc;
}

/* Exactly one payload of type/role; anything else is malformed. */
static inline const struct mk_payload *one(const struct mk_chain *c, uint16_t type, int role)
{
  const struct mk_payload *p = NULL;
  return mk_find(c, type, role, &p) == 1 ? p : NULL;
}

/* At most one: *ok is false when there are several. */
static inline const struct mk_payload *opt(const struct mk_chain *c, uint16_t type, int role,
                                           bool *ok)
{
  const struct mk_payload *p = NULL;
  if (mk_find(c, type, role, &p) < 0)
    *ok = false;
  return p;
}

/* |t - now| <= window, comparing as signed distance so that the NTP era
 * wrap (2036) does not break a comparison of nearby times (RFC 4330 §3). */
bool mkt_within_window(uint64_t t, uint64_t now, uint64_t window);

/* An identity we can send: 1 to 255 bytes. */
bool mkt_valid_id(const char *id);

/* Copies an IDR's identity into a C string; empty or NUL-bearing
 * identities are refused (they cannot be compared as strings). */
bool mkt_idr_string(const struct mk_payload *p, char out[MK_ID_MAX + 1]);

/* ---------------------------------------------------------------- keys and MACs */

/* RFC 6043 §5.1.2 with our PRF. */
int mkt_msg_key(const unsigned char *key, uint32_t constant, uint32_t csb, bool response,
                const unsigned char *randri, size_t randri_len,
                const unsigned char *randrr, size_t randrr_len,
                unsigned char *out, size_t out_len);

/* The three keys protecting one MIKEY message (RFC 3830 §4.1.4 constants). */
struct prot_keys {
  unsigned char auth[KEY_LEN];
  unsigned char encr[KEY_LEN];
  unsigned char salt[SALT_KEY_LEN];
};

int mkt_prot_keys_msg(const unsigned char *key, uint32_t csb, bool response,
                      const unsigned char *randri, size_t randri_len,
                      const unsigned char *randrr, size_t randrr_len, struct prot_keys *k);

/* The keys protecting the response (RFC 6043 §5.1.2, 0x02) to an initial
 * message whose sender put `rand` in as RANDRi (rand_role MK_RAND_I) or
 * RANDRr (MK_RAND_R), under that sender's pre-shared key. */
int mkt_prot_keys_answer(const unsigned char *psk, uint32_t csb, uint8_t rand_role,
                         const struct mk_payload *rand, struct prot_keys *k);

/* HMAC-SHA-256-256 over parts into mac. */
int mkt_mac_parts(const unsigned char *key, const struct mk_iov *parts, size_t n,
                  unsigned char mac[MAC_LEN]);

/* Ends a message with its V payload (HMAC-SHA-256-256 under `key`) and
 * finishes it: the MAC covers the message up to the MAC field, then
 * `extra` (identities or the initial message, RFC 6043 Table 5.2).
 * 0 with *out (caller frees); -1 when the message could not be encoded,
 * -2 when it could not be MACed (nothing is handed out then). */
int mkt_finish_with_v(struct mk_enc *e, const unsigned char *key, const struct mk_iov *extra,
                      size_t n_extra, unsigned char **out, size_t *out_len);

/* The V payload ending a decoded message, if it is ours (alg 2, 32 bytes). */
const struct mk_payload *mkt_final_v(const struct mk_msg *m);

/* Checks the final V of a message against key and extra inputs. */
bool mkt_verify(const struct mk_msg *m, const unsigned char *key,
                const struct mk_iov *extra, size_t n_extra);

/* TEK and salt of crypto session cs_id from TGK' (RFC 6043 §5.1.3). */
int mkt_session_keys(const unsigned char tgk_f[KEY_LEN], uint8_t cs_id,
                     const struct mk_payload *randri, struct mk_session_keys *keys);

/* Key forking (RFC 6043 §5.1.1): MPKr' and TGK' bound to the responder
 * `id` with the KMS's modifier RANDRkms. The KMS forks when it resolves,
 * the initiator when TRANSFER_RESP names the responder. */
int mkt_fork(const unsigned char mpkr[KEY_LEN], const unsigned char tgk[KEY_LEN],
             const void *id, size_t id_len, const unsigned char rand_kms[MK_RAND_LEN],
             unsigned char mpkr_f[KEY_LEN], unsigned char tgk_f[KEY_LEN]);

/* ---------------------------------------------------------------- messages */

/* A HDR of our profile: `type`, V flag, CSB ID, no crypto sessions. */
void mkt_hdr_init(struct mk_hdr *h, uint8_t type, bool v, uint32_t csb);

/* Starts encoding a message: HDR, then T (NTP-UTC), as every MIKEY-TICKET
 * message and the error message begin (RFC 6043 §4.2, §5.4). */
void mkt_enc_start(struct mk_enc *e, const struct mk_hdr *h, uint64_t now);

struct key_item {
  uint8_t type;
  uint8_t spi;
  const unsigned char *key;
};

/* E(encr_key, key data sub-payloads) with AES-CM-256 (RFC 3830 §4.2.3,
 * RFC 6043 Table 6.5), MAC alg NULL because V covers the message. */
void mkt_enc_kemac(struct mk_enc *e, const struct prot_keys *k, uint32_t csb, uint64_t t,
                   const struct key_item *items, size_t n);

/* Decrypts a KEMAC and returns its keys in order: the types must be
 * exactly `types` (n of them), every key 256 bits. */
int mkt_open_kemac(const struct mk_payload *kemac, const struct prot_keys *k, uint32_t csb,
                   uint64_t t, const uint8_t *types, size_t n, unsigned char (*keys)[KEY_LEN]);

/* ---------------------------------------------------------------- the KMS side */

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

/* A reply context for a KMS call: our PRF and CSB ID 0 until the message
 * in question is decoded. */
void mkt_kms_reply(struct kms_reply *r, uint64_t now, unsigned char **out, size_t *out_len,
                   const char **why);

int mkt_kms_fail(const struct kms_reply *r, int rc, uint8_t err_no,
                 const unsigned char *auth_key, const char *msg);

/* What every KMS call starts with: the KMS's own settings checked, then
 * `in` decoded into *m, and the reply context given the message's PRF and
 * CSB ID (RFC 6043 §5.4). MK_OK, or an error message and MK_E_MALFORMED. */
int mkt_kms_decode(const struct mk_kms *kms, const unsigned char *in, size_t in_len,
                   struct mk_msg *m, struct kms_reply *r);

/* What the KMS checks first in an initial message (REQUEST_INIT_PSK,
 * RESOLVE_INIT_PSK), and what to say when a check fails. */
struct kms_request_kind {
  uint8_t data_type;
  uint8_t id_role;         /* the sender's IDR: MK_ROLE_I or MK_ROLE_R */
  uint8_t rand_role;       /* and its RANDR: MK_RAND_I or MK_RAND_R */
  uint16_t carries;        /* the payload it exists for, exactly once: TP or TICKET */
  int also_once;           /* an IDR role allowed at most once besides IDRkms, or -1 */
  const char *not_it, *malformed, *unknown, *bad_mac, *stale;
};

/* The sender of an initial message, once authenticated. */
struct kms_sender {
  char id[MK_ID_MAX + 1];
  unsigned char psk[MK_PSK_LEN];
  unsigned char auth[KEY_LEN];   /* the message's auth key, for MACed error messages */
  const struct mk_payload *t, *rand;
  uint8_t rand_role;
};

/* Checks an initial message to the KMS: header and payloads as `kind`
 * says, the sender a known user, the MAC over message || sender || KMS
 * identity under the sender's PSK (RFC 6043 §5.1.2, §5.5), the timestamp
 * within the KMS's window. MK_OK with *s filled, or an error message (MACed
 * once the sender is authenticated) and its code. */
int mkt_kms_authenticate(const struct mk_kms *kms, const struct mk_msg *m, uint64_t now,
                         const struct kms_request_kind *kind, struct kms_sender *s,
                         struct kms_reply *r);

/* ---------------------------------------------------------------- answers */

/* Decodes the answer to a message of ours into *m: MK_OK, MK_E_MALFORMED
 * with the decoder's reason, or MK_E_REFUSED (with its ERR's text) when it
 * is a MIKEY error message. */
int mkt_decode_answer(const unsigned char *buf, size_t len, struct mk_msg *m, const char **why);

/* What the KMS's answer to a request of ours must be (REQUEST_RESP to
 * REQUEST_INIT_PSK, RESOLVE_RESP to RESOLVE_INIT_PSK), and what to say
 * when it is not. */
struct kms_answer {
  uint8_t data_type;       /* MK_DT_REQUEST_RESP or MK_DT_RESOLVE_RESP */
  uint16_t also;           /* a payload it carries besides T, KEMAC, V; 0 for none */
  uint8_t rand_role;       /* our RAND in the request: MK_RAND_I or MK_RAND_R */
  const char *not_it, *bad_mac, *bad_kemac;
};

/* Opens the KMS's answer `ans` to our `init`: its type, CSB ID and PRF as
 * `kind` says, the MAC over answer || request under keys from `psk` and
 * our RAND (RFC 6043 §5.1.2), then the KEMAC's MPKi, MPKr and TGK into
 * keys. MK_OK, or MK_E_MALFORMED / MK_E_AUTH / MK_E_NOMEM with *why. */
int mkt_open_kms_answer(const struct mk_msg *ans, const struct mk_msg *init,
                        const struct kms_answer *kind, const unsigned char *psk,
                        unsigned char keys[3][KEY_LEN], const char **why);

/* ---------------------------------------------------------------- the base ticket */

struct policy {
  char initiator[MK_ID_MAX + 1];
  char kms[MK_ID_MAX + 1];
  char recipients[MAX_RECIPIENTS][MK_ID_MAX + 1];
  size_t n_recipients;
  bool has_start, has_end;
  uint32_t start, end;                /* NTP-UTC-32 seconds */
};

/* Reads TP Data (RFC 6043 §6.10): [IDRkms], [IDRi], [TRs], [TRe], (IDRr). */
int mkt_parse_policy(const struct mk_ticket_fields *t, struct policy *pol);

/* Whether `id` is one of the policy's recipients. */
bool mkt_policy_names(const struct policy *pol, const char *id);

/* Our ticket type and PRF, and the flags the exchanges rely on. */
bool mkt_policy_fields_ok(const struct mk_ticket_fields *t);

/* TP Data of a policy: First Payload, [IDRkms], [IDRi], [TRs], [TRe], (IDRr). */
int mkt_encode_policy(const struct policy *pol, unsigned char **out, size_t *out_len);

struct ticket_secrets {
  unsigned char mpk[KEY_LEN];
  unsigned char tgk[KEY_LEN];
  unsigned char rand[MK_RAND_LEN];
};

/* MPKi and MPKr from the ticket's MPK and RAND (RFC 6043 Appendix A.2.2). */
int mkt_mpk_keys(const unsigned char mpk[KEY_LEN], const unsigned char *rand, size_t rand_len,
                 unsigned char mpki[KEY_LEN], unsigned char mpkr[KEY_LEN]);

/* The ticket's TGK, MPK and RAND from the KMS's 64 random bytes. */
int mkt_expand_rand(const unsigned char rand_tgk[64], struct ticket_secrets *s);

/* The TICKET payload (granted policy + Ticket Data, no Initiator Data),
 * its ticket MAC filled in: A.1 says the MAC covers the TICKET payload
 * except Next Payload, Initiator Data length, Initiator Data and the MAC. */
int mkt_build_ticket(const struct mk_kms *kms, const struct policy *pol, uint64_t now,
                     const struct ticket_secrets *s, unsigned char **out, size_t *out_len);

/* What the KMS learns from a TICKET payload it issued. */
struct opened_ticket {
  struct policy pol;
  unsigned char mpk[KEY_LEN], tgk[KEY_LEN];
  unsigned char mpki[KEY_LEN], mpkr[KEY_LEN];
  unsigned char hash[32];               /* SHA-256 of the Ticket Data */
};

/* Verifies the ticket MAC under the TPK, decrypts its keys, reads the
 * policy and checks the validity period. */
int mkt_open_ticket(const struct mk_kms *kms, const struct mk_payload *tk, uint64_t now,
                    struct opened_ticket *o, const char **why);

/* The Initiator Data (RFC 6043 §6.10) for a TRANSFER_INIT whose MAC is
 * mac_i: Vi repeats that MAC, Vr is a MAC under a key from MPKr. */
int mkt_initiator_data(const unsigned char mpkr[KEY_LEN], const unsigned char mac_i[MAC_LEN],
                       unsigned char **out, size_t *out_len);

/* Initiator Data check (RFC 6043 §4.2.3.4): Vr under a key from MPKr. */
bool mkt_initiator_data_ok(const struct mk_ticket_fields *t, const unsigned char mpkr[KEY_LEN]);

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

/* The state as bytes (malloc'd): 0, or -1 (out of memory, bad ticket). */
int mkt_state_encode(const struct a_state *st, unsigned char **out, size_t *out_len);

/* Reads a state; st->ticket points into p. 0, or -1 when malformed. */
int mkt_state_decode(const unsigned char *p, size_t len, struct a_state *st);

/* Decodes the state's TICKET payload as a one-payload chain. */
const struct mk_payload *mkt_state_ticket(const struct a_state *st, struct mk_chain *c);

/* ---------------------------------------------------------------- a TRANSFER_INIT */

/* What a party needs from a TRANSFER_INIT. */
struct ti_view {
  struct mk_msg m;
  const struct mk_payload *tk, *randri, *idri, *idrr;
  char id_i[MK_ID_MAX + 1], id_r[MK_ID_MAX + 1];
  uint8_t cs_id;
};

/* Decodes a TRANSFER_INIT of our profile into *v: 0, or -1. */
int mkt_ti_open(const unsigned char *buf, size_t len, struct ti_view *v);

/* Verifies TRANSFER_INIT's V under MPKi and, with key forking, that the
 * ticket's Vi repeats that MAC (RFC 6043 §4.2.3.6). */
bool mkt_ti_authentic(const struct ti_view *v, const unsigned char mpki[KEY_LEN]);

#endif
