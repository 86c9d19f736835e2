/*
 * subscribers.c - the subscribers list of cdivas.conf (cdivas.conf(5),
 * SUBSCRIBERS and RULES): each served user with its aliases, limits and
 * forwarding rules, each rule with its conditions and validity windows.
 * See loader.h for what a group loader does.
 *
 * The identity index (core/conf.h: every user and alias key to its
 * subscriber) is built while the list is read, so that a duplicate
 * identity is reported at the second place it is written together with
 * where the first one is ("also at file:line"), across @include'd files.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* strdup */
#endif
#include "conf/loader.h"
#include "core/rules.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ values */

/* Adds `key` (stable storage) for subscriber `sub`, or reports a duplicate. */
static void index_add(struct loader *L, const config_setting_t *at, const char *written,
                      const char *key, size_t sub)
{
  struct reader *R = &L->rd;
  struct cd_conf *c = L->conf;
  if (c->index_slots == NULL || 2 * (L->n_keys + 1) > c->index_size)
    return;                 /* out of memory earlier; cannot happen otherwise */
  size_t mask = c->index_size - 1;
  size_t i = (size_t)cd_conf_key_hash(key) & mask;
  for (; c->index_slots[i] != 0; i = (i + 1) & mask)
    if (strcmp(c->index_keys[i], key) == 0) {
      rd_error_at(R, at, "duplicate identity '%s' (also at %s:%d)", written,
                  L->slot_file[i], L->slot_line[i]);
      return;
    }
  c->index_slots[i] = sub + 1;
  c->index_keys[i] = key;
  L->slot_file[i] = rd_file_of(R, at);
  L->slot_line[i] = rd_line_of(at);
  L->n_keys++;
}

static void load_validity(struct reader *R, const config_setting_t *g, struct cd_validity *v)
{
  const config_setting_t *from_s = NULL, *to_s = NULL;
  bool ok = true;
  v->days = 0x7f;
  v->from_min = 0;
  v->to_min = 24 * 60;
  for (int i = 0; i < config_setting_length(g); i++) {
    const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
    const char *str;
    if (rd_named(s, "days")) {
      char buf[160];
      const char *why;
      if ((str = rd_get_string(R, s)) != NULL &&
          (why = cd_days_parse(str, &v->days, buf, sizeof buf)) != NULL)
        rd_error_at(R, s, "bad days '%s' in validity: %s", str, why);
    } else if (rd_named(s, "from") || rd_named(s, "to")) {
      bool to = rd_named(s, "to");
      int m = -1;
      if ((str = rd_get_string(R, s)) != NULL && (m = cd_time_parse(str, to)) < 0)
        rd_error_at(R, s, "bad time '%s' in %s: expected HH:MM from 00:00 to %s",
                    str, config_setting_name(s), to ? "24:00" : "23:59");
      if (m < 0) {
        ok = false;
      } else if (to) {
        v->to_min = m;
        to_s = s;
      } else {
        v->from_min = m;
        from_s = s;
      }
    } else {
      rd_error_at(R, s, "unknown setting '%s' in validity", config_setting_name(s));
    }
  }
  if (ok && v->from_min == v->to_min) {
    const config_setting_t *at = to_s != NULL ? to_s : from_s != NULL ? from_s : g;
    rd_error_at(R, at, "empty validity window: from and to are both %02d:%02d",
                v->from_min / 60, v->from_min % 60);
  }
}

