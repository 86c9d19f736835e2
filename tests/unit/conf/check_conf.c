/*
 * Unit tests for the configuration loader (src/conf.c): a complete conf,
 * defaults, lookup by user and alias, @include, and every class of error
 * with its exact "file:line: message".
 *
 * Fixtures are in $srcdir/tests/unit/fixtures/ (srcdir defaults to "."); the
 * file part of the expected messages is built the same way, since errors
 * name a file as it was given to cd_conf_load (or, for an @include'd file,
 * as it was opened: the main file's directory + "/" + the included name).
 * TZDIR points at the fixture zoneinfo directory so that the timezone
 * checks do not depend on the host's tzdata.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE)
#define _XOPEN_SOURCE 700           /* setenv, mkdtemp, realpath */
#endif
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "conf/load.h"

/* ------------------------------------------------------------ helpers */

/* printf into one of a ring of static buffers: expectations stay valid
 * for the few statements that use them, and nothing has to be freed. */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
  static char ring[128][PATH_MAX + 512];
  static unsigned next;
  char *b = ring[next++ % 128];
  va_list ap;
  va_start(ap, f);
  vsnprintf(b, sizeof ring[0], f, ap);
  va_end(ap);
  return b;
}

static const char *srcdir(void)
{
  const char *s = getenv("srcdir");
  return s != NULL && *s != '\0' ? s : ".";
}

static const char *fixture(const char *name)
{
  return fmt("%s/tests/unit/fixtures/%s", srcdir(), name);
}

/* The canonical key of an identity, as the daemon computes it before
 * calling cd_conf_find(). */
static const char *key(const char *uri)
{
  static char keys[8][CD_IDENTITY_KEY_MAX];
  static unsigned next;
  char *k = keys[next++ % 8];
  ck_assert_msg(cd_identity_key(uri, k, NULL) == 0, "test identity '%s' is malformed", uri);
  return k;
}

/* The message for a malformed identity, with cd_identity_key()'s reason
 * (src/identity.c owns the wording of the reason). */
static const char *malformed(const char *uri, const char *in)
{
  char k[CD_IDENTITY_KEY_MAX];
  const char *why = NULL;
  ck_assert_msg(cd_identity_key(uri, k, &why) != 0, "'%s' is expected to be malformed", uri);
  char *m = (char *)fmt("malformed URI '%s' in %s: %s", uri, in, why != NULL ? why : "invalid");
  for (char *p = m; *p != '\0'; p++)     /* as cd_conf_load does: one line */
    if ((unsigned char)*p < 0x20)
      *p = '?';
  return m;
}

