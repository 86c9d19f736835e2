#!/bin/bash
# cdivas knows itself by every name an S-CSCF may route to it with: its
# identity's host, the server.aliases, its listen addresses, with or
# without a user part (iFC server names such as sip:cdivas@as;lr). Such a
# Route entry is popped, not followed back to cdivas 70 times; and a
# request whose next hop would be cdivas itself is answered 482 at once.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99

alloc_ports 3; set -- $PORTS; P=$1 T=$2 A=$3
make_conf "$E2E/cfu.conf.in" "$WORK/cdivas.conf" HOST=127.0.0.1 PORT="$P" TARGET="$T" TRANSPORT=udp
sed -i 's|^  identity = .*|&\n  aliases = [ "sip:as.lab.example.net", "sip:127.0.0.2:'"$P"'" ];|' "$WORK/cdivas.conf"
"$CDIVAS" -t -f "$WORK/cdivas.conf" >/dev/null || fail "conf with server.aliases refused"
start_cdivas "$WORK/cdivas.conf"

n=0
# call WHAT ROUTE: bob's CFU applies once, the INVITE reaches carol
# without cdivas's entry, and the caller gets the 181 and carol's 200.
call() {
  n=$((n + 1))
  note "call $n: $1"
  rm -f "$WORK"/target.msg "$WORK"/caller.msg
  sipp_bg target "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
  sipp_run caller "$A" -sf "$SCENARIOS/caller_ims.xml" -s bob -key domain ims.example.net \
    -key route "$2" -key served "P-Served-User: <sip:bob@ims.example.net>;sescase=term" -m 1 "127.0.0.1:$P"
  sipp_wait target
  invite=$(received target INVITE)
  expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "$1: diverted to carol"
  expect_line "$invite" "History-Info: <sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1" \
    "$1: diverted once"
  expect_no_header "$invite" Route "$1: cdivas's own Route entry popped"
  [ "$(grep -c '^SIP/2.0 181' <(tr -d '\r' <"$WORK/caller.msg"))" = 1 ] || fail "$1: exactly one 181 to the caller"
  [ -n "$(received caller "SIP/2.0 200")" ] || fail "$1: carol's 200 reached the caller"
}
call "Route with a user part on the listen address" "<sip:cdivas@127.0.0.1:$P;transport=udp;lr>"
call "Route with a user part on the identity's host" "<sip:cdivas@cdivas.ims.example.net;lr>"
call "Route naming an alias, no port" "<sip:as.lab.example.net;lr>"
call "Route naming an alias with its port, and a user" "<sip:scscf-as@127.0.0.2:$P;lr>"
grep -q ' 483 \|Too Many Hops' "$WORK/cdivas.log" && fail "a request went round until 483"

note "a request whose next hop is cdivas itself gets 482 at once"
kill "$CDIVAS_PID"; wait "$CDIVAS_PID" 2>/dev/null || true
sed -i '/outbound_proxy/d' "$WORK/cdivas.conf"
start_cdivas "$WORK/cdivas.conf"
loop=$(printf 'INVITE sip:erin@127.0.0.1:%s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-l%s\nFrom: <sip:alice@ims.example.net>;tag=l1\nTo: <sip:erin@ims.example.net>\nCall-ID: loop-%s\nCSeq: 1 INVITE\nContact: <sip:alice@127.0.0.1:9>\nMax-Forwards: 70\nContent-Length: 0\n\n' "$P" "$RANDOM" "$RANDOM")
r=$(sip_raw "$P" "$loop")
[ "$r" = "SIP/2.0 482 Loop Detected" ] || fail "INVITE to a user at cdivas's own address gives 482, got '$r'"
msg=$(printf 'MESSAGE sip:erin@as.lab.example.net SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-m%s\nFrom: <sip:alice@ims.example.net>;tag=m1\nTo: <sip:erin@ims.example.net>\nCall-ID: loopmsg-%s\nCSeq: 1 MESSAGE\nMax-Forwards: 70\nContent-Length: 0\n\n' "$RANDOM" "$RANDOM")
r=$(sip_raw "$P" "$msg")
[ "$r" = "SIP/2.0 482 Loop Detected" ] || fail "MESSAGE relayed to an alias of cdivas gives 482, got '$r'"
[ "$(grep -c 'call-id=loop-' "$WORK/cdivas.log")" -le 2 ] || fail "the looping INVITE was handled more than once"
kill -0 "$CDIVAS_PID" || fail "cdivas still running"
pass "own Route entries by identity, alias and listen address, with or without user; no loop to itself"
