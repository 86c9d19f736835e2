#!/bin/bash
# An independent parser on what cdivas sends: Wireshark's SIP dissector
# (tshark) reads a loopback capture of a set of calls - CFU over UDP and
# TCP, CFB, CFNR, CD to two Contacts, CFNL, a diversion refused (loop),
# the 181 with hidden entries, a VoLTE call requiring 100rel, and the
# requests cdivas answers itself (sips without TLS, Proxy-Require) - and
# the test fails on any malformed packet or expert warning or error in a
# SIP message that left cdivas's port. It also counts what tshark decoded,
# so that an empty capture cannot pass.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/services_lib.sh" || exit 99

TSHARK=${TSHARK:-$(command -v tshark)}
[ -n "$TSHARK" ] || { echo "SKIP: tshark (Debian package tshark) is not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: capturing on lo needs root"; exit 77; }

carol='target = "sip:carol@ims.example.net";'
services_start BOB_RULES="{ service = \"cfu\"; $carol }"
# More users, each with one service: appended as a second subscribers list
# is not allowed, so the conf is rebuilt with them.
sed -i 's|^subscribers = (|subscribers = (\
  { user = "sip:fred@ims.example.net"; rules = ( { service = "cfb"; target = "sip:carol@ims.example.net"; } ); },\
  { user = "sip:gina@ims.example.net"; rules = ( { service = "cfnr"; target = "sip:carol@ims.example.net"; no_reply_timer = 5; } ); },\
  { user = "sip:hugo@ims.example.net"; rules = ( { service = "cd"; } ); },\
  { user = "sip:ivan@ims.example.net"; rules = ( { service = "cfnl"; target = "sip:carol@ims.example.net"; } ); },\
  { user = "sip:lara@ims.example.net"; rules = ( { service = "cfu"; target = "sip:lara@ims.example.net"; } ); },\
  { user = "sip:pia@ims.example.net"; rules = ( { service = "cfu"; target = "sip:carol@ims.example.net"; reveal_identity_to_caller = false; reveal_served_user_identity_to_caller = false; } ); },|' \
  "$WORK/cdivas.conf"
kill "$CDIVAS_PID"; wait "$CDIVAS_PID" 2>/dev/null; CDIVAS_PID=""
mv "$WORK/cdivas.log" "$WORK/cdivas.first.log"
start_cdivas "$WORK/cdivas.conf"

"$TSHARK" -i lo -f "port $P" -w "$WORK/cdivas.pcapng" >"$WORK/tshark.out" 2>&1 &
CAPTURE=$!
BG_PIDS="$BG_PIDS $CAPTURE"
for _ in $(seq 1 50); do grep -q "Capturing on" "$WORK/tshark.out" && break; sleep 0.1; done
grep -q "Capturing on" "$WORK/tshark.out" || { cat "$WORK/tshark.out"; fail "tshark did not start capturing"; }

n=0
call() {  # call USER CALLER-SCENARIO SERVED-SCENARIO [SIPP ARGS FOR BOTH...]
  n=$((n + 1))
  user=$1 caller=$2 served=$3; shift 3
  sipp_bg "uas$n" "$T" -sf "$SCENARIOS/$served" -d 100 -m 1 "$@"
  sipp_call "caller$n" -sf "$SCENARIOS/$caller" -s "$user" -key domain ims.example.net -m 1 "$@"
  sipp_wait "uas$n"
}
note "CFU (UDP), CFB, CFNR, CD to two Contacts, CFNL, hidden 181 entries"
call bob caller_diverted.xml target.xml
call fred caller_diverted.xml served_busy.xml
call gina caller_diverted.xml served_no_answer.xml
call hugo caller_diverted.xml served_deflect_contacts.xml
n=$((n + 1))
sipp_bg "uas$n" "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_call "caller$n" -sf "$SCENARIOS/caller_served.xml" -s ivan -key domain ims.example.net \
  -key psu_params "sescase=term;regstate=unreg" -m 1
sipp_wait "uas$n"
call pia caller_diverted.xml target.xml
note "a refused diversion (loop): 480 from cdivas"
n=$((n + 1))
sipp_call "caller$n" -sf "$SCENARIOS/caller_refused.xml" -s lara -key domain ims.example.net -m 1
note "a VoLTE call requiring 100rel, diverted (CFU)"
n=$((n + 1))
sipp_bg "uas$n" "$T" -sf "$SCENARIOS/volte_callee.xml" -d 100 -m 1
sipp_call "caller$n" -sf "$SCENARIOS/volte_caller.xml" -s bob -key domain ims.example.net \
  -key require "100rel, precondition" -m 1
sipp_wait "uas$n"
note "requests cdivas answers itself: sips without TLS (416), Proxy-Require (420)"
r=$(sip_raw "$P" "$(invite_text bob "$P" $'Max-Forwards: 70\n' | sed '1s/^INVITE sip:/INVITE sips:/')")
[ "${r:0:11}" = "SIP/2.0 416" ] || fail "sips request: got '$r'"
r=$(sip_raw "$P" "$(invite_text bob "$P" $'Max-Forwards: 70\nProxy-Require: sec-agree\n')")
[ "${r:0:11}" = "SIP/2.0 420" ] || fail "Proxy-Require: got '$r'"

