#!/bin/bash
# soak.sh - a long run at a steady rate: CFU calls through cdivas (SIPp
# caller -> cdivas -> SIPp target) for DURATION seconds, printing cdivas's
# RSS every INTERVAL seconds. Fails when a call fails or when RSS keeps
# growing: the last third of the samples may not exceed the first third
# (after warm-up) by more than 10%.
#
#   bench/soak.sh [RATE [DURATION [INTERVAL]]]     defaults: 500 1800 30
#
# Run it from a built tree (the README's first line). RATE should be half
# the zero-failure rate bench/compare.sh measured on the same machine.
set -u
cd "$(dirname "$0")/.."
RATE=${1:-500}
DURATION=${2:-1800}
INTERVAL=${3:-30}
. bench/lib.sh

bench_start_cdivas cfu
total=$((RATE * DURATION))
bench_target uas -sf sipp-scenarios/target.xml -d 0
bench_caller -sf sipp-scenarios/caller.xml -s bob -key domain ims.example.net -r "$RATE" -m "$total" \
  -l $((RATE * 4)) 127.0.0.1:"$CDIVAS_PORT" &
CALLER=$!
printf '%8s %10s\n' seconds rss_kib
samples=()
start=$(date +%s)
while kill -0 "$CALLER" 2>/dev/null; do
  sleep "$INTERVAL"
  now=$(( $(date +%s) - start ))
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$CDIVAS_PID/status")
  printf '%8d %10d\n' "$now" "$rss"
  samples+=("$rss")
done
wait "$CALLER"; rc=$?
failed=$(bench_failed_calls caller)
echo "calls: $total at $RATE/s, failed: $failed (SIPp exit $rc)"
n=${#samples[@]}
if [ "$n" -ge 6 ]; then
  third=$((n / 3))
  first=0; last=0
  for ((i = 1; i <= third; i++)); do first=$((first + samples[i])); done
  for ((i = n - third; i < n; i++)); do last=$((last + samples[i])); done
  first=$((first / third)); last=$((last / third))
  echo "RSS: first third (after the first sample) $first KiB, last third $last KiB, ratio $(awk -v a="$last" -v b="$first" 'BEGIN { printf "%.3f", a / b }')"
  [ "$last" -le $((first * 110 / 100)) ] || { echo "FAIL: RSS grew"; exit 1; }
fi
[ "$failed" = 0 ] || { echo "FAIL: $failed calls failed"; exit 1; }
echo "PASS: flat RSS, no failed call"
