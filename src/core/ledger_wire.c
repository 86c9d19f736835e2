/*
 * ledger_wire.c - diversion records as lines of text (ledger_wire.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/ledger_wire.h"

#define N_FIELDS 10
#define FIELD_MAX 1024    /* as ledger.c */

static bool field_ok(const char *s, bool required)
{
  if (s == NULL)
    return !required;
  size_t n = strnlen(s, FIELD_MAX + 1);
  return n <= FIELD_MAX && (n > 0 || !required) && strpbrk(s, "\t\r\n") == NULL;
}

char *cd_ledger_wire_encode(const struct cd_ledger_record *rec)
{
  if (rec == NULL || (unsigned)rec->service >= CD_SVC_COUNT ||
      !field_ok(rec->caller, true) || !field_ok(rec->served, true) ||
      !field_ok(rec->target, true) || !field_ok(rec->call_id, false) ||
      !field_ok(rec->hi_index, false) || !field_ok(rec->ticket_hash, false))
    return NULL;
  char *line = NULL;
  if (asprintf(&line, "1\t%s\t%s\t%s\t%s\t%d\t%ld\t%s\t%s\t%s", rec->caller, rec->served,
               rec->target, cd_service_name(rec->service), rec->cause, rec->when,
               rec->call_id ? rec->call_id : "", rec->hi_index ? rec->hi_index : "",
               rec->ticket_hash ? rec->ticket_hash : "") < 0)
    return NULL;
  return line;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
  if (*s == '\0' || (*s == '-' ? s[1] < '0' || s[1] > '9' : *s < '0' || *s > '9'))
    return -1;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

int cd_ledger_wire_decode(char *buf, size_t len, struct cd_ledger_record *rec)
{
  memset(rec, 0, sizeof *rec);
  if (buf == NULL || memchr(buf, '\0', len) != NULL || buf[len] != '\0')
    return -1;
  char *field[N_FIELDS];
  size_t n = 0;
  char *start = buf;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && buf[i] != '\t')
      continue;
    if (n == N_FIELDS)
      return -1;
    field[n++] = start;
    if (i < len)
      buf[i] = '\0';
    start = buf + i + 1;
  }
  if (n != N_FIELDS || strcmp(field[0], "1") != 0)
    return -1;
  long cause, when;
  enum cd_service service;
  if (cd_service_parse(field[4], &service) < 0 || parse_long(field[5], 100, 699, &cause) < 0 ||
      parse_long(field[6], 0, (long)(~0UL >> 1), &when) < 0)
    return -1;
  rec->caller = field[1];
  rec->served = field[2];
  rec->target = field[3];
  rec->service = service;
  rec->cause = (int)cause;
  rec->when = when;
  rec->call_id = field[7];
  rec->hi_index = field[8];
  rec->ticket_hash = field[9];
  for (int i = 1; i <= 3; i++)
    if (!field_ok(field[i], true))
      goto bad;
  for (int i = 7; i <= 9; i++)
    if (!field_ok(field[i], false))
      goto bad;
  return 0;
bad:
  memset(rec, 0, sizeof *rec);
  return -1;
}
