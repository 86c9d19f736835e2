#!/bin/bash
# callgrind.sh - instructions cdivas executes per call, counted by valgrind's
# callgrind: repeatable for one binary whatever else the machine does, so
# two builds can be compared to the instruction (doc/performance.md).
#
#   bench/callgrind.sh [SERVICE [CALLS]]     defaults: cfu 1000
#   CDIVAS=/path/to/other/cdivas bench/callgrind.sh
#   TOP=20 bench/callgrind.sh                also the 20 costliest functions (inclusive)
#
# Two runs at the same rate, a short one (CALLS/5) and a long one (CALLS):
# the difference of their totals divided by the difference of their calls
# is the cost of one call, without start-up and shutdown.
set -u
cd "$(dirname "$0")/.."
SERVICE=${1:-cfu}
CALLS=${2:-1000}
RATE=${RATE:-100}
LOG_LEVEL=${LOG_LEVEL:-notice}
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is missing (apt-get install -y valgrind)"; exit 2; }
. bench/lib.sh

REAL_CDIVAS=$CDIVAS
# One run: cdivas under callgrind, N calls, SIGTERM; prints the total Ir.
run() {
  local n=$1 out=$BENCH_WORK/callgrind.$1
  printf '#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s "%s" "$@"\n' \
    "$out" "$REAL_CDIVAS" >"$BENCH_WORK/wrapped"
  chmod +x "$BENCH_WORK/wrapped"
  CDIVAS=$BENCH_WORK/wrapped
  bench_start_cdivas "$SERVICE"
  local target=sipp-scenarios/target.xml
  [ "$SERVICE" = cfb ] && target=sipp-scenarios/served_busy.xml
  bench_target "uas.$n" -sf "$target" -d 0
  # shellcheck disable=SC2046
  "$SIPP" $(sipp_common) -p "$(bench_port)" -sf bench/caller_bench.xml -s bob -key domain ims.example.net \
    -r "$RATE" -m "$n" -timeout 300s -recv_timeout 30000 \
    127.0.0.1:"$CDIVAS_PORT" >"$BENCH_WORK/caller.$n.out" 2>&1
  local failed
  failed=$(sed -n 's/.*Failed call *| *[0-9]* *| *\([0-9]*\).*/\1/p' "$BENCH_WORK/caller.$n.out" | tail -n 1)
  kill -TERM "$CDIVAS_PID"
  wait "$CDIVAS_PID" 2>/dev/null
  [ "${failed:-1}" = 0 ] || { echo "callgrind.sh: $failed of $n calls failed" >&2; exit 1; }
  callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'
}

short=$((CALLS / 5))
ir_short=$(run "$short") || exit 1
ir_long=$(run "$CALLS") || exit 1
per_call=$(( (ir_long - ir_short) / (CALLS - short) ))
echo "service $SERVICE: $ir_short Ir for $short calls, $ir_long Ir for $CALLS calls"
echo "instructions per $SERVICE call: $per_call"
if [ -n "${TOP:-}" ]; then
  callgrind_annotate --inclusive=yes "$BENCH_WORK/callgrind.$CALLS" 2>/dev/null | sed -n "1,$((TOP + 25))p"
fi
