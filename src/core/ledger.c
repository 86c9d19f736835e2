/*
 * ledger.c - the diversions cdivas performed (see ledger.h).
 *
 * Design:
 *  - One allocation per record: a small header followed by the six strings
 *    back to back. The header keeps 16-bit offsets instead of the seven
 *    pointers of struct cd_ledger_record (a field is at most 1024 bytes, so
 *    all of them fit in 6150 bytes); the public struct is rebuilt on the
 *    stack when a record is handed to link_ok.
 *  - A singly linked FIFO in insertion order. `now` never goes back, so the
 *    head is the oldest record: expiry and eviction only ever remove the
 *    head. (Expiry stops at the first live head; a record whose `when` is
 *    older than an earlier one's lingers until it reaches the head, but is
 *    never counted: every lookup checks liveness itself.)
 *  - A chained hash index on (caller, served), FNV-1a, with per-record
 *    `next` and `pprev` (pointer to whatever points at the record), so the
 *    head of the FIFO is unlinked in O(1) however many records share its
 *    bucket. The bucket array doubles when it holds fewer buckets than
 *    records (load factor <= 1); a failed growth only makes chains longer.
 *    FNV-1a is unkeyed: callers choosing colliding identities can only
 *    lengthen a chain (slower, never wrong), and max_records bounds it.
 *  - cd_ledger_find_chain is a breadth-first search over states (user
 *    reached, call_id) with a visited set, so duplicate records (the same
 *    Call-ID reused in many INVITEs) cannot make it exponential: each state
 *    is expanded once, and the first level where the requester shows up is
 *    the shortest chain, which is what the hop limit is about.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* strnlen */
#endif
#include "core/ledger.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_MAX 1024
#define N_STR 6            /* caller served target call_id hi_index ticket_hash */
#define INITIAL_BUCKETS 64

/* Offsets into entry.data, in this order; caller is at 0. */
enum { F_CALLER, F_SERVED, F_TARGET, F_CALL_ID, F_HI_INDEX, F_TICKET };

struct entry {
  struct entry *fifo_next;     /* next newer record */
  struct entry *next;          /* next in the hash chain */
  struct entry **pprev;        /* the pointer that points at this entry */
  long when;
  uint32_t hash;               /* of (caller, served) */
  int32_t cause;
  uint16_t off[N_STR - 1];     /* offsets of served..ticket_hash */
  uint8_t service;
  char data[];                 /* "caller\0served\0target\0call_id\0hi\0ticket\0" */
};

struct cd_ledger {
  size_t max_records;
  long ttl;
  struct entry *oldest, *newest;
  size_t size;
  size_t evictions;
  struct entry **buckets;
  size_t n_buckets;            /* power of two */
};

/* ------------------------------------------------------------- helpers */

