#!/bin/bash
# CFNL: the three ways cdivas learns that bob is not logged in - bob's
# branch answered 404 or 480 (Reason in History-Info), P-Served-User
# regstate=unreg, a third-party REGISTER with Expires: 0 (bob not tried at
# all, no Reason) - and a new REGISTER that makes bob reachable again.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/services_lib.sh" || exit 99

services_start BOB_RULES='{ service = "cfnl"; target = "sip:carol@ims.example.net"; }'
hi_unreg='History-Info: <sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=404>;index=1.1;mp=1'

# check_carol UAS CALLER HI N: the Nth INVITE UAS got is carol's with HI,
# and CALLER got one 181 with HI.
check_carol() {
  invite=$(received_nth "$1" INVITE "$4")
  expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "Request-URI is the forwarding target"
  expect_line "$invite" "$3" "History-Info of a CFNL diversion"
  expect_line "$invite" "P-CDIV-Indication: <sip:cdivas.ims.example.net>;hi=1.1" "CDIV indication"
  expect_no_header "$invite" P-Served-User "P-Served-User of the diverting user is not passed on"
  expect_count "$2" "SIP/2.0 181" 1 "one 181 to the caller"
  ringing=$(received "$2" "SIP/2.0 181")
  expect_line "$ringing" "SIP/2.0 181 Call Is Being Forwarded" "181 to the caller"
  expect_line "$ringing" "$3" "181 carries the History-Info"
}

note "call 1: bob's branch is answered 404 Not Found"
sipp_bg uas1 "$T" -sf "$SCENARIOS/served_not_found.xml" -d 100 -m 1
sipp_call caller1 -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas1
expect_count uas1 INVITE 2 "bob's INVITE, then carol's"
expect_line "$(received_nth uas1 INVITE 1)" "INVITE sip:bob@ims.example.net SIP/2.0" "bob is tried first"
check_carol uas1 caller1 'History-Info: <sip:bob@ims.example.net?Reason=SIP%3Bcause%3D404%3Btext%3D%22Not%20Found%22>;index=1, <sip:carol@ims.example.net;cause=404>;index=1.1;mp=1' 2
expect_count caller1 "SIP/2.0 404" 0 "the 404 is not passed to the caller"
expect_diversion_log cfnl 404 carol

note "call 1b: bob's branch is answered 480 Temporarily Unavailable"
sipp_bg uas1b "$T" -sf "$SCENARIOS/served_temporarily_unavailable.xml" -d 100 -m 1
sipp_call caller1b -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas1b
expect_count uas1b INVITE 2 "bob's INVITE, then carol's"
check_carol uas1b caller1b 'History-Info: <sip:bob@ims.example.net?Reason=SIP%3Bcause%3D480%3Btext%3D%22Temporarily%20Unavailable%22>;index=1, <sip:carol@ims.example.net;cause=404>;index=1.1;mp=1' 2

note "call 2: the S-CSCF says bob is not registered (P-Served-User regstate=unreg)"
sipp_bg uas2 "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_call caller2 -sf "$SCENARIOS/caller_served.xml" -s bob -key domain ims.example.net \
  -key psu_params "sescase=term;regstate=unreg" -m 1
sipp_wait uas2
expect_count uas2 INVITE 1 "bob is not tried: only carol's INVITE"
check_carol uas2 caller2 "$hi_unreg" 1

note "call 3: a third-party REGISTER with Expires: 0 logged bob out"
sipp_call register3 -sf "$SCENARIOS/register.xml" -s bob -key domain ims.example.net -key expires 0 -m 1
expect_line "$(received register3 "SIP/2.0 200")" "Expires: 0" "the REGISTER is accepted as a deregistration"
sipp_bg uas3 "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_call caller3 -sf "$SCENARIOS/caller_served.xml" -s bob -key domain ims.example.net \
  -key psu_params "sescase=term" -m 1
sipp_wait uas3
expect_count uas3 INVITE 1 "bob is not tried: only carol's INVITE"
check_carol uas3 caller3 "$hi_unreg" 1

note "call 4: bob registers again (Expires: 600) and is called as usual"
sipp_call register4 -sf "$SCENARIOS/register.xml" -s bob -key domain ims.example.net -key expires 600 -m 1
expect_line "$(received register4 "SIP/2.0 200")" "Expires: 600" "the REGISTER is accepted"
sipp_bg uas4 "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_call caller4 -sf "$SCENARIOS/caller.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas4
expect_count uas4 INVITE 1 "bob's INVITE only"
expect_line "$(received uas4 INVITE)" "INVITE sip:bob@ims.example.net SIP/2.0" "bob is called"
expect_count caller4 "SIP/2.0 181" 0 "no diversion"

n=$(grep -c "diversion call-id=.* service=cfnl cause=404 target=sip:carol@ims.example.net" "$WORK/cdivas.log")
[ "$n" = 4 ] || fail "$n cfnl diversions logged, expected 4"

pass "CFNL: 404 and 480 answers, regstate=unreg, third-party deregistration, re-registration"
