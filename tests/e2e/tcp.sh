#!/bin/bash
# CFU with caller, cdivas and target all on TCP.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99

alloc_ports 3; set -- $PORTS; P=$1 T=$2 A=$3
make_conf "$E2E/cfu.conf.in" "$WORK/cdivas.conf" HOST=127.0.0.1 PORT="$P" TARGET="$T" TRANSPORT=tcp
start_cdivas "$WORK/cdivas.conf"

sipp_bg target "$T" -t t1 -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_run caller "$A" -t t1 -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1 "127.0.0.1:$P"
sipp_wait target
invite=$(received target INVITE)
expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "Request-URI over TCP"
expect_line "$invite" "History-Info: <sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1" \
  "History-Info over TCP"
printf '%s\n' "$invite" | grep -q "^Via: SIP/2.0/TCP 127.0.0.1:$P" || fail "forwarded over TCP"
pass "CFU over TCP"
