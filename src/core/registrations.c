/*
 * registrations.c - the registration state table (see registrations.h).
 *
 * Open addressing with linear probing over a power-of-two array at least
 * twice `capacity`, so probes stay short and at least one slot is always
 * empty (every probe sequence ends). Entries are never removed: an expired
 * or deregistered user must stay UNREGISTERED, which forgetting would turn
 * into UNKNOWN; the capacity bound is what keeps the table finite.
 */
#include "core/registrations.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slot {
  char *key;             /* NULL = empty; owned copy */
  size_t hash;
  bool registered;       /* false after an explicit deregistration */
  long until;            /* with registered: REGISTERED while now < until */
};

struct cd_registrations {
  struct slot *slots;
  size_t mask;           /* number of slots - 1 */
  size_t capacity;       /* at most this many users */
  size_t count;
};

/* FNV-1a: keys are short and not attacker-chosen in bulk (the table is
 * bounded and sized to the subscribers), so a simple hash suffices. */
static size_t hash_key(const char *key, size_t len)
{
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)key[i];
    h *= 1099511628211ull;
  }
  return (size_t)(h ^ (h >> 32));
}

/* Length of a storable key, or 0 when `key` is NULL, empty or too long.
 * An empty key is what a failed identity parse leaves behind; storing it
 * would lump every unparsable user together. */
static size_t key_len(const char *key)
{
  if (key == NULL)
    return 0;
  size_t len = strnlen(key, CD_IDENTITY_KEY_MAX);
  return len < CD_IDENTITY_KEY_MAX ? len : 0;
}

/* The slot holding `key`, or the empty slot where it would go. */
static struct slot *find(const struct cd_registrations *regs, const char *key, size_t len,
                         size_t hash)
{
  for (size_t i = hash & regs->mask;; i = (i + 1) & regs->mask) {
    struct slot *s = &regs->slots[i];
    if (s->key == NULL || (s->hash == hash && memcmp(s->key, key, len + 1) == 0))
      return s;
  }
}

struct cd_registrations *cd_reg_create(size_t capacity)
{
  /* Twice the capacity, plus one so that capacity 0 still has an empty
   * slot to end probes on. */
  if (capacity > (SIZE_MAX / sizeof(struct slot) - 1) / 2)
    return NULL;
  size_t want = capacity * 2 + 1;
  size_t n = 1;
  while (n < want) {
    if (n > SIZE_MAX / 2 / sizeof(struct slot))
      return NULL;
    n *= 2;
  }
  struct cd_registrations *regs = malloc(sizeof *regs);
  if (regs == NULL)
    return NULL;
  regs->slots = calloc(n, sizeof *regs->slots);
  if (regs->slots == NULL) {
    free(regs);
    return NULL;
  }
  regs->mask = n - 1;
  regs->capacity = capacity;
  regs->count = 0;
  return regs;
}

void cd_reg_destroy(struct cd_registrations *regs)
{
  if (regs == NULL)
    return;
  for (size_t i = 0; i <= regs->mask; i++)
    free(regs->slots[i].key);
  free(regs->slots);
  free(regs);
}

int cd_reg_update(struct cd_registrations *regs, const char *key, long expires, long now)
{
  size_t len = key_len(key);
  if (regs == NULL || len == 0)
    return -1;
  size_t hash = hash_key(key, len);
  struct slot *s = find(regs, key, len, hash);
  if (s->key == NULL) {
    if (regs->count >= regs->capacity)
      return -1;
    s->key = malloc(len + 1);
    if (s->key == NULL)
      return -1;
    memcpy(s->key, key, len + 1);
    s->hash = hash;
    regs->count++;
  }
  if (expires > 0) {
    s->registered = true;
    /* A huge Expires must not wrap into the past. */
    s->until = now > 0 && expires > LONG_MAX - now ? LONG_MAX : now + expires;
  } else {
    s->registered = false;
    s->until = 0;
  }
  return 0;
}

enum cd_reg_status cd_reg_status(const struct cd_registrations *regs, const char *key, long now)
{
  size_t len = key_len(key);
  if (regs == NULL || len == 0)
    return CD_REG_UNKNOWN;
  const struct slot *s = find(regs, key, len, hash_key(key, len));
  if (s->key == NULL)
    return CD_REG_UNKNOWN;
  return s->registered && now < s->until ? CD_REG_REGISTERED : CD_REG_UNREGISTERED;
}

size_t cd_reg_count(const struct cd_registrations *regs)
{
  return regs != NULL ? regs->count : 0;
}
