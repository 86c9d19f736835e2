#!/bin/bash
# CFNRc: bob's terminal cannot be reached - the network answers 503 (cause
# 503, Reason 503), or bob's branch gets no answer at all until
# server.not_reachable_timer (2 s) runs out (cause 503, Reason 408, no
# CANCEL). Between cdivas and the S-CSCF SIPp over TCP, so that no UDP
# retransmission of bob's INVITE reaches the silent scenario.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/services_lib.sh" || exit 99

services_start TRANSPORT=tcp NOT_REACHABLE_TIMER=2 \
  BOB_RULES='{ service = "cfnrc"; target = "sip:carol@ims.example.net"; }'

# check_carol UAS CALLER HI: UAS got bob's INVITE, then carol's with HI;
# CALLER got the 181 with HI.
check_carol() {
  expect_count "$1" INVITE 2 "bob's INVITE, then carol's"
  expect_line "$(received_nth "$1" INVITE 1)" "INVITE sip:bob@ims.example.net SIP/2.0" "bob is tried first"
  invite=$(received_nth "$1" INVITE 2)
  expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "Request-URI is the forwarding target"
  expect_line "$invite" "$3" "History-Info of a CFNRc diversion"
  expect_line "$invite" "P-CDIV-Indication: <sip:cdivas.ims.example.net>;hi=1.1" "CDIV indication"
  expect_no_header "$invite" P-Served-User "P-Served-User of the diverting user is not passed on"
  expect_count "$2" "SIP/2.0 181" 1 "one 181 to the caller"
  ringing=$(received "$2" "SIP/2.0 181")
  expect_line "$ringing" "SIP/2.0 181 Call Is Being Forwarded" "181 to the caller"
  expect_line "$ringing" "$3" "181 carries the History-Info"
  expect_count "$2" "SIP/2.0 200" 2 "the caller is answered (INVITE and BYE)"
}

note "call 1: bob's branch is answered 503"
sipp_bg uas1 "$T" -t t1 -sf "$SCENARIOS/served_unavailable.xml" -d 100 -m 1
sipp_call caller1 -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas1
check_carol uas1 caller1 'History-Info: <sip:bob@ims.example.net?Reason=SIP%3Bcause%3D503%3Btext%3D%22Service%20Unavailable%22>;index=1, <sip:carol@ims.example.net;cause=503>;index=1.1;mp=1'
expect_count caller1 "SIP/2.0 503" 0 "the 503 is not passed to the caller"
expect_diversion_log cfnrc 503 carol

note "call 2: bob's branch gets no answer at all (not_reachable_timer = 2 s)"
sipp_bg uas2 "$T" -t t1 -sf "$SCENARIOS/served_silent.xml" -d 100 -m 1
t0=$(date +%s%N)
sipp_call caller2 -t t1 -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
t1=$(date +%s%N)
sipp_wait uas2
ms=$(( (t1 - t0) / 1000000 ))
[ "$ms" -ge 2000 ] || fail "the call was diverted before not_reachable_timer ran out (${ms} ms)"
[ "$ms" -lt 6000 ] || fail "the call took ${ms} ms: not_reachable_timer is 2 s"
check_carol uas2 caller2 'History-Info: <sip:bob@ims.example.net?Reason=SIP%3Bcause%3D408%3Btext%3D%22Request%20Timeout%22>;index=1, <sip:carol@ims.example.net;cause=503>;index=1.1;mp=1'
expect_count uas2 CANCEL 0 "no CANCEL for a branch that never answered"
n=$(grep -c "diversion call-id=.* service=cfnrc cause=503 target=sip:carol@ims.example.net" "$WORK/cdivas.log")
[ "$n" = 2 ] || fail "$n cfnrc diversions logged, expected 2"

pass "CFNRc: 503 answer, and no answer within not_reachable_timer"
