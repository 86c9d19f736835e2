#!/bin/bash
# Two diversions in one call (the protocol brief's example): bob forwards
# unconditionally to carol without revealing himself to her, carol is busy
# and forwards to dave. Each hop extends the History-Info; the caller gets
# a 181 per diversion.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/services_lib.sh" || exit 99

services_start \
  BOB_RULES='{ service = "cfu"; target = "sip:carol@ims.example.net"; reveal_identity_to_target = false; }' \
  CAROL_RULES='{ service = "cfb"; target = "sip:dave@ims.example.net"; }'

sipp_bg uas "$T" -sf "$SCENARIOS/served_busy.xml" -d 200 -m 1
# caller.xml takes two 181s (caller_diverted.xml requires exactly one).
sipp_call caller -sf "$SCENARIOS/caller.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas

expect_count uas INVITE 2 "carol's INVITE (bob is not tried: cfu), then dave's"
invite=$(received_nth uas INVITE 1)
expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "first hop: Request-URI carol"
hi1='History-Info: <sip:bob@ims.example.net?Privacy=history>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1'
expect_line "$invite" "$hi1" "first hop: History-Info, bob's entry private"
expect_line "$invite" "P-CDIV-Indication: <sip:cdivas.ims.example.net>;hi=1.1" "first hop: CDIV indication"
expect_no_header "$invite" P-Served-User "first hop: no P-Served-User"

invite=$(received_nth uas INVITE 2)
expect_line "$invite" "INVITE sip:dave@ims.example.net SIP/2.0" "second hop: Request-URI dave"
hi2='History-Info: <sip:bob@ims.example.net?Privacy=history>;index=1, <sip:carol@ims.example.net;cause=302?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%20Here%22>;index=1.1;mp=1, <sip:dave@ims.example.net;cause=486>;index=1.1.1;mp=1.1'
expect_line "$invite" "$hi2" "second hop: History-Info of both diversions"
expect_line "$invite" "P-CDIV-Indication: <sip:cdivas.ims.example.net>;hi=1.1.1" "second hop: CDIV indication names dave's entry"
expect_no_header "$invite" P-Served-User "second hop: no P-Served-User"

expect_count caller "SIP/2.0 181" 2 "a 181 per diversion"
# Each 181 carries the chain as it was sent on; bob's entry stays marked
# private there too (it was marked so when the entry was written).
ringing=$(received_nth caller "SIP/2.0 181" 1)
expect_line "$ringing" "SIP/2.0 181 Call Is Being Forwarded" "first 181"
expect_line "$ringing" "$hi1" "first 181: History-Info of the first diversion"
ringing=$(received_nth caller "SIP/2.0 181" 2)
expect_line "$ringing" "SIP/2.0 181 Call Is Being Forwarded" "second 181"
expect_line "$ringing" "$hi2" "second 181: History-Info of both diversions"
expect_count caller "SIP/2.0 486" 0 "carol's 486 is not passed to the caller"
expect_count caller "SIP/2.0 200" 2 "the caller is answered (INVITE and BYE)"
grep -q "diversion call-id=.* served=sip:bob@ims.example.net service=cfu cause=302 target=sip:carol@ims.example.net" "$WORK/cdivas.log" ||
  fail "first diversion logged"
grep -q "diversion call-id=.* served=sip:carol@ims.example.net service=cfb cause=486 target=sip:dave@ims.example.net" "$WORK/cdivas.log" ||
  fail "second diversion logged, carol as the served user"

pass "two diversions in one call: History-Info chain, CDIV indication, two 181s"
