/*
 * mikey_crypto.h - the cryptographic functions of MIKEY (RFC 3830) and
 * MIKEY-TICKET (RFC 6043): the MIKEY PRF, the key derivation labels of
 * both RFCs, AES-CM key transport encryption and the MAC algorithms.
 *
 * Design: everything is built on OpenSSL 3's EVP interfaces (EVP_MAC for
 * HMAC, EVP_CIPHER for AES-CTR, EVP_Digest for SHA-256); no other crypto
 * library, no deprecated low-level calls. Each RFC label layout has its own
 * function so the callers never assemble labels by hand, and every label
 * builder names the RFC section it follows. Lengths are in bytes (the
 * RFCs speak in bits; all our lengths are whole bytes). Functions return 0
 * on success and -1 on a bad argument or an OpenSSL failure; outputs are
 * caller-provided buffers.
 */
#ifndef CDIVAS_MIKEY_CRYPTO_H
#define CDIVAS_MIKEY_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* PRF func values (RFC 3830 Table 6.1.c, RFC 6043 Table 6.3). */
#define MK_PRF_MIKEY_1 0          /* HMAC-SHA-1 P-function, 160-bit blocks */
#define MK_PRF_HMAC_SHA_256 1     /* same construction with HMAC-SHA-256 */

/* MAC alg values (RFC 3830 Table 6.2.b, RFC 6043 Table 6.6). */
#define MK_MAC_NULL 0
#define MK_MAC_HMAC_SHA_1_160 1
#define MK_MAC_HMAC_SHA_256_256 2

/* Encr alg values (RFC 3830 Table 6.2.a, RFC 6043 Table 6.5). */
#define MK_ENCR_NULL 0
#define MK_ENCR_AES_CM_128 1
#define MK_ENCR_AES_KW_128 2      /* not implemented */
#define MK_ENCR_AES_CM_256 3

/* RFC 3830 Table 4.1.3: keys derived from a TGK. */
#define MK_C_TEK 0x2AD01C64u
#define MK_C_TGK_AUTH 0x1B5C7973u
#define MK_C_TGK_ENCR 0x15798CEFu
#define MK_C_TGK_SALT 0x39A2C14Bu
/* RFC 3830 Table 4.1.4: keys derived from an envelope or pre-shared key;
 * RFC 6043 reuses them for keys from a PSK, an MPK and a TPK. */
#define MK_C_ENCR 0x150533E1u
#define MK_C_AUTH 0x2D22AC75u
#define MK_C_SALT 0x29B88916u
/* RFC 6043 Table 5.1: forked keys. */
#define MK_C_FORK_MPKR 0x2B288856u
#define MK_C_FORK_TGK 0x1512B54Au
/* RFC 6043 Table A.1: MPKi and MPKr from the ticket's MPK. */
#define MK_C_MPKI 0x220E99A2u
#define MK_C_MPKR 0x1F4D675Bu

#define MK_SALT_KEY_LEN 14        /* the 112-bit salting key S of RFC 3830 §4.2.3 */
#define MK_MAX_MAC_LEN 32

/* One piece of a MAC or hash input: the RFCs MAC a message followed by
 * identities or another message, so inputs come as a list, never copied. */
struct mk_iov {
  const void *p;
  size_t len;
};

/* The P-function of RFC 3830 §4.1.2: HMAC(s, A_1||label) || HMAC(s, A_2||label)
 * || ..., A_0 = label, A_i = HMAC(s, A_(i-1)), truncated to out_len bytes.
 * With MK_PRF_HMAC_SHA_256 this is TLS 1.2's P_SHA256(s, label). */
int mk_p_func(int prf, const unsigned char *s, size_t s_len,
              const unsigned char *label, size_t label_len,
              unsigned char *out, size_t out_len);

/* PRF(inkey, label) of RFC 3830 §4.1.2 (RFC 6043 §6.1 for SHA-256): inkey
 * cut into 256-bit chunks, P over each chunk, outputs XORed. */
int mk_prf(int prf, const unsigned char *inkey, size_t inkey_len,
           const unsigned char *label, size_t label_len,
           unsigned char *out, size_t out_len);

/* RFC 3830 §4.1.3: label = constant || cs_id || csb_id || RAND
 * (keys from a TGK; constants MK_C_TEK, MK_C_TGK_*). */
int mk_kdf_3830_tgk(int prf, const unsigned char *tgk, size_t tgk_len, uint32_t constant,
                    uint8_t cs_id, uint32_t csb_id, const unsigned char *rand, size_t rand_len,
                    unsigned char *out, size_t out_len);

