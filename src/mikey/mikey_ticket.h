/*
 * mikey_ticket.h - the MIKEY-TICKET (RFC 6043) mode 1 exchanges used for
 * secure communication diversion, as pure functions over byte buffers.
 *
 * Parties: the initiator A, the intended responder B, the responder that
 * actually resolves the ticket C (B itself, or the user the call was
 * diverted to), and the KMS. Every user shares a pre-shared key (PSK) with
 * the KMS; the KMS alone holds the ticket protection key.
 *
 *   A  -> KMS  REQUEST_INIT_PSK   mk_request_init()       (ticket for B)
 *   KMS -> A   REQUEST_RESP       mk_kms_request()        (ticket + A's keys)
 *   A  -> C    TRANSFER_INIT      mk_transfer_init()      (in the INVITE's SDP)
 *   C  -> KMS  RESOLVE_INIT_PSK   mk_resolve_init()       (with ID-AS + CDIV indication when diverted)
 *   KMS        mk_kms_resolve_open()  -> who asks for what; the KMS decides
 *   KMS -> C   RESOLVE_RESP       mk_kms_resolve_finish() (keys forked to C) or an error message
 *   C          mk_resolve_resp()      -> C's session keys
 *   C  -> A    TRANSFER_RESP      mk_transfer_resp()      (in the 200 OK)
 *   A          mk_initiator_keys()    -> A's session keys for the responder named in TRANSFER_RESP
 *
 * Keys: the KMS generates a TGK per ticket; with key forking (always on
 * here) the TGK a responder gets is bound to the responder's identity, so
 * C's keys differ from B's and A computes the same ones only for the
 * identity C presented. TEK and salt come from the (forked) TGK with the
 * MIKEY PRF (PRF-HMAC-SHA-256), crypto session 1 of the CSB in
 * TRANSFER_INIT.
 *
 * All functions: inputs are never modified; outputs are malloc'd (caller
 * frees); randomness and time are inputs, so tests are deterministic.
 * Return 0 on success or a negative MK_E_* code; *why (when not NULL) gets
 * a static explanation.
 *
 * Profile (mikey_ticket_private.h, which also lists the files, one per
 * exchange, that implement this header): PRF-HMAC-SHA-256, AES-CM-256
 * KEMACs, HMAC-SHA-256-256 MACs, MIKEY base ticket (RFC 6043 Appendix A)
 * with key forking (I flag) and the Ticket Policy flags D E F H I K N O.
 * The codec is mikey.h, the crypto mikey_crypto.h.
 */
#ifndef CDIVAS_MIKEY_TICKET_H
#define CDIVAS_MIKEY_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MK_PSK_LEN 32       /* pre-shared keys and the ticket protection key: 256 bits */
#define MK_RAND_LEN 16
#define MK_TEK_LEN 32       /* AES-CM-256 master key */
#define MK_SALT_LEN 14      /* SRTP master salt */
#define MK_ID_MAX 255

enum mk_error {
  MK_OK = 0,
  MK_E_MALFORMED = -1,      /* not a well-formed MIKEY message of the expected type */
  MK_E_AUTH = -2,           /* MAC or ticket integrity check failed */
  MK_E_UNKNOWN_USER = -3,   /* no PSK for the identity */
  MK_E_EXPIRED = -4,        /* ticket outside its validity, or timestamp outside the window */
  MK_E_NOT_ALLOWED = -5,    /* the requester is not an allowed recipient (and no diversion proven) */
  MK_E_NOMEM = -6,
  MK_E_REFUSED = -7,        /* the peer answered with a MIKEY error message (ERR payload) */
};

/* Time values are NTP-UTC seconds since 1900 (RFC 3830 T payload type 0),
 * as 64-bit fixed point (seconds << 32 | fraction). */
uint64_t mk_ntp_from_unix(double unix_seconds);

struct mk_session_keys {
  uint32_t csb_id;
  uint8_t cs_id;
  unsigned char tek[MK_TEK_LEN];
  unsigned char salt[MK_SALT_LEN];
  char responder[MK_ID_MAX + 1];   /* identity the keys are bound to */
  /* Added: what TRANSFER_RESP needs (RFC 6043 §4.2.2.3). The responder MACs
   * TRANSFER_RESP with a key from the forked MPKr' and echoes the KMS's
   * forking modifier RANDRkms; the initiator computes the same values, so
   * both sides' structs are equal byte for byte. */
  unsigned char mpkr[MK_PSK_LEN];      /* MPKr', forked to `responder` */
  unsigned char rand_kms[MK_RAND_LEN]; /* RANDRkms */
};

