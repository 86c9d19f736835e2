/*
 * fuzz_mikey.c - libFuzzer target for the MIKEY / MIKEY-TICKET code
 * (src/mikey/mikey.h, src/mikey/mikey_ticket.h).
 *
 * Every input (an exact-size heap copy, so AddressSanitizer sees a read
 * one byte past the end) goes to:
 *  - the codec: mk_decode() as a whole message, and as each kind of
 *    sub-chain (mk_decode_first_chain() in every context,
 *    mk_decode_chain() as decrypted KEMAC data, mk_decode_ticket_data());
 *    a decoded message or chain is walked into every nested sub-chain it
 *    carries (TP Data, Ticket Data, Initiator Data, KEMAC data) and
 *    queried with mk_find()/mk_count();
 *  - mk_ticket_hash() (what cdivas runs on the INVITE's TRANSFER_INIT);
 *  - the KMS entry points of a fixed test KMS: mk_kms_request() and
 *    mk_kms_resolve_open() (and mk_kms_resolve_finish() when it opened);
 *  - the UE side's parsers of what a peer or the KMS sends:
 *    mk_resolve_init() and mk_transfer_resp() on the input as a
 *    TRANSFER_INIT, mk_request_resp() as REQUEST_RESP, mk_resolve_resp()
 *    as RESOLVE_RESP, mk_initiator_keys() as TRANSFER_RESP, each against
 *    the fixed other half of one real exchange (mikey_flow.h).
 * Outputs are freed. The fixed time makes the seeds from
 * gen_mikey_corpus.c (the same exchange) valid, so their MACs verify and
 * the paths behind the MAC checks run for them; a mutated message
 * normally fails its MAC, which is the point of the MAC.
 *
 * Invariants (abort() when broken):
 *  - a decoded message or sub-chain re-encodes (mk_enc_* with the decoded
 *    header and each payload's raw bytes) to exactly the input bytes;
 *  - every decoded payload's raw bytes lie inside the decoded buffer, at
 *    its recorded offset;
 *  - a failing call gives a reason and a negative MK_E_* code; the KMS
 *    calls hand back an error message exactly when they fail.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mikey/mikey.h"
#include "mikey/mikey_ticket.h"
#include "mikey_flow.h"

static struct mikey_flow F;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  const char *why = NULL;
  if (mf_build(&F, &why) != 0) {
    fprintf(stderr, "fuzz_mikey: the fixed exchange failed: %s\n", why ? why : "?");
    abort();
  }
  return 0;
}

static void die(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz_mikey: invariant broken: %s (%s)\n", what, detail ? detail : "");
  abort();
}

/* ---------------------------------------------------------------- codec */

static void check_chain_bounds(const struct mk_chain *c, const unsigned char *buf, size_t len,
                               size_t base)
{
  if (c->n > MK_MAX_PAYLOADS)
    die("chain longer than MK_MAX_PAYLOADS", NULL);
  for (size_t i = 0; i < c->n; i++) {
    const struct mk_payload *p = &c->p[i];
    if (p->raw < buf || p->len == 0 || p->len > len || (size_t)(p->raw - buf) > len - p->len)
      die("payload raw bytes outside the buffer", NULL);
    if (p->off != base + (size_t)(p->raw - buf))
      die("payload offset does not match its raw bytes", NULL);
  }
}

/* Re-encodes a chain from its raw payloads after `prefix` bytes written
 * by the caller's encoder and compares with `want`. */
static void check_reencode(struct mk_enc *e, const struct mk_chain *c, const unsigned char *want,
                           size_t want_len, const char *what)
{
  unsigned char *out = NULL;
  size_t out_len = 0;
  for (size_t i = 0; i < c->n; i++)
    mk_enc_raw(e, c->p[i].type, c->p[i].raw, c->p[i].len);
  if (mk_enc_finish(e, &out, &out_len) != 0)
    die("re-encoding failed", what);
  if (out_len != want_len || memcmp(out, want, want_len) != 0)
    die("re-encoding differs from the input", what);
  free(out);
}

static void walk_chain(const struct mk_chain *c, int depth);

static void walk_first_chain(const unsigned char *buf, size_t len, enum mk_ctx ctx, int depth,
                             const char *what)
{
  struct mk_chain *sub = malloc(sizeof *sub);
  const char *why = NULL;
  if (!sub)
    return;
  if (mk_decode_first_chain(buf, len, ctx, 100, sub, &why) == 0) {
    check_chain_bounds(sub, buf, len, 100);
    if (len > 0) {
      struct mk_enc e;
      mk_enc_init(&e);
      mk_enc_first(&e);
      check_reencode(&e, sub, buf, len, what);
    } else if (sub->n != 0) {
      die("empty first-chain with payloads", what);
    }
    walk_chain(sub, depth + 1);
  } else if (why == NULL) {
    die("sub-chain failed without a reason", what);
  }
  free(sub);
}

