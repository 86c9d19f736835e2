/*
 * main.c - cdivas-kms, the reference Key Management Server for
 * MIKEY-TICKET (RFC 6043 mode 1, PSK) with secure communication diversion.
 *
 * UEs POST application/mikey messages to /mikey: REQUEST_INIT_PSK gets a
 * ticket (REQUEST_RESP); RESOLVE_INIT_PSK gets the keys (RESOLVE_RESP) or a
 * MIKEY error. A requester that is not among the ticket's recipients is
 * resolved only when the RESOLVE_INIT names an ID-AS with the CDIV
 * indication, that AS is in this KMS's own conf, and the AS's inquiry
 * endpoint answers "permit" (doc/inquiry-api.md) within inquiry_timeout.
 * Any other outcome, a timeout included, is a refusal: it fails closed.
 * Everything runs in one su_root; the HTTP answer to a resolve waits for
 * the AS without blocking anything else.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <jansson.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>
#include "http/client.h"
#include "http/server.h"
#include "core/identity.h"
#include "core/inquiry_auth.h"
#include "kms/kms_conf.h"
#include "log/log.h"
#include "mikey/mikey_ticket.h"

#define MIKEY_BODY_MAX 16384
#define REPLAY_CAPACITY 1000000
#define TYPE_REQUEST_INIT_PSK 11
#define TYPE_RESOLVE_INIT_PSK 16

struct kms {
  struct kms_conf *conf;
  su_root_t *root;
  struct cd_http_server *server;
  struct cd_replay_cache *replays;
  struct mk_kms mk;
  su_wait_t signal_wait[1];
  int signal_fd;
  struct {                 /* GET /metrics */
    unsigned long tickets_issued, tickets_refused, keys_sent, resolves_refused;
    unsigned long inquiries_permit, inquiries_deny, inquiries_failed;
  } stats;
};

/* A resolve waiting for the AS's verdict. */
struct pending_resolve {
  struct kms *kms;
  struct cd_http_request *req;
  unsigned char *message;
  size_t len;
  struct mk_resolve_request rr;
  char inquiry_id[33];
  char *inquiry_body;
};

