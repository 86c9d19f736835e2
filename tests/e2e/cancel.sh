#!/bin/bash
# The caller hangs up while the forwarding target rings: the CANCEL reaches
# the target, whose 487 comes back to the caller.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99

alloc_ports 3; set -- $PORTS; P=$1 T=$2 A=$3
make_conf "$E2E/cfu.conf.in" "$WORK/cdivas.conf" HOST=127.0.0.1 PORT="$P" TARGET="$T" TRANSPORT=udp
start_cdivas "$WORK/cdivas.conf"

sipp_bg target "$T" -sf "$SCENARIOS/target_ring_cancel.xml" -m 1
sipp_run caller "$A" -sf "$SCENARIOS/caller_cancel.xml" -s bob -key domain ims.example.net -m 1 "127.0.0.1:$P"
sipp_wait target
cancel=$(received target CANCEL)
expect_line "$cancel" "CANCEL sip:carol@ims.example.net SIP/2.0" "CANCEL sent to the diverted branch"
final=$(received caller "SIP/2.0 487")
[ -n "$final" ] || fail "caller got the 487"
pass "caller CANCEL while the target rings"
