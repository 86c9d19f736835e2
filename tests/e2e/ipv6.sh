#!/bin/bash
# CFU with caller, cdivas and target on IPv6 loopback (::1), UDP.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99

if ! grep -q "^0\{31\}1 " /proc/net/if_inet6 2>/dev/null; then
  echo "SKIP: no IPv6 loopback"; exit 77
fi
alloc_ports 3; set -- $PORTS; P=$1 T=$2 A=$3
make_conf "$E2E/cfu.conf.in" "$WORK/cdivas.conf" HOST="[::1]" PORT="$P" TARGET="$T" TRANSPORT=udp
start_cdivas "$WORK/cdivas.conf"
SIPP_IP=::1
sipp_bg target "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_run caller "$A" -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1 "[::1]:$P"
sipp_wait target
invite=$(received target INVITE)
expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "Request-URI over IPv6"
expect_line "$invite" "History-Info: <sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1" \
  "History-Info over IPv6"
printf '%s\n' "$invite" | grep -q "^Via: SIP/2.0/UDP \[::1\]:$P" || fail "forwarded from cdivas's IPv6 address"
pass "CFU over IPv6"
