#!/bin/bash
# Two cdivas instances and one Redis behave as one AS: a call diverted by
# instance 1 is permitted by an inquiry to instance 2; third-party
# REGISTERs to one instance decide CFNL on the other; the replay cache is
# shared. Then Redis dies in the middle of a call run: no call fails,
# inquiries are denied, and everything recovers when Redis is back. And an
# instance refuses to start without its Redis.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
REDIS_SERVER=${REDIS_SERVER:-redis-server}
if [ "$REDIS_SERVER" = no ] || ! command -v "$REDIS_SERVER" >/dev/null 2>&1; then
  echo "SKIP: redis-server (Debian package redis-server) is not installed"
  exit 77
fi

KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
ALICE=sip:alice@ims.example.net BOB=sip:bob@ims.example.net
CAROL=sip:carol@ims.example.net DAVE=sip:dave@ims.example.net
alloc_ports 7; set -- $PORTS
R=$1 P1=$2 P2=$3 H1=$4 H2=$5 T=$6 A=$7
URL1=http://127.0.0.1:$H1 URL2=http://127.0.0.1:$H2

REDIS_PID=""
start_redis() {
  "$REDIS_SERVER" --port "$R" --bind 127.0.0.1 --save "" --appendonly no \
    >>"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  BG_PIDS="$BG_PIDS $REDIS_PID"
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$R") 2>/dev/null && return 0
    sleep 0.1
  done
  fail "redis-server did not start"
}

# start_instance N SIP-PORT HTTP-PORT: cdivas N with its own conf and log.
start_instance() {
  make_conf "$E2E/cluster.conf.in" "$WORK/cdivas$1.conf" PORT="$2" HTTP="$3" \
    TARGET="$T" REDIS="$R" KMS_KEY="$KEY"
  "$CDIVAS" -F -f "$WORK/cdivas$1.conf" >>"$WORK/cdivas$1.log" 2>&1 &
  eval "PID$1=$!"
  BG_PIDS="$BG_PIDS $!"
  for _ in $(seq 1 50); do
    grep -q "started as" "$WORK/cdivas$1.log" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$WORK/cdivas$1.log"
  fail "cdivas $1 did not start"
}

# metric URL NAME: the value of one /metrics line (NAME with its labels).
metric() {
  http_call GET "$1/metrics"
  printf '%s\n' "$HTTP_BODY" | awk -v n="$2" '$1 == n { print $2 }'
}

note "without its Redis, an instance refuses to start"
make_conf "$E2E/cluster.conf.in" "$WORK/nostore.conf" PORT="$P1" HTTP="$H1" TARGET="$T" \
  REDIS="$R" KMS_KEY="$KEY"
if "$CDIVAS" -F -f "$WORK/nostore.conf" >"$WORK/nostore.log" 2>&1; then
  fail "cdivas started without Redis"
fi
grep -q "state store: cannot connect to Redis at 127.0.0.1:$R" "$WORK/nostore.log" ||
  { cat "$WORK/nostore.log"; fail "no clear error without Redis"; }

start_redis
start_instance 1 "$P1" "$H1"
start_instance 2 "$P2" "$H2"

note "a CFU call through instance 1: alice -> bob, diverted to carol"
sipp_bg target "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_run caller "$A" -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1 "127.0.0.1:$P1"
sipp_wait target
expect_line "$(received target INVITE)" "INVITE sip:carol@ims.example.net SIP/2.0" "instance 1 diverted the call"

note "the KMS asks instance 2: permit for carol, deny for dave"
inquire "$URL2" "$KEY" "$(inquiry_body cluster-carol-1 $ALICE $BOB $CAROL)"
expect_http 200 '{"inquiry_id":"cluster-carol-1","verdict":"permit"}' "instance 2 permits what instance 1 diverted"
inquire "$URL2" "$KEY" "$(inquiry_body cluster-dave-01 $ALICE $BOB $DAVE)"
expect_http 200 '{"inquiry_id":"cluster-dave-01","verdict":"deny"}' "instance 2 denies another user"

note "the same inquiry_id replayed to instance 1: 401"
inquire "$URL1" "$KEY" "$(inquiry_body cluster-carol-1 $ALICE $BOB $CAROL)"
expect_http 401 "" "the replay cache is shared"

