/*
 * history_info.h - History-Info (RFC 7044) with cause-param (RFC 4458).
 *
 * A call keeps one cd_hi_chain: the entries that arrived in the INVITE
 * (kept verbatim, never renumbered or rewritten) followed by the entries
 * cdivas added ("ours"). Only our entries are ever formatted into a new
 * History-Info header; received header lines stay in the message as they
 * came, so the receiver sees the whole chain in order.
 *
 * Received numbering is taken liberally: an entry whose index is missing,
 * malformed ("01", "1..2", "a"), given twice or already used by an earlier
 * entry is kept, verbatim, without an index (index ""), and still counts
 * as a diversion when it has a cause. Our entries always get an index
 * that is well formed and unused in the chain: after a last entry without
 * one, they continue under the last index there is with a 0 level, the
 * gap marker of RFC 7044 10.3 rule 6 ("1.1" -> "1.1.0.1"; "0.1" when no
 * entry has an index).
 *
 * Strings in, strings out: no Sofia-SIP types.
 */
#ifndef CDIVAS_HISTORY_INFO_H
#define CDIVAS_HISTORY_INFO_H

#include <stdbool.h>
#include <stddef.h>

/* A chain longer than this is refused as malformed (hostile input bound). */
#define CD_HI_MAX_ENTRIES 128
/* Longest index string accepted, e.g. "1.1.1.1". */
#define CD_HI_INDEX_MAX 64

typedef struct cd_hi_entry {
  char *uri;          /* hi-targeted-to-uri inside <>, with its ?headers, verbatim */
  char index[CD_HI_INDEX_MAX]; /* "1.1.2"; "" for a received entry without a usable one */
  char parent[CD_HI_INDEX_MAX];/* value of mp=, rc= or np= ("" when none or malformed) */
  char tag;           /* 'm' for mp, 'r' for rc, 'n' for np, 0 for none */
  int cause;          /* cause-param of the URI (before any '?'), 0 when none */
  char *reason;       /* ours only: unescaped Reason header value, or NULL */
  bool privacy;       /* ours only: add ?Privacy=history */
  bool ours;          /* added by cdivas in this call */
  char *text;         /* received entries: the entry exactly as received */
  char *key;          /* canonical identity key of uri, once cd_hi_key asked; "" if none */
} cd_hi_entry;

typedef struct cd_hi_chain {
  cd_hi_entry *entries;
  size_t count;
  size_t capacity;
} cd_hi_chain;

void cd_hi_init(cd_hi_chain *chain);
void cd_hi_free(cd_hi_chain *chain);

/* Deep copy (a call forks its chain when it tries another branch).
 * dst is overwritten, not freed first: pass an empty or uninitialised
 * chain. Returns 0, or -1 (allocation failure; dst is then empty). */
int cd_hi_copy(cd_hi_chain *dst, const cd_hi_chain *src);

/* Appends the entries of one received History-Info header value (one or
 * more comma-separated hi-entries). Returns 0, or -1 with *why pointing to
 * a static description ("unterminated <", "too many History-Info
 * entries", ...); the chain is then unchanged.
 * Rules applied (history_info.c):
 *  - an entry is [display-name] "<" URI ">" *(";" name ["=" value]); a
 *    comma separates entries only outside <> and quoted strings; an empty
 *    value or entry (",,", trailing ',') is "empty History-Info entry";
 *  - index is RFC 7044's index-val: dot-separated numbers without leading
 *    zeros ("0" alone is one), shorter than CD_HI_INDEX_MAX; an entry
 *    whose index is missing, not an index-val (also "index" or "index="),
 *    given twice in the entry, or equal to an earlier entry's (in this
 *    value or already in the chain) is kept with index "" - never an
 *    error; names compare case-insensitively;
 *  - the first of mp/rc/np whose value is an index-val sets tag and
 *    parent; malformed or further ones are ignored (kept in the text);
 *  - cause is the URI's ";cause=NNN" parameter after the host (after the
 *    last '@') and before any '?': three digits not starting with 0, else 0;
 *  - the URI must have a scheme and no whitespace, '<', '"', '\' or
 *    non-ASCII byte; the value must be valid UTF-8 without control bytes
 *    (TAB is whitespace) and at most 64 KiB ("History-Info value too long");
 *  - the chain holds at most CD_HI_MAX_ENTRIES, counting the entries
 *    already in it. */
int cd_hi_parse(cd_hi_chain *chain, const char *value, const char **why);

/* Number of diversions in the chain: entries whose URI carries cause=
 * (whatever their index). */
size_t cd_hi_diversions(const cd_hi_chain *chain);

/* Number of entries without a usable index (received ones only). */
size_t cd_hi_unindexed(const cd_hi_chain *chain);

