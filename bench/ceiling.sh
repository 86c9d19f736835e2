#!/bin/bash
# ceiling.sh - cdivas's highest zero-failure CFU rate when the load
# generator is not one SIPp: CALLERS SIPp callers, each calling its own
# served user (bob1, bob2, ...) whose cfu rule diverts to its own SIPp
# target, the rate split evenly. The same search runs first with no
# cdivas at all (caller i straight to target i): that baseline is what the
# SIPp processes themselves reach on this machine, and where cdivas's
# figure comes close to it, the generator is still the limit.
#
#   bench/ceiling.sh                 full run (about 10 minutes)
#   SMOKE=1 bench/ceiling.sh         one short step each, asserts no failure
#
# Settings (environment): CALLERS=2 START=1000 STEP=500 SECONDS_PER_STEP=10
# MAX=10000
set -u
cd "$(dirname "$0")/.."
CALLERS=${CALLERS:-2}; START=${START:-1000}; STEP=${STEP:-500}
SECONDS_PER_STEP=${SECONDS_PER_STEP:-10}; MAX=${MAX:-10000}
if [ -n "${SMOKE:-}" ]; then START=100; STEP=100; SECONDS_PER_STEP=2; MAX=100; fi
LOG_LEVEL=${LOG_LEVEL:-notice}
. bench/lib.sh

TARGET_PORTS=""; TARGET_PIDS=""
for i in $(seq 1 "$CALLERS"); do
  TARGET_PORT=$(bench_port)
  bench_target "target$i" -sf sipp-scenarios/target.xml -d 0
  TARGET_PORTS="$TARGET_PORTS $TARGET_PORT"; TARGET_PIDS="$TARGET_PIDS $(pgrep -n sipp)"
done

# step RATE PORTS: RATE calls/s split over one caller per port in PORTS
# (caller i calls bob<i>); prints "ok failed cpu" (cpu: CPU_PIDS' seconds).
step() {
  local rate=$1 ports=$2 i=0 port callers="" ok=0 failed=0 o f before after
  before=$(cpu_of "$CPU_PIDS")
  for port in $ports; do
    i=$((i + 1))
    # shellcheck disable=SC2046
    "$SIPP" $(sipp_common) -p "$(bench_port)" -sf bench/caller_bench.xml -s "bob$i" -key domain ims.example.net \
      -r $((rate / CALLERS)) -m $((rate / CALLERS * SECONDS_PER_STEP)) -l $((rate * 10)) \
      -timeout $((SECONDS_PER_STEP + 30))s -recv_timeout 15000 127.0.0.1:"$port" \
      >"$BENCH_WORK/caller$i.out" 2>&1 &
    callers="$callers $!"
  done
  # shellcheck disable=SC2086
  wait $callers
  after=$(cpu_of "$CPU_PIDS")
  for i in $(seq 1 "$CALLERS"); do
    o=$(bench_ok_calls "caller$i"); f=$(bench_failed_calls "caller$i")
    ok=$((ok + ${o:-0})); failed=$((failed + ${f:-1}))
  done
  echo "$ok $failed $(awk -v a="$after" -v b="$before" 'BEGIN { print a - b }')"
}

step_calls() { echo $(($1 / CALLERS * CALLERS * SECONDS_PER_STEP)); }

cpu_of() {
  local total=0 p
  for p in $1; do total=$(awk -v a="$total" -v b="$(cpu_seconds "$p" 2>/dev/null || echo 0)" 'BEGIN { print a + b }'); done
  echo "$total"
}

cores=$(nproc); model=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
echo "machine: $cores cores, $model; $(sipp -v 2>&1 | grep -o 'SIPp v[0-9.]*'); load $(cut -d' ' -f1 /proc/loadavg)"
echo "$CALLERS callers and $CALLERS targets; steps from $START calls/s by $STEP, $SECONDS_PER_STEP s each"

echo "== SIPp alone (caller i to target i)"
CPU_PIDS=$TARGET_PIDS
read -r s_rate s_cpu <<<"$(bench_search sipp-only "$TARGET_PORTS")"
# Let the baseline's last (overloaded) step drain before cdivas is measured.
[ -n "${SMOKE:-}" ] || sleep 35

subscribers=""; i=0
for port in $TARGET_PORTS; do
  i=$((i + 1))
  subscribers="$subscribers${subscribers:+,}
  { user = \"sip:bob$i@ims.example.net\"; rules = ( { service = \"cfu\"; target = \"sip:carol$i@127.0.0.1:$port\"; } ); }"
done
CDIVAS_PORT=$(bench_port)
cat >"$BENCH_WORK/cdivas.conf" <<CONF
server = {
  listen = [ "sip:127.0.0.1:$CDIVAS_PORT" ];
  identity = "sip:cdivas.ims.example.net";
  log_level = "$LOG_LEVEL";
};
subscribers = ( $subscribers );
CONF
"$CDIVAS" -F -f "$BENCH_WORK/cdivas.conf" >"$BENCH_WORK/cdivas.log" 2>&1 &
CDIVAS_PID=$!
BENCH_PIDS="$BENCH_PIDS $CDIVAS_PID"
for _ in $(seq 1 50); do grep -qs "started as" "$BENCH_WORK/cdivas.log" && break; sleep 0.1; done
grep -qs "started as" "$BENCH_WORK/cdivas.log" || { echo "cdivas did not start:"; cat "$BENCH_WORK/cdivas.log"; exit 2; }

echo "== through cdivas (bob<i> diverted by cfu to target i)"
CPU_PIDS=$CDIVAS_PID
ports=""; for _ in $TARGET_PORTS; do ports="$ports $CDIVAS_PORT"; done
read -r c_rate c_cpu <<<"$(bench_search cdivas "$ports")"

printf '\n%-10s %10s %14s\n' setup max_cps us_cpu/call
printf '%-10s %10s %14s\n' sipp-only "$s_rate" "$s_cpu" cdivas "$c_rate" "$c_cpu"
echo "(CPU per call: the targets' for sipp-only, cdivas's alone through cdivas)"
if [ -n "${SMOKE:-}" ]; then
  [ "$c_rate" -ge "$START" ] && [ "$s_rate" -ge "$START" ] && echo "PASS: smoke run, no failed call" ||
    { echo "FAIL: failed calls in the smoke run"; exit 1; }
fi
