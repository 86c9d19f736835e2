/*
 * mikey_flow.h - one deterministic MIKEY-TICKET secure-diversion exchange
 * (the same parties, keys, randomness and times as
 * tests/unit/mikey/check_mikey_ticket.c), shared by fuzz_mikey.c (which keeps
 * the messages as fixed counterparts for the fuzzed one) and
 * gen_mikey_corpus.c (which writes them out as seeds).
 *
 * A asks the KMS for a ticket for B, sends TRANSFER_INIT; B resolves it;
 * the call is diverted and C resolves it with ID-AS + CDIV; C answers with
 * TRANSFER_RESP; a second RESOLVE_INIT from C is denied (an authenticated
 * MIKEY error message). Header-only (static functions) so each program
 * that includes it stays one translation unit of its own.
 */
#ifndef CDIVAS_FUZZ_MIKEY_FLOW_H
#define CDIVAS_FUZZ_MIKEY_FLOW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mikey/mikey.h"
#include "mikey/mikey_ticket.h"

#define MF_ID_A "sip:alice@example.com"
#define MF_ID_B "sip:bob@example.com"
#define MF_ID_C "sip:carol@example.com"
#define MF_ID_AS "sip:cdiv-as.example.com;lr"
#define MF_ID_KMS "kms.example.com"
#define MF_SEC(s) ((uint64_t)(s) << 32)
#define MF_CSB 0x01020304u

struct mf_buf {
  unsigned char *p;
  size_t len;
};

struct mikey_flow {
  unsigned char psk_a[MK_PSK_LEN], psk_b[MK_PSK_LEN], psk_c[MK_PSK_LEN];
  uint64_t now;                 /* A's REQUEST_INIT time; KMS times follow it */
  struct mk_kms kms;
  struct mf_buf req;            /* REQUEST_INIT_PSK   A -> KMS */
  struct mf_buf resp;           /* REQUEST_RESP       KMS -> A */
  struct mf_buf state;          /* A's state (not a MIKEY message) */
  struct mf_buf ti;             /* TRANSFER_INIT      A -> B/C */
  struct mf_buf ri_b, rr_b;     /* RESOLVE_INIT/RESP  B <-> KMS */
  struct mf_buf ri_c, rr_c;     /* RESOLVE_INIT/RESP  C <-> KMS, diverted */
  struct mf_buf tr_c;           /* TRANSFER_RESP      C -> A */
  struct mf_buf ri_deny, err;   /* RESOLVE_INIT from C that the KMS denies, its error */
  struct mf_buf err_unauth;     /* unauthenticated error (unknown user) */
  struct mk_resolve_request req_c;
  struct mk_session_keys keys_c;
};

static void mf_fill(unsigned char *p, size_t n, unsigned char seed)
{
  for (size_t i = 0; i < n; i++)
    p[i] = (unsigned char)(seed + 7 * i);
}

static bool mf_lookup(void *ctx, const char *id, unsigned char psk[MK_PSK_LEN])
{
  const struct mikey_flow *f = ctx;
  const unsigned char *k = strcmp(id, MF_ID_A) == 0 ? f->psk_a
                         : strcmp(id, MF_ID_B) == 0 ? f->psk_b
                         : strcmp(id, MF_ID_C) == 0 ? f->psk_c : NULL;
  if (k)
    memcpy(psk, k, MK_PSK_LEN);
  return k != NULL;
}

static void mf_free(struct mikey_flow *f)
{
  struct mf_buf *all[] = { &f->req, &f->resp, &f->state, &f->ti, &f->ri_b, &f->rr_b,
                           &f->ri_c, &f->rr_c, &f->tr_c, &f->ri_deny, &f->err,
                           &f->err_unauth };
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
    free(all[i]->p);
    all[i]->p = NULL;
    all[i]->len = 0;
  }
}

