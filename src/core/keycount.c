/*
 * keycount.c - per-user call counts (see keycount.h).
 *
 * Open addressing with linear probing and backward-shift deletion, so no
 * tombstones pile up as users' calls come and go; the table doubles at 50%
 * load. Keys are copied.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/keycount.h"

struct slot {
  char *key;
  long count;
};

struct cd_keycount {
  struct slot *slots;
  size_t size;      /* power of two */
  size_t used;
};

static uint64_t hash(const char *s)
{
  uint64_t h = 1469598103934665603ull;   /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

struct cd_keycount *cd_keycount_create(void)
{
  struct cd_keycount *kc = calloc(1, sizeof *kc);
  if (kc == NULL)
    return NULL;
  kc->size = 64;
  kc->slots = calloc(kc->size, sizeof *kc->slots);
  if (kc->slots == NULL) {
    free(kc);
    return NULL;
  }
  return kc;
}

void cd_keycount_destroy(struct cd_keycount *kc)
{
  if (kc == NULL)
    return;
  for (size_t i = 0; i < kc->size; i++)
    free(kc->slots[i].key);
  free(kc->slots);
  free(kc);
}

static size_t find(const struct cd_keycount *kc, const char *key)
{
  size_t mask = kc->size - 1, i = hash(key) & mask;
  while (kc->slots[i].key && strcmp(kc->slots[i].key, key) != 0)
    i = (i + 1) & mask;
  return i;
}

static int grow(struct cd_keycount *kc)
{
  struct slot *old = kc->slots;
  size_t old_size = kc->size;
  struct slot *slots = calloc(old_size * 2, sizeof *slots);
  if (slots == NULL)
    return -1;
  kc->slots = slots;
  kc->size = old_size * 2;
  for (size_t i = 0; i < old_size; i++)
    if (old[i].key)
      kc->slots[find(kc, old[i].key)] = old[i];
  free(old);
  return 0;
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void remove_at(struct cd_keycount *kc, size_t i)
{
  size_t mask = kc->size - 1;
  free(kc->slots[i].key);
  kc->slots[i].key = NULL;
  kc->used--;
  for (size_t j = (i + 1) & mask; kc->slots[j].key; j = (j + 1) & mask) {
    size_t home = hash(kc->slots[j].key) & mask;
    /* Move j back to i when i lies cyclically between home and j. */
    if (((j - home) & mask) >= ((j - i) & mask)) {
      kc->slots[i] = kc->slots[j];
      kc->slots[j].key = NULL;
      i = j;
    }
  }
}

long cd_keycount_add(struct cd_keycount *kc, const char *key, long delta)
{
  size_t i = find(kc, key);
  if (kc->slots[i].key == NULL) {
    if (delta <= 0)
      return 0;
    if ((kc->used + 1) * 2 > kc->size) {
      if (grow(kc) < 0)
        return -1;
      i = find(kc, key);
    }
    kc->slots[i].key = strdup(key);
    if (kc->slots[i].key == NULL)
      return -1;
    kc->slots[i].count = 0;
    kc->used++;
  }
  long count = kc->slots[i].count + delta;
  if (count <= 0) {
    remove_at(kc, i);
    return 0;
  }
  kc->slots[i].count = count;
  return count;
}

long cd_keycount_get(const struct cd_keycount *kc, const char *key)
{
  size_t i = find(kc, key);
  return kc->slots[i].key ? kc->slots[i].count : 0;
}

size_t cd_keycount_size(const struct cd_keycount *kc)
{
  return kc->used;
}
