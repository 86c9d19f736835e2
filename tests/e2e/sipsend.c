/*
 * sipsend - the network end of the hostile-input test (malformed.sh).
 *
 *   sipsend send udp|tcp PORT CASE ID WAIT_MS
 *       Builds the wire bytes of the corpus file CASE (below), sends them
 *       to 127.0.0.1:PORT in one datagram or on a new TCP connection and
 *       prints one line: the status line of the first final (>= 200)
 *       response; "none" when none came within WAIT_MS ("none after
 *       <status line>" when only provisional ones came); "closed" when the
 *       server closed the TCP connection first. Exit 0, or 2 when the
 *       bytes could not be sent at all (e.g. a datagram above 64 KiB).
 *   sipsend prep udp|tcp PORT CASE ID
 *       The wire bytes only, on stdout.
 *   sipsend sink PORT LOG
 *       A next hop on 127.0.0.1:PORT (UDP and TCP) that appends every
 *       message it receives to LOG, each after a line "=== <proto> <bytes>",
 *       and answers every request but ACK at once: "480 Sink Reached" to an
 *       INVITE, "200 Sink Reached" to anything else. Runs until killed.
 *
 * Corpus file (a .sip file in tests/malformed): leading lines that start
 * with '#' are its header (described and read in malformed.sh); the message
 * follows. Each LF of the message becomes CRLF unless the header has the
 * line "# raw".
 * Expansions in the message:
 *   ${ID}          the ID argument (unique per send: branch, Call-ID, tags)
 *   ${PORT}        PORT
 *   ${TRANSPORT}   UDP or TCP
 *   ${TARGET}      the environment variable SIPSEND_TARGET (the sink's port)
 *   ${xHH}         the byte 0xHH, never converted (${x00}, ${x0d}, ${xff})
 *   ${CLEN}        the number of bytes after the first empty line
 *   ${REPEAT N T}  T N times; in T, {i} is the repetition number (1..N),
 *                  \n a line end (converted like the others), braces nest.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* memmem */
#endif
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- buffers */

struct buf { char *p; size_t len, cap; };

static void buf_add(struct buf *b, const void *data, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
      perror("sipsend");
      exit(99);
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void buf_consume(struct buf *b, size_t n)
{
  memmove(b->p, b->p + n, b->len - n);
  b->len -= n;
  if (b->p)
    b->p[b->len] = '\0';
}

/* ---------------------------------------------------------------- corpus files */

struct prep {
  const char *id, *port, *transport;
  bool raw;
  struct buf out;
  long clen_at;        /* offset of ${CLEN} in out, -1 when none */
};

static void emit_lf(struct prep *p)
{
  if (!p->raw)
    buf_add(&p->out, "\r", 1);
  buf_add(&p->out, "\n", 1);
}

/* The end of a ${...} starting at s (just after "${"): the matching '}'. */
static const char *closing_brace(const char *s, const char *end)
{
  int depth = 1;
  for (; s < end; s++) {
    if (*s == '{')
      depth++;
    else if (*s == '}' && --depth == 0)
      return s;
  }
  return NULL;
}

static void die(const char *what)
{
  fprintf(stderr, "sipsend: %s\n", what);
  exit(99);
}

static void expand(struct prep *p, const char *s, const char *end, bool in_repeat, long iteration);

static void expand_directive(struct prep *p, const char *d, const char *end, long iteration)
{
  size_t n = (size_t)(end - d);
  if (n == 2 && memcmp(d, "ID", 2) == 0)
    buf_add(&p->out, p->id, strlen(p->id));
  else if (n == 4 && memcmp(d, "PORT", 4) == 0)
    buf_add(&p->out, p->port, strlen(p->port));
  else if (n == 9 && memcmp(d, "TRANSPORT", 9) == 0)
    buf_add(&p->out, p->transport, strlen(p->transport));
  else if (n == 6 && memcmp(d, "TARGET", 6) == 0) {
    const char *target = getenv("SIPSEND_TARGET");
    if (target == NULL)
      die("${TARGET} without SIPSEND_TARGET");
    buf_add(&p->out, target, strlen(target));
  }
  else if (n == 4 && memcmp(d, "CLEN", 4) == 0)
    p->clen_at = (long)p->out.len;
  else if (n == 3 && d[0] == 'x' && isxdigit((unsigned char)d[1]) && isxdigit((unsigned char)d[2])) {
    char hex[3] = { d[1], d[2], 0 };
    char byte = (char)strtol(hex, NULL, 16);
    buf_add(&p->out, &byte, 1);
  } else if (n > 7 && memcmp(d, "REPEAT ", 7) == 0) {
    char *after;
    long count = strtol(d + 7, &after, 10);
    if (count < 0 || after >= end || *after != ' ')
      die("bad ${REPEAT N TEXT}");
    for (long i = 1; i <= count; i++)
      expand(p, after + 1, end, true, i);
  } else
    die("unknown ${...} in case file");
  (void)iteration;
}

static void expand(struct prep *p, const char *s, const char *end, bool in_repeat, long iteration)
{
  while (s < end) {
    if (s[0] == '$' && s + 1 < end && s[1] == '{') {
      const char *close = closing_brace(s + 2, end);
      if (close == NULL)
        die("unterminated ${");
      expand_directive(p, s + 2, close, iteration);
      s = close + 1;
    } else if (in_repeat && s + 2 < end && memcmp(s, "{i}", 3) == 0) {
      char num[32];
      int k = snprintf(num, sizeof num, "%ld", iteration);
      buf_add(&p->out, num, (size_t)k);
      s += 3;
    } else if (in_repeat && s + 1 < end && s[0] == '\\' && s[1] == 'n') {
      emit_lf(p);
      s += 2;
    } else if (*s == '\n') {
      emit_lf(p);
      s++;
    } else {
      buf_add(&p->out, s, 1);
      s++;
    }
  }
}

static void read_file(const char *path, struct buf *b)
{
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    exit(99);
  }
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    buf_add(b, chunk, n);
  fclose(f);
}

