#!/bin/bash
# Failures after ringing (TS 24.604 4.5.2.6; the table in doc/cdivas.8):
# bob rings, then answers 480 (cfnr), 503 or 500 (cfnrc), 600 (cfb); 603
# is cfb only with server.decline_is_busy; each diverted INVITE carries the
# service's cause and bob's Reason. (603 without decline_is_busy going to
# the caller: the unit tests of core/call_fsm.c.)
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/services_lib.sh" || exit 99

rules='{ service = "cfb"; target = "sip:carol@ims.example.net"; },
       { service = "cfnr"; target = "sip:carol@ims.example.net"; },
       { service = "cfnrc"; target = "sip:carol@ims.example.net"; }'
rules=$(printf '%s' "$rules" | tr '\n' ' ')
services_start BOB_RULES="$rules"

n=0
# after_ringing STATUS PHRASE SERVICE CAUSE
after_ringing() {
  n=$((n + 1))
  note "call $n: bob rings, then $1 $2: $3 with cause $4"
  sed "s|SIP/2.0 480 Temporarily Unavailable|SIP/2.0 $1 $2|" \
    "$SCENARIOS/served_rings_then_fails.xml" >"$WORK/served_$1.xml"
  sipp_bg "uas$n" "$T" -sf "$WORK/served_$1.xml" -d 100 -m 1
  sipp_call "caller$n" -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
  sipp_wait "uas$n"
  invite=$(received_nth "uas$n" INVITE 2)
  expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "$1 after 180: diverted to carol"
  reason=$(printf 'SIP%%3Bcause%%3D%s%%3Btext%%3D%%22%s%%22' "$1" "${2// /%20}")
  expect_line "$invite" "History-Info: <sip:bob@ims.example.net?Reason=$reason>;index=1, <sip:carol@ims.example.net;cause=$4>;index=1.1;mp=1" \
    "$1 after 180: History-Info with cause $4 and bob's Reason"
  expect_count "caller$n" "SIP/2.0 $1" 0 "$1 after 180: not passed to the caller"
  expect_diversion_log "$3" "$4" carol
}
after_ringing 480 "Temporarily Unavailable" cfnr 408
after_ringing 503 "Service Unavailable" cfnrc 503
after_ringing 500 "Internal Server Error" cfnrc 503
after_ringing 600 "Busy Everywhere" cfb 486

services_start BOB_RULES="$rules" SERVER_SETTINGS="decline_is_busy = true;"
after_ringing 603 "Decline" cfb 486

pass "failures after ringing: 480 cfnr, 500/503 cfnrc, 600 cfb, 603 cfb with decline_is_busy"
