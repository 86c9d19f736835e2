#!/bin/bash
# XCAP (doc/xcap.md): curl GETs, PUTs and DELETEs bob's simservs document
# with HTTP Digest and with X-3GPP-Asserted-Identity from the trusted
# authentication proxy (curl bound to 127.0.0.2); every refusal gets its
# status (401, 403, 404, 409 with the XCAP error, 412, 415); SIPp calls
# show each rule in force at once (History-Info cause), and after a
# restart and a SIGHUP; the operator resets a document by removing its
# file; cdivas -t checks the state directory. Then bob dials feature
# codes (TS 22.030) and the next call follows them; with redis-server,
# the same with the documents in Redis.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/services_lib.sh" || exit 99
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }

alloc_ports 4
# shellcheck disable=SC2206
ports=($PORTS)
P=${ports[0]} T=${ports[1]} X=${ports[2]}
STATE=$WORK/state
mkdir -p "$STATE"
make_conf "$E2E/xcap.conf.in" "$WORK/cdivas.conf" PORT="$P" TARGET="$T" XCAP="$X" STATE="$STATE"
"$CDIVAS" -t -f "$WORK/cdivas.conf" >"$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; fail "cdivas -t"; }
start_cdivas "$WORK/cdivas.conf"

ROOT="http://127.0.0.1:$X/simservs.ngn.etsi.org/users"
BOB="$ROOT/sip:bob@ims.example.net/simservs.xml"
CDIV="$BOB/~~/simservs/communication-diversion"
RULE="$CDIV/cp:ruleset/cp:rule%5B@id=%22call-diversion-unconditional%22%5D"
AS_BOB=(--digest -u "bob@ims.example.net:bob-secret")
EL=(-H "Content-Type: application/xcap-el+xml")

