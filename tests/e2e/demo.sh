#!/bin/bash
# demo.sh - "make demo": cdivas with conf/cdivas.conf, one call from SIPp A
# to bob, who forwards unconditionally to carol. SIPp on 127.0.0.1:5080
# plays the S-CSCF (and carol behind it). Prints the diverted INVITE as it
# arrived there.
set -u
: "${top_srcdir:?}" "${CDIVAS:?}"
SIPP=${SIPP:-sipp}
S="$top_srcdir/sipp-scenarios"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cdivas-demo.XXXXXX")
trap 'kill $CDIVAS_PID $TARGET_PID 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

echo "== cdivas -t -f conf/cdivas.conf"
"$CDIVAS" -t -f "$top_srcdir/conf/cdivas.conf" || exit 1
echo "== starting cdivas on 127.0.0.1:5070 (UDP+TCP)"
"$CDIVAS" -F -f "$top_srcdir/conf/cdivas.conf" 2>"$WORK/cdivas.log" &
CDIVAS_PID=$!
for _ in $(seq 1 50); do grep -q "started as" "$WORK/cdivas.log" && break; sleep 0.1; done
kill -0 $CDIVAS_PID 2>/dev/null || { cat "$WORK/cdivas.log"; echo "cdivas did not start"; exit 1; }

common="-nostdin -i 127.0.0.1 -mi 127.0.0.1 -timeout 20s -timeout_error"
"$SIPP" $common -p 5080 -cp 8890 -mp 16000 -sf "$S/target.xml" -d 300 -m 1 \
  -trace_msg -message_file "$WORK/scscf.msg" >"$WORK/target.out" 2>&1 &
TARGET_PID=$!
sleep 0.3
echo "== SIPp A calls sip:bob@ims.example.net through the S-CSCF route"
"$SIPP" $common -p 5060 -cp 8888 -mp 16100 -sf "$S/caller_scscf.xml" -s bob -key domain ims.example.net \
  -key scscf 127.0.0.1:5080 -m 1 -trace_msg -message_file "$WORK/caller.msg" \
  127.0.0.1:5070 >"$WORK/caller.out" 2>&1 || { echo "call failed:"; tail -20 "$WORK/caller.out"; exit 1; }
wait $TARGET_PID || { echo "target failed"; tail -20 "$WORK/target.out"; exit 1; }
echo "== cdivas log"
cat "$WORK/cdivas.log"
echo "== the diverted INVITE as the S-CSCF/target on 127.0.0.1:5080 received it:"
tr -d '\r' <"$WORK/scscf.msg" | awk '/message received/{g=1;next} g&&/^INVITE /{p=1} p&&/^-+ /{exit} p' | sed '/^$/,$d'
echo "== call completed: caller got 181 Call Is Being Forwarded, 180, 200; ACK and BYE passed"
