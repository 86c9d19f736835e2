/*
 * store_redis.c - the redis back end of the state store (store.h), with
 * hiredis's asynchronous API driven from the daemon's su_root.
 *
 * Keys (P is store.prefix):
 *   P reg:<user key>     "0" (logged out) or the expiry as Unix time;
 *                        expires registration_retain seconds after that
 *   P ledger:<caller>    a list of ledger_wire lines, newest last, at most
 *                        limits.ledger_records long; expires ledger_ttl
 *                        after its newest record (older ones are filtered
 *                        by their own time when read)
 *   P replay:<hash>      SET NX with a 2*CD_AUTH_WINDOW+1 s expiry; the
 *                        hash is SHA-256 of kms NUL inquiry_id (128 bits)
 *   P simservs:<key>     a subscriber's own simservs document (no expiry);
 *                        read all at once at start-up and on SIGHUP over
 *                        a blocking connection of its own (SCAN, GET)
 *
 * Every query sits in a FIFO with a deadline: Redis answers in order, the
 * timeout is the same for all, so the head is always the first to expire.
 * An expired query is answered "unavailable" and stays with hiredis, which
 * owns it until the reply or the disconnection comes. A lost connection
 * is retried every RECONNECT_MS; a connection that stops answering for
 * STALL_MS is dropped and retried.
 *
 * Length (over 700 lines): one back end of one interface (store.h); its
 * parts (connection and reconnection, deadlines, each query's command and
 * reply) share the query record and the pending list.
 */
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <netdb.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <sofia-sip/su_time.h>
#include "core/inquiry_auth.h"
#include "core/ledger_wire.h"
#include "log/log.h"
#include "store/backend.h"

#define RECONNECT_MS 500
#define STALL_MS 2000
#define START_TIMEOUT_MS 2000
/* Commands in flight beyond which queries fail at once and writes are
 * dropped: Redis is not keeping up, and memory must not grow without end. */
#define MAX_OUTSTANDING 50000

enum query_kind { Q_REG, Q_FETCH, Q_CLAIM, Q_WRITE, Q_PING, Q_DOC };

struct redis_query {
  struct cd_store_query base;
  struct redis_store *store;
  enum query_kind kind;
  bool answered;                  /* the user's callback ran (or never will) */
  long long deadline_ms;
  double sent;                    /* cd_store_clock() when it was sent */
  struct redis_query *next, **prev;   /* in the pending FIFO while not answered */
  union {
    cd_store_reg_cb reg;
    cd_store_ledger_cb fetch;
    cd_store_claim_cb claim;
    cd_store_doc_cb doc;
  } cb;
  void *arg;
};

struct redis_store {
  struct cd_store base;
  su_root_t *root;
  struct cd_store_conf conf;      /* strings owned */
  struct cd_store_limits limits;
  redisAsyncContext *ac;          /* NULL while disconnected */
  bool up;                        /* connected and answered */
  bool destroying;
  bool was_up;                    /* it answered once: a later answer is a reconnection */
  bool outage_logged;             /* the current outage has been logged */
  bool timer_armed;
  int in_callback;                /* inside a hiredis reply callback */
  long long armed_for_ms;         /* when the armed timer fires */
  int wait_index;                 /* su_root registration, 0 when none */
  int wait_events;
  su_timer_t *reconnect_timer;
  su_timer_t *deadline_timer;
  struct redis_query *pending, **pending_tail;
  size_t outstanding;             /* commands sent and not yet answered */
  long long last_reply_ms;
  struct {
    unsigned long errors, lost_records, reconnects;
  } stats;
};

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void store_connect(struct redis_store *r);

/* ------------------------------------------------------------ event loop glue */

static int on_socket(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
  (void)magic;
  struct redis_store *r = (struct redis_store *)arg;
  if (r->ac == NULL)
    return 0;
  int events = su_wait_events(w, r->ac->c.fd);
  if (events & (SU_WAIT_IN | SU_WAIT_HUP | SU_WAIT_ERR))
    redisAsyncHandleRead(r->ac);
  /* The read may have ended the connection (r->ac is then NULL). */
  if (r->ac && (events & SU_WAIT_OUT))
    redisAsyncHandleWrite(r->ac);
  return 0;
}

