/*
 * mikey_crypto.c - the MIKEY PRF (RFC 3830 §4.1.2, RFC 6043 §6.1), the key
 * derivation labels of RFC 3830 §4.1.3/§4.1.4 and RFC 6043 §5.1 and
 * Appendix A.2, AES-CM key transport encryption (RFC 3830 §4.2.3 over
 * RFC 3711 §4.1.1) and HMAC-SHA-1-160 / HMAC-SHA-256-256.
 *
 * Design: OpenSSL 3 EVP only. HMAC goes through EVP_MAC ("HMAC" with a
 * digest parameter), AES-CM through EVP's AES-CTR: SRTP's counter mode
 * increments the low 16 bits of the counter block, EVP-CTR increments all
 * 128, and the two agree as long as fewer than 2^16 blocks are produced,
 * which mk_aes_cm enforces (RFC 3830 §4.2.3 notes the same 2^23-bit
 * limit). Labels are written with bytes.h's writer into fixed stack
 * buffers sized for the largest label (the forking label with a 255-byte
 * identity); all of them start with the same head (label_head), RFC 6043's
 * with a usage byte after it (label_6043).
 */
#include "mikey/mikey_crypto.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "mikey/bytes.h"

#define CHUNK_LEN 32          /* RFC 3830 §4.1.2: inkey is split into 256-bit chunks */
#define LABEL_MAX 600         /* the longest label, forking: 4+1+4+1+2+255+1+255 = 523
                                 (identities are capped at 255 bytes, RANDs are) */
#define MAX_CM_BLOCKS 65536u

static const char *prf_digest(int prf)
{
  switch (prf) {
  case MK_PRF_MIKEY_1: return "SHA1";
  case MK_PRF_HMAC_SHA_256: return "SHA256";
  default: return NULL;
  }
}

static const char *mac_digest(int alg)
{
  switch (alg) {
  case MK_MAC_HMAC_SHA_1_160: return "SHA1";
  case MK_MAC_HMAC_SHA_256_256: return "SHA256";
  default: return NULL;
  }
}

/* HMAC(key, parts...) with the named digest; out must hold the digest. */
static int hmac_parts(const char *digest, const unsigned char *key, size_t key_len,
                      const struct mk_iov *parts, size_t n_parts,
                      unsigned char *out, size_t *out_len)
{
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
  OSSL_PARAM params[2] = {
    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
    OSSL_PARAM_construct_end(),
  };
  int rc = -1;
  size_t len = 0;
  if (!ctx || !EVP_MAC_init(ctx, key, key_len, params))
    goto out;
  for (size_t i = 0; i < n_parts; i++)
    if (parts[i].len && !EVP_MAC_update(ctx, parts[i].p, parts[i].len))
      goto out;
  if (!EVP_MAC_final(ctx, out, &len, EVP_MAX_MD_SIZE))
    goto out;
  *out_len = len;
  rc = 0;
out:
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return rc;
}

int mk_p_func(int prf, const unsigned char *s, size_t s_len,
              const unsigned char *label, size_t label_len,
              unsigned char *out, size_t out_len)
{
  const char *digest = prf_digest(prf);
  unsigned char a[EVP_MAX_MD_SIZE], block[EVP_MAX_MD_SIZE];
  size_t a_len, block_len, done = 0;
  if (!digest || (!label && label_len))
    return -1;
  /* A_1 = HMAC(s, A_0) with A_0 = label */
  struct mk_iov first = { label, label_len };
  if (hmac_parts(digest, s, s_len, &first, 1, a, &a_len) != 0)
    return -1;
  while (done < out_len) {
    struct mk_iov in[2] = { { a, a_len }, { label, label_len } };
    if (hmac_parts(digest, s, s_len, in, 2, block, &block_len) != 0)
      goto fail;
    size_t take = out_len - done < block_len ? out_len - done : block_len;
    memcpy(out + done, block, take);
    done += take;
    struct mk_iov next = { a, a_len };   /* A_(i+1) = HMAC(s, A_i) */
    if (done < out_len && hmac_parts(digest, s, s_len, &next, 1, a, &a_len) != 0)
      goto fail;
  }
  mk_wipe(a, sizeof a);
  mk_wipe(block, sizeof block);
  return 0;
fail:
  mk_wipe(a, sizeof a);
  mk_wipe(block, sizeof block);
  return -1;
}

int mk_prf(int prf, const unsigned char *inkey, size_t inkey_len,
           const unsigned char *label, size_t label_len,
           unsigned char *out, size_t out_len)
{
  unsigned char tmp[512];
  if (!inkey || inkey_len == 0 || out_len > sizeof tmp)
    return -1;
  memset(out, 0, out_len);
  /* n = ceil(inkey_len / 256 bits); the last chunk may be shorter */
  for (size_t off = 0; off < inkey_len; off += CHUNK_LEN) {
    size_t chunk = inkey_len - off < CHUNK_LEN ? inkey_len - off : CHUNK_LEN;
    if (mk_p_func(prf, inkey + off, chunk, label, label_len, tmp, out_len) != 0) {
      mk_wipe(tmp, sizeof tmp);
      return -1;
    }
    for (size_t i = 0; i < out_len; i++)
      out[i] ^= tmp[i];
  }
  mk_wipe(tmp, sizeof tmp);
  return 0;
}

