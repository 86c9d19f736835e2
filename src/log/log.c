/*
 * log.c - logging to stderr or syslog (see log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <sofia-sip/su_log.h>
#include "log/log.h"

enum cd_log_level cd_log_threshold = CD_LOG_INFO;
static bool log_to_stderr = true;
static const char *log_name = "cdivas";

static const int syslog_priority[] = {
  [CD_LOG_ERROR] = LOG_ERR, [CD_LOG_WARNING] = LOG_WARNING,
  [CD_LOG_NOTICE] = LOG_NOTICE, [CD_LOG_INFO] = LOG_INFO, [CD_LOG_DEBUG] = LOG_DEBUG,
};

void cd_log_open(bool to_stderr)
{
  log_to_stderr = to_stderr;
  if (!to_stderr)
    openlog(log_name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void cd_log_set_name(const char *name)
{
  log_name = name;
}

void cd_log_set_level(enum cd_log_level level)
{
  cd_log_threshold = level;
}

/* Network input ends up in log lines (Call-IDs, URIs): control bytes and
 * bytes outside ASCII are shown as '?' so they cannot drive a terminal. */
static void make_printable(char *line)
{
  for (unsigned char *p = (unsigned char *)line; *p; p++)
    if (*p < 0x20 || *p > 0x7e)
      *p = '?';
}

static void write_va(enum cd_log_level level, const char *fmt, va_list ap)
{
  char line[2048];
  vsnprintf(line, sizeof line, fmt, ap);
  make_printable(line);
  if (!log_to_stderr) {
    syslog(syslog_priority[level], "%s", line);
    return;
  }
  struct timespec now;
  struct tm tm;
  char stamp[32];
  clock_gettime(CLOCK_REALTIME, &now);
  localtime_r(&now.tv_sec, &tm);
  strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
  fprintf(stderr, "%s.%03ld %s[%s]: %s\n", stamp, now.tv_nsec / 1000000L, log_name,
          cd_log_level_name(level), line);
}

void cd_log_write(enum cd_log_level level, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  write_va(level, fmt, ap);
  va_end(ap);
}

/* Sofia-SIP hands over a printf format that usually ends in '\n' and may
 * arrive in pieces; collect until the newline so each line is one entry. */
static void sofia_logger(void *stream, char const *fmt, va_list ap)
{
  static char pending[1024];
  static size_t used;
  (void)stream;
  if (cd_log_threshold < CD_LOG_DEBUG)
    return;   /* formatting Sofia-SIP's diagnostics costs time on every message */
  int n = vsnprintf(pending + used, sizeof pending - used, fmt, ap);
  if (n < 0)
    return;
  used += (size_t)n < sizeof pending - used ? (size_t)n : sizeof pending - used - 1;
  if (used > 0 && (pending[used - 1] == '\n' || used >= sizeof pending - 1)) {
    while (used > 0 && pending[used - 1] == '\n')
      pending[--used] = '\0';
    if (used > 0)
      cd_log_write(CD_LOG_DEBUG, "sofia: %s", pending);
    used = 0;
  }
}

void cd_log_capture_sofia(void)
{
  su_log_redirect(NULL, sofia_logger, NULL);
  /* Without debug, ask Sofia-SIP for nothing below its critical level. */
  if (cd_log_threshold < CD_LOG_DEBUG)
    su_log_set_level(NULL, 1);
}