static void prepare(struct prep *p, const char *path)
{
  struct buf file = {0};
  read_file(path, &file);
  const char *s = file.p ? file.p : "", *end = s + file.len;
  /* The header: leading '#' lines. */
  while (s < end && *s == '#') {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
    if (n == 5 && memcmp(s, "# raw", 5) == 0)
      p->raw = true;
    s = nl ? nl + 1 : end;
  }
  p->clen_at = -1;
  expand(p, s, end, false, 0);
  if (p->clen_at >= 0) {
    const char *o = p->out.p;
    const char *sep = p->raw ? "\n\n" : "\r\n\r\n";
    const char *blank = memmem(o + p->clen_at, p->out.len - (size_t)p->clen_at, sep, strlen(sep));
    size_t body = blank ? p->out.len - (size_t)(blank - o) - (p->raw ? 2 : 4) : 0;
    char num[32];
    int k = snprintf(num, sizeof num, "%zu", body);
    struct buf tail = {0};
    buf_add(&tail, o + p->clen_at, p->out.len - (size_t)p->clen_at);
    p->out.len = (size_t)p->clen_at;
    buf_add(&p->out, num, (size_t)k);
    buf_add(&p->out, tail.p, tail.len);
    free(tail.p);
  }
  free(file.p);
}

/* ---------------------------------------------------------------- messages */

/* Length of the first complete message in a stream buffer (headers, the
 * empty line, Content-Length bytes of body), or 0 when it is incomplete.
 * Leading CRLFs (keep-alives) count as a message of their own. */
static size_t stream_message_length(const char *p, size_t len)
{
  size_t lead = 0;
  while (lead < len && (p[lead] == '\r' || p[lead] == '\n'))
    lead++;
  if (lead)
    return lead;
  size_t head = 0;
  for (size_t i = 0; i + 1 < len; i++) {
    if (p[i] == '\n' && p[i + 1] == '\n') { head = i + 2; break; }
    if (i + 3 < len && memcmp(p + i, "\r\n\r\n", 4) == 0) { head = i + 4; break; }
  }
  if (head == 0)
    return 0;
  long clen = 0;
  for (const char *line = p; line && line < p + head;) {
    const char *colon = memchr(line, ':', (size_t)(p + head - line));
    const char *nl = memchr(line, '\n', (size_t)(p + head - line));
    if (colon && (!nl || colon < nl)) {
      size_t n = (size_t)(colon - line);
      while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
      if ((n == 14 && strncasecmp(line, "Content-Length", 14) == 0) ||
          (n == 1 && (line[0] == 'l' || line[0] == 'L')))
        clen = strtol(colon + 1, NULL, 10);
    }
    line = nl ? nl + 1 : NULL;
  }
  if (clen < 0)
    clen = 0;
  if (head + (size_t)clen > len)
    return 0;
  return head + (size_t)clen;
}