/* RFC 3830 §4.1.4: label = constant || 0xFF || csb_id || RAND
 * (keys from an envelope/pre-shared key; constants MK_C_ENCR/AUTH/SALT). */
int mk_kdf_3830_psk(int prf, const unsigned char *key, size_t key_len, uint32_t constant,
                    uint32_t csb_id, const unsigned char *rand, size_t rand_len,
                    unsigned char *out, size_t out_len);

/* RFC 6043 §5.1.2, keys protecting MIKEY messages (from a PSK, MPKi or
 * MPKr'): label = constant || 0xFF || CSB ID || 0x01 (initial message) or
 * 0x02 (response) || len RANDRi || RANDRi || len RANDRr || RANDRr.
 * An absent RAND is passed as NULL/0 and encodes as length 0. */
int mk_kdf_6043_msg(int prf, const unsigned char *key, size_t key_len, uint32_t constant,
                    uint32_t csb_id, bool response,
                    const unsigned char *randri, size_t randri_len,
                    const unsigned char *randrr, size_t randrr_len,
                    unsigned char *out, size_t out_len);

/* RFC 6043 §5.1.3, keys from a TGK/TGK'/GTGK: label = constant || CS ID ||
 * 0xFFFFFFFF || 0x03 || len RANDRi || RANDRi || len RANDRr || RANDRr. */
int mk_kdf_6043_tgk(int prf, const unsigned char *tgk, size_t tgk_len, uint32_t constant,
                    uint8_t cs_id,
                    const unsigned char *randri, size_t randri_len,
                    const unsigned char *randrr, size_t randrr_len,
                    unsigned char *out, size_t out_len);

/* RFC 6043 §5.1.1, key forking: label = constant || 0xFF || 0xFFFFFFFF ||
 * 0x00 || length ID Data (16 bits) || ID Data || length RANDRkms (8 bits)
 * || RANDRkms; the output is as long as the input key. */
int mk_kdf_6043_fork(int prf, const unsigned char *key, size_t key_len, uint32_t constant,
                     const unsigned char *id, size_t id_len,
                     const unsigned char *randkms, size_t randkms_len, unsigned char *out);

/* RFC 6043 Appendix A.2.1 (tag 0x05, keys from the TPK) and A.2.2 (tag
 * 0x06, MPKi/MPKr from the MPK): label = constant || 0xFF || 0xFFFFFFFF ||
 * tag || len RAND || RAND. */
int mk_kdf_6043_ticket(int prf, const unsigned char *key, size_t key_len, uint32_t constant,
                       uint8_t tag, const unsigned char *rand, size_t rand_len,
                       unsigned char *out, size_t out_len);

/* RFC 6043 §6.10, the key of the Vr payload in the Initiator Data:
 * label = constant || 0xFF || 0xFFFFFFFF || 0x04. */
int mk_kdf_6043_initiator_data(int prf, const unsigned char *mpkr, size_t mpkr_len,
                               uint32_t constant, unsigned char *out, size_t out_len);

/* RFC 3830 §4.2.3: IV = (S XOR (0x0000 || CSB ID || T)) || 0x0000. */
void mk_aes_cm_iv(const unsigned char salt[MK_SALT_KEY_LEN], uint32_t csb_id, uint64_t t,
                  unsigned char iv[16]);

/* AES in counter mode (RFC 3711 §4.1.1) from a 128-bit initial counter
 * block; key_len 16 (AES-CM-128) or 32 (AES-CM-256). Encrypts and
 * decrypts (in may equal out). At most 2^16 blocks, as in SRTP, so the
 * 16-bit block counter never wraps into the IV. */
int mk_aes_cm(const unsigned char *key, size_t key_len, const unsigned char iv[16],
              const unsigned char *in, size_t len, unsigned char *out);

/* MAC length of a MAC alg, or -1 when unknown. */
int mk_mac_len(int alg);

/* HMAC over the concatenation of parts; *out_len gets the tag length.
 * MK_MAC_NULL gives an empty tag. */
int mk_mac(int alg, const unsigned char *key, size_t key_len,
           const struct mk_iov *parts, size_t n_parts,
           unsigned char out[MK_MAX_MAC_LEN], size_t *out_len);

/* SHA-256 over the concatenation of parts. */
int mk_sha256(const struct mk_iov *parts, size_t n_parts, unsigned char out[32]);

/* Constant-time comparison. */
bool mk_ct_equal(const void *a, const void *b, size_t len);

/* Overwrites secrets so they do not linger on the stack. */
void mk_wipe(void *p, size_t len);

#endif
