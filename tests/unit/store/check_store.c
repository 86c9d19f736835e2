/*
 * check_store.c - unit tests for the state store (src/store.c,
 * src/store_redis.c): the same registration, ledger and replay-cache
 * cases run against the memory back end and against a redis-server this
 * test starts on a free loopback port ($REDIS_SERVER; the Redis cases are
 * skipped, loudly, when there is none). Redis-only cases: two stores
 * sharing one server, start-up refusal, a server lost and found again
 * while running, a stopped server answered by the timeout, cancelling.
 *
 * Each case runs its own su_root and, with Redis, its own key prefix.
 */
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sofia-sip/su_wait.h>

#include "store/store.h"

#define ALICE "sip:alice@ims.example.net"
#define BOB "sip:bob@ims.example.net"
#define CAROL "sip:carol@ims.example.net"
#define DAVE "sip:dave@ims.example.net"

enum { MEMORY = 0, REDIS = 1 };

static const char *redis_server;   /* the binary, or NULL */
static int redis_port;              /* the shared server's port */
static pid_t redis_pid;

/* ------------------------------------------------------------ redis-server */

static int free_port(void)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t len = sizeof sin;
  if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
      getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
    perror("free_port");
    exit(2);
  }
  close(fd);
  return ntohs(sin.sin_port);
}

static bool port_open(int port)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
  if (fd >= 0)
    close(fd);
  return ok;
}

