#!/bin/bash
# xcap.sh - XCAP requests per second on cdivas's simservs documents: N
# GETs of bob's whole document, then N PUTs of one rule (each a real
# change: the target alternates, so every PUT is checked, stored with
# fsync and rename in the state directory, and a new snapshot installed),
# then N GETs with HTTP Digest. One curl process, one keep-alive
# connection, requests one after the other (so: latency-bound rates).
# The asserted identity of a trusted proxy is used but for the Digest run.
#
#   bench/xcap.sh [N]        default 2000
#   STATE_DIR=/somewhere     put the documents on another file system
#                            (fsync costs what the disk makes it cost)
set -u
cd "$(dirname "$0")/.."
N=${1:-2000}
LOG_LEVEL=${LOG_LEVEL:-notice}
. bench/lib.sh
command -v curl >/dev/null || { echo "curl is needed"; exit 2; }
XP=$(bench_port)
STATE=${STATE_DIR:-$BENCH_WORK/state}
mkdir -p "$STATE"
XCAP_CONF="xcap = { listen = \"http://127.0.0.1:$XP\"; auth = [ \"digest\", \"asserted-identity\" ];
  trusted_proxies = [ \"127.0.0.1\" ]; state_dir = \"$STATE\"; };"
BOB_SETTINGS='password = "bench";'
bench_start_cdivas cfb

DOC="http://127.0.0.1:$XP/simservs.ngn.etsi.org/users/sip:bob@ims.example.net/simservs.xml"
RULE="$DOC/~~/simservs/communication-diversion/cp:ruleset/cp:rule%5B@id=%22call-diversion-unconditional%22%5D"
for t in carol dave; do
  printf '<cp:rule id="call-diversion-unconditional"><cp:actions><ss:forward-to><ss:target>sip:%s@ims.example.net</ss:target></ss:forward-to></cp:actions></cp:rule>' \
    "$t" >"$BENCH_WORK/rule-$t.xml"
done
ASSERT='header = "X-3GPP-Asserted-Identity: \"sip:bob@ims.example.net\""'
{
  for i in $(seq 1 "$N"); do
    printf 'url = "%s"\n%s\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$DOC" "$ASSERT"
    [ "$i" -lt "$N" ] && echo next
  done
} >"$BENCH_WORK/get.curl"
{
  for i in $(seq 1 "$N"); do
    t=$([ $((i % 2)) = 0 ] && echo carol || echo dave)
    printf 'url = "%s"\nrequest = "PUT"\n%s\nheader = "Content-Type: application/xcap-el+xml"\n' "$RULE" "$ASSERT"
    printf 'data-binary = "@%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$BENCH_WORK/rule-$t.xml"
    [ "$i" -lt "$N" ] && echo next
  done
} >"$BENCH_WORK/put.curl"
{
  for i in $(seq 1 "$N"); do
    printf 'url = "%s"\ndigest\nuser = "bob@ims.example.net:bench"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$DOC"
    [ "$i" -lt "$N" ] && echo next
  done
} >"$BENCH_WORK/digest.curl"

# run NAME WANT: the config's requests; prints the rate, checks every status.
run() {
  local t0 t1 codes bad
  t0=$(date +%s%N)
  codes=$(curl -s -K "$BENCH_WORK/$1.curl")
  t1=$(date +%s%N)
  bad=$(printf '%s\n' "$codes" | grep -cvx "$2")
  awk -v n="$N" -v ns=$((t1 - t0)) -v what="$3" -v bad="$bad" 'BEGIN {
    printf "%-28s %6d requests in %6.2f s: %7.0f requests/s, %.2f ms each%s\n", what, n, ns / 1e9,
      n / (ns / 1e9), ns / 1e6 / n, bad ? sprintf(" (%d not answered as expected)", bad) : "" }'
}
run get 200 "GET document (asserted id)"
run put '20[01]' "PUT rule (asserted id)"
run digest 200 "GET document (Digest)"
ls "$STATE" | grep -q 'sip%3Abob' || echo "warning: no document in $STATE"
