/*
 * main.c - cdivas-ue, the UE side of MIKEY-TICKET for scripts and labs.
 *
 *   request  A asks the KMS for a ticket for B; prints TRANSFER_INIT (base64)
 *   resolve  C resolves the ticket from an INVITE (with the ID-AS and CDIV
 *            indication of a diverted INVITE); prints C's keys or the refusal
 *   respond  C builds TRANSFER_RESP for its 200 OK
 *   derive   A computes its keys for the responder named in TRANSFER_RESP
 *
 * Exit status: 0 done, 1 usage, 2 the KMS could not be reached or answered
 * with an HTTP error, 3 the KMS refused (MIKEY error), 4 bad input or a
 * cryptographic check failed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>
#include "http/client.h"
#include "mikey/key_mgmt.h"
#include "mikey/mikey_ticket.h"

enum { EXIT_USAGE = 1, EXIT_TRANSPORT = 2, EXIT_REFUSED = 3, EXIT_BAD = 4 };

struct options {
  const char *kms, *id, *psk_hex, *kms_id, *state, *key_mgmt, *cdiv, *id_as;
  const char *keys_file, *transfer_resp, *ca, *save_request;
  const char *to[8];
  size_t n_to;
  unsigned long csb;
};

static int die(int code, const char *fmt, const char *arg)
{
  fprintf(stderr, "cdivas-ue: ");
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  return code;
}

static uint64_t ntp_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return mk_ntp_from_unix((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

/* ---------------------------------------------------------------- encodings */

static int from_hex(const char *hex, unsigned char *out, size_t n)
{
  if (hex == NULL || strlen(hex) != 2 * n)
    return -1;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1)
      return -1;
    out[i] = (unsigned char)v;
  }
  return 0;
}

static void print_hex(FILE *f, const unsigned char *in, size_t n)
{
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%02x", in[i]);
}

static char *base64(const unsigned char *in, size_t n)
{
  char *out = malloc(4 * ((n + 2) / 3) + 1);
  if (out)
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
  return out;
}

/* Accepts "a=key-mgmt:mikey <b64>", "mikey <b64>" or the bare base64. */
static unsigned char *unbase64(const char *text, size_t *len)
{
  return cd_key_mgmt_decode(text, strlen(text), len);
}

static int write_file(const char *path, const void *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  if (f == NULL)
    return -1;
  int ok = fwrite(data, 1, len, f) == len;
  return fclose(f) == 0 && ok ? 0 : -1;
}

static unsigned char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  unsigned char *buf = malloc(65536);
  *len = buf ? fread(buf, 1, 65536, f) : 0;
  fclose(f);
  return buf;
}

static void print_keys(const struct mk_session_keys *k)
{
  printf("responder=%s csb_id=%u cs_id=%u tek=", k->responder, k->csb_id, k->cs_id);
  print_hex(stdout, k->tek, sizeof k->tek);
  printf(" salt=");
  print_hex(stdout, k->salt, sizeof k->salt);
  printf("\n");
}

/* ---------------------------------------------------------------- the KMS */

struct exchange_result {
  su_root_t *root;
  int status;
  unsigned char *body;
  size_t len;
  char why[128];
};

static void kms_answered(void *ctx, int status, const char *body, size_t len, const char *why)
{
  struct exchange_result *r = ctx;
  r->status = status;
  if (status == 200 && (r->body = malloc(len ? len : 1)) != NULL) {
    memcpy(r->body, body, len);
    r->len = len;
  }
  snprintf(r->why, sizeof r->why, "%s", why ? why : (status > 0 ? "HTTP error" : "error"));
  su_root_break(r->root);
}

/* POSTs a MIKEY message to the KMS; returns the answer or NULL (*code set). */
static unsigned char *ask_kms(const struct options *o, const unsigned char *msg, size_t len,
                              size_t *out_len, int *code)
{
  su_init();
  struct exchange_result r = { .root = su_root_create(NULL), .status = -1 };
  char url[512];
  snprintf(url, sizeof url, "%s/mikey", o->kms);
  struct cd_http_post post = { .url = url, .content_type = "application/mikey",
                               .body = msg, .body_len = len, .timeout_ms = 10000, .ca_file = o->ca };
  const char *why = NULL;
  if (r.root == NULL || cd_http_post_start(r.root, &post, kms_answered, &r, &why) < 0) {
    *code = die(EXIT_TRANSPORT, "cannot reach the KMS: %s", why ? why : "no event loop");
  } else {
    su_root_run(r.root);
    if (r.status != 200)
      *code = die(EXIT_TRANSPORT, "the KMS did not answer: %s", r.why);
  }
  if (r.root)
    su_root_destroy(r.root);
  su_deinit();
  *out_len = r.len;
  return r.body;
}

/* ---------------------------------------------------------------- commands */

