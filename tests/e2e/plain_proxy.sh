#!/bin/bash
# A served user without rules, and a user cdivas does not know, are
# proxied unchanged but for Route and Max-Forwards: no History-Info, no 181.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99

alloc_ports 3; set -- $PORTS; P=$1 T=$2 A=$3
make_conf "$E2E/cfu.conf.in" "$WORK/cdivas.conf" HOST=127.0.0.1 PORT="$P" TARGET="$T" TRANSPORT=udp
start_cdivas "$WORK/cdivas.conf"

for user in erin zoe; do
  note "A calls $user"
  rm -f "$WORK"/target.msg "$WORK"/caller.msg
  sipp_bg target "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
  sipp_run caller "$A" -sf "$SCENARIOS/caller.xml" -s "$user" -key domain ims.example.net -m 1 "127.0.0.1:$P"
  sipp_wait target
  invite=$(received target INVITE)
  expect_line "$invite" "INVITE sip:$user@ims.example.net SIP/2.0" "Request-URI unchanged for $user"
  expect_line "$invite" "Max-Forwards: 69" "Max-Forwards decremented for $user"
  expect_no_header "$invite" History-Info "no History-Info added for $user"
  expect_no_header "$invite" Route "own Route removed for $user"
  expect_no_header "$invite" P-CDIV-Indication "no CDIV indication for $user"
  if [ -n "$(received caller 'SIP/2.0 181')" ]; then fail "no 181 for $user"; fi
done
pass "plain proxying for a user without rules and an unknown user"