/* ---------------------------------------------------------------- A: ticket request */

/* REQUEST_INIT_PSK from `initiator` (sharing `psk` with the KMS) for a
 * ticket naming `recipients` (IDRr, role 2, as allowed recipients).
 * `rand` is RAND (16 bytes), `now` the T payload, `csb_id` the CSB the
 * ticket will key. */
int mk_request_init(const char *initiator, const unsigned char psk[MK_PSK_LEN],
                    const char *kms_id, const char *const *recipients, size_t n_recipients,
                    uint32_t csb_id, uint64_t now, const unsigned char rand[MK_RAND_LEN],
                    unsigned char **out, size_t *out_len, const char **why);

/* A's state after REQUEST_RESP: the ticket and what A needs to derive keys
 * later. Opaque bytes so the UE tool can keep it in a file; they hold MPKi,
 * MPKr and the TGK, so the file must be private. An error message from the
 * KMS gives MK_E_REFUSED, a bad MAC MK_E_AUTH. */
int mk_request_resp(const unsigned char *resp, size_t resp_len,
                    const char *initiator, const unsigned char psk[MK_PSK_LEN],
                    const unsigned char *request, size_t request_len,
                    unsigned char **state, size_t *state_len, const char **why);

/* TRANSFER_INIT carrying the ticket, for the SDP (a=key-mgmt:mikey). It
 * keys the CSB ID given to mk_request_init, crypto session 1 (GENERIC-ID
 * map), and names the ticket's first recipient as IDRr. One call per ticket
 * (the policy forbids reuse, J flag clear). */
int mk_transfer_init(const unsigned char *state, size_t state_len, uint64_t now,
                     const unsigned char rand[MK_RAND_LEN],
                     unsigned char **out, size_t *out_len, const char **why);

/* A's session keys once TRANSFER_RESP named the responder (IDRr): MPKr and
 * the TGK are forked to that identity and RANDRkms, and TRANSFER_RESP must
 * verify under the forked MPKr' (else MK_E_AUTH). The TRANSFER_INIT must
 * carry this state's ticket. */
int mk_initiator_keys(const unsigned char *state, size_t state_len,
                      const unsigned char *transfer_init, size_t transfer_init_len,
                      const unsigned char *transfer_resp, size_t transfer_resp_len,
                      struct mk_session_keys *keys, const char **why);

/* SHA-256 of the TICKET payload's ticket data in a TRANSFER_INIT (what the
 * AS records and the KMS sends as ticket_hash). */
int mk_ticket_hash(const unsigned char *transfer_init, size_t len,
                   unsigned char hash[32], const char **why);

/* ---------------------------------------------------------------- C: resolve */

/* RESOLVE_INIT_PSK from `requester` (sharing `psk` with the KMS) for the
 * ticket in `transfer_init`. When the call was diverted, `id_as` is the
 * ID-AS from the INVITE (P-CDIV-Indication) and `cdiv` true: they travel as
 * an IDR payload of the private role MK_ROLE_AS and a general extension
 * payload of type MK_EXT_CDIV. */
#define MK_ROLE_AS 240   /* RFC 6043 §14: ID Roles 240-254 are for Private Use */
#define MK_EXT_CDIV 241  /* RFC 3830 §10: General Extension Types 241-255 are for
                            Private Use (240 is in the IETF range) */
int mk_resolve_init(const char *requester, const unsigned char psk[MK_PSK_LEN],
                    const unsigned char *transfer_init, size_t transfer_init_len,
                    const char *id_as, bool cdiv, uint64_t now,
                    const unsigned char rand[MK_RAND_LEN],
                    unsigned char **out, size_t *out_len, const char **why);

/* C's session keys from RESOLVE_RESP. MK_E_REFUSED when it is an error
 * message. Also verifies the TRANSFER_INIT under MPKi and its Initiator
 * Data (MK_E_AUTH when either fails). */
