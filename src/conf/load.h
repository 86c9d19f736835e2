/*
 * load.h - a cdivas.conf file (libconfig, with @include) turned into a
 * validated snapshot (core/conf.h).
 *
 * Loading never stops at the first problem: every syntax or semantic error
 * is collected as "file:line: message" (the file is the one that holds the
 * setting, which matters with @include), so an operator fixes them all in
 * one pass. A snapshot with any error is never returned.
 */
#ifndef CDIVAS_CONF_LOAD_H
#define CDIVAS_CONF_LOAD_H

#include "conf/errors.h"
#include "core/conf.h"

/* Loads and validates `path`. Returns the snapshot (refs = 1), or NULL
 * when there is any error; then every error is in `errs`, in the order the
 * loader met them. `errs` (may be NULL) is always initialized by this call,
 * count 0 on success (NULL with count 0 only when even the message could
 * not be allocated); release it with cd_conf_errors_free(). A file that
 * cannot be opened gives the one message "<path>: cannot read: <strerror>";
 * every other message is "<file>:<line>: <message>". @include paths are
 * relative to the directory of `path`. */
struct cd_conf *cd_conf_load(const char *path, struct cd_conf_errors *errs);

#endif
