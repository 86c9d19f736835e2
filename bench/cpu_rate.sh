#!/bin/bash
# cpu_rate.sh - CPU per call of cdivas at one fixed call rate, on the whole
# run and in its steady state (after the first 64*T1 = 32 s, when answered
# calls end as fast as new ones start and the live population is at its
# peak). compare.sh's step search gives the zero-failure rate; this gives a
# number to compare two builds at the same load.
#
#   bench/cpu_rate.sh [RATE [SECONDS [SERVICE]]]     defaults: 1000 60 cfu
#   CDIVAS=/path/to/other/cdivas bench/cpu_rate.sh   another build
#   PERF=1 bench/cpu_rate.sh                         perf record (flat) over the steady state
#
# SECONDS must exceed 40 for the steady-state figure (it is taken from
# second 35 to 5 s before the end).
set -u
cd "$(dirname "$0")/.."
RATE=${1:-1000}
SECONDS_RUN=${2:-60}
SERVICE=${3:-cfu}
LOG_LEVEL=${LOG_LEVEL:-notice}
. bench/lib.sh

TARGET_SCENARIO=sipp-scenarios/target.xml
[ "$SERVICE" = cfb ] && TARGET_SCENARIO=sipp-scenarios/served_busy.xml
bench_start_cdivas "$SERVICE"
bench_target uas -sf "$TARGET_SCENARIO" -d 0
calls=$((RATE * SECONDS_RUN))
cpu0=$(cpu_seconds "$CDIVAS_PID")
# shellcheck disable=SC2046
"$SIPP" $(sipp_common) -p "$(bench_port)" -sf bench/caller_bench.xml -s bob -key domain ims.example.net \
  -r "$RATE" -m "$calls" -l $((RATE * 10)) -timeout $((SECONDS_RUN + 30))s -recv_timeout 15000 \
  127.0.0.1:"$CDIVAS_PORT" >"$BENCH_WORK/caller.out" 2>&1 &
CALLER=$!
BENCH_PIDS="$BENCH_PIDS $CALLER"
ss_cpu=- ss_secs=0
if [ "$SECONDS_RUN" -gt 40 ]; then
  sleep 35
  c1=$(cpu_seconds "$CDIVAS_PID"); t1=$(date +%s.%N)
  ss_secs=$((SECONDS_RUN - 40))
  if [ -n "${PERF:-}" ]; then
    perf record -F 999 -o "$BENCH_WORK/perf.data" -p "$CDIVAS_PID" -- sleep "$ss_secs" >/dev/null 2>&1
  else
    sleep "$ss_secs"
  fi
  c2=$(cpu_seconds "$CDIVAS_PID"); t2=$(date +%s.%N)
  ss_cpu=$(awk -v a="$c2" -v b="$c1" -v t="$t2" -v s="$t1" -v r="$RATE" \
    'BEGIN { printf "%.0f", (a - b) / ((t - s) * r) * 1e6 }')
fi
wait "$CALLER"
cpu1=$(cpu_seconds "$CDIVAS_PID")
ok=$(bench_ok_calls caller); failed=$(bench_failed_calls caller)
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$CDIVAS_PID/status")
echo "service $SERVICE, $RATE calls/s for $SECONDS_RUN s: $ok ok, $failed failed"
awk -v a="$cpu1" -v b="$cpu0" -v n="$ok" 'BEGIN { printf "CPU %.1f s, whole run %.0f us/call\n", a - b, (a - b) / n * 1e6 }'
echo "steady state (from second 35, ${ss_secs} s): ${ss_cpu} us/call; RSS at the end $((rss / 1024)) MB"
if [ -n "${PERF:-}" ]; then
  cp "$BENCH_WORK/perf.data" "${PERF_OUT:-/tmp/cdivas-perf.data}"
  echo "perf data: ${PERF_OUT:-/tmp/cdivas-perf.data}"
fi
