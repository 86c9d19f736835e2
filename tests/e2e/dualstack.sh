#!/bin/bash
# Dual stack: cdivas listens on IPv4 first and IPv6 second (as the docs
# suggest); a request whose next hop is IPv6 goes out on the IPv6 socket
# and one whose next hop is IPv4 on the IPv4 socket, whichever family the
# caller used.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99

if ! grep -q "^0\{31\}1 " /proc/net/if_inet6 2>/dev/null; then
  echo "SKIP: no IPv6 loopback"; exit 77
fi
alloc_ports 3; set -- $PORTS; P=$1 T=$2 A=$3
# conf NEXT-HOP-HOST
conf() {
  cat >"$WORK/cdivas.conf" <<CONF
server = {
  listen = [ "sip:127.0.0.1:$P", "sip:[::1]:$P" ];
  identity = "sip:cdivas.ims.example.net";
  outbound_proxy = "sip:$1:$T;lr";
  log_level = "debug";
};
subscribers = (
  { user = "sip:bob@ims.example.net";
    rules = ( { service = "cfu"; target = "sip:carol@ims.example.net"; } ); }
);
CONF
}

# leg CALLER-FAMILY TARGET-FAMILY
leg() {
  caller_ip=127.0.0.1 target_ip=127.0.0.1 cdivas_ip=127.0.0.1 target_host=127.0.0.1
  [ "$1" = 6 ] && caller_ip=::1 cdivas_ip="[::1]"
  [ "$2" = 6 ] && target_ip=::1 target_host="[::1]"
  note "caller on IPv$1, next hop on IPv$2"
  conf "$target_host"
  [ -n "$CDIVAS_PID" ] && { kill "$CDIVAS_PID"; wait "$CDIVAS_PID" 2>/dev/null; : >"$WORK/cdivas.log"; }
  start_cdivas "$WORK/cdivas.conf"
  rm -f "$WORK"/target.msg "$WORK"/caller.msg
  SIPP_IP=$target_ip sipp_bg target "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
  SIPP_IP=$caller_ip sipp_run caller "$A" -sf "$SCENARIOS/caller_diverted.xml" -s bob \
    -key domain ims.example.net -m 1 "$cdivas_ip:$P"
  sipp_wait target
  invite=$(received target INVITE)
  expect_line "$invite" "INVITE sip:carol@ims.example.net SIP/2.0" "IPv$1 -> IPv$2: diverted INVITE arrived"
  want_via="Via: SIP/2.0/UDP 127.0.0.1:$P"
  [ "$2" = 6 ] && want_via="Via: SIP/2.0/UDP [::1]:$P"
  printf "%s\n" "$invite" | grep -qF "$want_via" || fail "IPv$1 -> IPv$2: sent from cdivas's IPv$2 address"
}
leg 4 6
leg 6 4
leg 4 4
leg 6 6
pass "dual stack: each next hop reached on the socket of its family"