static void walk_kemac_data(const unsigned char *buf, size_t len, int depth)
{
  struct mk_chain *sub = malloc(sizeof *sub);
  const char *why = NULL;
  if (!sub)
    return;
  if (mk_decode_chain(buf, len, MK_PT_KEYDATA, MK_CTX_KEMAC_DATA, 7, sub, &why) == 0) {
    check_chain_bounds(sub, buf, len, 7);
    if (len > 0) {
      struct mk_enc e;
      mk_enc_init(&e);
      check_reencode(&e, sub, buf, len, "KEMAC data");
    }
    walk_chain(sub, depth + 1);
  } else if (why == NULL) {
    die("KEMAC data failed without a reason", NULL);
  }
  free(sub);
}

static void walk_ticket_data(const unsigned char *buf, size_t len, int depth)
{
  struct mk_chain *sub = malloc(sizeof *sub);
  struct mk_payload thdr;
  const char *why = NULL;
  if (!sub)
    return;
  if (mk_decode_ticket_data(buf, len, 3, &thdr, sub, &why) == 0) {
    check_chain_bounds(sub, buf, len, 3);
    struct mk_enc e;
    mk_enc_init(&e);
    mk_enc_thdr(&e, thdr.u.thdr.data, thdr.u.thdr.len);
    check_reencode(&e, sub, buf, len, "ticket data");
    walk_chain(sub, depth + 1);
  } else if (why == NULL) {
    die("ticket data failed without a reason", NULL);
  }
  free(sub);
}

/* Descends into every sub-chain a chain carries, and queries it. */
static void walk_chain(const struct mk_chain *c, int depth)
{
  static const uint16_t types[] = { MK_PT_KEMAC, MK_PT_T, MK_PT_V, MK_PT_SP, MK_PT_RAND,
                                    MK_PT_ERR, MK_PT_TR, MK_PT_IDR, MK_PT_RANDR, MK_PT_TP,
                                    MK_PT_TICKET, MK_PT_KEYDATA, MK_PT_EXT };
  for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
    const struct mk_payload *found = NULL;
    size_t n = mk_count(c, types[i], -1);
    int rc = mk_find(c, types[i], -1, &found);
    if ((n == 0 && rc != 0) || (n == 1 && (rc != 1 || !found)) || (n > 1 && rc != MK_DEC_ERR))
      die("mk_find disagrees with mk_count", NULL);
    for (int role = 0; role < 6; role++)
      (void)mk_count(c, types[i], role);
  }
  if (depth >= 4)
    return;
  for (size_t i = 0; i < c->n; i++) {
    const struct mk_payload *p = &c->p[i];
    switch (p->type) {
    case MK_PT_KEMAC:
      walk_kemac_data(p->u.kemac.encr, p->u.kemac.encr_len, depth);
      break;
    case MK_PT_TP:
    case MK_PT_TICKET:
      walk_first_chain(p->u.ticket.tp_data, p->u.ticket.tp_len, MK_CTX_TP_DATA, depth,
                       "TP data");
      if (p->type == MK_PT_TICKET) {
        if (p->u.ticket.td_len > 0)
          walk_ticket_data(p->u.ticket.ticket_data, p->u.ticket.td_len, depth);
        walk_first_chain(p->u.ticket.init_data, p->u.ticket.id_len, MK_CTX_INIT_DATA, depth,
                         "initiator data");
      }
      break;
    default:
      break;
    }
  }
}

static void fuzz_codec(const unsigned char *buf, size_t len)
{
  struct mk_msg *m = malloc(sizeof *m);
  const char *why = NULL;
  if (!m)
    return;
  if (mk_decode(buf, len, m, &why) == 0) {
    if (m->buf != buf || m->len != len || m->hdr_len == 0 || m->hdr_len > len)
      die("decoded message does not describe its buffer", NULL);
    check_chain_bounds(&m->pl, buf, len, 0);
    struct mk_enc e;
    mk_enc_init(&e);
    mk_enc_hdr(&e, &m->hdr);
    check_reencode(&e, &m->pl, buf, len, "message");
    walk_chain(&m->pl, 0);
  } else if (why == NULL) {
    die("mk_decode failed without a reason", NULL);
  }
  free(m);

  /* The input as each kind of sub-chain. */
  static const enum mk_ctx ctxs[] = { MK_CTX_MSG, MK_CTX_TP_DATA, MK_CTX_TICKET_DATA,
                                      MK_CTX_INIT_DATA, MK_CTX_KEMAC_DATA };
  for (size_t i = 0; i < sizeof ctxs / sizeof *ctxs; i++)
    walk_first_chain(buf, len, ctxs[i], 1, "input as a first-chain");
  walk_kemac_data(buf, len, 1);
  walk_ticket_data(buf, len, 1);
}

/* ---------------------------------------------------------------- exchanges */

