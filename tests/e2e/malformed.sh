#!/bin/bash
# Hostile input: every message of the corpus tests/malformed/*.sip goes to
# cdivas over UDP and over TCP; each outcome must be the one the case
# expects, cdivas must keep running and answering after each, log no error,
# stay small, and then place a valid CFU call as if nothing had happened.
#
# A corpus file starts with '#' lines, then the message (see sipsend.c for
# the ${...} expansions and the LF -> CRLF rule; "# raw" turns it off):
#   # <what the case is>
#   # expect: OUTCOME[|OUTCOME...]      both transports
#   # expect-udp: ... / # expect-tcp:   one transport (overrides expect)
#   # forwarded: TEXT                   the forwarded copy contains TEXT
# OUTCOME is one of
#   NNN           cdivas's own final answer has status NNN, nothing forwarded
#   Nxx           the same for any status of class N
#   fwd           forwarded to the next hop (the outbound proxy, a sipsend
#                 sink here) and the sink's answer relayed back
#   fwd-noanswer  forwarded, no answer (ACK)
#   drop          no answer within 1 s (or the TCP connection closed), not
#                 forwarded
#   any           anything, as long as cdivas lives
#   skip          not sent on this transport (e.g. a datagram above 64 KiB)
# An expectation followed by "(currently: ...)" is a known misbehaviour of
# cdivas: the case is sent and its outcome shown, but not asserted.
# After each case cdivas must still run and answer an OPTIONS within
# PING_WAIT_MS (a hang is as bad as a crash).
# MALFORMED_CASES=GLOB runs only the matching cases; MALFORMED_VERBOSE=1
# prints every answer.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99

SIPSEND=${SIPSEND:-$(dirname "$FREEPORT")/sipsend}
[ -x "$SIPSEND" ] || fail "no sipsend helper at $SIPSEND (built by make check)"
CORPUS="$top_srcdir/tests/malformed"
RSS_MAX_KB=${RSS_MAX_KB:-65536}
PING_WAIT_MS=${PING_WAIT_MS:-15000}

alloc_ports 3; set -- $PORTS; P=$1 T=$2 A=$3
make_conf "$E2E/cfu.conf.in" "$WORK/cdivas.conf" HOST=127.0.0.1 PORT="$P" TARGET="$T" TRANSPORT=udp
touch "$WORK/sink.log"
export SIPSEND_TARGET=$T
"$SIPSEND" sink "$T" "$WORK/sink.log" &
SINK_PID=$!
BG_PIDS="$BG_PIDS $SINK_PID"
start_cdivas "$WORK/cdivas.conf"

# The liveness probe: an OPTIONS to cdivas itself (${...}: sipsend's expansions).
# shellcheck disable=SC2016
printf '%s\n' 'OPTIONS sip:127.0.0.1:${PORT} SIP/2.0' \
  'Via: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-${ID}' 'Max-Forwards: 70' \
  'From: <sip:probe@ims.example.net>;tag=${ID}' 'To: <sip:127.0.0.1:${PORT}>' \
  'Call-ID: ${ID}@probe' 'CSeq: 1 OPTIONS' 'Content-Length: 0' '' >"$WORK/ping.sip"

# header FILE KEY: the value of "# KEY:" among the leading '#' lines.
header() {
  awk -v key="# $2:" '!/^#/ { exit } index($0, key) == 1 { sub(/^[^:]*: */, ""); print; exit }' "$1"
}

# forwarded ID: the first message the sink received that carries ID (CRs removed).
forwarded() {
  tr -d '\r' <"$WORK/sink.log" | awk -v id="$1" '
    /^=== / { if (hit) exit; buf = ""; next }
    { buf = buf $0 "\n"; if (index($0, id)) hit = 1 }
    END { if (hit) printf "%s", buf }'
}

# outcome ANSWER ID: what happened, in the terms of the expectations.
outcome() {
  fwd=0
  grep -qaF -- "$2" "$WORK/sink.log" && fwd=1
  case "$1" in
    "SIP/2.0 "[0-9][0-9][0-9]" Sink Reached") [ $fwd = 1 ] && echo fwd || echo "sink?" ;;
    "SIP/2.0 "[0-9][0-9][0-9]*) [ $fwd = 1 ] && echo "${1:8:3}+fwd" || echo "${1:8:3}" ;;
    none|closed) [ $fwd = 1 ] && echo fwd-noanswer || echo drop ;;
    "none after SIP/2.0 "*|"closed after SIP/2.0 "*) echo "only-${1#* after SIP/2.0 }" | cut -c1-8 ;;
    *) echo "error" ;;
  esac
}

# matches OUTCOME EXPECTATIONS
matches() {
  IFS='|' read -ra alts <<<"$2"
  for e in "${alts[@]}"; do
    case "$e" in
      any|"$1") return 0 ;;
      [1-6]xx) case "$1" in "${e:0:1}"[0-9][0-9]) return 0 ;; esac ;;
    esac
  done
  return 1
}

