# lib.sh - shared by the end-to-end tests: start the real cdivas and SIPp on
# free loopback ports, keep every message they exchange, assert on them.
# Sourced by each test; exit 77 tells automake "skipped".
set -u

: "${top_srcdir:?run through make check}" "${CDIVAS:?}" "${FREEPORT:?}"
SIPP=${SIPP:-sipp}
if [ "$SIPP" = no ] || ! command -v "$SIPP" >/dev/null 2>&1; then
  echo "SKIP: sipp (Debian package sip-tester) is not installed"
  exit 77
fi
SCENARIOS="$top_srcdir/sipp-scenarios"
E2E="$top_srcdir/tests/e2e"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cdivas-e2e.XXXXXX")
CDIVAS_PID=""
BG_PIDS=""
TEST_FAILED=1

cleanup() {
  for pid in $BG_PIDS $CDIVAS_PID; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  for p in $USED_PORTS; do rmdir "$PORT_LOCKS/$p" 2>/dev/null; done
  if [ "$TEST_FAILED" = 1 ]; then
    echo "--- cdivas log ($WORK/cdivas.log):"; cat "$WORK/cdivas.log" 2>/dev/null | tail -n 40
    for f in "$WORK"/*_errors.log; do [ -s "$f" ] && { echo "--- $f:"; tail -n 40 "$f"; }; done
    echo "work files kept in $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }
pass() { TEST_FAILED=0; echo "PASS: $*"; }
note() { echo "# $*"; }

# alloc_ports N: N loopback ports free for UDP and TCP (and the three above
# for SIPp media), never one handed out before in this test.
# Sets PORTS (no subshell, so that USED_PORTS remembers them). Each port
# is also reserved machine-wide (mkdir is atomic) until this test ends, so
# tests running in parallel (make -j check) never pick the same block
# while one of them has not bound it yet.
USED_PORTS=" "
PORT_LOCKS=${TMPDIR:-/tmp}/cdivas-e2e-ports
mkdir -p "$PORT_LOCKS" 2>/dev/null
alloc_ports() {
  for _ in $(seq 1 20); do
    PORTS=$("$FREEPORT" "$1") || fail "no free ports"
    taken=""
    clash=0
    for p in $PORTS; do
      if mkdir "$PORT_LOCKS/$p" 2>/dev/null; then taken="$taken $p"; else clash=1; fi
    done
    [ "$clash" = 0 ] && break
    for p in $taken; do rmdir "$PORT_LOCKS/$p" 2>/dev/null; done
  done
  for p in $PORTS; do USED_PORTS="$USED_PORTS$p "; done
}

# make_conf TEMPLATE OUT VAR=VALUE...: a test conf with @VAR@ replaced.
make_conf() {
  template=$1 out=$2; shift 2
  cp "$template" "$out.tmp"
  for kv in "$@"; do
    sed -i "s|@${kv%%=*}@|${kv#*=}|g" "$out.tmp"
  done
  mv "$out.tmp" "$out"
}

# start_cdivas CONF [PORT]: runs cdivas in the foreground mode, waits for it to listen.
# Only what this start appends to cdivas.log counts: a restarted cdivas is
# waited for even when the log still holds an earlier run's lines.
start_cdivas() {
  local from=1
  [ -f "$WORK/cdivas.log" ] && from=$(($(wc -l <"$WORK/cdivas.log") + 1))
  "$CDIVAS" -F -f "$1" >>"$WORK/cdivas.log" 2>&1 &
  CDIVAS_PID=$!
  for _ in $(seq 1 50); do
    tail -n "+$from" "$WORK/cdivas.log" 2>/dev/null | grep -q "started as" && return 0
    kill -0 "$CDIVAS_PID" 2>/dev/null || fail "cdivas exited at start"
    sleep 0.1
  done
  fail "cdivas did not start"
}

# sipp_args NAME PORT: sets SIPP_ARGS, the options every SIPp run gets:
# loopback only, own control and media ports, every message traced into
# $WORK/NAME.msg.
sipp_args() {
  alloc_ports 2
  set -- "$1" "$2" $PORTS
  SIPP_ARGS="-nostdin -i ${SIPP_IP:-127.0.0.1} -p $2 -ci 127.0.0.1 -cp $3"
  SIPP_ARGS="$SIPP_ARGS -mi ${SIPP_IP:-127.0.0.1} -mp $4 -timeout 30s -timeout_error"
  SIPP_ARGS="$SIPP_ARGS -trace_msg -message_file $WORK/$1.msg -trace_err -error_file $WORK/$1_errors.log"
}

# sipp_bg NAME PORT ARGS...: SIPp in the background (a UAS); sipp_wait NAME checks it.
sipp_bg() {
  name=$1 port=$2; shift 2
  sipp_args "$name" "$port"
  # shellcheck disable=SC2086
  "$SIPP" $SIPP_ARGS "$@" >"$WORK/$name.out" 2>&1 &
  eval "PID_$name=$!"
  BG_PIDS="$BG_PIDS $!"
  sleep 0.3
}
sipp_wait() {
  eval "pid=\$PID_$1"
  wait "$pid" || fail "SIPp $1 failed (exit $?): see $WORK/$1.out"
}

# sipp_run NAME PORT ARGS...: SIPp in the foreground (a UAC); fails the test on error.
sipp_run() {
  name=$1 port=$2; shift 2
  sipp_args "$name" "$port"
  # shellcheck disable=SC2086
  "$SIPP" $SIPP_ARGS "$@" >"$WORK/$name.out" 2>&1 ||
    fail "SIPp $name failed (exit $?): see $WORK/$name.out"
}

# received NAME FIRSTWORD: the first message SIPp NAME received whose first
# line starts with FIRSTWORD (e.g. "INVITE", "SIP/2.0 181"), CRs removed.
received() {
  tr -d '\r' <"$WORK/$1.msg" | awk -v want="$2" '
    /message received/ { grab = 1; inmsg = 0; buf = ""; next }
    /^-+ / || /message sent/ { if (inmsg && !done && index(first, want) == 1) { printf "%s", buf; done = 1 } grab = 0; inmsg = 0; next }
    grab && !inmsg && NF == 0 { next }
    grab && !inmsg { inmsg = 1; first = $0; buf = $0 "\n"; next }
    grab && inmsg { buf = buf $0 "\n" }
    END { if (inmsg && !done && index(first, want) == 1) printf "%s", buf }'
}

# expect_line TEXT LINE WHAT: TEXT (a message) contains exactly LINE.
expect_line() {
  printf '%s\n' "$1" | grep -qxF -- "$2" || {
    echo "expected line: $2"; echo "in message:"; printf '%s\n' "$1" | sed 's/^/  | /'
    fail "$3"
  }
}
# expect_no_header TEXT NAME WHAT
expect_no_header() {
  if printf '%s\n' "$1" | sed '/^$/q' | grep -qi "^$2:"; then
    printf '%s\n' "$1" | sed 's/^/  | /'; fail "$3"
  fi
}

# sip_raw PORT MESSAGE: sends MESSAGE (LF line ends, turned into CRLF) over
# UDP to cdivas and prints the first response line that is not a 100.
sip_raw() {
  exec 3<>"/dev/udp/127.0.0.1/$1"
  printf '%s' "$2" | sed 's/$/\r/' >&3
  for _ in 1 2 3; do
    line=$(timeout 3 dd bs=65535 count=1 status=none <&3 | head -n 1 | tr -d '\r')
    case "$line" in "SIP/2.0 100"*) continue ;; esac
    break
  done
  exec 3>&-
  printf '%s\n' "$line"
}

# invite_text RURI-USER PORT EXTRA-HEADERS: a minimal INVITE towards cdivas.
invite_text() {
  printf 'INVITE sip:%s@ims.example.net SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-%s\nFrom: <sip:alice@ims.example.net>;tag=a%s\nTo: <sip:%s@ims.example.net>\nCall-ID: raw-%s@test\nCSeq: 1 INVITE\nContact: <sip:alice@127.0.0.1:9>\n%sContent-Length: 0\n\n' \
    "$1" "$RANDOM$RANDOM" "$RANDOM" "$1" "$RANDOM$RANDOM" "$3"
}

# ---------------------------------------------------------------- KMS inquiries
# inquiry_body ID INITIATOR INTENDED REQUESTER [EXTRA-JSON [AS]]: a request
# body with the current time (or $TS) and kms $KMS_ID.
inquiry_body() {
  printf '{"inquiry_id": "%s", "timestamp": %s, "kms": "%s", "initiator": "%s", "intended": "%s", "requester": "%s", "as": "%s"%s}' \
    "$1" "${TS:-$(date +%s)}" "${KMS_ID:-kms.ims.example.net}" "$2" "$3" "$4" \
    "${6:-sip:cdivas.ims.example.net}" "${5:-}"
}

# http_call METHOD URL CURL-ARGS...: sets HTTP_STATUS and HTTP_BODY.
http_call() {
  method=$1 url=$2; shift 2
  out=$(curl -s -m 5 -X "$method" -w '\n%{http_code}' ${CURL_TLS:-} "$@" "$url") || true
  HTTP_STATUS=${out##*$'\n'}
  HTTP_BODY=${out%$'\n'*}
}

# inquire URL HEXKEY BODY: POSTs BODY signed as a KMS does (HMAC-SHA-256
# over "POST\n/cdiv/v1/inquiry\n" timestamp "\n" body), the timestamp
# being the one inside BODY.
inquire() {
  ts=$(printf '%s' "$3" | sed -n 's/.*"timestamp": *\([0-9]*\).*/\1/p')
  sig=$(printf 'POST\n/cdiv/v1/inquiry\n%s\n%s' "$ts" "$3" |
        openssl dgst -sha256 -mac HMAC -macopt "hexkey:$2" -binary | base64 -w0)
  http_call POST "$1/cdiv/v1/inquiry" -H 'Content-Type: application/json' \
    -H "Authorization: CDIV-HMAC-SHA256 kms=\"${KMS_ID:-kms.ims.example.net}\", sig=\"$sig\"" \
    --data-binary "$3"
}

# expect_http STATUS BODY WHAT: the last http_call answered STATUS (and
# exactly BODY when BODY is not empty).
expect_http() {
  [ "$HTTP_STATUS" = "$1" ] || fail "$3: HTTP $HTTP_STATUS $HTTP_BODY (expected $1)"
  [ -z "$2" ] || [ "$HTTP_BODY" = "$2" ] || fail "$3: body $HTTP_BODY (expected $2)"
}
