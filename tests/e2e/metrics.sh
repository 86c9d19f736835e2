#!/bin/bash
# /metrics of cdivas and of cdivas-kms after real traffic (metrics_lib.sh):
# the counters say what happened, and promtool (Debian package prometheus)
# finds nothing to complain about in either scrape (names, _total
# counters, base units, HELP and TYPE).
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/secure_lib.sh" || exit 99
. "$E2E/metrics_lib.sh" || exit 99
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
PROMTOOL=${PROMTOOL:-promtool}
command -v "$PROMTOOL" >/dev/null || { echo "SKIP: promtool (Debian package prometheus) not installed"; exit 77; }

metrics_traffic
metrics_scrape

note "the counters count what happened"
expect_metric() {
  got=$(metric_value "$WORK/$1.prom" "$2") || { cat "$WORK/$1.prom"; fail "$1 /metrics has no $2"; }
  [ "$got" = "$3" ] || { cat "$WORK/$1.prom"; fail "$1 /metrics: $2 is $got, expected $3"; }
}
expect_metric cdivas 'cdivas_diversions_total{service="cfu"}' 1
expect_metric cdivas 'cdivas_inquiries_total{verdict="permit"}' 1
expect_metric cdivas 'cdivas_inquiries_total{verdict="deny"}' 1
expect_metric cdivas 'cdivas_reloads_total{result="ok"}' 1
expect_metric cdivas 'cdivas_reloads_total{result="failed"}' 1
expect_metric cdivas 'cdivas_transactions_in_flight' 0
expect_metric cdivas 'cdivas_store_up{backend="memory"}' 1
# Two inquiries: a replay claim and a ledger fetch each; at least those.
n=$(metric_value "$WORK/cdivas.prom" cdivas_store_query_duration_seconds_count)
[ "${n:-0}" -ge 4 ] || fail "store queries timed: $n"
inf=$(metric_value "$WORK/cdivas.prom" 'cdivas_store_query_duration_seconds_bucket{le="+Inf"}')
[ "$inf" = "$n" ] || fail "the +Inf bucket holds every query ($inf, $n)"
expect_metric kms 'cdivas_kms_tickets_total{result="issued"}' 1
expect_metric kms 'cdivas_kms_resolves_total{result="keys_sent"}' 1
expect_metric kms 'cdivas_kms_resolves_total{result="refused"}' 1
expect_metric kms 'cdivas_kms_inquiries_total{verdict="permit"}' 1
expect_metric kms 'cdivas_kms_inquiries_total{verdict="deny"}' 1

for who in cdivas kms; do
  note "promtool check metrics < $who's /metrics"
  out=$("$PROMTOOL" check metrics <"$WORK/$who.prom" 2>&1); rc=$?
  [ "$rc" = 0 ] && [ -z "$out" ] || { printf '%s\n' "$out"; fail "promtool on $who's /metrics (exit $rc)"; }
done
pass "cdivas and cdivas-kms /metrics: counters right, promtool clean"
