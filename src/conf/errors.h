/*
 * errors.h - the list of "file:line: message" errors a conf load
 * collects: filled by the reader (reader.h) for every conf format, handed
 * to the caller of cd_conf_load (load.h). Its own header so that neither
 * of those two needs the other's (tests/layers.sh: no include circle).
 * cd_conf_errors_free is in reader.c.
 */
#ifndef CDIVAS_CONF_ERRORS_H
#define CDIVAS_CONF_ERRORS_H

#include <stddef.h>

/* Collected errors, each "file:line: message". */
struct cd_conf_errors {
  char **msgs;
  size_t count;
};
void cd_conf_errors_free(struct cd_conf_errors *errs);

#endif