/* ---------------------------------------------------------------- labels */

/* A label under construction: bytes.h's writer over a stack array. */
struct label {
  unsigned char b[LABEL_MAX];
  struct mk_writer w;
};

#define NO_CS 0xFF            /* "no crypto session": keys for a whole message */
#define NO_CSB 0xFFFFFFFFu    /* RFC 6043's CSB ID where none applies */

/* Starts a label with the head all of them share: constant || one byte
 * (a CS ID, or NO_CS) || a CSB ID (or NO_CSB), the layout of RFC 3830
 * §4.1.3 and §4.1.4 that RFC 6043 §5.1 and Appendix A.2 extend. */
static void label_head(struct label *l, uint32_t constant, uint8_t cs, uint32_t csb)
{
  mk_writer_fixed(&l->w, l->b, sizeof l->b);
  mk_put_u32(&l->w, constant);
  mk_put_u8(&l->w, cs);
  mk_put_u32(&l->w, csb);
}

/* RFC 6043 §5.1 and Appendix A.2 add a byte saying what the key is for
 * (0x00 forking, 0x01/0x02 message keys, 0x03 TGK keys, 0x04 initiator
 * data, 0x05/0x06 ticket keys) after the head. */
static void label_6043(struct label *l, uint32_t constant, uint8_t cs, uint32_t csb,
                       uint8_t usage)
{
  label_head(l, constant, cs, csb);
  mk_put_u8(&l->w, usage);
}

/* length RAND (8 bits) || RAND, as RFC 6043 §5.1 writes it; absent = 0. */
static void put_rand8(struct label *l, const unsigned char *r, size_t len)
{
  if (len > 255) {
    mk_writer_fail(&l->w);
    return;
  }
  mk_put_u8(&l->w, (uint8_t)len);
  mk_put(&l->w, r, len);
}

static int run(int prf, const unsigned char *key, size_t key_len, struct label *l,
               unsigned char *out, size_t out_len)
{
  int rc = l->w.failed ? -1 : mk_prf(prf, key, key_len, l->b, l->w.len, out, out_len);
  mk_wipe(l, sizeof *l);
  return rc;
}

/* RFC 3830 §4.1.3 (cs = the CS ID) and §4.1.4 (cs = 0xFF):
 * constant || cs || CSB ID || RAND. */
static int kdf_3830(int prf, const unsigned char *key, size_t key_len, uint32_t constant,
                    uint8_t cs, uint32_t csb_id, const unsigned char *rand, size_t rand_len,
                    unsigned char *out, size_t out_len)
{
  struct label l;
  label_head(&l, constant, cs, csb_id);
  mk_put(&l.w, rand, rand_len);
  return run(prf, key, key_len, &l, out, out_len);
}

int mk_kdf_3830_tgk(int prf, const unsigned char *tgk, size_t tgk_len, uint32_t constant,
                    uint8_t cs_id, uint32_t csb_id, const unsigned char *rand, size_t rand_len,
                    unsigned char *out, size_t out_len)
{
  return kdf_3830(prf, tgk, tgk_len, constant, cs_id, csb_id, rand, rand_len, out, out_len);
}

int mk_kdf_3830_psk(int prf, const unsigned char *key, size_t key_len, uint32_t constant,
                    uint32_t csb_id, const unsigned char *rand, size_t rand_len,
                    unsigned char *out, size_t out_len)
{
  return kdf_3830(prf, key, key_len, constant, NO_CS, csb_id, rand, rand_len, out, out_len);
}

int mk_kdf_6043_msg(int prf, const unsigned char *key, size_t key_len, uint32_t constant,
                    uint32_t csb_id, bool response,
                    const unsigned char *randri, size_t randri_len,
                    const unsigned char *randrr, size_t randrr_len,
                    unsigned char *out, size_t out_len)
{
  struct label l;
  label_6043(&l, constant, NO_CS, csb_id, response ? 0x02 : 0x01);
  put_rand8(&l, randri, randri_len);
  put_rand8(&l, randrr, randrr_len);
  return run(prf, key, key_len, &l, out, out_len);
}

int mk_kdf_6043_tgk(int prf, const unsigned char *tgk, size_t tgk_len, uint32_t constant,
                    uint8_t cs_id,
                    const unsigned char *randri, size_t randri_len,
                    const unsigned char *randrr, size_t randrr_len,
                    unsigned char *out, size_t out_len)
{
  struct label l;
  label_6043(&l, constant, cs_id, NO_CSB, 0x03);
  put_rand8(&l, randri, randri_len);
  put_rand8(&l, randrr, randrr_len);
  return run(prf, tgk, tgk_len, &l, out, out_len);
}

