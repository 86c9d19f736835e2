#!/bin/bash
# memory.sh - memory per call held in the no-reply timer, cdivas and then
# Kamailio doing the same work (bench/kamailio-cfnr.cfg), in one run: bob
# has a cfnr rule with a 180 s timer, the target rings and never answers,
# SIPp places CALLS calls at RATE/s, and the memory is read once every call
# is held (ringing, its no-reply timer running).
#   cdivas:   RSS before and with the calls held (one process).
#   Kamailio: tm keeps its transactions in shared memory: the growth of
#             core.shmmem's real_used (kamcmd), plus the growth of every
#             process's private memory (RSS of its private mappings; the
#             shared memory mapping left out).
# Prints bytes per held call for both.
#
#   bench/memory.sh [CALLS [RATE]]      defaults: 50000 1000
#   KAMAILIO=none bench/memory.sh       cdivas only
#   KAMAILIO_SHM=1024                   Kamailio's shared memory (MB)
set -u
cd "$(dirname "$0")/.."
CALLS=${1:-50000}
RATE=${2:-1000}
LOG_LEVEL=${LOG_LEVEL:-notice}
NO_REPLY=180
KAMAILIO_SHM=${KAMAILIO_SHM:-1024}
. bench/lib.sh
# All INVITEs sent, all ringing: wait for the rate to place them, plus a margin.
settle=$(( CALLS / RATE + 10 ))
[ "$settle" -lt 170 ] || { echo "CALLS/RATE must stay well under the 180 s no-reply timer"; exit 2; }
ulimit -n 65536 2>/dev/null

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
# A process and its children (Kamailio forks its workers).
tree() { echo "$1"; pgrep -P "$1"; }
# KiB in private mappings (RSS of the mappings not shared), whole tree.
private_kib() {
  local p
  for p in $(tree "$1"); do cat "/proc/$p/smaps" 2>/dev/null; done | awk '
    /^[0-9a-f]+-[0-9a-f]+ / { private = ($2 ~ /p$/); next }
    private && /^Rss:/ { kib += $2 }
    END { print kib + 0 }'
}
shm_used() {
  "${KAMCMD:-kamcmd}" -s "unix:$KAM_CTL" core.shmmem 2>/dev/null | awk '/real_used/ { print $2; exit }'
}

# hold PORT: CALLS calls to bob through the server on PORT, left ringing;
# returns once all are placed and settled. Sets HOLD_PIDS.
hold() {
  local caller
  bench_target uas -sf sipp-scenarios/target_ring_cancel.xml
  HOLD_PIDS=$(pgrep -n sipp)
  # shellcheck disable=SC2046
  "$SIPP" $(sipp_common) -p "$(bench_port)" -sf bench/caller_bench.xml -s bob -key domain ims.example.net \
    -r "$RATE" -m "$CALLS" -l $((CALLS + 10)) 127.0.0.1:"$1" >"$BENCH_WORK/caller.out" 2>&1 &
  caller=$!
  BENCH_PIDS="$BENCH_PIDS $caller"
  HOLD_PIDS="$HOLD_PIDS $caller"
  sleep "$settle"
}
release() { kill $HOLD_PIDS "$@" 2>/dev/null; wait $HOLD_PIDS "$@" 2>/dev/null; }

bench_start_cdivas "${RULE:-cfnr}"
sleep 0.5
before=$(rss_kib "$CDIVAS_PID")
hold "$CDIVAS_PORT"
after=$(rss_kib "$CDIVAS_PID")
release "$CDIVAS_PID"
echo "cdivas:   calls placed: $CALLS; RSS before ${before} KiB, with the calls held ${after} KiB"
c_per_call=$(awk -v a="$after" -v b="$before" -v n="$CALLS" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }')
awk -v a="$after" -v p="$c_per_call" 'BEGIN {
  printf "cdivas:   RSS with calls held: %.1f MB; per held call: %d bytes\n", a / 1024, p }'

if [ "$KAMAILIO" = none ] || [ ! -x "$KAMAILIO" ]; then exit 0; fi
TARGET_PORT=$(bench_port)
start_kamailio cfnr
shm0=$(shm_used); priv0=$(private_kib "$KAM_PID")
[ -n "$shm0" ] || { echo "kamcmd cannot read core.shmmem from $KAM_CTL"; exit 2; }
hold "$KAM_PORT"
shm1=$(shm_used); priv1=$(private_kib "$KAM_PID")
release "$KAM_PID"
echo "kamailio: calls placed: $CALLS; shm used ${shm0} -> ${shm1} bytes, private ${priv0} -> ${priv1} KiB"
k_per_call=$(awk -v s0="$shm0" -v s1="$shm1" -v p0="$priv0" -v p1="$priv1" -v n="$CALLS" \
  'BEGIN { printf "%.0f", ((s1 - s0) + (p1 - p0) * 1024) / n }')
awk -v s0="$shm0" -v s1="$shm1" -v p0="$priv0" -v p1="$priv1" -v n="$CALLS" -v t="$k_per_call" 'BEGIN {
  printf "kamailio: per held call: %d bytes (shared %.0f + private %.0f)\n", t, (s1 - s0) / n, (p1 - p0) * 1024 / n }'
awk -v c="$c_per_call" -v k="$k_per_call" 'BEGIN { if (k > 0) printf "ratio cdivas/kamailio per held call: %.2f\n", c / k }'
