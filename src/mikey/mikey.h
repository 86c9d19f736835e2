/*
 * mikey.h - the MIKEY message codec: the common header (RFC 3830 §6.1,
 * RFC 6043 §6.1 incl. the GENERIC-ID map and RFC 4563's empty map) and
 * the payloads MIKEY-TICKET mode 1 uses: KEMAC (1) with key data
 * sub-payloads (20), T (5), V (9), SP (10), RAND (11), ERR (12), TR (13),
 * IDR (14), RANDR (15), TP (16), TICKET (17), general extension (21), and
 * the ticket header THDR of RFC 6043 Appendix A.3.
 *
 * Design: decoding is zero-copy. A decoded message points into the
 * caller's buffer, so every payload keeps its exact bytes (raw, len, off)
 * for MACs computed over raw bytes; the buffer must outlive the decoded
 * form. MIKEY payloads carry no generic length, so a payload can only be
 * skipped by parsing it: the decoder knows every type it accepts and
 * rejects anything else. All reads go through a bounds-checked cursor;
 * every failure is a clean -1 (MK_DEC_ERR), never a read past the input.
 * Sub-chains (TP Data, Ticket Data, Initiator Data, decrypted KEMAC data)
 * are decoded on demand with mk_decode_chain, each in its own context that
 * says which payload types may appear there.
 *
 * Encoding uses a builder that appends payloads and patches the previous
 * payload's Next Payload field, so callers never compute next-payload
 * values by hand.
 */
#ifndef CDIVAS_MIKEY_H
#define CDIVAS_MIKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mikey/bytes.h"

#define MK_VERSION 1
#define MK_MSG_MAX 65536          /* a MIKEY message is at most 64 KiB */
#define MK_IDR_MAX 255            /* identities are capped at 255 bytes */
/* DECISION: bounds the RFCs do not set: at most 64 payloads in a chain and
 * 16 crypto sessions in a header; more is rejected as malformed. Payload
 * types without an implementation here (PKE, DH, SIGN, ID, CERT, CHASH)
 * are rejected too: without a generic length they cannot be skipped. */
#define MK_MAX_PAYLOADS 64        /* per chain; a longer chain is rejected */
#define MK_MAX_CS 16              /* crypto sessions per CSB we accept */

/* Data types (RFC 3830 Table 6.1.a, RFC 6043 Table 6.1). */
enum mk_data_type {
  MK_DT_PSK_INIT = 0,
  MK_DT_PSK_RESP = 1,
  MK_DT_ERROR = 6,
  MK_DT_REQUEST_INIT_PSK = 11,
  MK_DT_REQUEST_INIT_PK = 12,
  MK_DT_REQUEST_RESP = 13,
  MK_DT_TRANSFER_INIT = 14,
  MK_DT_TRANSFER_RESP = 15,
  MK_DT_RESOLVE_INIT_PSK = 16,
  MK_DT_RESOLVE_INIT_PK = 17,
  MK_DT_RESOLVE_RESP = 18,
};

/* Next Payload values (RFC 3830 Table 6.1.b, RFC 6043 Table 6.2). HDR and
 * THDR have no value: they are always first and known by position. */
enum mk_payload_type {
  MK_PT_LAST = 0,
  MK_PT_KEMAC = 1,
  MK_PT_T = 5,
  MK_PT_V = 9,
  MK_PT_SP = 10,
  MK_PT_RAND = 11,
  MK_PT_ERR = 12,
  MK_PT_TR = 13,
  MK_PT_IDR = 14,
  MK_PT_RANDR = 15,
  MK_PT_TP = 16,
  MK_PT_TICKET = 17,
  MK_PT_KEYDATA = 20,
  MK_PT_EXT = 21,
  MK_PT_HDR = 256,    /* pseudo types for the positional payloads */
  MK_PT_THDR = 257,
};

/* CS ID map types (RFC 3830 Table 6.1.d, RFC 4563 Table 3, RFC 6043 Table 6.4). */
#define MK_MAP_SRTP_ID 0
#define MK_MAP_EMPTY 1
#define MK_MAP_GENERIC_ID 2