sleep 0.5
kill -INT "$CAPTURE"; wait "$CAPTURE" 2>/dev/null
mv "$WORK/cdivas.pcapng" "$WORK/udp.pcapng"
UDP_PORT_OF_FIRST=$P

note "CFU over TCP (cdivas and the S-CSCF side)"
services_start BOB_RULES="{ service = \"cfu\"; $carol }" TRANSPORT=tcp
"$TSHARK" -i lo -f "port $P or port $T" -w "$WORK/cdivas.pcapng" >"$WORK/tshark.out" 2>&1 &
CAPTURE=$!
BG_PIDS="$BG_PIDS $CAPTURE"
for _ in $(seq 1 50); do grep -q "Capturing on" "$WORK/tshark.out" && break; sleep 0.1; done
TCP_TARGET=$T
n=$((n + 1))
sipp_bg "uas$n" "$T" -t t1 -sf "$SCENARIOS/target.xml" -d 100 -m 1
alloc_ports 1
sipp_run "caller$n" "$PORTS" -t t1 -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1 "127.0.0.1:$P"
sipp_wait "uas$n"
sleep 0.5
kill -INT "$CAPTURE"; wait "$CAPTURE" 2>/dev/null
mv "$WORK/cdivas.pcapng" "$WORK/tcp.pcapng"

# decoded CAPTURE PORT TARGET FILTER: what tshark reads in the SIP cdivas
# sent: from its port, and over the TCP connections it opened to TARGET.
decoded() {
  "$TSHARK" -r "$WORK/$1" -d "udp.port==$2,sip" -d "tcp.port==$2,sip" -d "tcp.port==$3,sip" \
    -Y "(udp.srcport == $2 || tcp.srcport == $2 || tcp.dstport == $3) && ($4)" \
    -T fields -e frame.number -e sip.Request-Line -e sip.Status-Line -e _ws.expert.message 2>/dev/null
}
problems=""
for cap in "udp.pcapng $UDP_PORT_OF_FIRST 0" "tcp.pcapng $P $TCP_TARGET"; do
  set -- $cap
  bad=$(decoded "$1" "$2" "$3" "_ws.malformed || _ws.expert.severity >= 0x00600000")
  [ -z "$bad" ] || problems="$problems$1:\n$bad\n"
done
[ -z "$problems" ] || { printf '%b' "$problems"; fail "tshark found malformed SIP or expert warnings in what cdivas sent"; }

# The check can fail: a SIP message with a header lacking its colon, as if
# sent from cdivas's port, must be reported.
printf 'SIP/2.0 181 Call Is Being Forwarded\r\nHistoryInfo\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-x\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n' |
  od -Ax -tx1 -v >"$WORK/broken.hex"
text2pcap -q -u "$UDP_PORT_OF_FIRST,9" "$WORK/broken.hex" "$WORK/broken.pcapng" >/dev/null 2>&1 ||
  fail "text2pcap (Debian package wireshark-common) could not build the broken capture"
[ -n "$(decoded broken.pcapng "$UDP_PORT_OF_FIRST" 0 "_ws.malformed || _ws.expert.severity >= 0x00600000")" ] ||
  fail "the check does not see a header without a colon"

count() { decoded "$@" | grep -c .; }
diverted=$(count udp.pcapng "$UDP_PORT_OF_FIRST" 0 'sip.Method == "INVITE" && sip.History-Info')
provisional=$(count udp.pcapng "$UDP_PORT_OF_FIRST" 0 'sip.Status-Code == 181')
finals=$(count udp.pcapng "$UDP_PORT_OF_FIRST" 0 'sip.Status-Code >= 200')
refused=$(count udp.pcapng "$UDP_PORT_OF_FIRST" 0 'sip.Status-Code == 480 || sip.Status-Code == 416 || sip.Status-Code == 420')
tcp_diverted=$(count tcp.pcapng "$P" "$TCP_TARGET" 'sip.Method == "INVITE" && sip.History-Info')
note "tshark decoded, from cdivas: $diverted diverted INVITEs, $provisional 181s, $finals final responses ($refused of cdivas's own refusals) over UDP; $tcp_diverted diverted INVITEs over TCP"
[ "$diverted" -ge 8 ] || fail "tshark decoded only $diverted diverted INVITEs"
[ "$provisional" -ge 7 ] || fail "tshark decoded only $provisional 181s"
[ "$refused" -ge 3 ] || fail "tshark decoded only $refused of cdivas's own refusals"
[ "$finals" -ge 15 ] || fail "tshark decoded only $finals final responses"
[ "$tcp_diverted" -ge 1 ] || fail "tshark decoded no diverted INVITE over TCP"
pass "tshark: nothing malformed, no expert warning in $diverted diverted INVITEs, $provisional 181s, $finals final responses"
