/*
 * ledger_wire.h - a diversion record as one line of text, the form the
 * redis store keeps it in (one list per caller, shared by every instance).
 *
 *   1 TAB caller TAB served TAB target TAB service TAB cause TAB when
 *     TAB call_id TAB hi_index TAB ticket_hash
 *
 * "1" is the format version; service is its conf name ("cfu", ...); cause
 * and when are decimal. No field may hold a tab, CR, LF or NUL (canonical
 * identity keys and SIP tokens never do). Pure: no I/O.
 */
#ifndef CDIVAS_LEDGER_WIRE_H
#define CDIVAS_LEDGER_WIRE_H

#include <stddef.h>
#include "core/ledger.h"

/* A malloc'd line (no newline), or NULL for a record cd_ledger_add would
 * refuse, a field with a forbidden byte, or on allocation failure. */
char *cd_ledger_wire_encode(const struct cd_ledger_record *rec);

/* Splits `buf` (len bytes and a NUL after them, as a Redis reply holds
 * them; modified in place: separators become NULs) into
 * `rec`, whose strings then point into buf. Returns 0, or -1 for anything
 * but a well-formed line of this version (the data comes from outside the
 * process: a wrong field count, an unknown service, a cause outside
 * 100..699, a bad number, an empty caller/served/target, a NUL byte). */
int cd_ledger_wire_decode(char *buf, size_t len, struct cd_ledger_record *rec);

#endif