static uint64_t ntp_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return mk_ntp_from_unix((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

static struct cd_http_reply mikey_reply(unsigned char *body, size_t len)
{
  struct cd_http_reply r = { 200, "OK", "application/mikey", body, len, NULL, NULL };
  return r;
}

static bool psk_of(void *ctx, const char *id, unsigned char psk[MK_PSK_LEN])
{
  struct kms *k = ctx;
  char key[CD_IDENTITY_KEY_MAX];
  const struct kms_user *u = cd_identity_key(id, key, NULL) == 0 ? kms_conf_user(k->conf, key) : NULL;
  if (u)
    memcpy(psk, u->psk, MK_PSK_LEN);
  return u != NULL;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
  for (size_t i = 0; i < n; i++)
    sprintf(out + 2 * i, "%02x", in[i]);
}

/* ---------------------------------------------------------------- resolve */

static struct cd_http_reply finish_resolve(struct kms *k, const unsigned char *msg, size_t len,
                                           const struct mk_resolve_request *rr, bool permit,
                                           const char *how)
{
  unsigned char rand[MK_RAND_LEN];
  RAND_bytes(rand, sizeof rand);
  unsigned char *out = NULL;
  size_t out_len = 0;
  const char *why = NULL;
  mk_kms_resolve_finish(&k->mk, msg, len, rr, permit, ntp_now(), rand, &out, &out_len, &why);
  if (permit && out)
    k->stats.keys_sent++;
  else
    k->stats.resolves_refused++;
  cd_log(CD_LOG_INFO, "resolve by %s of a ticket from %s for %s: %s (%s)", rr->requester,
         rr->initiator, rr->n_recipients ? rr->recipients[0] : "-",
         permit ? "keys sent" : "refused", how);
  if (out == NULL)
    return cd_http_json_error(500, "Internal Server Error", why ? why : "cannot build the answer");
  return mikey_reply(out, out_len);
}

static void pending_free(struct pending_resolve *p)
{
  free(p->message);
  free(p->inquiry_body);
  free(p);
}

static void inquiry_answered(void *ctx, int status, const char *body, size_t len, const char *why)
{
  struct pending_resolve *p = ctx;
  bool permit = false;
  char how[600];
  if (status == 200) {
    json_error_t err;
    json_t *j = json_loadb(body, len, 0, &err);
    const char *verdict = j ? json_string_value(json_object_get(j, "verdict")) : NULL;
    const char *id = j ? json_string_value(json_object_get(j, "inquiry_id")) : NULL;
    /* The answer must be to this inquiry, and say permit, nothing else. */
    permit = verdict && id && strcmp(id, p->inquiry_id) == 0 && strcmp(verdict, "permit") == 0;
    if (permit)
      p->kms->stats.inquiries_permit++;
    else
      p->kms->stats.inquiries_deny++;
    snprintf(how, sizeof how, "AS %s said %s", p->rr.id_as, verdict ? verdict : "nothing usable");
    json_decref(j);
  } else {
    p->kms->stats.inquiries_failed++;
    snprintf(how, sizeof how, "inquiry to AS %s failed: %s", p->rr.id_as,
             status < 0 ? (why ? why : "error") : "HTTP error");
    if (status > 0)
      snprintf(how, sizeof how, "inquiry to AS %s answered HTTP %d", p->rr.id_as, status);
  }
  cd_http_respond(p->req, finish_resolve(p->kms, p->message, p->len, &p->rr, permit, how));
  pending_free(p);
}

/* Asks the AS named in the resolve whether the requester really is where
 * the intended recipient's call went. Returns status 0 (answer later) or
 * an immediate refusal. */
static struct cd_http_reply ask_as(struct kms *k, struct cd_http_request *req,
                                   const unsigned char *msg, size_t len,
                                   const struct mk_resolve_request *rr, const struct kms_as *as)
{
  struct pending_resolve *p = calloc(1, sizeof *p);
  if (p == NULL || (p->message = malloc(len)) == NULL) {
    free(p);
    return finish_resolve(k, msg, len, rr, false, "out of memory");
  }
  p->kms = k;
  p->req = req;
  memcpy(p->message, msg, len);
  p->len = len;
  p->rr = *rr;
  unsigned char nonce[16];
  RAND_bytes(nonce, sizeof nonce);
  hex(nonce, sizeof nonce, p->inquiry_id);
  char ticket_hash[65];
  hex(rr->ticket_hash, 32, ticket_hash);
  long long ts = (long long)time(NULL);
  json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s}",
                        "inquiry_id", p->inquiry_id, "timestamp", (json_int_t)ts,
                        "kms", k->conf->id, "initiator", rr->initiator,
                        "intended", rr->n_recipients ? rr->recipients[0] : "",
                        "requester", rr->requester, "as", rr->id_as, "ticket_hash", ticket_hash);
  p->inquiry_body = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  if (p->inquiry_body == NULL) {
    pending_free(p);
    return finish_resolve(k, msg, len, rr, false, "cannot build the inquiry");
  }
  unsigned char sig[CD_AUTH_SIG_LEN];
  cd_auth_sign(as->hmac_key, ts, p->inquiry_body, strlen(p->inquiry_body), sig);
  char sig64[64], auth[256];
  cd_auth_sig_base64(sig, sig64);
  snprintf(auth, sizeof auth, "Authorization: CDIV-HMAC-SHA256 kms=\"%s\", sig=\"%s\"",
           k->conf->id, sig64);
  const char *headers[] = { auth, NULL };
  char url[512];
  snprintf(url, sizeof url, "%s/cdiv/v1/inquiry", as->inquiry_url);
  struct cd_http_post post = {
    .url = url, .content_type = "application/json", .headers = headers,
    .body = p->inquiry_body, .body_len = strlen(p->inquiry_body),
    .timeout_ms = k->conf->inquiry_timeout * 1000,
    .ca_file = as->tls_ca, .certificate = as->tls_certificate, .key = as->tls_key,
  };
  const char *why = NULL;
  cd_log(CD_LOG_INFO, "inquiry %s to %s: may %s resolve %s's ticket for %s?", p->inquiry_id,
         as->identity, rr->requester, rr->initiator, rr->n_recipients ? rr->recipients[0] : "-");
  if (cd_http_post_start(k->root, &post, inquiry_answered, p, &why) < 0) {
    struct cd_http_reply r = finish_resolve(k, msg, len, rr, false, why);
    pending_free(p);
    return r;
  }
  struct cd_http_reply later = { 0, NULL, NULL, NULL, 0, NULL, NULL };
  return later;
}

