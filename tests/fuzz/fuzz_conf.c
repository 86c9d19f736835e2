/*
 * fuzz_conf.c - libFuzzer target for the configuration loader
 * (src/conf.h): the libconfig parse AND every semantic check.
 *
 * cd_conf_load() takes a path, so each input is written to a file in a
 * private temporary directory made once per process (mkdtemp), loaded,
 * and removed again. The directory is the @include directory, so an
 * input that includes "cdivas.conf" includes itself (libconfig bounds the
 * depth); nothing else lives there. A temporary file is used rather than
 * memfd_create() + /proc/self/fd/N because @include paths are relative to
 * the main file's directory: under /proc/self/fd an "@include \"0\"" would
 * read the fuzzer's stdin.
 *
 * Whatever the outcome, everything is freed: the error list always, the
 * snapshot when one is returned (cd_conf_unref). Invariants (abort()):
 *  - NULL comes with at least one error, a snapshot with none;
 *  - every error message is non-empty and has the "file:" prefix;
 *  - a snapshot's subscribers can all be found again by their key and by
 *    each alias key (cd_conf_find), and each configured KMS by its id;
 *  - cd_conf_ref/cd_conf_unref balance.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/load.h"

/* libconfig 1.5 (Debian 12) leaks the token value its scanner allocated
 * when a syntax error hits right at that token: `a = 0000"x";` loses 64
 * bytes (strbuf_append), other inputs a calloc in libconfig_yylex,
 * although cd_conf_load() calls config_destroy(). That is libconfig's
 * bug, not cdivas's (see README), so exactly those two allocation sites
 * are suppressed; any leak of memory that cdivas allocates is still
 * reported. Built into the target so that a
 * reproducer run by hand behaves like the fuzzing run. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
  return "leak:strbuf_append\n"
         "leak:libconfig_yylex\n";
}

const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
  return "print_suppressions=0";
}

static char dir[64];
static char path[96];

static void cleanup(void)
{
  if (path[0])
    unlink(path);
  if (dir[0])
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  const char *tmp = getenv("TMPDIR");
  if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 40)
    tmp = "/tmp";
  snprintf(dir, sizeof dir, "%s/fuzz_conf.XXXXXX", tmp);
  if (mkdtemp(dir) == NULL) {
    perror("fuzz_conf: mkdtemp");
    abort();
  }
  snprintf(path, sizeof path, "%s/cdivas.conf", dir);
  atexit(cleanup);
  return 0;
}

static void die(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz_conf: invariant broken: %s\n%s\n", what, detail ? detail : "");
  abort();
}

static bool write_input(const uint8_t *data, size_t size)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return false;
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) {
      close(fd);
      return false;
    }
    done += (size_t)n;
  }
  return close(fd) == 0;
}

static void check_conf(struct cd_conf *c)
{
  for (size_t i = 0; i < c->n_subscribers; i++) {
    const struct cd_subscriber *s = &c->subscribers[i];
    if (cd_conf_find(c, s->key) != s)
      die("subscriber not found by its key", s->key);
    for (size_t j = 0; j < s->n_aliases; j++)
      if (cd_conf_find(c, s->alias_keys[j]) != s)
        die("subscriber not found by an alias key", s->alias_keys[j]);
    for (size_t r = 0; r < s->n_rules; r++) {
      const struct cd_rule *rule = &s->rules[r];
      (void)cd_service_name(rule->service);
      if (rule->service != CD_SVC_CD && rule->target == NULL)
        die("a rule other than cd without a target", s->key);
    }
  }
  for (size_t i = 0; i < c->inquiry.n_kms; i++)
    if (cd_conf_kms(c, c->inquiry.kms[i].id) != &c->inquiry.kms[i])
      die("KMS not found by its id", c->inquiry.kms[i].id);
  (void)cd_conf_find(c, "sip:nobody@nowhere.invalid");
  (void)cd_conf_kms(c, "no-such-kms");
  (void)cd_log_level_name(c->log_level);
  if (cd_conf_ref(c) != c)
    die("cd_conf_ref returned another pointer", NULL);
  cd_conf_unref(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (!write_input(data, size))
    return 0;
  struct cd_conf_errors errs;
  struct cd_conf *c = cd_conf_load(path, &errs);
  unlink(path);
  /* (count 0 with NULL would mean "out of memory", which libFuzzer's
   * malloc limit turns into a crash report of its own) */
  if (c == NULL && errs.count == 0)
    die("load failed without an error message", NULL);
  if (c != NULL && errs.count != 0)
    die("snapshot returned together with errors", errs.msgs[0]);
  for (size_t i = 0; i < errs.count; i++) {
    const char *m = errs.msgs[i];
    if (m == NULL || m[0] == '\0')
      die("empty error message", NULL);
    if (strchr(m, ':') == NULL)
      die("error message without \"file:\"", m);
  }
  cd_conf_errors_free(&errs);
  if (c != NULL) {
    check_conf(c);
    cd_conf_unref(c);
  }
  return 0;
}