static int cmd_request(const struct options *o)
{
  unsigned char psk[MK_PSK_LEN], rand1[MK_RAND_LEN], rand2[MK_RAND_LEN];
  if (!o->kms || !o->id || !o->kms_id || !o->state || o->n_to == 0 || from_hex(o->psk_hex, psk, sizeof psk) < 0)
    return die(EXIT_USAGE, "request needs --kms --id --psk (64 hex) --kms-id --to --state%s", "");
  RAND_bytes(rand1, sizeof rand1);
  RAND_bytes(rand2, sizeof rand2);
  uint32_t csb = o->csb ? (uint32_t)o->csb : ((uint32_t)rand1[0] << 24 | rand1[1] << 16 | rand1[2] << 8 | rand1[3]);
  unsigned char *req = NULL, *resp = NULL, *state = NULL, *ti = NULL;
  size_t req_len = 0, resp_len = 0, state_len = 0, ti_len = 0;
  const char *why = NULL;
  int code = 0;
  if (mk_request_init(o->id, psk, o->kms_id, o->to, o->n_to, csb, ntp_now(), rand1, &req, &req_len, &why) < 0)
    code = die(EXIT_BAD, "cannot build REQUEST_INIT: %s", why);
  else if ((resp = ask_kms(o, req, req_len, &resp_len, &code)) == NULL)
    ;
  else if (mk_request_resp(resp, resp_len, o->id, psk, req, req_len, &state, &state_len, &why) < 0)
    code = die(why && strstr(why, "error") ? EXIT_REFUSED : EXIT_BAD, "ticket request refused: %s", why);
  else if (mk_transfer_init(state, state_len, ntp_now(), rand2, &ti, &ti_len, &why) < 0)
    code = die(EXIT_BAD, "cannot build TRANSFER_INIT: %s", why);
  else if (write_file(o->state, state, state_len) < 0)
    code = die(EXIT_BAD, "cannot write the state file %s", o->state);
  else {
    /* The state keeps the TRANSFER_INIT too: derive needs the very bytes sent. */
    char *b64 = base64(ti, ti_len);
    printf("%s\n", b64 ? b64 : "");
    free(b64);
  }
  free(req); free(resp); free(state); free(ti);
  return code;
}

/* ID-AS from a P-CDIV-Indication value: <uri>;hi=... */
static int id_as_from_indication(const char *value, char *out, size_t n)
{
  const char *lt = strchr(value, '<'), *gt = lt ? strchr(lt, '>') : NULL;
  if (lt == NULL || gt == NULL || (size_t)(gt - lt - 1) >= n)
    return -1;
  memcpy(out, lt + 1, (size_t)(gt - lt - 1));
  out[gt - lt - 1] = '\0';
  return 0;
}

static int save_keys(const char *path, const struct mk_session_keys *k)
{
  return write_file(path, k, sizeof *k);
}

static int cmd_resolve(const struct options *o)
{
  unsigned char psk[MK_PSK_LEN], rand1[MK_RAND_LEN];
  if (!o->kms || !o->id || !o->key_mgmt || from_hex(o->psk_hex, psk, sizeof psk) < 0)
    return die(EXIT_USAGE, "resolve needs --kms --id --psk (64 hex) --key-mgmt%s", "");
  char id_as[256] = "";
  if (o->cdiv && id_as_from_indication(o->cdiv, id_as, sizeof id_as) < 0)
    return die(EXIT_USAGE, "--cdiv-indication must look like <sip:as>;hi=1.1, not '%s'", o->cdiv);
  if (o->id_as)
    snprintf(id_as, sizeof id_as, "%s", o->id_as);
  size_t ti_len = 0;
  unsigned char *ti = unbase64(o->key_mgmt, &ti_len);
  if (ti == NULL)
    return die(EXIT_BAD, "--key-mgmt is not base64 MIKEY: %s", o->key_mgmt);
  RAND_bytes(rand1, sizeof rand1);
  unsigned char *req = NULL, *resp = NULL;
  size_t req_len = 0, resp_len = 0;
  const char *why = NULL;
  int code = 0;
  struct mk_session_keys keys;
  if (mk_resolve_init(o->id, psk, ti, ti_len, id_as[0] ? id_as : NULL, id_as[0] != '\0',
                      ntp_now(), rand1, &req, &req_len, &why) < 0)
    code = die(EXIT_BAD, "cannot build RESOLVE_INIT: %s", why);
  else if (o->save_request && write_file(o->save_request, req, req_len) < 0)
    code = die(EXIT_BAD, "cannot write %s", o->save_request);
  else if ((resp = ask_kms(o, req, req_len, &resp_len, &code)) == NULL)
    ;
  else {
    int rc = mk_resolve_resp(resp, resp_len, o->id, psk, req, req_len, ti, ti_len, &keys, &why);
    if (rc == MK_E_REFUSED)
      code = die(EXIT_REFUSED, "the KMS refused to resolve the ticket: %s", why ? why : "refused");
    else if (rc < 0)
      code = die(EXIT_BAD, "invalid RESOLVE_RESP: %s", why);
    else {
      print_keys(&keys);
      if (o->keys_file && save_keys(o->keys_file, &keys) < 0)
        code = die(EXIT_BAD, "cannot write %s", o->keys_file);
    }
  }
  free(ti); free(req); free(resp);
  return code;
}

