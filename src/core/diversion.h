/*
 * diversion.h - the Diversion header (RFC 5806) next to History-Info,
 * interworked as RFC 6044 (obsoleted by RFC 7544, same tables) has it.
 *
 * cdivas speaks History-Info (RFC 7044); networks that still read the
 * historic Diversion header may have cdivas add one per diversion
 * (server.diversion_header, per subscriber too). Each is
 *     <diverting user's URI>;reason=R;counter=1[;privacy=full]
 * with R mapped from the History-Info cause-param (RFC 4458) and
 * privacy=full when the diverting user's History-Info entry is private
 * (Privacy=history); RFC 5806 takes an absent privacy as off. Diversion
 * headers list the newest diversion first, History-Info the oldest.
 *
 * An INVITE that arrives with Diversion but without History-Info has had
 * its diversions counted in the Diversion counters only (RFC 6044 5): the
 * sum of the counters is what the diversion limit then adds.
 *
 * Strings in, strings out: no Sofia-SIP types.
 */
#ifndef CDIVAS_DIVERSION_H
#define CDIVAS_DIVERSION_H

#include <stdbool.h>
#include <stddef.h>

/* Counters above this are taken as this (RFC 5806: 1*2DIGIT). */
#define CD_DIVERSION_COUNTER_MAX 99

/* The diversion-reason RFC 6044's table gives a cause-param:
 *   302 unconditional    486 user-busy     408 no-answer
 *   480 deflection       487 deflection    503 unavailable
 *   404 unknown, and so is any other value. */
const char *cd_diversion_reason(int cause);

/* One Diversion entry as cdivas writes it:
 *   <uri>;reason=<cd_diversion_reason(cause)>;counter=1[;privacy=full]
 * malloc'd (caller frees), NULL when uri is NULL, empty, longer than
 * 8 KiB or holds whitespace, a control or non-ASCII byte, '<', '>', '"'
 * or '\' (it could not go between <> safely), or on allocation failure. */
char *cd_diversion_format(const char *uri, int cause, bool privacy);

/* One entry of a received Diversion header value, as read liberally. */
struct cd_diversion_entry {
  const char *uri;      /* into the value: the URI between <> (not NUL-terminated) */
  size_t uri_len;       /* 0 when the entry has no <URI> */
  char reason[32];      /* the reason value as written (quotes kept), "" when none or too long */
  unsigned counter;     /* 1 when absent or not 1*2DIGIT */
  bool privacy;         /* privacy=full, name or uri (anything but off) */
};

/* Reads a received Diversion header value: entries separated by commas
 * outside <> and quoted strings. Never fails: an entry without a usable
 * counter counts once, an unterminated <> or quoted string ends the value
 * (the rest is one entry), empty entries (",,") are skipped. Stores up to
 * `max` entries in out (may be NULL with max 0) and returns how many
 * entries there are in all. */
size_t cd_diversion_parse(const char *value, struct cd_diversion_entry *out, size_t max);

/* The diversions the value records: the sum of its counters, at most
 * 1000 (a hostile header cannot overflow anything). */
unsigned cd_diversion_count(const char *value);

#endif
