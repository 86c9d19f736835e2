#!/bin/bash
# The KMS inquiry endpoint over plain HTTP: a CFU call through the daemon,
# then signed inquiries as a KMS sends them: permit for the diverted-to
# user only, deny otherwise, 401 for replays and bad signatures, and the
# HTTP errors of the API.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
alloc_ports 4; set -- $PORTS; P=$1 T=$2 A=$3 H=$4
make_conf "$E2E/inquiry.conf.in" "$WORK/cdivas.conf" PORT="$P" TARGET="$T" \
  HTTP_URL="http://127.0.0.1:$H" TLS="" KMS_KEY="$KEY"
start_cdivas "$WORK/cdivas.conf"
URL="http://127.0.0.1:$H"

note "a CFU call: alice -> bob, diverted to carol"
sipp_bg target "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_run caller "$A" -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1 "127.0.0.1:$P"
sipp_wait target
callid=$(received target INVITE | sed -n 's/^Call-ID: //p')

note "carol, the diverted-to user: permit"
inquire "$URL" "$KEY" "$(inquiry_body id-carol-0001 sip:alice@ims.example.net sip:bob@ims.example.net sip:carol@ims.example.net)"
expect_http 200 '{"inquiry_id":"id-carol-0001","verdict":"permit"}' "permit for the diverted-to user"
note "carol by her tel alias, bob by his: permit"
inquire "$URL" "$KEY" "$(inquiry_body id-alias-0001 sip:alice@ims.example.net tel:+1-555-100-0002 tel:+15551000003)"
expect_http 200 '{"inquiry_id":"id-alias-0001","verdict":"permit"}' "aliases compare as the same users"
note "with the Call-ID of the call: permit"
inquire "$URL" "$KEY" "$(inquiry_body id-callid-01 sip:alice@ims.example.net sip:bob@ims.example.net sip:carol@ims.example.net ", \"call_id\": \"$callid\"")"
expect_http 200 '{"inquiry_id":"id-callid-01","verdict":"permit"}' "call_id accepted"
note "dave, not where the call went: deny"
inquire "$URL" "$KEY" "$(inquiry_body id-dave-00001 sip:alice@ims.example.net sip:bob@ims.example.net sip:dave@ims.example.net)"
expect_http 200 '{"inquiry_id":"id-dave-00001","verdict":"deny"}' "deny for another user"
note "another caller's ticket: deny"
inquire "$URL" "$KEY" "$(inquiry_body id-mallory-01 sip:mallory@ims.example.net sip:bob@ims.example.net sip:carol@ims.example.net)"
expect_http 200 '{"inquiry_id":"id-mallory-01","verdict":"deny"}' "deny for another initiator"
note "another AS identity: deny"
inquire "$URL" "$KEY" "$(inquiry_body id-otheras-01 sip:alice@ims.example.net sip:bob@ims.example.net sip:carol@ims.example.net '' sip:other-as.example.net)"
expect_http 200 '{"inquiry_id":"id-otheras-01","verdict":"deny"}' "deny when as is not this server"

note "replay of a used inquiry_id: 401"
inquire "$URL" "$KEY" "$(inquiry_body id-carol-0001 sip:alice@ims.example.net sip:bob@ims.example.net sip:carol@ims.example.net)"
expect_http 401 "" "replay refused"
note "bad signature (other key): 401"
inquire "$URL" "ff${KEY:2}" "$(inquiry_body id-badsig-001 sip:alice@ims.example.net sip:bob@ims.example.net sip:carol@ims.example.net)"
expect_http 401 "" "bad signature refused"
note "unknown KMS: 401"
KMS_ID=kms.other.example.net
inquire "$URL" "$KEY" "$(inquiry_body id-unknown-01 sip:alice@ims.example.net sip:bob@ims.example.net sip:carol@ims.example.net)"
unset KMS_ID
expect_http 401 "" "unknown kms refused"
note "stale timestamp: 401"
TS=$(( $(date +%s) - 31 ))
inquire "$URL" "$KEY" "$(inquiry_body id-stale-0001 sip:alice@ims.example.net sip:bob@ims.example.net sip:carol@ims.example.net)"
unset TS
expect_http 401 "" "stale timestamp refused"
note "no Authorization: 401"
http_call POST "$URL/cdiv/v1/inquiry" -H 'Content-Type: application/json' --data-binary '{}'
expect_http 401 "" "unsigned request refused"

note "malformed JSON: 400"
inquire "$URL" "$KEY" '{"inquiry_id": "id-broken-001", '
expect_http 400 "" "malformed JSON"
note "missing field: 400"
inquire "$URL" "$KEY" "{\"inquiry_id\": \"id-missing-01\", \"timestamp\": $(date +%s)}"
expect_http 400 "" "missing fields"
note "oversized body: 400"
inquire "$URL" "$KEY" "$(head -c 9000 /dev/zero | tr '\0' ' ')"
expect_http 400 "" "body over 8 KiB"
note "wrong method: 405; unknown path: 404"
http_call GET "$URL/cdiv/v1/inquiry"
expect_http 405 "" "GET on the inquiry"
http_call GET "$URL/nothing/here"
expect_http 404 "" "unknown path"

note "/health and /metrics"
http_call GET "$URL/health"
expect_http 200 '{"status":"ok"}' "health"
http_call GET "$URL/metrics"
for line in 'cdivas_diversions_total{service="cfu"} 1' 'cdivas_inquiries_total{verdict="permit"} 3' \
            'cdivas_inquiries_total{verdict="deny"} 3' 'cdivas_inquiry_auth_failures_total 5' \
            'cdivas_ledger_records 1'; do
  printf '%s\n' "$HTTP_BODY" | grep -qxF "$line" || { printf '%s\n' "$HTTP_BODY"; fail "metrics: $line"; }
done
kill -0 "$CDIVAS_PID" || fail "cdivas still running"
pass "inquiry endpoint: verdicts, authentication, errors, metrics"