/* TS types (RFC 3830 Table 6.6, RFC 6043 Table 6.8) and roles (Table 6.9). */
#define MK_TS_NTP_UTC 0
#define MK_TS_NTP 1
#define MK_TS_COUNTER 2
#define MK_TS_NTP_UTC_32 3
#define MK_TR_ISSUE 1
#define MK_TR_START 2
#define MK_TR_END 3
#define MK_TR_REKEY 4

/* ID types (RFC 3830 Table 6.7.a, RFC 6043 Table 6.10), ID roles (Table 6.11). */
#define MK_ID_NAI 0
#define MK_ID_URI 1
#define MK_ID_BYTES 2
#define MK_ROLE_I 1
#define MK_ROLE_R 2
#define MK_ROLE_KMS 3
#define MK_ROLE_PSK 4
#define MK_ROLE_APP 5
/* RAND roles (RFC 6043 Table 6.13). */
#define MK_RAND_I 1
#define MK_RAND_R 2
#define MK_RAND_KMS 3

/* Key data types (RFC 3830 Table 6.13.a, RFC 6043 Table 6.7) and KV types. */
#define MK_KD_TGK 0
#define MK_KD_TGK_SALT 1
#define MK_KD_TEK 2
#define MK_KD_TEK_SALT 3
#define MK_KD_GTGK 4
#define MK_KD_GTGK_SALT 5
#define MK_KD_MPK 6
#define MK_KV_NULL 0
#define MK_KV_SPI 1
#define MK_KV_INTERVAL 2

/* Error numbers (RFC 3830 Table 6.12, RFC 6043 Table 6.14). */
#define MK_ERR_AUTH 0
#define MK_ERR_TS 1
#define MK_ERR_PRF 2
#define MK_ERR_MAC 3
#define MK_ERR_EA 4
#define MK_ERR_HA 5
#define MK_ERR_DH 6
#define MK_ERR_ID 7
#define MK_ERR_CERT 8
#define MK_ERR_SP 9
#define MK_ERR_SPPAR 10
#define MK_ERR_DT 11
#define MK_ERR_UNSPEC 12
#define MK_ERR_TICKET 14
#define MK_ERR_TPPAR 15

/* Ticket Policy flags D..O (RFC 6043 §6.10), in wire order. */
#define MK_TP_D 0x800u
#define MK_TP_E 0x400u
#define MK_TP_F 0x200u
#define MK_TP_G 0x100u
#define MK_TP_H 0x080u
#define MK_TP_I 0x040u
#define MK_TP_J 0x020u
#define MK_TP_K 0x010u
#define MK_TP_L 0x008u
#define MK_TP_M 0x004u
#define MK_TP_N 0x002u
#define MK_TP_O 0x001u

#define MK_TICKET_MIKEY_BASE 1    /* Ticket Type (Table 6.15) */
#define MK_PROT_SRTP 0            /* Prot type (RFC 3830 Table 6.10) */

/* One crypto session of the CS ID map info. SRTP-ID uses policy_no, ssrc
 * and roc (its CS ID is the 1-based position); GENERIC-ID uses the rest. */
struct mk_cs {
  uint8_t cs_id;
  uint8_t policy_no;                 /* SRTP-ID */
  uint32_t ssrc, roc;                /* SRTP-ID */
  uint8_t prot_type;                 /* GENERIC-ID */
  bool s;
  uint8_t n_policies;                /* #P, at most 127 */
  const unsigned char *policies;
  uint16_t session_data_len;
  const unsigned char *session_data;
  uint8_t spi_len;
  const unsigned char *spi;
};

struct mk_hdr {
  uint8_t version;
  uint8_t data_type;
  uint8_t next;
  bool v;
  uint8_t prf;                       /* 7 bits */
  uint32_t csb_id;
  uint8_t n_cs;
  uint8_t map_type;
  struct mk_cs cs[MK_MAX_CS];
};