/* The first line of a message, without its line end. */
static void first_line(const char *p, size_t len, char *out, size_t size)
{
  size_t n = 0;
  while (n < len && p[n] != '\r' && p[n] != '\n' && n + 1 < size) {
    out[n] = p[n] ? p[n] : '?';
    n++;
  }
  out[n] = '\0';
}

static int response_status(const char *line)
{
  if (strncmp(line, "SIP/2.0 ", 8) != 0 || !isdigit((unsigned char)line[8]))
    return 0;
  return atoi(line + 8);
}

/* ---------------------------------------------------------------- send */

static long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int connect_to(int type, const char *port)
{
  int fd = socket(AF_INET, type, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port)) };
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Looks at one received message: true when it is a final response (then
 * printed). A provisional one is remembered in `prov`. */
static bool seen(const char *msg, size_t len, char *prov, size_t prov_size)
{
  char line[512];
  first_line(msg, len, line, sizeof line);
  int status = response_status(line);
  if (status >= 200) {
    printf("%s\n", line);
    return true;
  }
  if (status > 0)
    snprintf(prov, prov_size, "%s", line);
  return false;
}

/* Sends `out` and waits for the answer; returns the exit status. */
static int send_and_wait(bool tcp, const char *port, const struct buf *out, long wait_ms,
                         struct buf *in)
{
  int fd = connect_to(tcp ? SOCK_STREAM : SOCK_DGRAM, port);
  if (fd < 0) {
    printf("cannot connect: %s\n", strerror(errno));
    return 2;
  }
  int status = 0;
  if (tcp) {
    for (size_t off = 0; off < out->len;) {
      ssize_t k = send(fd, out->p + off, out->len - off, MSG_NOSIGNAL);
      if (k < 0) {
        printf("closed\n");
        goto done;
      }
      off += (size_t)k;
    }
  } else if (send(fd, out->p, out->len, 0) != (ssize_t)out->len) {
    printf("cannot send: %s\n", strerror(errno));
    status = 2;
    goto done;
  }

  char prov[512] = "";
  long deadline = now_ms() + wait_ms;
  for (;;) {
    long left = deadline - now_ms();
    if (left <= 0)
      break;
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int r = poll(&pfd, 1, (int)left);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    static char chunk[65536];
    ssize_t k = recv(fd, chunk, sizeof chunk, 0);
    if (k < 0 && !tcp)
      continue;   /* e.g. ICMP port unreachable */
    if (k <= 0) {
      printf(prov[0] ? "closed after %s\n" : "closed\n", prov);
      goto done;
    }
    if (!tcp) {
      if (seen(chunk, (size_t)k, prov, sizeof prov))
        goto done;
      continue;
    }
    buf_add(in, chunk, (size_t)k);
    size_t n;
    while ((n = stream_message_length(in->p, in->len)) > 0) {
      if (seen(in->p, n, prov, sizeof prov))
        goto done;
      buf_consume(in, n);
    }
  }
  if (prov[0])
    printf("none after %s\n", prov);
  else
    printf("none\n");
done:
  close(fd);
  return status;
}

static int cmd_send(bool tcp, const char *port, const char *path, const char *id, long wait_ms)
{
  struct prep p = { .id = id, .port = port, .transport = tcp ? "TCP" : "UDP" };
  prepare(&p, path);
  struct buf in = {0};
  int status = send_and_wait(tcp, port, &p.out, wait_ms, &in);
  free(in.p);
  free(p.out.p);
  return status;
}

static int cmd_prep(bool tcp, const char *port, const char *path, const char *id)
{
  struct prep p = { .id = id, .port = port, .transport = tcp ? "TCP" : "UDP" };
  prepare(&p, path);
  fwrite(p.out.p, 1, p.out.len, stdout);
  free(p.out.p);
  return 0;
}

/* ---------------------------------------------------------------- sink */

static const char *sink_log;

static void log_message(const char *proto, const char *msg, size_t len)
{
  FILE *f = fopen(sink_log, "ab");
  if (f == NULL)
    return;
  fprintf(f, "=== %s %zu\n", proto, len);
  fwrite(msg, 1, len, f);
  fputs("\n", f);
  fclose(f);
}

