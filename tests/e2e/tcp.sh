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

note "100 Trying over TCP comes at once, not after nta's T2/2 = 2 s"
# The next hop takes the INVITE and says nothing; the caller must still
# hear 100 Trying within 200 ms (an S-CSCF gives an AS 5 s at most, and a
# VoLTE INVITE of more than 1300 bytes comes over TCP).
sipp_bg silent "$T" -t t1 -sf "$SCENARIOS/served_silent.xml" -m 1
exec 3<>"/dev/tcp/127.0.0.1/$P"
start=$(date +%s%N)
printf 'INVITE sip:erin@ims.example.net SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-tcp100-%s\r\nMax-Forwards: 70\r\nFrom: <sip:alice@ims.example.net>;tag=t%s\r\nTo: <sip:erin@ims.example.net>\r\nCall-ID: tcp100-%s@test\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:9;transport=tcp>\r\nContent-Length: 0\r\n\r\n' \
  "$RANDOM" "$RANDOM" "$RANDOM" >&3
first=""
while IFS= read -r -t 5 line <&3; do
  case "$line" in "SIP/2.0 "*) first=${line%$'\r'}; break ;; esac
done
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
exec 3>&-
[ "$first" = "SIP/2.0 100 Trying" ] || fail "first answer over TCP: '$first' (expected 100 Trying)"
[ "$elapsed_ms" -lt 200 ] || fail "100 Trying over TCP after $elapsed_ms ms (at most 200)"
note "100 Trying over TCP after $elapsed_ms ms"

pass "CFU over TCP, 100 Trying at once"
