/*
 * divert_limits.c - the diversion limit and loop check (see divert_limits.h).
 */
#include <string.h>
#include "core/divert_limits.h"

static bool target_exempt(const struct cd_conf *conf, const char *target_key)
{
  for (size_t i = 0; i < conf->n_limit_exempt; i++)
    if (strcmp(conf->limit_exempt[i], target_key) == 0)
      return true;
  return false;
}

const char *cd_divert_refusal(const struct cd_conf *conf, cd_hi_chain *chain, size_t earlier,
                              const struct cd_subscriber *served, const char *target_key)
{
  if (target_exempt(conf, target_key))
    return NULL;
  size_t done = cd_hi_diversions(chain);
  if (earlier >= (size_t)conf->max_diversions || done >= (size_t)conf->max_diversions - earlier)
    return "Diversion Limit Reached";
  if ((served && cd_subscriber_has_key(served, target_key)) ||
      cd_hi_contains_key(chain, target_key))
    return "Diversion Loop Detected";
  return NULL;
}
