/*
 * ledger.h - the diversions cdivas actually performed, kept briefly so the
 * KMS inquiry can be answered from facts rather than from settings.
 *
 * Each record says: in call `call_id`, the call from `caller` to the
 * served user `served` was diverted to `target` by `service` with `cause`,
 * at `when`, and the INVITE carried a MIKEY ticket whose SHA-256 is
 * `ticket_hash` (hex, "" when none). Identities are canonical keys
 * (identity.h), mapped to a subscriber's main key when they are one of its
 * aliases, so aliases compare equal.
 *
 * Bounded in time and size: a record lives `ttl` seconds after its
 * diversion, whatever happens to the call; when `max_records` are held the
 * oldest is evicted. Records are indexed by (caller, served) so an inquiry
 * costs O(records for that pair), not O(ledger).
 *
 * Pure: the caller passes the time (seconds; the same clock for add and
 * lookup).
 */
#ifndef CDIVAS_LEDGER_H
#define CDIVAS_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include "core/conf.h"

struct cd_ledger_record {
  const char *caller;
  const char *served;
  const char *target;
  enum cd_service service;
  int cause;
  long when;
  const char *call_id;
  const char *hi_index;     /* History-Info index of the target's entry, e.g. "1.1.1" */
  const char *ticket_hash;  /* 64 lower-case hex digits, or "" */
};

struct cd_ledger;

/* Returns NULL on allocation failure, or when max_records is 0 or ttl <= 0. */
struct cd_ledger *cd_ledger_create(size_t max_records, long ttl);
void cd_ledger_destroy(struct cd_ledger *ledger);

/* Copies `rec` into the ledger (expiring old records first, then evicting
 * the oldest while the ledger is full). Returns 0, or -1 on allocation
 * failure, a field longer than 1024 bytes, a NULL or empty caller, served
 * or target, or an unknown service. NULL call_id, hi_index and ticket_hash
 * are stored as "". `now` must never go back; a record is live while
 * now < when + ttl. */
int cd_ledger_add(struct cd_ledger *ledger, const struct cd_ledger_record *rec, long now);

/* Drops the records older than ttl at `now`. */
void cd_ledger_expire(struct cd_ledger *ledger, long now);

/* Calls link_ok(record, ctx) for each candidate hop; NULL accepts all. */
typedef bool (*cd_ledger_link_ok)(const struct cd_ledger_record *rec, void *ctx);

/* True when live records at `now` link `intended` to `requester` for
 * calls from `initiator`: one record (initiator, intended -> requester),
 * or a chain intended -> X -> ... -> requester of at most `max_hops`
 * records of the same call (same non-empty call_id: records without one
 * never chain), each accepted by link_ok. When `ticket_hash` is non-empty
 * (NULL counts as ""), every record of the chain that has a ticket hash
 * must carry that one. The search is breadth-first over (user, call_id),
 * so its cost stays linear in the records examined; it allocates a little,
 * and an allocation failure is a false. */
bool cd_ledger_find_chain(const struct cd_ledger *ledger, const char *initiator,
                          const char *intended, const char *requester,
                          const char *ticket_hash, size_t max_hops, long now,
                          cd_ledger_link_ok link_ok, void *ctx);

size_t cd_ledger_size(const struct cd_ledger *ledger);
size_t cd_ledger_evictions(const struct cd_ledger *ledger);

/* Bytes a record with these field lengths takes, all overheads included
 * (for the documentation and the memory benchmark): its allocation as
 * glibc's 64-bit malloc rounds it (8-byte header, 16-byte steps) plus two
 * bucket pointers (the worst case of the doubling index). 0 for a record
 * cd_ledger_add would refuse. */
size_t cd_ledger_record_bytes(const struct cd_ledger_record *rec);

#endif
