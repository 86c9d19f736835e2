#!/bin/bash
# Diversion limits: with max_diversions = 1 a second diversion in the same
# call is refused ("480 Diversion Limit Reached"), a diversion back to a
# user already in the chain is refused ("480 Diversion Loop Detected"), and
# a target in limit_exempt is reached whatever the count.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/services_lib.sh" || exit 99

BOB_CFU='{ service = "cfu"; target = "sip:carol@ims.example.net"; }'
CAROL_CFU='{ service = "cfu"; target = "sip:dave@ims.example.net"; }'
hi1='History-Info: <sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1'

# refused NAME REASON: the caller NAME got one 181 (the first diversion)
# and then "480 REASON"; the S-CSCF SIPp uas_NAME got no INVITE at all
# (carol's cfu applies inside cdivas).
refused() {
  sipp_bg "uas_$1" "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
  sipp_call "$1" -sf "$SCENARIOS/caller_refused.xml" -s bob -key domain ims.example.net -m 1
  sleep 0.5
  sipp_stop "uas_$1"
  expect_count "uas_$1" INVITE 0 "no INVITE leaves cdivas"
  expect_count "$1" "SIP/2.0 181" 1 "one 181: the first diversion took place"
  ringing=$(received "$1" "SIP/2.0 181")
  expect_line "$ringing" "$hi1" "the 181 shows the first diversion"
  expect_line "$(received "$1" "SIP/2.0 480")" "SIP/2.0 480 $2" "the caller is refused: $2"
  expect_count "$1" "SIP/2.0 200" 0 "the call is not answered"
}

note "call 1: bob -> carol -> dave with max_diversions = 1: refused"
services_start MAX_DIVERSIONS=1 BOB_RULES="$BOB_CFU" CAROL_RULES="$CAROL_CFU"
refused caller1 "Diversion Limit Reached"
grep -q "no diversion of sip:carol@ims.example.net to sip:dave@ims.example.net: " "$WORK/cdivas.log" ||
  fail "the refused diversion is logged"

note "call 2: bob -> carol -> bob: refused as a loop"
services_start BOB_RULES="$BOB_CFU" CAROL_RULES='{ service = "cfu"; target = "sip:bob@ims.example.net"; }'
refused caller2 "Diversion Loop Detected"

note "call 3: bob -> carol -> dave with max_diversions = 1 and dave exempt: dave is reached"
services_start MAX_DIVERSIONS=1 LIMIT_EXEMPT='"sip:dave@ims.example.net"' \
  BOB_RULES="$BOB_CFU" CAROL_RULES="$CAROL_CFU"
sipp_bg uas3 "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_call caller3 -sf "$SCENARIOS/caller.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas3
expect_count uas3 INVITE 1 "only dave's INVITE leaves cdivas"
invite=$(received uas3 INVITE)
expect_line "$invite" "INVITE sip:dave@ims.example.net SIP/2.0" "Request-URI dave"
hi2='History-Info: <sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1, <sip:dave@ims.example.net;cause=302>;index=1.1.1;mp=1.1'
expect_line "$invite" "$hi2" "History-Info of both diversions"
expect_line "$invite" "P-CDIV-Indication: <sip:cdivas.ims.example.net>;hi=1.1.1" "CDIV indication"
expect_count caller3 "SIP/2.0 181" 2 "a 181 per diversion"
expect_line "$(received_nth caller3 "SIP/2.0 181" 1)" "$hi1" "first 181"
expect_line "$(received_nth caller3 "SIP/2.0 181" 2)" "$hi2" "second 181"
expect_count caller3 "SIP/2.0 200" 2 "the caller is answered (INVITE and BYE)"

pass "diversion limit, loop, limit_exempt"
