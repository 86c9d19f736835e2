#!/bin/bash
# The command line as an operator uses it (-t, -V, -h, bad options), and
# the answers to requests cdivas must refuse, each with a reason phrase.
. "${top_srcdir:?run through make check}/tests/e2e/lib.sh" || exit 99

note "cdivas -t on the shipped conf"
out=$("$CDIVAS" -t -f "$top_srcdir/conf/cdivas.conf" 2>&1) || fail "-t on conf/cdivas.conf: $out"
echo "$out" | grep -q "configuration OK" || fail "-t says OK: $out"

note "cdivas -t on a broken conf: every error as file:line: message, non-zero"
if out=$("$CDIVAS" -t -f "$E2E/bad.conf" 2>&1); then fail "-t accepted bad.conf"; fi
echo "$out"
echo "$out" | grep -qxF "$E2E/bad.conf:5: no_reply_timer must be between 5 and 180, not 2" || fail "timer error as file:line: message"
echo "$out" | grep -qxF "$E2E/bad.conf:9: unknown service 'cfx' (expected cfu, cfb, cfnr, cfnl, cd or cfnrc)" || fail "service error as file:line: message"
echo "$out" | grep -qxF "$E2E/bad.conf:13: missing required setting 'target' in cfb rule" || fail "missing target as file:line: message"
[ "$(echo "$out" | wc -l)" = 3 ] || fail "-t prints the three errors and nothing else"

note "a bad conf never starts the server"
if "$CDIVAS" -F -f "$E2E/bad.conf" >/dev/null 2>&1; then fail "started with bad.conf"; fi
if "$CDIVAS" -F -f "$WORK/missing.conf" 2>"$WORK/missing.err"; then fail "started without conf"; fi
grep -q "missing.conf" "$WORK/missing.err" || fail "missing file named"

note "cdivas-kms -t: the shipped conf, and every error of a broken one as file:line: message"
: "${CDIVAS_KMS:?}"
out=$("$CDIVAS_KMS" -t -f "$top_srcdir/conf/kms.conf" 2>&1) || fail "cdivas-kms -t on conf/kms.conf: $out"
echo "$out" | grep -q "configuration OK" || fail "cdivas-kms -t says OK: $out"
K="$E2E/bad_kms.conf"
if out=$("$CDIVAS_KMS" -t -f "$K" 2>&1); then fail "cdivas-kms -t accepted bad_kms.conf"; fi
echo "$out"
expected=$(cat <<EOF
$K:4: id must be a string, not an integer
$K:5: bad listen URL 'ftp://127.0.0.1:8080': must start with http:// or https://
$K:10: tls_certificate '/nonexistent/kms.pem': No such file or directory
$K:6: ticket_key must be exactly 64 hex digits
$K:7: ticket_lifetime must be between 60 and 86400, not 10
$K:8: inquiry_timeout must be an integer, not a string
$K:9: unknown log_level 'loud'
$K:14: duplicate user 'sip:alice@IMS.example.net'
$K:15: malformed URI 'sip:' in id: empty host
$K:15: psk must be exactly 64 hex digits
$K:17: users entries must be groups { id = ...; psk = ...; }
$K:19: inquiry_url must start with http:// or https://
$K:19: key must be exactly 64 hex digits
$K:20: an https inquiry_url needs tls_ca to verify the AS
$K:22: missing required setting 'identity'
$K:22: missing required setting 'key'
$K:24: unknown or mistyped setting 'bogus' (expected the kms group, users and application_servers lists)
EOF
)
[ "$out" = "$expected" ] || fail "cdivas-kms -t prints exactly these errors, in this order:
$expected"
printf 'kms = { id = "x"\n' >"$WORK/kms_syntax.conf"
out=$("$CDIVAS_KMS" -t -f "$WORK/kms_syntax.conf" 2>&1) && fail "cdivas-kms -t accepted a syntax error"
[ "$out" = "$WORK/kms_syntax.conf:2: syntax error" ] || fail "kms syntax error as file:line: message, got '$out'"
out=$("$CDIVAS_KMS" -t -f "$WORK/kms_missing.conf" 2>&1) && fail "cdivas-kms -t accepted a missing file"
[ "$out" = "$WORK/kms_missing.conf: cannot read: No such file or directory" ] || fail "missing kms conf, got '$out'"
printf 'users = ();\n' >"$WORK/kms_nokms.conf"
out=$("$CDIVAS_KMS" -t -f "$WORK/kms_nokms.conf" 2>&1) && fail "cdivas-kms -t accepted a conf without kms"
[ "$out" = "$WORK/kms_nokms.conf:1: missing required group 'kms'" ] || fail "missing kms group, got '$out'"