static void set_events(struct redis_store *r, int events)
{
  /* hiredis asks for write and read interest on every command and every
   * read: only a change is worth a system call. */
  if (r->ac == NULL || (r->wait_index != 0 && events == r->wait_events))
    return;
  if (r->wait_index == 0) {
    su_wait_t wait[1];
    if (su_wait_create(wait, r->ac->c.fd, events) < 0)
      return;
    r->wait_index = su_root_register(r->root, wait, on_socket, (su_wakeup_arg_t *)r, 0);
    if (r->wait_index <= 0) {
      su_wait_destroy(wait);
      r->wait_index = 0;
      cd_log(CD_LOG_ERROR, "store: cannot watch the Redis socket");
      return;
    }
  } else {
    su_root_eventmask(r->root, r->wait_index, r->ac->c.fd, events);
  }
  r->wait_events = events;
}

static void ev_add_read(void *p)  { struct redis_store *r = p; set_events(r, r->wait_events | SU_WAIT_IN); }
static void ev_del_read(void *p)  { struct redis_store *r = p; set_events(r, r->wait_events & ~SU_WAIT_IN); }
static void ev_add_write(void *p) { struct redis_store *r = p; set_events(r, r->wait_events | SU_WAIT_OUT); }
static void ev_del_write(void *p) { struct redis_store *r = p; set_events(r, r->wait_events & ~SU_WAIT_OUT); }

static void ev_cleanup(void *p)
{
  struct redis_store *r = p;
  if (r->wait_index > 0)
    su_root_deregister(r->root, r->wait_index);
  r->wait_index = 0;
  r->wait_events = 0;
}

/* ------------------------------------------------------------ pending queries */

static void pending_remove(struct redis_query *q)
{
  if (q->prev == NULL)
    return;
  if (q->next)
    q->next->prev = q->prev;
  else
    q->store->pending_tail = q->prev;
  *q->prev = q->next;
  q->next = NULL;
  q->prev = NULL;
}

/* Runs the user's callback once: with the reply, or "unavailable". */
static void answer(struct redis_query *q, redisReply *reply)
{
  if (q->answered)
    return;
  q->answered = true;
  pending_remove(q);
  if (q->base.cancelled)
    return;
  struct redis_store *r = q->store;
  bool ok = reply != NULL && reply->type != REDIS_REPLY_ERROR;
  if (q->kind != Q_WRITE && q->kind != Q_PING)
    cd_store_latency_observe(&r->base, cd_store_clock() - q->sent);
  if (!ok && q->kind != Q_WRITE && q->kind != Q_PING)
    r->stats.errors++;
  switch (q->kind) {
  case Q_REG: {
    enum cd_reg_status status = CD_REG_UNKNOWN;
    if (ok && reply->type == REDIS_REPLY_STRING) {
      long long expiry = atoll(reply->str);
      status = expiry > (long long)time(NULL) ? CD_REG_REGISTERED : CD_REG_UNREGISTERED;
    } else if (ok && reply->type != REDIS_REPLY_NIL) {
      ok = false;
    }
    q->cb.reg(q->arg, status, ok);
    break;
  }
  case Q_FETCH: {
    struct cd_ledger *view = NULL;
    if (ok && reply->type == REDIS_REPLY_ARRAY) {
      view = cd_ledger_create(reply->elements ? reply->elements : 1, r->limits.ledger_ttl);
      long now = (long)time(NULL);
      for (size_t i = 0; view && i < reply->elements; i++) {
        redisReply *e = reply->element[i];
        struct cd_ledger_record rec;
        /* A line another version wrote, or garbage: not a diversion. */
        if (e->type == REDIS_REPLY_STRING &&
            cd_ledger_wire_decode(e->str, (size_t)e->len, &rec) == 0)
          cd_ledger_add(view, &rec, now);
      }
      if (view == NULL)
        r->stats.errors++;
    } else if (ok) {
      r->stats.errors++;
    }
    q->cb.fetch(q->arg, view);
    cd_ledger_destroy(view);
    break;
  }
  case Q_CLAIM: {
    int seen = -2;
    if (ok && reply->type == REDIS_REPLY_STATUS)
      seen = 0;
    else if (ok && reply->type == REDIS_REPLY_NIL)
      seen = 1;
    q->cb.claim(q->arg, seen);
    break;
  }
  case Q_WRITE:
    if (!ok)
      r->stats.lost_records++;
    break;
  case Q_DOC:
    q->cb.doc(q->arg, ok && (reply->type == REDIS_REPLY_STATUS || reply->type == REDIS_REPLY_INTEGER));
    break;
  case Q_PING:
    /* Only a PONG says the connection is usable: an -ERR (NOAUTH,
     * LOADING) is not. */
    if (ok && reply->type == REDIS_REPLY_STATUS && !r->up && !r->destroying) {
      r->up = true;
      r->outage_logged = false;
      if (r->was_up) {
        r->stats.reconnects++;
        cd_log(CD_LOG_NOTICE, "store: connected to Redis again");
      }
      r->was_up = true;
    } else if (reply && reply->type == REDIS_REPLY_ERROR && !r->outage_logged) {
      cd_log(CD_LOG_WARNING, "store: Redis answers PING with %s", reply->str);
      r->outage_logged = true;
    }
    break;
  }
}

