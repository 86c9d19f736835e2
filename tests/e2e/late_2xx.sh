#!/bin/bash
# RFC 6026: after the first 2xx a proxy still relays further 2xx to the
# INVITE (a fork downstream answering too) for 64*T1. cdivas gives its
# server transaction back to nta after the first 2xx and forwards the
# others statelessly: the caller gets both, with cdivas's Via taken off.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/services_lib.sh" || exit 99

for user in erin bob; do
  if [ "$user" = bob ]; then
    note "a call diverted by cfu, answered twice"
    services_start BOB_RULES='{ service = "cfu"; target = "sip:carol@ims.example.net"; }'
  else
    note "a proxied call, answered twice"
    services_start
  fi
  sipp_bg "uas_$user" "$T" -sf "$SCENARIOS/target_two_answers.xml" -m 1
  sipp_run "caller_$user" "$A" -sf "$SCENARIOS/caller_two_answers.xml" -s "$user" -key domain ims.example.net \
    -m 1 "127.0.0.1:$P"
  sipp_wait "uas_$user"
  expect_count "caller_$user" "SIP/2.0 200" 2 "both 200s reach the caller ($user)"
  second=$(received_nth "caller_$user" "SIP/2.0 200" 2)
  printf '%s\n' "$second" | grep -q '^To: .*;tag=[0-9]*SIPpTag02' ||
    { printf '%s\n' "$second"; fail "the second 200 is the second answer ($user)"; }
  [ "$(printf '%s\n' "$second" | grep -c '^Via:')" = 1 ] ||
    { printf '%s\n' "$second"; fail "cdivas's Via is taken off the second 200 ($user)"; }
  expect_count "uas_$user" ACK 2 "the target gets an ACK for each answer ($user)"
done
pass "further 2xx relayed after the first (RFC 6026)"