static void check_rc(int rc, const char *why, const char *what)
{
  if (rc > 0 || rc < MK_E_REFUSED)
    die("return code out of range", what);
  if (rc != MK_OK && why == NULL)
    die("failure without a reason", what);
}

static void fuzz_kms(const unsigned char *buf, size_t len)
{
  unsigned char rand_tgk[64], rand[MK_RAND_LEN];
  unsigned char *out = NULL;
  size_t out_len = 0;
  const char *why = NULL;
  mf_fill(rand_tgk, sizeof rand_tgk, 0x5C);
  mf_fill(rand, sizeof rand, 0x2F);

  /* KMS: REQUEST_INIT -> REQUEST_RESP or an error message. */
  int rc = mk_kms_request(&F.kms, buf, len, F.now + MF_SEC(1), rand_tgk, &out, &out_len, &why);
  check_rc(rc, why, "mk_kms_request");
  if (rc != MK_E_NOMEM && out == NULL)
    die("mk_kms_request gave no message to send", why);
  if (out)
    fuzz_codec(out, out_len);        /* what the KMS sends must decode */
  free(out);
  out = NULL;

  /* KMS: RESOLVE_INIT -> open (and finish when it opened). */
  struct mk_resolve_request req;
  why = NULL;
  rc = mk_kms_resolve_open(&F.kms, buf, len, F.now + MF_SEC(5), &req, &out, &out_len, &why);
  check_rc(rc, why, "mk_kms_resolve_open");
  if (rc == MK_OK && out != NULL)
    die("mk_kms_resolve_open succeeded with an error message", NULL);
  if (rc != MK_OK && rc != MK_E_NOMEM && out == NULL)
    die("mk_kms_resolve_open failed without an error message", why);
  free(out);
  out = NULL;
  if (rc == MK_OK) {
    if (memchr(req.requester, '\0', sizeof req.requester) == NULL ||
        memchr(req.initiator, '\0', sizeof req.initiator) == NULL ||
        memchr(req.id_as, '\0', sizeof req.id_as) == NULL || req.n_recipients > 8)
      die("resolve request not terminated", NULL);
    why = NULL;
    rc = mk_kms_resolve_finish(&F.kms, buf, len, &req, len & 1, F.now + MF_SEC(5), rand, &out,
                               &out_len, &why);
    check_rc(rc, why, "mk_kms_resolve_finish");
    if (out)
      fuzz_codec(out, out_len);
    free(out);
    out = NULL;
  }

  /* cdivas: the ticket hash of a TRANSFER_INIT. */
  unsigned char hash[32];
  why = NULL;
  check_rc(mk_ticket_hash(buf, len, hash, &why), why, "mk_ticket_hash");
}

static void fuzz_ue(const unsigned char *buf, size_t len)
{
  unsigned char rand[MK_RAND_LEN], *out = NULL, *state = NULL;
  size_t out_len = 0, state_len = 0;
  struct mk_session_keys keys;
  const char *why = NULL;
  int rc;
  mf_fill(rand, sizeof rand, 0xD0);

  /* C: the input as the TRANSFER_INIT in an INVITE's SDP. */
  rc = mk_resolve_init(MF_ID_C, F.psk_c, buf, len, MF_ID_AS, true, F.now + MF_SEC(4), rand,
                       &out, &out_len, &why);
  check_rc(rc, why, "mk_resolve_init");
  free(out);
  out = NULL;
  why = NULL;
  rc = mk_transfer_resp(&F.keys_c, buf, len, F.now + MF_SEC(6), &out, &out_len, &why);
  check_rc(rc, why, "mk_transfer_resp");
  free(out);
  out = NULL;

  /* A: the input as the KMS's REQUEST_RESP. */
  why = NULL;
  rc = mk_request_resp(buf, len, MF_ID_A, F.psk_a, F.req.p, F.req.len, &state, &state_len, &why);
  check_rc(rc, why, "mk_request_resp");
  free(state);

  /* C: the input as the KMS's RESOLVE_RESP. */
  why = NULL;
  rc = mk_resolve_resp(buf, len, MF_ID_C, F.psk_c, F.ri_c.p, F.ri_c.len, F.ti.p, F.ti.len, &keys,
                       &why);
  check_rc(rc, why, "mk_resolve_resp");

  /* A: the input as C's TRANSFER_RESP in the 200 OK. */
  why = NULL;
  rc = mk_initiator_keys(F.state.p, F.state.len, F.ti.p, F.ti.len, buf, len, &keys, &why);
  check_rc(rc, why, "mk_initiator_keys");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  unsigned char *buf = malloc(size ? size : 1);
  if (!buf)
    return 0;
  if (size)
    memcpy(buf, data, size);
  fuzz_codec(buf, size);
  fuzz_kms(buf, size);
  fuzz_ue(buf, size);
  free(buf);
  return 0;
}
