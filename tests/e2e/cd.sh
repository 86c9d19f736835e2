#!/bin/bash
# CD: bob's terminal deflects with 302 and the Contact of that answer,
# at once (cause 480) and while ringing (cause 487); the call goes to dave.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/services_lib.sh" || exit 99

services_start BOB_RULES='{ service = "cd"; }'

# check_dave UAS CALLER CAUSE: UAS got bob's INVITE, then dave's with the
# History-Info of a deflection with CAUSE; CALLER got the 181 with it.
check_dave() {
  expect_count "$1" INVITE 2 "bob's INVITE, then dave's"
  expect_line "$(received_nth "$1" INVITE 1)" "INVITE sip:bob@ims.example.net SIP/2.0" "bob is tried first"
  invite=$(received_nth "$1" INVITE 2)
  expect_line "$invite" "INVITE sip:dave@ims.example.net SIP/2.0" "Request-URI is the 302's Contact"
  hi="History-Info: <sip:bob@ims.example.net?Reason=SIP%3Bcause%3D302%3Btext%3D%22Moved%20Temporarily%22>;index=1, <sip:dave@ims.example.net;cause=$3>;index=1.1;mp=1"
  expect_line "$invite" "$hi" "History-Info of a deflection (cause $3)"
  expect_line "$invite" "P-CDIV-Indication: <sip:cdivas.ims.example.net>;hi=1.1" "CDIV indication"
  expect_no_header "$invite" P-Served-User "P-Served-User of the diverting user is not passed on"
  expect_count "$2" "SIP/2.0 181" 1 "one 181 to the caller"
  ringing=$(received "$2" "SIP/2.0 181")
  expect_line "$ringing" "SIP/2.0 181 Call Is Being Forwarded" "181 to the caller"
  expect_line "$ringing" "$hi" "181 carries the History-Info"
  expect_count "$2" "SIP/2.0 302" 0 "the 302 is not passed to the caller"
  expect_count "$2" "SIP/2.0 200" 2 "the caller is answered (INVITE and BYE)"
}

note "call 1: bob deflects at once (302 before any 180)"
sipp_bg uas1 "$T" -sf "$SCENARIOS/served_deflect.xml" -key deflect_to dave@ims.example.net -d 100 -m 1
sipp_call caller1 -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas1
check_dave uas1 caller1 480
expect_count caller1 "SIP/2.0 180" 1 "the caller hears dave ring only"
expect_diversion_log cd 480 dave

note "call 2: bob rings, then deflects (180, then 302)"
sipp_bg uas2 "$T" -sf "$SCENARIOS/served_deflect_alerting.xml" -key deflect_to dave@ims.example.net -d 100 -m 1
sipp_call caller2 -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas2
check_dave uas2 caller2 487
expect_count caller2 "SIP/2.0 180" 2 "the caller hears bob ring, then dave"
expect_diversion_log cd 487 dave

note "call 3: bob deflects to two Contacts: carol (q=0.9, with ?Priority=urgent) is busy, then dave (q=0.5)"
sipp_bg uas3 "$T" -sf "$SCENARIOS/served_deflect_contacts.xml" -d 100 -m 1
sipp_call caller3 -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas3
expect_count uas3 INVITE 3 "bob's INVITE, then carol's, then dave's"
expect_line "$(received_nth uas3 INVITE 2)" "INVITE sip:carol@ims.example.net SIP/2.0" \
  "the Contact with the higher q first, without its URI header"
invite=$(received_nth uas3 INVITE 3)
expect_line "$invite" "INVITE sip:dave@ims.example.net SIP/2.0" "the next Contact after carol's 486"
expect_line "$invite" "History-Info: <sip:bob@ims.example.net?Reason=SIP%3Bcause%3D302%3Btext%3D%22Moved%20Temporarily%22>;index=1, <sip:carol@ims.example.net;cause=480?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%20Here%22>;index=1.1;mp=1, <sip:dave@ims.example.net;cause=480>;index=1.2;mp=1" \
  "History-Info: carol's entry says why, dave's is its sibling under bob"
expect_line "$invite" "P-CDIV-Indication: <sip:cdivas.ims.example.net>;hi=1.2" "CDIV indication names dave's entry"
expect_count caller3 "SIP/2.0 486" 0 "carol's 486 is not passed to the caller"
expect_count caller3 "SIP/2.0 181" 1 "one 181 (the deflection)"
expect_count caller3 "SIP/2.0 200" 2 "dave answers"

pass "CD: immediate deflection, deflection while alerting, Contacts by q"