static void arm_deadline(struct redis_store *r);
static void schedule_reconnect(struct redis_store *r);

/* Drops the connection (hiredis hands back every command in flight) and
 * connects again later. */
static void drop_connection(struct redis_store *r)
{
  redisAsyncContext *ac = r->ac;
  r->ac = NULL;
  r->up = false;
  r->outstanding = 0;
  if (ac)
    redisAsyncFree(ac);
  schedule_reconnect(r);
}

static void deadline_expired(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
  (void)magic; (void)t;
  struct redis_store *r = (struct redis_store *)arg;
  r->timer_armed = false;
  long long now = now_ms();
  while (r->pending && r->pending->deadline_ms <= now)
    answer(r->pending, NULL);
  /* Connected but silent: a hung server must not hold our memory. */
  if (r->ac && r->outstanding > 0 && now - r->last_reply_ms >= STALL_MS) {
    cd_log(CD_LOG_WARNING, "store: Redis has not answered for %d ms, reconnecting", STALL_MS);
    drop_connection(r);
  }
  arm_deadline(r);
}

/* One timer serves every deadline: the pending head's, and the stall
 * check while commands are in flight. */
static void arm_deadline(struct redis_store *r)
{
  if (r->destroying)
    return;
  long long when = LLONG_MAX;
  if (r->pending)
    when = r->pending->deadline_ms;
  if (r->ac && r->outstanding > 0 && r->last_reply_ms + STALL_MS < when)
    when = r->last_reply_ms + STALL_MS;
  if (when == LLONG_MAX || (r->timer_armed && r->armed_for_ms <= when))
    return;
  long long wait = when - now_ms();
  if (su_timer_set_interval(r->deadline_timer, deadline_expired, (su_timer_arg_t *)r,
                            (su_duration_t)(wait < 1 ? 1 : wait)) == 0) {
    r->timer_armed = true;
    r->armed_for_ms = when;
  }
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
  struct redis_store *r = ac->ev.data;
  struct redis_query *q = privdata;   /* NULL: nobody waits for this answer */
  if (r->outstanding)
    r->outstanding--;
  if (reply)
    r->last_reply_ms = now_ms();
  if (q) {
    r->in_callback++;
    answer(q, reply);
    r->in_callback--;
    free(q);
  }
}

/* Sends a command for `q` (NULL q: a command whose answer nobody needs).
 * Returns 0, or -1 when it could not go out: q is then answered
 * "unavailable" and freed. */
