# services_lib.sh - helpers of the diversion service tests (cfb.sh, cfnr.sh,
# ...), on top of lib.sh: one conf template (services.conf.in) whose rules
# each test fills in, and ways to look at the Nth message SIPp received.
# Sourced by each test after lib.sh.

# services_start VAR=VALUE...: (re)starts cdivas on new ports with
# services.conf.in, the given settings overriding the defaults below. Sets
# P (cdivas), T (the S-CSCF/served user/target SIPp) and A (the caller).
# Settings: BOB_RULES, CAROL_RULES (the inside of "rules = ( ... );", one
# line, no '|', '&' or '\'), BOB_SETTINGS, CAROL_SETTINGS (e.g.
# "max_calls = 1;"), SERVER_SETTINGS (e.g. "diversion_header = true;"),
# EXTRA_GROUPS (top-level groups, e.g. an inquiry group for /metrics),
# MAX_DIVERSIONS, LIMIT_EXEMPT (quoted URIs), NOT_REACHABLE_TIMER, TRANSPORT
# (between cdivas and T).
SERVICES_RUN=0
services_start() {
  if [ -n "$CDIVAS_PID" ]; then
    # The old cdivas ends its transactions in the background (on other
    # ports); cleanup in lib.sh reaps it. Its log, still written through the
    # open file, moves aside: start_cdivas waits for "started as" in
    # cdivas.log.
    kill "$CDIVAS_PID" 2>/dev/null
    BG_PIDS="$BG_PIDS $CDIVAS_PID"
    CDIVAS_PID=""
    mv "$WORK/cdivas.log" "$WORK/cdivas.$SERVICES_RUN.log"
  fi
  SERVICES_RUN=$((SERVICES_RUN + 1))
  alloc_ports 3
  # shellcheck disable=SC2206
  ports=($PORTS)
  # shellcheck disable=SC2034  # A is for the tests
  P=${ports[0]} T=${ports[1]} A=${ports[2]}
  # make_conf replaces each @VAR@ with its first value: the test's come first.
  make_conf "$E2E/services.conf.in" "$WORK/cdivas.conf" "$@" \
    HOST=127.0.0.1 PORT="$P" TARGET="$T" TRANSPORT=udp MAX_DIVERSIONS=5 \
    LIMIT_EXEMPT= NOT_REACHABLE_TIMER=0 BOB_SETTINGS= BOB_RULES= CAROL_RULES= \
    CAROL_SETTINGS= SERVER_SETTINGS= EXTRA_GROUPS=
  grep -n '@[A-Z_]*@' "$WORK/cdivas.conf" && fail "unfilled setting in the conf"
  start_cdivas "$WORK/cdivas.conf"
}

# received_nth NAME FIRSTWORD N: the Nth message SIPp NAME received whose
# first line starts with FIRSTWORD, CRs removed (received_nth x INVITE 1 is
# received x INVITE).
received_nth() {
  tr -d '\r' <"$WORK/$1.msg" 2>/dev/null | awk -v want="$2" -v nth="$3" '
    function done_msg() { if (inmsg && index(first, want) == 1 && ++seen == nth) { printf "%s", buf; exit } }
    /message received/ { grab = 1; inmsg = 0; buf = ""; next }
    /^-+ / || /message sent/ { done_msg(); grab = 0; inmsg = 0; next }
    grab && !inmsg && NF == 0 { next }
    grab && !inmsg { inmsg = 1; first = $0; buf = $0 "\n"; next }
    grab && inmsg { buf = buf $0 "\n" }
    END { done_msg() }'
}

# count_received NAME FIRSTWORD: how many messages SIPp NAME received whose
# first line starts with FIRSTWORD.
count_received() {
  n=0
  while [ -n "$(received_nth "$1" "$2" $((n + 1)))" ]; do n=$((n + 1)); done
  echo "$n"
}

# expect_count NAME FIRSTWORD N WHAT: SIPp NAME received exactly N such messages.
expect_count() {
  got=$(count_received "$1" "$2")
  [ "$got" = "$3" ] || fail "$4 (SIPp $1 received $got \"$2\" messages, expected $3; see $WORK/$1.msg)"
}

# expect_diversion_log SERVICE CAUSE TARGET-USER: cdivas logged the diversion.
expect_diversion_log() {
  grep -q "diversion call-id=.* service=$1 cause=$2 target=sip:$3@ims.example.net" "$WORK/cdivas.log" ||
    fail "cdivas logged no $1 diversion with cause $2 to $3"
}

# sipp_stop NAME: ends a background SIPp started by sipp_bg (one that is
# expected to receive nothing, so never finishes by itself).
sipp_stop() {
  eval "pid=\$PID_$1"
  # shellcheck disable=SC2154  # set by the eval
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

# sipp_call NAME ARGS...: sipp_run of a caller towards cdivas ($P), from a
# port of its own: a port held unbound between calls could be handed to a
# test running in parallel.
sipp_call() {
  name=$1; shift
  alloc_ports 1
  sipp_run "$name" "$PORTS" "$@" "127.0.0.1:$P"
}

# msg_time NAME DIRECTION FIRSTWORD N: when SIPp NAME sent ("sent") or
# received ("received") the Nth message whose first line starts with
# FIRSTWORD, as seconds since the epoch (with microseconds).
msg_time() {
  tr -d '\r' <"$WORK/$1.msg" 2>/dev/null | awk -v dir="$2" -v want="$3" -v nth="$4" '
    /^-+ [0-9][0-9][0-9][0-9]-/ { stamp = $2 " " $3; mine = 0; next }
    $0 ~ ("message " dir) { mine = 1; first = ""; next }
    mine && first == "" && NF > 0 { first = $0
      if (index(first, want) == 1 && ++seen == nth) {
        cmd = "date -d \"" stamp "\" +%s.%N"; cmd | getline t; close(cmd); print t; exit } }'
}
