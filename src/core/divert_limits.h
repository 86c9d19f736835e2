/*
 * divert_limits.h - may this call be diverted once more, to this target?
 *
 * TS 24.604 bounds a call's diversions (4.5.2.6.1: the network's maximum)
 * and forbids diverting to a user the call has already been at (a loop).
 * The History-Info chain is the call's memory of both: entries with a
 * cause-param are diversions, and every entry is a user the call reached;
 * an INVITE that comes with Diversion headers (RFC 5806) but no
 * History-Info has its earlier diversions counted from those.
 * server.limit_exempt targets (a voicemail, an announcement) pass always.
 */
#ifndef CDIVAS_DIVERT_LIMITS_H
#define CDIVAS_DIVERT_LIMITS_H

#include "core/conf.h"
#include "core/history_info.h"

/* NULL when the diversion of `served` (may be NULL) to the user with
 * canonical key `target_key` may go ahead; else the reason phrase of the
 * refusal: "Diversion Limit Reached" (the chain's diversions plus
 * `earlier` reach server.max_diversions) or "Diversion Loop Detected"
 * (the target is the served user or already in the chain). `earlier`
 * counts diversions the chain does not hold: those the Diversion headers
 * of an INVITE without History-Info record (RFC 6044 5); else 0. */
const char *cd_divert_refusal(const struct cd_conf *conf, cd_hi_chain *chain, size_t earlier,
                              const struct cd_subscriber *served, const char *target_key);

#endif
