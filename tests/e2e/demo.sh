#!/bin/bash
# demo.sh - "make demo", with the shipped confs:
#  1. cdivas (conf/cdivas.conf) and one forwarded call: SIPp A calls bob,
#     bob forwards unconditionally to carol; the INVITE as it reached the
#     S-CSCF (SIPp on 127.0.0.1:5080) is printed.
#  2. the seed's secure diversion with the reference KMS (conf/kms.conf):
#     A's ticket for bob, the diverted INVITE, carol's resolve, the KMS's
#     inquiry to cdivas, and the keys of carol and A compared; dave is
#     refused. A ladder diagram of the run is printed and saved as SVG.
set -u
: "${top_srcdir:?}" "${CDIVAS:?}" "${CDIVAS_KMS:?}" "${CDIVAS_UE:?}"
SIPP=${SIPP:-sipp}
S="$top_srcdir/sipp-scenarios"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cdivas-demo.XXXXXX")
SVG=${DEMO_SVG:-$PWD/demo-ladder.svg}
PIDS=""
trap 'kill $PIDS 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
fail() { echo "demo failed: $*"; for f in "$WORK"/*.log "$WORK"/*.out; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done; exit 1; }
# The first INVITE SIPp NAME received, with its body (headers only: received_invite_headers).
received_invite() {
  tr -d '\r' <"$WORK/$1.msg" | awk '/message received/{g=1;next} g&&/^INVITE /{p=1} p&&/^-+ /{exit} p'
}
received_invite_headers() { received_invite "$1" | sed '/^$/,$d'; }
wait_log() { for _ in $(seq 1 50); do grep -q "started as" "$1" && return 0; sleep 0.1; done; fail "$2 did not start"; }
common="-nostdin -i 127.0.0.1 -mi 127.0.0.1 -timeout 20s -timeout_error"

echo "== cdivas -t -f conf/cdivas.conf"
"$CDIVAS" -t -f "$top_srcdir/conf/cdivas.conf" || exit 1
echo "== starting cdivas on 127.0.0.1:5070 (SIP, UDP+TCP) and 127.0.0.1:8070 (KMS inquiries)"
"$CDIVAS" -F -f "$top_srcdir/conf/cdivas.conf" 2>"$WORK/cdivas.log" &
PIDS="$PIDS $!"
wait_log "$WORK/cdivas.log" cdivas

"$SIPP" $common -p 5080 -cp 8890 -mp 16000 -sf "$S/target.xml" -d 300 -m 1 \
  -trace_msg -message_file "$WORK/scscf.msg" >"$WORK/target.out" 2>&1 &
TARGET=$!
sleep 0.3
echo "== SIPp A calls sip:bob@ims.example.net through the S-CSCF route"
"$SIPP" $common -p 5060 -cp 8888 -mp 16100 -sf "$S/caller_scscf.xml" -s bob -key domain ims.example.net \
  -key scscf 127.0.0.1:5080 -m 1 -trace_msg -message_file "$WORK/caller.msg" \
  127.0.0.1:5070 >"$WORK/caller.out" 2>&1 || fail "the call failed"
wait $TARGET || fail "the target failed"
echo "== cdivas log"
cat "$WORK/cdivas.log"
echo "== the diverted INVITE as the S-CSCF/target on 127.0.0.1:5080 received it:"
received_invite_headers scscf
echo "== call completed: caller got 181 Call Is Being Forwarded, 180, 200; ACK and BYE passed"

echo
echo "== secure diversion (the seed's steps 1-16) with cdivas-kms -f conf/kms.conf"
"$CDIVAS_KMS" -F -f "$top_srcdir/conf/kms.conf" 2>"$WORK/kms.log" &
PIDS="$PIDS $!"
wait_log "$WORK/kms.log" cdivas-kms
KMS=http://127.0.0.1:8080
ALICE=a11ce0000000000000000000000000000000000000000000000000000000a11c
CAROL=ca7010000000000000000000000000000000000000000000000000000000ca70
DAVE=da7e000000000000000000000000000000000000000000000000000000000da7
E2E="$top_srcdir/tests/e2e"
. "$E2E/ladder.sh"
ladder_actors "UE alice" KMS cdivas "S-CSCF" "UE carol"

TI=$("$CDIVAS_UE" request --kms $KMS --id sip:alice@ims.example.net --psk $ALICE \
      --kms-id kms.ims.example.net --to sip:bob@ims.example.net --state "$WORK/alice.state") ||
  fail "alice's ticket request"
ladder_add "UE alice" KMS "1. REQUEST_INIT_PSK (ticket for bob)"
ladder_add KMS "UE alice" "2. REQUEST_RESP (ticket)"
"$SIPP" $common -p 5080 -cp 8890 -mp 16000 -sf "$S/target.xml" -d 300 -m 1 \
  -trace_msg -message_file "$WORK/scscf2.msg" >"$WORK/target2.out" 2>&1 &
TARGET=$!
sleep 0.3
"$SIPP" $common -p 5060 -cp 8888 -mp 16100 -sf "$S/caller_secure.xml" -s bob -key domain ims.example.net \
  -key key_mgmt "$TI" -key scscf 127.0.0.1:5080 -m 1 127.0.0.1:5070 >"$WORK/caller2.out" 2>&1 || fail "the secure call failed"
wait $TARGET || fail "the target of the secure call failed"
ladder_add "UE alice" cdivas "3. INVITE bob, a=key-mgmt:mikey"
ladder_add cdivas "UE alice" "5-6. 181 Call Is Being Forwarded"
ladder_add cdivas S-CSCF "7. INVITE carol, History-Info, ID-AS, CDIV"
ladder_add S-CSCF "UE carol" "8. INVITE carol"
invite=$(received_invite scscf2)
KEY_MGMT=$(printf '%s\n' "$invite" | sed -n 's/^a=key-mgmt:mikey //p')
CDIV=$(printf '%s\n' "$invite" | sed -n 's/^P-CDIV-Indication: //p')
echo "carol's INVITE: P-CDIV-Indication: $CDIV"
carol=$("$CDIVAS_UE" resolve --kms $KMS --id sip:carol@ims.example.net --psk $CAROL \
         --key-mgmt "$KEY_MGMT" --cdiv-indication "$CDIV" --keys-out "$WORK/carol.keys") ||
  fail "carol's resolve"
ladder_add "UE carol" KMS "9. RESOLVE_INIT_PSK (ID-AS, ID-C, CDIV)"
ladder_add KMS cdivas "10. inquiry A=alice B=bob C=carol"
ladder_add cdivas KMS "11. verdict: permit"
ladder_add KMS "UE carol" "12. RESOLVE_RESP (keys for carol)"
TR=$("$CDIVAS_UE" respond --keys "$WORK/carol.keys" --key-mgmt "$KEY_MGMT") || fail "TRANSFER_RESP"
alice=$("$CDIVAS_UE" derive --state "$WORK/alice.state" --key-mgmt "$TI" --transfer-resp "$TR") ||
  fail "alice's keys"
ladder_add "UE carol" S-CSCF "13. 200 OK (TRANSFER_RESP)"
ladder_add S-CSCF cdivas "14. 200 OK"
ladder_add cdivas "UE alice" "15-16. 200 OK: SRTP with the same keys"
echo "carol's keys: $carol"
echo "alice's keys: $alice"
[ "${carol#*tek=}" = "${alice#*tek=}" ] || fail "the keys differ"
echo "== the keys match"
if "$CDIVAS_UE" resolve --kms $KMS --id sip:dave@ims.example.net --psk $DAVE \
     --key-mgmt "$KEY_MGMT" --cdiv-indication "$CDIV" >/dev/null 2>"$WORK/dave.err"; then
  fail "dave was given keys"
fi
echo "== dave, whom the call did not reach, is refused: $(cat "$WORK/dave.err")"
echo "== KMS log"
cat "$WORK/kms.log"
echo
echo "== ladder diagram"
ladder_text
ladder_svg "$SVG"
echo "(also written as $SVG)"