static struct cd_http_reply resolve(struct kms *k, struct cd_http_request *req,
                                    const unsigned char *msg, size_t len)
{
  struct mk_resolve_request rr;
  unsigned char *out = NULL;
  size_t out_len = 0;
  const char *why = NULL;
  int rc = mk_kms_resolve_open(&k->mk, msg, len, ntp_now(), &rr, &out, &out_len, &why);
  if (rc < 0) {
    cd_log(CD_LOG_NOTICE, "resolve refused: %s", why ? why : "invalid");
    if (out)
      return mikey_reply(out, out_len);
    return cd_http_json_error(400, "Bad Request", why ? why : "not a RESOLVE_INIT_PSK");
  }
  char tag[65];
  hex(rr.replay_tag, sizeof rr.replay_tag, tag);
  if (cd_replay_check(k->replays, "resolve", tag, (long)time(NULL)) != 0)
    return finish_resolve(k, msg, len, &rr, false, "replayed RESOLVE_INIT");
  if (rr.requester_allowed)
    return finish_resolve(k, msg, len, &rr, true, "requester is an allowed recipient");
  if (!rr.cdiv || rr.id_as[0] == '\0')
    return finish_resolve(k, msg, len, &rr, false, "not a recipient, no diversion indicated");
  char as_key[CD_IDENTITY_KEY_MAX];
  const struct kms_as *as =
    cd_identity_key(rr.id_as, as_key, NULL) == 0 ? kms_conf_as(k->conf, as_key) : NULL;
  if (as == NULL)
    /* Never an address the requester supplied: only ASes of our own conf. */
    return finish_resolve(k, msg, len, &rr, false, "ID-AS not in this KMS's conf: no inquiry");
  return ask_as(k, req, msg, len, &rr, as);
}

/* ---------------------------------------------------------------- requests */

/* GET /metrics: Prometheus text format 0.0.4 (doc/cdivas-kms.8). */
static struct cd_http_reply metrics(const struct kms *k)
{
  char *text = NULL;
  int n = asprintf(&text,
    "# HELP cdivas_kms_tickets_total Ticket requests (REQUEST_INIT_PSK), by result.\n"
    "# TYPE cdivas_kms_tickets_total counter\n"
    "cdivas_kms_tickets_total{result=\"issued\"} %lu\n"
    "cdivas_kms_tickets_total{result=\"refused\"} %lu\n"
    "# HELP cdivas_kms_resolves_total Ticket resolutions (RESOLVE_INIT_PSK) that passed the MIKEY checks, by result.\n"
    "# TYPE cdivas_kms_resolves_total counter\n"
    "cdivas_kms_resolves_total{result=\"keys_sent\"} %lu\n"
    "cdivas_kms_resolves_total{result=\"refused\"} %lu\n"
    "# HELP cdivas_kms_inquiries_total Inquiries sent to diversion application servers, by outcome.\n"
    "# TYPE cdivas_kms_inquiries_total counter\n"
    "cdivas_kms_inquiries_total{verdict=\"permit\"} %lu\n"
    "cdivas_kms_inquiries_total{verdict=\"deny\"} %lu\n"
    "cdivas_kms_inquiries_total{verdict=\"failed\"} %lu\n",
    k->stats.tickets_issued, k->stats.tickets_refused, k->stats.keys_sent,
    k->stats.resolves_refused, k->stats.inquiries_permit, k->stats.inquiries_deny,
    k->stats.inquiries_failed);
  if (n < 0)
    return cd_http_json_error(500, "Internal Server Error", "out of memory");
  struct cd_http_reply r = { 200, "OK", "text/plain; version=0.0.4", text, (size_t)n, NULL, NULL };
  return r;
}

static struct cd_http_reply handle(void *ctx, struct cd_http_request *req, http_t const *http)
{
  struct kms *k = ctx;
  const char *path = http->http_request->rq_url->url_path;
  if (path && strcmp(path, "metrics") == 0 && http->http_request->rq_method == http_method_get)
    return metrics(k);
  if (path == NULL || strcmp(path, "mikey") != 0)
    return cd_http_json_error(404, "Not Found", "POST MIKEY messages to /mikey");
  if (http->http_request->rq_method != http_method_post) {
    struct cd_http_reply r = cd_http_json_error(405, "Method Not Allowed", "use POST");
    r.allow = "POST";
    return r;
  }
  if (http->http_content_type == NULL || http->http_content_type->c_type == NULL ||
      strcasecmp(http->http_content_type->c_type, "application/mikey") != 0)
    return cd_http_json_error(400, "Bad Request", "Content-Type must be application/mikey");
  const unsigned char *msg = http->http_payload ? (const unsigned char *)http->http_payload->pl_data : NULL;
  size_t len = http->http_payload ? http->http_payload->pl_len : 0;
  if (msg == NULL || len < 2 || len > MIKEY_BODY_MAX)
    return cd_http_json_error(400, "Bad Request", "missing or oversized MIKEY message");