struct mk_ticket_fields {            /* TP (no ticket/initiator data) and TICKET */
  uint16_t ticket_type;
  uint8_t subtype, version;
  uint8_t prf;                       /* 7 bits */
  uint16_t flags;                    /* MK_TP_* */
  uint8_t res;                       /* 5 reserved bits, kept as received */
  uint16_t tp_len;
  const unsigned char *tp_data;
  uint16_t td_len;
  const unsigned char *ticket_data;
  uint16_t id_len;
  const unsigned char *init_data;
  size_t td_len_off;                 /* offset of "Ticket Data length" in the payload */
  size_t id_len_off;                 /* offset of "Initiator Data length" in the payload */
};

struct mk_payload {
  uint16_t type;                     /* enum mk_payload_type */
  uint8_t next;                      /* the Next Payload field as on the wire */
  const unsigned char *raw;          /* exact bytes of the payload */
  size_t len;
  size_t off;                        /* offset of raw in the decoded buffer */
  union {
    struct { uint8_t role, ts_type; uint64_t value; } t;                 /* T (role 0), TR */
    struct { uint8_t role, len; const unsigned char *data; } rand;       /* RAND (role 0), RANDR */
    struct { uint8_t role, id_type; uint16_t len; const unsigned char *data; } idr;
    struct mk_ticket_fields ticket;                                      /* TP, TICKET */
    struct {
      uint8_t encr_alg; uint16_t encr_len; const unsigned char *encr;
      uint8_t mac_alg; uint8_t mac_len; const unsigned char *mac;
    } kemac;
    struct {
      uint8_t type, kv; uint16_t key_len; const unsigned char *key;
      uint16_t salt_len; const unsigned char *salt;
      uint8_t spi_len; const unsigned char *spi;                         /* KV SPI */
      uint8_t vf_len; const unsigned char *vf;                           /* KV interval */
      uint8_t vt_len; const unsigned char *vt;
    } keydata;
    struct { uint8_t alg, mac_len; const unsigned char *mac; } v;
    struct { uint8_t policy_no, prot_type; uint16_t len; const unsigned char *params; } sp;
    struct { uint8_t error_no; uint16_t reserved; } err;
    struct { uint8_t type; uint16_t len; const unsigned char *data; } ext;
    struct { uint16_t len; const unsigned char *data; } thdr;
  } u;
};

struct mk_chain {
  struct mk_payload p[MK_MAX_PAYLOADS];
  size_t n;
};

struct mk_msg {
  const unsigned char *buf;
  size_t len;
  struct mk_hdr hdr;
  size_t hdr_len;
  struct mk_chain pl;                /* payloads after the HDR */
};

/* Where a chain sits; each context allows its own payload types. */
enum mk_ctx {
  MK_CTX_MSG,           /* after HDR: V, if present, must be last */
  MK_CTX_TP_DATA,       /* TP Data (RFC 6043 §6.10) */
  MK_CTX_TICKET_DATA,   /* Ticket Data after THDR (Appendix A): V last */
  MK_CTX_INIT_DATA,     /* Initiator Data: Vi, Vr */
  MK_CTX_KEMAC_DATA,    /* decrypted KEMAC: key data sub-payloads only */
};

#define MK_DEC_ERR (-1)

/* Decodes a whole message: HDR, then the payload chain up to Next Payload
 * = Last, which must end exactly at len. 0 or MK_DEC_ERR; *why (if not
 * NULL) gets a static reason. */
int mk_decode(const unsigned char *buf, size_t len, struct mk_msg *msg, const char **why);

/* Decodes a chain whose first payload type is `first` (a "First Payload"
 * byte, a THDR's Next Payload, or MK_PT_KEYDATA for KEMAC data), filling
 * `out`; `base` is added to each payload's off (the chain's offset in the
 * enclosing buffer). An empty chain (first = Last, len = 0) is valid. */
int mk_decode_chain(const unsigned char *buf, size_t len, uint8_t first, enum mk_ctx ctx,
                    size_t base, struct mk_chain *out, const char **why);

/* Decodes Ticket Data: THDR, then its chain (MK_CTX_TICKET_DATA). */
int mk_decode_ticket_data(const unsigned char *buf, size_t len, size_t base,
                          struct mk_payload *thdr, struct mk_chain *out, const char **why);

