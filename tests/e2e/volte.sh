#!/bin/bash
# VoLTE call flows through cdivas (TS 24.229 preconditions, RFC 3262 100rel,
# RFC 3311 UPDATE), with the scenarios labs run by hand: the callee's
# reliable 183 with SDP reaches the caller untouched (RSeq, Require), the
# caller's PRACK and UPDATE are relayed, and diversions work around them:
# CFU before anybody is tried, CFB after B's PRACKed 183, CFNR after B's
# PRACKed 183 then 180 with the no-reply timer running from the 180 (not
# the 183), and CD while B rings. With Require: 100rel in the INVITE the
# 181 still goes unreliably (no RSeq, nobody would take its PRACK).
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/services_lib.sh" || exit 99

CAROL='{ service = "cfu"; target = "sip:carol@ims.example.net"; }'
n=0
# volte_call CALLEE-SCENARIO REQUIRE [CALLER-SCENARIO]: one call, the
# callee side on $T.
volte_call() {
  n=$((n + 1))
  sipp_bg "uas$n" "$T" -sf "$SCENARIOS/$1" -d 200 -m 1
  sipp_call "caller$n" -sf "$SCENARIOS/${3:-volte_caller.xml}" -s bob -key domain ims.example.net \
    -key require "$2" -m 1
  sipp_wait "uas$n"
}
# early_dialog_intact N: the caller of call N got a reliable 183 with SDP,
# its PRACK and UPDATE reached the callee through cdivas and were answered.
early_dialog_intact() {
  p183=$(received "caller$1" "SIP/2.0 183")
  printf '%s\n' "$p183" | grep -q '^RSeq: 1$' || fail "call $1: the 183 lost its RSeq"
  printf '%s\n' "$p183" | grep -q '^Require: 100rel' || fail "call $1: the 183 lost Require: 100rel"
  printf '%s\n' "$p183" | grep -q '^a=curr:qos local sendrecv$' || fail "call $1: the 183 lost its SDP"
  prack=$(received "uas$1" PRACK)
  expect_line "$prack" "RAck: 1 1 INVITE" "call $1: PRACK relayed with its RAck"
  printf '%s\n' "$prack" | grep -q "^Via: SIP/2.0/UDP 127.0.0.1:$P" || fail "call $1: PRACK not relayed by cdivas"
  update=$(received "uas$1" UPDATE)
  printf '%s\n' "$update" | grep -q '^a=curr:qos local sendrecv$' || fail "call $1: UPDATE relayed without its SDP"
  expect_count "caller$1" "SIP/2.0 200" "${2:-4}" "call $1: every PRACK, UPDATE, the INVITE and BYE answered"
}

note "call 1: plain VoLTE call (bob has no rules): everything relayed"
services_start BOB_RULES=
sipp_bg uas1 "$T" -sf "$SCENARIOS/volte_callee.xml" -d 200 -m 1
sipp_call caller1 -sf "$SCENARIOS/volte_caller.xml" -s bob -key domain ims.example.net -key require precondition -m 1
sipp_wait uas1
n=1
expect_line "$(received uas1 INVITE)" "INVITE sip:bob@ims.example.net SIP/2.0" "call 1: INVITE unchanged"
expect_line "$(received uas1 INVITE)" "Require: precondition" "call 1: Require passed on"
early_dialog_intact 1
expect_count caller1 "SIP/2.0 181" 0 "call 1: no 181"

note "call 2: CFU, the INVITE requires 100rel: the 181 is unreliable and has a Contact"
services_start BOB_RULES="$CAROL"
volte_call volte_callee.xml "100rel, precondition"
expect_line "$(received uas2 INVITE)" "INVITE sip:carol@ims.example.net SIP/2.0" "call 2: diverted to carol"
r181=$(received caller2 "SIP/2.0 181")
expect_no_header "$r181" RSeq "call 2: the 181 is not reliable"
printf '%s\n' "$r181" | grep -qi '^Require:.*100rel' && fail "call 2: the 181 requires 100rel"
printf '%s\n' "$r181" | grep -q "^Contact: <sip:127.0.0.1:$P>" || fail "call 2: the 181 has cdivas's Contact"
printf '%s\n' "$r181" | grep -q '^To: .*;tag=' || fail "call 2: the 181 has a To tag"
early_dialog_intact 2

