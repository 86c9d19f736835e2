/*
 * gen_mikey_corpus.c - writes the seed corpus of fuzz_mikey: the messages
 * of one real MIKEY-TICKET exchange (mikey_flow.h) and the sub-chains they
 * carry, one file each, into the directory given as argument.
 *
 * Regenerate the seeds whenever the codec or the exchange changes:
 *   sh tests/fuzz/build.sh . fuzz-build        (builds this tool too)
 *   fuzz-build/gen_mikey_corpus tests/fuzz/corpus/fuzz_mikey
 * The output is deterministic (fixed keys, randomness and times).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mikey/mikey.h"
#include "mikey/mikey_ticket.h"
#include "mikey_flow.h"

static int put(const char *dir, const char *name, const unsigned char *p, size_t len)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || (len && fwrite(p, 1, len, f) != len) || fclose(f) != 0) {
    perror(path);
    return -1;
  }
  printf("%s (%zu bytes)\n", path, len);
  return 0;
}

int main(int argc, char **argv)
{
  struct mikey_flow f;
  const char *why = NULL;
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const char *dir = argv[1];
  if (mf_build(&f, &why) != 0) {
    fprintf(stderr, "the exchange failed: %s\n", why ? why : "?");
    return 1;
  }
  int rc = 0;
  rc |= put(dir, "request_init", f.req.p, f.req.len);
  rc |= put(dir, "request_resp", f.resp.p, f.resp.len);
  rc |= put(dir, "transfer_init", f.ti.p, f.ti.len);
  rc |= put(dir, "resolve_init_b", f.ri_b.p, f.ri_b.len);
  rc |= put(dir, "resolve_resp_b", f.rr_b.p, f.rr_b.len);
  rc |= put(dir, "resolve_init_c_cdiv", f.ri_c.p, f.ri_c.len);
  rc |= put(dir, "resolve_resp_c", f.rr_c.p, f.rr_c.len);
  rc |= put(dir, "transfer_resp_c", f.tr_c.p, f.tr_c.len);
  rc |= put(dir, "error_auth", f.err.p, f.err.len);
  rc |= put(dir, "error_unauth", f.err_unauth.p, f.err_unauth.len);

  /* The sub-chains of the TRANSFER_INIT's TICKET and the REQUEST_RESP's
   * KEMAC, as fuzz_mikey also decodes the raw input as sub-chains. */
  struct mk_msg *m = malloc(sizeof *m);
  const struct mk_payload *tk = NULL, *kemac = NULL;
  if (!m || mk_decode(f.ti.p, f.ti.len, m, &why) != 0 || mk_find(&m->pl, MK_PT_TICKET, -1, &tk) != 1) {
    fprintf(stderr, "TRANSFER_INIT: %s\n", why ? why : "no TICKET");
    return 1;
  }
  rc |= put(dir, "sub_tp_data", tk->u.ticket.tp_data, tk->u.ticket.tp_len);
  rc |= put(dir, "sub_ticket_data", tk->u.ticket.ticket_data, tk->u.ticket.td_len);
  rc |= put(dir, "sub_initiator_data", tk->u.ticket.init_data, tk->u.ticket.id_len);
  if (mk_decode(f.resp.p, f.resp.len, m, &why) != 0 || mk_find(&m->pl, MK_PT_KEMAC, -1, &kemac) != 1) {
    fprintf(stderr, "REQUEST_RESP: %s\n", why ? why : "no KEMAC");
    return 1;
  }
  rc |= put(dir, "sub_kemac_encr", kemac->u.kemac.encr, kemac->u.kemac.encr_len);
  /* Plain key data sub-payloads (what a decrypted KEMAC holds). */
  {
    unsigned char key[32], salt[14], spi[4] = { 0, 0, 0, 1 };
    struct mk_enc e;
    unsigned char *out = NULL;
    size_t out_len = 0;
    mf_fill(key, sizeof key, 0x41);
    mf_fill(salt, sizeof salt, 0x42);
    mk_enc_init(&e);
    mk_enc_keydata(&e, MK_KD_TGK, MK_KV_NULL, key, sizeof key, NULL, 0, NULL, 0, NULL, 0);
    mk_enc_keydata(&e, MK_KD_TEK_SALT, MK_KV_SPI, key, sizeof key, salt, sizeof salt, spi,
                   sizeof spi, NULL, 0);
    mk_enc_keydata(&e, MK_KD_MPK, MK_KV_INTERVAL, key, 16, NULL, 0, spi, 4, spi, 4);
    if (mk_enc_finish(&e, &out, &out_len) != 0) {
      fprintf(stderr, "key data encoding failed\n");
      return 1;
    }
    rc |= put(dir, "sub_kemac_keydata", out, out_len);
    free(out);
  }
  free(m);
  mf_free(&f);
  return rc ? 1 : 0;
}
