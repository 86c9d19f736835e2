# bench/lib.sh - shared by the benchmark scripts: start cdivas (and
# friends) on free loopback ports with a bench conf, run SIPp, read
# numbers back. Everything stays on 127.0.0.1 and stops by itself.
CDIVAS=${CDIVAS:-$PWD/cdivas}
SIPP=${SIPP:-sipp}
FREEPORT=${FREEPORT:-$PWD/tests/e2e/freeport}
BENCH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/cdivas-bench.XXXXXX")
BENCH_PIDS=""
[ -x "$CDIVAS" ] || { echo "build first: $CDIVAS is missing (README, first line)"; exit 2; }
[ -x "$FREEPORT" ] || make -s tests/e2e/freeport >/dev/null || { echo "cannot build tests/e2e/freeport"; exit 2; }
bench_cleanup() { kill $BENCH_PIDS 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$BENCH_WORK"; }
trap bench_cleanup EXIT

# bench_port: a free loopback port never handed out before in this run.
# Free is not enough: a port given to a process that has not bound it yet
# (the second of two SIPp callers started together, the target SIPp started
# after both cdivas instances) is still free, and a second caller given the
# same port cannot bind and makes no call at all. The ledger is a file
# because every $(bench_port) runs in a subshell.
bench_port() {
  local port
  for _ in $(seq 1 20); do
    port=$("$FREEPORT" 1) || continue
    grep -qx "$port" "$BENCH_WORK/ports.given" 2>/dev/null && continue
    echo "$port" >>"$BENCH_WORK/ports.given"
    echo "$port"
    return 0
  done
  echo "no free port" >&2
  return 1
}

# bench_start_cdivas RULES: cdivas with bob's rule set RULES (cfu, cfnr, cfb,
# cfnl+cfu) and the target as outbound proxy; sets CDIVAS_PORT, TARGET_PORT
# (kept when SHARED_TARGET is set: a second instance, same target),
# CDIVAS_PID. INQUIRY_CONF, XCAP_CONF and STORE_CONF are added to the conf as
# given, BOB_SETTINGS to bob's group.
bench_start_cdivas() {
  CDIVAS_PORT=$(bench_port)
  [ -n "${SHARED_TARGET:-}" ] && [ -n "${TARGET_PORT:-}" ] || TARGET_PORT=$(bench_port)
  case "$1" in
    cfu)  rule='{ service = "cfu"; target = "sip:carol@ims.example.net"; }' ;;
    cfnl+cfu) rule='{ service = "cfnl"; target = "sip:carol@ims.example.net"; },
                    { service = "cfu"; target = "sip:carol@ims.example.net"; }' ;;
    cfb)  rule='{ service = "cfb"; target = "sip:carol@ims.example.net"; }' ;;
    none) rule='' ;;
    cfnr) rule="{ service = \"cfnr\"; target = \"sip:carol@ims.example.net\"; no_reply_timer = ${NO_REPLY:-5}; }" ;;
  esac
  cat >"$BENCH_WORK/cdivas.conf" <<CONF
server = {
  listen = [ "sip:127.0.0.1:$CDIVAS_PORT" ];
  identity = "sip:cdivas.ims.example.net";
  outbound_proxy = "sip:127.0.0.1:$TARGET_PORT;lr";
  log_level = "${LOG_LEVEL:-info}";
};
${INQUIRY_CONF:-}
${STORE_CONF:-}
${XCAP_CONF:-}
subscribers = ( { user = "sip:bob@ims.example.net"; ${BOB_SETTINGS:-} rules = ( $rule ); } );
CONF
  local log=$BENCH_WORK/cdivas.$CDIVAS_PORT.log
  "$CDIVAS" -F -f "$BENCH_WORK/cdivas.conf" >>"$log" 2>&1 &
  CDIVAS_PID=$!
  BENCH_PIDS="$BENCH_PIDS $CDIVAS_PID"
  for _ in $(seq 1 50); do grep -qs "started as" "$log" && return 0; sleep 0.1; done
  echo "cdivas did not start:"; cat "$log"; exit 2
}

# bench_start_redis: a redis-server of our own on a free loopback port,
# nothing saved; sets REDIS_PORT, REDIS_PID and STORE_CONF (for cdivas).
bench_start_redis() {
  REDIS_PORT=$(bench_port)
  "${REDIS_SERVER:-redis-server}" --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    >"$BENCH_WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  BENCH_PIDS="$BENCH_PIDS $REDIS_PID"
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null && break
    sleep 0.1
  done
  STORE_CONF="store = { backend = \"redis\"; address = \"127.0.0.1:$REDIS_PORT\"; };"
}

