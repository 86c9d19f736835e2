#!/bin/bash
# The Diversion header (RFC 5806, issue 13 item 5): off by default; with
# diversion_header = true (server, or a subscriber overriding it) every
# diversion adds one on top of the others, the reason mapped from the
# cause as RFC 6044 has it (CFU, CFB and CFNR checked exactly, in the SIPp
# scenarios by pattern), privacy=full when the diverting user's entry is
# private; a received Diversion is passed on below ours, and without
# History-Info its counters count toward max_diversions.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/services_lib.sh" || exit 99

CFU_CAROL='{ service = "cfu"; target = "sip:carol@ims.example.net"; }'
ON='diversion_header = true;'
DIV_CFU='Diversion: <sip:bob@ims.example.net>;reason=unconditional;counter=1'

# diversion_lines MSG: the Diversion header lines of MSG, in order.
diversion_lines() { printf '%s\n' "$1" | sed '/^$/q' | grep -i '^Diversion:'; }

note "call 1: off by default: a CFU INVITE carries History-Info only"
services_start BOB_RULES="$CFU_CAROL"
sipp_bg uas1 "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_call caller1 -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas1
invite=$(received uas1 INVITE)
expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "diverted to carol"
expect_no_header "$invite" Diversion "no Diversion header unless asked for"

note "call 2: server.diversion_header = true, CFU: reason=unconditional"
EXTRA="inquiry = { listen = \"http://127.0.0.1:@HTTP@\"; kms = ( { id = \"kms.ims.example.net\"; key = \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"; } ); };"
alloc_ports 1; H=$PORTS
services_start SERVER_SETTINGS="$ON" BOB_RULES="$CFU_CAROL" EXTRA_GROUPS="$EXTRA" HTTP="$H"
sipp_bg uas2 "$T" -sf "$SCENARIOS/target_diversion.xml" -d 100 -m 1
sipp_call caller2 -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas2
invite=$(received uas2 INVITE)
expect_line "$invite" "$DIV_CFU" "the Diversion header of a CFU diversion"
expect_line "$invite" "History-Info: <sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1" \
  "History-Info as without it"
[ "$(diversion_lines "$invite" | wc -l)" = 1 ] || fail "one Diversion header"
http_call GET "http://127.0.0.1:$H/metrics"
printf '%s\n' "$HTTP_BODY" | grep -qxF 'cdivas_diversion_headers_total 1' ||
  { printf '%s\n' "$HTTP_BODY"; fail "metrics count the Diversion header added"; }

note "call 3: CFB: bob answers 486, reason=user-busy"
services_start SERVER_SETTINGS="$ON" BOB_RULES='{ service = "cfb"; target = "sip:carol@ims.example.net"; }'
sipp_bg uas3 "$T" -sf "$SCENARIOS/served_busy_diversion.xml" -d 100 -m 1
sipp_call caller3 -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas3
expect_no_header "$(received_nth uas3 INVITE 1)" Diversion "bob's own INVITE has no Diversion"
invite=$(received_nth uas3 INVITE 2)
expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "diverted to carol"
expect_line "$invite" "Diversion: <sip:bob@ims.example.net>;reason=user-busy;counter=1" \
  "the Diversion header of a CFB diversion"

note "call 4: CFNR: bob rings 5 s, reason=no-answer"
services_start SERVER_SETTINGS="$ON" \
  BOB_RULES='{ service = "cfnr"; target = "sip:carol@ims.example.net"; no_reply_timer = 5; }'
sipp_bg uas4 "$T" -sf "$SCENARIOS/served_no_answer_diversion.xml" -d 100 -m 1
sipp_call caller4 -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas4
invite=$(received_nth uas4 INVITE 2)
expect_line "$invite" "Diversion: <sip:bob@ims.example.net>;reason=no-answer;counter=1" \
  "the Diversion header of a CFNR diversion"

note "call 5: the subscriber's setting wins: bob on over a server off, privacy=full"
services_start BOB_SETTINGS="$ON" \
  BOB_RULES='{ service = "cfu"; target = "sip:carol@ims.example.net"; reveal_identity_to_target = false; }'
