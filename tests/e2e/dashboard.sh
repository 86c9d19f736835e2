#!/bin/bash
# doc/grafana-cdivas.json, the Grafana dashboard: valid JSON, a Prometheus
# datasource variable that every panel uses, and every metric its queries
# name exists in real /metrics scrapes of cdivas and cdivas-kms (after the
# traffic of metrics_lib.sh). With promtool the queries must also parse as
# PromQL (Grafana's $variables replaced by plain values).
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/secure_lib.sh" || exit 99
. "$E2E/metrics_lib.sh" || exit 99
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq (Debian package jq) not installed"; exit 77; }
DASH="$top_srcdir/doc/grafana-cdivas.json"

note "valid JSON, schema, datasource variable"
jq empty "$DASH" || fail "$DASH is not valid JSON"
[ "$(jq '.schemaVersion >= 36' "$DASH")" = true ] || fail "schemaVersion $(jq .schemaVersion "$DASH")"
[ "$(jq -r '.templating.list[] | select(.type == "datasource") | .query' "$DASH")" = prometheus ] ||
  fail "no Prometheus datasource variable"
bad=$(jq -r '.panels[] | select(.type != "row") | select(.datasource.uid != "${datasource}") | .title' "$DASH")
[ -z "$bad" ] || fail "panels not on the datasource variable: $bad"
bad=$(jq -r '.panels[] | select(.type != "row") | select((.targets // []) | length == 0) | .title' "$DASH")
[ -z "$bad" ] || fail "panels without a query: $bad"
[ "$(jq '[.panels[].id] | length == (unique | length)' "$DASH")" = true ] || fail "panel ids repeat"

# The queries: every panel target's expr, and the metric of each
# label_values(METRIC, LABEL) variable.
jq -r '.. | objects | select(has("expr")) | .expr' "$DASH" >"$WORK/exprs"
[ -s "$WORK/exprs" ] || fail "no queries in the dashboard"
jq -r '.templating.list[] | select(.type == "query") | .definition' "$DASH" |
  sed -n 's/^label_values(\([^,)]*\).*/\1/p' >"$WORK/variable_metrics"

# metric_names: the metric names of PromQL expressions on stdin, one per
# line: identifiers outside label matchers, strings, ranges and by/without
# lists that are neither functions nor keywords.
metric_names() {
  sed -E -e 's/"[^"]*"//g' -e 's/\{[^}]*\}//g' -e 's/\[[^]]*\]//g' \
         -e 's/\b(by|without|on|ignoring|group_left|group_right)[[:space:]]*\([^)]*\)//g' |
    grep -oE '[A-Za-z_:][A-Za-z0-9_:]*[[:space:]]*\(?' |
    grep -vE '\($' |
    grep -vxE 'and|or|unless|bool|offset|inf|nan|Inf|NaN' || true
}
metric_names <"$WORK/exprs" | cat - "$WORK/variable_metrics" | sort -u >"$WORK/referenced"
[ -s "$WORK/referenced" ] || fail "no metric names found in the queries"
note "the dashboard reads: $(tr '\n' ' ' <"$WORK/referenced")"

metrics_traffic
metrics_scrape
# The sample names of both scrapes (histograms give _bucket, _sum, _count).
cat "$WORK/cdivas.prom" "$WORK/kms.prom" | grep -v '^#' | sed -E 's/[{ ].*//' | sort -u >"$WORK/scraped"
missing=$(comm -23 "$WORK/referenced" "$WORK/scraped")
[ -z "$missing" ] || fail "the dashboard reads metrics /metrics does not have: $missing"

if command -v "${PROMTOOL:-promtool}" >/dev/null; then
  note "promtool check rules: every query parses as PromQL"
  # A rule file (JSON is YAML) with one recording rule per query.
  jq -R -s 'split("\n") | map(select(length > 0)) |
            {groups: [{name: "dashboard", rules: (to_entries |
              map({record: "dashboard:query\(.key)", expr: (.value
                | gsub("\\$__rate_interval"; "5m") | gsub("\\$__range"; "1h")
                | gsub("\\$kms_instance"; ".*") | gsub("\\$instance"; ".*"))}))}]}' \
    "$WORK/exprs" >"$WORK/rules.yml"
  "${PROMTOOL:-promtool}" check rules "$WORK/rules.yml" >"$WORK/promtool.out" 2>&1 ||
    { cat "$WORK/promtool.out"; fail "promtool check rules on the dashboard's queries"; }
else
  note "promtool not installed: PromQL syntax not checked"
fi
pass "grafana dashboard: valid, $(wc -l <"$WORK/exprs") queries over $(wc -l <"$WORK/referenced") metrics, all scraped"
