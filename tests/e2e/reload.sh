#!/bin/bash
# SIGHUP under load: SIPp calls bob at a steady rate while the conf is
# rewritten and SIGHUP sent every second, alternating a good conf (bob
# forwards to carol, then to dave, ...) and a broken one. No call may
# fail, every broken conf is refused with file:line errors, and every call
# that arrives after a good reload follows the new rule.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99

DURATION=${RELOAD_SECONDS:-60}
RATE=${RELOAD_RATE:-20}
alloc_ports 3; set -- $PORTS; P=$1 T=$2 A=$3

good_conf() {   # good_conf TARGET-USER
  sed "s|sip:carol@ims.example.net|sip:$1@ims.example.net|" "$WORK/base.conf" >"$WORK/cdivas.conf.new"
  mv "$WORK/cdivas.conf.new" "$WORK/cdivas.conf"
}
broken_conf() {
  sed 's|no_reply_timer = 20;|no_reply_timer = 2;|; s|service = "cfu"|service = "cfx"|' "$WORK/base.conf" >"$WORK/cdivas.conf.new"
  mv "$WORK/cdivas.conf.new" "$WORK/cdivas.conf"
}

make_conf "$E2E/cfu.conf.in" "$WORK/base.conf" HOST=127.0.0.1 PORT="$P" TARGET="$T" TRANSPORT=udp
sed -i 's|log_level = "debug";|log_level = "info";|' "$WORK/base.conf"
good_conf carol
start_cdivas "$WORK/cdivas.conf"

total=$((DURATION * RATE))
note "SIPp: $total calls at $RATE calls/s while the conf is reloaded every second"
sipp_bg target "$T" -sf "$SCENARIOS/target.xml" -d 50 -m "$total" -timeout $((DURATION + 60))s
sipp_bg caller "$A" -sf "$SCENARIOS/caller.xml" -s bob -key domain ims.example.net \
  -r "$RATE" -m "$total" -timeout $((DURATION + 60))s "127.0.0.1:$P"

targets=(dave carol)
expected=""        # the targets of the good reloads, in order
for i in $(seq 1 "$DURATION"); do
  sleep 1
  if [ $((i % 2)) = 1 ]; then
    broken_conf
  else
    t=${targets[$(( (i / 2) % 2 ))]}
    good_conf "$t"
    expected="$expected $t"
  fi
  kill -HUP "$CDIVAS_PID" || fail "cdivas died"
done
sipp_wait caller
sipp_wait target

sipp_failed=$(sed -n 's/.*Failed call *| *[0-9]* *| *\([0-9]*\).*/\1/p' "$WORK/caller.out" | tail -n 1)
sipp_ok=$(sed -n 's/.*Successful call *| *[0-9]* *| *\([0-9]*\).*/\1/p' "$WORK/caller.out" | tail -n 1)
note "SIPp caller: $sipp_ok successful, $sipp_failed failed calls"
[ "$sipp_failed" = 0 ] && [ "$sipp_ok" = "$total" ] || fail "every call succeeds during reloads"

refused=$(grep -c "reload failed: keeping the running configuration" "$WORK/cdivas.log")
reloaded=$(grep -c "configuration reloaded" "$WORK/cdivas.log")
note "$reloaded good reloads, $refused refused"
[ "$refused" = $((DURATION - DURATION / 2)) ] && [ "$reloaded" = $((DURATION / 2)) ] || fail "each reload taken or refused"
grep -q "cdivas.conf:[0-9]*: no_reply_timer must be between 5 and 180, not 2" "$WORK/cdivas.log" ||
  fail "a refused reload names file:line"

# Between two good reloads, every diversion goes to the newest good target.
awk -v expected="$expected" '
  BEGIN { n = split(expected, want, " "); current = "carol"; k = 0; bad = 0 }
  /configuration reloaded/ { k++; current = want[k]; next }
  /diversion call-id=/ { if (index($0, "target=sip:" current "@") == 0) { print "wrong target after reload " k ": " $0; bad++ } }
  END { exit bad > 0 }' "$WORK/cdivas.log" || fail "new calls follow the newest good rules"
pass "reload under load: $total calls, 0 failed, $reloaded reloads taken, $refused refused"