sipp_bg uas5 "$T" -sf "$SCENARIOS/target_diversion.xml" -d 100 -m 1
sipp_call caller5 -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas5
invite=$(received uas5 INVITE)
expect_line "$invite" "Diversion: <sip:bob@ims.example.net>;reason=unconditional;counter=1;privacy=full" \
  "bob's entry is private: privacy=full"
expect_line "$invite" "History-Info: <sip:bob@ims.example.net?Privacy=history>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1" \
  "the History-Info entry it follows"

note "        ... and bob off over a server on"
services_start SERVER_SETTINGS="$ON" BOB_SETTINGS='diversion_header = false;' BOB_RULES="$CFU_CAROL"
sipp_bg uas5b "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_call caller5b -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas5b
expect_no_header "$(received uas5b INVITE)" Diversion "bob's diversion_header = false"

note "call 6: bob -> carol -> dave: the newest diversion first"
services_start SERVER_SETTINGS="$ON" BOB_RULES="$CFU_CAROL" \
  CAROL_RULES='{ service = "cfu"; target = "sip:dave@ims.example.net"; }'
sipp_bg uas6 "$T" -sf "$SCENARIOS/target_diversion.xml" -d 100 -m 1
sipp_call caller6 -sf "$SCENARIOS/caller.xml" -s bob -key domain ims.example.net -m 1
sipp_wait uas6
invite=$(received uas6 INVITE)
expect_line "$invite" "INVITE sip:dave@ims.example.net SIP/2.0" "diverted twice, to dave"
expect_line "$invite" "Diversion: <sip:carol@ims.example.net>;reason=unconditional;counter=1, <sip:bob@ims.example.net>;reason=unconditional;counter=1" \
  "carol's diversion, then bob's"

note "call 7: a received Diversion stays, below cdivas's"
services_start SERVER_SETTINGS="$ON" BOB_RULES="$CFU_CAROL"
zed='Diversion: <sip:zed@other.example.net>;reason=user-busy;counter=1;privacy=off'
sipp_bg uas7 "$T" -sf "$SCENARIOS/target_diversion.xml" -d 100 -m 1
sipp_call caller7 -sf "$SCENARIOS/caller_headers.xml" -s bob -key domain ims.example.net \
  -key headers "$zed" -m 1
sipp_wait uas7
invite=$(received uas7 INVITE)
lines=$(diversion_lines "$invite")
[ "$lines" = "$DIV_CFU
$zed" ] || { printf '%s\n' "$invite"; fail "ours on top, the received one unchanged below (got: $lines)"; }

note "call 8: without History-Info, received Diversion counters count toward max_diversions (3)"
services_start MAX_DIVERSIONS=3 BOB_RULES="$CFU_CAROL"
r=$(sip_raw "$P" "$(invite_text bob "$P" 'Max-Forwards: 70
Diversion: <sip:x@other.example.net>;reason=unconditional;counter=2, <sip:y@other.example.net>;reason=no-answer
')")
[ "$r" = "SIP/2.0 480 Diversion Limit Reached" ] || fail "counters 2 + 1 reach the limit of 3, got '$r'"
grep -q "no diversion of sip:bob@ims.example.net to sip:carol@ims.example.net: Diversion Limit Reached" "$WORK/cdivas.log" ||
  fail "the refusal is logged"
r=$(sip_raw "$P" "$(invite_text bob "$P" 'Max-Forwards: 70
Diversion: <sip:x@other.example.net>;reason=unconditional;counter=1
Diversion: <sip:y@other.example.net>;reason=no-answer
')")
[ "$r" = "SIP/2.0 181 Call Is Being Forwarded" ] || fail "two diversions are below the limit, got '$r'"
note "        with History-Info, History-Info counts"
r=$(sip_raw "$P" "$(invite_text bob "$P" 'Max-Forwards: 70
Diversion: <sip:x@other.example.net>;reason=unconditional;counter=9
History-Info: <sip:x@other.example.net>;index=1, <sip:bob@ims.example.net;cause=302>;index=1.1;mp=1
')")
[ "$r" = "SIP/2.0 181 Call Is Being Forwarded" ] || fail "History-Info's one diversion is below the limit, got '$r'"

kill -0 "$CDIVAS_PID" || fail "cdivas exited"
pass "Diversion header: off by default, CFU/CFB/CFNR reasons, override, privacy, order, limit"
