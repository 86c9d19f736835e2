/*
 * keycount.h - how many calls each served user has in progress through
 * cdivas (network-determined busy, the subscriber's max_calls).
 *
 * A small hash table from canonical identity key to a count; a key whose
 * count drops to zero is removed, so the table holds only users with calls
 * in progress. Pure: no SIP, no clock.
 */
#ifndef CDIVAS_KEYCOUNT_H
#define CDIVAS_KEYCOUNT_H

#include <stddef.h>

struct cd_keycount;

struct cd_keycount *cd_keycount_create(void);
void cd_keycount_destroy(struct cd_keycount *kc);

/* Adds `delta` (+1 or -1) to `key`'s count and returns the new count, or
 * -1 on allocation failure. Counts never go below zero. */
long cd_keycount_add(struct cd_keycount *kc, const char *key, long delta);

/* The current count of `key` (0 when absent). */
long cd_keycount_get(const struct cd_keycount *kc, const char *key);

/* Number of keys with a non-zero count. */
size_t cd_keycount_size(const struct cd_keycount *kc);

#endif
