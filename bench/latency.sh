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
#   PIN=1    the SIPp processes on CPU 0, cdivas alone on CPU 1 (both passes)
#   SCHED=1  perf sched during each cdivas pass: how often cdivas waited
#            over 1 ms to run once woken, and what its CPU did meanwhile
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-3}; RATE=${2:-1000}; SECONDS_PER_RUN=${3:-10}
if [ -n "${SMOKE:-}" ]; then RUNS=1; RATE=50; SECONDS_PER_RUN=2; fi
LOG_LEVEL=${LOG_LEVEL:-notice}
. bench/lib.sh
if [ -n "${PIN:-}" ]; then
  printf '#!/bin/sh\nexec taskset -c 0 %s "$@"\n' "$(command -v "$SIPP")" >"$BENCH_WORK/sipp-cpu0"
  printf '#!/bin/sh\nexec taskset -c 1 %s "$@"\n' "$CDIVAS" >"$BENCH_WORK/cdivas-cpu1"
  chmod +x "$BENCH_WORK/sipp-cpu0" "$BENCH_WORK/cdivas-cpu1"
  SIPP=$BENCH_WORK/sipp-cpu0 CDIVAS=$BENCH_WORK/cdivas-cpu1
fi

# late_wakeups DATA PID: from a perf sched recording, the times PID waited
# over 1 ms between its wake-up and running, and what ran on its CPU in
# that time (<idle>: nothing the kernel knows of - on a VM, the host).
late_wakeups() {
  perf sched timehist -i "$1" 2>/dev/null | awk -v me="[$2]" '
    NR > 3 && NF >= 6 {
      cpu = $2
      if (index($3, me) && $5 + 0 > 1.0) {
        late++; worst = ($5 + 0 > worst) ? $5 + 0 : worst
        who = (last[cpu] == "") ? "?" : last[cpu]; sub(/\[[0-9\/]*\]$/, "", who); by[who]++
      }
      if (index($3, me)) runs++
      last[cpu] = $3
    }
    END {
      printf "  sched: %d of %d wake-ups ran over 1 ms late (worst %.1f ms); meanwhile the CPU ran:", late, runs, worst
      for (w in by) printf " %s x%d", w, by[w]
      print "" }'
}

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
echo "runs: $RUNS, $RATE calls/s for $SECONDS_PER_RUN s each, CFU${PIN:+; SIPp on CPU 0, cdivas on CPU 1}"
printf '%-4s %12s %12s %12s %12s %14s\n' run cdivas_p50 cdivas_p99 sipp_p50 sipp_p99 added_p99_ms
worst=0; failed_any=0
for run in $(seq 1 "$RUNS"); do
  bench_start_cdivas cfu
  bench_target uas -sf sipp-scenarios/target.xml -d 0
  target_pid=$(pgrep -n sipp)
  [ -z "${SCHED:-}" ] || { perf sched record -a -o "$BENCH_WORK/sched.data" -- sleep "$SECONDS_PER_RUN" \
    >/dev/null 2>&1 & sched_pid=$!; }
  read -r c50 c99 cf <<<"$(traced "$CDIVAS_PORT" "run$run.cdivas")"
  [ -z "${SCHED:-}" ] || { wait "$sched_pid"; sched_line=$(late_wakeups "$BENCH_WORK/sched.data" "$CDIVAS_PID"); }
  read -r s50 s99 sf <<<"$(traced "$TARGET_PORT" "run$run.sipp")"
  kill "$CDIVAS_PID" "$target_pid" 2>/dev/null; wait "$CDIVAS_PID" "$target_pid" 2>/dev/null
  added=$(awk -v a="$c99" -v b="$s99" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.3f", a - b }')
  printf '%-4s %12s %12s %12s %12s %14s\n' "$run" "$c50" "$c99" "$s50" "$s99" "$added"
  [ -z "${SCHED:-}" ] || echo "$sched_line"
  [ "${cf:-1}" = 0 ] && [ "${sf:-1}" = 0 ] && [ "$added" != - ] || failed_any=1
  worst=$(awk -v w="$worst" -v a="$added" 'BEGIN { print (a != "-" && a + 0 > w + 0) ? a : w }')
  sleep 1
done
echo "worst added p99: $worst ms over $RUNS runs$([ "$failed_any" = 0 ] || echo ' (a run failed calls or had no trace)')"
if [ -n "${SMOKE:-}" ]; then
  [ "$failed_any" = 0 ] && echo "PASS: smoke run, no failed call" || { echo "FAIL: failed calls in the smoke run"; exit 1; }
fi
