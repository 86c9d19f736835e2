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
#include <stddef.h>
#include "core/conf.h"

struct cd_call_facts {
  const char *caller_key;   /* canonical identity of the caller, "" if unknown */
  bool caller_anonymous;    /* Privacy: id, or an anonymous From */
  unsigned media;           /* CD_MEDIA_* offered in the SDP; 0 = no SDP */
  int weekday;              /* 0 = Monday .. 6 = Sunday, in server.timezone */
  int minute;               /* minutes after midnight, in server.timezone */
  long long now;            /* Unix time, for the absolute validity periods */
};

/* The media fact: the CD_MEDIA_* of the m= lines of an SDP body (audio,
 * video), 0 for none. */
unsigned cd_rules_sdp_media(const char *sdp, size_t len);

/* True when every condition of `rule` other than its service holds. */
bool cd_rule_conditions_hold(const struct cd_rule *rule,
                             const struct cd_call_facts *facts);

/* The first rule of `sub` for `service` whose conditions hold, or NULL
 * (always NULL when the subscriber's diversion is deactivated). */
const struct cd_rule *cd_rules_select(const struct cd_subscriber *sub,
                                      enum cd_service service,
                                      const struct cd_call_facts *facts);

/* cd_rules_select for every service: rules[svc] is the applicable rule of
 * each (NULL when none). Returns the bit set (1 << svc) of the services
 * that have one. */
unsigned cd_rules_select_all(const struct cd_subscriber *sub, const struct cd_call_facts *facts,
                             const struct cd_rule *rules[CD_SVC_COUNT]);

/* The rule that diverts before the user is tried, if any: the earliest,
 * in the subscriber's order, of rules[] among cfu always, cfnl when the
 * user is known to be logged out, cfb when the user is busy already
 * (max_calls reached). */
const struct cd_rule *cd_rules_first_immediate(const struct cd_subscriber *sub,
                                               const struct cd_rule *const rules[CD_SVC_COUNT],
                                               bool logged_out, bool busy);

/* Validity days and times as cdivas.conf(5) writes them. cd_days_parse:
 * "mon-fri", "sat,sun", "fri-mon" (bit 0 = Monday) into *out; returns
 * NULL, or why not (possibly in buf). cd_time_parse: "HH:MM", 00:00 to
 * 23:59 (24:00 too when allow_24) as minutes, or -1. cd_days_format: the
 * shortest such list of a non-empty day set, e.g. "mon-fri,sun" (ranges do
 * not wrap). */
const char *cd_days_parse(const char *s, unsigned *out, char *buf, size_t bufsize);
int cd_time_parse(const char *s, bool allow_24);
const char *cd_days_format(unsigned days, char *buf, size_t size);

#endif
