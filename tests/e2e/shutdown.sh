#!/bin/bash
# SIGTERM: new INVITEs get 503, the call in flight completes, exit status 0.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99

alloc_ports 3; set -- $PORTS; P=$1 T=$2 A=$3
make_conf "$E2E/cfu.conf.in" "$WORK/cdivas.conf" HOST=127.0.0.1 PORT="$P" TARGET="$T" TRANSPORT=udp
start_cdivas "$WORK/cdivas.conf"

sipp_bg target "$T" -sf "$SCENARIOS/target.xml" -d 2000 -m 1
sipp_bg caller "$A" -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1 "127.0.0.1:$P"
sleep 0.7
kill -TERM "$CDIVAS_PID"
sleep 0.2
r=$(sip_raw "$P" "$(invite_text bob "$P" $'Max-Forwards: 70\n')")
[ "$r" = "SIP/2.0 503 Service Unavailable" ] || fail "new INVITE while draining gives 503, got '$r'"
sipp_wait caller
sipp_wait target
wait "$CDIVAS_PID"; rc=$?
CDIVAS_PID=""
[ "$rc" -eq 0 ] || fail "cdivas exit status $rc after SIGTERM"
grep -q "refusing new calls" "$WORK/cdivas.log" || fail "drain logged"
pass "graceful shutdown on SIGTERM"
