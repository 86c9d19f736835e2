#!/bin/bash
# compare.sh - CFU (and CFB, CFNR) call rates through cdivas and through
# Kamailio doing the same work (bench/kamailio-SERVICE.cfg), with the same SIPp
# caller and target, in one run on this machine. For each server it steps
# the call rate up until a step has a failed call, and prints the highest
# zero-failure rate, the ratio cdivas/Kamailio, CPU per call, and p50/p99
# INVITE->180 latency at LAT_RATE calls/s next to SIPp alone (the added
# latency is the difference).
#
#   bench/compare.sh                 full run (about 20 minutes)
#   SMOKE=1 bench/compare.sh         a few seconds per server, asserts no failure
#
# Settings (environment): START=200 STEP=100 SECONDS_PER_STEP=20 MAX=4000
# LAT_RATE=1000 SERVICES="cfu" KAMAILIO_CHILDREN=2
set -u
cd "$(dirname "$0")/.."
START=${START:-200}; STEP=${STEP:-100}; SECONDS_PER_STEP=${SECONDS_PER_STEP:-20}; MAX=${MAX:-4000}
LAT_RATE=${LAT_RATE:-1000}; SERVICES=${SERVICES:-cfu}; KAMAILIO_CHILDREN=${KAMAILIO_CHILDREN:-2}
if [ -n "${SMOKE:-}" ]; then START=50; STEP=50; SECONDS_PER_STEP=3; MAX=100; LAT_RATE=50; fi
LOG_LEVEL=${LOG_LEVEL:-notice}
. bench/lib.sh

# Server process and its children (Kamailio forks workers).
tree_cpu() {
  local total=0 p
  for p in $1 $(pgrep -P "$1"); do total=$(awk -v a="$total" -v b="$(cpu_seconds "$p" 2>/dev/null || echo 0)" 'BEGIN { print a + b }'); done
  echo "$total"
}

# step RATE SERVER-PORT SERVER-PID [SECONDS [RTT]]: one load step; prints
# "ok failed cpu_seconds".
step() {
  local rate=$1 port=$2 pid=$3 secs=${4:-$SECONDS_PER_STEP} rtt=${5:-}
  local calls=$((rate * secs))
  local before after
  before=$(tree_cpu "$pid")
  # shellcheck disable=SC2086
  "$SIPP" $(sipp_common) -p "$(bench_port)" -sf bench/caller_bench.xml -s bob -key domain ims.example.net \
    -r "$rate" -m "$calls" -l $((rate * 10)) -timeout $((secs + 30))s -recv_timeout 15000 \
    ${rtt:+-trace_msg -message_file $BENCH_WORK/latency.msg} 127.0.0.1:"$port" >"$BENCH_WORK/step.out" 2>&1
  after=$(tree_cpu "$pid")
  cp "$BENCH_WORK/step.out" "$BENCH_WORK/caller.out"
  echo "$(bench_ok_calls caller) $(bench_failed_calls caller) $(awk -v a="$after" -v b="$before" 'BEGIN { print a - b }')"
}

step_calls() { echo $(($1 * SECONDS_PER_STEP)); }

latency() {   # latency PORT PID: p50 p99 at LAT_RATE
  local port=$1 pid=$2 secs=$(( ${SMOKE:+3} + 0 ))
  [ "$secs" -gt 0 ] || secs=10
  # The search ended on an overloaded step: let its transactions (64*T1)
  # drain first, or they would be measured too.
  [ -n "${SMOKE:-}" ] || sleep 35
  rm -f "$BENCH_WORK/latency.msg"
  step "$LAT_RATE" "$port" "$pid" "$secs" rtt >/dev/null
  trace_percentiles "$BENCH_WORK/latency.msg"
}