n=0
mismatches=""
known=""
ROWS=""
for f in "$CORPUS"/${MALFORMED_CASES:-*}.sip; do
  name=$(basename "$f" .sip)
  row=$(printf '%-30s' "$name")
  for proto in udp tcp; do
    exp=$(header "$f" "expect-$proto")
    [ -n "$exp" ] || exp=$(header "$f" expect)
    [ -n "$exp" ] || fail "$name: no '# expect:' line"
    is_known=0
    case "$exp" in *"(currently:"*) is_known=1 ;; esac
    exp=${exp%% (*}
    exp=${exp%% *}
    if [ "$exp" = skip ]; then
      row="$row $(printf '%-24s' "skip")"
      continue
    fi
    n=$((n + 1))
    id=$(printf 'mf%sn%03d%s' "$$" "$n" "${proto:0:1}")
    # Answers come at once; a known misbehaviour may take its time.
    wait_ms=3000
    case "|$exp|" in *"|drop|"*|*"|fwd-noanswer|"*) wait_ms=1000 ;; esac
    [ "$is_known" = 0 ] || wait_ms=2000
    answer=$("$SIPSEND" send "$proto" "$P" "$f" "$id" "$wait_ms")
    kill -0 "$CDIVAS_PID" 2>/dev/null || fail "cdivas died on $name over $proto (answer: $answer)"
    # The probe also gives cdivas time to finish with the case (e.g. a TCP close).
    pong=$("$SIPSEND" send udp "$P" "$WORK/ping.sip" "$(printf 'mf%sp%03d' "$$" "$n")" "$PING_WAIT_MS")
    [ "$pong" = "SIP/2.0 200 OK" ] || fail "cdivas does not answer after $name over $proto: $pong"
    got=$(outcome "$answer" "$id")
    mark=ok
    if [ "$is_known" = 1 ]; then
      mark=KNOWN
      known="$known $name/$proto"
    elif ! matches "$got" "$exp"; then
      mark=FAIL
      mismatches="$mismatches
  $name over $proto: expected $exp, got $got ($answer)"
    elif [ "$got" = fwd ]; then
      text=$(header "$f" forwarded)
      if [ -n "$text" ] && ! forwarded "$id" | grep -qF -- "$text"; then
        mark=FAIL
        mismatches="$mismatches
  $name over $proto: forwarded copy lacks '$text'"
      fi
    fi
    row="$row $(printf '%-24s' "$got [$mark]")"
    [ -z "${MALFORMED_VERBOSE:-}" ] || note "$name/$proto: $answer"
  done
  ROWS="$ROWS$row
"
done
printf '%-30s %-24s %-24s\n' case udp tcp
printf '%s' "$ROWS"
[ -z "$known" ] || note "known misbehaviours, not asserted:$known"
[ -z "$mismatches" ] || fail "outcomes differ from the corpus:$mismatches"

note "cdivas logged no error"
if grep -aE 'cdivas\[error\]|Assertion .* failed|AddressSanitizer|LeakSanitizer|runtime error:' "$WORK/cdivas.log"; then
  fail "errors in the cdivas log"
fi
note "no raw control bytes from the network reach the log"
if LC_ALL=C grep -naP '[\x00-\x08\x0b-\x1f\x7f]' "$WORK/cdivas.log" >"$WORK/control.txt"; then
  cat -v "$WORK/control.txt"
  fail "raw control bytes in the cdivas log"
fi
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$CDIVAS_PID/status")
if grep -q 'libasan\|asan_rtl\|clang_rt\.asan' "/proc/$CDIVAS_PID/maps" 2>/dev/null; then
  # AddressSanitizer's shadow memory makes RSS meaningless; its leak check
  # at the exit below is the better signal.
  note "cdivas RSS after $n messages: ${rss} kB (AddressSanitizer build: not bounded)"
else
  note "cdivas RSS after $n messages: ${rss} kB (bound ${RSS_MAX_KB} kB)"
  [ "$rss" -lt "$RSS_MAX_KB" ] || fail "cdivas RSS ${rss} kB after the corpus (bound ${RSS_MAX_KB} kB)"
fi

note "a valid CFU call still works"
kill "$SINK_PID"
wait "$SINK_PID" 2>/dev/null
sipp_bg target "$T" -sf "$SCENARIOS/target.xml" -d 200 -m 1
sipp_run caller "$A" -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1 "127.0.0.1:$P"
sipp_wait target
invite=$(received target INVITE)
expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "Request-URI is the forwarding target"
expect_line "$invite" "History-Info: <sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1" \
  "History-Info of a CFU diversion"
kill -0 "$CDIVAS_PID" || fail "cdivas exited"

note "cdivas stops cleanly (sanitizer builds: no leak report)"
kill -TERM "$CDIVAS_PID"
( sleep 30; kill -KILL "$CDIVAS_PID" 2>/dev/null ) &
WATCHDOG=$!
wait "$CDIVAS_PID"; rc=$?
kill "$WATCHDOG" 2>/dev/null
CDIVAS_PID=""
[ "$rc" -eq 0 ] || fail "cdivas exit status $rc after SIGTERM (137: still running after 30 s)"
if grep -aE 'Sanitizer|runtime error:' "$WORK/cdivas.log"; then
  fail "sanitizer report in the cdivas log"
fi
pass "hostile input: $n sends, cdivas alive, a CFU call afterwards, clean exit"
