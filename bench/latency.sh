#!/bin/bash
# latency.sh - the INVITE -> 180 latency cdivas adds to a CFU call, in RUNS
# consecutive runs: each run starts a fresh cdivas and target, sends RATE
# calls/s for SECONDS through cdivas, then the same load from SIPp straight
# to the target (the baseline), and prints p50/p99 of both and the added
# p99 (cdivas's p99 less the baseline's). Percentiles come from SIPp's
# message trace, stamped to the microsecond.
#
#   bench/latency.sh [RUNS [RATE [SECONDS]]]      defaults: 3 1000 10
#   SMOKE=1 bench/latency.sh                      one short run at 50 calls/s
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-3}; RATE=${2:-1000}; SECONDS_PER_RUN=${3:-10}
if [ -n "${SMOKE:-}" ]; then RUNS=1; RATE=50; SECONDS_PER_RUN=2; fi
LOG_LEVEL=${LOG_LEVEL:-notice}
. bench/lib.sh

# traced PORT NAME: RATE calls/s for SECONDS_PER_RUN to PORT, traced;
# prints "p50 p99 failed".
traced() {
  rm -f "$BENCH_WORK/$2.msg"
  # shellcheck disable=SC2046
  "$SIPP" $(sipp_common) -p "$(bench_port)" -sf bench/caller_bench.xml -s bob -key domain ims.example.net \
    -r "$RATE" -m $((RATE * SECONDS_PER_RUN)) -l $((RATE * 10)) -timeout $((SECONDS_PER_RUN + 30))s \
    -recv_timeout 15000 -trace_msg -message_file "$BENCH_WORK/$2.msg" 127.0.0.1:"$1" >"$BENCH_WORK/$2.out" 2>&1
  echo "$(trace_percentiles "$BENCH_WORK/$2.msg") $(bench_failed_calls "$2")"
}

cores=$(nproc); model=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
echo "machine: $cores cores, $model; $(sipp -v 2>&1 | grep -o 'SIPp v[0-9.]*'); load $(cut -d' ' -f1 /proc/loadavg)"
echo "runs: $RUNS, $RATE calls/s for $SECONDS_PER_RUN s each, CFU"
printf '%-4s %12s %12s %12s %12s %14s\n' run cdivas_p50 cdivas_p99 sipp_p50 sipp_p99 added_p99_ms
worst=0; failed_any=0
for run in $(seq 1 "$RUNS"); do
  bench_start_cdivas cfu
  bench_target uas -sf sipp-scenarios/target.xml -d 0
  target_pid=$(pgrep -n sipp)
  read -r c50 c99 cf <<<"$(traced "$CDIVAS_PORT" "run$run.cdivas")"
  read -r s50 s99 sf <<<"$(traced "$TARGET_PORT" "run$run.sipp")"
  kill "$CDIVAS_PID" "$target_pid" 2>/dev/null; wait "$CDIVAS_PID" "$target_pid" 2>/dev/null
  added=$(awk -v a="$c99" -v b="$s99" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.3f", a - b }')
  printf '%-4s %12s %12s %12s %12s %14s\n' "$run" "$c50" "$c99" "$s50" "$s99" "$added"
  [ "${cf:-1}" = 0 ] && [ "${sf:-1}" = 0 ] && [ "$added" != - ] || failed_any=1
  worst=$(awk -v w="$worst" -v a="$added" 'BEGIN { print (a != "-" && a + 0 > w + 0) ? a : w }')
  sleep 1
done
echo "worst added p99: $worst ms over $RUNS runs$([ "$failed_any" = 0 ] || echo ' (a run failed calls or had no trace)')"
if [ -n "${SMOKE:-}" ]; then
  [ "$failed_any" = 0 ] && echo "PASS: smoke run, no failed call" || { echo "FAIL: failed calls in the smoke run"; exit 1; }
fi