# A target SIPp of its own for each server (and for the SIPp-only
# baseline): one that served an overloaded step still holds that step's
# calls and retransmissions, and the next server would fail calls for it.
TARGET_PID=""
fresh_target() {
  [ -z "$TARGET_PID" ] || { kill "$TARGET_PID" 2>/dev/null; wait "$TARGET_PID" 2>/dev/null; }
  bench_target uas -sf "$TARGET_SCENARIO" -d 0
  TARGET_PID=$(pgrep -n sipp)
}
# After a server is stopped: its last (overloaded) step's datagrams and the
# caller's retransmissions are gone before the next one is measured.
drain() { [ -n "${SMOKE:-}" ] || sleep 5; }

cores=$(nproc); model=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
echo "machine: $cores cores, $model; $(sipp -v 2>&1 | grep -o 'SIPp v[0-9.]*'), $("$KAMAILIO" -v 2>/dev/null | head -n 1 | awk '{ print $1, $2, $3 }')"
echo "steps: from $START calls/s by $STEP, $SECONDS_PER_STEP s each"
smoke_failed=0
for service in $SERVICES; do
  TARGET_SCENARIO=sipp-scenarios/target.xml
  case "$service" in
    cfb) TARGET_SCENARIO=sipp-scenarios/served_busy.xml ;;
    cfnr) TARGET_SCENARIO=bench/target_cfnr.xml ;;   # NO_REPLY (default 5 s) of ringing first; CANCEL and diverted INVITE in either order
  esac
  bench_start_cdivas "$service"
  fresh_target
  echo "== $service through cdivas"
  read -r c_rate c_cpu <<<"$(bench_search cdivas "$CDIVAS_PORT" "$CDIVAS_PID")"
  read -r c_p50 c_p99 <<<"$(latency "$CDIVAS_PORT" "$CDIVAS_PID")"
  kill "$CDIVAS_PID"; wait "$CDIVAS_PID" 2>/dev/null
  drain
  k_rate=-; k_cpu=-; k_p50=-; k_p99=-
  if [ -x "$KAMAILIO" ] && [ -f "bench/kamailio-$service.cfg" ]; then
    fresh_target
    start_kamailio "$service"
    echo "== $service through Kamailio ($KAMAILIO_CHILDREN UDP workers)"
    read -r k_rate k_cpu <<<"$(bench_search kamailio "$KAM_PORT" "$KAM_PID")"
    read -r k_p50 k_p99 <<<"$(latency "$KAM_PORT" "$KAM_PID")"
    kill "$KAM_PID"; wait "$KAM_PID" 2>/dev/null
    drain
  fi
  fresh_target
  read -r s_p50 s_p99 <<<"$(latency "$TARGET_PORT" "$TARGET_PID")"
  printf '\n%-8s %-9s %10s %10s %11s %11s %14s\n' service server max_cps us_cpu/call p50_ms p99_ms added_p99_ms
  printf '%-8s %-9s %10s %10s %11s %11s %14s\n' "$service" cdivas "$c_rate" "$c_cpu" "$c_p50" "$c_p99" \
    "$(awk -v a="$c_p99" -v b="$s_p99" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.3f", a - b }')"
  printf '%-8s %-9s %10s %10s %11s %11s %14s\n' "$service" kamailio "$k_rate" "$k_cpu" "$k_p50" "$k_p99" \
    "$(awk -v a="$k_p99" -v b="$s_p99" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.3f", a - b }')"
  printf '%-8s %-9s %10s %10s %11s %11s\n' "$service" "sipp-only" - - "$s_p50" "$s_p99"
  if [ "$k_rate" != - ] && [ "$k_rate" != 0 ]; then
    echo "ratio cdivas/kamailio: $(awk -v a="$c_rate" -v b="$k_rate" 'BEGIN { printf "%.2f", a / b }')"
  fi
  [ "$c_rate" -ge "$START" ] || smoke_failed=1
  kill $(jobs -p) "$TARGET_PID" 2>/dev/null; wait 2>/dev/null
  TARGET_PID=""
done
if [ -n "${SMOKE:-}" ]; then
  [ "$smoke_failed" = 0 ] && echo "PASS: smoke run, no failed call" || { echo "FAIL: failed calls in the smoke run"; exit 1; }
fi
