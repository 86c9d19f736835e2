/*
 * inflight.h - server transactions without a final answer yet, and the
 * drain on SIGTERM: new INVITEs are refused while those in flight end,
 * and on_idle fires once none is left.
 *
 * Calls and relays count themselves in and out; the daemon reads the
 * count for its metrics and its shutdown.
 */
#ifndef CDIVAS_SIP_INFLIGHT_H
#define CDIVAS_SIP_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

struct cd_inflight {
  size_t count;
  bool draining;                  /* SIGTERM seen: refuse new INVITEs */
  void (*on_idle)(void *arg);     /* count reached 0 while draining */
  void *on_idle_arg;
};

void cd_inflight_started(struct cd_inflight *inflight);
void cd_inflight_answered(struct cd_inflight *inflight);

/* Starts draining; on_idle fires at once when nothing is in flight. */
void cd_inflight_drain(struct cd_inflight *inflight);

#endif
