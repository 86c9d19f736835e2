#!/bin/bash
# What the caller and the target are shown: the rule options
# reveal_identity_to_caller, reveal_served_user_identity_to_caller and
# notify_caller shape the 181; reveal_identity_to_target the History-Info
# of the INVITE to the target. bob forwards unconditionally to carol.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/services_lib.sh" || exit 99

hi_plain='History-Info: <sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1'

# call NAME RULE-OPTIONS [CALLER-SCENARIO]: restarts cdivas with bob's
# rule "cfu to carol" and the given options, makes one call.
call() {
  services_start BOB_RULES="{ service = \"cfu\"; target = \"sip:carol@ims.example.net\"; $2 }"
  sipp_bg "uas_$1" "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
  sipp_call "$1" -sf "$SCENARIOS/${3:-caller_diverted.xml}" -s bob -key domain ims.example.net -m 1
  sipp_wait "uas_$1"
  expect_count "uas_$1" INVITE 1 "one INVITE, to carol"
  invite=$(received "uas_$1" INVITE)
  expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "Request-URI carol"
  expect_line "$invite" "P-CDIV-Indication: <sip:cdivas.ims.example.net>;hi=1.1" "CDIV indication"
  expect_count "$1" "SIP/2.0 200" 2 "the caller is answered (INVITE and BYE)"
}

note "call 1: reveal_identity_to_caller = false: carol's entry private in the 181 only"
call caller1 "reveal_identity_to_caller = false;"
expect_line "$invite" "$hi_plain" "the target's History-Info is not affected"
expect_count caller1 "SIP/2.0 181" 1 "one 181"
expect_line "$(received caller1 "SIP/2.0 181")" \
  'History-Info: <sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=302?Privacy=history>;index=1.1;mp=1' \
  "the 181 hides the target"

note "call 2: reveal_served_user_identity_to_caller = false: bob's entry private in the 181 only"
call caller2 "reveal_served_user_identity_to_caller = false;"
expect_line "$invite" "$hi_plain" "the target's History-Info is not affected"
expect_count caller2 "SIP/2.0 181" 1 "one 181"
expect_line "$(received caller2 "SIP/2.0 181")" \
  'History-Info: <sip:bob@ims.example.net?Privacy=history>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1' \
  "the 181 hides the served user"

note "call 3: reveal_identity_to_target = false: bob's entry private in the INVITE to carol"
call caller3 "reveal_identity_to_target = false;"
expect_line "$invite" \
  'History-Info: <sip:bob@ims.example.net?Privacy=history>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1' \
  "the target's History-Info hides the served user"
expect_count caller3 "SIP/2.0 181" 1 "one 181"

note "call 4: notify_caller = false: no 181"
call caller4 "notify_caller = false;" caller.xml
expect_line "$invite" "$hi_plain" "the target's History-Info is not affected"
expect_count caller4 "SIP/2.0 181" 0 "no 181 to the caller"

pass "181 privacy options, reveal_identity_to_target, notify_caller = false"
