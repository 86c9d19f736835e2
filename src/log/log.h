/*
 * log.h - the daemon's log: stderr in the foreground, syslog otherwise.
 *
 * cd_log() is a macro that tests the level before evaluating its
 * arguments, so a debug line on the hot path costs one comparison when
 * debug is off.
 */
#ifndef CDIVAS_LOG_H
#define CDIVAS_LOG_H

#include <stdbool.h>
#include "core/conf.h"

extern enum cd_log_level cd_log_threshold;

void cd_log_open(bool to_stderr);
/* The program name in log lines (default "cdivas"); call before cd_log_open. */
void cd_log_set_name(const char *name);
void cd_log_set_level(enum cd_log_level level);
void cd_log_write(enum cd_log_level level, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

/* Route Sofia-SIP's own diagnostics (nta, tport, su) into our log. */
void cd_log_capture_sofia(void);

#define cd_log(level, ...) \
  do { if ((level) <= cd_log_threshold) cd_log_write((level), __VA_ARGS__); } while (0)

#endif
