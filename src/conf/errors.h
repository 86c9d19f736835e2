/*
 * errors.h - the list of "file:line: message" errors a conf load collects
 * (load.h), shared by the reader (reader.h) that fills it in. Its own
 * header so that the reader does not depend on the loader that uses it.
 */
#ifndef CDIVAS_CONF_ERRORS_H
#define CDIVAS_CONF_ERRORS_H

#include <stddef.h>

/* Collected errors, each "file:line: message". */
struct cd_conf_errors {
  char **msgs;
  size_t count;
};
/* Frees the messages; the list is then empty. (In reader.c.) */
void cd_conf_errors_free(struct cd_conf_errors *errs);

#endif