static int send_command(struct redis_store *r, struct redis_query *q, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
/* After a command was (rc == REDIS_OK) or could not be queued. */
static int queued(struct redis_store *r, struct redis_query *q, int rc)
{
  if (rc != REDIS_OK) {
    if (q) {
      answer(q, NULL);
      free(q);
    }
    return -1;
  }
  if (r->outstanding++ == 0)
    r->last_reply_ms = now_ms();
  if (q && q->kind != Q_WRITE && q->kind != Q_PING) {
    q->prev = r->pending_tail;
    *r->pending_tail = q;
    r->pending_tail = &q->next;
  }
  arm_deadline(r);
  return 0;
}

static void query_start(struct redis_store *r, struct redis_query *q)
{
  if (q) {
    q->store = r;
    q->deadline_ms = now_ms() + r->conf.timeout_ms;
    q->sent = cd_store_clock();
  }
}

static int send_command(struct redis_store *r, struct redis_query *q, const char *fmt, ...)
{
  query_start(r, q);
  int rc = REDIS_ERR;
  if (r->ac && r->outstanding < MAX_OUTSTANDING) {
    va_list ap;
    va_start(ap, fmt);
    rc = redisvAsyncCommand(r->ac, on_reply, q, fmt, ap);
    va_end(ap);
  }
  return queued(r, q, rc);
}

/* The same with arguments as they are (binary-safe). */
static int send_argv(struct redis_store *r, struct redis_query *q, int argc, const char **argv,
                     const size_t *lens)
{
  query_start(r, q);
  int rc = REDIS_ERR;
  if (r->ac && r->outstanding < MAX_OUTSTANDING)
    rc = redisAsyncCommandArgv(r->ac, on_reply, q, argc, argv, lens);
  return queued(r, q, rc);
}

/* Writes what is queued now rather than on the next turn of the loop: a
 * record another instance may be asked about goes out before the SIP
 * message that could lead to the question. Not from inside a hiredis
 * callback: a failed write there would free the context under hiredis's
 * feet (the loop writes it a moment later instead). */
static void flush(struct redis_store *r)
{
  if (r->ac && r->up && r->in_callback == 0)
    redisAsyncHandleWrite(r->ac);
}

static struct redis_query *query_new(enum query_kind kind, void *arg)
{
  struct redis_query *q = calloc(1, sizeof *q);
  if (q) {
    q->kind = kind;
    q->arg = arg;
  }
  return q;
}

/* ------------------------------------------------------------ connection */

static void reconnect_due(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
  (void)magic; (void)t;
  store_connect((struct redis_store *)arg);
}

static void schedule_reconnect(struct redis_store *r)
{
  if (!r->destroying)
    su_timer_set_interval(r->reconnect_timer, reconnect_due, (su_timer_arg_t *)r, RECONNECT_MS);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
  struct redis_store *r = ac->ev.data;
  if (status != REDIS_OK) {
    /* hiredis frees the context after this call. */
    if (!r->outage_logged)
      cd_log(CD_LOG_WARNING, "store: cannot connect to Redis: %s", ac->errstr);
    r->outage_logged = true;
    r->ac = NULL;
    r->up = false;
    r->outstanding = 0;
    schedule_reconnect(r);
  }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
  struct redis_store *r = ac->ev.data;
  (void)status;
  if (!r->destroying && !r->outage_logged)
    cd_log(CD_LOG_WARNING, "store: lost the Redis connection%s%s; calls go on, inquiries are denied",
           ac->errstr[0] ? ": " : "", ac->errstr);
  r->outage_logged = true;
  r->ac = NULL;
  r->up = false;
  r->outstanding = 0;
  schedule_reconnect(r);
}

static void store_connect(struct redis_store *r)
{
  redisAsyncContext *ac = r->conf.socket ? redisAsyncConnectUnix(r->conf.socket)
                                         : redisAsyncConnect(r->conf.host, r->conf.port);
  if (ac == NULL || ac->err) {
    if (ac)
      redisAsyncFree(ac);
    schedule_reconnect(r);
    return;
  }
  /* r->ac first: setting the connect callback already asks for write
   * interest. */
  r->ac = ac;
  r->outstanding = 0;
  ac->ev.data = r;
  ac->ev.addRead = ev_add_read;
  ac->ev.delRead = ev_del_read;
  ac->ev.addWrite = ev_add_write;
  ac->ev.delWrite = ev_del_write;
  ac->ev.cleanup = ev_cleanup;
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  if (r->conf.password)
    send_command(r, NULL, "AUTH %s", r->conf.password);
  if (r->conf.database)
    send_command(r, NULL, "SELECT %d", r->conf.database);
  /* The PING's answer marks the store up again. */
  struct redis_query *ping = query_new(Q_PING, NULL);
  if (ping)
    send_command(r, ping, "PING");
}

/* A blocking command at start-up: NULL when it went well, else what
 * went wrong (in `buf`). */
static const char *startup_command(redisContext *c, char *buf, size_t len, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
static const char *startup_command(redisContext *c, char *buf, size_t len, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  redisReply *reply = redisvCommand(c, fmt, ap);
  va_end(ap);
  if (reply != NULL && reply->type != REDIS_REPLY_ERROR) {
    freeReplyObject(reply);
    return NULL;
  }
  snprintf(buf, len, "%s", reply ? reply->str : c->errstr[0] ? c->errstr : "no answer");
  freeReplyObject(reply);
  return buf;
}

/* A blocking connection, authenticated, its database selected and
 * answering PING: NULL with why in err. At start-up and for loading the
 * documents only. */
static redisContext *connect_blocking(const struct cd_store_conf *conf, char *err, size_t errlen)
{
  struct timeval tv = { START_TIMEOUT_MS / 1000, (START_TIMEOUT_MS % 1000) * 1000 };
  char where[300], why[200];
  if (conf->socket)
    snprintf(where, sizeof where, "unix:%s", conf->socket);
  else
    snprintf(where, sizeof where, "%s:%d", conf->host, conf->port);
  redisContext *c = conf->socket ? redisConnectUnixWithTimeout(conf->socket, tv)
                                 : redisConnectWithTimeout(conf->host, conf->port, tv);
  if (c == NULL || c->err) {
    snprintf(err, errlen, "cannot connect to Redis at %s: %s", where,
             c ? c->errstr : "out of memory");
    redisFree(c);
    return NULL;
  }
  redisSetTimeout(c, tv);
  const char *step = "AUTH", *failed = NULL;
  if (conf->password)
    failed = startup_command(c, why, sizeof why, "AUTH %s", conf->password);
  if (!failed && conf->database)
    step = "SELECT", failed = startup_command(c, why, sizeof why, "SELECT %d", conf->database);
  if (!failed)
    step = "PING", failed = startup_command(c, why, sizeof why, "PING");
  if (failed) {
    snprintf(err, errlen, "Redis at %s refused %s: %s", where, step, failed);
    redisFree(c);
    return NULL;
  }
  return c;
}

/* At start-up only: a blocking check that Redis is there and lets us in. */
static int check_reachable(const struct cd_store_conf *conf, char *err, size_t errlen)
{
  redisContext *c = connect_blocking(conf, err, errlen);
  redisFree(c);
  return c ? 0 : -1;
}

/* ------------------------------------------------------------ operations */

static int redis_reg_update(struct cd_store *store, const char *key, long expires)
{
  struct redis_store *r = (struct redis_store *)store;
  if (key == NULL || *key == '\0' || strlen(key) >= CD_IDENTITY_KEY_MAX)
    return -1;
  long long expiry = expires > 0 ? (long long)time(NULL) + expires : 0;
  long long ttl = (long long)expires + r->conf.registration_retain;
  struct redis_query *q = query_new(Q_WRITE, NULL);
  if (q == NULL) {
    r->stats.lost_records++;
    return -1;
  }
  if (send_command(r, q, "SET %sreg:%s %lld EX %lld", r->conf.prefix, key, expiry, ttl) < 0)
    return -1;
  flush(r);
  return 0;
}

static struct cd_store_query *redis_reg_status(struct cd_store *store, const char *key,
                                               cd_store_reg_cb cb, void *arg)
{
  struct redis_store *r = (struct redis_store *)store;
  struct redis_query *q = query_new(Q_REG, arg);
  if (q == NULL || r->ac == NULL) {
    free(q);
    r->stats.errors++;
    cb(arg, CD_REG_UNKNOWN, false);
    return NULL;
  }
  q->cb.reg = cb;
  /* When it cannot be sent, it is answered (and freed) already. */
  return send_command(r, q, "GET %sreg:%s", r->conf.prefix, key) == 0 ? &q->base : NULL;
}

static void redis_ledger_add(struct cd_store *store, const struct cd_ledger_record *rec)
{
  struct redis_store *r = (struct redis_store *)store;
  if (r->limits.ledger_ttl <= 0)
    return;
  char *line = cd_ledger_wire_encode(rec);
  struct redis_query *q = line ? query_new(Q_WRITE, NULL) : NULL;
  if (q == NULL) {
    free(line);
    r->stats.lost_records++;
    return;
  }
  send_command(r, q, "RPUSH %sledger:%s %s", r->conf.prefix, rec->caller, line);
  send_command(r, NULL, "LTRIM %sledger:%s -%lu -1", r->conf.prefix, rec->caller,
               (unsigned long)r->limits.ledger_records);
  send_command(r, NULL, "EXPIRE %sledger:%s %ld", r->conf.prefix, rec->caller,
               r->limits.ledger_ttl);
  free(line);
  flush(r);
}

static struct cd_store_query *redis_ledger_fetch(struct cd_store *store, const char *caller,
                                                 cd_store_ledger_cb cb, void *arg)
{
  struct redis_store *r = (struct redis_store *)store;
  struct redis_query *q = query_new(Q_FETCH, arg);
  if (q == NULL || r->ac == NULL || r->limits.ledger_ttl <= 0) {
    free(q);
    r->stats.errors++;
    cb(arg, NULL);
    return NULL;
  }
  q->cb.fetch = cb;
  return send_command(r, q, "LRANGE %sledger:%s -%lu -1", r->conf.prefix, caller,
                      (unsigned long)r->limits.ledger_records) == 0 ? &q->base : NULL;
}

static struct cd_store_query *redis_replay_claim(struct cd_store *store, const char *kms_id,
                                                 const char *inquiry_id,
                                                 cd_store_claim_cb cb, void *arg)
{
  struct redis_store *r = (struct redis_store *)store;
  struct redis_query *q = query_new(Q_CLAIM, arg);
  char hex[33];
  if (q == NULL || r->ac == NULL || cd_replay_pair_hex(kms_id, inquiry_id, hex) < 0) {
    free(q);
    r->stats.errors++;
    cb(arg, -2);
    return NULL;
  }
  q->cb.claim = cb;
  return send_command(r, q, "SET %sreplay:%s 1 NX EX %d", r->conf.prefix, hex,
                      2 * CD_AUTH_WINDOW + 1) == 0 ? &q->base : NULL;
}

static struct cd_store_query *redis_doc_write(struct cd_store *store, const char *key,
                                              const char *text, size_t len,
                                              cd_store_doc_cb cb, void *arg)
{
  struct redis_store *r = (struct redis_store *)store;
  struct redis_query *q = query_new(Q_DOC, arg);
  if (q == NULL || r->ac == NULL) {
    free(q);
    r->stats.errors++;
    cb(arg, false);
    return NULL;
  }
  q->cb.doc = cb;
  char *name = malloc(strlen(r->conf.prefix) + strlen(key) + 10);
  if (name == NULL) {
    free(q);
    cb(arg, false);
    return NULL;
  }
  sprintf(name, "%ssimservs:%s", r->conf.prefix, key);
  const char *argv[3] = { text ? "SET" : "DEL", name, text };
  size_t lens[3] = { text ? 3 : 3, strlen(name), len };
  int rc = send_argv(r, q, text ? 3 : 2, argv, lens);
  free(name);
  if (rc < 0)
    return NULL;
  flush(r);
  return &q->base;
}

/* The SCAN pattern of the documents: the prefix with glob characters
 * escaped, then simservs:*. */
static void doc_pattern(const char *prefix, char *out, size_t size)
{
  size_t k = 0;
  for (const char *p = prefix; *p && k + 2 < size; p++) {
    if (*p == '*' || *p == '?' || *p == '[' || *p == ']' || *p == '\\')
      out[k++] = '\\';
    out[k++] = *p;
  }
  snprintf(out + k, size - k, "simservs:*");
}

static int redis_doc_load(struct cd_store *store, cd_store_doc_each each, void *arg,
                          char *err, size_t errlen)
{
  struct redis_store *r = (struct redis_store *)store;
  redisContext *c = connect_blocking(&r->conf, err, errlen);
  if (c == NULL)
    return -1;
  char pattern[600];
  doc_pattern(r->conf.prefix, pattern, sizeof pattern);
  size_t skip = strlen(r->conf.prefix) + strlen("simservs:");
  char cursor[32] = "0";
  int rc = 0;
  do {
    redisReply *scan = redisCommand(c, "SCAN %s MATCH %s COUNT 500", cursor, pattern);
    if (scan == NULL || scan->type != REDIS_REPLY_ARRAY || scan->elements != 2 ||
        scan->element[0]->type != REDIS_REPLY_STRING || scan->element[1]->type != REDIS_REPLY_ARRAY) {
      snprintf(err, errlen, "Redis SCAN failed: %s", scan && scan->type == REDIS_REPLY_ERROR ? scan->str
                                                     : c->errstr[0] ? c->errstr : "unexpected answer");
      freeReplyObject(scan);
      rc = -1;
      break;
    }
    snprintf(cursor, sizeof cursor, "%s", scan->element[0]->str);
    redisReply *keys = scan->element[1];
    for (size_t i = 0; i < keys->elements; i++) {
      redisReply *k = keys->element[i];
      if (k->type != REDIS_REPLY_STRING || (size_t)k->len <= skip || (size_t)k->len - skip >= CD_IDENTITY_KEY_MAX)
        continue;
      redisReply *v = redisCommand(c, "GET %b", k->str, (size_t)k->len);
      const char *key = k->str + skip;
      if (v && v->type == REDIS_REPLY_STRING)
        each(arg, key, v->str, (size_t)v->len, k->str, NULL);
      else if (!v || v->type != REDIS_REPLY_NIL)
        each(arg, key, NULL, 0, k->str, v && v->type == REDIS_REPLY_ERROR ? v->str : "cannot read");
      freeReplyObject(v);
    }
    freeReplyObject(scan);
  } while (strcmp(cursor, "0") != 0);
  redisFree(c);
  return rc;
}

static void redis_stats(const struct cd_store *store, struct cd_store_stats *out)
{
  const struct redis_store *r = (const struct redis_store *)store;
  out->backend = "redis";
  out->up = r->up;
  out->errors = r->stats.errors;
  out->lost_records = r->stats.lost_records;
  out->reconnects = r->stats.reconnects;
}

static void redis_destroy(struct cd_store *store)
{
  struct redis_store *r = (struct redis_store *)store;
  r->destroying = true;
  /* Answers what waits, then hands back every command in flight. */
  while (r->pending)
    answer(r->pending, NULL);
  drop_connection(r);
  su_timer_destroy(r->reconnect_timer);
  su_timer_destroy(r->deadline_timer);
  free(r->conf.host);
  free(r->conf.socket);
  free(r->conf.password);
  free(r->conf.prefix);
  free(r);
}

static const struct cd_store_ops redis_ops = {
  redis_destroy, redis_reg_update, redis_reg_status, redis_ledger_add,
  redis_ledger_fetch, redis_replay_claim, redis_stats, redis_doc_write, redis_doc_load,
};

static char *dup_or_null(const char *s, bool *oom)
{
  if (s == NULL)
    return NULL;
  char *d = strdup(s);
  if (d == NULL)
    *oom = true;
  return d;
}

struct cd_store *cd_store_redis_create(su_root_t *root, const struct cd_store_conf *conf,
                                       const struct cd_store_limits *limits,
                                       char *err, size_t errlen)
{
  if (check_reachable(conf, err, errlen) < 0)
    return NULL;
  /* Reconnecting must never wait for DNS inside the event loop: the name
   * is resolved here, once, and later connections use the address. */
  char numeric[NI_MAXHOST] = "";
  if (conf->socket == NULL) {
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
    if (getaddrinfo(conf->host, NULL, &hints, &ai) != 0 || ai == NULL ||
        getnameinfo(ai->ai_addr, ai->ai_addrlen, numeric, sizeof numeric, NULL, 0,
                    NI_NUMERICHOST) != 0) {
      if (ai)
        freeaddrinfo(ai);
      snprintf(err, errlen, "cannot resolve the Redis host %s", conf->host);
      return NULL;
    }
    freeaddrinfo(ai);
  }
  struct redis_store *r = calloc(1, sizeof *r);
  if (r == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  bool oom = false;
  r->base.ops = &redis_ops;
  r->root = root;
  r->conf = *conf;
  r->conf.host = dup_or_null(numeric[0] ? numeric : "127.0.0.1", &oom);
  r->conf.socket = dup_or_null(conf->socket, &oom);
  r->conf.password = dup_or_null(conf->password, &oom);
  r->conf.prefix = dup_or_null(conf->prefix ? conf->prefix : "cdivas:", &oom);
  r->limits = *limits;
  if (r->limits.ledger_records == 0)
    r->limits.ledger_records = 1;
  r->pending_tail = &r->pending;
  r->reconnect_timer = su_timer_create(su_root_task(root), RECONNECT_MS);
  r->deadline_timer = su_timer_create(su_root_task(root), conf->timeout_ms);
  if (oom || r->reconnect_timer == NULL || r->deadline_timer == NULL) {
    snprintf(err, errlen, "out of memory");
    redis_destroy(&r->base);
    return NULL;
  }
  store_connect(r);
  if (r->ac == NULL) {
    snprintf(err, errlen, "cannot connect to Redis");
    redis_destroy(&r->base);
    return NULL;
  }
  return &r->base;
}
