/*
 * rules.h - which diversion rule applies, if any.
 *
 * Mirrors the simservs communication-diversion rule set: a subscriber's
 * rules are ordered and the first rule whose conditions all hold wins. The
 * service of a rule is one of its conditions (the trigger): at the initial
 * INVITE only "cfu" (and "cfnl" when the user is known to be unregistered)
 * can hold; a 486 makes "cfb" rules eligible, and so on.
 *
 * Pure: the caller supplies the facts of the call (who calls, which media,
 * local weekday and time); no clock, no SIP here.
 */
#ifndef CDIVAS_RULES_H
#define CDIVAS_RULES_H

#include <stdbool.h>
#include "core/conf.h"

struct cd_call_facts {
  const char *caller_key;   /* canonical identity of the caller, "" if unknown */
  bool caller_anonymous;    /* Privacy: id, or an anonymous From */
  unsigned media;           /* CD_MEDIA_* offered in the SDP; 0 = no SDP */
  int weekday;              /* 0 = Monday .. 6 = Sunday, in server.timezone */
  int minute;               /* minutes after midnight, in server.timezone */
};

/* True when every condition of `rule` other than its service holds. */
bool cd_rule_conditions_hold(const struct cd_rule *rule,
                             const struct cd_call_facts *facts);

/* The first rule of `sub` for `service` whose conditions hold, or NULL. */
const struct cd_rule *cd_rules_select(const struct cd_subscriber *sub,
                                      enum cd_service service,
                                      const struct cd_call_facts *facts);

/* True when `sub` has an active rule for `service` at all (some services
 * change how cdivas treats the served user's answer: a 302 is only
 * followed when a cd rule exists). */
bool cd_rules_has_service(const struct cd_subscriber *sub, enum cd_service service);

#endif