/* Writes printf output to a new file `path`. */
static void write_file(const char *path, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void write_file(const char *path, const char *f, ...)
{
  FILE *out = fopen(path, "w");
  ck_assert_ptr_nonnull(out);
  va_list ap;
  va_start(ap, f);
  vfprintf(out, f, ap);
  va_end(ap);
  ck_assert_int_eq(fclose(out), 0);
}

static struct cd_conf *load_ok(const char *path)
{
  struct cd_conf_errors errs = { (char **)1, 99 };   /* must be reset by the load */
  struct cd_conf *conf = cd_conf_load(path, &errs);
  for (size_t i = 0; i < errs.count; i++)
    fprintf(stderr, "unexpected: %s\n", errs.msgs[i]);
  ck_assert_uint_eq(errs.count, 0);
  ck_assert_ptr_null(errs.msgs);
  ck_assert_ptr_nonnull(conf);
  ck_assert_int_eq(conf->refs, 1);
  ck_assert_str_eq(conf->path, path);
  return conf;
}

struct expect {
  const char *file;   /* fixture name; NULL: the file loaded */
  int line;
  const char *msg;
};

/* Loads `path` and requires exactly the messages `exp`, in order. An
 * expectation's file is found in `dir` (or is taken as is when dir is NULL). */
static void check_errors_at(const char *path, const char *dir, const struct expect *exp, size_t n)
{
  char **want = calloc(n, sizeof *want);
  ck_assert_ptr_nonnull(want);
  for (size_t i = 0; i < n; i++) {
    const char *file = exp[i].file == NULL ? path
                       : dir != NULL ? fmt("%s/%s", dir, exp[i].file) : exp[i].file;
    want[i] = strdup(fmt("%s:%d: %s", file, exp[i].line, exp[i].msg));
    ck_assert_ptr_nonnull(want[i]);
  }
  struct cd_conf_errors errs;
  struct cd_conf *conf = cd_conf_load(path, &errs);
  bool same = errs.count == n;
  for (size_t i = 0; same && i < n; i++)
    same = strcmp(errs.msgs[i], want[i]) == 0;
  if (!same) {
    fprintf(stderr, "%s: got %zu message(s):\n", path, errs.count);
    for (size_t i = 0; i < errs.count; i++)
      fprintf(stderr, "  %s\n", errs.msgs[i]);
    fprintf(stderr, "expected %zu:\n", n);
    for (size_t i = 0; i < n; i++)
      fprintf(stderr, "  %s\n", want[i]);
  }
  ck_assert_ptr_null(conf);
  ck_assert_uint_eq(errs.count, n);
  for (size_t i = 0; i < n; i++)
    ck_assert_str_eq(errs.msgs[i], want[i]);
  cd_conf_errors_free(&errs);
  ck_assert_ptr_null(errs.msgs);
  ck_assert_uint_eq(errs.count, 0);
  for (size_t i = 0; i < n; i++)
    free(want[i]);
  free(want);
}

#define CHECK_ERRORS(name, ...)                                                    \
  do {                                                                             \
    const struct expect exp_[] = { __VA_ARGS__ };                                  \
    check_errors_at(fixture(name), fmt("%s/tests/unit/fixtures", srcdir()), exp_,      \
                    sizeof exp_ / sizeof exp_[0]);                                 \
  } while (0)

/* The one message expected when a file cannot be opened at all. */
static void check_cannot_read(const char *path, int err)
{
  struct cd_conf_errors errs;
  ck_assert_ptr_null(cd_conf_load(path, &errs));
  ck_assert_uint_eq(errs.count, 1);
  ck_assert_str_eq(errs.msgs[0], fmt("%s: cannot read: %s", path, strerror(err)));
  cd_conf_errors_free(&errs);
}

static void check_rule_defaults(const struct cd_rule *r)
{
  ck_assert_ptr_null(r->callers);
  ck_assert_uint_eq(r->n_callers, 0);
  ck_assert_int_eq(r->anonymous, -1);
  ck_assert_uint_eq(r->media, 0);
  ck_assert_ptr_null(r->validity);
  ck_assert_uint_eq(r->n_validity, 0);
  ck_assert(r->active);
  ck_assert_int_eq(r->no_reply_timer, 0);
  ck_assert(r->notify_caller);
  ck_assert(r->reveal_identity_to_caller);
  ck_assert(r->reveal_served_user_identity_to_caller);
  ck_assert(r->reveal_identity_to_target);
  ck_assert(!r->notify_served_user);
}

/* ------------------------------------------------------------ names */

START_TEST(service_names)
{
  static const char *const names[CD_SVC_COUNT] = { "cfu", "cfb", "cfnr", "cfnl", "cd", "cfnrc" };
  for (int i = 0; i < CD_SVC_COUNT; i++) {
    enum cd_service svc = CD_SVC_COUNT;
    ck_assert_str_eq(cd_service_name((enum cd_service)i), names[i]);
    ck_assert_int_eq(cd_service_parse(names[i], &svc), 0);
    ck_assert_int_eq(svc, i);
  }
  enum cd_service svc = CD_SVC_CFU;
  ck_assert_int_eq(cd_service_parse("CFNRc", &svc), 0);
  ck_assert_int_eq(svc, CD_SVC_CFNRC);
  ck_assert_int_eq(cd_service_parse("cfx", &svc), -1);
  ck_assert_int_eq(cd_service_parse("", &svc), -1);
  ck_assert_int_eq(cd_service_parse("cf", &svc), -1);
  ck_assert_int_eq(cd_service_parse(NULL, &svc), -1);
  ck_assert_int_eq(svc, CD_SVC_CFNRC);
  ck_assert_str_eq(cd_service_name(CD_SVC_COUNT), "unknown");
}
END_TEST

START_TEST(log_level_names)
{
  static const char *const names[] = { "error", "warning", "notice", "info", "debug" };
  for (int i = CD_LOG_ERROR; i <= CD_LOG_DEBUG; i++) {
    enum cd_log_level level = CD_LOG_ERROR;
    ck_assert_str_eq(cd_log_level_name((enum cd_log_level)i), names[i]);
    ck_assert_int_eq(cd_log_level_parse(names[i], &level), 0);
    ck_assert_int_eq(level, i);
  }
  enum cd_log_level level = CD_LOG_INFO;
  ck_assert_int_eq(cd_log_level_parse("DEBUG", &level), 0);
  ck_assert_int_eq(level, CD_LOG_DEBUG);
  ck_assert_int_eq(cd_log_level_parse("verbose", &level), -1);
  ck_assert_int_eq(cd_log_level_parse("warn", &level), -1);
  ck_assert_int_eq(cd_log_level_parse(NULL, &level), -1);
  ck_assert_int_eq(level, CD_LOG_DEBUG);
  ck_assert_str_eq(cd_log_level_name((enum cd_log_level)42), "unknown");
}
END_TEST

/* ------------------------------------------------------------ good confs */

START_TEST(good_server)
{
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s", fixture("good.conf"));
  struct cd_conf *c = load_ok(path);
  ck_assert_uint_eq(c->n_listen, 4);
  ck_assert_str_eq(c->listen[0], "sip:127.0.0.1:5070");
  ck_assert_str_eq(c->listen[1], "sip:127.0.0.1:5070;transport=tcp");
  ck_assert_str_eq(c->listen[2], "sips:[::1]:5071;transport=tls");
  ck_assert_str_eq(c->listen[3], "SIP:as1.ims.example.net");
  ck_assert_str_eq(c->identity, "sip:cdivas.ims.example.net");
  ck_assert_str_eq(c->identity_key, key("sip:cdivas.ims.example.net"));
  ck_assert_str_eq(c->outbound_proxy, "sip:scscf.ims.example.net:6060;lr");
  ck_assert_str_eq(c->inquiry.listen, "http://127.0.0.1:8070");
  ck_assert(!c->inquiry.tls);
  ck_assert_str_eq(c->inquiry.host, "127.0.0.1");
  ck_assert_int_eq(c->inquiry.port, 8070);
  ck_assert_int_eq(c->inquiry.record_ttl, 120);
  ck_assert_int_eq(c->inquiry.max_records, 5000);
  ck_assert_uint_eq(c->inquiry.n_kms, 1);
  const struct cd_kms *kms = cd_conf_kms(c, "kms.ims.example.net");
  ck_assert_ptr_nonnull(kms);
  ck_assert_int_eq(kms->key[0], 0x00);
  ck_assert_int_eq(kms->key[31], 0x1f);   /* the bytes the hex digits encode */
  ck_assert_ptr_null(cd_conf_kms(c, "kms.other"));
  ck_assert_int_eq(c->store.backend, CD_STORE_REDIS);
  ck_assert_str_eq(c->store.host, "::1");
  ck_assert_int_eq(c->store.port, 6380);
  ck_assert_ptr_null(c->store.socket);
  ck_assert_str_eq(c->store.prefix, "as1:");
  ck_assert_str_eq(c->store.password, "s3cret");
  ck_assert_int_eq(c->store.database, 2);
  ck_assert_int_eq(c->store.timeout_ms, 150);
  ck_assert_int_eq(c->store.registration_retain, 7200);
  ck_assert_int_eq(c->no_reply_timer, 25);
  ck_assert_int_eq(c->max_diversions, 3);
  ck_assert_int_eq(c->log_level, CD_LOG_DEBUG);
  ck_assert_str_eq(c->timezone, "Europe/Paris");
  ck_assert_int_eq(c->limit_response, 486);
  ck_assert_str_eq(c->limit_destination, "sip:announcement@ims.example.net");
  ck_assert_uint_eq(c->n_limit_exempt, 2);
  ck_assert_str_eq(c->limit_exempt[0], key("sip:voicemail@ims.example.net"));
  ck_assert_str_eq(c->limit_exempt[1], key("tel:+15551009999"));
  ck_assert_int_eq(c->shutdown_grace, 10);
  ck_assert_int_eq(c->not_reachable_timer, 8);
  ck_assert(c->diversion_header);
  ck_assert_uint_eq(c->n_subscribers, 3);
  cd_conf_unref(c);
}
END_TEST

START_TEST(good_subscribers_and_rules)
{
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s", fixture("good.conf"));
  struct cd_conf *c = load_ok(path);
  const struct cd_subscriber *bob = &c->subscribers[0];
  ck_assert_str_eq(bob->user, "sip:Bob@ims.example.net");
  ck_assert_str_eq(bob->key, key("sip:Bob@ims.example.net"));
  ck_assert_uint_eq(bob->n_aliases, 2);
  ck_assert_str_eq(bob->aliases[0], "tel:+15551000002");
  ck_assert_str_eq(bob->alias_keys[0], key("tel:+15551000002"));
  ck_assert_str_eq(bob->aliases[1], "sip:robert@ims.example.net");
  ck_assert_str_eq(bob->alias_keys[1], key("sip:robert@ims.example.net"));
  ck_assert_int_eq(bob->no_reply_timer, 30);
  ck_assert_int_eq(bob->max_calls, 2);
  /* diversion_header: bob's own false over the server's true; the tel
   * user's true; frank has none and takes the server's. */
  ck_assert_int_eq(bob->diversion_header, 0);
  ck_assert(!cd_conf_diversion_header(c, bob));
  ck_assert_int_eq(c->subscribers[1].diversion_header, 1);
  ck_assert(cd_conf_diversion_header(c, &c->subscribers[1]));
  ck_assert_int_eq(c->subscribers[2].diversion_header, -1);
  ck_assert(cd_conf_diversion_header(c, &c->subscribers[2]));
  ck_assert(cd_conf_diversion_header(c, NULL));
  ck_assert_str_eq(bob->file, path);
  ck_assert_int_eq(bob->line, 22);
  ck_assert_uint_eq(bob->n_rules, 6);

  /* in the order written */
  const struct cd_rule *r = &bob->rules[0];
  ck_assert_int_eq(r->service, CD_SVC_CFB);
  ck_assert_str_eq(r->target, "sip:voicemail@ims.example.net");
  check_rule_defaults(r);
  ck_assert_str_eq(r->file, path);
  ck_assert_int_eq(r->line, 27);

  r = &bob->rules[1];
  ck_assert_int_eq(r->service, CD_SVC_CFU);
  ck_assert_str_eq(r->target, "sip:carol@ims.example.net");
  ck_assert_uint_eq(r->n_callers, 2);
  ck_assert_str_eq(r->callers[0], key("sip:Alice@ims.example.net"));
  ck_assert_str_eq(r->callers[1], key("tel:+15551000001"));
  ck_assert_int_eq(r->anonymous, 0);
  ck_assert_uint_eq(r->media, CD_MEDIA_AUDIO | CD_MEDIA_VIDEO);
  ck_assert_uint_eq(r->n_validity, 2);
  ck_assert_uint_eq(r->validity[0].days, 0x1f);           /* mon-fri */
  ck_assert_int_eq(r->validity[0].from_min, 8 * 60);
  ck_assert_int_eq(r->validity[0].to_min, 18 * 60);
  ck_assert_uint_eq(r->validity[1].days, 0x60);           /* sat, sun */
  ck_assert_int_eq(r->validity[1].from_min, 22 * 60);
  ck_assert_int_eq(r->validity[1].to_min, 6 * 60);       /* wraps */
  ck_assert(!r->active);
  ck_assert_int_eq(r->no_reply_timer, 0);
  ck_assert(!r->notify_caller);
  ck_assert(!r->reveal_identity_to_caller);
  ck_assert(!r->reveal_served_user_identity_to_caller);
  ck_assert(!r->reveal_identity_to_target);
  ck_assert(r->notify_served_user);
  ck_assert_int_eq(r->line, 28);

  r = &bob->rules[2];
  ck_assert_int_eq(r->service, CD_SVC_CFNR);
  ck_assert_str_eq(r->target, "tel:+15551000003");
  ck_assert_int_eq(r->no_reply_timer, 10);
  ck_assert_int_eq(r->line, 42);

  r = &bob->rules[3];
  ck_assert_int_eq(r->service, CD_SVC_CD);
  ck_assert_ptr_null(r->target);                          /* the 302 decides */
  check_rule_defaults(r);

  r = &bob->rules[4];
  ck_assert_int_eq(r->service, CD_SVC_CFNL);              /* "CFNL" */
  ck_assert_str_eq(r->target, "sip:dave@ims.example.net");
  ck_assert_uint_eq(r->media, CD_MEDIA_VIDEO);
  ck_assert_uint_eq(r->n_validity, 2);
  ck_assert_uint_eq(r->validity[0].days, 0x17);           /* mon-wed,fri */
  ck_assert_int_eq(r->validity[0].from_min, 0);
  ck_assert_int_eq(r->validity[0].to_min, 24 * 60);
  ck_assert_uint_eq(r->validity[1].days, 0x71);           /* fri-mon wraps */
  ck_assert_int_eq(r->validity[1].to_min, 24 * 60);

  r = &bob->rules[5];
  ck_assert_int_eq(r->service, CD_SVC_CFNRC);
  ck_assert_int_eq(r->anonymous, 1);

  const struct cd_subscriber *s = &c->subscribers[1];
  ck_assert_str_eq(s->user, "tel:+15551000004");
  ck_assert_uint_eq(s->n_aliases, 0);
  ck_assert_uint_eq(s->n_rules, 0);
  ck_assert_int_eq(s->no_reply_timer, 0);
  ck_assert_int_eq(s->max_calls, 0);
  ck_assert_int_eq(s->line, 49);

  s = &c->subscribers[2];
  ck_assert_str_eq(s->user, "sip:frank@ims.example.net");
  ck_assert_uint_eq(s->n_aliases, 0);
  ck_assert_uint_eq(s->n_rules, 0);
  cd_conf_unref(c);
}
END_TEST

START_TEST(find_by_user_and_alias)
{
  struct cd_conf *c = load_ok(fixture("good.conf"));
  const struct cd_subscriber *bob = &c->subscribers[0];
  static const char *const bobs[] = {
    "sip:Bob@ims.example.net",
    "sip:Bob@IMS.example.net:5060",
    "sips:Bob@ims.example.net",
    "<sip:Bob@ims.example.net;transport=tcp>",
    "\"Bob\" <sip:Bob@Ims.Example.Net>;tag=1928301774",
    "tel:+15551000002",
    "tel:+1-555-100-0002",
    "sip:+15551000002@ims.example.net;user=phone",
    "sip:robert@IMS.EXAMPLE.NET:5060",
  };
  for (size_t i = 0; i < sizeof bobs / sizeof bobs[0]; i++)
    ck_assert_msg(cd_conf_find(c, key(bobs[i])) == bob, "'%s' does not find bob", bobs[i]);
  ck_assert_ptr_eq(cd_conf_find(c, key("tel:+1-555-100-0004")), &c->subscribers[1]);
  ck_assert_ptr_eq(cd_conf_find(c, key("sip:frank@ims.example.net")), &c->subscribers[2]);

  /* users of no subscriber, keys that are not canonical, no key */
  ck_assert_ptr_null(cd_conf_find(c, key("sip:carol@ims.example.net")));
  ck_assert_ptr_null(cd_conf_find(c, key("sip:Bob@other.example.net")));
  ck_assert_ptr_null(cd_conf_find(c, key("tel:+15551000005")));
  ck_assert_ptr_null(cd_conf_find(c, "sip:Bob@IMS.example.net:5060"));
  ck_assert_ptr_null(cd_conf_find(c, ""));
  ck_assert_ptr_null(cd_conf_find(c, NULL));
  ck_assert_ptr_null(cd_conf_find(NULL, key("sip:Bob@ims.example.net")));
  cd_conf_unref(c);
}
END_TEST

/* Many users and aliases: every one is found through the hash table. */
START_TEST(find_many)
{
  const char *tmp = getenv("TMPDIR");
  char dir[PATH_MAX], path[PATH_MAX + 16];
  snprintf(dir, sizeof dir, "%s/check_conf.XXXXXX", tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/many.conf", dir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fprintf(f, "server = { listen = [ \"sip:127.0.0.1\" ]; identity = \"sip:as.example.net\"; };\n"
             "subscribers = (\n");
  for (int i = 0; i < 1000; i++)
    fprintf(f, "%s{ user = \"sip:user%d@ims.example.net\"; aliases = [ \"tel:+3310000%04d\", "
               "\"sip:alias%d@ims.example.net\" ]; }\n", i ? "," : "", i, i, i);
  fprintf(f, ");\n");
  ck_assert_int_eq(fclose(f), 0);

  struct cd_conf *c = load_ok(path);
  ck_assert_uint_eq(c->n_subscribers, 1000);
  ck_assert_uint_ge(c->index_size, 2 * 3000);
  for (int i = 0; i < 1000; i++) {
    const struct cd_subscriber *s = &c->subscribers[i];
    ck_assert_ptr_eq(cd_conf_find(c, key(fmt("sip:user%d@IMS.example.net", i))), s);
    ck_assert_ptr_eq(cd_conf_find(c, key(fmt("tel:+33-1000-0%04d", i))), s);
    ck_assert_ptr_eq(cd_conf_find(c, key(fmt("sips:alias%d@ims.example.net", i))), s);
  }
  ck_assert_ptr_null(cd_conf_find(c, key("sip:user1000@ims.example.net")));
  cd_conf_unref(c);
  ck_assert_int_eq(unlink(path), 0);
  ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(minimal_defaults)
{
  struct cd_conf *c = load_ok(fixture("minimal.conf"));
  ck_assert_uint_eq(c->n_listen, 1);
  ck_assert_str_eq(c->listen[0], "sip:127.0.0.1:5070");
  ck_assert_str_eq(c->identity, "sip:cdivas.ims.example.net");
  ck_assert_ptr_null(c->outbound_proxy);
  ck_assert_int_eq(c->no_reply_timer, 20);
  ck_assert_int_eq(c->max_diversions, 5);
  ck_assert_int_eq(c->log_level, CD_LOG_INFO);
  ck_assert_ptr_null(c->timezone);
  ck_assert_int_eq(c->limit_response, 480);
  ck_assert_ptr_null(c->limit_destination);
  ck_assert_uint_eq(c->n_limit_exempt, 0);
  ck_assert_int_eq(c->shutdown_grace, 32);
  ck_assert_int_eq(c->not_reachable_timer, 0);
  ck_assert(!c->diversion_header);
  ck_assert(!cd_conf_diversion_header(c, NULL));
  /* No store group: the memory back end, and Redis defaults ready. */
  ck_assert_int_eq(c->store.backend, CD_STORE_MEMORY);
  ck_assert_str_eq(c->store.host, "127.0.0.1");
  ck_assert_int_eq(c->store.port, 6379);
  ck_assert_str_eq(c->store.prefix, "cdivas:");
  ck_assert_ptr_null(c->store.password);
  ck_assert_int_eq(c->store.timeout_ms, 200);
  ck_assert_uint_eq(c->n_subscribers, 0);
  ck_assert_ptr_null(cd_conf_find(c, key("sip:bob@ims.example.net")));
  cd_conf_unref(c);
}
END_TEST

START_TEST(empty_strings_mean_unset)
{
  struct cd_conf *c = load_ok(fixture("empty_values.conf"));
  ck_assert_str_eq(c->identity, "sips:cdivas.ims.example.net");
  ck_assert_ptr_null(c->outbound_proxy);
  ck_assert_ptr_null(c->timezone);
  ck_assert_ptr_null(c->limit_destination);
  ck_assert_uint_eq(c->n_limit_exempt, 0);
  ck_assert_uint_eq(c->n_subscribers, 0);
  cd_conf_unref(c);
}
END_TEST

static void check_shipped(struct cd_conf *c, const char *dir)
{
  ck_assert_uint_eq(c->n_listen, 2);
  ck_assert_str_eq(c->listen[0], "sip:127.0.0.1:5070");
  ck_assert_str_eq(c->listen[1], "sip:127.0.0.1:5070;transport=tcp");
  ck_assert_str_eq(c->identity, "sip:cdivas.ims.example.net");
  ck_assert_ptr_null(c->outbound_proxy);
  ck_assert_int_eq(c->no_reply_timer, 20);
  ck_assert_int_eq(c->max_diversions, 5);
  ck_assert_int_eq(c->log_level, CD_LOG_INFO);
  ck_assert_uint_eq(c->n_subscribers, 1);
  const struct cd_subscriber *bob = cd_conf_find(c, key("tel:+15551000002"));
  ck_assert_ptr_eq(bob, &c->subscribers[0]);
  ck_assert_ptr_eq(cd_conf_find(c, key("sip:bob@ims.example.net")), bob);
  ck_assert_str_eq(bob->file, fmt("%s/subscribers.conf", dir));
  ck_assert_uint_eq(bob->n_rules, 1);
  ck_assert_int_eq(bob->rules[0].service, CD_SVC_CFU);
  ck_assert_str_eq(bob->rules[0].target, "sip:carol@ims.example.net");
  ck_assert(bob->rules[0].notify_caller);
  ck_assert(bob->rules[0].active);
  ck_assert_uint_eq(bob->rules[0].n_callers, 0);
  ck_assert_uint_eq(bob->rules[0].n_validity, 0);
}

START_TEST(shipped_conf)
{
  char dir[PATH_MAX + 64];
  snprintf(dir, sizeof dir, "%s/conf", srcdir());
  struct cd_conf *c = load_ok(fmt("%s/cdivas.conf", dir));
  check_shipped(c, dir);
  cd_conf_unref(c);
}
END_TEST

/* @include is relative to the main file, not to the working directory. */
START_TEST(shipped_conf_from_elsewhere)
{
  char dir[PATH_MAX], cwd[PATH_MAX];
  ck_assert_ptr_nonnull(realpath(fmt("%s/conf", srcdir()), dir));
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  ck_assert_int_eq(chdir("/"), 0);
  struct cd_conf *c = load_ok(fmt("%s/cdivas.conf", dir));
  check_shipped(c, dir);
  cd_conf_unref(c);
  ck_assert_int_eq(chdir(cwd), 0);   /* for CK_FORK=no */
}
END_TEST

START_TEST(refcount)
{
  struct cd_conf *c = load_ok(fixture("good.conf"));
  ck_assert_ptr_eq(cd_conf_ref(c), c);
  ck_assert_int_eq(c->refs, 2);
  cd_conf_unref(c);
  ck_assert_int_eq(c->refs, 1);
  ck_assert_ptr_eq(cd_conf_find(c, key("sip:Bob@ims.example.net")), &c->subscribers[0]);
  cd_conf_unref(c);                 /* freed here: ASan reports any leak */
  ck_assert_ptr_null(cd_conf_ref(NULL));
  cd_conf_unref(NULL);

  /* two loads are two independent snapshots */
  struct cd_conf *a = load_ok(fixture("good.conf"));
  struct cd_conf *b = load_ok(fixture("good.conf"));
  ck_assert_ptr_ne(a, b);
  cd_conf_unref(a);
  ck_assert_str_eq(b->subscribers[0].rules[1].target, "sip:carol@ims.example.net");
  cd_conf_unref(b);
}
END_TEST

START_TEST(errors_may_be_ignored)
{
  struct cd_conf *c = cd_conf_load(fixture("good.conf"), NULL);
  ck_assert_ptr_nonnull(c);
  cd_conf_unref(c);
  ck_assert_ptr_null(cd_conf_load(fixture("multi.conf"), NULL));
  ck_assert_ptr_null(cd_conf_load(fixture("no_such.conf"), NULL));
  cd_conf_errors_free(NULL);
  struct cd_conf_errors errs;
  ck_assert_ptr_null(cd_conf_load(NULL, &errs));
  ck_assert_uint_eq(errs.count, 1);
  cd_conf_errors_free(&errs);
  cd_conf_errors_free(&errs);
}
END_TEST

/* ------------------------------------------------------------ file errors */

START_TEST(missing_file)
{
  check_cannot_read(fixture("no_such.conf"), ENOENT);
}
END_TEST

START_TEST(directory)
{
  check_cannot_read(fixture("zoneinfo"), EISDIR);
}
END_TEST

START_TEST(syntax_error)
{
  CHECK_ERRORS("syntax.conf", { NULL, 4, "syntax error" });
}
END_TEST

/* Errors inside an @include'd file name that file and its own lines, also
 * in the "also at" of a duplicate; errors after the @include name the main
 * file again. */
START_TEST(include_errors)
{
  CHECK_ERRORS("include.conf",
               { "include_subscribers.conf", 5, malformed("sip:", "target") },
               { "include_subscribers.conf", 7,
                 fmt("duplicate identity 'sip:bob@IMS.example.net:5060' (also at %s:4)",
                     fixture("include_subscribers.conf")) },
               { NULL, 9, "unknown setting 'bogus' at top level" });
}
END_TEST

/* A path without a directory: included files are opened (and named)
 * relative to the working directory, where the main file is. */
START_TEST(include_errors_relative)
{
  char cwd[PATH_MAX];
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  ck_assert_int_eq(chdir(fmt("%s/tests/unit/fixtures", srcdir())), 0);
  const struct expect exp[] = {
    { "include_subscribers.conf", 5, malformed("sip:", "target") },
    { "include_subscribers.conf", 7,
      "duplicate identity 'sip:bob@IMS.example.net:5060' (also at include_subscribers.conf:4)" },
    { NULL, 9, "unknown setting 'bogus' at top level" },
  };
  check_errors_at("include.conf", NULL, exp, 3);
  ck_assert_int_eq(chdir(cwd), 0);   /* for CK_FORK=no */
}
END_TEST

START_TEST(include_syntax_error)
{
  CHECK_ERRORS("include_syntax.conf", { "include_syntax_sub.conf", 3, "syntax error" });
}
END_TEST

START_TEST(include_missing)
{
  CHECK_ERRORS("include_missing.conf",
               { NULL, 7, "cannot open @include \"no_such_file.conf\": No such file or directory" });
}
END_TEST

/* An absolute @include is used as written, from any working directory,
 * also inside an included file; a missing one is named with file:line. */
START_TEST(include_absolute)
{
  char dir[] = "/tmp/cdivas-conf-XXXXXX", cwd[PATH_MAX];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  ck_assert_int_eq(mkdir(fmt("%s/etc", dir), 0700), 0);
  ck_assert_int_eq(mkdir(fmt("%s/lib", dir), 0700), 0);
  write_file(fmt("%s/etc/main.conf", dir),
             "server = { listen = [ \"sip:127.0.0.1:5070\" ]; identity = \"sip:as.example.net\"; };\n"
             "@include \"%s/lib/subscribers.conf\"\n", dir);
  write_file(fmt("%s/lib/subscribers.conf", dir), "@include \"%s/lib/bob.conf\"\n", dir);
  write_file(fmt("%s/lib/bob.conf", dir),
             "subscribers = ( { user = \"sip:bob@example.net\"; rules = (\n"
             "  { service = \"cfu\"; target = \"sip:carol@example.net\"; } ); } );\n");
  ck_assert_int_eq(chdir("/"), 0);
  struct cd_conf *c = load_ok(fmt("%s/etc/main.conf", dir));
  const struct cd_subscriber *bob = cd_conf_find(c, key("sip:bob@example.net"));
  ck_assert_ptr_nonnull(bob);
  ck_assert_str_eq(bob->file, fmt("%s/lib/bob.conf", dir));
  cd_conf_unref(c);
  ck_assert_int_eq(chdir(cwd), 0);   /* load left the working directory as it was */

  ck_assert_int_eq(unlink(fmt("%s/lib/bob.conf", dir)), 0);
  const struct expect exp[] = {
    { fmt("%s/lib/subscribers.conf", dir), 1,
      fmt("cannot open @include \"%s/lib/bob.conf\": No such file or directory", dir) },
  };
  check_errors_at(fmt("%s/etc/main.conf", dir), NULL, exp, 1);
  unlink(fmt("%s/lib/subscribers.conf", dir));
  unlink(fmt("%s/etc/main.conf", dir));
  rmdir(fmt("%s/lib", dir));
  rmdir(fmt("%s/etc", dir));
  rmdir(dir);
}
END_TEST

/* server.aliases and server.decline_is_busy: read, and refused with
 * file:line when an alias is not a sip URI. */
START_TEST(server_aliases)
{
  char dir[] = "/tmp/cdivas-conf-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  const char *path = fmt("%s/aliases.conf", dir);
  write_file(path, "server = { listen = [ \"sip:127.0.0.1:5070\" ]; identity = \"sip:as.example.net\";\n"
                   "  aliases = [ \"sip:as.lab.example.net\", \"sip:10.0.0.5:5070\" ];\n"
                   "  decline_is_busy = true; };\n");
  struct cd_conf *c = load_ok(path);
  ck_assert_uint_eq(c->n_aliases, 2);
  ck_assert_str_eq(c->aliases[0], "sip:as.lab.example.net");
  ck_assert_str_eq(c->aliases[1], "sip:10.0.0.5:5070");
  ck_assert(c->decline_is_busy);
  cd_conf_unref(c);

  write_file(path, "server = { listen = [ \"sip:127.0.0.1:5070\" ]; identity = \"sip:as.example.net\";\n"
                   "  aliases = [ \"tel:+15551234\" ];\n"
                   "  decline_is_busy = \"yes\"; };\n");
  const struct expect exp[] = {
    { NULL, 2, "malformed URI 'tel:+15551234' in aliases: not a sip or sips URI" },
    { NULL, 3, "decline_is_busy must be a boolean (true or false), not a string" },
  };
  check_errors_at(path, NULL, exp, 2);
  unlink(path);
  rmdir(dir);
}
END_TEST

/* ------------------------------------------------------------ semantic errors */

START_TEST(unknown_settings)
{
  CHECK_ERRORS("unknown_setting.conf",
               { NULL, 5, "unknown setting 'no_reply_timeout' in server" },
               { NULL, 7, "unknown setting 'subscriber' at top level" },
               { NULL, 10, "unknown setting 'alias' in subscriber" },
               { NULL, 12, "unknown setting 'notify' in rule" },
               { NULL, 13, "unknown setting 'day' in validity" });
}
END_TEST

START_TEST(wrong_types)
{
  CHECK_ERRORS("type.conf",
               { NULL, 3, "listen must be a list of strings, not a string" },
               { NULL, 5, "no_reply_timer must be an integer, not a string" },
               { NULL, 6, "max_diversions must be an integer, not a float" },
               { NULL, 7, "log_level must be a string, not an integer" },
               { NULL, 8, "limit_exempt entries must be strings, not an integer" },
               { NULL, 8, "limit_exempt entries must be strings, not an integer" },
               { NULL, 12, "max_calls must be an integer, not a boolean" },
               { NULL, 13, "rules must be a list of groups ( { ... }, ... ), not a group" },
               { NULL, 17, "user must be a string, not an array" },
               { NULL, 19, "active must be a boolean (true or false), not a string" },
               { NULL, 21, "rules entries must be groups { ... }, not a string" },
               { NULL, 24, "subscribers entries must be groups { ... }, not a string" });
}
END_TEST

START_TEST(diversion_header_types)
{
  CHECK_ERRORS("diversion_header.conf",
               { NULL, 5, "diversion_header must be a boolean (true or false), not a string" },
               { NULL, 9, "diversion_header must be a boolean (true or false), not an integer" },
               { NULL, 12, "unknown setting 'diversion_header' in rule" });
}
END_TEST

START_TEST(unknown_service)
{
  CHECK_ERRORS("service.conf",
               { NULL, 9, "unknown service 'cfx' (expected cfu, cfb, cfnr, cfnl, cd or cfnrc)" },
               { NULL, 10, "missing required setting 'service' in rule" },
               { NULL, 11, "unknown service 'cf nr' (expected cfu, cfb, cfnr, cfnl, cd or cfnrc)" });
}
END_TEST

START_TEST(malformed_uris)
{
  CHECK_ERRORS("uri.conf",
               { NULL, 4, "malformed URI 'tel:+15551000000' in identity: not a sip or sips URI" },
               { NULL, 5, malformed("http://proxy.example.net", "outbound_proxy") },
               { NULL, 6, malformed("sip:", "limit_destination") },
               { NULL, 7, malformed("voicemail", "limit_exempt") },
               { NULL, 10, malformed("mailto:bob@ims.example.net", "user") },
               { NULL, 11, malformed("tel:", "aliases") },
               { NULL, 11, malformed("sip:bob\n@ims.example.net", "aliases") },
               { NULL, 13, malformed("sip:", "target") },
               { NULL, 14, malformed("sip:alice@ims example.net", "callers") },
               { NULL, 15, malformed("sip:@", "target") });
}
END_TEST

START_TEST(no_reply_timers)
{
  CHECK_ERRORS("timer.conf",
               { NULL, 5, "no_reply_timer must be between 5 and 180, not 4" },
               { NULL, 9, "no_reply_timer must be between 5 and 180, not 181" },
               { NULL, 11, "no_reply_timer must be between 5 and 180, not 0" },
               { NULL, 12, "no_reply_timer is only allowed on cfnr rules, not on cfb" });
}
END_TEST

START_TEST(include_of_a_directory)
{
  /* libconfig 1.5 would exit() inside its scanner on a directory. */
  CHECK_ERRORS("include_dir.conf", { NULL, 3, "@include \".\" is not a regular file" });
}
END_TEST

START_TEST(inquiry_errors)
{
  CHECK_ERRORS("inquiry_errors.conf",
               { NULL, 4, "bad inquiry listen URL 'ftp://127.0.0.1:8070': must start with http:// or https://" },
               { NULL, 5, "record_ttl must be between 10 and 86400, not 5" },
               { NULL, 6, "tls_key '/nonexistent/key.pem': No such file or directory" },
               { NULL, 8, "kms 'kms.a' needs a key of exactly 64 hex digits" },
               { NULL, 10, "duplicate kms id 'kms.b'" },
               { NULL, 11, "kms entry needs an id of 1 to 127 characters" },
               { NULL, 13, "unknown setting 'colour' in inquiry" },
               { NULL, 3, "missing required setting 'listen' in inquiry" });
  CHECK_ERRORS("inquiry_https.conf",
               { NULL, 3, "an https:// inquiry listener needs tls_certificate and tls_key" });
}
END_TEST

START_TEST(xcap_settings)
{
  struct cd_conf *c = load_ok(fixture("xcap.conf"));
  const struct cd_xcap_conf *x = &c->xcap;
  ck_assert(x->enabled);
  ck_assert_str_eq(x->listen, "http://127.0.0.1:8090");
  ck_assert(!x->tls);
  ck_assert_str_eq(x->host, "127.0.0.1");
  ck_assert_int_eq(x->port, 8090);
  ck_assert_uint_eq(x->auth, CD_XCAP_AUTH_DIGEST | CD_XCAP_AUTH_ASSERTED);
  ck_assert_str_eq(x->realm, "cdivas.ims.example.net");
  ck_assert_str_eq(x->state_dir, "/tmp");
  ck_assert(!x->feature_codes);
  ck_assert_uint_eq(x->n_trusted_proxies, 4);
  unsigned char lo[4] = { 127, 0, 0, 1 }, ten[4] = { 10, 9, 8, 7 }, other[4] = { 11, 0, 0, 1 };
  unsigned char v6lo[16] = { [15] = 1 }, ula[16] = { 0xfd, 0x12 }, v6[16] = { 0x20, 0x01 };
  ck_assert(cd_net_contains(&x->trusted_proxies[0], 4, lo));
  ck_assert(!cd_net_contains(&x->trusted_proxies[0], 4, ten));
  ck_assert(cd_net_contains(&x->trusted_proxies[1], 4, ten));
  ck_assert(!cd_net_contains(&x->trusted_proxies[1], 4, other));
  ck_assert(!cd_net_contains(&x->trusted_proxies[1], 6, v6lo));
  ck_assert(cd_net_contains(&x->trusted_proxies[2], 6, v6lo));
  ck_assert(cd_net_contains(&x->trusted_proxies[3], 6, ula));
  ck_assert(!cd_net_contains(&x->trusted_proxies[3], 6, v6));

  const struct cd_subscriber *bob = cd_conf_find(c, key("sip:bob@ims.example.net"));
  ck_assert_str_eq(bob->password, "s3cret");
  ck_assert(bob->self_service);
  ck_assert(bob->deactivated);
  ck_assert_uint_eq(bob->n_rules, 5);
  /* default ids per service, skipping those written */
  ck_assert_str_eq(bob->rules[0].id, "call-diversion-unconditional");
  ck_assert_str_eq(bob->rules[1].id, "mine");
  ck_assert_str_eq(bob->rules[2].id, "call-diversion-unconditional-2");
  ck_assert_str_eq(bob->rules[3].id, "call-diversion-busy");
  ck_assert_str_eq(bob->rules[4].id, "call-diversion-busy-2");
  const struct cd_subscriber *carol = cd_conf_find(c, key("sip:carol@ims.example.net"));
  ck_assert_ptr_null(carol->password);
  ck_assert(!carol->self_service);
  ck_assert(!carol->deactivated);
  cd_conf_unref(c);

  /* Without the group: disabled, nothing set. */
  c = load_ok(fixture("minimal.conf"));
  ck_assert(!c->xcap.enabled);
  ck_assert_ptr_null(c->xcap.listen);
  cd_conf_unref(c);
}
END_TEST

START_TEST(xcap_errors)
{
  CHECK_ERRORS("xcap_errors.conf",
               { NULL, 4, "bad xcap listen URL 'ftp://127.0.0.1:8090': must start with http:// or https://" },
               { NULL, 5, "unknown auth 'basic' (expected digest or asserted-identity)" },
               { NULL, 6, "bad trusted_proxies entry '10.0.0.0/33': bad prefix length (0..32)" },
               { NULL, 6, "bad trusted_proxies entry 'proxy.example.net': not a numeric IPv4 or IPv6 address" },
               { NULL, 7, "realm must be 1 to 128 characters without \" or \\" },
               { NULL, 8, "state_dir '/nonexistent/state': No such file or directory" },
               { NULL, 9, "feature_codes must be a boolean (true or false), not an integer" },
               { NULL, 10, "unknown setting 'colour' in xcap" },
               { NULL, 6, "trusted_proxies is only used with auth asserted-identity" },
               { NULL, 13, "password must be 1 to 256 characters without control characters" },
               { NULL, 13, "self_service must be a boolean (true or false), not a string" },
               { NULL, 14, "bad rule id 'a b': 1 to 64 letters, digits, '-', '_' or '.'" },
               { NULL, 16, fmt("duplicate rule id 'x' (also at %s:15)", fixture("xcap_errors.conf")) });
}
END_TEST

START_TEST(xcap_needs)
{
  CHECK_ERRORS("xcap_needs.conf",
               { NULL, 3, "an https:// xcap listener needs tls_certificate and tls_key" },
               { NULL, 5, "auth asserted-identity needs trusted_proxies (the authentication proxies' addresses)" },
               { NULL, 3, "xcap needs state_dir (where the subscribers' documents are kept) with the memory store" });
  CHECK_ERRORS("xcap_redis.conf",
               { NULL, 5, "trusted_proxies is only used with auth asserted-identity" },
               { NULL, 4, "state_dir is not used with store.backend \"redis\" (the documents are kept in Redis)" });
}
END_TEST

/* A rule list of one cfu rule to `target`, as a document would give. */
static struct cd_own_rules *own_cfu(const char *target)
{
  struct cd_own_rules *own = cd_own_rules_new();
  ck_assert_ptr_nonnull(own);
  own->rules = calloc(1, sizeof *own->rules);
  own->n_rules = 1;
  own->rules[0].id = strdup("call-diversion-unconditional");
  own->rules[0].target = strdup(target);
  own->rules[0].active = true;
  own->rules[0].anonymous = -1;
  own->no_reply_timer = 42;
  return own;
}

START_TEST(own_rules_snapshot)
{
  struct cd_conf *base = load_ok(fixture("xcap.conf"));
  const struct cd_subscriber *bob = cd_conf_find(base, key("sip:bob@ims.example.net"));
  const struct cd_subscriber *carol = cd_conf_find(base, key("sip:carol@ims.example.net"));
  struct cd_own_rules *o1 = own_cfu("tel:+4930123"), *o2 = own_cfu("tel:+4930999");
  const struct cd_subscriber *subs[] = { bob, carol, bob };
  struct cd_own_rules *owns[] = { o1, o1, o2 };
  struct cd_conf *d = cd_conf_with_own(base, 3, subs, owns);
  ck_assert_ptr_nonnull(d);
  ck_assert_int_eq(base->refs, 2);
  ck_assert_ptr_eq(cd_conf_base(d), base);
  ck_assert_ptr_eq(cd_conf_base(base), base);
  /* bob: the later of his two documents; carol: the first */
  const struct cd_subscriber *b = cd_conf_find(d, key("sip:bob@ims.example.net"));
  ck_assert_ptr_ne(b, bob);
  ck_assert_ptr_eq(b->own, o2);
  ck_assert_uint_eq(b->n_rules, 1);
  ck_assert_str_eq(b->rules[0].target, "tel:+4930999");
  ck_assert_int_eq(b->no_reply_timer, 42);
  ck_assert(!b->deactivated);
  ck_assert_str_eq(b->user, "sip:bob@ims.example.net");
  ck_assert_str_eq(b->password, "s3cret");
  const struct cd_subscriber *c = cd_conf_find(d, key("sip:carol@ims.example.net"));
  ck_assert_ptr_eq(c->own, o1);
  ck_assert_int_eq(o1->refs, 2);
  ck_assert_int_eq(o2->refs, 2);
  /* the base is untouched */
  ck_assert_ptr_eq(cd_conf_find(base, key("sip:bob@ims.example.net")), bob);
  ck_assert_uint_eq(bob->n_rules, 5);
  ck_assert_ptr_null(bob->own);
  /* a snapshot derived from a derived one stands on the loaded base */
  struct cd_conf *d2 = cd_conf_with_own(d, 1, subs, owns);
  ck_assert_ptr_eq(cd_conf_base(d2), base);
  ck_assert_ptr_eq(cd_conf_find(d2, key("sip:bob@ims.example.net"))->own, o1);
  ck_assert_ptr_eq(cd_conf_find(d2, key("sip:carol@ims.example.net")), carol);
  /* no override: the base itself */
  struct cd_conf *same = cd_conf_with_own(d, 0, NULL, NULL);
  ck_assert_ptr_eq(same, base);
  cd_conf_unref(same);
  cd_own_rules_unref(o1);
  cd_own_rules_unref(o2);
  /* A call holding d keeps its rules alive after everything else went. */
  cd_conf_unref(d2);
  cd_conf_unref(base);
  ck_assert_str_eq(cd_conf_find(d, key("sip:bob@ims.example.net"))->rules[0].target, "tel:+4930999");
  cd_conf_unref(d);
}
END_TEST

START_TEST(rule_copy_and_ids)
{
  struct cd_conf *c = load_ok(fixture("xcap.conf"));
  const struct cd_subscriber *bob = cd_conf_find(c, key("sip:bob@ims.example.net"));
  struct cd_rule copy;
  ck_assert_int_eq(cd_rule_copy(&copy, &bob->rules[1]), 0);
  ck_assert_str_eq(copy.id, "mine");
  ck_assert_ptr_ne(copy.id, bob->rules[1].id);
  ck_assert_str_eq(copy.target, bob->rules[1].target);
  ck_assert_ptr_null(copy.file);
  cd_rule_free(&copy);
  cd_conf_unref(c);
  char buf[64];
  ck_assert_str_eq(cd_rule_default_id(CD_SVC_CFNRC, 1, buf, sizeof buf), "call-diversion-not-reachable");
  ck_assert_str_eq(cd_rule_default_id(CD_SVC_CFNL, 3, buf, sizeof buf), "call-diversion-not-logged-in-3");
  ck_assert_str_eq(cd_rule_default_id(CD_SVC_CD, 1, buf, sizeof buf), "call-deflection");
  struct cd_rule rules[3] = { { .service = CD_SVC_CFNR }, { .service = CD_SVC_CFNR }, { .service = CD_SVC_CFU } };
  rules[1].id = strdup("call-diversion-no-reply");
  ck_assert_ptr_null(cd_rules_duplicate_id(rules, 3));
  ck_assert_int_eq(cd_rules_assign_ids(rules, 3), 0);
  ck_assert_str_eq(rules[0].id, "call-diversion-no-reply-2");
  ck_assert_str_eq(rules[2].id, "call-diversion-unconditional");
  free(rules[2].id);
  rules[2].id = strdup("call-diversion-no-reply");
  ck_assert_str_eq(cd_rules_duplicate_id(rules, 3), "call-diversion-no-reply");
  for (int i = 0; i < 3; i++)
    cd_rule_free(&rules[i]);
}
END_TEST

START_TEST(store_errors)
{
  CHECK_ERRORS("store_errors.conf",
               { NULL, 4, "unknown store backend 'memcached' (memory or redis)" },
               { NULL, 5, "bad store address '127.0.0.1:99999': bad port" },
               { NULL, 6, "timeout_ms must be between 10 and 5000, not 5" },
               { NULL, 7, "prefix must not contain white space" },
               { NULL, 8, "password must not be empty" },
               { NULL, 9, "unknown setting 'colour' in store" });
  CHECK_ERRORS("store_memory.conf",
               { NULL, 4, "socket needs backend = \"redis\"" });
  CHECK_ERRORS("store_addresses.conf",
               { NULL, 3, "bad store address '::1:6379': write an IPv6 address as [address]:port" });
}
END_TEST

START_TEST(out_of_range)
{
  CHECK_ERRORS("range.conf",
               { NULL, 5, "max_diversions must be between 1 and 20, not 0" },
               { NULL, 6, "unknown log_level 'verbose' (expected error, warning, notice, info or debug)" },
               { NULL, 7, fmt("unknown timezone 'Mars/Olympus': no zone file under %s",
                              fixture("zoneinfo")) },
               { NULL, 8, "limit_response must be between 400 and 699, not 700" },
               { NULL, 9, "shutdown_grace must be between 1 and 300, not 301" },
               { NULL, 9, "not_reachable_timer must be between 0 and 64, not 65" },
               { NULL, 12, "max_calls must be 0 or more, not -1" });
}
END_TEST

START_TEST(timezone_name)
{
  CHECK_ERRORS("timezone.conf",
               { NULL, 5, "unknown timezone '../../etc/passwd': not an IANA time zone name (like Europe/Paris)" });
}
END_TEST

START_TEST(duplicate_identities)
{
  char f[PATH_MAX + 64];
  snprintf(f, sizeof f, "%s", fixture("duplicate.conf"));
  CHECK_ERRORS("duplicate.conf",
               { NULL, 10, fmt("duplicate identity 'sips:bob@IMS.example.net:5061' (also at %s:7)", f) },
               { NULL, 11, fmt("duplicate identity 'tel:+1-555-100-0002' (also at %s:8)", f) },
               { NULL, 13, fmt("duplicate identity 'sip:carol@ims.example.net' (also at %s:11)", f) },
               { NULL, 14, fmt("duplicate identity 'tel:+15551000003' (also at %s:14)", f) });
}
END_TEST

START_TEST(missing_settings)
{
  CHECK_ERRORS("missing.conf",
               { NULL, 7, "missing required setting 'user' in subscriber" },
               { NULL, 10, "missing required setting 'target' in cfu rule" },
               { NULL, 11, "missing required setting 'target' in cfb rule" });
}
END_TEST

START_TEST(missing_server)
{
  CHECK_ERRORS("missing_server.conf", { NULL, 1, "missing required group 'server'" });
}
END_TEST

START_TEST(missing_listen_and_identity)
{
  CHECK_ERRORS("missing_listen.conf",
               { NULL, 2, "missing required setting 'listen' in server" },
               { NULL, 2, "missing required setting 'identity' in server" });
}
END_TEST

START_TEST(bad_listen)
{
  CHECK_ERRORS("listen.conf",
               { NULL, 5, "bad listen URI 'udp:127.0.0.1:5070': expected sip:host[:port][;transport=udp|tcp|tls] or sips:..." },
               { NULL, 6, "bad listen URI 'sip:127.0.0.256': bad IPv4 address" },
               { NULL, 7, "bad listen URI 'sip:[::g]:5070': bad IPv6 address" },
               { NULL, 8, "bad listen URI 'sip:[::1': bad IPv6 reference (expected [address])" },
               { NULL, 9, "bad listen URI 'sip:host.example.net:0': bad port (expected 1..65535)" },
               { NULL, 10, "bad listen URI 'sip:host.example.net:5060;transport=sctp': unknown transport 'sctp' (expected udp, tcp or tls)" },
               { NULL, 11, "bad listen URI 'sip:bob@host.example.net': a listen URI has no user part" },
               { NULL, 12, "bad listen URI 'sips:host.example.net;transport=udp': sips cannot use transport=udp" },
               { NULL, 13, "bad listen URI 'sip:host.example.net;lr': unsupported parameter 'lr' (only transport=udp|tcp|tls)" },
               { NULL, 14, "bad listen URI 'sip:-bad-.example.net': bad host name" },
               { NULL, 15, "bad listen URI 'sip:': empty host" },
               { NULL, 16, "duplicate listen URI 'SIP:127.0.0.1:5070'" });
}
END_TEST

START_TEST(empty_listen)
{
  CHECK_ERRORS("listen_empty.conf", { NULL, 3, "listen must not be empty" });
}
END_TEST

START_TEST(bad_validity)
{
  CHECK_ERRORS("validity.conf",
               { NULL, 11, "bad days 'mon-xyz' in validity: unknown day 'xyz' (expected mon, tue, wed, thu, fri, sat or sun)" },
               { NULL, 12, "bad days '' in validity: no day given" },
               { NULL, 13, "bad days 'mon,,fri' in validity: empty item in the day list" },
               { NULL, 14, "bad days 'mon-' in validity: bad range 'mon-'" },
               { NULL, 15, "bad days 'mon-tue-wed' in validity: bad range 'mon-tue-wed'" },
               { NULL, 16, "bad time '25:00' in from: expected HH:MM from 00:00 to 23:59" },
               { NULL, 17, "bad time '8:00' in from: expected HH:MM from 00:00 to 23:59" },
               { NULL, 18, "bad time '24:00' in from: expected HH:MM from 00:00 to 23:59" },
               { NULL, 19, "bad time '24:01' in to: expected HH:MM from 00:00 to 24:00" },
               { NULL, 20, "empty validity window: from and to are both 08:00" },
               { NULL, 24, "validity must not be empty (leave it out for always)" });
}
END_TEST

START_TEST(bad_media)
{
  CHECK_ERRORS("media.conf",
               { NULL, 10, "unknown media 'text' (expected audio or video)" },
               { NULL, 11, "media must not be empty (leave it out to match any media)" },
               { NULL, 12, "callers must not be empty (leave it out to match every caller)" });
}
END_TEST

/* Loading goes on after an error: one pass reports everything. */
START_TEST(all_errors_reported)
{
  CHECK_ERRORS("multi.conf",
               { NULL, 3, "bad listen URI 'sip:127.0.0.1:99999': bad port (expected 1..65535)" },
               { NULL, 4, "no_reply_timer must be between 5 and 180, not 200" },
               { NULL, 5, "unknown setting 'log_lvl' in server" },
               { NULL, 2, "missing required setting 'identity' in server" },
               { NULL, 11, "unknown service 'cfx' (expected cfu, cfb, cfnr, cfnl, cd or cfnrc)" },
               { NULL, 12, "missing required setting 'target' in cfu rule" },
               { NULL, 14, "unknown media 'text' (expected audio or video)" },
               { NULL, 15, "bad days 'someday' in validity: unknown day 'someday' (expected mon, tue, wed, thu, fri, sat or sun)" },
               { NULL, 15, "bad time 'noon' in from: expected HH:MM from 00:00 to 23:59" },
               { NULL, 18, fmt("duplicate identity 'tel:+1-555-100-0002' (also at %s:9)",
                               fixture("multi.conf")) });
}
END_TEST

int main(void)
{
  /* The fixtures' zone files; see the header comment. */
  setenv("TZDIR", fixture("zoneinfo"), 1);

  Suite *s = suite_create("conf");
  TCase *tc = tcase_create("names");
  tcase_add_test(tc, service_names);
  tcase_add_test(tc, log_level_names);
  suite_add_tcase(s, tc);

  tc = tcase_create("good");
  tcase_add_test(tc, good_server);
  tcase_add_test(tc, good_subscribers_and_rules);
  tcase_add_test(tc, find_by_user_and_alias);
  tcase_add_test(tc, find_many);
  tcase_add_test(tc, minimal_defaults);
  tcase_add_test(tc, empty_strings_mean_unset);
  tcase_add_test(tc, shipped_conf);
  tcase_add_test(tc, shipped_conf_from_elsewhere);
  tcase_add_test(tc, refcount);
  tcase_add_test(tc, errors_may_be_ignored);
  suite_add_tcase(s, tc);

  tc = tcase_create("file errors");
  tcase_add_test(tc, missing_file);
  tcase_add_test(tc, directory);
  tcase_add_test(tc, syntax_error);
  tcase_add_test(tc, include_errors);
  tcase_add_test(tc, include_errors_relative);
  tcase_add_test(tc, include_syntax_error);
  tcase_add_test(tc, include_missing);
  tcase_add_test(tc, include_absolute);
  tcase_add_test(tc, server_aliases);
  suite_add_tcase(s, tc);

  tc = tcase_create("semantic errors");
  tcase_add_test(tc, unknown_settings);
  tcase_add_test(tc, wrong_types);
  tcase_add_test(tc, diversion_header_types);
  tcase_add_test(tc, unknown_service);
  tcase_add_test(tc, malformed_uris);
  tcase_add_test(tc, no_reply_timers);
  tcase_add_test(tc, out_of_range);
  tcase_add_test(tc, inquiry_errors);
  tcase_add_test(tc, store_errors);
  tcase_add_test(tc, xcap_settings);
  tcase_add_test(tc, xcap_errors);
  tcase_add_test(tc, xcap_needs);
  tcase_add_test(tc, own_rules_snapshot);
  tcase_add_test(tc, rule_copy_and_ids);
  tcase_add_test(tc, include_of_a_directory);
  tcase_add_test(tc, timezone_name);
  tcase_add_test(tc, duplicate_identities);
  tcase_add_test(tc, missing_settings);
  tcase_add_test(tc, missing_server);
  tcase_add_test(tc, missing_listen_and_identity);
  tcase_add_test(tc, bad_listen);
  tcase_add_test(tc, empty_listen);
  tcase_add_test(tc, bad_validity);
  tcase_add_test(tc, bad_media);
  tcase_add_test(tc, all_errors_reported);
  suite_add_tcase(s, tc);

  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failures = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
