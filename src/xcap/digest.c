/*
 * digest.c - HTTP Digest (see digest.h), on OpenSSL's EVP digests.
 */
#include "xcap/digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* ------------------------------------------------------------ parsing */

static int copy_value(char *dst, size_t size, const char *v)
{
  size_t n = strlen(v);
  if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
    /* a quoted-string: drop the quotes, undo backslash escapes */
    size_t k = 0;
    for (size_t i = 1; i + 1 < n; i++) {
      if (v[i] == '\\' && i + 2 < n)
        i++;
      if (k + 1 >= size)
        return -1;
      dst[k++] = v[i];
    }
    dst[k] = '\0';
    return 0;
  }
  if (n >= size)
    return -1;
  memcpy(dst, v, n + 1);
  return 0;
}

int cd_digest_parse(const char *const *params, struct cd_digest_credentials *c)
{
  memset(c, 0, sizeof *c);
  for (const char *const *p = params; p && *p; p++) {
    const char *eq = strchr(*p, '=');
    if (eq == NULL)
      continue;
    size_t n = (size_t)(eq - *p);
    const char *v = eq + 1;
    struct { const char *name; char *dst; size_t size; } fields[] = {
      { "username", c->username, sizeof c->username }, { "realm", c->realm, sizeof c->realm },
      { "nonce", c->nonce, sizeof c->nonce }, { "uri", c->uri, sizeof c->uri },
      { "response", c->response, sizeof c->response }, { "algorithm", c->algorithm, sizeof c->algorithm },
      { "cnonce", c->cnonce, sizeof c->cnonce }, { "qop", c->qop, sizeof c->qop }, { "nc", c->nc, sizeof c->nc },
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
      if (strlen(fields[i].name) == n && strncasecmp(*p, fields[i].name, n) == 0 &&
          copy_value(fields[i].dst, fields[i].size, v) < 0)
        return -1;
    if (n == 8 && strncasecmp(*p, "userhash", 8) == 0)
      c->userhash = strcasecmp(v, "true") == 0 || strcasecmp(v, "\"true\"") == 0;
  }
  if (!c->username[0] || !c->nonce[0] || !c->uri[0] || !c->response[0])
    return -1;
  return 0;
}

/* ------------------------------------------------------------ nonces */

static void b64url(const unsigned char *in, size_t n, char *out)
{
  static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t k = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                 (i + 2 < n ? in[i + 2] : 0);
    out[k++] = t[(v >> 18) & 63];
    out[k++] = t[(v >> 12) & 63];
    if (i + 1 < n)
      out[k++] = t[(v >> 6) & 63];
    if (i + 2 < n)
      out[k++] = t[v & 63];
  }
  out[k] = '\0';
}

/* 8 bytes of time + 16 of MAC = 24 bytes = 32 characters. */
static void make_nonce(const unsigned char *secret, const char *realm, unsigned long long t, char *out)
{
  unsigned char raw[24], mac[EVP_MAX_MD_SIZE], msg[8 + 129];
  unsigned int mlen = 0;
  size_t rl = strlen(realm);
  if (rl > 128)
    rl = 128;
  for (int i = 0; i < 8; i++)
    raw[i] = msg[i] = (unsigned char)(t >> (56 - 8 * i));
  memcpy(msg + 8, realm, rl);
  HMAC(EVP_sha256(), secret, CD_DIGEST_SECRET_LEN, msg, 8 + rl, mac, &mlen);
  memcpy(raw + 8, mac, 16);
  b64url(raw, sizeof raw, out);
}

void cd_digest_nonce(const unsigned char *secret, const char *realm, long now, char *out)
{
  make_nonce(secret, realm, (unsigned long long)now, out);
}