/* The answer to a request, or false for ACK and responses. */
static bool sink_answer(const char *msg, size_t len, struct buf *out)
{
  char line[512];
  first_line(msg, len, line, sizeof line);
  if (response_status(line) || strncmp(line, "ACK ", 4) == 0 || line[0] == '\0')
    return false;
  bool invite = strncmp(line, "INVITE ", 7) == 0;
  const char *status = invite ? "SIP/2.0 480 Sink Reached\r\n" : "SIP/2.0 200 Sink Reached\r\n";
  buf_add(out, status, strlen(status));
  static const char *const copied[] = { "via", "v", "from", "f", "call-id", "i", "cseq", "to", "t" };
  const char *end = msg + len;
  const char *s = memchr(msg, '\n', len);
  while (s && ++s < end && *s != '\r' && *s != '\n') {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    const char *eol = nl ? nl : end;
    if (eol > s && eol[-1] == '\r')
      eol--;
    const char *colon = memchr(s, ':', (size_t)(eol - s));
    if (colon) {
      size_t n = (size_t)(colon - s);
      while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
      for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++) {
        if (strlen(copied[i]) != n || strncasecmp(s, copied[i], n) != 0)
          continue;
        buf_add(out, s, (size_t)(eol - s));
        bool to = i >= 7;
        if (to && !memmem(colon, (size_t)(eol - colon), ";tag=", 5))
          buf_add(out, ";tag=sink", 9);
        buf_add(out, "\r\n", 2);
      }
    }
    s = nl;
  }
  buf_add(out, "Content-Length: 0\r\n\r\n", 21);
  return true;
}

struct conn { int fd; struct buf in; };

static int cmd_sink(const char *port, const char *log)
{
  sink_log = log;
  signal(SIGPIPE, SIG_IGN);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port)) };
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  int lis = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(lis, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (udp < 0 || lis < 0 || bind(udp, (struct sockaddr *)&sa, sizeof sa) < 0 ||
      bind(lis, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lis, 16) < 0) {
    perror("sipsend sink");
    return 1;
  }
  enum { MAXCONN = 64 };
  struct conn conns[MAXCONN];
  size_t nconns = 0;
  static char chunk[70000];
  for (;;) {
    struct pollfd pfd[MAXCONN + 2];
    pfd[0] = (struct pollfd){ .fd = udp, .events = POLLIN };
    pfd[1] = (struct pollfd){ .fd = lis, .events = POLLIN };
    for (size_t i = 0; i < nconns; i++)
      pfd[i + 2] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
    if (poll(pfd, nconns + 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return 1;
    }
    if (pfd[0].revents & POLLIN) {
      struct sockaddr_in from;
      socklen_t fl = sizeof from;
      ssize_t k = recvfrom(udp, chunk, sizeof chunk, 0, (struct sockaddr *)&from, &fl);
      if (k > 0) {
        log_message("udp", chunk, (size_t)k);
        struct buf out = {0};
        if (sink_answer(chunk, (size_t)k, &out))
          sendto(udp, out.p, out.len, 0, (struct sockaddr *)&from, fl);
        free(out.p);
      }
    }
    if ((pfd[1].revents & POLLIN) && nconns < MAXCONN) {
      int fd = accept(lis, NULL, NULL);
      if (fd >= 0)
        conns[nconns++] = (struct conn){ .fd = fd };
    }
    for (size_t i = nconns; i-- > 0;) {
      if (!(pfd[i + 2].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      struct conn *c = &conns[i];
      ssize_t k = recv(c->fd, chunk, sizeof chunk, 0);
      if (k <= 0) {
        close(c->fd);
        free(c->in.p);
        conns[i] = conns[--nconns];
        continue;
      }
      buf_add(&c->in, chunk, (size_t)k);
      size_t n;
      while ((n = stream_message_length(c->in.p, c->in.len)) > 0) {
        if (c->in.p[0] != '\r' && c->in.p[0] != '\n') {
          log_message("tcp", c->in.p, n);
          struct buf out = {0};
          if (sink_answer(c->in.p, n, &out))
            send(c->fd, out.p, out.len, MSG_NOSIGNAL);
          free(out.p);
        }
        buf_consume(&c->in, n);
      }
    }
  }
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 7 && strcmp(argv[1], "send") == 0)
    return cmd_send(strcmp(argv[2], "tcp") == 0, argv[3], argv[4], argv[5], atol(argv[6]));
  if (argc == 6 && strcmp(argv[1], "prep") == 0)
    return cmd_prep(strcmp(argv[2], "tcp") == 0, argv[3], argv[4], argv[5]);
  if (argc == 4 && strcmp(argv[1], "sink") == 0)
    return cmd_sink(argv[2], argv[3]);
  fprintf(stderr, "usage: sipsend send udp|tcp PORT CASE ID WAIT_MS\n"
                  "       sipsend prep udp|tcp PORT CASE ID\n"
                  "       sipsend sink PORT LOG\n");
  return 99;
}