static void load_rule(struct reader *R, const config_setting_t *g, struct cd_rule *r)
{
  const config_setting_t *service_s = NULL, *target_s = NULL, *timer_s = NULL;
  const char *target = NULL;
  bool service_ok = false;

  cd_rule_defaults(r);
  r->file = rd_file_of(R, g);
  r->line = rd_line_of(g);

  for (int i = 0; i < config_setting_length(g); i++) {
    const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
    const char *str;
    bool b;
    if (rd_named(s, "id")) {
      if ((str = rd_get_string(R, s)) == NULL)
        continue;
      /* An XML NCName-like token: it becomes an attribute value and an
       * XCAP node selector's predicate. */
      size_t n = strlen(str);
      if (n == 0 || n > 64 || strspn(str, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789-_.") != n)
        rd_error_at(R, s, "bad rule id '%s': 1 to 64 letters, digits, '-', '_' or '.'", str);
      else
        r->id = rd_strdup(R, str);
    } else if (rd_named(s, "service")) {
      service_s = s;
      if ((str = rd_get_string(R, s)) == NULL)
        continue;
      if (cd_service_parse(str, &r->service) == 0)
        service_ok = true;
      else
        rd_error_at(R, s, "unknown service '%s' (expected cfu, cfb, cfnr, cfnl, cd or cfnrc)", str);
    } else if (rd_named(s, "target")) {
      char key[CD_IDENTITY_KEY_MAX];
      target_s = s;
      if ((str = rd_get_string(R, s)) != NULL && rd_identity(R, s, str, "target", key))
        target = str;
    } else if (rd_named(s, "callers")) {
      rd_key_list(R, s, false, &r->callers, &r->n_callers);
    } else if (rd_named(s, "anonymous")) {
      if (rd_get_bool(R, s, &b))
        r->anonymous = b;
    } else if (rd_named(s, "media")) {
      if (!rd_string_list(R, s))
        continue;
      if (config_setting_length(s) == 0)
        rd_error_at(R, s, "media must not be empty (leave it out to match any media)");
      for (int j = 0; j < config_setting_length(s); j++) {
        const config_setting_t *e;
        if ((str = rd_element_string(R, s, j, &e)) == NULL)
          continue;
        if (strcasecmp(str, "audio") == 0)
          r->media |= CD_MEDIA_AUDIO;
        else if (strcasecmp(str, "video") == 0)
          r->media |= CD_MEDIA_VIDEO;
        else
          rd_error_at(R, e, "unknown media '%s' (expected audio or video)", str);
      }
    } else if (rd_named(s, "validity")) {
      if (!rd_group_list(R, s))
        continue;
      int n = config_setting_length(s);
      if (n == 0) {
        rd_error_at(R, s, "validity must not be empty (leave it out for always)");
        continue;
      }
      if ((r->validity = rd_calloc(R, (size_t)n, sizeof *r->validity)) == NULL)
        continue;
      r->n_validity = (size_t)n;
      for (int j = 0; j < n; j++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)j);
        if (rd_group_elem(R, s, e))
          load_validity(R, e, &r->validity[j]);
      }
    } else if (rd_named(s, "active")) {
      rd_get_bool(R, s, &r->active);
    } else if (rd_named(s, "no_reply_timer")) {
      timer_s = s;
      rd_get_int(R, s, 5, 180, &r->no_reply_timer);
    } else if (rd_named(s, "notify_caller")) {
      rd_get_bool(R, s, &r->notify_caller);
    } else if (rd_named(s, "reveal_identity_to_caller")) {
      rd_get_bool(R, s, &r->reveal_identity_to_caller);
    } else if (rd_named(s, "reveal_served_user_identity_to_caller")) {
      rd_get_bool(R, s, &r->reveal_served_user_identity_to_caller);
    } else if (rd_named(s, "reveal_identity_to_target")) {
      rd_get_bool(R, s, &r->reveal_identity_to_target);
    } else if (rd_named(s, "notify_served_user")) {
      rd_get_bool(R, s, &r->notify_served_user);
    } else {
      rd_error_at(R, s, "unknown setting '%s' in rule", config_setting_name(s));
    }
  }

  if (service_s == NULL) {
    rd_error_at(R, g, "missing required setting 'service' in rule");
    return;
  }
  if (!service_ok)
    return;
  const char *svc = cd_service_name(r->service);
  if (timer_s != NULL && r->service != CD_SVC_CFNR)
    rd_error_at(R, timer_s, "no_reply_timer is only allowed on cfnr rules, not on %s", svc);
  if (r->service == CD_SVC_CD)
    return;                 /* target ignored: the 302's Contact decides */
  if (target_s == NULL)
    rd_error_at(R, g, "missing required setting 'target' in %s rule", svc);
  else if (target != NULL)
    r->target = rd_strdup(R, target);
}