note "erin logged out through instance 1, called through instance 2: CFNL"
sipp_run reg1 "$A" -sf "$SCENARIOS/register.xml" -s erin -key domain ims.example.net -key expires 0 -m 1 "127.0.0.1:$P1"
sleep 0.2
sipp_bg uas2 "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_run caller2 "$A" -sf "$SCENARIOS/caller_served.xml" -s erin -key domain ims.example.net \
  -key psu_params "sescase=term" -m 1 "127.0.0.1:$P2"
sipp_wait uas2
expect_line "$(received uas2 INVITE)" "INVITE sip:carol@ims.example.net SIP/2.0" "erin is not tried: CFNL to carol"
expect_line "$(received uas2 INVITE)" 'History-Info: <sip:erin@ims.example.net>;index=1, <sip:carol@ims.example.net;cause=404>;index=1.1;mp=1' "CFNL History-Info"

note "erin registered through instance 2, called through instance 1: not CFNL"
sipp_run reg2 "$A" -sf "$SCENARIOS/register.xml" -s erin -key domain ims.example.net -key expires 3600 -m 1 "127.0.0.1:$P2"
sleep 0.2
sipp_bg uas3 "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_run caller3 "$A" -sf "$SCENARIOS/caller.xml" -s erin -key domain ims.example.net -m 1 "127.0.0.1:$P1"
sipp_wait uas3
expect_line "$(received uas3 INVITE)" "INVITE sip:erin@ims.example.net SIP/2.0" "erin is tried herself"
expect_no_header "$(received uas3 INVITE)" History-Info "no diversion for a registered erin"

note "Redis killed during 300 calls at 30/s through instance 1, back 4 s later"
sipp_bg uasload "$T" -sf "$SCENARIOS/target.xml" -d 50 -m 300
alloc_ports 1; LA=$PORTS
sipp_args callerload "$LA"
# shellcheck disable=SC2086
"$SIPP" $SIPP_ARGS -sf "$SCENARIOS/caller.xml" -s bob -key domain ims.example.net \
  -r 30 -m 300 -l 100 "127.0.0.1:$P1" >"$WORK/callerload.out" 2>&1 &
LOAD=$!
sleep 3
kill -9 "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
sleep 0.5
inquire "$URL2" "$KEY" "$(inquiry_body cluster-down-01 $ALICE $BOB $CAROL)"
expect_http 200 '{"inquiry_id":"cluster-down-01","verdict":"deny"}' "without Redis an inquiry is denied"
[ "$(metric "$URL1" 'cdivas_store_up{backend="redis"}')" = 0 ] || fail "instance 1 does not report the store down"
sleep 3.5
start_redis
wait "$LOAD" || fail "calls failed while Redis was down (SIPp exit $?): see $WORK/callerload.out"
sipp_wait uasload
lost=$(metric "$URL1" cdivas_store_lost_records_total)
[ "${lost:-0}" -gt 0 ] || fail "diversions made while Redis was down are not counted as lost"
note "300 calls, none failed; $lost ledger records lost while Redis was down"

note "after Redis is back: both instances reconnect and a new diversion is permitted"
for i in 1 2; do
  eval "url=\$URL$i"
  for _ in $(seq 1 50); do
    [ "$(metric "$url" 'cdivas_store_up{backend="redis"}')" = 1 ] && break
    sleep 0.1
  done
  [ "$(metric "$url" 'cdivas_store_up{backend="redis"}')" = 1 ] || fail "instance $i did not reconnect"
  [ "$(metric "$url" cdivas_store_reconnects_total)" -ge 1 ] || fail "instance $i counts no reconnection"
done
sipp_bg target4 "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_run caller4 "$A" -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1 "127.0.0.1:$P2"
sipp_wait target4
sleep 0.2
inquire "$URL1" "$KEY" "$(inquiry_body cluster-back-01 $ALICE $BOB $CAROL)"
expect_http 200 '{"inquiry_id":"cluster-back-01","verdict":"permit"}' "permit again once Redis is back"

pass "two instances share registrations, ledger and replay cache through Redis; calls survive its loss"
