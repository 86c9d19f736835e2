/*
 * feature_code.h - call forwarding by feature codes (3GPP TS 22.030 6.5):
 * what a subscriber dials to register, switch on, off, erase or ask about
 * a forwarding, and what that does to its rules.
 *
 *   *SC*DN#  **SC*DN#   register DN and activate      (SC 61: *61*DN*T#, *61*DN**T#)
 *   *SC#                activate what is registered
 *   #SC#                deactivate
 *   ##SC#               erase
 *   *#SC#               interrogate
 *
 * SC: 21 unconditional (cfu), 67 busy (cfb), 61 no reply (cfnr, T the
 * no-reply time, 5..180 s), 62 not reachable (cfnrc), 63 not logged-in
 * (cfnl; TS 22.030 has no code for it: our choice), 002 all of them, 004
 * the conditional ones (all but cfu). DN: a number, with + for an
 * international one. A basic service group (*SC*DN*BS#) is refused.
 *
 * The dial string is the user part of a sip Request-URI
 * (sip:*21*+4930123%23@ims.example.net;user=phone) or the number of a tel
 * one (tel:*21*+4930123#;phone-context=ims.example.net), %-escapes
 * decoded. A local DN becomes a URI of the same kind: tel:DN;phone-
 * context=<the Request-URI's> or sip:DN@<domain>;user=phone.
 *
 * Pure: strings and the rule model in, a new rule set and a sentence for
 * the caller out.
 */
#ifndef CDIVAS_FEATURE_CODE_H
#define CDIVAS_FEATURE_CODE_H

#include <stdbool.h>
#include <stddef.h>
#include "core/conf.h"

enum cd_fc_action {
  CD_FC_REGISTER,       /* *SC*DN#: register DN and activate */
  CD_FC_ACTIVATE,       /* *SC# */
  CD_FC_DEACTIVATE,     /* #SC# */
  CD_FC_ERASE,          /* ##SC# */
  CD_FC_INTERROGATE,    /* *#SC# */
};

struct cd_feature_code {
  enum cd_fc_action action;
  unsigned services;            /* bit set (1 << cd_service) */
  char code[4];                 /* "21", "002", ... */
  char target[300];             /* CD_FC_REGISTER: the URI DN becomes */
  int timer;                    /* cfnr: seconds, 0 = not given */
};

/* Reads a Request-URI. Returns 1 with *fc filled when it is a feature
 * code, 0 when it is none (an ordinary call: the Request-URI does not
 * start with * or #), -1 when it starts like one but is not (*why says
 * what: an unknown service code, a bad number, ...). */
int cd_feature_code_parse(const char *request_uri, struct cd_feature_code *fc, const char **why);

/* "call forwarding unconditional", ... */
const char *cd_feature_service_name(enum cd_service svc);

/* What fc does to `sub`'s rules (those in force). For every action but
 * interrogation *out is the new rule set (refs 1: the subscriber's own
 * document to be); for interrogation *out is NULL. In both cases text (of
 * `size` bytes) says what was done or what is in force, for the caller:
 *   "call forwarding unconditional on to tel:+4930123"
 *   "call forwarding on no reply on to tel:+4930123 after 25 s"
 *   "call forwarding on busy off", "all call forwarding erased",
 *   "call forwarding unconditional is off", ...
 * Returns 0, or -1 with the reason in text (activating what was never
 * registered, out of memory). Registering updates the service's rule of
 * the default id (cd_rule_default_id) to an unconditional one, or adds
 * it at the end; the other rules of the service stay as they are. */
int cd_feature_code_apply(const struct cd_feature_code *fc, const struct cd_subscriber *sub,
                          struct cd_own_rules **out, char *text, size_t size);

/* How the outcome of a feature code reaches the call that dialled it: the
 * status to answer and the sentence for the caller. */
typedef void (*cd_feature_done)(void *arg, int status, const char *text);

#endif
