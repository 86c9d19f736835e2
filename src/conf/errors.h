/*
 * errors.h - the list of errors a conf load collects, each one line
 * "file:line: message" (cdivas.conf(5)), shared by the loaders of
 * cdivas.conf (conf/load.h) and kms.conf (kms/kms_conf.h) and filled in
 * by the reader they both walk with (conf/reader.h).
 */
#ifndef CDIVAS_CONF_ERRORS_H
#define CDIVAS_CONF_ERRORS_H

#include <stddef.h>

struct cd_conf_errors {
  char **msgs;
  size_t count;
};

/* Frees every message and resets the list to empty; NULL is ignored. */
void cd_conf_errors_free(struct cd_conf_errors *errs);

#endif