static int cmd_respond(const struct options *o)
{
  size_t len = 0, ti_len = 0;
  unsigned char *k = o->keys_file ? read_file(o->keys_file, &len) : NULL;
  unsigned char *ti = o->key_mgmt ? unbase64(o->key_mgmt, &ti_len) : NULL;
  int code = 0;
  if (k == NULL || len != sizeof(struct mk_session_keys) || ti == NULL)
    code = die(EXIT_USAGE, "respond needs --keys FILE (from resolve --keys-out) and --key-mgmt%s", "");
  else {
    struct mk_session_keys keys;
    memcpy(&keys, k, sizeof keys);
    unsigned char *out = NULL;
    size_t out_len = 0;
    const char *why = NULL;
    if (mk_transfer_resp(&keys, ti, ti_len, ntp_now(), &out, &out_len, &why) < 0)
      code = die(EXIT_BAD, "cannot build TRANSFER_RESP: %s", why);
    else {
      char *b64 = base64(out, out_len);
      printf("%s\n", b64 ? b64 : "");
      free(b64);
    }
    free(out);
  }
  free(k); free(ti);
  return code;
}

static int cmd_derive(const struct options *o)
{
  size_t state_len = 0, ti_len = 0, tr_len = 0;
  unsigned char *state = o->state ? read_file(o->state, &state_len) : NULL;
  unsigned char *ti = o->key_mgmt ? unbase64(o->key_mgmt, &ti_len) : NULL;
  unsigned char *tr = o->transfer_resp ? unbase64(o->transfer_resp, &tr_len) : NULL;
  int code = 0;
  struct mk_session_keys keys;
  const char *why = NULL;
  if (state == NULL || ti == NULL || tr == NULL)
    code = die(EXIT_USAGE, "derive needs --state FILE --key-mgmt B64 --transfer-resp B64%s", "");
  else if (mk_initiator_keys(state, state_len, ti, ti_len, tr, tr_len, &keys, &why) < 0)
    code = die(EXIT_BAD, "cannot derive the keys: %s", why);
  else
    print_keys(&keys);
  free(state); free(ti); free(tr);
  return code;
}

static void usage(FILE *f)
{
  fprintf(f,
    "Usage:\n"
    "  cdivas-ue request --kms URL --id URI --psk HEX --kms-id ID --to URI [--to URI] --state FILE\n"
    "  cdivas-ue resolve --kms URL --id URI --psk HEX --key-mgmt B64 [--cdiv-indication VALUE | --id-as URI]\n"
    "                    [--keys-out FILE] [--save-request FILE]\n"
    "  cdivas-ue respond --keys FILE --key-mgmt B64\n"
    "  cdivas-ue derive  --state FILE --key-mgmt B64 --transfer-resp B64\n"
    "Options: --ca FILE (https KMS), --csb N (request). Exit: 0 ok, 1 usage, 2 KMS unreachable,\n"
    "3 refused by the KMS, 4 bad input or failed check.\n");
}

int main(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "kms", required_argument, NULL, 'k' }, { "id", required_argument, NULL, 'i' },
    { "psk", required_argument, NULL, 'p' }, { "kms-id", required_argument, NULL, 'K' },
    { "to", required_argument, NULL, 't' }, { "state", required_argument, NULL, 's' },
    { "key-mgmt", required_argument, NULL, 'm' }, { "cdiv-indication", required_argument, NULL, 'c' },
    { "id-as", required_argument, NULL, 'a' }, { "keys-out", required_argument, NULL, 'o' },
    { "keys", required_argument, NULL, 'o' }, { "transfer-resp", required_argument, NULL, 'r' },
    { "ca", required_argument, NULL, 'C' }, { "csb", required_argument, NULL, 'b' },
    { "save-request", required_argument, NULL, 'S' },
    { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
  };
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  const char *cmd = argv[1];
  struct options o = {0};
  int opt;
  optind = 2;
  while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (opt) {
    case 'k': o.kms = optarg; break;
    case 'i': o.id = optarg; break;
    case 'p': o.psk_hex = optarg; break;
    case 'K': o.kms_id = optarg; break;
    case 't': if (o.n_to < 8) o.to[o.n_to++] = optarg; break;
    case 's': o.state = optarg; break;
    case 'm': o.key_mgmt = optarg; break;
    case 'c': o.cdiv = optarg; break;
    case 'a': o.id_as = optarg; break;
    case 'o': o.keys_file = optarg; break;
    case 'r': o.transfer_resp = optarg; break;
    case 'C': o.ca = optarg; break;
    case 'b': o.csb = strtoul(optarg, NULL, 10); break;
    case 'S': o.save_request = optarg; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return EXIT_USAGE;
    }
  }
  if (strcmp(cmd, "request") == 0) return cmd_request(&o);
  if (strcmp(cmd, "resolve") == 0) return cmd_resolve(&o);
  if (strcmp(cmd, "respond") == 0) return cmd_respond(&o);
  if (strcmp(cmd, "derive") == 0) return cmd_derive(&o);
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
    usage(stdout);
    return 0;
  }
  usage(stderr);
  return EXIT_USAGE;
}
