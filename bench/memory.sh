#!/bin/bash
# memory.sh - cdivas's memory with CALLS concurrent calls held in the
# no-reply timer: bob has a cfnr rule with a 180 s timer, the target rings
# and never answers, SIPp places CALLS calls at RATE/s. Prints RSS before,
# RSS with every call held, and bytes per held call.
#
#   bench/memory.sh [CALLS [RATE]]      defaults: 50000 1000
set -u
cd "$(dirname "$0")/.."
CALLS=${1:-50000}
RATE=${2:-1000}
LOG_LEVEL=${LOG_LEVEL:-notice}
NO_REPLY=180
. bench/lib.sh

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
bench_start_cdivas "${RULE:-cfnr}"
sleep 0.5
before=$(rss_kib "$CDIVAS_PID")
bench_target uas -sf sipp-scenarios/target_ring_cancel.xml
ulimit -n 65536 2>/dev/null
# shellcheck disable=SC2046
"$SIPP" $(sipp_common) -p "$(bench_port)" -sf bench/caller_bench.xml -s bob -key domain ims.example.net \
  -r "$RATE" -m "$CALLS" -l $((CALLS + 10)) 127.0.0.1:"$CDIVAS_PORT" >"$BENCH_WORK/caller.out" 2>&1 &
CALLER=$!
BENCH_PIDS="$BENCH_PIDS $CALLER"
# All INVITEs sent, all ringing: wait for the rate to place them, plus a margin.
settle=$(( CALLS / RATE + 10 ))
[ "$settle" -lt 170 ] || { echo "CALLS/RATE must stay well under the 180 s no-reply timer"; exit 2; }
sleep "$settle"
after=$(rss_kib "$CDIVAS_PID")
echo "calls placed: $CALLS; RSS before ${before} KiB, with the calls held ${after} KiB"
awk -v a="$after" -v b="$before" -v n="$CALLS" 'BEGIN {
  printf "RSS with calls held: %.1f MB; per held call: %.0f bytes\n", a / 1024, (a - b) * 1024 / n }'