int mk_resolve_resp(const unsigned char *resp, size_t resp_len,
                    const char *requester, const unsigned char psk[MK_PSK_LEN],
                    const unsigned char *resolve_init, size_t resolve_init_len,
                    const unsigned char *transfer_init, size_t transfer_init_len,
                    struct mk_session_keys *keys, const char **why);

/* TRANSFER_RESP from C (names C as responder, echoes RANDRkms, MACed with
 * MPKr' from `keys`), for the 200 OK. */
int mk_transfer_resp(const struct mk_session_keys *keys,
                     const unsigned char *transfer_init, size_t transfer_init_len,
                     uint64_t now, unsigned char **out, size_t *out_len, const char **why);

/* ---------------------------------------------------------------- KMS */

/* The KMS's view of its users: returns true and fills psk when `id` is a
 * user (identities compared as given; the KMS normalises before calling
 * when it wants to). */
typedef bool (*mk_psk_lookup)(void *ctx, const char *id, unsigned char psk[MK_PSK_LEN]);

struct mk_kms {
  const char *id;                                /* IDRkms */
  unsigned char ticket_key[MK_PSK_LEN];          /* protects tickets; never leaves the KMS */
  mk_psk_lookup lookup;
  void *lookup_ctx;
  uint64_t ticket_lifetime;                      /* NTP fixed point, e.g. 3600 << 32 */
  uint64_t window;                               /* accepted clock skew, e.g. 30 << 32 */
};

/* REQUEST_INIT -> REQUEST_RESP (or a MIKEY error message in *out and a
 * negative return). `rand_tgk` supplies the TGK and RANDs the KMS needs
 * (64 bytes, expanded with the PRF into TGK, MPK and the ticket's RAND).
 * The ticket is valid from `now` for ticket_lifetime; the REQUEST_INIT's
 * timestamp must be within `window` of `now` (else MK_E_EXPIRED). */
int mk_kms_request(const struct mk_kms *kms, const unsigned char *in, size_t in_len,
                   uint64_t now, const unsigned char rand_tgk[64],
                   unsigned char **out, size_t *out_len, const char **why);

/* What a RESOLVE_INIT asks, once authenticated and its ticket opened. */
struct mk_resolve_request {
  char initiator[MK_ID_MAX + 1];     /* ID-A from the ticket */
  char requester[MK_ID_MAX + 1];     /* ID-C, authenticated by its PSK MAC */
  char recipients[8][MK_ID_MAX + 1]; /* allowed recipients from the ticket (B) */
  size_t n_recipients;
  char id_as[MK_ID_MAX + 1];         /* "" when absent */
  bool cdiv;                         /* CDIV indication present */
  bool requester_allowed;            /* requester is one of the recipients */
  unsigned char ticket_hash[32];     /* SHA-256 of the ticket data */
  unsigned char replay_tag[32];      /* identifies this RESOLVE_INIT (for the replay cache):
                                        SHA-256("cdivas RESOLVE_INIT" || len requester ||
                                        requester || T || len RANDRr || RANDRr) */
};

/* Authenticates a RESOLVE_INIT (PSK MAC, timestamp within `window`) and
 * opens its ticket (ticket MAC under the ticket key, validity period,
 * Initiator Data). On failure *out holds a MIKEY error message to send back
 * (authenticated once the requester is); on success *out is NULL. The
 * KMS stays stateless: a replay cache keyed by replay_tag is the caller's. */
int mk_kms_resolve_open(const struct mk_kms *kms, const unsigned char *in, size_t in_len,
                        uint64_t now, struct mk_resolve_request *req,
                        unsigned char **out, size_t *out_len, const char **why);

/* After the KMS decided (permit: the requester is allowed, or the AS said
 * the diversion is real): RESOLVE_RESP with the keys forked to the
 * requester (`rand` is RANDRkms); else a MIKEY error message (ERR "Auth
 * failure", MACed) and MK_E_NOT_ALLOWED. `in` is checked again in full
 * (MAC, window, validity at this `now`) and `req` must be what
 * mk_kms_resolve_open returned for it (MK_E_MALFORMED otherwise). */
int mk_kms_resolve_finish(const struct mk_kms *kms, const unsigned char *in, size_t in_len,
                          const struct mk_resolve_request *req, bool permit, uint64_t now,
                          const unsigned char rand[MK_RAND_LEN],
                          unsigned char **out, size_t *out_len, const char **why);

#endif
