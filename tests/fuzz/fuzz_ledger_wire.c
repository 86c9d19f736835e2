/*
 * fuzz_ledger_wire.c - libFuzzer target for the diversion-record line the
 * redis store keeps (src/ledger_wire.h): bytes read back from a server
 * that other processes write to.
 *
 * The input goes, as a copy with a NUL after it, to
 * cd_ledger_wire_decode(). Invariants (abort() when broken):
 *  - a refusal leaves the record all zeros;
 *  - an accepted record has non-empty caller, served and target, a known
 *    service and a cause in 100..699, and encodes again;
 *  - that line decodes to the same fields (numbers and the service name
 *    may be spelt differently in the input: "0302", "CFU").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/ledger_wire.h"

static void same(const char *a, const char *b)
{
  if (strcmp(a, b) != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *buf = malloc(size + 1);
  if (buf == NULL)
    return 0;
  memcpy(buf, data, size);
  buf[size] = '\0';
  struct cd_ledger_record rec;
  if (cd_ledger_wire_decode(buf, size, &rec) < 0) {
    static const struct cd_ledger_record zero;
    if (memcmp(&rec, &zero, sizeof rec) != 0)
      abort();
    free(buf);
    return 0;
  }
  if (!rec.caller[0] || !rec.served[0] || !rec.target[0] ||
      (unsigned)rec.service >= CD_SVC_COUNT || rec.cause < 100 || rec.cause > 699)
    abort();
  char *line = cd_ledger_wire_encode(&rec);
  if (line == NULL)
    abort();
  struct cd_ledger_record again;
  if (cd_ledger_wire_decode(line, strlen(line), &again) < 0)
    abort();
  same(again.caller, rec.caller);
  same(again.served, rec.served);
  same(again.target, rec.target);
  same(again.call_id, rec.call_id);
  same(again.hi_index, rec.hi_index);
  same(again.ticket_hash, rec.ticket_hash);
  if (again.service != rec.service || again.cause != rec.cause || again.when != rec.when)
    abort();
  free(line);
  free(buf);
  return 0;
}