  if (msg[1] == TYPE_REQUEST_INIT_PSK) {
    unsigned char rnd[64];
    RAND_bytes(rnd, sizeof rnd);
    unsigned char *out = NULL;
    size_t out_len = 0;
    const char *why = NULL;
    int rc = mk_kms_request(&k->mk, msg, len, ntp_now(), rnd, &out, &out_len, &why);
    if (rc < 0)
      k->stats.tickets_refused++;
    else
      k->stats.tickets_issued++;
    cd_log(rc < 0 ? CD_LOG_NOTICE : CD_LOG_INFO, "ticket request: %s",
           rc < 0 ? (why ? why : "refused") : "ticket issued");
    if (out)
      return mikey_reply(out, out_len);
    return cd_http_json_error(400, "Bad Request", why ? why : "not a REQUEST_INIT_PSK");
  }
  if (msg[1] == TYPE_RESOLVE_INIT_PSK)
    return resolve(k, req, msg, len);
  return cd_http_json_error(400, "Bad Request", "expected REQUEST_INIT_PSK or RESOLVE_INIT_PSK");
}

/* ---------------------------------------------------------------- process */

static int on_signal(su_root_magic_t *m, su_wait_t *w, su_wakeup_arg_t *arg)
{
  (void)m; (void)w;
  struct kms *k = (struct kms *)arg;
  struct signalfd_siginfo info;
  while (read(k->signal_fd, &info, sizeof info) == (ssize_t)sizeof info)
    su_root_break(k->root);
  return 0;
}

static void usage(FILE *out)
{
  fprintf(out, "Usage: cdivas-kms [-f FILE] [-t] [-F] [-V] [-h]\n"
               "Reference MIKEY-TICKET Key Management Server with diversion inquiries.\n\n"
               "  -f FILE  configuration file (default " SYSCONFDIR "/cdivas/kms.conf)\n"
               "  -t       check the configuration and exit\n"
               "  -F       stay in the foreground and log to stderr\n"
               "  -V       print the version and exit\n"
               "  -h       print this help and exit\n");
}

int main(int argc, char **argv)
{
  const char *path = SYSCONFDIR "/cdivas/kms.conf";
  bool check_only = false, foreground = false;
  int opt;
  while ((opt = getopt(argc, argv, "f:tFVh")) != -1) {
    switch (opt) {
    case 'f': path = optarg; break;
    case 't': check_only = true; break;
    case 'F': foreground = true; break;
    case 'V': printf("cdivas-kms %s\n", PACKAGE_VERSION); return 0;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  size_t errors = 0;
  struct kms k = { .signal_fd = -1 };
  k.conf = kms_conf_load(path, &errors);
  if (check_only) {
    if (k.conf)
      printf("%s: configuration OK (%zu users, %zu application servers)\n", path,
             k.conf->n_users, k.conf->n_ases);
    kms_conf_free(k.conf);
    return k.conf ? 0 : 1;
  }
  if (k.conf == NULL)
    return 1;
  cd_log_set_name("cdivas-kms");
  cd_log_open(true);
  cd_log_set_level((enum cd_log_level)k.conf->log_level);
  k.mk.id = k.conf->id;
  memcpy(k.mk.ticket_key, k.conf->ticket_key, MK_PSK_LEN);
  k.mk.lookup = psk_of;
  k.mk.lookup_ctx = &k;
  k.mk.ticket_lifetime = (uint64_t)k.conf->ticket_lifetime << 32;
  k.mk.window = (uint64_t)30 << 32;

  su_init();
  k.root = su_root_create(NULL);
  k.replays = cd_replay_create(REPLAY_CAPACITY);
  struct cd_http_listen listen = {
    .url = k.conf->listen, .host = k.conf->host, .port = k.conf->port, .tls = k.conf->tls,
    .certificate = k.conf->tls_certificate, .key = k.conf->tls_key,
    .client_ca = k.conf->tls_client_ca, .max_body = MIKEY_BODY_MAX,
  };
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  k.signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (k.root == NULL || k.replays == NULL || k.signal_fd < 0 ||
      (k.server = cd_http_server_start(k.root, &listen, handle, &k)) == NULL) {
    cd_log(CD_LOG_ERROR, "cannot start");
    return 1;
  }
  su_wait_create(k.signal_wait, k.signal_fd, SU_WAIT_IN);
  su_root_register(k.root, k.signal_wait, on_signal, &k, 0);
  if (!foreground) {
    if (daemon(0, 0) < 0)
      return 1;
    cd_log_open(false);
  }
  cd_log(CD_LOG_NOTICE, "cdivas-kms %s started as %s (%zu users, %zu application servers)",
         PACKAGE_VERSION, k.conf->id, k.conf->n_users, k.conf->n_ases);
  su_root_run(k.root);
  cd_http_server_destroy(k.server);
  su_root_unregister(k.root, k.signal_wait, on_signal, &k);
  su_root_destroy(k.root);
  su_deinit();
  close(k.signal_fd);
  cd_replay_destroy(k.replays);
  OPENSSL_cleanse(k.mk.ticket_key, sizeof k.mk.ticket_key);
  kms_conf_free(k.conf);
  cd_log(CD_LOG_NOTICE, "stopped");
  return 0;
}