# xc METHOD URL CURL-ARGS...: sets HTTP_STATUS, HTTP_BODY and HTTP_ETAG
# (the ETag of the final answer).
xc() {
  method=$1 url=$2; shift 2
  out=$(curl -s -m 5 -X "$method" -D "$WORK/xc.headers" -w '\n%{http_code}' "$@" "$url") || true
  HTTP_STATUS=${out##*$'\n'}
  HTTP_BODY=${out%$'\n'*}
  HTTP_ETAG=$(tr -d '\r' <"$WORK/xc.headers" | sed -n 's/^ETag: "\(.*\)"$/\1/p' | tail -n 1)
}
expect_status() {   # expect_status STATUS WHAT
  [ "$HTTP_STATUS" = "$1" ] || fail "$2: HTTP $HTTP_STATUS (expected $1): $HTTP_BODY"
}
expect_body() {     # expect_body TEXT WHAT
  printf '%s' "$HTTP_BODY" | grep -qF -- "$1" || { printf '%s\n' "$HTTP_BODY"; fail "$2: no '$1' in the body"; }
}
cfu_rule() {        # cfu_rule TARGET: a CFU rule as a phone PUTs it, prefixes undeclared
  printf '<cp:rule id="call-diversion-unconditional"><cp:conditions/><cp:actions><ss:forward-to>'
  printf '<ss:target>%s</ss:target><ss:notify-caller>true</ss:notify-caller></ss:forward-to>' "$1"
  printf '</cp:actions></cp:rule>'
}

CALLS=0
# call_bob TARGET-USER CAUSE: a call to bob reaches TARGET-USER, diverted
# with CAUSE (none: bob himself, undiverted).
call_bob() {
  CALLS=$((CALLS + 1))
  sipp_bg "t$CALLS" "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
  if [ -n "${2:-}" ]; then
    sipp_call "c$CALLS" -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
  else
    sipp_call "c$CALLS" -sf "$SCENARIOS/caller.xml" -s bob -key domain ims.example.net -m 1
  fi
  sipp_wait "t$CALLS"
  invite=$(received "t$CALLS" INVITE)
  expect_line "$invite" "INVITE sip:$1@ims.example.net SIP/2.0" "call $CALLS reaches $1"
  if [ -n "${2:-}" ]; then
    expect_line "$invite" "History-Info: <sip:bob@ims.example.net>;index=1, <sip:$1@ims.example.net;cause=$2>;index=1.1;mp=1" \
      "call $CALLS: History-Info of the diversion to $1"
  fi
}

restart_cdivas() {
  kill "$CDIVAS_PID"
  wait "$CDIVAS_PID" 2>/dev/null
  CDIVAS_PID=""
  mv "$WORK/cdivas.log" "$WORK/cdivas.$(date +%s%N).log"
  start_cdivas "$WORK/cdivas.conf"
}

# ---------------------------------------------------------------- the conf's rules
note "GET right after start: the conf file's rules (cfb to carol)"
xc GET "$BOB"
expect_status 401 "no credentials"
grep -q '^WWW-Authenticate: Digest realm="cdivas.ims.example.net", qop="auth", algorithm=SHA-256' "$WORK/xc.headers" ||
  fail "401 with a SHA-256 Digest challenge"
grep -q 'algorithm=MD5' "$WORK/xc.headers" || fail "and an MD5 one"
xc GET "$BOB" "${AS_BOB[@]}"
expect_status 200 "GET of the document"
expect_body '<ss:simservs xmlns:ss="http://uri.etsi.org/ngn/params/xml/simservs/xcap"' "a simservs document"
expect_body '<cp:rule id="call-diversion-busy">' "the conf's rule, with the id phones use"
expect_body '<ss:busy/>' "its condition"
expect_body '<ss:target>sip:carol@ims.example.net</ss:target>' "its target"
grep -qi '^Content-Type: application/vnd.etsi.simservs+xml' "$WORK/xc.headers" || fail "the document's type"
E0=$HTTP_ETAG
[ -n "$E0" ] || fail "an ETag"
xc GET "$CDIV/@active" "${AS_BOB[@]}"
expect_status 200 "GET of @active"
[ "$HTTP_BODY" = "true" ] || fail "@active is true: $HTTP_BODY"
grep -qi '^Content-Type: application/xcap-att+xml' "$WORK/xc.headers" || fail "an attribute's type"
xc GET "$CDIV/cp:ruleset/cp:rule%5B1%5D" "${AS_BOB[@]}"
expect_status 200 "GET of cp:rule[1]"
expect_body 'id="call-diversion-busy"' "the first rule"
grep -qi '^Content-Type: application/xcap-el+xml' "$WORK/xc.headers" || fail "an element's type"
xc GET "$BOB/~~/p:simservs/p:communication-diversion/c:ruleset?xmlns(p=http://uri.etsi.org/ngn/params/xml/simservs/xcap)xmlns(c=urn:ietf:params:xml:ns:common-policy)" "${AS_BOB[@]}"
expect_status 200 "GET with prefixes bound by the query"
expect_body '<cp:ruleset' "the ruleset"
xc GET "$ROOT/tel:+15551000002/simservs.xml" "${AS_BOB[@]}"
expect_status 200 "the document by bob's tel alias"
[ "$HTTP_ETAG" = "$E0" ] || fail "the same document by the alias"
xc GET "$ROOT/sip%3Abob%40ims.example.net/simservs.xml" "${AS_BOB[@]}"
expect_status 200 "the document by a percent-encoded XUI"
call_bob bob ""

# ---------------------------------------------------------------- refusals
note "who may do what: 401, 403; unknown users and nodes: 404"
xc GET "$BOB" --digest -u "bob@ims.example.net:wrong"
expect_status 401 "a wrong password"
xc GET "$BOB" --digest -u "carol@ims.example.net:carol-secret"
expect_status 403 "carol may not read bob's document"
xc PUT "$RULE" --digest -u "carol@ims.example.net:carol-secret" "${EL[@]}" --data-binary "$(cfu_rule sip:carol@ims.example.net)"
expect_status 403 "carol may not change bob's document"
grep -q "xcap: PUT .* from 127.0.0.1 as sip:carol@ims.example.net: 403 a subscriber may only reach its own document" \
  "$WORK/cdivas.log" || fail "the 403 is logged"
xc PUT "$ROOT/sip:eve@ims.example.net/simservs.xml/~~/simservs/communication-diversion/@active" \
  --digest -u "eve@ims.example.net:eve-secret" -H "Content-Type: application/xcap-att+xml" --data-binary false
expect_status 403 "self_service = false"
xc GET "$ROOT/sip:eve@ims.example.net/simservs.xml" --digest -u "eve@ims.example.net:eve-secret"
expect_status 200 "eve may still read her rules"
xc GET "$BOB" -H 'X-3GPP-Asserted-Identity: "sip:bob@ims.example.net"'
expect_status 401 "an asserted identity from an address that is no trusted proxy counts for nothing"
grep -q "X-3GPP-Asserted-Identity from 127.0.0.1, which is not a trusted proxy: ignored" "$WORK/cdivas.log" ||
  fail "the untrusted header is logged"
xc GET "$ROOT/sip:nobody@ims.example.net/simservs.xml" --interface 127.0.0.2 \
  -H 'X-3GPP-Asserted-Identity: "sip:nobody@ims.example.net"'
expect_status 404 "an unknown user"
xc GET "$CDIV/cp:ruleset/cp:rule%5B@id=%22nope%22%5D" "${AS_BOB[@]}"
expect_status 404 "an unknown node"
xc GET "$ROOT/sip:bob@ims.example.net/index" "${AS_BOB[@]}"
expect_status 404 "an unknown document"

# ---------------------------------------------------------------- a change over XCAP, Digest
note "bob PUTs a CFU rule to dave (Digest, If-Match): in force for the next call"
xc PUT "$RULE" "${AS_BOB[@]}" -H "Content-Type: application/xml" --data-binary "$(cfu_rule sip:dave@ims.example.net)"
expect_status 415 "the wrong Content-Type"
xc PUT "$RULE" "${AS_BOB[@]}" "${EL[@]}" -H "If-Match: \"$E0\"" --data-binary "$(cfu_rule sip:dave@ims.example.net)"
expect_status 201 "a new rule"
E1=$HTTP_ETAG
[ -n "$E1" ] && [ "$E1" != "$E0" ] || fail "a new ETag after the change"
[ -f "$STATE/sip%3Abob@ims.example.net.xml" ] || fail "bob's document is in the state directory"
xc PUT "$RULE" "${AS_BOB[@]}" "${EL[@]}" -H "If-Match: \"$E0\"" --data-binary "$(cfu_rule sip:carol@ims.example.net)"
expect_status 412 "the If-Match race: the second PUT with the old ETag"
[ "$HTTP_ETAG" = "$E1" ] || fail "the 412 gives the current ETag"
xc GET "$BOB" "${AS_BOB[@]}" -H "If-None-Match: \"$E1\""
expect_status 304 "If-None-Match with the current ETag"
xc GET "$RULE" "${AS_BOB[@]}"
expect_status 200 "the new rule"
expect_body '<ss:target>sip:dave@ims.example.net</ss:target>' "its target"
call_bob dave 302

note "409 with the XCAP error for what cdivas cannot take"
xc PUT "$CDIV/NoReplyTimer" "${AS_BOB[@]}" "${EL[@]}" --data-binary '<ss:NoReplyTimer>200</ss:NoReplyTimer>'
expect_status 409 "NoReplyTimer 200"
expect_body '<xcap-error xmlns="urn:ietf:params:xml:ns:xcap-error">' "an XCAP error document"
expect_body '<constraint-failure phrase="NoReplyTimer must be between 5 and 180 seconds, not 200"/>' "naming the problem"
grep -qi '^Content-Type: application/xcap-error+xml' "$WORK/xc.headers" || fail "the XCAP error's type"
xc PUT "$RULE" "${AS_BOB[@]}" "${EL[@]}" --data-binary "$(cfu_rule http://example.net/)"
expect_status 409 "a target that is no sip, sips or tel URI"
expect_body "bad target URI" "named"
xc PUT "$RULE" "${AS_BOB[@]}" "${EL[@]}" \
  --data-binary '<cp:rule id="call-diversion-unconditional"><cp:conditions><ss:presence-status/></cp:conditions><cp:actions/></cp:rule>'
expect_status 409 "an unknown condition"
expect_body "unknown condition ss:presence-status" "named"
xc PUT "$RULE" "${AS_BOB[@]}" "${EL[@]}" --data-binary '<!DOCTYPE x [<!ENTITY a "aaaa">]><cp:rule id="x">&a;</cp:rule>'
expect_status 409 "a DTD"
expect_body "<not-xml-frag" "not an XML fragment we take"
[ "$(curl -s "${AS_BOB[@]}" "$RULE")" = "$(curl -s "${AS_BOB[@]}" "$RULE")" ] || fail "GET twice"
xc GET "$BOB" "${AS_BOB[@]}"
[ "$HTTP_ETAG" = "$E1" ] || fail "nothing refused changed the document"

# ---------------------------------------------------------------- asserted identity
note "the authentication proxy (127.0.0.2) asserts bob's identity: NoReplyTimer 30, by his tel alias"
xc PUT "$ROOT/tel:+15551000002/simservs.xml/~~/simservs/communication-diversion/NoReplyTimer" --interface 127.0.0.2 \
  -H 'X-3GPP-Asserted-Identity: "tel:+15551000002"' "${EL[@]}" -H "If-Match: \"$E1\"" \
  --data-binary '<NoReplyTimer xmlns="http://uri.etsi.org/ngn/params/xml/simservs/xcap">30</NoReplyTimer>'
expect_status 201 "an element inserted with an asserted identity"
E2=$HTTP_ETAG
xc GET "$CDIV/NoReplyTimer" --interface 127.0.0.2 -H 'X-3GPP-Intended-Identity: "sip:bob@ims.example.net"'
expect_status 200 "X-3GPP-Intended-Identity from the trusted proxy"
expect_body '>30</ss:NoReplyTimer>' "the timer"
xc GET "$ROOT/sip:carol@ims.example.net/simservs.xml" --interface 127.0.0.2 -H 'X-3GPP-Asserted-Identity: "sip:bob@ims.example.net"'
expect_status 403 "bob's asserted identity on carol's document"

# ---------------------------------------------------------------- restart, SIGHUP
note "a restart keeps bob's document, and so does a SIGHUP"
restart_cdivas
xc GET "$BOB" "${AS_BOB[@]}"
expect_status 200 "GET after the restart"
[ "$HTTP_ETAG" = "$E2" ] || fail "the same document after the restart ($HTTP_ETAG, expected $E2)"
grep -q "xcap: 1 subscriber document in force" "$WORK/cdivas.log" || fail "cdivas says one document is in force"
call_bob dave 302
kill -HUP "$CDIVAS_PID"
for _ in $(seq 1 30); do grep -q "configuration reloaded" "$WORK/cdivas.log" && break; sleep 0.1; done
xc GET "$BOB" "${AS_BOB[@]}"
[ "$HTTP_ETAG" = "$E2" ] || fail "the same document after SIGHUP"
call_bob dave 302

# ---------------------------------------------------------------- DELETE
note "DELETE of the rule, then of the whole document: the conf's rules again"
xc DELETE "$CDIV/@active" "${AS_BOB[@]}"
expect_status 409 "@active cannot go (it is always there)"
expect_body "<cannot-delete" "cannot-delete"
xc DELETE "$RULE" "${AS_BOB[@]}"
expect_status 200 "DELETE of the CFU rule"
xc GET "$RULE" "${AS_BOB[@]}"
expect_status 404 "the rule is gone"
call_bob bob ""
xc DELETE "$BOB" "${AS_BOB[@]}"
expect_status 200 "DELETE of the document"
[ "$HTTP_ETAG" = "$E0" ] || fail "back to the conf's document ($HTTP_ETAG, expected $E0)"
[ ! -e "$STATE/sip%3Abob@ims.example.net.xml" ] || fail "the state file is gone"

note "the operator resets a document: remove its file, SIGHUP"
xc PUT "$RULE" "${AS_BOB[@]}" "${EL[@]}" --data-binary "$(cfu_rule sip:dave@ims.example.net)"
expect_status 201 "bob's CFU again"
printf 'not xml' >"$STATE/sip%3Acarol@ims.example.net.xml"
if "$CDIVAS" -t -f "$WORK/cdivas.conf" >"$WORK/check.out" 2>&1; then fail "cdivas -t with a broken document"; fi
grep -qF "$STATE/sip%3Acarol@ims.example.net.xml: the body must be exactly one XML element" "$WORK/check.out" ||
  { cat "$WORK/check.out"; fail "cdivas -t names the broken document"; }
rm "$STATE/sip%3Acarol@ims.example.net.xml" "$STATE/sip%3Abob@ims.example.net.xml"
kill -HUP "$CDIVAS_PID"
sleep 0.5
xc GET "$BOB" "${AS_BOB[@]}"
[ "$HTTP_ETAG" = "$E0" ] || fail "the conf's rules after the reset"
call_bob bob ""

# ---------------------------------------------------------------- feature codes
FC=0
# dial CODE [USER]: USER (default bob) dials CODE with SIPp (originating,
# P-Served-User sescase=orig): answered 603 with the sentence, set in TEXT.
dial() {
  FC=$((FC + 1))
  sipp_call "fc$FC" -sf "$SCENARIOS/caller_feature_code.xml" -s "$1" -key user "${2:-bob}" -key domain ims.example.net -m 1
  TEXT=$(received "fc$FC" "SIP/2.0 603" | head -n 1 | sed 's/^SIP\/2.0 603 //')
}
# raw_dial RURI [PSU-USER]: the first final answer to an originating INVITE for RURI.
raw_dial() {
  sip_raw "$P" "$(printf 'INVITE %s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-%s\nFrom: <sip:%s@ims.example.net>;tag=f%s\nTo: <%s>\nCall-ID: fc-%s@test\nCSeq: 1 INVITE\nContact: <sip:x@127.0.0.1:9>\nP-Served-User: <sip:%s@ims.example.net>;sescase=orig;regstate=reg\nContent-Length: 0\n\n' \
    "$1" "$RANDOM$RANDOM" "${2:-bob}" "$RANDOM" "$1" "$RANDOM$RANDOM" "${2:-bob}")"
}
# call_bob_to RURI CAUSE: a call to bob reaches RURI, diverted with CAUSE.
call_bob_to() {
  CALLS=$((CALLS + 1))
  if [ "$2" = 486 ]; then
    sipp_bg "t$CALLS" "$T" -sf "$SCENARIOS/served_busy.xml" -d 100 -m 1
  else
    sipp_bg "t$CALLS" "$T" -sf "$SCENARIOS/target.xml" -d 100 -m 1
  fi
  sipp_call "c$CALLS" -sf "$SCENARIOS/caller_diverted.xml" -s bob -key domain ims.example.net -m 1
  sipp_wait "t$CALLS"
  invite=$(received_nth "t$CALLS" INVITE "$([ "$2" = 486 ] && echo 2 || echo 1)")
  expect_line "$invite" "INVITE $1 SIP/2.0" "call $CALLS reaches $1"
  printf '%s\n' "$invite" | grep -q "^History-Info: .*;cause=$2>;index=1.1;mp=1" ||
    { printf '%s\n' "$invite"; fail "call $CALLS: History-Info with cause $2"; }
}

note "feature codes: bob dials *21*+4930123#, the next call goes there, XCAP shows it"
dial '*21*+4930123%23'; text=$TEXT
[ "$text" = "call forwarding unconditional on to tel:+4930123" ] || fail "the answer to *21*: '$text'"
w=$(received "fc$FC" "SIP/2.0 603" | grep '^Warning:')
[ "$w" = 'Warning: 399 cdivas.ims.example.net "call forwarding unconditional on to tel:+4930123"' ] ||
  fail "the Warning: $w"
call_bob_to "tel:+4930123" 302
xc GET "$RULE" "${AS_BOB[@]}"
expect_status 200 "the feature code's rule over XCAP"
expect_body '<ss:target>tel:+4930123</ss:target>' "its target"
[ -f "$STATE/sip%3Abob@ims.example.net.xml" ] || fail "stored like a PUT"
dial '*%2321%23'; text=$TEXT
[ "$text" = "call forwarding unconditional is on to tel:+4930123" ] || fail "interrogation: '$text'"

note "#21# off, *67*5551234# busy forwarding (a local number), *21# on again"
dial '%2321%23'; text=$TEXT
[ "$text" = "call forwarding unconditional off" ] || fail "#21#: '$text'"
dial '*67*5551234%23'; text=$TEXT
[ "$text" = "call forwarding on busy on to sip:5551234@ims.example.net;user=phone" ] || fail "*67*: '$text'"
call_bob_to "sip:5551234@ims.example.net;user=phone" 486
dial '*21%23'; text=$TEXT
[ "$text" = "call forwarding unconditional on" ] || fail "*21# activates the registered number: '$text'"
call_bob_to "tel:+4930123" 302

note "*61*DN*T#, the tel: form of a code, ##002# erases all"
line=$(raw_dial 'tel:*61*+4930777*25#;phone-context=ims.example.net')
[ "$line" = "SIP/2.0 603 call forwarding on no reply on to tel:+4930777 after 25 s" ] || fail "tel: *61*: $line"
xc GET "$CDIV/cp:ruleset/cp:rule%5B@id=%22call-diversion-no-reply%22%5D" "${AS_BOB[@]}"
expect_body '<ss:NoReplyTimer>25</ss:NoReplyTimer>' "the no-reply time over XCAP"
dial '%23%23002%23'; text=$TEXT
[ "$text" = "all call forwarding erased" ] || fail "##002#: '$text'"
xc GET "$BOB" "${AS_BOB[@]}"
expect_body '<cp:ruleset/>' "no rule left"
call_bob bob ""

note "what is refused: an unknown code (484), self_service = false and non-subscribers (403)"
line=$(raw_dial 'sip:*99*1%23@ims.example.net;user=phone')
[ "$line" = "SIP/2.0 484 not a call forwarding code (21, 67, 61, 62, 63, 002, 004)" ] || fail "*99*: $line"
line=$(raw_dial 'sip:*21*+4930123%23@ims.example.net;user=phone' eve)
[ "$line" = "SIP/2.0 403 call forwarding is set by the operator for this user" ] || fail "eve: $line"
line=$(raw_dial 'sip:*21*+4930123%23@ims.example.net;user=phone' mallory)
[ "$line" = "SIP/2.0 403 only subscribers may set call forwarding" ] || fail "mallory: $line"

# ---------------------------------------------------------------- Redis
REDIS_SERVER=${REDIS_SERVER:-redis-server}
if [ "$REDIS_SERVER" != no ] && command -v "$REDIS_SERVER" >/dev/null 2>&1; then
  note "with store.backend redis: the document lives in Redis and survives a restart"
  R=${ports[3]}
  "$REDIS_SERVER" --port "$R" --bind 127.0.0.1 --save "" --appendonly no >>"$WORK/redis.log" 2>&1 &
  BG_PIDS="$BG_PIDS $!"
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$R") 2>/dev/null && break; sleep 0.1; done
  grep -v 'state_dir' "$WORK/cdivas.conf" >"$WORK/redis.conf"
  printf 'store = { backend = "redis"; address = "127.0.0.1:%s"; prefix = "xcap-e2e:"; };\n' "$R" >>"$WORK/redis.conf"
  cp "$WORK/redis.conf" "$WORK/cdivas.conf"
  restart_cdivas
  xc PUT "$RULE" "${AS_BOB[@]}" "${EL[@]}" --data-binary "$(cfu_rule sip:carol@ims.example.net)"
  expect_status 201 "a PUT stored in Redis"
  E3=$HTTP_ETAG
  call_bob carol 302
  restart_cdivas
  xc GET "$BOB" "${AS_BOB[@]}"
  [ "$HTTP_ETAG" = "$E3" ] || fail "the document from Redis after the restart"
  call_bob carol 302
  dial '%2321%23'
  [ "$TEXT" = "call forwarding unconditional off" ] || fail "#21# with Redis: '$TEXT'"
  call_bob bob ""
else
  note "SKIP of the Redis part: no redis-server"
fi

pass "XCAP and feature codes: GET/PUT/DELETE with Digest and asserted identities, refusals, rules in force, restart, SIGHUP, reset, TS 22.030 codes"
