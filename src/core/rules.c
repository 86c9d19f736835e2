/*
 * rules.c - rule selection (see rules.h).
 *
 * A linear scan in rule order: subscribers have a handful of rules, and the
 * order is the semantics, so nothing cleverer would pay for itself.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "core/rules.h"

static bool caller_listed(const struct cd_rule *rule, const char *caller_key)
{
  for (size_t i = 0; i < rule->n_callers; i++)
    if (strcmp(rule->callers[i], caller_key) == 0)
      return true;
  return false;
}

static bool window_contains(const struct cd_validity *w, int weekday, int minute)
{
  if (w->from_min <= w->to_min)
    return (w->days & (1u << weekday)) && minute >= w->from_min && minute < w->to_min;
  /* The window wraps past midnight: the part after midnight belongs to the
   * day on which the window started. */
  int previous_day = (weekday + 6) % 7;
  return ((w->days & (1u << weekday)) && minute >= w->from_min) ||
         ((w->days & (1u << previous_day)) && minute < w->to_min);
}

static bool within_validity(const struct cd_rule *rule, int weekday, int minute)
{
  if (rule->n_validity == 0)
    return true;
  for (size_t i = 0; i < rule->n_validity; i++)
    if (window_contains(&rule->validity[i], weekday, minute))
      return true;
  return false;
}

static bool within_periods(const struct cd_rule *rule, long long now)
{
  if (rule->n_periods == 0)
    return true;
  for (size_t i = 0; i < rule->n_periods; i++)
    if (now >= rule->periods[i].from && now < rule->periods[i].until)
      return true;
  return false;
}

bool cd_rule_conditions_hold(const struct cd_rule *rule,
                             const struct cd_call_facts *facts)
{
  if (!rule->active)
    return false;
  if (rule->n_callers > 0 &&
      (facts->caller_anonymous || !caller_listed(rule, facts->caller_key)))
    return false;
  if (rule->anonymous == 1 && !facts->caller_anonymous)
    return false;
  if (rule->anonymous == 0 && facts->caller_anonymous)
    return false;
  /* simservs media condition: the rule applies when the call offers every
   * media type the rule names. */
  if (rule->media != 0 && (facts->media & rule->media) != rule->media)
    return false;
  return within_validity(rule, facts->weekday, facts->minute) && within_periods(rule, facts->now);
}

const struct cd_rule *cd_rules_select(const struct cd_subscriber *sub,
                                      enum cd_service service,
                                      const struct cd_call_facts *facts)
{
  if (sub->deactivated)
    return NULL;
  for (size_t i = 0; i < sub->n_rules; i++) {
    const struct cd_rule *rule = &sub->rules[i];
    if (rule->service == service && cd_rule_conditions_hold(rule, facts))
      return rule;
  }
  return NULL;
}

unsigned cd_rules_sdp_media(const char *sdp, size_t len)
{
  unsigned media = 0;
  if (sdp == NULL)
    return 0;
  for (size_t i = 0; i + 7 <= len; i++) {
    if ((i == 0 || sdp[i - 1] == '\n') && sdp[i] == 'm' && sdp[i + 1] == '=') {
      if (strncmp(sdp + i + 2, "audio", 5) == 0) media |= CD_MEDIA_AUDIO;
      if (strncmp(sdp + i + 2, "video", 5) == 0) media |= CD_MEDIA_VIDEO;
    }
  }
  return media;
}

unsigned cd_rules_select_all(const struct cd_subscriber *sub, const struct cd_call_facts *facts,
                             const struct cd_rule *rules[CD_SVC_COUNT])
{
  unsigned services = 0;
  for (int svc = 0; svc < CD_SVC_COUNT; svc++) {
    rules[svc] = cd_rules_select(sub, (enum cd_service)svc, facts);
    if (rules[svc])
      services |= 1u << svc;
  }
  return services;
}

const struct cd_rule *cd_rules_first_immediate(const struct cd_subscriber *sub,
                                               const struct cd_rule *const rules[CD_SVC_COUNT],
                                               bool logged_out, bool busy)
{
  for (size_t i = 0; i < sub->n_rules; i++) {
    const struct cd_rule *rule = &sub->rules[i];
    if (rule == rules[CD_SVC_CFU] ||
        (logged_out && rule == rules[CD_SVC_CFNL]) ||
        (busy && rule == rules[CD_SVC_CFB]))
      return rule;
  }
  return NULL;
}

/* ------------------------------------------------------------ days and times */

const char *cd_days_parse(const char *s, unsigned *out, char *buf, size_t bufsize)
{
  static const char *const names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
  unsigned days = 0;
  const char *p = s;
  for (;;) {
    while (*p == ' ' || *p == '\t')
      p++;
    size_t n = strcspn(p, ",");
    size_t t = n;
    while (t > 0 && (p[t - 1] == ' ' || p[t - 1] == '\t'))
      t--;
    if (t == 0)
      return *s == '\0' ? "no day given" : "empty item in the day list";
    /* one day, or first-last */
    int ends[2] = { -1, -1 };
    size_t parts = 0;
    for (size_t i = 0; i < t; parts++) {
      size_t k = i;
      while (k < t && p[k] != '-')
        k++;
      if (parts == 2) {
        snprintf(buf, bufsize, "bad range '%.*s'", (int)t, p);
        return buf;
      }
      int d = -1;
      for (int j = 0; j < 7; j++)
        if (k - i == 3 && strncasecmp(p + i, names[j], 3) == 0)
          d = j;
      if (d < 0) {
        snprintf(buf, bufsize, "unknown day '%.*s' (expected mon, tue, wed, thu, fri, sat or sun)",
                 (int)(k - i), p + i);
        return buf;
      }
      ends[parts] = d;
      i = k;
      if (i < t) {          /* at '-': a second day must follow */
        i++;
        if (i == t) {
          snprintf(buf, bufsize, "bad range '%.*s'", (int)t, p);
          return buf;
        }
      }
    }
    if (parts == 1)
      ends[1] = ends[0];
    /* a range may wrap past Sunday: "fri-mon" */
    for (int d = ends[0];; d = (d + 1) % 7) {
      days |= 1u << d;
      if (d == ends[1])
        break;
    }
    p += n;
    if (*p == '\0')
      break;
    p++;                    /* ',' */
  }
  *out = days;
  return NULL;
}

int cd_time_parse(const char *s, bool allow_24)
{
  if (!(isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) && s[2] == ':' &&
        isdigit((unsigned char)s[3]) && isdigit((unsigned char)s[4]) && s[5] == '\0'))
    return -1;
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h < 24 && m < 60)
    return h * 60 + m;
  if (allow_24 && h == 24 && m == 0)
    return 24 * 60;
  return -1;
}

const char *cd_days_format(unsigned days, char *buf, size_t size)
{
  static const char *const names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
  size_t k = 0;
  buf[0] = '\0';
  for (int d = 0; d < 7;) {
    if (!(days & (1u << d))) {
      d++;
      continue;
    }
    int e = d;
    while (e + 1 < 7 && (days & (1u << (e + 1))))
      e++;
    int n = e > d ? snprintf(buf + k, size - k, "%s%s-%s", k ? "," : "", names[d], names[e])
                  : snprintf(buf + k, size - k, "%s%s", k ? "," : "", names[d]);
    if (n < 0 || (size_t)n >= size - k)
      break;
    k += (size_t)n;
    d = e + 1;
  }
  return buf;
}