static int b64val(char c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

int cd_digest_nonce_check(const unsigned char *secret, const char *realm, const char *nonce, long now)
{
  if (strlen(nonce) != CD_DIGEST_NONCE_LEN)
    return -1;
  /* the 24 bytes: 32 characters, 4 for every 3 */
  unsigned char raw[24];
  for (int i = 0; i < 8; i++) {
    int a = b64val(nonce[4 * i]), b = b64val(nonce[4 * i + 1]), c = b64val(nonce[4 * i + 2]),
        d = b64val(nonce[4 * i + 3]);
    if (a < 0 || b < 0 || c < 0 || d < 0)
      return -1;
    unsigned v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6 | (unsigned)d;
    raw[3 * i] = (unsigned char)(v >> 16);
    raw[3 * i + 1] = (unsigned char)(v >> 8);
    raw[3 * i + 2] = (unsigned char)v;
  }
  unsigned long long t = 0;
  for (int i = 0; i < 8; i++)
    t = t << 8 | raw[i];
  char expect[CD_DIGEST_NONCE_LEN + 1];
  make_nonce(secret, realm, t, expect);
  if (CRYPTO_memcmp(expect, nonce, CD_DIGEST_NONCE_LEN) != 0)
    return -1;
  long long age = (long long)now - (long long)t;
  if (age < -5)
    return -1;            /* from the future: not one we made */
  return age > CD_DIGEST_NONCE_LIFETIME ? 1 : 0;
}

char *cd_digest_challenge(const unsigned char *secret, const char *realm, long now, bool stale)
{
  char nonce[CD_DIGEST_NONCE_LEN + 1];
  cd_digest_nonce(secret, realm, now, nonce);
  size_t cap = 2 * (strlen(realm) + 200);
  char *out = malloc(cap);
  if (out == NULL)
    return NULL;
  snprintf(out, cap,
           "WWW-Authenticate: Digest realm=\"%s\", qop=\"auth\", algorithm=SHA-256, nonce=\"%s\", "
           "opaque=\"cdivas\"%s\r\n"
           "WWW-Authenticate: Digest realm=\"%s\", qop=\"auth\", algorithm=MD5, nonce=\"%s\", "
           "opaque=\"cdivas\"%s\r\n",
           realm, nonce, stale ? ", stale=true" : "", realm, nonce, stale ? ", stale=true" : "");
  return out;
}

/* ------------------------------------------------------------ responses */

/* hex(H(a:b:c...)) of the parts, into out (2 * digest size + 1). */
static bool hash_hex(const EVP_MD *md, char *out, const char *const *parts, size_t n)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  bool ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1;
  for (size_t i = 0; ok && i < n; i++)
    ok = (i == 0 || EVP_DigestUpdate(ctx, ":", 1) == 1) && EVP_DigestUpdate(ctx, parts[i], strlen(parts[i])) == 1;
  ok = ok && EVP_DigestFinal_ex(ctx, d, &len) == 1;
  EVP_MD_CTX_free(ctx);
  for (unsigned i = 0; ok && i < len; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
  return ok;
}

bool cd_digest_verify(const struct cd_digest_credentials *c, const char *method, const char *password)
{
  const EVP_MD *md;
  bool sess = false;
  const char *a = c->algorithm;
  if (!*a || strcasecmp(a, "MD5") == 0)
    md = EVP_md5();
  else if (strcasecmp(a, "MD5-sess") == 0)
    md = EVP_md5(), sess = true;
  else if (strcasecmp(a, "SHA-256") == 0)
    md = EVP_sha256();
  else if (strcasecmp(a, "SHA-256-sess") == 0)
    md = EVP_sha256(), sess = true;
  else
    return false;
  if (c->userhash || strcmp(c->qop, "auth") != 0 || !c->cnonce[0] || !c->nc[0] || password == NULL)
    return false;
  char ha1[2 * EVP_MAX_MD_SIZE + 1], ha2[2 * EVP_MAX_MD_SIZE + 1], resp[2 * EVP_MAX_MD_SIZE + 1];
  const char *p1[] = { c->username, c->realm, password };
  if (!hash_hex(md, ha1, p1, 3))
    return false;
  if (sess) {
    const char *ps[] = { ha1, c->nonce, c->cnonce };
    char h[2 * EVP_MAX_MD_SIZE + 1];
    if (!hash_hex(md, h, ps, 3))
      return false;
    memcpy(ha1, h, sizeof h);
  }
  const char *p2[] = { method, c->uri };
  const char *p3[] = { ha1, c->nonce, c->nc, c->cnonce, c->qop, ha2 };
  if (!hash_hex(md, ha2, p2, 2) || !hash_hex(md, resp, p3, 6))
    return false;
  size_t n = strlen(resp);
  bool ok = strlen(c->response) == n && CRYPTO_memcmp(resp, c->response, n) == 0;
  OPENSSL_cleanse(ha1, sizeof ha1);
  return ok;
}