# start_kamailio SERVICE: Kamailio with bench/kamailio-SERVICE.cfg on a free
# port, forwarding to TARGET_PORT, KAMAILIO_CHILDREN UDP workers (2), its
# ctl socket at KAM_CTL (for kamcmd), the CFNR no-reply timer NO_REPLY s
# (5), KAMAILIO_SHM MB of shared memory (256); sets KAM_PORT, KAM_PID.
KAMAILIO=${KAMAILIO:-$(command -v kamailio || echo /usr/sbin/kamailio)}
start_kamailio() {
  KAM_PORT=$(bench_port)
  KAM_CTL=$BENCH_WORK/kamailio.ctl
  sed -e "s/@PORT@/$KAM_PORT/" -e "s/@TARGET@/$TARGET_PORT/" -e "s/@CHILDREN@/${KAMAILIO_CHILDREN:-2}/" \
    -e "s/@NOREPLY_MS@/$(( ${NO_REPLY:-5} * 1000 ))/" -e "s#@CTL@#$KAM_CTL#" \
    "bench/kamailio-$1.cfg" >"$BENCH_WORK/kamailio.cfg"
  "$KAMAILIO" -DD -E -f "$BENCH_WORK/kamailio.cfg" -P "$BENCH_WORK/kamailio.pid" \
    -m "${KAMAILIO_SHM:-256}" -M 32 >"$BENCH_WORK/kamailio.log" 2>&1 &
  KAM_PID=$!
  BENCH_PIDS="$BENCH_PIDS $KAM_PID"
  sleep 1
  kill -0 "$KAM_PID" 2>/dev/null || { echo "kamailio did not start:"; tail "$BENCH_WORK/kamailio.log"; exit 2; }
}

# Large socket buffers: a burst waits in the kernel instead of being lost.
sipp_common() { echo "-nostdin -i 127.0.0.1 -mi 127.0.0.1 -cp $(bench_port) -mp $(bench_port) -timeout_error -buff_size 8388608"; }

# bench_target NAME ARGS...: a SIPp UAS on TARGET_PORT, in the background.
bench_target() {
  name=$1; shift
  # shellcheck disable=SC2046
  "$SIPP" $(sipp_common) -p "$TARGET_PORT" "$@" >"$BENCH_WORK/$name.out" 2>&1 &
  BENCH_PIDS="$BENCH_PIDS $!"
  sleep 0.3
}

# bench_caller ARGS...: the SIPp UAC (foreground; its screen goes to caller.out).
bench_caller() {
  # shellcheck disable=SC2046
  "$SIPP" $(sipp_common) -p "$(bench_port)" "$@" >"$BENCH_WORK/caller.out" 2>&1
}

# bench_search NAME ARGS...: the rate ladder the rate benchmarks climb:
# from START calls/s by STEP up to MAX, while a step fails no call and
# completes every call it placed. The script defines
#   step RATE ARGS...   one step of SECONDS_PER_STEP: "ok failed cpu_seconds"
#   step_calls RATE     the calls a step at RATE places
# Prints "best_rate cpu_us_per_call" ("0 -" when the first step failed).
bench_search() {
  local name=$1 rate=$START best=0 best_cpu=- ok failed cpu
  shift
  while [ "$rate" -le "$MAX" ]; do
    read -r ok failed cpu <<<"$(step "$rate" "$@")"
    printf '  %-9s %5d calls/s: %6s ok %4s failed, %.1f CPU s\n' "$name" "$rate" "$ok" "$failed" "$cpu" >&2
    [ "$failed" = 0 ] && [ "${ok:-0}" -ge "$(step_calls "$rate")" ] || break
    best=$rate
    best_cpu=$(awk -v c="$cpu" -v n="$ok" 'BEGIN { printf "%.0f", c / n * 1e6 }')
    rate=$((rate + STEP))
    sleep 2   # let transactions of the previous step expire a little
  done
  echo "$best $best_cpu"
}

# Numbers from a SIPp final screen.
# A SIPp that could not start (a socket it cannot bind) shows 0 failed and
# 0 successful calls: its own error goes to stderr so the run says why.
bench_failed_calls() {
  grep -m 1 -h 'Unable to\|errno =' "$BENCH_WORK/$1.out" >&2
  sed -n 's/.*Failed call *| *[0-9]* *| *\([0-9]*\).*/\1/p' "$BENCH_WORK/$1.out" | tail -n 1
}
bench_ok_calls() { sed -n 's/.*Successful call *| *[0-9]* *| *\([0-9]*\).*/\1/p' "$BENCH_WORK/$1.out" | tail -n 1; }

# CPU seconds (user+system) a process has used.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }

# INVITE -> 180 latency from the caller's message trace, which SIPp
# stamps to the microsecond (its own rtd statistics round to 1 ms):
# "p50 p99" in ms.
trace_percentiles() {
  tr -d '\r' <"$1" | awk '
    /^-+ [0-9-]+ [0-9:.]+$/ { split($3, t, ":"); now = t[1] * 3600 + t[2] * 60 + t[3]; state = 1; next }
    state == 1 { dir = ($0 ~ /sent/) ? "out" : "in"; state = 2; next }
    state == 2 && NF == 0 { next }
    state == 2 { first = $0; state = 3; next }
    state == 3 && /^Call-ID:/ {
      id = $2
      if (dir == "out" && first ~ /^INVITE /) sent[id] = now
      else if (dir == "in" && first ~ /^SIP\/2.0 180/ && (id in sent) && !(id in done)) { print (now - sent[id]) * 1000; done[id] = 1 }
      state = 0 }' | sort -n | awk '{ v[NR] = $1 } END {
      if (NR == 0) { print "- -"; exit }
      i50 = int(NR * 0.50); if (i50 < 1) i50 = 1; i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
      printf "%.3f %.3f\n", v[i50], v[i99] }'
}
