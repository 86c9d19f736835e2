#!/bin/bash
# CFU over UDP: the INVITE for bob reaches carol with exactly the
# History-Info of the protocol brief, and the caller gets the 181.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99

alloc_ports 3; set -- $PORTS; P=$1 T=$2 A=$3
make_conf "$E2E/cfu.conf.in" "$WORK/cdivas.conf" HOST=127.0.0.1 PORT="$P" TARGET="$T" TRANSPORT=udp
start_cdivas "$WORK/cdivas.conf"

note "call 1: A calls bob (P-Served-User), bob forwards unconditionally to carol"
sipp_bg target "$T" -sf "$SCENARIOS/target.xml" -d 200 -m 1
sipp_run caller "$A" -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1 "127.0.0.1:$P"
sipp_wait target

invite=$(received target INVITE)
expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "Request-URI is the forwarding target"
expect_line "$invite" "History-Info: <sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1" \
  "History-Info of a CFU diversion"
expect_line "$invite" "Max-Forwards: 69" "Max-Forwards decremented"
expect_line "$invite" "P-CDIV-Indication: <sip:cdivas.ims.example.net>;hi=1.1" "ID-AS and CDIV indication"
expect_no_header "$invite" Route "cdivas's own Route entry is removed"
expect_no_header "$invite" P-Served-User "P-Served-User of the diverting user is not passed on"
ringing=$(received caller "SIP/2.0 181")
expect_line "$ringing" "SIP/2.0 181 Call Is Being Forwarded" "181 to the caller"
expect_line "$ringing" "History-Info: <sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1" \
  "181 carries History-Info"
grep -q "diversion call-id=.* served=sip:bob@ims.example.net service=cfu cause=302 target=sip:carol@ims.example.net" "$WORK/cdivas.log" ||
  fail "one log line per diversion"

note "call 2: the served user named by an alias (tel number as sip;user=phone)"
rm -f "$WORK"/target.msg "$WORK"/caller.msg
sipp_bg target "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_run caller "$A" -sf "$SCENARIOS/caller_diverted.xml" -s +15551000002 \
  -key domain "ims.example.net;user=phone" -m 1 "127.0.0.1:$P"
sipp_wait target
invite=$(received target INVITE)
expect_line "$invite" "History-Info: <sip:+15551000002@ims.example.net;user=phone>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1" \
  "alias matched, served entry is the Request-URI as received"

note "call 3: an INVITE diverted once already upstream continues the chain"
rm -f "$WORK"/target.msg "$WORK"/caller.msg
sipp_bg target "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_run caller "$A" -sf "$SCENARIOS/caller_with_history.xml" -s bob -key domain ims.example.net -m 1 "127.0.0.1:$P"
sipp_wait target
invite=$(received target INVITE)
expect_line "$invite" "History-Info: <sip:alice-old@ims.example.net>;index=1, <sip:bob@ims.example.net;cause=486>;index=1.1;mp=1" \
  "received History-Info stays untouched"
expect_line "$invite" "History-Info: <sip:carol@ims.example.net;cause=302>;index=1.1.1;mp=1.1" \
  "new entry continues the numbering"

pass "CFU: target INVITE, History-Info, Max-Forwards, 181, alias, chain"
