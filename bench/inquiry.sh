#!/bin/bash
# inquiry.sh - verdicts per second from cdivas's KMS inquiry endpoint with
# RECORDS live ledger records: SIPp first places RECORDS CFU calls from as
# many different callers (a1..aN calling bob, diverted to carol), then
# bench/inquiry_load (a small C client, signed HMAC requests on keep-alive
# connections) asks about them for SECONDS seconds.
#
#   bench/inquiry.sh [RECORDS [SECONDS [THREADS]]]     defaults: 100000 10 2
set -u
cd "$(dirname "$0")/.."
RECORDS=${1:-100000}
SECONDS_RUN=${2:-10}
THREADS=${3:-2}
RATE=${RATE:-1500}
LOG_LEVEL=${LOG_LEVEL:-notice}
KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
. bench/lib.sh
INQUIRY_PORT=$(bench_port)
INQUIRY_CONF="inquiry = { listen = \"http://127.0.0.1:$INQUIRY_PORT\"; record_ttl = 3600; max_records = $((RECORDS + 1000));
  kms = ( { id = \"kms.bench\"; key = \"$KEY\"; } ); };"
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/inquiry_load.c src/core/inquiry_auth.c -lcrypto -lpthread \
  -o "$BENCH_WORK/inquiry_load" || exit 2

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
bench_start_cdivas cfu
bench_target uas -sf sipp-scenarios/target.xml -d 0
before=$(rss_kib "$CDIVAS_PID")
echo "placing $RECORDS diverted calls at $RATE/s to fill the ledger"
bench_caller -sf bench/caller_bench.xml -s bob -key domain ims.example.net -r "$RATE" -m "$RECORDS" \
  -l $((RATE * 3)) 127.0.0.1:"$CDIVAS_PORT"
records=$(curl -s "http://127.0.0.1:$INQUIRY_PORT/metrics" | sed -n 's/^cdivas_ledger_records //p')
echo "ledger records: $records (failed calls: $(bench_failed_calls caller))"
after=$(rss_kib "$CDIVAS_PID")
awk -v a="$after" -v b="$before" 'BEGIN {
  printf "RSS %.1f MB before the calls, %.1f MB after them (the calls'"'"' transactions included)\n", b / 1024, a / 1024 }'
"$BENCH_WORK/inquiry_load" 127.0.0.1 "$INQUIRY_PORT" "$KEY" kms.bench "$SECONDS_RUN" "$THREADS" "$records"
