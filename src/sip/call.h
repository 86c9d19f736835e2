/*
 * call.h - one incoming INVITE and what cdivas does with it: find the
 * served user, apply the first diversion rule that holds, forward, relay
 * the answers, pass on a CANCEL.
 */
#ifndef CDIVAS_CALL_H
#define CDIVAS_CALL_H

#include <sofia-sip/nta.h>
#include "sip/proxy.h"

/* Takes an initial INVITE from the default leg. Returns what nta's leg
 * callback expects: 0 when the call answers later, or a status >= 300 that
 * nta sends itself. */
int cd_call_invite(struct cd_proxy *proxy, nta_incoming_t *irq, sip_t const *sip);

/* Destroys every call (at exit). */
void cd_call_destroy_all(struct cd_proxy *proxy);

#endif