static void load_subscriber(struct loader *L, const config_setting_t *g, size_t idx)
{
  struct reader *R = &L->rd;
  struct cd_subscriber *sub = &L->conf->subscribers[idx];
  bool has_user = false;
  sub->self_service = true;
  sub->file = rd_file_of(R, g);
  sub->line = rd_line_of(g);
  sub->diversion_header = -1;
  for (int i = 0; i < config_setting_length(g); i++) {
    const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
    const char *str;
    if (rd_named(s, "user")) {
      has_user = true;
      if ((str = rd_get_string(R, s)) != NULL && rd_identity(R, s, str, "user", sub->key)) {
        sub->user = rd_strdup(R, str);
        index_add(L, s, str, sub->key, idx);
      }
    } else if (rd_named(s, "aliases")) {
      if (!rd_string_list(R, s))
        continue;
      int n = config_setting_length(s);
      sub->aliases = rd_calloc(R, (size_t)n, sizeof *sub->aliases);
      sub->alias_keys = rd_calloc(R, (size_t)n, sizeof *sub->alias_keys);
      if (sub->aliases == NULL || sub->alias_keys == NULL)
        continue;
      sub->n_aliases = (size_t)n;
      for (int j = 0; j < n; j++) {
        const config_setting_t *e;
        char key[CD_IDENTITY_KEY_MAX];
        if ((str = rd_element_string(R, s, j, &e)) == NULL || !rd_identity(R, e, str, "aliases", key))
          continue;
        sub->aliases[j] = rd_strdup(R, str);
        if ((sub->alias_keys[j] = rd_strdup(R, key)) != NULL)
          index_add(L, e, str, sub->alias_keys[j], idx);
      }
    } else if (rd_named(s, "no_reply_timer")) {
      rd_get_int(R, s, 5, 180, &sub->no_reply_timer);
    } else if (rd_named(s, "max_calls")) {
      rd_get_int(R, s, 0, INT_MAX, &sub->max_calls);
    } else if (rd_named(s, "diversion_header")) {
      bool b;
      if (rd_get_bool(R, s, &b))
        sub->diversion_header = b;
    } else if (rd_named(s, "active")) {
      bool active;
      if (rd_get_bool(R, s, &active))
        sub->deactivated = !active;
    } else if (rd_named(s, "self_service")) {
      rd_get_bool(R, s, &sub->self_service);
    } else if (rd_named(s, "password")) {
      const char *pw = rd_get_string(R, s);
      if (pw == NULL)
        continue;
      bool ctl = false;
      for (const char *p = pw; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
          ctl = true;
      if (*pw == '\0' || ctl || strlen(pw) > 256)
        rd_error_at(R, s, "password must be 1 to 256 characters without control characters");
      else
        sub->password = rd_strdup(R, pw);
    } else if (rd_named(s, "rules")) {
      if (!rd_group_list(R, s))
        continue;
      int n = config_setting_length(s);
      if ((sub->rules = rd_calloc(R, (size_t)n, sizeof *sub->rules)) == NULL)
        continue;
      sub->n_rules = (size_t)n;
      for (int j = 0; j < n; j++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)j);
        if (rd_group_elem(R, s, e))
          load_rule(R, e, &sub->rules[j]);
      }
      for (int j = 1; j < n; j++)
        for (int k = 0; k < j; k++)
          if (sub->rules[j].id && sub->rules[k].id && strcmp(sub->rules[j].id, sub->rules[k].id) == 0) {
            rd_error_at(R, config_setting_get_elem(s, (unsigned)j), "duplicate rule id '%s' (also at %s:%d)",
                        sub->rules[j].id, sub->rules[k].file, sub->rules[k].line);
            break;
          }
      if (cd_rules_assign_ids(sub->rules, sub->n_rules) < 0)
        R->oom = true;
    } else {
      rd_error_at(R, s, "unknown setting '%s' in subscriber", config_setting_name(s));
    }
  }
  if (!has_user)
    rd_error_at(R, g, "missing required setting 'user' in subscriber");
}

void conf_load_subscribers(struct loader *L, const config_setting_t *s)
{
  struct reader *R = &L->rd;
  struct cd_conf *c = L->conf;
  if (!rd_group_list(R, s))
    return;
  int n = config_setting_length(s);
  if (n == 0)
    return;
  /* Upper bound of the keys: every user and every alias. */
  size_t keys = 0;
  for (int i = 0; i < n; i++) {
    const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
    const config_setting_t *a = config_setting_is_group(e) ? config_setting_get_member(e, "aliases") : NULL;
    keys += 1 + (a != NULL && config_setting_is_aggregate(a) ? (size_t)config_setting_length(a) : 0);
  }
  size_t size = 8;
  while (size < 2 * keys)
    size *= 2;
  c->subscribers = rd_calloc(R, (size_t)n, sizeof *c->subscribers);
  c->index_slots = rd_calloc(R, size, sizeof *c->index_slots);
  c->index_keys = rd_calloc(R, size, sizeof *c->index_keys);
  L->slot_file = rd_calloc(R, size, sizeof *L->slot_file);
  L->slot_line = rd_calloc(R, size, sizeof *L->slot_line);
  if (R->oom)
    return;
  c->n_subscribers = (size_t)n;
  c->index_size = size;
  for (int i = 0; i < n; i++) {
    const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
    if (rd_group_elem(R, s, e))
      load_subscriber(L, e, (size_t)i);
  }
}
