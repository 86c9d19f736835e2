#!/bin/bash
# cluster.sh - what the shared state store costs: the highest zero-failure
# CFU call rate and the inquiry verdicts/s with the memory store, with the
# redis store (one instance), and with two instances sharing one Redis on
# the machine's cores (the S-CSCF's load split over both: two SIPp
# callers, each at half the rate, one target).
#
# Every call asks the store: bob's rules are cfnl then cfu (cdivas looks
# up bob's registration, finds nothing, and cfu applies), and the inquiry
# endpoint is on (each diversion is written to the ledger). CPU per call counts cdivas
# and redis-server.
#
#   bench/cluster.sh                 full run (about 15 minutes)
#   SMOKE=1 bench/cluster.sh         a few seconds per setup, asserts no failure
#
# Settings (environment): START=200 STEP=100 SECONDS_PER_STEP=20 MAX=4000
# INQUIRY_SECONDS=10 SETUPS="memory redis redis2"
set -u
cd "$(dirname "$0")/.."
START=${START:-200}; STEP=${STEP:-100}; SECONDS_PER_STEP=${SECONDS_PER_STEP:-20}; MAX=${MAX:-4000}
INQUIRY_SECONDS=${INQUIRY_SECONDS:-10}; SETUPS=${SETUPS:-memory redis redis2}
if [ -n "${SMOKE:-}" ]; then START=50; STEP=50; SECONDS_PER_STEP=3; MAX=100; INQUIRY_SECONDS=2; fi
LOG_LEVEL=${LOG_LEVEL:-notice}
KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
. bench/lib.sh
command -v "${REDIS_SERVER:-redis-server}" >/dev/null ||
  { echo "redis-server is not installed (README, first line)"; exit 2; }
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/inquiry_load.c src/core/inquiry_auth.c -lcrypto -lpthread \
  -o "$BENCH_WORK/inquiry_load" || exit 2

PIDS=""        # the processes whose CPU counts: cdivas instances, redis-server
PORTS=""       # SIP ports of the instances
HTTP_PORTS=""  # their inquiry ports

cpu_of_setup() {
  local total=0 p
  for p in $PIDS; do total=$(awk -v a="$total" -v b="$(cpu_seconds "$p" 2>/dev/null || echo 0)" 'BEGIN { print a + b }'); done
  echo "$total"
}

# instances: how many cdivas instances the setup has (ports in PORTS).
instances() {
  # shellcheck disable=SC2086
  set -- $PORTS
  echo $#
}

# step RATE: RATE calls/s split over the instances; "ok failed cpu".
step() {
  local rate=$1 secs=$SECONDS_PER_STEP n port before after ok=0 failed=0 o f callers=""
  n=$(instances)
  before=$(cpu_of_setup)
  for port in $PORTS; do
    # shellcheck disable=SC2046
    "$SIPP" $(sipp_common) -p "$(bench_port)" -sf bench/caller_bench.xml -s bob -key domain ims.example.net \
      -r $((rate / n)) -m $((rate / n * secs)) -l $((rate * 10)) -timeout $((secs + 30))s \
      -recv_timeout 15000 127.0.0.1:"$port" >"$BENCH_WORK/step.$port.out" 2>&1 &
    callers="$callers $!"
  done
  # shellcheck disable=SC2086
  wait $callers
  after=$(cpu_of_setup)
  for port in $PORTS; do
    o=$(bench_ok_calls "step.$port"); f=$(bench_failed_calls "step.$port")
    ok=$((ok + ${o:-0})); failed=$((failed + ${f:-1}))
  done
  echo "$ok $failed $(awk -v a="$after" -v b="$before" 'BEGIN { print a - b }')"
}

# step_calls RATE: the calls a step places (the rate split evenly).
step_calls() {
  local n
  n=$(instances)
  echo $(($1 / n * n * SECONDS_PER_STEP))
}

# inquiries: one load generator per instance, two connections each, asking
# about callers of the first step (their records are live); verdicts/s summed.
inquiries() {
  local port total=0 permits=0 v p loaders=""
  for port in $HTTP_PORTS; do
    "$BENCH_WORK/inquiry_load" 127.0.0.1 "$port" "$KEY" kms.bench "$INQUIRY_SECONDS" 2 \
      $((START * SECONDS_PER_STEP / 2)) >"$BENCH_WORK/inq.$port.out" 2>&1 &
    loaders="$loaders $!"
  done
  # shellcheck disable=SC2086
  wait $loaders
  for port in $HTTP_PORTS; do
    v=$(sed -n 's/.*: \([0-9]*\) verdicts\/s/\1/p' "$BENCH_WORK/inq.$port.out")
    p=$(sed -n 's/.*(permit \([0-9]*\),.*/\1/p' "$BENCH_WORK/inq.$port.out")
    total=$((total + ${v:-0})); permits=$((permits + ${p:-0}))
  done
  echo "$total $permits"
}

start_instance() {
  local http
  http=$(bench_port)
  INQUIRY_CONF="inquiry = { listen = \"http://127.0.0.1:$http\"; record_ttl = 3600; max_records = 2000000;
    kms = ( { id = \"kms.bench\"; key = \"$KEY\"; } ); };"
  bench_start_cdivas cfnl+cfu
  PIDS="$PIDS $CDIVAS_PID"; PORTS="$PORTS $CDIVAS_PORT"; HTTP_PORTS="$HTTP_PORTS $http"
}

cores=$(nproc); model=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
echo "machine: $cores cores, $model; $(sipp -v 2>&1 | grep -o 'SIPp v[0-9.]*'); $("${REDIS_SERVER:-redis-server}" --version | awk '{ print $1, $2, $3 }')"
echo "steps: from $START calls/s by $STEP, $SECONDS_PER_STEP s each; inquiries for $INQUIRY_SECONDS s"
results=""
smoke_failed=0
for setup in $SETUPS; do
  PIDS=""; PORTS=""; HTTP_PORTS=""; STORE_CONF=""; REDIS_PID=""; TARGET_PORT=""
  case "$setup" in
    memory) start_instance ;;
    redis) bench_start_redis; PIDS="$REDIS_PID"; start_instance ;;
    redis2) bench_start_redis; PIDS="$REDIS_PID"; start_instance; SHARED_TARGET=1 start_instance ;;
    *) echo "unknown setup $setup"; exit 2 ;;
  esac
  bench_target uas -sf sipp-scenarios/target.xml -d 0
  echo "== $setup"
  read -r rate cpu <<<"$(bench_search "$setup")"
  # The search ended on an overloaded step: let its transactions (64*T1)
  # drain before the inquiries are measured.
  [ -n "${SMOKE:-}" ] || sleep 35
  read -r verdicts permits <<<"$(inquiries)"
  printf '  %-8s inquiries: %s verdicts/s (%s permits)\n' "$setup" "$verdicts" "$permits"
  results="$results$(printf '%-8s %10s %12s %12s' "$setup" "$rate" "$cpu" "$verdicts")"$'\n'
  [ "$rate" -ge "$START" ] && [ "${permits:-0}" -gt 0 ] || smoke_failed=1
  # shellcheck disable=SC2086
  kill $PIDS $(jobs -p) 2>/dev/null; wait 2>/dev/null
  sleep 1
done
printf '\n%-8s %10s %12s %12s\n' setup max_cps us_cpu/call verdicts/s
printf '%s' "$results"
if [ -n "${SMOKE:-}" ]; then
  [ "$smoke_failed" = 0 ] && echo "PASS: smoke run, no failed call, inquiries permitted" ||
    { echo "FAIL: failed calls or no permit in the smoke run"; exit 1; }
fi