int mk_kdf_6043_fork(int prf, const unsigned char *key, size_t key_len, uint32_t constant,
                     const unsigned char *id, size_t id_len,
                     const unsigned char *randkms, size_t randkms_len, unsigned char *out)
{
  struct label l;
  if (id_len > 0xFFFF)
    return -1;
  label_6043(&l, constant, NO_CS, NO_CSB, 0x00);
  mk_put_u16(&l.w, (uint16_t)id_len);   /* length ID Data is 16 bits */
  mk_put(&l.w, id, id_len);
  put_rand8(&l, randkms, randkms_len);
  return run(prf, key, key_len, &l, out, key_len);   /* outkey_len == inkey_len */
}

int mk_kdf_6043_ticket(int prf, const unsigned char *key, size_t key_len, uint32_t constant,
                       uint8_t tag, const unsigned char *rand, size_t rand_len,
                       unsigned char *out, size_t out_len)
{
  struct label l;
  label_6043(&l, constant, NO_CS, NO_CSB, tag);
  put_rand8(&l, rand, rand_len);
  return run(prf, key, key_len, &l, out, out_len);
}

int mk_kdf_6043_initiator_data(int prf, const unsigned char *mpkr, size_t mpkr_len,
                               uint32_t constant, unsigned char *out, size_t out_len)
{
  struct label l;
  label_6043(&l, constant, NO_CS, NO_CSB, 0x04);
  return run(prf, mpkr, mpkr_len, &l, out, out_len);
}

/* ---------------------------------------------------------------- AES-CM */

void mk_aes_cm_iv(const unsigned char salt[MK_SALT_KEY_LEN], uint32_t csb_id, uint64_t t,
                  unsigned char iv[16])
{
  memset(iv, 0, 16);
  memcpy(iv, salt, MK_SALT_KEY_LEN);
  /* 0x0000 (bytes 0-1) || CSB ID (bytes 2-5) || T (bytes 6-13), XORed into S */
  for (int i = 0; i < 4; i++)
    iv[2 + i] ^= (unsigned char)(csb_id >> (24 - 8 * i));
  for (int i = 0; i < 8; i++)
    iv[6 + i] ^= (unsigned char)(t >> (56 - 8 * i));
  /* bytes 14-15 stay 0x0000: the block counter */
}

int mk_aes_cm(const unsigned char *key, size_t key_len, const unsigned char iv[16],
              const unsigned char *in, size_t len, unsigned char *out)
{
  const EVP_CIPHER *cipher = key_len == 16 ? EVP_aes_128_ctr()
                           : key_len == 32 ? EVP_aes_256_ctr() : NULL;
  EVP_CIPHER_CTX *ctx;
  int n = 0, fin = 0, rc = -1;
  if (!cipher || len > (size_t)MAX_CM_BLOCKS * 16 || len > (size_t)0x7FFFFFFF)
    return -1;
  /* the low 16 bits of the counter must not carry into the IV part */
  if (len > (size_t)(MAX_CM_BLOCKS - ((unsigned)iv[14] << 8 | iv[15])) * 16)
    return -1;
  if (len == 0)
    return 0;
  ctx = EVP_CIPHER_CTX_new();
  if (ctx && EVP_EncryptInit_ex(ctx, cipher, NULL, key, iv)
      && EVP_EncryptUpdate(ctx, out, &n, in, (int)len)
      && EVP_EncryptFinal_ex(ctx, out + n, &fin) && (size_t)(n + fin) == len)
    rc = 0;
  EVP_CIPHER_CTX_free(ctx);
  return rc;
}

/* ---------------------------------------------------------------- MAC, hash */

int mk_mac_len(int alg)
{
  switch (alg) {
  case MK_MAC_NULL: return 0;
  case MK_MAC_HMAC_SHA_1_160: return 20;
  case MK_MAC_HMAC_SHA_256_256: return 32;
  default: return -1;
  }
}

int mk_mac(int alg, const unsigned char *key, size_t key_len,
           const struct mk_iov *parts, size_t n_parts,
           unsigned char out[MK_MAX_MAC_LEN], size_t *out_len)
{
  unsigned char full[EVP_MAX_MD_SIZE];
  size_t len;
  const char *digest;
  if (alg == MK_MAC_NULL) {
    *out_len = 0;
    return 0;
  }
  digest = mac_digest(alg);
  if (!digest || hmac_parts(digest, key, key_len, parts, n_parts, full, &len) != 0
      || (int)len != mk_mac_len(alg))
    return -1;
  memcpy(out, full, len);
  *out_len = len;
  return 0;
}

int mk_sha256(const struct mk_iov *parts, size_t n_parts, unsigned char out[32])
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned int len = 0;
  int rc = -1;
  if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
    goto out;
  for (size_t i = 0; i < n_parts; i++)
    if (parts[i].len && !EVP_DigestUpdate(ctx, parts[i].p, parts[i].len))
      goto out;
  if (EVP_DigestFinal_ex(ctx, out, &len) && len == 32)
    rc = 0;
out:
  EVP_MD_CTX_free(ctx);
  return rc;
}

bool mk_ct_equal(const void *a, const void *b, size_t len)
{
  return CRYPTO_memcmp(a, b, len) == 0;
}

void mk_wipe(void *p, size_t len)
{
  OPENSSL_cleanse(p, len);
}
