/*
 * main.c - the cdivas daemon: options, conf, signals, the su_root loop.
 *
 * Signals arrive through a signalfd registered in the same su_root as the
 * SIP transports, so a handler never runs in the middle of a callback:
 * SIGTERM/SIGINT drain (new INVITEs get 503, transactions in flight end,
 * bounded by server.shutdown_grace), SIGHUP reloads the conf.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>
#include "conf/load.h"
#include "cdivas/routes.h"
#include "log/log.h"
#include "sip/proxy.h"
#include "xcap/docs.h"
#include "xcap/feature.h"
#include "xcap/server.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONF SYSCONFDIR "/cdivas/cdivas.conf"
/* Quiet time after the last transaction ends before a draining cdivas exits. */
#define DRAIN_QUIET_MS 1000

struct daemon_state {
  const char *conf_path;
  su_root_t *root;
  struct cd_proxy proxy;
  struct cd_inquiry_service *http; /* the inquiry endpoint, when configured */
  struct cd_docs *docs;            /* the subscribers' documents, with an xcap group */
  struct cd_xcap_service *xcap;    /* their XCAP server, with xcap.listen */
  struct cd_features features;     /* feature codes applied to them */
  su_timer_t *grace_timer;
  su_timer_t *quiet_timer;
  su_wait_t signal_wait[1];
  int signal_fd;
};

static void usage(FILE *out)
{
  fprintf(out,
          "Usage: cdivas [-f FILE] [-t] [-F] [-V] [-h]\n"
          "Communication diversion application server (3GPP TS 24.604) for IMS.\n\n"
          "  -f FILE  configuration file (default " DEFAULT_CONF ")\n"
          "  -t       check the configuration, print every error as file:line: message, and exit\n"
          "  -F       stay in the foreground and log to stderr (default: daemonize, log to syslog)\n"
          "  -V       print the version and exit\n"
          "  -h       print this help and exit\n");
}

/* Loads the conf; reports every error, as bare "file:line: message" lines
 * on stderr at start-up and with -t, in the log on a reload. Returns NULL
 * when there is any error. */
static struct cd_conf *load_conf(const char *path, bool to_log)
{
  struct cd_conf_errors errs = {0};
  struct cd_conf *conf = cd_conf_load(path, &errs);
  for (size_t i = 0; i < errs.count; i++) {
    if (to_log)
      cd_log(CD_LOG_ERROR, "%s", errs.msgs[i]);
    else
      fprintf(stderr, "%s\n", errs.msgs[i]);
  }
  cd_conf_errors_free(&errs);
  return conf;
}

