/*
 * key_mgmt.c - a=key-mgmt:mikey lines (see key_mgmt.h).
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "mikey/key_mgmt.h"
#include "mikey/mikey_ticket.h"

unsigned char *cd_key_mgmt_decode(const char *text, size_t len, size_t *out_len)
{
  const char *end = text + len, *p = text;
  const char *m = memmem(text, len, "mikey", 5);
  if (m)
    p = m + 5;
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  size_t n = 0;
  while (p + n < end && p[n] != ' ' && p[n] != '\t' && p[n] != '\r' && p[n] != '\n')
    n++;
  if (n < 4 || n % 4 || n > 65536)
    return NULL;
  unsigned char *out = malloc(n / 4 * 3 + 1);
  if (out == NULL)
    return NULL;
  int got = EVP_DecodeBlock(out, (const unsigned char *)p, (int)n);
  if (got < 0) {
    free(out);
    return NULL;
  }
  *out_len = (size_t)got - (p[n - 1] == '=') - (p[n - 2] == '=');
  return out;
}

int cd_key_mgmt_ticket_hash(const char *sdp, size_t len, char hex[65])
{
  static const char attr[] = "a=key-mgmt:mikey";
  const char *end = sdp + len;
  for (const char *p = sdp; p < end; ) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    size_t line = eol ? (size_t)(eol - p) : (size_t)(end - p);
    if (line > sizeof attr - 1 && memcmp(p, attr, sizeof attr - 1) == 0) {
      size_t msg_len = 0;
      unsigned char *msg = cd_key_mgmt_decode(p, line, &msg_len);
      unsigned char hash[32];
      int rc = msg ? mk_ticket_hash(msg, msg_len, hash, NULL) : -1;
      free(msg);
      if (rc < 0)
        return -1;
      for (size_t i = 0; i < 32; i++) {
        static const char digits[] = "0123456789abcdef";
        hex[2 * i] = digits[hash[i] >> 4];
        hex[2 * i + 1] = digits[hash[i] & 15];
      }
      hex[64] = '\0';
      return 0;
    }
    p = eol ? eol + 1 : end;
  }
  return -1;
}
