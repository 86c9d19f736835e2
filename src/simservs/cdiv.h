/*
 * cdiv.h - the simservs communication-diversion document (3GPP TS 24.604
 * 4.9, on common-policy RFC 4745) and cdivas's rule model (core/conf.h,
 * core/rules.h), both ways.
 *
 * Model -> XML (ss_cdiv_render) gives the one canonical document of a rule
 * set: what a GET shows, what is stored, what the ETag is taken over.
 * XML -> model (ss_cdiv_parse) checks a document to the letter and takes
 * only what the model can express exactly; anything else is refused with
 * the XCAP error that says what (xml.h), never widened or dropped:
 *
 *   conditions  ss:busy -> cfb, ss:no-answer -> cfnr, ss:not-registered ->
 *               cfnl, ss:not-reachable -> cfnrc, cdv:deflection -> cd, none
 *               of them -> cfu (at most one per rule);
 *               ss:rule-deactivated -> active = false;
 *               cp:identity of cp:one id=URI -> callers; a cp:many without
 *               domain or except -> any identified caller (anonymous =
 *               false); ss:anonymous -> anonymous callers only;
 *               ss:media audio|video (each one element) -> media;
 *               cp:validity from/until pairs -> absolute periods;
 *               cdv:weekly of cdv:period days= from= to= -> weekly windows;
 *               ss:NoReplyTimer (where some phones put it) -> the rule's timer
 *   actions     ss:forward-to: ss:target, ss:notify-caller,
 *               ss:reveal-identity-to-caller, ss:reveal-served-user-
 *               identity-to-caller, ss:notify-served-user,
 *               ss:notify-served-user-on-outbound-call (false only),
 *               ss:reveal-identity-to-target (true or false; not
 *               not-reveal-as-GRUU), ss:NoReplyTimer (cfnr rules, 5..180)
 *   document    ss:simservs with at most one ss:communication-diversion
 *               (active=, ss:NoReplyTimer 5..180, cp:ruleset of cp:rule id=)
 *
 * An empty ss:target is allowed in a deactivated rule (how phones erase a
 * forwarding); a cd rule has no target (the 302 decides), one written is
 * ignored as cdivas.conf(5) ignores it.
 */
#ifndef CDIVAS_SIMSERVS_CDIV_H
#define CDIVAS_SIMSERVS_CDIV_H

#include <stdbool.h>
#include <stddef.h>
#include <libxml/tree.h>
#include "core/conf.h"
#include "simservs/xml.h"

#define SS_MAX_RULES 64
#define SS_MAX_CALLERS 64
#define SS_MAX_PERIODS 16

/* A communication-diversion as the rule model has it: a subscriber's
 * (conf file or own document) or a parsed document's. */
struct ss_cdiv {
  bool deactivated;
  int no_reply_timer;           /* 0 = not set */
  const struct cd_rule *rules;
  size_t n_rules;
};

/* The view of what is in force for `sub`. */
struct ss_cdiv ss_cdiv_of(const struct cd_subscriber *sub);
/* The view of a parsed document's rules. */
struct ss_cdiv ss_cdiv_of_own(const struct cd_own_rules *own);

/* The canonical simservs document, or NULL when out of memory. */
xmlDocPtr ss_cdiv_render(const struct ss_cdiv *cdiv);

/* Its text (ss_xml_text) and the ETag of that text: 32 hex digits of its
 * SHA-256 (etag must hold 33 bytes; may be NULL). NULL when out of memory. */
char *ss_cdiv_text(const struct ss_cdiv *cdiv, size_t *len, char etag[33]);

/* The rules a ss:simservs element says. NULL with *err set (the first
 * problem found; an out-of-memory is reported as SS_ERR_TOO_LARGE). */
struct cd_own_rules *ss_cdiv_parse(const xmlNode *simservs, struct ss_error *err);

/* The text of a whole document (as stored, or PUT) parsed and checked:
 * ss_xml_parse() then ss_cdiv_parse(). */
struct cd_own_rules *ss_cdiv_parse_text(const char *text, size_t len, struct ss_error *err);

/* xs:dateTime (RFC 3339: date "T" time, optional fraction, "Z" or
 * +hh:mm / -hh:mm) to Unix seconds; 0 or -1. And back, in UTC with "Z"
 * (buf of at least 21 bytes). */
int ss_datetime_parse(const char *s, long long *out);
const char *ss_datetime_format(long long t, char *buf, size_t size);

#endif