note "-V, -h, unknown option"
"$CDIVAS" -V | grep -qx "cdivas [0-9.]*" || fail "-V prints the version"
"$CDIVAS" -h | grep -q -- "-f FILE" || fail "-h prints usage"
"$CDIVAS" -x >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option exits 2"

note "requests cdivas refuses"
alloc_ports 2; set -- $PORTS; P=$1 T=$2
make_conf "$E2E/cfu.conf.in" "$WORK/cdivas.conf" HOST=127.0.0.1 PORT="$P" TARGET="$T" TRANSPORT=udp
start_cdivas "$WORK/cdivas.conf"
r=$(sip_raw "$P" "$(invite_text bob "$P" $'Max-Forwards: 0\n')")
[ "$r" = "SIP/2.0 483 Too Many Hops" ] || fail "Max-Forwards 0 gives 483, got '$r'"
r=$(sip_raw "$P" "$(invite_text bob "$P" $'Max-Forwards: 70\nHistory-Info: <sip:x@y;index=1\n')")
[ "$r" = "SIP/2.0 400 Bad History-Info: unterminated <" ] || fail "malformed History-Info gives 400 with a reason, got '$r'"
# An odd index is no reason to refuse a call (issue 17): bob's CFU goes on.
r=$(sip_raw "$P" "$(invite_text bob "$P" $'Max-Forwards: 70\nHistory-Info: <sip:x@y>;index=1..2\n')")
[ "$r" = "SIP/2.0 181 Call Is Being Forwarded" ] || fail "History-Info with index=1..2 is diverted, got '$r'"
r=$(sip_raw "$P" "$(invite_text bob "$P" $'Max-Forwards: 70\nP-Served-User: <sip:bob@\n')")
[ "$r" = "SIP/2.0 400 Bad P-Served-User" ] || fail "malformed P-Served-User gives 400, got '$r'"
r=$(sip_raw "$P" "$(printf 'OPTIONS sip:127.0.0.1:%s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-o%s\nFrom: <sip:scscf@ims.example.net>;tag=o1\nTo: <sip:127.0.0.1:%s>\nCall-ID: opt-%s\nCSeq: 1 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n' "$P" "$RANDOM" "$P" "$RANDOM")")
[ "$r" = "SIP/2.0 200 OK" ] || fail "OPTIONS to cdivas gives 200, got '$r'"
r=$(sip_raw "$P" "$(printf 'REGISTER sip:cdivas.ims.example.net SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-r%s\nFrom: <sip:bob@ims.example.net>;tag=r1\nTo: <sip:bob@ims.example.net>\nCall-ID: reg-%s\nCSeq: 1 REGISTER\nContact: <sip:scscf.ims.example.net>\nExpires: 600000\nMax-Forwards: 70\nContent-Length: 0\n\n' "$RANDOM" "$RANDOM")")
[ "$r" = "SIP/2.0 200 OK" ] || fail "third-party REGISTER gives 200, got '$r'"
r=$(sip_raw "$P" "$(printf 'CANCEL sip:bob@ims.example.net SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-c%s\nFrom: <sip:alice@ims.example.net>;tag=c1\nTo: <sip:bob@ims.example.net>\nCall-ID: stray-cancel-%s\nCSeq: 1 CANCEL\nMax-Forwards: 70\nContent-Length: 0\n\n' "$RANDOM" "$RANDOM")")
[ "$r" = "SIP/2.0 481 Call/Transaction Does Not Exist" ] || fail "a CANCEL without its INVITE gives 481, got '$r'"
grep -q "CANCEL without a transaction to cancel (answered already, or never seen): 481 call-id=stray-cancel-" "$WORK/cdivas.log" ||
  fail "a CANCEL answered 481 is logged"
kill -0 "$CDIVAS_PID" || fail "cdivas still running after bad input"
pass "command line, conf errors, refused requests"
