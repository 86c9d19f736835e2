/*
 * inquiry_load.c - load generator for cdivas's KMS inquiry endpoint.
 *
 * THREADS threads each keep one HTTP/1.1 connection and send signed
 * inquiries back to back for SECONDS seconds: every inquiry has its own
 * inquiry_id, unique across processes too (the replay cache, maybe shared
 * by two instances, would refuse a repeat) and asks about one of
 * CALLERS callers (a1..aN, as bench/caller_bench.xml places them) whose
 * call to bob was diverted to carol. Prints verdicts per second and how
 * many were permits.
 *
 *   inquiry_load HOST PORT KEY-HEX KMS-ID SECONDS THREADS CALLERS
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "core/inquiry_auth.h"

static const char *host, *kms_id;
static int port, seconds, callers;
static unsigned char key[32];

struct worker {
  pthread_t thread;
  int id;
  unsigned long permits, denies, errors;
};

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int connect_server(void)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
  inet_pton(AF_INET, host, &sa.sin_addr);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Reads one response; returns 1 permit, 0 deny, -1 error. */
static int read_response(int fd, char *buf, size_t cap)
{
  size_t used = 0;
  for (;;) {
    ssize_t n = recv(fd, buf + used, cap - used - 1, 0);
    if (n <= 0)
      return -1;
    used += (size_t)n;
    buf[used] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    char *cl = strstr(buf, "Content-Length: ");
    if (end && cl) {
      size_t body = strtoul(cl + 16, NULL, 10);
      if (used >= (size_t)(end + 4 - buf) + body) {
        if (strncmp(buf, "HTTP/1.1 200", 12) != 0)
          return -1;
        return strstr(end, "\"permit\"") ? 1 : 0;
      }
    }
    if (used >= cap - 1)
      return -1;
  }
}

static void *work(void *arg)
{
  struct worker *w = arg;
  int fd = connect_server();
  char body[1024], req[2048], resp[4096], sig64[64];
  unsigned char sig[32];
  double end = now_s() + seconds;
  for (unsigned long i = 0; fd >= 0 && now_s() < end; i++) {
    long long ts = (long long)time(NULL);
    int caller = 1 + (int)((i * 7919 + (unsigned long)w->id * 104729) % (unsigned long)callers);
    int len = snprintf(body, sizeof body,
                       "{\"inquiry_id\": \"load-%d-%d-%lu\", \"timestamp\": %lld, \"kms\": \"%s\", "
                       "\"initiator\": \"sip:a%d@ims.example.net\", \"intended\": \"sip:bob@ims.example.net\", "
                       "\"requester\": \"sip:carol@ims.example.net\", \"as\": \"sip:cdivas.ims.example.net\"}",
                       (int)getpid(), w->id, i, ts, kms_id, caller);
    cd_auth_sign(key, ts, body, (size_t)len, sig);
    cd_auth_sig_base64(sig, sig64);
    int rlen = snprintf(req, sizeof req,
                        "POST /cdiv/v1/inquiry HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                        "Authorization: CDIV-HMAC-SHA256 kms=\"%s\", sig=\"%s\"\r\nContent-Length: %d\r\n\r\n%s",
                        host, kms_id, sig64, len, body);
    if (send(fd, req, (size_t)rlen, MSG_NOSIGNAL) != rlen) {
      w->errors++;
      close(fd);
      fd = connect_server();
      continue;
    }
    int r = read_response(fd, resp, sizeof resp);
    if (r < 0) {
      w->errors++;
      close(fd);
      fd = connect_server();
    } else if (r) {
      w->permits++;
    } else {
      w->denies++;
    }
  }
  if (fd >= 0)
    close(fd);
  return NULL;
}

int main(int argc, char **argv)
{
  if (argc != 8 || cd_auth_key_from_hex(argv[3], key) < 0) {
    fprintf(stderr, "usage: inquiry_load HOST PORT KEY-HEX KMS-ID SECONDS THREADS CALLERS\n");
    return 2;
  }
  host = argv[1];
  port = atoi(argv[2]);
  kms_id = argv[4];
  seconds = atoi(argv[5]);
  int threads = atoi(argv[6]);
  callers = atoi(argv[7]);
  struct worker *w = calloc((size_t)threads, sizeof *w);
  double start = now_s();
  for (int i = 0; i < threads; i++) {
    w[i].id = i;
    pthread_create(&w[i].thread, NULL, work, &w[i]);
  }
  unsigned long permits = 0, denies = 0, errors = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(w[i].thread, NULL);
    permits += w[i].permits;
    denies += w[i].denies;
    errors += w[i].errors;
  }
  double elapsed = now_s() - start;
  printf("verdicts %lu (permit %lu, deny %lu), errors %lu, %.1f s: %.0f verdicts/s\n",
         permits + denies, permits, denies, errors, elapsed, (permits + denies) / elapsed);
  free(w);
  return errors ? 1 : 0;
}
