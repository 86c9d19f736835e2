#!/bin/bash
# CFNR (no-reply timer 5 s): the caller cancels while bob rings (no
# diversion); bob answers before the timer (no diversion); bob rings and
# never answers: cdivas CANCELs him when the timer runs out and the call
# goes to carol with the History-Info of a no-reply diversion.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/services_lib.sh" || exit 99

services_start BOB_RULES='{ service = "cfnr"; target = "sip:carol@ims.example.net"; no_reply_timer = 5; }'
start=$(date +%s)

note "call 1: the caller cancels while bob rings, before the no-reply timer runs out"
sipp_bg uas1 "$T" -sf "$SCENARIOS/target_ring_cancel.xml" -m 1
sipp_call caller1 -sf "$SCENARIOS/caller_cancel.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas1
expect_line "$(received uas1 CANCEL)" "CANCEL sip:bob@ims.example.net SIP/2.0" "bob's branch is cancelled"
expect_count uas1 INVITE 1 "only bob's INVITE"
[ -n "$(received caller1 "SIP/2.0 487")" ] || fail "the caller got the 487"
expect_count caller1 "SIP/2.0 181" 0 "no 181 for a call cancelled before the timer"

note "call 2: bob answers after 1 s, before the no-reply timer"
sipp_bg uas2 "$T" -sf "$SCENARIOS/target.xml" -d 1000 -m 1
sipp_call caller2 -sf "$SCENARIOS/caller.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas2
expect_count uas2 INVITE 1 "only bob's INVITE"
expect_line "$(received uas2 INVITE)" "INVITE sip:bob@ims.example.net SIP/2.0" "bob is called"
expect_count caller2 "SIP/2.0 181" 0 "no 181 for a call bob answered"

note "call 3: bob rings and does not answer: after 5 s the call goes to carol"
sipp_bg uas3 "$T" -sf "$SCENARIOS/served_no_answer.xml" -d 200 -m 1
t0=$(date +%s%N)
sipp_call caller3 -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
t1=$(date +%s%N)
sipp_wait uas3
ms=$(( (t1 - t0) / 1000000 ))
[ "$ms" -ge 5000 ] || fail "the call was diverted before the no-reply timer ran out (${ms} ms)"
[ "$ms" -lt 9000 ] || fail "the call took ${ms} ms: the no-reply timer is 5 s"

expect_count uas3 INVITE 2 "bob's INVITE, then carol's"
expect_line "$(received_nth uas3 INVITE 1)" "INVITE sip:bob@ims.example.net SIP/2.0" "bob is tried first"
expect_line "$(received uas3 CANCEL)" "CANCEL sip:bob@ims.example.net SIP/2.0" "bob's branch is cancelled at the timeout"
invite=$(received_nth uas3 INVITE 2)
expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "Request-URI is the forwarding target"
hi='History-Info: <sip:bob@ims.example.net?Reason=SIP%3Bcause%3D408%3Btext%3D%22Request%20Timeout%22>;index=1, <sip:carol@ims.example.net;cause=408>;index=1.1;mp=1'
expect_line "$invite" "$hi" "History-Info of a CFNR diversion"
expect_line "$invite" "P-CDIV-Indication: <sip:cdivas.ims.example.net>;hi=1.1" "CDIV indication"
expect_no_header "$invite" P-Served-User "P-Served-User of the diverting user is not passed on"
expect_count caller3 "SIP/2.0 180" 2 "the caller heard bob ring, then carol"
expect_count caller3 "SIP/2.0 181" 1 "one 181 to the caller"
ringing=$(received caller3 "SIP/2.0 181")
expect_line "$ringing" "SIP/2.0 181 Call Is Being Forwarded" "181 to the caller"
expect_line "$ringing" "$hi" "181 carries the History-Info"
expect_count caller3 "SIP/2.0 487" 0 "bob's 487 is not passed to the caller"
expect_diversion_log cfnr 408 carol

# The no-reply timers of calls 1 and 2 would have run out by now.
[ $(( $(date +%s) - start )) -ge 6 ] || sleep 1
n=$(grep -c "diversion call-id=" "$WORK/cdivas.log")
[ "$n" = 1 ] || { grep "diversion call-id=" "$WORK/cdivas.log"; fail "$n diversions logged, expected only that of call 3"; }

pass "CFNR: caller CANCEL before the timer, answer before the timer, no reply"
