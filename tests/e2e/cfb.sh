#!/bin/bash
# CFB: bob answers 486, the call goes to carol with the History-Info of a
# busy diversion; and bob with max_calls reached (network-determined user
# busy) is diverted without being tried.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/services_lib.sh" || exit 99

services_start BOB_RULES='{ service = "cfb"; target = "sip:carol@ims.example.net"; }'

note "call 1: bob answers 486 Busy Here, the call goes to carol"
sipp_bg uas1 "$T" -sf "$SCENARIOS/served_busy.xml" -d 200 -m 1
sipp_call caller1 -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas1

expect_count uas1 INVITE 2 "bob's INVITE, then carol's"
first=$(received_nth uas1 INVITE 1)
expect_line "$first" "INVITE sip:bob@ims.example.net SIP/2.0" "bob is tried first, Request-URI unchanged"
expect_no_header "$first" History-Info "bob's branch carries no History-Info yet"
invite=$(received_nth uas1 INVITE 2)
expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "Request-URI is the forwarding target"
hi='History-Info: <sip:bob@ims.example.net?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%20Here%22>;index=1, <sip:carol@ims.example.net;cause=486>;index=1.1;mp=1'
expect_line "$invite" "$hi" "History-Info of a CFB diversion"
expect_line "$invite" "P-CDIV-Indication: <sip:cdivas.ims.example.net>;hi=1.1" "CDIV indication"
expect_no_header "$invite" P-Served-User "P-Served-User of the diverting user is not passed on"
expect_count caller1 "SIP/2.0 181" 1 "one 181 to the caller"
ringing=$(received caller1 "SIP/2.0 181")
expect_line "$ringing" "SIP/2.0 181 Call Is Being Forwarded" "181 to the caller"
expect_line "$ringing" "$hi" "181 carries the History-Info"
expect_count caller1 "SIP/2.0 486" 0 "the 486 is not passed to the caller"
expect_count caller1 "SIP/2.0 200" 2 "the caller is answered (INVITE and BYE)"
expect_diversion_log cfb 486 carol

note "call 2: bob (max_calls = 1) already has a call: the next is diverted without trying him"
services_start BOB_SETTINGS='max_calls = 1;' \
  BOB_RULES='{ service = "cfb"; target = "sip:carol@ims.example.net"; }'
sipp_bg uas2 "$T" -sf "$SCENARIOS/target.xml" -d 1500 -m 2
sipp_bg caller2a "$A" -sf "$SCENARIOS/caller.xml" -s bob -key domain ims.example.net -m 1 "127.0.0.1:$P"
sipp_call caller2b -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
sipp_wait caller2a
sipp_wait uas2
expect_count uas2 INVITE 2 "bob's INVITE for the first call, carol's for the second"
expect_line "$(received_nth uas2 INVITE 1)" "INVITE sip:bob@ims.example.net SIP/2.0" "the first call reaches bob"
invite=$(received_nth uas2 INVITE 2)
expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "the second call goes to carol"
hi='History-Info: <sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=486>;index=1.1;mp=1'
expect_line "$invite" "$hi" "History-Info of a network-determined busy diversion (bob not tried: no Reason)"
expect_line "$invite" "P-CDIV-Indication: <sip:cdivas.ims.example.net>;hi=1.1" "CDIV indication"
expect_line "$(received caller2b "SIP/2.0 181")" "$hi" "181 carries the History-Info"
expect_count caller2a "SIP/2.0 181" 0 "the first call is not diverted"

pass "CFB: user-determined busy (486) and network-determined busy (max_calls)"
