#!/bin/bash
# Session case (TS 24.604 4.5.2, TS 24.229 5.7.1): CDIV is a terminating
# service. An INVITE the S-CSCF routes in the originating case - said by
# P-Served-User's sescase, by a call= parameter on cdivas's Route entry,
# or by a Kamailio iscmark Route with d=0 - goes on unchanged even when
# the user in it has CFU; the terminating case, and no indication at all,
# diverts as before.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99

alloc_ports 3; set -- $PORTS; P=$1 T=$2 A=$3
make_conf "$E2E/cfu.conf.in" "$WORK/cdivas.conf" HOST=127.0.0.1 PORT="$P" TARGET="$T" TRANSPORT=udp
start_cdivas "$WORK/cdivas.conf"

OWN="<sip:127.0.0.1:$P;transport=udp;lr>"
ISC="<sip:iscmark@127.0.0.1:$T;lr;s=1;h=0"
n=0
# call WHAT ROUTE SERVED-LINE EXPECT: EXPECT is "diverted" or "unchanged"
call() {
  n=$((n + 1))
  note "call $n: $1"
  rm -f "$WORK"/target.msg "$WORK"/caller.msg
  sipp_bg target "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
  sipp_run caller "$A" -sf "$SCENARIOS/caller_ims.xml" -s bob -key domain ims.example.net \
    -key route "$2" -key served "$3" -m 1 "127.0.0.1:$P"
  sipp_wait target
  invite=$(received target INVITE)
  if [ "$4" = diverted ]; then
    expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "$1: diverted to carol"
    expect_line "$invite" "History-Info: <sip:bob@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=302>;index=1.1;mp=1" \
      "$1: History-Info of the CFU"
    [ -n "$(received caller "SIP/2.0 181")" ] || fail "$1: no 181 to the caller"
  else
    expect_line "$invite" "INVITE sip:bob@ims.example.net SIP/2.0" "$1: Request-URI unchanged"
    expect_no_header "$invite" History-Info "$1: no History-Info added"
    expect_no_header "$invite" P-CDIV-Indication "$1: no CDIV indication"
    [ -z "$(received caller "SIP/2.0 181")" ] || fail "$1: a 181 went to the caller"
  fi
}

call "P-Served-User sescase=orig" "$OWN" \
  "P-Served-User: <sip:bob@ims.example.net>;sescase=orig;regstate=reg" unchanged
invite=$(received target INVITE)
expect_line "$invite" "P-Served-User: <sip:bob@ims.example.net>;sescase=orig;regstate=reg" \
  "originating: P-Served-User passed on as it came"
call "P-Served-User sescase=term" "$OWN" \
  "P-Served-User: <sip:bob@ims.example.net>;sescase=term;regstate=reg" diverted
call "P-Served-User without parameters" "$OWN" "P-Served-User: <sip:bob@ims.example.net>" diverted
call "two P-Served-User, the S-CSCF's last one says orig" "$OWN" \
  "P-Served-User: <sip:bob@ims.example.net>;sescase=term
P-Served-User: <sip:bob@ims.example.net>;sescase=orig" unchanged
call "Kamailio ims_isc, no P-Served-User, iscmark d=0" "$OWN, $ISC;d=0>" "X-Served: none" unchanged
call "Kamailio ims_isc, no P-Served-User, iscmark d=1" "$OWN, $ISC;d=1>" "X-Served: none" diverted
call "Kamailio ims_isc, iscmark d=2 (terminating, unregistered)" "$OWN, $ISC;d=2>" "X-Served: none" diverted
call "lab iFC server name with call=orig" "<sip:127.0.0.1:$P;transport=udp;lr;call=orig>" "X-Served: none" unchanged
call "lab iFC server name with call=term" "<sip:127.0.0.1:$P;transport=udp;lr;call=term>" "X-Served: none" diverted
call "P-Served-User term wins over a Route saying orig" "<sip:127.0.0.1:$P;transport=udp;lr;call=orig>" \
  "P-Served-User: <sip:bob@ims.example.net>;sescase=term" diverted

pass "session case: originating requests proxied unchanged, terminating diverted"
