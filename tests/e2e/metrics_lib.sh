# metrics_lib.sh - cdivas and cdivas-kms with some traffic behind them, so
# that their /metrics scrapes carry non-trivial counters: a secure CFU call
# (alice -> bob, diverted to carol), carol's resolve (the KMS asks cdivas:
# permit), dave's (deny), a SIGHUP reload that works and one that is
# refused. Sourced after lib.sh and secure_lib.sh; metrics_scrape leaves
# the scrapes in $WORK/cdivas.prom and $WORK/kms.prom.

metrics_traffic() {
  AS_KEY=$(psk_of as-key)
  for u in alice bob carol dave erin frank gina hank ivan; do PSK[$u]=$(psk_of "$u"); done
  alloc_ports 4; set -- $PORTS; P=$1 T=$2 H=$3 K=$4
  make_conf "$E2E/secure.conf.in" "$WORK/cdivas.conf" PORT="$P" TARGET="$T" HTTP="$H" AS_KEY="$AS_KEY"
  args=(KMS_PORT="$K" HTTP="$H" AS_KEY="$AS_KEY")
  for u in "${!PSK[@]}"; do args+=("PSK_$u=${PSK[$u]}"); done
  make_conf "$E2E/kms.conf.in" "$WORK/kms.conf" "${args[@]}"
  start_cdivas "$WORK/cdivas.conf"
  start_kms "$WORK/kms.conf"
  KMS_URL="http://127.0.0.1:$K"
  AS_URL="http://127.0.0.1:$H"

  note "a secure CFU call: alice -> bob, diverted to carol"
  ticket_for alice bob
  sipp_bg uas "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
  alloc_ports 1
  sipp_run caller "$PORTS" -sf "$SCENARIOS/caller_secure.xml" -s bob -key domain ims.example.net \
    -key key_mgmt "$TI" -key scscf "127.0.0.1:$T" -m 1 "127.0.0.1:$P"
  sipp_wait uas
  key_mgmt_of uas

  note "carol resolves (the KMS's inquiry: permit), dave too (deny)"
  ue carol resolve --key-mgmt "$KEY_MGMT" --cdiv-indication "$CDIV" >/dev/null 2>"$WORK/resolve.err" ||
    fail "carol's resolve: $(cat "$WORK/resolve.err")"
  if ue dave resolve --key-mgmt "$KEY_MGMT" --cdiv-indication "$CDIV" >/dev/null 2>&1; then
    fail "dave was given keys"
  fi

  note "a reload that works, then one refused (a broken conf)"
  kill -HUP "$CDIVAS_PID"
  wait_for_log "configuration reloaded" || fail "the first reload"
  cp "$WORK/cdivas.conf" "$WORK/cdivas.conf.good"
  echo 'server = {' >>"$WORK/cdivas.conf"
  kill -HUP "$CDIVAS_PID"
  wait_for_log "reload failed" || fail "the broken conf was not refused"
  mv "$WORK/cdivas.conf.good" "$WORK/cdivas.conf"
}

# wait_for_log TEXT: TEXT appears in cdivas's log within 5 s.
wait_for_log() {
  for _ in $(seq 1 50); do
    grep -q "$1" "$WORK/cdivas.log" && return 0
    sleep 0.1
  done
  return 1
}

metrics_scrape() {
  curl -sf -m 5 "$AS_URL/metrics" >"$WORK/cdivas.prom" || fail "GET $AS_URL/metrics"
  curl -sf -m 5 "$KMS_URL/metrics" >"$WORK/kms.prom" || fail "GET $KMS_URL/metrics"
}

# metric_value FILE NAME{LABELS}: the value of that sample in a scrape.
metric_value() {
  awk -v want="$2" '$1 == want { print $2; found = 1 } END { exit !found }' "$1"
}