static pid_t start_redis(int port)
{
  char port_arg[16];
  snprintf(port_arg, sizeof port_arg, "%d", port);
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", 1);
    dup2(null, 1);
    execl(redis_server, redis_server, "--port", port_arg, "--bind", "127.0.0.1", "--save", "",
          "--appendonly", "no", "--daemonize", "no", (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 500 && !port_open(port); i++)
    usleep(10000);
  if (!port_open(port)) {
    fprintf(stderr, "redis-server did not start on port %d\n", port);
    exit(2);
  }
  return pid;
}

static void stop_redis(pid_t pid)
{
  if (pid > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
}

/* ------------------------------------------------------------ harness */

static su_root_t *root;

static void setup(void)
{
  su_init();
  root = su_root_create(NULL);
  ck_assert_ptr_nonnull(root);
}

static void teardown(void)
{
  su_root_destroy(root);
  su_deinit();
}

static struct cd_store_limits limits(long ledger_ttl)
{
  struct cd_store_limits l = { .registrations = 64, .ledger_records = 64,
                               .ledger_ttl = ledger_ttl, .replay_ids = 64 };
  return l;
}

static struct cd_store_conf redis_conf(int port, const char *prefix)
{
  static char host[] = "127.0.0.1";
  static char pfx[64];
  snprintf(pfx, sizeof pfx, "%s", prefix);
  struct cd_store_conf c = { .backend = CD_STORE_REDIS, .host = host, .port = port,
                             .prefix = pfx, .timeout_ms = 200, .registration_retain = 3600 };
  return c;
}

/* A store of the kind `backend`, keys under a prefix of its own. */
static struct cd_store *new_store_ttl(int backend, const char *prefix, long ledger_ttl)
{
  if (backend == MEMORY) {
    struct cd_store_limits l = limits(ledger_ttl);
    return cd_store_memory_create(&l);
  }
  struct cd_store_conf c = redis_conf(redis_port, prefix);
  struct cd_store_limits l = limits(ledger_ttl);
  char err[300];
  struct cd_store *s = cd_store_redis_create(root, &c, &l, err, sizeof err);
  ck_assert_msg(s != NULL, "redis store: %s", err);
  return s;
}

static struct cd_store *new_store(int backend, const char *prefix)
{
  return new_store_ttl(backend, prefix, 300);
}

/* Runs the loop until *flag is set or `ms` pass. */
static bool pump_until(const bool *flag, long ms)
{
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (!*flag) {
    su_root_step(root, 10);
    clock_gettime(CLOCK_MONOTONIC, &t);
    if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
      return false;
  }
  return true;
}

static void pump(long ms)
{
  bool never = false;
  pump_until(&never, ms);
}

/* Answers, caught. */
struct reg_answer { bool done; enum cd_reg_status status; bool available; };
static void on_reg(void *arg, enum cd_reg_status status, bool available)
{
  struct reg_answer *a = arg;
  a->done = true;
  a->status = status;
  a->available = available;
}

static struct reg_answer reg_status(struct cd_store *s, const char *key)
{
  struct reg_answer a = {0};
  cd_store_reg_status(s, key, on_reg, &a);
  ck_assert_msg(pump_until(&a.done, 2000), "no answer to the registration query");
  return a;
}

struct claim_answer { bool done; int seen; };
static void on_claim(void *arg, int seen)
{
  struct claim_answer *a = arg;
  a->done = true;
  a->seen = seen;
}

static int claim(struct cd_store *s, const char *kms, const char *id)
{
  struct claim_answer a = {0};
  cd_store_replay_claim(s, kms, id, on_claim, &a);
  ck_assert_msg(pump_until(&a.done, 2000), "no answer to the replay claim");
  return a.seen;
}

/* A chain question put to the caller's ledger view. */
struct chain_question {
  bool done, had_view, found;
  const char *initiator, *intended, *requester, *ticket;
};
static void on_view(void *arg, const struct cd_ledger *view)
{
  struct chain_question *q = arg;
  q->done = true;
  q->had_view = view != NULL;
  q->found = view && cd_ledger_find_chain(view, q->initiator, q->intended, q->requester,
                                          q->ticket, 5, (long)time(NULL), NULL, NULL);
}

static struct chain_question chain(struct cd_store *s, const char *initiator,
                                   const char *intended, const char *requester, const char *ticket)
{
  struct chain_question q = { .initiator = initiator, .intended = intended,
                              .requester = requester, .ticket = ticket };
  cd_store_ledger_fetch(s, initiator, on_view, &q);
  ck_assert_msg(pump_until(&q.done, 2000), "no answer to the ledger fetch");
  return q;
}

static void divert(struct cd_store *s, const char *caller, const char *served, const char *target,
                   const char *call_id, const char *ticket, long when)
{
  struct cd_ledger_record rec = {
    .caller = caller, .served = served, .target = target, .service = CD_SVC_CFU,
    .cause = 302, .when = when, .call_id = call_id, .hi_index = "1.1", .ticket_hash = ticket,
  };
  cd_store_ledger_add(s, &rec);
}

static char prefix_buf[64];
static const char *test_prefix(const char *name)
{
  snprintf(prefix_buf, sizeof prefix_buf, "t%d:%s:", (int)getpid(), name);
  return prefix_buf;
}

static void skip_without_redis(int backend)
{
  if (backend == REDIS && redis_server == NULL)
    ck_abort_msg("internal: Redis case run without redis-server");
}

/* ------------------------------------------------------------ documents */

struct loaded {
  int n;
  char keys[8][CD_IDENTITY_KEY_MAX];
  char texts[8][64];
  char errors[8][128];
};

static void on_doc(void *arg, const char *key, const char *text, size_t len, const char *where,
                   const char *error)
{
  struct loaded *l = arg;
  (void)where;
  ck_assert_int_lt(l->n, 8);
  snprintf(l->keys[l->n], sizeof l->keys[0], "%s", key);
  snprintf(l->texts[l->n], sizeof l->texts[0], "%.*s", text ? (int)len : 0, text ? text : "");
  snprintf(l->errors[l->n], sizeof l->errors[0], "%s", error ? error : "");
  l->n++;
}

static bool doc_done, doc_ok;
static void on_doc_written(void *arg, bool ok)
{
  (void)arg;
  doc_done = true;
  doc_ok = ok;
}

static bool doc_write(struct cd_store *s, const char *key, const char *text)
{
  doc_done = false;
  cd_store_doc_write(s, key, text, text ? strlen(text) : 0, on_doc_written, NULL);
  ck_assert(pump_until(&doc_done, 2000));
  return doc_ok;
}

static char doc_dir[64];

START_TEST(documents_kept) {
  skip_without_redis(_i);
  struct cd_store *s;
  if (_i == MEMORY) {
    snprintf(doc_dir, sizeof doc_dir, "/tmp/cdivas-docs.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(doc_dir));
    struct cd_store_limits l = limits(300);
    l.docs_dir = doc_dir;
    s = cd_store_memory_create(&l);
  } else {
    s = new_store(_i, test_prefix("docs*"));
  }
  ck_assert(doc_write(s, BOB, "<bob/>"));
  ck_assert(doc_write(s, "tel:+15551000002", "<tel/>"));
  ck_assert(doc_write(s, BOB, "<bob2/>"));
  ck_assert(doc_write(s, CAROL, NULL));              /* none there: fine */
  struct loaded l = {0};
  char err[200];
  ck_assert_int_eq(cd_store_doc_load(s, on_doc, &l, err, sizeof err), 0);
  ck_assert_int_eq(l.n, 2);
  int bob = strcmp(l.keys[0], BOB) == 0 ? 0 : 1;
  ck_assert_str_eq(l.keys[bob], BOB);
  ck_assert_str_eq(l.texts[bob], "<bob2/>");
  ck_assert_str_eq(l.keys[1 - bob], "tel:+15551000002");
  ck_assert_str_eq(l.texts[1 - bob], "<tel/>");
  ck_assert(doc_write(s, "tel:+15551000002", NULL));
  memset(&l, 0, sizeof l);
  ck_assert_int_eq(cd_store_doc_load(s, on_doc, &l, err, sizeof err), 0);
  ck_assert_int_eq(l.n, 1);
  ck_assert_str_eq(l.keys[0], BOB);
  if (_i == MEMORY) {
    /* the file, and what the directory may also hold */
    char path[200];
    snprintf(path, sizeof path, "%s/sip%%3Abob@ims.example.net.xml", doc_dir);
    ck_assert_int_eq(access(path, R_OK), 0);
    snprintf(path, sizeof path, "%s/.sip%%3Abob@ims.example.net.xml.tmp", doc_dir);
    FILE *f = fopen(path, "w");
    fputs("half written", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/README", doc_dir);
    fclose(fopen(path, "w"));
    snprintf(path, sizeof path, "%s/sip%%3Adir@x.xml", doc_dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(cd_store_docs_dir_load(doc_dir, on_doc, &l, err, sizeof err), 0);
    ck_assert_int_eq(l.n, 2);
    ck_assert_str_eq(l.keys[0], BOB);
    ck_assert_str_eq(l.keys[1], "sip:dir@x");
    ck_assert_str_eq(l.errors[1], "not a regular file");
    rmdir(path);
    snprintf(path, sizeof path, "rm -rf '%s'", doc_dir);
    ck_assert_int_eq(system(path), 0);
    ck_assert_int_eq(cd_store_docs_dir_load(doc_dir, on_doc, &l, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
    ck_assert(!doc_write(s, BOB, "<gone/>"));       /* the directory went away */
  }
  cd_store_destroy(s);
}
END_TEST

START_TEST(document_file_names) {
  char name[300], key[CD_IDENTITY_KEY_MAX];
  ck_assert_int_eq(cd_store_doc_file_name("sip:bob@ims.example.net", name, sizeof name), 0);
  ck_assert_str_eq(name, "sip%3Abob@ims.example.net.xml");
  ck_assert_int_eq(cd_store_doc_file_key(name, key), 0);
  ck_assert_str_eq(key, "sip:bob@ims.example.net");
  ck_assert_int_eq(cd_store_doc_file_name("sip:a/b c%d@h", name, sizeof name), 0);
  ck_assert_str_eq(name, "sip%3Aa%2Fb%20c%25d@h.xml");
  ck_assert_int_eq(cd_store_doc_file_key(name, key), 0);
  ck_assert_str_eq(key, "sip:a/b c%d@h");
  ck_assert_int_eq(cd_store_doc_file_name(".x", name, sizeof name), 0);
  ck_assert_str_eq(name, "%2Ex.xml");
  ck_assert_int_eq(cd_store_doc_file_name("sip:bob@ims.example.net", name, 10), -1);
  ck_assert_int_eq(cd_store_doc_file_name("", name, sizeof name), -1);
  ck_assert_int_eq(cd_store_doc_file_key("README", key), -1);
  ck_assert_int_eq(cd_store_doc_file_key(".x.xml.tmp", key), -1);
  ck_assert_int_eq(cd_store_doc_file_key(".xml", key), -1);
  ck_assert_int_eq(cd_store_doc_file_key("a%4.xml", key), -1);
  ck_assert_int_eq(cd_store_doc_file_key("a%41.xml", key), -1);    /* 'A' is written as it is */
  ck_assert_int_eq(cd_store_doc_file_key("a%00.xml", key), -1);
  ck_assert_int_eq(cd_store_doc_file_key("a b.xml", key), -1);
}
END_TEST

/* ------------------------------------------------------------ both back ends */

START_TEST(registration_states) {
  skip_without_redis(_i);
  struct cd_store *s = new_store(_i, test_prefix("reg"));
  struct reg_answer a = reg_status(s, BOB);
  ck_assert(a.available);
  ck_assert_int_eq(a.status, CD_REG_UNKNOWN);
  ck_assert_int_eq(cd_store_reg_update(s, BOB, 3600), 0);
  ck_assert_int_eq(reg_status(s, BOB).status, CD_REG_REGISTERED);
  ck_assert_int_eq(reg_status(s, CAROL).status, CD_REG_UNKNOWN);
  ck_assert_int_eq(cd_store_reg_update(s, BOB, 0), 0);
  a = reg_status(s, BOB);
  ck_assert(a.available);
  ck_assert_int_eq(a.status, CD_REG_UNREGISTERED);
  /* A negative Expires is a deregistration too. */
  ck_assert_int_eq(cd_store_reg_update(s, CAROL, -5), 0);
  ck_assert_int_eq(reg_status(s, CAROL).status, CD_REG_UNREGISTERED);
  ck_assert_int_eq(cd_store_reg_update(s, BOB, 60), 0);
  ck_assert_int_eq(reg_status(s, BOB).status, CD_REG_REGISTERED);
  cd_store_destroy(s);
}
END_TEST

START_TEST(registration_expires) {
  skip_without_redis(_i);
  struct cd_store *s = new_store(_i, test_prefix("expiry"));
  ck_assert_int_eq(cd_store_reg_update(s, DAVE, 1), 0);
  ck_assert_int_eq(reg_status(s, DAVE).status, CD_REG_REGISTERED);
  /* Logged out once the registration ran out, not forgotten. */
  pump(2100);
  ck_assert_int_eq(reg_status(s, DAVE).status, CD_REG_UNREGISTERED);
  cd_store_destroy(s);
}
END_TEST

START_TEST(registration_refuses_bad_keys) {
  skip_without_redis(_i);
  struct cd_store *s = new_store(_i, test_prefix("badkey"));
  ck_assert_int_eq(cd_store_reg_update(s, "", 3600), -1);
  char long_key[CD_IDENTITY_KEY_MAX + 10];
  memset(long_key, 'a', sizeof long_key - 1);
  long_key[sizeof long_key - 1] = '\0';
  ck_assert_int_eq(cd_store_reg_update(s, long_key, 3600), -1);
  cd_store_destroy(s);
}
END_TEST

START_TEST(ledger_one_diversion) {
  skip_without_redis(_i);
  struct cd_store *s = new_store(_i, test_prefix("ledger"));
  long now = (long)time(NULL);
  divert(s, ALICE, BOB, CAROL, "call-1", "", now);
  ck_assert(chain(s, ALICE, BOB, CAROL, "").found);
  /* Another requester, another caller, the other direction: no. */
  ck_assert(!chain(s, ALICE, BOB, DAVE, "").found);
  struct chain_question q = chain(s, DAVE, BOB, CAROL, "");
  ck_assert(q.had_view);
  ck_assert(!q.found);
  ck_assert(!chain(s, ALICE, CAROL, BOB, "").found);
  struct cd_store_stats st;
  cd_store_stats(s, &st);
  ck_assert_uint_eq(st.lost_records, 0);
  cd_store_destroy(s);
}
END_TEST

START_TEST(ledger_chain_of_one_call) {
  skip_without_redis(_i);
  struct cd_store *s = new_store(_i, test_prefix("chain"));
  long now = (long)time(NULL);
  const char *ticket = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  divert(s, ALICE, BOB, CAROL, "call-7", ticket, now);
  divert(s, ALICE, CAROL, DAVE, "call-7", ticket, now);
  ck_assert(chain(s, ALICE, BOB, DAVE, ticket).found);
  /* Another ticket is refused where the records have one. */
  ck_assert(!chain(s, ALICE, BOB, DAVE,
                   "0000000000000000000000000000000000000000000000000000000000000000").found);
  /* Hops of different calls do not chain. */
  divert(s, ALICE, DAVE, BOB, "call-8", "", now);
  ck_assert(!chain(s, ALICE, CAROL, BOB, "").found);
  cd_store_destroy(s);
}
END_TEST

START_TEST(ledger_records_expire) {
  skip_without_redis(_i);
  struct cd_store *s = new_store_ttl(_i, test_prefix("ttl"), 10);
  long now = (long)time(NULL);
  divert(s, ALICE, BOB, CAROL, "old", "", now - 11);
  divert(s, ALICE, BOB, DAVE, "new", "", now - 5);
  ck_assert(!chain(s, ALICE, BOB, CAROL, "").found);
  ck_assert(chain(s, ALICE, BOB, DAVE, "").found);
  cd_store_destroy(s);
}
END_TEST

START_TEST(ledger_without_ttl_keeps_nothing) {
  skip_without_redis(_i);
  struct cd_store *s = new_store_ttl(_i, test_prefix("nottl"), 0);
  divert(s, ALICE, BOB, CAROL, "call-1", "", (long)time(NULL));
  struct chain_question q = chain(s, ALICE, BOB, CAROL, "");
  ck_assert(!q.found);
  cd_store_destroy(s);
}
END_TEST

START_TEST(replay_claims) {
  skip_without_redis(_i);
  struct cd_store *s = new_store(_i, test_prefix("replay"));
  ck_assert_int_eq(claim(s, "kms1", "inquiry-0001"), 0);
  ck_assert_int_eq(claim(s, "kms1", "inquiry-0001"), 1);
  ck_assert_int_eq(claim(s, "kms1", "inquiry-0002"), 0);
  /* The same id from another KMS is another pair. */
  ck_assert_int_eq(claim(s, "kms2", "inquiry-0001"), 0);
  ck_assert_int_eq(claim(s, "kms2", "inquiry-0001"), 1);
  cd_store_destroy(s);
}
END_TEST

/* Every answered query is timed: the histogram's buckets add up to its
 * count, and each query lands in a bucket at or above zero. */
START_TEST(queries_are_timed) {
  skip_without_redis(_i);
  struct cd_store *s = new_store(_i, test_prefix("timed"));
  struct cd_store_stats st;
  cd_store_stats(s, &st);
  unsigned long before = st.latency.count;
  reg_status(s, BOB);
  claim(s, "kms1", "timed-0001");
  chain(s, ALICE, BOB, CAROL, "");
  cd_store_stats(s, &st);
  ck_assert_uint_eq(st.latency.count, before + 3);
  unsigned long sum = 0;
  for (int i = 0; i <= CD_STORE_LATENCY_BUCKETS; i++)
    sum += st.latency.buckets[i];
  ck_assert_uint_eq(sum, st.latency.count);
  ck_assert(st.latency.sum >= 0 && st.latency.sum < 3 * 2.0);
  cd_store_destroy(s);
}
END_TEST

/* ------------------------------------------------------------ redis only */

START_TEST(two_instances_share_state) {
  const char *prefix = test_prefix("shared");
  struct cd_store *one = new_store(REDIS, prefix), *two = new_store(REDIS, prefix);
  /* Writes go out with the next turn of the loop, on their own
   * connection: give them a moment before the other instance reads. */
  ck_assert_int_eq(cd_store_reg_update(one, BOB, 0), 0);
  pump(50);
  ck_assert_int_eq(reg_status(two, BOB).status, CD_REG_UNREGISTERED);
  ck_assert_int_eq(cd_store_reg_update(two, BOB, 3600), 0);
  pump(50);
  ck_assert_int_eq(reg_status(one, BOB).status, CD_REG_REGISTERED);
  divert(one, ALICE, BOB, CAROL, "call-1", "", (long)time(NULL));
  pump(50);
  ck_assert(chain(two, ALICE, BOB, CAROL, "").found);
  ck_assert_int_eq(claim(one, "kms1", "shared-inquiry"), 0);
  ck_assert_int_eq(claim(two, "kms1", "shared-inquiry"), 1);
  /* Another prefix is another cluster. */
  struct cd_store *other = new_store(REDIS, "another-cluster:");
  ck_assert_int_eq(reg_status(other, BOB).status, CD_REG_UNKNOWN);
  cd_store_destroy(other);
  cd_store_destroy(one);
  cd_store_destroy(two);
}
END_TEST

START_TEST(refuses_to_start_without_redis) {
  int port = free_port();
  struct cd_store_conf c = redis_conf(port, "x:");
  struct cd_store_limits l = limits(300);
  char err[300] = "";
  ck_assert_ptr_null(cd_store_redis_create(root, &c, &l, err, sizeof err));
  char expect[64];
  snprintf(expect, sizeof expect, "cannot connect to Redis at 127.0.0.1:%d", port);
  ck_assert_msg(strstr(err, expect) != NULL, "error was: %s", err);
  /* Through the generic constructor too. */
  err[0] = '\0';
  ck_assert_ptr_null(cd_store_create(root, &c, &l, err, sizeof err));
  ck_assert(strstr(err, expect) != NULL);
}
END_TEST

/* A store on a redis-server of its own (to kill or stop), on *port. */
static struct cd_store *private_redis(const char *prefix, int *port, pid_t *pid)
{
  *port = free_port();
  *pid = start_redis(*port);
  struct cd_store_conf c = redis_conf(*port, prefix);
  struct cd_store_limits l = limits(300);
  char err[300];
  struct cd_store *s = cd_store_redis_create(root, &c, &l, err, sizeof err);
  ck_assert_msg(s != NULL, "%s", err);
  return s;
}

START_TEST(lost_and_found_again) {
  int port;
  pid_t pid;
  struct cd_store *s = private_redis("lost:", &port, &pid);
  ck_assert_int_eq(reg_status(s, BOB).status, CD_REG_UNKNOWN);
  struct cd_store_stats st;
  cd_store_stats(s, &st);
  ck_assert(st.up);

  stop_redis(pid);
  pump(100);
  struct reg_answer a = reg_status(s, BOB);
  ck_assert(!a.available);
  ck_assert_int_eq(a.status, CD_REG_UNKNOWN);
  ck_assert_int_eq(claim(s, "kms1", "while-down-1"), -2);
  struct chain_question q = chain(s, ALICE, BOB, CAROL, "");
  ck_assert(!q.had_view);
  divert(s, ALICE, BOB, CAROL, "lost-call", "", (long)time(NULL));
  /* A REGISTER that cannot be stored says so (and is counted). */
  ck_assert_int_eq(cd_store_reg_update(s, BOB, 3600), -1);
  cd_store_stats(s, &st);
  ck_assert(!st.up);
  ck_assert_uint_ge(st.errors, 3);
  ck_assert_uint_eq(st.lost_records, 2);

  pid = start_redis(port);
  for (int i = 0; i < 400 && (cd_store_stats(s, &st), !st.up); i++)
    pump(10);
  ck_assert_msg(st.up, "the store did not reconnect");
  ck_assert_uint_ge(st.reconnects, 1);
  ck_assert_int_eq(cd_store_reg_update(s, BOB, 3600), 0);
  a = reg_status(s, BOB);
  ck_assert(a.available);
  ck_assert_int_eq(a.status, CD_REG_REGISTERED);
  divert(s, ALICE, BOB, CAROL, "found-call", "", (long)time(NULL));
  ck_assert(chain(s, ALICE, BOB, CAROL, "").found);
  cd_store_destroy(s);
  stop_redis(pid);
}
END_TEST

START_TEST(a_stopped_server_is_answered_by_the_timeout) {
  int port;
  pid_t pid;
  struct cd_store *s = private_redis("stopped:", &port, &pid);
  ck_assert(reg_status(s, BOB).available);
  kill(pid, SIGSTOP);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  struct reg_answer a = reg_status(s, BOB);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long waited = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  ck_assert(!a.available);
  /* The configured 200 ms, not a hang (generous bound for a loaded machine). */
  ck_assert_msg(waited >= 150 && waited < 1500, "answered after %ld ms", waited);
  /* The wait is in the latency histogram: above 100 ms, within 5 s. */
  struct cd_store_stats st;
  cd_store_stats(s, &st);
  unsigned long above_100ms = 0;
  for (int i = 0; i <= CD_STORE_LATENCY_BUCKETS; i++)
    if (i == CD_STORE_LATENCY_BUCKETS || cd_store_latency_bounds[i] > 0.1)
      above_100ms += st.latency.buckets[i];
  ck_assert_uint_eq(above_100ms, 1);
  ck_assert_uint_eq(st.latency.buckets[CD_STORE_LATENCY_BUCKETS], 0);
  kill(pid, SIGCONT);
  cd_store_destroy(s);
  stop_redis(pid);
}
END_TEST

START_TEST(cancelled_queries_stay_silent) {
  struct cd_store *s = new_store(REDIS, test_prefix("cancel"));
  struct reg_answer a = {0};
  struct cd_store_query *q = cd_store_reg_status(s, BOB, on_reg, &a);
  ck_assert_ptr_nonnull(q);
  cd_store_cancel(q);
  pump(300);
  ck_assert(!a.done);
  /* Destroying the store answers what still waits. */
  struct reg_answer b = {0};
  ck_assert_ptr_nonnull(cd_store_reg_status(s, BOB, on_reg, &b));
  cd_store_destroy(s);
  ck_assert(b.done);
  ck_assert(!b.available);
}
END_TEST

START_TEST(memory_answers_at_once) {
  struct cd_store_limits l = limits(300);
  struct cd_store *s = cd_store_memory_create(&l);
  struct reg_answer a = {0};
  ck_assert_ptr_null(cd_store_reg_status(s, BOB, on_reg, &a));
  ck_assert(a.done);
  struct cd_store_stats st;
  cd_store_stats(s, &st);
  ck_assert_str_eq(st.backend, "memory");
  ck_assert(st.up);
  cd_store_destroy(s);
}
END_TEST

int main(void)
{
  redis_server = getenv("REDIS_SERVER");
  if (redis_server && (redis_server[0] == '\0' || strcmp(redis_server, "no") == 0))
    redis_server = NULL;
  if (redis_server == NULL && access("/usr/bin/redis-server", X_OK) == 0)
    redis_server = "/usr/bin/redis-server";
  int backends = redis_server ? 2 : 1;
  if (redis_server) {
    redis_port = free_port();
    redis_pid = start_redis(redis_port);
  } else {
    fprintf(stderr, "check_store: no redis-server: the Redis back end is NOT tested\n");
  }

  Suite *s = suite_create("store");
  TCase *tc = tcase_create("both back ends");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 20);
  tcase_add_loop_test(tc, registration_states, 0, backends);
  tcase_add_loop_test(tc, registration_expires, 0, backends);
  tcase_add_loop_test(tc, registration_refuses_bad_keys, 0, backends);
  tcase_add_loop_test(tc, ledger_one_diversion, 0, backends);
  tcase_add_loop_test(tc, ledger_chain_of_one_call, 0, backends);
  tcase_add_loop_test(tc, ledger_records_expire, 0, backends);
  tcase_add_loop_test(tc, ledger_without_ttl_keeps_nothing, 0, backends);
  tcase_add_loop_test(tc, replay_claims, 0, backends);
  tcase_add_loop_test(tc, queries_are_timed, 0, backends);
  tcase_add_test(tc, memory_answers_at_once);
  tcase_add_loop_test(tc, documents_kept, 0, backends);
  tcase_add_test(tc, document_file_names);
  suite_add_tcase(s, tc);
  if (redis_server) {
    tc = tcase_create("redis");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, two_instances_share_state);
    tcase_add_test(tc, refuses_to_start_without_redis);
    tcase_add_test(tc, lost_and_found_again);
    tcase_add_test(tc, a_stopped_server_is_answered_by_the_timeout);
    tcase_add_test(tc, cancelled_queries_stay_silent);
    suite_add_tcase(s, tc);
  }
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  stop_redis(redis_pid);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
