#!/bin/bash
# The inquiry endpoint over TLS with client certificates: a KMS with a
# certificate from the configured CA gets its verdict; a client without a
# certificate, or with one from another CA, does not get past the
# handshake; the HMAC is still required over TLS.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

# A CA for the KMSs, the server's certificate, a KMS certificate, and a
# stranger's certificate from another CA.
pki() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=$1" -keyout "$WORK/$1.key" -out "$WORK/$1.pem" 2>/dev/null
}
leaf() {   # leaf NAME CA [SAN]
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
    -keyout "$WORK/$1.key" -out "$WORK/$1.csr" 2>/dev/null
  printf 'subjectAltName=%s\n' "${3:-DNS:$1}" >"$WORK/$1.ext"
  openssl x509 -req -in "$WORK/$1.csr" -CA "$WORK/$2.pem" -CAkey "$WORK/$2.key" \
    -CAcreateserial -days 2 -extfile "$WORK/$1.ext" -out "$WORK/$1.pem" 2>/dev/null
}
pki ca; pki otherca
leaf server ca "IP:127.0.0.1"
leaf kms ca
leaf stranger otherca

KEY=8f1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff0
alloc_ports 4; set -- $PORTS; P=$1 T=$2 A=$3 H=$4
make_conf "$E2E/inquiry.conf.in" "$WORK/cdivas.conf" PORT="$P" TARGET="$T" \
  HTTP_URL="https://127.0.0.1:$H" KMS_KEY="$KEY" \
  TLS="tls_certificate = \"$WORK/server.pem\"; tls_key = \"$WORK/server.key\"; tls_client_ca = \"$WORK/ca.pem\";"
start_cdivas "$WORK/cdivas.conf"
URL="https://127.0.0.1:$H"

note "a CFU call: alice -> bob, diverted to carol"
sipp_bg target "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
sipp_run caller "$A" -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1 "127.0.0.1:$P"
sipp_wait target

note "the KMS with its certificate: permit for carol, deny for dave"
CURL_TLS="--cacert $WORK/ca.pem --cert $WORK/kms.pem --key $WORK/kms.key"
inquire "$URL" "$KEY" "$(inquiry_body tls-carol-001 sip:alice@ims.example.net sip:bob@ims.example.net sip:carol@ims.example.net)"
expect_http 200 '{"inquiry_id":"tls-carol-001","verdict":"permit"}' "permit over TLS"
inquire "$URL" "$KEY" "$(inquiry_body tls-dave-0001 sip:alice@ims.example.net sip:bob@ims.example.net sip:dave@ims.example.net)"
expect_http 200 '{"inquiry_id":"tls-dave-0001","verdict":"deny"}' "deny over TLS"
note "HMAC still required over TLS: bad signature is 401"
inquire "$URL" "ff${KEY:2}" "$(inquiry_body tls-badsig-01 sip:alice@ims.example.net sip:bob@ims.example.net sip:carol@ims.example.net)"
expect_http 401 "" "bad signature over TLS"

note "no client certificate: no answer"
CURL_TLS="--cacert $WORK/ca.pem"
inquire "$URL" "$KEY" "$(inquiry_body tls-nocert-01 sip:alice@ims.example.net sip:bob@ims.example.net sip:carol@ims.example.net)"
[ "$HTTP_STATUS" = 000 ] || fail "a client without certificate got HTTP $HTTP_STATUS"
note "a certificate from another CA: no answer"
CURL_TLS="--cacert $WORK/ca.pem --cert $WORK/stranger.pem --key $WORK/stranger.key"
inquire "$URL" "$KEY" "$(inquiry_body tls-strngr-01 sip:alice@ims.example.net sip:bob@ims.example.net sip:carol@ims.example.net)"
[ "$HTTP_STATUS" = 000 ] || fail "a stranger's certificate got HTTP $HTTP_STATUS"
note "plain HTTP to the TLS port: no answer"
CURL_TLS=""
http_call GET "http://127.0.0.1:$H/health"
[ "$HTTP_STATUS" = 000 ] || fail "plain HTTP on the TLS port got HTTP $HTTP_STATUS"
kill -0 "$CDIVAS_PID" || fail "cdivas still running"
pass "inquiry over TLS with client certificates"
