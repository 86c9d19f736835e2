/*
 * sip_msg.h - small Sofia-SIP message helpers the proxy needs more than once.
 *
 * Sofia-SIP has no History-Info or P-Served-User class: those arrive as
 * "unknown" headers. Adding a header to a received (or msg_copy'd) message
 * with SIPTAG_HEADER_STR would append it after the body, so headers are
 * built as sip_unknown_t objects and inserted into the header chain, which
 * places them before the separator.
 */
#ifndef CDIVAS_SIP_MSG_H
#define CDIVAS_SIP_MSG_H

#include <stdbool.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/msg.h>
#include "core/history_info.h"

/* Value of the first unknown header called `name` (case-insensitive), or NULL. */
const char *cd_sip_unknown_value(sip_t const *sip, const char *name);
/* ... of the last one: where each hop adds one (P-Served-User: every AS on
 * the way may keep the S-CSCF's, and the S-CSCF appends its own). */
const char *cd_sip_unknown_last(sip_t const *sip, const char *name);

/* Adds "name: value" to `msg` before the body. Returns 0 or -1. */
int cd_sip_add_header(msg_t *msg, sip_t *sip, const char *name, const char *value);

/* Removes every unknown header called `name` (case-insensitive). */
void cd_sip_remove_header(msg_t *msg, sip_t *sip, const char *name);

/* Replaces the Request-URI. Returns 0 or -1 (`uri` not parseable). */
int cd_sip_set_request_uri(msg_t *msg, sip_t *sip, const char *uri);

/* Sets Max-Forwards to `count`, changing the message's own header when
 * it has one (msg a private copy, e.g. from msg_copy()). Returns 0 or -1. */
int cd_sip_set_max_forwards(msg_t *msg, sip_t *sip, unsigned long count);

/* Appends every History-Info header of `sip`, in order, to `chain`.
 * Returns 0, or -1 with *why set (malformed History-Info). */
int cd_sip_history_info(sip_t const *sip, cd_hi_chain *chain, const char **why);

/* The diversions the Diversion headers (RFC 5806) of `sip` record: the
 * sum of their counters (core/diversion.h), at most 1000. */
size_t cd_sip_diversions(sip_t const *sip);

/* Puts a Diversion header with `value` on top of the Diversion headers
 * `msg` has (RFC 5806: the newest diversion first): those are taken out
 * and added again, values unchanged, after it. Returns 0 or -1. */
int cd_sip_top_diversion(msg_t *msg, sip_t *sip, const char *value);

/* The URL's port, or its scheme's default ("5061" for sips, else "5060"). */
const char *cd_sip_url_port(url_t const *url);


#endif
