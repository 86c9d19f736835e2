/*
 * registrations.h - whether a served user is logged in (for CFNL), as
 * learnt from third-party REGISTERs (TS 24.229: the S-CSCF tells the AS of
 * each registration, re-registration and deregistration).
 *
 * Three answers, not two: a user cdivas never heard about is UNKNOWN, and
 * is tried normally (a 404/480 from the S-CSCF then tells); only an
 * explicit deregistration or an expired registration is UNREGISTERED.
 *
 * Pure: the caller passes the current time (seconds, monotonic). Keys are
 * canonical identity keys; the table holds at most `capacity` users (the
 * daemon sizes it to its subscribers, so a flood of REGISTERs for unknown
 * users cannot grow it).
 */
#ifndef CDIVAS_REGISTRATIONS_H
#define CDIVAS_REGISTRATIONS_H

#include <stddef.h>
#include "core/identity.h"

enum cd_reg_status { CD_REG_UNKNOWN = 0, CD_REG_REGISTERED, CD_REG_UNREGISTERED };

struct cd_registrations;

/* A table for at most `capacity` users (0 is valid: it knows nobody);
 * NULL on allocation failure. Destroying NULL does nothing. */
struct cd_registrations *cd_reg_create(size_t capacity);
void cd_reg_destroy(struct cd_registrations *regs);

/* A REGISTER for `key` with `expires` seconds (0 = deregistration; a
 * negative value counts as 0) at time `now`: REGISTERED until now+expires,
 * or UNREGISTERED. A known user is updated in place. The key is copied.
 * Returns 0, or -1 (the user stays as it was: UNKNOWN when new) when the
 * table is full, on allocation failure, or when `key` is NULL, empty or
 * CD_IDENTITY_KEY_MAX characters or longer. */
int cd_reg_update(struct cd_registrations *regs, const char *key, long expires, long now);

/* The user's state at time `now`: UNREGISTERED from the expiry time on
 * (now >= registration time + expires). A key that could not be stored
 * (NULL, empty, too long) is UNKNOWN. */
enum cd_reg_status cd_reg_status(const struct cd_registrations *regs, const char *key, long now);

/* Number of users the table knows about, REGISTERED or UNREGISTERED. */
size_t cd_reg_count(const struct cd_registrations *regs);

#endif
