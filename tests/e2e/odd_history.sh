#!/bin/bash
# History-Info with odd numbering (issue 17 item 5): an INVITE for a CFU
# subscriber whose History-Info has missing, malformed and duplicate
# indices is diverted, not refused; the received entries go on unchanged,
# cdivas's own are well formed (after the gap marker of RFC 7044 10.3), and
# the entries with a cause still count toward server.max_diversions.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99

alloc_ports 3; set -- $PORTS; P=$1 T=$2 A=$3
make_conf "$E2E/cfu.conf.in" "$WORK/cdivas.conf" HOST=127.0.0.1 PORT="$P" TARGET="$T" TRANSPORT=udp
start_cdivas "$WORK/cdivas.conf"

# well_formed LINE: every entry of the History-Info LINE has exactly one
# index, an RFC 7044 index-val, and any mp is one too.
well_formed() {
  printf '%s\n' "${1#History-Info: }" | tr ',' '\n' | awk '
    { n = split($0, p, ";"); idx = 0
      for (i = 2; i <= n; i++) {
        if (p[i] ~ /^index=/) { idx++; v = substr(p[i], 7) }
        else if (p[i] ~ /^mp=/) v = substr(p[i], 4)
        else continue
        if (v !~ /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/) bad = 1
      }
      if (idx != 1) bad = 1 }
    END { exit bad }'
}

odd='<sip:alice-old@ims.example.net>;index=1, <sip:ann@ims.example.net;cause=302>;index=1.1;mp=1, <sip:amy@ims.example.net;cause=486>;index=1.1;mp=1, <sip:abe@ims.example.net;cause=408>;index=01, <sip:bob@ims.example.net;cause=480>;index=1..2;mp=x'
ours='<sip:bob@ims.example.net>;index=1.1.0.1, <sip:carol@ims.example.net;cause=302>;index=1.1.0.1.1;mp=1.1.0.1'

note "call 1: duplicate index, index=01, index=1..2 (bob's, the last): diverted to carol"
sipp_bg target "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_run caller "$A" -sf "$SCENARIOS/caller_headers.xml" -s bob -key domain ims.example.net \
  -key headers "History-Info: $odd" -m 1 "127.0.0.1:$P"
sipp_wait target
invite=$(received target INVITE)
expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "the call is diverted, not refused"
expect_line "$invite" "History-Info: $odd" "the received History-Info goes on exactly as it came"
expect_line "$invite" "History-Info: $ours" "cdivas's entries continue under 1.1 after the gap marker 0"
well_formed "History-Info: $ours" || fail "cdivas's entries are well formed"
! well_formed "History-Info: $odd" || fail "well_formed tells the received entries are not"
expect_line "$invite" "P-CDIV-Indication: <sip:cdivas.ims.example.net>;hi=1.1.0.1.1" "CDIV indication names our entry"
ringing=$(received caller "SIP/2.0 181")
expect_line "$ringing" "History-Info: $odd, $ours" "the 181 carries the whole chain, old entries included"
grep -q "3 of 5 History-Info entries without a usable index, kept as received" "$WORK/cdivas.log" ||
  fail "the odd entries are logged"
grep -q "Bad History-Info" "$WORK/cdivas.log" && fail "nothing about bad History-Info"

note "call 2: no index at all, and a non-numeric one: ours start at 0.1"
rm -f "$WORK"/target.msg "$WORK"/caller.msg
noidx='<sip:ann@ims.example.net;cause=302>, <sip:bob@ims.example.net;cause=486>;index=one'
sipp_bg target "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_run caller "$A" -sf "$SCENARIOS/caller_headers.xml" -s bob -key domain ims.example.net \
  -key headers "History-Info: $noidx" -m 1 "127.0.0.1:$P"
sipp_wait target
invite=$(received target INVITE)
expect_line "$invite" "History-Info: $noidx" "the received entries go on unchanged"
ours2='<sip:bob@ims.example.net>;index=0.1, <sip:carol@ims.example.net;cause=302>;index=0.1.1;mp=0.1'
expect_line "$invite" "History-Info: $ours2" "ours start at 0.1"
well_formed "History-Info: $ours2" || fail "cdivas's entries are well formed"

note "call 3: five diversions with odd indices reach max_diversions (5): refused"
five='<sip:a1@ims.example.net;cause=302>, <sip:a2@ims.example.net;cause=486>;index=01, <sip:a3@ims.example.net;cause=408>;index=1..2, <sip:a4@ims.example.net;cause=302>;index=x, <sip:bob@ims.example.net;cause=302>;index=1;index=1'
r=$(sip_raw "$P" "$(invite_text bob "$P" "Max-Forwards: 70
History-Info: $five
")")
[ "$r" = "SIP/2.0 480 Diversion Limit Reached" ] || fail "five counted diversions reach the limit, got '$r'"
note "        four of them do not"
r=$(sip_raw "$P" "$(invite_text bob "$P" "Max-Forwards: 70
History-Info: ${five#*, }
")")
[ "$r" = "SIP/2.0 181 Call Is Being Forwarded" ] || fail "four counted diversions are below the limit, got '$r'"

kill -0 "$CDIVAS_PID" || fail "cdivas exited"
pass "odd History-Info numbering: diverted, old entries kept, ours well formed, diversions counted"