static void apply_timezone(const struct cd_conf *conf)
{
  if (conf->timezone) {
    char tz[300];
    snprintf(tz, sizeof tz, ":%s", conf->timezone);
    setenv("TZ", tz, 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

static bool same_string(const char *a, const char *b)
{
  return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_listen(const struct cd_conf *a, const struct cd_conf *b)
{
  if (a->n_listen != b->n_listen)
    return false;
  for (size_t i = 0; i < a->n_listen; i++)
    if (strcmp(a->listen[i], b->listen[i]) != 0)
      return false;
  if (a->n_aliases != b->n_aliases)
    return false;
  for (size_t i = 0; i < a->n_aliases; i++)
    if (!same_string(a->aliases[i], b->aliases[i]))
      return false;
  return true;
}

static bool same_store(const struct cd_store_conf *a, const struct cd_store_conf *b)
{
  return a->backend == b->backend && same_string(a->host, b->host) && a->port == b->port &&
         same_string(a->socket, b->socket) && same_string(a->password, b->password) &&
         a->database == b->database && same_string(a->prefix, b->prefix) &&
         a->timeout_ms == b->timeout_ms && a->registration_retain == b->registration_retain;
}

static void reload(struct daemon_state *st)
{
  cd_log(CD_LOG_NOTICE, "SIGHUP: reloading %s", st->conf_path);
  struct cd_conf *conf = load_conf(st->conf_path, true);
  if (conf == NULL) {
    cd_log(CD_LOG_ERROR, "reload failed: keeping the running configuration");
    cd_inquiry_service_count_reload(st->http, false);
    return;
  }
  if (!same_listen(conf, st->proxy.conf))
    cd_log(CD_LOG_WARNING, "server.listen or server.aliases changed: takes effect only after a restart");
  const char *old_http = st->proxy.conf->inquiry.listen, *new_http = conf->inquiry.listen;
  if ((old_http == NULL) != (new_http == NULL) || (old_http && strcmp(old_http, new_http) != 0))
    cd_log(CD_LOG_WARNING, "inquiry.listen changed: takes effect only after a restart");
  if (!same_store(&conf->store, &st->proxy.conf->store))
    cd_log(CD_LOG_WARNING, "store changed: takes effect only after a restart");
  const char *old_xcap = st->proxy.conf->xcap.listen, *new_xcap = conf->xcap.listen;
  if ((old_xcap == NULL) != (new_xcap == NULL) || (old_xcap && strcmp(old_xcap, new_xcap) != 0))
    cd_log(CD_LOG_WARNING, "xcap.listen changed: takes effect only after a restart");
  if ((st->docs == NULL) != !conf->xcap.enabled ||
      !same_string(st->proxy.conf->xcap.state_dir, conf->xcap.state_dir))
    cd_log(CD_LOG_WARNING, "xcap (enabled, state_dir) changed: takes effect only after a restart");
  apply_timezone(conf);
  cd_log_set_level(conf->log_level);
  /* The subscribers' documents are read again (an operator may have
   * removed one) and applied to the new conf. */
  if (st->docs)
    cd_docs_reload(st->docs, conf);
  else
    cd_proxy_set_conf(&st->proxy, conf);
  cd_conf_unref(conf);
  cd_log(CD_LOG_NOTICE, "configuration reloaded: %zu subscribers", st->proxy.conf->n_subscribers);
  cd_inquiry_service_count_reload(st->http, true);
}

/* The documents module's hooks: the SIP proxy's snapshot in force. */
static struct cd_conf *current_conf(void *ctx)
{
  return ((struct cd_proxy *)ctx)->conf;
}

static void install_conf(void *ctx, struct cd_conf *conf)
{
  cd_proxy_set_conf((struct cd_proxy *)ctx, conf);
}

/* The documents in force and their XCAP server, when the conf asks. */
static int start_xcap(struct daemon_state *st, struct cd_conf *conf)
{
  if (!conf->xcap.enabled)
    return 0;
  struct cd_docs_env denv = { st->proxy.store, current_conf, install_conf, &st->proxy };
  if ((st->docs = cd_docs_create(&denv)) == NULL)
    return -1;
  cd_docs_reload(st->docs, conf);
  st->features = (struct cd_features){ st->docs, current_conf, &st->proxy };
  st->proxy.calls.feature = (struct cd_feature_hook){ cd_features_start, cd_features_cancel, &st->features };
  if (conf->xcap.listen == NULL)
    return 0;
  struct cd_xcap_env xenv = { st->docs, current_conf, &st->proxy };
  return (st->xcap = cd_xcap_start(st->root, conf, &xenv)) ? 0 : -1;
}

static void grace_expired(su_root_magic_t *magic, su_timer_t *timer, su_timer_arg_t *arg)
{
  (void)magic; (void)timer;
  struct daemon_state *st = (struct daemon_state *)arg;
  cd_log(CD_LOG_WARNING, "shutdown grace over with %zu transactions in flight", st->proxy.inflight.count);
  su_root_break(st->root);
}

static void quiet_period_over(su_root_magic_t *magic, su_timer_t *timer, su_timer_arg_t *arg)
{
  (void)magic; (void)timer;
  struct cd_proxy *proxy = (struct cd_proxy *)arg;
  if (proxy->inflight.count == 0)
    su_root_break(proxy->root);
}

/* Nothing is in flight any more. Stop after a short quiet period rather
 * than at once: the ACK and BYE of a call whose 2xx just went out may
 * still come through us (when the caller has no better route). */
static void drained(void *arg)
{
  struct daemon_state *st = (struct daemon_state *)arg;
  struct cd_proxy *proxy = &st->proxy;
  if (st->quiet_timer == NULL)
    st->quiet_timer = su_timer_create(su_root_task(proxy->root), DRAIN_QUIET_MS);
  if (st->quiet_timer == NULL || su_timer_set(st->quiet_timer, quiet_period_over, proxy) < 0)
    su_root_break(proxy->root);
}

static int on_signal(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
  (void)magic; (void)w;
  struct daemon_state *st = (struct daemon_state *)arg;
  struct signalfd_siginfo info;
  while (read(st->signal_fd, &info, sizeof info) == (ssize_t)sizeof info) {
    if (info.ssi_signo == SIGHUP) {
      reload(st);
    } else if (!st->proxy.inflight.draining) {
      cd_log(CD_LOG_NOTICE, "%s: refusing new calls, %zu transactions in flight",
             strsignal((int)info.ssi_signo), st->proxy.inflight.count);
      st->grace_timer = su_timer_create(su_root_task(st->root),
                                        (su_duration_t)st->proxy.conf->shutdown_grace * 1000);
      if (st->grace_timer)
        su_timer_set(st->grace_timer, grace_expired, st);
      st->proxy.inflight.on_idle = drained;
      st->proxy.inflight.on_idle_arg = st;
      cd_proxy_drain(&st->proxy);
    } else {
      cd_log(CD_LOG_NOTICE, "second signal: stopping now");
      su_root_break(st->root);
    }
  }
  return 0;
}

static int watch_signals(struct daemon_state *st)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
    return -1;
  st->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (st->signal_fd < 0)
    return -1;
  if (su_wait_create(st->signal_wait, st->signal_fd, SU_WAIT_IN) < 0)
    return -1;
  return su_root_register(st->root, st->signal_wait, on_signal, st, 0) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
  struct daemon_state st = { .conf_path = DEFAULT_CONF, .signal_fd = -1 };
  bool check_only = false, foreground = false;
  int opt;

  while ((opt = getopt(argc, argv, "f:tFVh")) != -1) {
    switch (opt) {
    case 'f': st.conf_path = optarg; break;
    case 't': check_only = true; break;
    case 'F': foreground = true; break;
    case 'V': printf("cdivas %s\n", PACKAGE_VERSION); return 0;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "cdivas: unexpected argument '%s'\n", argv[optind]);
    usage(stderr);
    return 2;
  }

  cd_log_open(true);
  struct cd_conf *conf = load_conf(st.conf_path, false);
  if (check_only) {
    /* The subscribers' documents in the state directory too: each one
     * must be a document cdivas takes, of a subscriber of this conf. */
    int bad = conf ? cd_docs_check_dir(conf) : 0;
    if (conf && bad == 0)
      printf("%s: configuration OK (%zu subscribers)\n", st.conf_path, conf->n_subscribers);
    cd_conf_unref(conf);
    return conf && bad == 0 ? 0 : 1;
  }
  if (conf == NULL)
    return 1;
  cd_log_set_level(conf->log_level);
  apply_timezone(conf);

  su_init();
  cd_log_capture_sofia();
  st.root = su_root_create(NULL);
  if (st.root == NULL || cd_proxy_start(&st.proxy, st.root, conf) < 0 ||
      (conf->inquiry.listen && (st.http = cd_inquiry_service_start(st.root, &st.proxy)) == NULL) ||
      start_xcap(&st, conf) < 0 || watch_signals(&st) < 0) {
    cd_log(CD_LOG_ERROR, "cannot start: %s", errno ? strerror(errno) : "see above");
    return 1;
  }
  cd_inquiry_service_show_xcap(st.http, st.xcap);
  cd_conf_unref(conf);

  if (!foreground) {
    if (daemon(0, 0) < 0) {
      cd_log(CD_LOG_ERROR, "cannot daemonize: %s", strerror(errno));
      return 1;
    }
    cd_log_open(false);
  }
  cd_log(CD_LOG_NOTICE, "cdivas %s started as %s", PACKAGE_VERSION, st.proxy.conf->identity);

  su_root_run(st.root);

  cd_inquiry_service_show_xcap(st.http, NULL);
  cd_inquiry_service_destroy(st.http);
  cd_xcap_destroy(st.xcap);
  cd_docs_destroy(st.docs);
  cd_proxy_stop(&st.proxy);
  if (st.grace_timer)
    su_timer_destroy(st.grace_timer);
  if (st.quiet_timer)
    su_timer_destroy(st.quiet_timer);
  su_root_unregister(st.root, st.signal_wait, on_signal, &st);
  su_root_destroy(st.root);
  su_deinit();
  close(st.signal_fd);
  cd_log(CD_LOG_NOTICE, "stopped");
  return 0;
}
