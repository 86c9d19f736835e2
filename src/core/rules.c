/*
 * rules.c - rule selection (see rules.h).
 *
 * A linear scan in rule order: subscribers have a handful of rules, and the
 * order is the semantics, so nothing cleverer would pay for itself.
 */
#include <string.h>
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
  return within_validity(rule, facts->weekday, facts->minute);
}

const struct cd_rule *cd_rules_select(const struct cd_subscriber *sub,
                                      enum cd_service service,
                                      const struct cd_call_facts *facts)
{
  for (size_t i = 0; i < sub->n_rules; i++) {
    const struct cd_rule *rule = &sub->rules[i];
    if (rule->service == service && cd_rule_conditions_hold(rule, facts))
      return rule;
  }
  return NULL;
}

bool cd_rules_has_service(const struct cd_subscriber *sub, enum cd_service service)
{
  for (size_t i = 0; i < sub->n_rules; i++)
    if (sub->rules[i].service == service && sub->rules[i].active)
      return true;
  return false;
}