static uint32_t pair_hash(const char *caller, const char *served)
{
  uint64_t h = 1469598103934665603ull;   /* FNV-1a over caller '\0' served */
  for (const char *s = caller; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  h *= 1099511628211ull;                 /* the separating '\0' */
  for (const char *s = served; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (uint32_t)(h ^ (h >> 32));
}

static const char *field(const struct entry *e, int f)
{
  return f == F_CALLER ? e->data : e->data + e->off[f - 1];
}

/* Live while now < when + ttl, written so that no operand can overflow. */
static bool is_live(const struct cd_ledger *l, long when, long now)
{
  if (now < when)
    return true;                         /* ttl > 0, see cd_ledger_create */
  return (unsigned long)now - (unsigned long)when < (unsigned long)l->ttl;
}

static void view(const struct entry *e, struct cd_ledger_record *rec)
{
  rec->caller = field(e, F_CALLER);
  rec->served = field(e, F_SERVED);
  rec->target = field(e, F_TARGET);
  rec->service = (enum cd_service)e->service;
  rec->cause = e->cause;
  rec->when = e->when;
  rec->call_id = field(e, F_CALL_ID);
  rec->hi_index = field(e, F_HI_INDEX);
  rec->ticket_hash = field(e, F_TICKET);
}

/* Size of the allocation holding a record with these string lengths. */
static size_t entry_size(const size_t len[N_STR])
{
  size_t n = offsetof(struct entry, data);
  for (int i = 0; i < N_STR; i++)
    n += len[i] + 1;
  return n;
}

/* ------------------------------------------------------------- index */

static void index_link(struct entry **buckets, size_t n_buckets, struct entry *e)
{
  struct entry **head = &buckets[e->hash & (n_buckets - 1)];
  e->next = *head;
  if (*head)
    (*head)->pprev = &e->next;
  e->pprev = head;
  *head = e;
}

static void index_unlink(struct entry *e)
{
  *e->pprev = e->next;
  if (e->next)
    e->next->pprev = e->pprev;
}

/* Doubles the bucket array; on allocation failure keeps the old one. */
static void index_grow(struct cd_ledger *l)
{
  size_t n = l->n_buckets * 2;
  if (n < l->n_buckets || n > SIZE_MAX / sizeof *l->buckets)
    return;
  struct entry **b = calloc(n, sizeof *b);
  if (b == NULL)
    return;
  /* Oldest first, each pushed at its chain's head: chains stay newest first. */
  for (struct entry *e = l->oldest; e; e = e->fifo_next)
    index_link(b, n, e);
  free(l->buckets);
  l->buckets = b;
  l->n_buckets = n;
}

/* ------------------------------------------------------------- lifecycle */

struct cd_ledger *cd_ledger_create(size_t max_records, long ttl)
{
  if (max_records == 0 || ttl <= 0)
    return NULL;                         /* a ledger that holds nothing is a bug */
  struct cd_ledger *l = calloc(1, sizeof *l);
  if (l == NULL)
    return NULL;
  l->buckets = calloc(INITIAL_BUCKETS, sizeof *l->buckets);
  if (l->buckets == NULL) {
    free(l);
    return NULL;
  }
  l->n_buckets = INITIAL_BUCKETS;
  l->max_records = max_records;
  l->ttl = ttl;
  return l;
}

void cd_ledger_destroy(struct cd_ledger *l)
{
  if (l == NULL)
    return;
  for (struct entry *e = l->oldest, *next; e; e = next) {
    next = e->fifo_next;
    free(e);
  }
  free(l->buckets);
  free(l);
}

static void drop_oldest(struct cd_ledger *l)
{
  struct entry *e = l->oldest;
  index_unlink(e);
  l->oldest = e->fifo_next;
  if (l->oldest == NULL)
    l->newest = NULL;
  l->size--;
  free(e);
}

void cd_ledger_expire(struct cd_ledger *l, long now)
{
  if (l == NULL)
    return;
  while (l->oldest && !is_live(l, l->oldest->when, now))
    drop_oldest(l);
}

/* ------------------------------------------------------------- add */

/* Lengths of the six strings; NULL optional fields count as "". Returns -1
 * for a missing or empty caller/served/target or a field over FIELD_MAX. */
static int field_lengths(const struct cd_ledger_record *rec, const char *s[N_STR],
                         size_t len[N_STR])
{
  s[F_CALLER] = rec->caller;
  s[F_SERVED] = rec->served;
  s[F_TARGET] = rec->target;
  s[F_CALL_ID] = rec->call_id ? rec->call_id : "";
  s[F_HI_INDEX] = rec->hi_index ? rec->hi_index : "";
  s[F_TICKET] = rec->ticket_hash ? rec->ticket_hash : "";
  for (int i = 0; i < N_STR; i++) {
    if (s[i] == NULL)
      return -1;
    len[i] = strnlen(s[i], FIELD_MAX + 1);
    if (len[i] > FIELD_MAX || (i <= F_TARGET && len[i] == 0))
      return -1;
  }
  return 0;
}

static struct entry *entry_new(const struct cd_ledger_record *rec)
{
  const char *s[N_STR];
  size_t len[N_STR];
  if (field_lengths(rec, s, len) < 0)
    return NULL;
  struct entry *e = malloc(entry_size(len));
  if (e == NULL)
    return NULL;
  size_t pos = 0;
  for (int i = 0; i < N_STR; i++) {
    if (i > 0)
      e->off[i - 1] = (uint16_t)pos;
    memcpy(e->data + pos, s[i], len[i] + 1);
    pos += len[i] + 1;
  }
  e->fifo_next = NULL;
  e->when = rec->when;
  e->cause = rec->cause;
  e->service = (uint8_t)rec->service;
  e->hash = pair_hash(rec->caller, rec->served);
  return e;
}

int cd_ledger_add(struct cd_ledger *l, const struct cd_ledger_record *rec, long now)
{
  if (l == NULL || rec == NULL || (unsigned)rec->service >= CD_SVC_COUNT)
    return -1;
  struct entry *e = entry_new(rec);
  if (e == NULL)
    return -1;
  cd_ledger_expire(l, now);
  while (l->size >= l->max_records) {
    drop_oldest(l);
    l->evictions++;
  }
  if (l->size >= l->n_buckets)
    index_grow(l);
  index_link(l->buckets, l->n_buckets, e);
  if (l->newest)
    l->newest->fifo_next = e;
  else
    l->oldest = e;
  l->newest = e;
  l->size++;
  return 0;
}

/* ------------------------------------------------------------- search */

/* Breadth-first search state. Each visited state (user reached, call_id)
 * is represented by the record that reached it (its target and call_id).
 * The states array is also the BFS queue; `set` indexes it by state so
 * that a flood of records (many INVITEs of one caller) stays linear. */
struct search {
  const struct cd_ledger *l;
  const char *initiator, *requester, *ticket_hash;
  long now;
  cd_ledger_link_ok link_ok;
  void *ctx;
  const struct entry **states;   /* visited states, in BFS order */
  size_t n_states, cap_states;
  size_t *set;                   /* open addressing: state index + 1, 0 = free */
  size_t set_size;               /* power of two, 2 * cap_states */
  bool failed;                   /* allocation failure: the answer is false */
};

static uint32_t state_hash(const struct entry *e)
{
  return pair_hash(field(e, F_TARGET), field(e, F_CALL_ID));
}

static bool same_state(const struct entry *a, const struct entry *b)
{
  return strcmp(field(a, F_TARGET), field(b, F_TARGET)) == 0 &&
         strcmp(field(a, F_CALL_ID), field(b, F_CALL_ID)) == 0;
}

/* The set slot holding the state of `e`, or the free slot where it goes. */
static size_t set_slot(const struct search *s, const struct entry *e)
{
  size_t mask = s->set_size - 1, i = state_hash(e) & mask;
  while (s->set[i] && !same_state(s->states[s->set[i] - 1], e))
    i = (i + 1) & mask;
  return i;
}

/* Doubles the states array and rebuilds the set (kept at most half full). */
static bool search_grow(struct search *s)
{
  size_t cap = s->cap_states ? s->cap_states * 2 : 16;
  if (cap > SIZE_MAX / (2 * sizeof(size_t)))
    return false;
  const struct entry **p = realloc(s->states, cap * sizeof *p);
  if (p == NULL)
    return false;
  s->states = p;
  size_t *set = calloc(2 * cap, sizeof *set);
  if (set == NULL)
    return false;
  free(s->set);
  s->set = set;
  s->set_size = 2 * cap;
  s->cap_states = cap;
  for (size_t i = 0; i < s->n_states; i++)
    s->set[set_slot(s, s->states[i])] = i + 1;
  return true;
}

/* Queues the state reached by `e` unless already visited. */
static void visit(struct search *s, const struct entry *e)
{
  if (s->set && s->set[set_slot(s, e)])
    return;
  if (s->n_states == s->cap_states && !search_grow(s)) {
    s->failed = true;
    return;
  }
  size_t slot = set_slot(s, e);
  s->states[s->n_states++] = e;
  s->set[slot] = s->n_states;
}

/* A record may serve as a hop: live, ticket hashes agree, link_ok agrees. */
static bool usable(const struct search *s, const struct entry *e)
{
  if (!is_live(s->l, e->when, s->now))
    return false;
  const char *t = field(e, F_TICKET);
  if (s->ticket_hash[0] && t[0] && strcmp(t, s->ticket_hash) != 0)
    return false;
  if (s->link_ok == NULL)
    return true;
  struct cd_ledger_record rec;
  view(e, &rec);
  return s->link_ok(&rec, s->ctx);
}

/* Follows the records (initiator, served) of call `call_id` (NULL: of any
 * call). Returns true when one reaches the requester; otherwise queues the
 * states reached, when `more` hops are allowed. A record without a call_id
 * ends its chain: two such records are not known to be the same call. */
static bool expand(struct search *s, const char *served, const char *call_id, bool more)
{
  const struct cd_ledger *l = s->l;
  uint32_t h = pair_hash(s->initiator, served);
  for (const struct entry *e = l->buckets[h & (l->n_buckets - 1)]; e; e = e->next) {
    if (e->hash != h || strcmp(field(e, F_CALLER), s->initiator) != 0 ||
        strcmp(field(e, F_SERVED), served) != 0)
      continue;
    if (call_id && strcmp(field(e, F_CALL_ID), call_id) != 0)
      continue;
    if (!usable(s, e))
      continue;
    if (strcmp(field(e, F_TARGET), s->requester) == 0)
      return true;
    if (more && field(e, F_CALL_ID)[0] != '\0')
      visit(s, e);
    if (s->failed)
      return false;
  }
  return false;
}

static bool search_levels(struct search *s, const char *intended, size_t max_hops)
{
  if (expand(s, intended, NULL, max_hops > 1))
    return true;
  size_t level_start = 0;
  for (size_t hop = 2; hop <= max_hops && !s->failed; hop++) {
    size_t level_end = s->n_states;
    if (level_start == level_end)
      return false;
    for (size_t i = level_start; i < level_end && !s->failed; i++) {
      const struct entry *e = s->states[i];
      if (expand(s, field(e, F_TARGET), field(e, F_CALL_ID), hop < max_hops))
        return !s->failed;
    }
    level_start = level_end;
  }
  return false;
}

bool cd_ledger_find_chain(const struct cd_ledger *ledger, const char *initiator,
                          const char *intended, const char *requester,
                          const char *ticket_hash, size_t max_hops, long now,
                          cd_ledger_link_ok link_ok, void *ctx)
{
  if (ledger == NULL || initiator == NULL || intended == NULL || requester == NULL ||
      max_hops == 0 || !initiator[0] || !intended[0] || !requester[0])
    return false;
  struct search s = {
    .l = ledger, .initiator = initiator, .requester = requester,
    .ticket_hash = ticket_hash ? ticket_hash : "", .now = now,
    .link_ok = link_ok, .ctx = ctx,
  };
  bool found = search_levels(&s, intended, max_hops);
  free(s.states);
  free(s.set);
  return found && !s.failed;
}

/* ------------------------------------------------------------- sizes */

size_t cd_ledger_size(const struct cd_ledger *ledger)
{
  return ledger ? ledger->size : 0;
}

size_t cd_ledger_evictions(const struct cd_ledger *ledger)
{
  return ledger ? ledger->evictions : 0;
}

/* glibc's malloc on a 64-bit host: a chunk is the request plus an 8-byte
 * size header, rounded up to 16 bytes, at least 32 (malloc_usable_size()
 * then reports the chunk minus 8). Other allocators are close to this. */
static size_t malloc_chunk(size_t request)
{
  size_t align = 2 * sizeof(size_t);
  size_t chunk = (request + sizeof(size_t) + align - 1) & ~(align - 1);
  return chunk < 4 * sizeof(size_t) ? 4 * sizeof(size_t) : chunk;
}

size_t cd_ledger_record_bytes(const struct cd_ledger_record *rec)
{
  const char *s[N_STR];
  size_t len[N_STR];
  if (rec == NULL || field_lengths(rec, s, len) < 0)
    return 0;
  /* The bucket array holds between one and two pointers per record (it
   * doubles when full): count the worst case. */
  return malloc_chunk(entry_size(len)) + 2 * sizeof(struct entry *);
}