/* Decodes a "First Payload" sub-chain (TP Data, Initiator Data): the first
 * byte names the first payload; empty data is an empty chain. */
int mk_decode_first_chain(const unsigned char *buf, size_t len, enum mk_ctx ctx, size_t base,
                          struct mk_chain *out, const char **why);

/* Finds the payload of `type` (and `role` for IDR/RANDR/TR, -1 for any)
 * in a chain: returns 1 and sets *out when exactly one is present, 0 when
 * none, MK_DEC_ERR when there are several. */
int mk_find(const struct mk_chain *c, uint16_t type, int role, const struct mk_payload **out);

/* Counts payloads of `type` (and `role`, -1 for any). */
size_t mk_count(const struct mk_chain *c, uint16_t type, int role);

/* ---------------------------------------------------------------- encoding */

struct mk_enc {
  struct mk_writer w;      /* at most MK_MSG_MAX bytes; w.failed: allocation
                              failure, size overflow or bad field */
  size_t np_off;           /* where the next payload's type goes */
  bool has_np;
};

void mk_enc_init(struct mk_enc *e);
void mk_enc_free(struct mk_enc *e);
/* Marks the message as failed (a caller's own field check did not hold):
 * mk_enc_finish will then return -1. */
void mk_enc_fail(struct mk_enc *e);
/* Starts a message with its HDR (the Next Payload slot is HDR byte 2). */
void mk_enc_hdr(struct mk_enc *e, const struct mk_hdr *h);
/* Starts a "First Payload" sub-chain: one byte naming the first payload. */
void mk_enc_first(struct mk_enc *e);
void mk_enc_thdr(struct mk_enc *e, const unsigned char *data, uint16_t len);
void mk_enc_t(struct mk_enc *e, uint8_t ts_type, uint64_t value);
void mk_enc_tr(struct mk_enc *e, uint8_t role, uint8_t ts_type, uint64_t value);
void mk_enc_rand(struct mk_enc *e, const unsigned char *r, uint8_t len);
void mk_enc_randr(struct mk_enc *e, uint8_t role, const unsigned char *r, uint8_t len);
void mk_enc_idr(struct mk_enc *e, uint8_t role, uint8_t id_type, const void *id, size_t len);
/* TP when `ticket` is false (ticket/initiator data ignored), else TICKET. */
void mk_enc_ticket(struct mk_enc *e, bool ticket, const struct mk_ticket_fields *t);
void mk_enc_kemac(struct mk_enc *e, uint8_t encr_alg, const unsigned char *encr, uint16_t encr_len,
                  uint8_t mac_alg, const unsigned char *mac, uint8_t mac_len);
/* Key data sub-payload; salt only for the +SALT types; KV data per kv. */
void mk_enc_keydata(struct mk_enc *e, uint8_t type, uint8_t kv,
                    const unsigned char *key, uint16_t key_len,
                    const unsigned char *salt, uint16_t salt_len,
                    const unsigned char *kv1, uint8_t kv1_len,    /* SPI, or Valid From */
                    const unsigned char *kv2, uint8_t kv2_len);   /* Valid To */
/* V with a MAC field of mac_len bytes (zeros when mac is NULL, to be
 * filled in after the MAC is computed over the finished message). */
void mk_enc_v(struct mk_enc *e, uint8_t alg, const unsigned char *mac, uint8_t mac_len);
void mk_enc_sp(struct mk_enc *e, uint8_t policy_no, uint8_t prot_type,
               const unsigned char *params, uint16_t len);
void mk_enc_err(struct mk_enc *e, uint8_t error_no);
void mk_enc_ext(struct mk_enc *e, uint8_t type, const unsigned char *data, uint16_t len);
/* Appends an already encoded payload of `type`; its first byte is its
 * Next Payload field (rewritten as the chain goes on). */
void mk_enc_raw(struct mk_enc *e, uint16_t type, const unsigned char *payload, size_t len);
/* Terminates the chain (last Next Payload = Last) and hands the buffer
 * over: 0, or -1 when anything failed (nothing is returned then). */
int mk_enc_finish(struct mk_enc *e, unsigned char **out, size_t *out_len);

#endif