note "call 3: CFB after B's PRACKed 183"
services_start BOB_RULES='{ service = "cfb"; target = "sip:carol@ims.example.net"; }'
volte_call volte_served_busy.xml precondition volte_caller_diverted.xml
expect_count uas3 INVITE 2 "call 3: B's INVITE, then carol's"
expect_line "$(received_nth uas3 INVITE 2)" "INVITE sip:carol@ims.example.net SIP/2.0" "call 3: diverted to carol"
expect_line "$(received_nth uas3 INVITE 2)" \
  "History-Info: <sip:bob@ims.example.net?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%20Here%22>;index=1, <sip:carol@ims.example.net;cause=486>;index=1.1;mp=1" \
  "call 3: History-Info of CFB"
expect_count uas3 PRACK 2 "call 3: B's 183 and carol's 183 both PRACKed through cdivas"
expect_count caller3 "SIP/2.0 486" 0 "call 3: the 486 does not reach the caller"
expect_count caller3 "SIP/2.0 200" 6 "call 3: both early dialogs' PRACK and UPDATE, the INVITE and BYE answered"

note "call 4: CFNR after B's PRACKed 183, then 180 two seconds later: the timer runs from the 180"
services_start BOB_RULES='{ service = "cfnr"; target = "sip:carol@ims.example.net"; no_reply_timer = 5; }'
volte_call volte_served_no_answer.xml precondition volte_caller_diverted.xml
expect_line "$(received_nth uas4 INVITE 2)" "INVITE sip:carol@ims.example.net SIP/2.0" "call 4: diverted to carol"
expect_line "$(received_nth uas4 INVITE 2)" \
  "History-Info: <sip:bob@ims.example.net?Reason=SIP%3Bcause%3D408%3Btext%3D%22Request%20Timeout%22>;index=1, <sip:carol@ims.example.net;cause=408>;index=1.1;mp=1" \
  "call 4: History-Info of CFNR"
t183=$(msg_time uas4 sent "SIP/2.0 183" 1)
t180=$(msg_time uas4 sent "SIP/2.0 180" 1)
tcancel=$(msg_time uas4 received CANCEL 1)
[ -n "$t183" ] && [ -n "$t180" ] && [ -n "$tcancel" ] || fail "call 4: no 183, 180 or CANCEL in the trace"
from180=$(awk -v a="$tcancel" -v b="$t180" 'BEGIN { printf "%.2f", a - b }')
from183=$(awk -v a="$tcancel" -v b="$t183" 'BEGIN { printf "%.2f", a - b }')
note "call 4: CANCEL $from180 s after the 180, $from183 s after the 183"
awk -v d="$from180" 'BEGIN { exit !(d >= 4.8 && d <= 5.8) }' ||
  fail "call 4: CANCEL $from180 s after the 180 (no_reply_timer 5: the timer starts at the 180)"

note "call 5: CD while B rings (302 after a PRACKed 183 and a 180)"
services_start BOB_RULES='{ service = "cd"; }'
volte_call volte_served_deflect.xml precondition volte_caller_diverted.xml
expect_line "$(received_nth uas5 INVITE 2)" "INVITE sip:carol@ims.example.net SIP/2.0" "call 5: deflected to carol"
printf '%s\n' "$(received_nth uas5 INVITE 2)" | grep -q '^History-Info: .*<sip:carol@ims.example.net;cause=487>;index=1.1;mp=1' ||
  fail "call 5: History-Info of CD during alerting (cause 487)"

pass "VoLTE: 100rel, PRACK, UPDATE relayed; CFU, CFB after 183, CFNR from the 180, CD while ringing"
