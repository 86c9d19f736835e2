#!/bin/bash
# A real SIP server in front: Kamailio (tests/e2e/kamailio-scscf.cfg.in)
# plays the S-CSCF. It Record-Routes, hands the INVITE to cdivas with the
# Route set Kamailio's ims_isc writes (cdivas, then an iscmark entry; no
# P-Served-User) or, in a second call, with an odi entry and P-Served-User,
# takes the diverted INVITE back and routes it to the target; ACK and BYE
# follow Kamailio's Record-Route. A phone's REGISTER and its Expires 0 reach
# cdivas as Kamailio's third-party REGISTER (message/sip body) and drive
# CFNL.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/services_lib.sh" || exit 99

KAMAILIO=${KAMAILIO:-$(command -v kamailio || echo /usr/sbin/kamailio)}
[ -x "$KAMAILIO" ] || { echo "SKIP: kamailio (Debian package kamailio) is not installed"; exit 77; }

alloc_ports 4; set -- $PORTS; P=$1 K=$2 T=$3 A=$4
cat >"$WORK/cdivas.conf" <<CONF
server = {
  listen = [ "sip:127.0.0.1:$P" ];
  identity = "sip:cdivas.ims.example.net";
  outbound_proxy = "sip:127.0.0.1:$K;lr";
  log_level = "debug";
};
subscribers = (
  { user = "sip:bob@ims.example.net";
    rules = ( { service = "cfu"; target = "sip:carol@ims.example.net"; } ); },
  { user = "sip:dave@ims.example.net";
    rules = ( { service = "cfnl"; target = "sip:carol@ims.example.net"; } ); }
);
CONF
start_cdivas "$WORK/cdivas.conf"
sed -e "s/@K@/$K/g" -e "s/@P@/$P/g" -e "s/@T@/$T/g" "$E2E/kamailio-scscf.cfg.in" >"$WORK/kamailio.cfg"
"$KAMAILIO" -DD -E -f "$WORK/kamailio.cfg" -P "$WORK/kamailio.pid" -m 64 -M 8 >"$WORK/kamailio.log" 2>&1 &
BG_PIDS="$BG_PIDS $!"
for _ in $(seq 1 50); do
  grep -q "INFO: <core> \[main.c" "$WORK/kamailio.log" 2>/dev/null && break
  (exec 3<>"/dev/tcp/127.0.0.1/$K") 2>/dev/null && break
  sleep 0.1
done
kill -0 "$!" 2>/dev/null || { cat "$WORK/kamailio.log"; fail "kamailio did not start"; }

n=0
# through_kamailio USER SERVED-LINE: a call from A to USER via Kamailio.
through_kamailio() {
  n=$((n + 1))
  sipp_bg "uas$n" "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
  sipp_run "caller$n" "$A" -sf "$SCENARIOS/caller_ims.xml" -s "$1" -key domain ims.example.net \
    -key route "<sip:127.0.0.1:$K;lr>" -key served "$2" -m 1 "127.0.0.1:$K"
  sipp_wait "uas$n"
}
# diverted_through_kamailio N: call N's INVITE came back through Kamailio,
# diverted, and the dialog then followed Kamailio's Record-Route.
diverted_through_kamailio() {
  invite=$(received "uas$1" INVITE)
  expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "call $1: diverted INVITE routed on by Kamailio"
  vias=$(printf '%s\n' "$invite" | grep '^Via:')
  printf '%s\n' "$vias" | sed -n 1p | grep -q "^Via: SIP/2.0/UDP 127.0.0.1:$K;" || fail "call $1: Kamailio's Via on top"
  printf '%s\n' "$vias" | sed -n 2p | grep -q "^Via: SIP/2.0/UDP 127.0.0.1:$P;" || fail "call $1: then cdivas's Via"
  printf '%s\n' "$vias" | sed -n 3p | grep -q "^Via: SIP/2.0/UDP 127.0.0.1:$K;" || fail "call $1: then Kamailio's first pass"
  printf '%s\n' "$invite" | grep -q "^Record-Route: <sip:127.0.0.1:$K;lr" || fail "call $1: Kamailio's Record-Route kept"
  expect_no_header "$invite" Route "call $1: the Route set consumed (cdivas popped its entry, Kamailio its mark)"
  expect_line "$invite" "P-CDIV-Indication: <sip:cdivas.ims.example.net>;hi=1.1" "call $1: CDIV indication"
  [ -n "$(received "caller$1" "SIP/2.0 181")" ] || fail "call $1: the 181 reached the caller through Kamailio"
  ack=$(received "uas$1" ACK)
  printf '%s\n' "$ack" | grep '^Via:' | grep -q "127.0.0.1:$P" && fail "call $1: the ACK went through cdivas"
  printf '%s\n' "$ack" | grep -q "^Via: SIP/2.0/UDP 127.0.0.1:$K;" || fail "call $1: the ACK came through Kamailio"
  [ -n "$(received "uas$1" BYE)" ] || fail "call $1: the BYE reached the target"
}

note "call 1: Kamailio ims_isc shape (iscmark Route, no P-Served-User), bob has CFU"
through_kamailio bob "X-Served: none"
diverted_through_kamailio 1
expect_line "$(received uas1 INVITE)" "History-Info: <sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1" \
  "call 1: History-Info of the CFU"
grep -q "back from the AS: INVITE sip:carol@ims.example.net" "$WORK/kamailio.log" || fail "call 1: Kamailio saw the request come back"

note "call 2: an S-CSCF with an odi Route and P-Served-User"
through_kamailio bob "X-Shape: odi"
diverted_through_kamailio 2
expect_no_header "$(received uas2 INVITE)" P-Served-User "call 2: bob's P-Served-User not passed on"

note "call 3: dave deregisters (Expires 0 through Kamailio's third-party REGISTER): CFNL at once"
sipp_run reg0 "$A" -sf "$SCENARIOS/ue_register.xml" -s dave -key domain ims.example.net -key expires 0 -m 1 "127.0.0.1:$K"
for _ in $(seq 1 20); do grep -q "third-party REGISTER: sip:dave@ims.example.net logged out" "$WORK/cdivas.log" && break; sleep 0.1; done
grep -q "third-party REGISTER: sip:dave@ims.example.net logged out" "$WORK/cdivas.log" || fail "cdivas took Kamailio's third-party REGISTER"
through_kamailio dave "X-Served: none"
invite=$(received uas3 INVITE)
expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "call 3: dave logged out, diverted"
printf '%s\n' "$invite" | grep -q '^History-Info: .*<sip:carol@ims.example.net;cause=404>;index=1.1;mp=1' ||
  fail "call 3: History-Info of CFNL (cause 404)"

note "call 4: dave registers again (Expires 600): the call reaches dave"
sipp_run reg1 "$A" -sf "$SCENARIOS/ue_register.xml" -s dave -key domain ims.example.net -key expires 600 -m 1 "127.0.0.1:$K"
for _ in $(seq 1 20); do grep -q "third-party REGISTER: sip:dave@ims.example.net logged in" "$WORK/cdivas.log" && break; sleep 0.1; done
through_kamailio dave "X-Served: none"
expect_line "$(received uas4 INVITE)" "INVITE sip:dave@ims.example.net SIP/2.0" "call 4: dave registered, not diverted"

pass "Kamailio as S-CSCF: ims_isc and odi Route sets, Record-Route, ACK/BYE, third-party REGISTER and CFNL"