/* The canonical identity key (core/identity.h) of the entry's URI, ""
 * when the URI is no user identity. Worked out on first use and kept in
 * the entry, so a call normalises each entry of its chain once however
 * many diversions look at it. NULL only on allocation failure. */
const char *cd_hi_key(cd_hi_entry *entry);

/* Sets the key when the caller knows it already (the served user's or the
 * target's). Returns 0 or -1 (allocation failure; the key stays unknown). */
int cd_hi_set_key(cd_hi_entry *entry, const char *key);

/* True when an entry's URI has canonical key `key` (loop detection:
 * "target already in the chain"). */
bool cd_hi_contains_key(cd_hi_chain *chain, const char *key);

/* Records a diversion away from the served user:
 *  - the served user's entry is the last entry when that one has an index
 *    and is_served(key of the last entry's URI, ctx) holds (the key as
 *    cd_hi_key gives it); otherwise a new entry <served_uri> is added, no
 *    tag, with index "1" (empty chain), "<last index>.1" (the last entry
 *    has an index) or, after a last entry without one, "<L>.0.1" where L
 *    is the last index in the chain ("0.1" when there is none);
 *  - when that entry is ours, `reason` (e.g. "SIP;cause=486;text=\"Busy Here\"",
 *    or NULL) and `privacy` are set on it (received entries stay as they are);
 *  - appends <target_uri;cause=NNN>;index=<served>.1;mp=<served>.
 * A new index some entry of the chain has already moves on to the next
 * free sibling ("1.1" -> "1.2"), so ours are unique.
 * Returns the new target entry's position, or -1 (allocation failure, or
 * the index would exceed CD_HI_INDEX_MAX); also -1, chain unchanged, when
 * the chain would exceed CD_HI_MAX_ENTRIES, cause is not 100..699, or a URI
 * is NULL, empty, or holds whitespace, a control or non-ASCII byte, '<',
 * '>', '"' or '\' (it could not be put between <> safely).
 * The served entry's reason is replaced (NULL clears it) and its privacy
 * assigned. is_served may be NULL (never matches). */
long cd_hi_divert(cd_hi_chain *chain, const char *served_uri,
                  bool (*is_served)(const char *key, void *ctx), void *ctx,
                  const char *target_uri, int cause,
                  const char *reason, bool privacy);

/* Records the retry of a retargeting after its target failed, as a proxy
 * trying the next Contact of a 3xx does (RFC 7044 sequential forking):
 * the last entry (the failed target, one of ours) gets `reason` (as in
 * cd_hi_divert); appends <target_uri;cause=NNN> as its sibling, index
 * "<parent>.<n+1>" for a last index "<parent>.<n>" (or the next free
 * sibling), with the same mp.
 * Returns the new entry's position, or -1 (chain unchanged) when the last
 * entry is not ours or has no mp parent, or as cd_hi_divert fails. */
long cd_hi_retry(cd_hi_chain *chain, const char *target_uri, int cause, const char *reason);

/* Formats entries [from, count) as they go on the wire, comma+space
 * separated: received entries as their text, ours built from the fields, e.g.
 *   <sip:bob@h>;index=1, <sip:carol@h;cause=302>;index=1.1;mp=1
 * The forwarded INVITE gets from = number of received entries (those are
 * still in the message); the 181 gets from = 0.
 * `private_from` >= 0 marks our entries at or after that position with
 * ?Privacy=history as well (181 towards the caller with
 * reveal_identity_to_caller false); pass -1 for none.
 * Returns a malloc'd string (caller frees), "" (malloc'd) when there is no
 * entry (also for from >= count or a NULL chain), NULL on allocation
 * failure. Reason values are percent-encoded: everything except RFC 3986
 * unreserved (ALPHA DIGIT - . _ ~) becomes %XX with upper-case hex. */
char *cd_hi_format(const cd_hi_chain *chain, size_t from, long private_from);

/* Formats the whole chain for a response to the caller (the 181), with
 * the entries at positions hide_a and hide_b (-1: none) marked
 * ?Privacy=history. Returns a malloc'd string, NULL on allocation failure. */
char *cd_hi_format_hiding(const cd_hi_chain *chain, long hide_a, long hide_b);

/* Number of leading entries that were received (not ours). */
size_t cd_hi_received(const cd_hi_chain *chain);

/* Whether the entry is privacy-protected: ours with privacy set, or a
 * received one whose URI has the header Privacy=history (RFC 7044 10.1;
 * names and value compared case-insensitively). */
bool cd_hi_private(const cd_hi_entry *entry);

/* Formats one entry as it goes on the wire (ours: built; received: text). */
char *cd_hi_format_entry(const cd_hi_entry *entry, bool force_private);

#endif
