#!/bin/bash
# The seed's secure diversion, steps 1-16, with real processes: A gets a
# ticket for B from cdivas-kms, calls B with it in the SDP, cdivas diverts
# the call, the diverted-to user resolves the ticket with the ID-AS and
# CDIV indication of its INVITE, the KMS asks cdivas, and the keys of the
# diverted-to user equal the keys A derives. Then every refusal: a user
# the call did not reach, a replayed resolve, an ID-AS the KMS does not
# know; B's own resolve needs no inquiry; CFB and a two-hop chain resolve.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99
. "$E2E/secure_lib.sh" || exit 99

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
ladder_actors "UE alice" KMS cdivas S-CSCF "UE carol"

# secure_call CALLER CALLEE UAS-SCENARIO: CALLER gets a ticket for CALLEE
# and calls; the S-CSCF SIPp plays UAS-SCENARIO. Leaves KEY_MGMT and CDIV
# of the INVITE the final target got.
secure_call() {
  ticket_for "$1" "$2"
  rm -f "$WORK/uas.msg" "$WORK/caller.msg"
  sipp_bg uas "$T" -sf "$SCENARIOS/$3" -d 100 -m 1
  alloc_ports 1
  sipp_run caller "$PORTS" -sf "$SCENARIOS/caller_secure.xml" -s "$2" -key domain ims.example.net \
    -key key_mgmt "$TI" -key scscf "127.0.0.1:$T" -m 1 "127.0.0.1:$P"
  sipp_wait uas
  key_mgmt_of uas
}

# resolve_as USER [ARGS...]: USER resolves KEY_MGMT; sets RC and OUT.
resolve_as() {
  user=$1; shift
  OUT=$(ue "$user" resolve --key-mgmt "$KEY_MGMT" "$@" 2>"$WORK/resolve.err"); RC=$?
  ERR=$(cat "$WORK/resolve.err")
}

inquiries() {
  curl -s "http://127.0.0.1:$H/metrics" | sed -n "s/^cdivas_inquiries_total{verdict=\"$1\"} //p"
}

note "steps 1-8: alice calls bob with a ticket for bob; bob forwards to carol (CFU)"
secure_call alice bob target.xml
ladder_add "UE alice" cdivas "3. INVITE bob (TRANSFER_INIT)"
ladder_add cdivas "UE alice" "5-6. 181 Call Is Being Forwarded"
ladder_add cdivas S-CSCF "7. INVITE carol + History-Info, ID-AS, CDIV"
ladder_add S-CSCF "UE carol" "8. INVITE carol"
[ "$TI" = "$KEY_MGMT" ] || fail "the TRANSFER_INIT reaches carol unchanged"
[ "$CDIV" = "<sip:cdivas.ims.example.net>;hi=1.1" ] || fail "carol's INVITE names the AS: '$CDIV'"
grep -q "diversion call-id=.*service=cfu" "$WORK/cdivas.log" || fail "cdivas diverted the call"
grep -qE "recorded sip:bob@ims.example.net -> sip:carol@ims.example.net for sip:alice@ims.example.net, ticket [0-9a-f]{64}" \
  "$WORK/cdivas.log" || fail "cdivas recorded the diversion with the ticket's hash"

note "steps 9-12: carol resolves with ID-AS and CDIV; the KMS asks cdivas; keys for carol"
resolve_as carol --cdiv-indication "$CDIV" --keys-out "$WORK/carol.keys"
[ "$RC" = 0 ] || fail "carol's resolve (exit $RC): $ERR"
ladder_add "UE carol" KMS "9. RESOLVE_INIT_PSK (ticket, ID-AS, ID-C, CDIV)"
ladder_add KMS cdivas "10. inquiry: A=alice B=bob C=carol"
ladder_add cdivas KMS "11. verdict: permit"
ladder_add KMS "UE carol" "12. RESOLVE_RESP (keys forked to carol)"
carol_keys=$OUT
[ "$(inquiries permit)" = 1 ] || fail "exactly one permitted inquiry so far"
grep -q "AS sip:cdivas.ims.example.net said permit" "$WORK/kms.log" || fail "the KMS log shows the AS's permit"
ticket=$(sed -n 's/.*recorded sip:bob@ims.example.net -> .*, ticket \([0-9a-f]*\)$/\1/p' "$WORK/cdivas.log" | head -n 1)
note "the same question with another ticket's hash: deny (the KMS's own inquiry carried the right one)"
KEY=$AS_KEY
inquire "http://127.0.0.1:$H" "$KEY" "$(inquiry_body wrong-ticket-01 sip:alice@ims.example.net sip:bob@ims.example.net sip:carol@ims.example.net ", \"ticket_hash\": \"$(printf '%064d' 0)\"")"
expect_http 200 '{"inquiry_id":"wrong-ticket-01","verdict":"deny"}' "ticket hash mismatch is a deny"
inquire "http://127.0.0.1:$H" "$KEY" "$(inquiry_body right-ticket-01 sip:alice@ims.example.net sip:bob@ims.example.net sip:carol@ims.example.net ", \"ticket_hash\": \"$ticket\"")"
expect_http 200 '{"inquiry_id":"right-ticket-01","verdict":"permit"}' "the recorded ticket hash permits"

