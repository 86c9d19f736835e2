# secure_lib.sh - the seed's secure-diversion flow (steps 1-16) with real
# processes: cdivas-ue for A and the diverted-to user, cdivas-kms, cdivas,
# and SIPp for the SIP legs. Sourced after lib.sh; uses ladder.sh.
. "$E2E/ladder.sh"

: "${CDIVAS_KMS:?}" "${CDIVAS_UE:?}"
KMS_URL=""          # set by the caller
declare -A PSK

# psk USER: a per-user key derived from the name (test and demo only).
psk_of() { printf '%s' "$1" | openssl dgst -sha256 -hex | sed 's/.*= //'; }

start_kms() {
  "$CDIVAS_KMS" -F -f "$1" >>"$WORK/kms.log" 2>&1 &
  KMS_PID=$!
  BG_PIDS="$BG_PIDS $KMS_PID"
  for _ in $(seq 1 50); do
    grep -q "started as" "$WORK/kms.log" 2>/dev/null && return 0
    kill -0 "$KMS_PID" 2>/dev/null || fail "cdivas-kms exited at start: $(cat "$WORK/kms.log")"
    sleep 0.1
  done
  fail "cdivas-kms did not start"
}

# ue USER ARGS...: cdivas-ue as USER (id and PSK filled in).
ue() {
  user=$1 cmd=$2; shift 2
  "$CDIVAS_UE" "$cmd" --kms "$KMS_URL" --id "sip:$user@ims.example.net" --psk "${PSK[$user]}" "$@"
}

# ticket_for A B: A asks the KMS for a ticket for B; sets TI (base64
# TRANSFER_INIT) and A's state in $WORK/A.state.
ticket_for() {
  TI=$(ue "$1" request --kms-id kms.ims.example.net --to "sip:$2@ims.example.net" \
        --state "$WORK/$1.state" 2>"$WORK/ue.err") || fail "ticket request: $(cat "$WORK/ue.err")"
  ladder_add "UE $1" KMS "1. REQUEST_INIT_PSK (ticket for $2)"
  ladder_add KMS "UE $1" "2. REQUEST_RESP (ticket)"
}

# key_mgmt_of NAME: the a=key-mgmt line of the last INVITE SIPp NAME got,
# and its P-CDIV-Indication (sets KEY_MGMT and CDIV).
key_mgmt_of() {
  invite=$(received_last "$1" INVITE)
  KEY_MGMT=$(printf '%s\n' "$invite" | sed -n 's/^a=key-mgmt:mikey //p' | head -n 1)
  CDIV=$(printf '%s\n' "$invite" | sed -n 's/^P-CDIV-Indication: //p' | head -n 1)
  [ -n "$KEY_MGMT" ] || fail "the diverted INVITE carries the a=key-mgmt:mikey line"
}

# received_last NAME FIRSTWORD: the last message of that kind SIPp NAME got.
received_last() {
  tr -d '\r' <"$WORK/$1.msg" | awk -v want="$2" '
    /message received/ { grab = 1; inmsg = 0; buf = ""; next }
    /^-+ / || /message sent/ { if (inmsg && index(first, want) == 1) last = buf; grab = 0; inmsg = 0; next }
    grab && !inmsg && NF == 0 { next }
    grab && !inmsg { inmsg = 1; first = $0; buf = $0 "\n"; next }
    grab && inmsg { buf = buf $0 "\n" }
    END { if (inmsg && index(first, want) == 1) last = buf; printf "%s", last }'
}

# keys_field LINE: "tek=... salt=..." of a cdivas-ue keys line.
keys_field() { printf '%s\n' "$1" | sed -n 's/.*\(tek=[0-9a-f]* salt=[0-9a-f]*\).*/\1/p'; }
