/*
 * inflight.c - server transactions in flight and the drain (see inflight.h).
 */
#include "sip/inflight.h"

void cd_inflight_started(struct cd_inflight *inflight)
{
  inflight->count++;
}

void cd_inflight_answered(struct cd_inflight *inflight)
{
  if (inflight->count > 0)
    inflight->count--;
  if (inflight->draining && inflight->count == 0 && inflight->on_idle)
    inflight->on_idle(inflight->on_idle_arg);
}

void cd_inflight_drain(struct cd_inflight *inflight)
{
  inflight->draining = true;
  if (inflight->count == 0 && inflight->on_idle)
    inflight->on_idle(inflight->on_idle_arg);
}