note "steps 13-16: carol's TRANSFER_RESP in the 200 OK; alice derives the same keys"
TR=$("$CDIVAS_UE" respond --keys "$WORK/carol.keys" --key-mgmt "$KEY_MGMT") || fail "TRANSFER_RESP"
alice_keys=$("$CDIVAS_UE" derive --state "$WORK/alice.state" --key-mgmt "$TI" --transfer-resp "$TR") ||
  fail "alice derives her keys"
ladder_add "UE carol" S-CSCF "13. 200 OK (TRANSFER_RESP)"
ladder_add S-CSCF cdivas "14. 200 OK"
ladder_add cdivas "UE alice" "15-16. 200 OK; SRTP with the shared keys"
echo "carol: $carol_keys"
echo "alice: $alice_keys"
[ -n "$(keys_field "$carol_keys")" ] && [ "$(keys_field "$carol_keys")" = "$(keys_field "$alice_keys")" ] ||
  fail "carol's keys equal the keys alice derives"

note "dave, whom the call did not reach, presents the same ticket and indication: refused"
resolve_as dave --cdiv-indication "$CDIV"
[ "$RC" = 3 ] || fail "dave refused with exit 3, got $RC: $OUT $ERR"
[ "$(inquiries deny)" = 2 ] || fail "the AS denied dave's inquiry"

note "bob, the ticket's own recipient, resolves without any inquiry"
before=$(inquiries permit)
resolve_as bob
[ "$RC" = 0 ] || fail "bob's own resolve (exit $RC): $ERR"
[ "$(inquiries permit)" = "$before" ] && [ "$(inquiries deny)" = 2 ] || fail "no inquiry for bob"
[ "$(keys_field "$OUT")" != "$(keys_field "$carol_keys")" ] || fail "keys are forked: bob's differ from carol's"

note "a replayed RESOLVE_INIT is refused"
ue carol resolve --key-mgmt "$KEY_MGMT" --cdiv-indication "$CDIV" --save-request "$WORK/resolve.bin" >/dev/null ||
  fail "first resolve for the replay test"
curl -s -o "$WORK/replay.out" -H 'Content-Type: application/mikey' --data-binary @"$WORK/resolve.bin" "$KMS_URL/mikey"
[ "$(od -An -tu1 -j1 -N1 "$WORK/replay.out" | tr -d ' ')" = 6 ] || fail "the replay gets a MIKEY error message (type 6)"
grep -q "replayed RESOLVE_INIT" "$WORK/kms.log" || fail "the KMS logs the replay"

note "an ID-AS the KMS does not know gets no inquiry and is refused"
before_p=$(inquiries permit); before_d=$(inquiries deny)
resolve_as carol --id-as sip:rogue-as.example.net
[ "$RC" = 3 ] || fail "unknown ID-AS refused with exit 3, got $RC"
[ "$(inquiries permit)" = "$before_p" ] && [ "$(inquiries deny)" = "$before_d" ] || fail "no inquiry sent for an unknown AS"
grep -q "ID-AS not in this KMS's conf: no inquiry" "$WORK/kms.log" || fail "the KMS logs why"

note "CFB: alice calls erin, who is busy; frank resolves"
secure_call alice erin served_busy.xml
resolve_as frank --cdiv-indication "$CDIV" --keys-out "$WORK/frank.keys"
[ "$RC" = 0 ] || fail "frank's resolve after CFB (exit $RC): $ERR"
TR=$("$CDIVAS_UE" respond --keys "$WORK/frank.keys" --key-mgmt "$KEY_MGMT")
a=$("$CDIVAS_UE" derive --state "$WORK/alice.state" --key-mgmt "$TI" --transfer-resp "$TR")
[ "$(keys_field "$OUT")" = "$(keys_field "$a")" ] || fail "frank's keys equal alice's after CFB"

note "two hops: alice calls gina, gina -> hank -> ivan; ivan resolves gina's ticket"
secure_call alice gina target.xml
[ "$CDIV" = "<sip:cdivas.ims.example.net>;hi=1.1.1" ] || fail "ivan's INVITE names the AS and the hop: '$CDIV'"
resolve_as ivan --cdiv-indication "$CDIV" --keys-out "$WORK/ivan.keys"
[ "$RC" = 0 ] || fail "ivan's resolve over two hops (exit $RC): $ERR"
TR=$("$CDIVAS_UE" respond --keys "$WORK/ivan.keys" --key-mgmt "$KEY_MGMT")
a=$("$CDIVAS_UE" derive --state "$WORK/alice.state" --key-mgmt "$TI" --transfer-resp "$TR")
[ "$(keys_field "$OUT")" = "$(keys_field "$a")" ] || fail "ivan's keys equal alice's after two hops"

kill -0 "$CDIVAS_PID" && kill -0 "$KMS_PID" || fail "both servers still running"
ladder_text >"$WORK/ladder.txt"
ladder_svg "$WORK/ladder.svg"
grep -q "<svg" "$WORK/ladder.svg" && grep -q "RESOLVE_INIT_PSK" "$WORK/ladder.txt" || fail "ladder diagram"
pass "secure diversion end to end: keys match, every refusal holds"
