/*
 * store.c - the store group of cdivas.conf (cdivas.conf(5), STORE
 * SETTINGS): where the state shared by the instances of a cluster is kept
 * (memory, or Redis with its address or socket, database, password and
 * key prefix). See loader.h for what a group loader does.
 *
 * A Redis-only setting without backend = "redis" is an error rather than
 * ignored: it says the operator meant a cluster and would not get one.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* strdup, strndup */
#endif
#include "conf/loader.h"

#include <stdlib.h>
#include <string.h>

/* "host:port", "[v6]:port", or "host" (port 6379). */
static const char *parse_store_address(const char *addr, struct cd_store_conf *st)
{
  const char *host = addr, *host_end;
  if (*addr == '[') {
    host = addr + 1;
    host_end = strchr(host, ']');
    if (host_end == NULL)
      return "unterminated [IPv6] address";
  } else {
    host_end = strchr(addr, ':');
    if (host_end == NULL)
      host_end = addr + strlen(addr);
    else if (strchr(host_end + 1, ':') != NULL)
      return "write an IPv6 address as [address]:port";
  }
  if (host_end == host)
    return "missing host";
  const char *after = *addr == '[' ? host_end + 1 : host_end;
  long port = 6379;
  if (*after == ':') {
    char *end;
    port = strtol(after + 1, &end, 10);
    if (end == after + 1 || *end != '\0' || port < 1 || port > 65535)
      return "bad port";
  } else if (*after != '\0') {
    return "expected :port after the address";
  }
  free(st->host);
  st->host = strndup(host, (size_t)(host_end - host));
  st->port = (int)port;
  return NULL;
}

void conf_load_store(struct loader *L, const config_setting_t *g)
{
  struct reader *R = &L->rd;
  struct cd_store_conf *st = &L->conf->store;
  if (!config_setting_is_group(g)) {
    rd_error_at(R, g, "store must be a group { ... }, not %s", rd_type_name(g));
    return;
  }
  bool bad_backend = false;
  const config_setting_t *redis_setting = NULL;   /* the first Redis-only setting */
  for (int i = 0; i < config_setting_length(g); i++) {
    const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
    const char *str, *why;
    if (rd_named(s, "backend")) {
      if ((str = rd_get_string(R, s)) == NULL)
        continue;
      if (strcmp(str, "memory") == 0)
        st->backend = CD_STORE_MEMORY;
      else if (strcmp(str, "redis") == 0)
        st->backend = CD_STORE_REDIS;
      else
        rd_error_at(R, s, "unknown store backend '%s' (memory or redis)", str), bad_backend = true;
    } else if (rd_named(s, "address")) {
      redis_setting = redis_setting ? redis_setting : s;
      if ((str = rd_get_string(R, s)) != NULL && (why = parse_store_address(str, st)) != NULL)
        rd_error_at(R, s, "bad store address '%s': %s", str, why);
    } else if (rd_named(s, "socket") || rd_named(s, "password") || rd_named(s, "prefix")) {
      redis_setting = redis_setting ? redis_setting : s;
      if ((str = rd_get_string(R, s)) == NULL)
        continue;
      if (*str == '\0' && !rd_named(s, "prefix")) {
        rd_error_at(R, s, "%s must not be empty", config_setting_name(s));
        continue;
      }
      if (strlen(str) > 255) {
        rd_error_at(R, s, "%s must be at most 255 characters", config_setting_name(s));
        continue;
      }
      if (rd_named(s, "prefix") && strpbrk(str, " \t\r\n") != NULL) {
        rd_error_at(R, s, "prefix must not contain white space");
        continue;
      }
      char **slot = rd_named(s, "socket") ? &st->socket : rd_named(s, "password") ? &st->password
                                                                            : &st->prefix;
      free(*slot);
      *slot = rd_strdup(R, str);
    } else if (rd_named(s, "database")) {
      redis_setting = redis_setting ? redis_setting : s;
      rd_get_int(R, s, 0, 1000000, &st->database);
    } else if (rd_named(s, "timeout_ms")) {
      rd_get_int(R, s, 10, 5000, &st->timeout_ms);
    } else if (rd_named(s, "registration_retain")) {
      rd_get_int(R, s, 60, 30 * 86400, &st->registration_retain);
    } else {
      rd_error_at(R, s, "unknown setting '%s' in store", config_setting_name(s));
    }
  }
  if (redis_setting && st->backend != CD_STORE_REDIS && !bad_backend)
    rd_error_at(R, redis_setting, "%s needs backend = \"redis\"", config_setting_name(redis_setting));
}