/* Sets up the KMS and runs the exchange. 0, or -1 with *why. */
static int mf_build(struct mikey_flow *f, const char **why)
{
  const char *recipients[] = { MF_ID_B };
  unsigned char rand_a[MK_RAND_LEN], rand_tgk[64], rand_ti[MK_RAND_LEN];
  unsigned char rand_b[MK_RAND_LEN], rand_c[MK_RAND_LEN], rand_d[MK_RAND_LEN];
  unsigned char rand_kms[MK_RAND_LEN], bad_psk[MK_PSK_LEN];
  struct mk_resolve_request req_b, req_d;
  struct mk_session_keys keys_b;
  struct mf_buf none = { NULL, 0 };
  memset(f, 0, sizeof *f);
  mf_fill(f->psk_a, MK_PSK_LEN, 0x11);
  mf_fill(f->psk_b, MK_PSK_LEN, 0x22);
  mf_fill(f->psk_c, MK_PSK_LEN, 0x33);
  f->now = mk_ntp_from_unix(1700000000.25);
  f->kms.id = MF_ID_KMS;
  mf_fill(f->kms.ticket_key, MK_PSK_LEN, 0x77);
  f->kms.lookup = mf_lookup;
  f->kms.lookup_ctx = f;
  f->kms.ticket_lifetime = MF_SEC(3600);
  f->kms.window = MF_SEC(30);
  mf_fill(rand_a, sizeof rand_a, 0xA0);
  mf_fill(rand_tgk, sizeof rand_tgk, 0x5C);
  mf_fill(rand_ti, sizeof rand_ti, 0xB1);
  mf_fill(rand_b, sizeof rand_b, 0xC0);
  mf_fill(rand_c, sizeof rand_c, 0xD0);
  mf_fill(rand_d, sizeof rand_d, 0xD1);
  mf_fill(rand_kms, sizeof rand_kms, 0x2F);
  mf_fill(bad_psk, sizeof bad_psk, 0x99);
  uint64_t t = f->now;
  if (mk_request_init(MF_ID_A, f->psk_a, MF_ID_KMS, recipients, 1, MF_CSB, t, rand_a,
                      &f->req.p, &f->req.len, why) != MK_OK
      || mk_kms_request(&f->kms, f->req.p, f->req.len, t + MF_SEC(1), rand_tgk, &f->resp.p,
                        &f->resp.len, why) != MK_OK
      || mk_request_resp(f->resp.p, f->resp.len, MF_ID_A, f->psk_a, f->req.p, f->req.len,
                         &f->state.p, &f->state.len, why) != MK_OK
      || mk_transfer_init(f->state.p, f->state.len, t + MF_SEC(2), rand_ti, &f->ti.p,
                          &f->ti.len, why) != MK_OK
      /* B, the intended responder */
      || mk_resolve_init(MF_ID_B, f->psk_b, f->ti.p, f->ti.len, NULL, false, t + MF_SEC(3),
                         rand_b, &f->ri_b.p, &f->ri_b.len, why) != MK_OK
      || mk_kms_resolve_open(&f->kms, f->ri_b.p, f->ri_b.len, t + MF_SEC(4), &req_b, &none.p,
                             &none.len, why) != MK_OK
      || mk_kms_resolve_finish(&f->kms, f->ri_b.p, f->ri_b.len, &req_b, true, t + MF_SEC(4),
                               rand_kms, &f->rr_b.p, &f->rr_b.len, why) != MK_OK
      || mk_resolve_resp(f->rr_b.p, f->rr_b.len, MF_ID_B, f->psk_b, f->ri_b.p, f->ri_b.len,
                         f->ti.p, f->ti.len, &keys_b, why) != MK_OK
      /* C, after the diversion: ID-AS and the CDIV indication */
      || mk_resolve_init(MF_ID_C, f->psk_c, f->ti.p, f->ti.len, MF_ID_AS, true, t + MF_SEC(4),
                         rand_c, &f->ri_c.p, &f->ri_c.len, why) != MK_OK
      || mk_kms_resolve_open(&f->kms, f->ri_c.p, f->ri_c.len, t + MF_SEC(5), &f->req_c,
                             &none.p, &none.len, why) != MK_OK
      || mk_kms_resolve_finish(&f->kms, f->ri_c.p, f->ri_c.len, &f->req_c, true, t + MF_SEC(5),
                               rand_kms, &f->rr_c.p, &f->rr_c.len, why) != MK_OK
      || mk_resolve_resp(f->rr_c.p, f->rr_c.len, MF_ID_C, f->psk_c, f->ri_c.p, f->ri_c.len,
                         f->ti.p, f->ti.len, &f->keys_c, why) != MK_OK
      || mk_transfer_resp(&f->keys_c, f->ti.p, f->ti.len, t + MF_SEC(6), &f->tr_c.p,
                          &f->tr_c.len, why) != MK_OK
      /* a RESOLVE_INIT the KMS denies: an authenticated error message */
      || mk_resolve_init(MF_ID_C, f->psk_c, f->ti.p, f->ti.len, MF_ID_AS, true, t + MF_SEC(4),
                         rand_d, &f->ri_deny.p, &f->ri_deny.len, why) != MK_OK
      || mk_kms_resolve_open(&f->kms, f->ri_deny.p, f->ri_deny.len, t + MF_SEC(5), &req_d,
                             &none.p, &none.len, why) != MK_OK
      || mk_kms_resolve_finish(&f->kms, f->ri_deny.p, f->ri_deny.len, &req_d, false,
                               t + MF_SEC(5), rand_kms, &f->err.p, &f->err.len, why)
             != MK_E_NOT_ALLOWED
      || f->err.p == NULL) {
    free(none.p);
    mf_free(f);
    return -1;
  }
  /* an unauthenticated error: a REQUEST_INIT under the wrong PSK */
  struct mf_buf bad_req = { NULL, 0 };
  if (mk_request_init(MF_ID_A, bad_psk, MF_ID_KMS, recipients, 1, MF_CSB, t, rand_a, &bad_req.p,
                      &bad_req.len, why) != MK_OK
      || mk_kms_request(&f->kms, bad_req.p, bad_req.len, t + MF_SEC(1), rand_tgk,
                        &f->err_unauth.p, &f->err_unauth.len, why) != MK_E_AUTH
      || f->err_unauth.p == NULL) {
    free(bad_req.p);
    mf_free(f);
    return -1;
  }
  free(bad_req.p);
  *why = NULL;
  return 0;
}

#endif
