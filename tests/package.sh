#!/bin/bash
# package.sh - the Debian packages (debian/) from build to purge, as root
# on Debian 12 (.ci/run runs it after make check; it is not part of make
# check: it installs and purges packages, and uses SIP ports 5060, 5070,
# 5080 and 8070 like make demo):
#  1. dpkg-buildpackage -us -uc -b in a copy of HEAD (git archive), and
#     lintian on the result: no E: line;
#  2. apt-get install of cdivas and cdivas-kms; the installed conf checked
#     (cdivas -t) as the user cdivas;
#  3. the unit's ExecStart run as the user cdivas (with systemd as PID 1,
#     the started service is checked and stopped first), its ExecReload
#     lines run, one SIPp call that must be diverted (caller_scscf.xml:
#     the 181 with History-Info; the S-CSCF gets carol's INVITE), a stop;
#  4. apt-get purge: /etc/cdivas, the binaries, the units, /var/lib/cdivas
#     and the user cdivas must be gone. The package sizes are printed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
S="$top/sipp-scenarios"
fail() { echo "package.sh failed: $*"; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root: it installs and purges packages"
git -C "$top" rev-parse --verify -q HEAD >/dev/null || fail "$top is not a git checkout (git archive HEAD)"
for p in cdivas cdivas-kms; do
  if dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv not-installed; then
    fail "$p is already installed: this test would purge it"
  fi
done
for f in /etc/cdivas /usr/sbin/cdivas /usr/sbin/cdivas-kms /usr/bin/cdivas-ue; do
  [ ! -e "$f" ] || fail "$f exists before the packages are installed"
done

WORK=$(mktemp -d /tmp/cdivas-package.XXXXXX)
chmod 755 "$WORK"   # apt's _apt user reads the .debs from here
PID="" TARGET="" INSTALLED=""
cleanup() {
  for p in $PID $TARGET; do kill "$p" 2>/dev/null || true; done
  if [ -n "$INSTALLED" ]; then apt-get purge -y -qq cdivas cdivas-kms >/dev/null 2>&1 || true; fi
  [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
show() { for f in "$@"; do [ -f "$f" ] && { echo "--- $f"; tail -30 "$f"; }; done; }

echo "== dpkg-buildpackage -us -uc -b in a copy of HEAD ($(git -C "$top" rev-parse --short HEAD))"
mkdir "$WORK/cdivas"
git -C "$top" archive HEAD | tar -x -C "$WORK/cdivas"
(cd "$WORK/cdivas" && dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1 ||
  { show "$WORK/build.log"; fail "dpkg-buildpackage"; }
cd "$WORK"
ls cdivas_*.deb cdivas-kms_*.deb cdivas_*.changes >/dev/null || fail "the .debs or the .changes are missing"

echo "== lintian"
lintian --tag-display-limit 0 cdivas_*.changes 2>&1 | grep -v 'running with root privileges' | tee lintian.out || true
! grep -q '^E:' lintian.out || fail "lintian reports errors"
[ -s lintian.out ] || echo "(no errors, no warnings)"

echo "== apt-get install ./cdivas_*.deb ./cdivas-kms_*.deb"
INSTALLED=1
apt-get install -y -qq ./cdivas_*.deb ./cdivas-kms_*.deb >install.log 2>&1 || { show install.log; fail "apt-get install"; }
getent passwd cdivas >/dev/null || fail "no user cdivas after installation"
[ "$(stat -c %U:%G:%a /etc/cdivas/cdivas.conf)" = root:cdivas:640 ] ||
  fail "/etc/cdivas/cdivas.conf is $(stat -c %U:%G:%a /etc/cdivas/cdivas.conf), not root:cdivas:640"
[ "$(stat -c %U /var/lib/cdivas)" = cdivas ] || fail "/var/lib/cdivas is not owned by cdivas"
unit=/lib/systemd/system/cdivas.service
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify --man=no "$unit" /lib/systemd/system/cdivas-kms.service || fail "systemd-analyze verify"
fi
if [ -d /run/systemd/system ]; then
  echo "== systemd: the started service, a reload, a stop"
  sleep 1
  systemctl is-active -q cdivas || { journalctl -u cdivas -n 30 --no-pager; fail "cdivas.service is not active"; }
  systemctl reload cdivas || fail "systemctl reload cdivas"
  systemctl stop cdivas
fi

echo "== cdivas -t -f /etc/cdivas/cdivas.conf (and cdivas-kms -t), as the user cdivas"
runuser -u cdivas -- cdivas -t -f /etc/cdivas/cdivas.conf || fail "the installed conf does not check"
runuser -u cdivas -- cdivas-kms -t -f /etc/cdivas/kms.conf || fail "the installed kms.conf does not check"

start=$(sed -n 's/^ExecStart=//p' "$unit")
[ -n "$start" ] || fail "no ExecStart in $unit"
echo "== as the user cdivas: $start"
# $start unquoted: the unit's command line, split into words as systemd does.
(cd / && exec runuser -u cdivas -- $start) 2>cdivas.log &
RUNUSER=$!
for _ in $(seq 1 50); do grep -q "started as" cdivas.log && break; sleep 0.1; done
grep -q "started as" cdivas.log || { show cdivas.log; fail "the daemon did not start"; }
PID=$(pgrep -P "$RUNUSER") || fail "no daemon under runuser"
[ "$(ps -o user= -p "$PID")" = cdivas ] || fail "the daemon does not run as cdivas"

echo "== the unit's ExecReload lines"
sed -n 's/^ExecReload=//p' "$unit" | sed "s/\$MAINPID/$PID/" | while read -r cmd; do
  echo "+ $cmd"
  runuser -u cdivas -- $cmd || fail "ExecReload: $cmd"
done
for _ in $(seq 1 30); do grep -q "configuration reloaded" cdivas.log && break; sleep 0.1; done
grep -q "configuration reloaded" cdivas.log || { show cdivas.log; fail "no reload after SIGHUP"; }

echo "== SIPp: A calls bob (CFU to carol) through cdivas on 127.0.0.1:5070"
common="-nostdin -i 127.0.0.1 -mi 127.0.0.1 -timeout 20s -timeout_error"
sipp $common -p 5080 -cp 8890 -mp 16000 -sf "$S/target.xml" -d 300 -m 1 \
  -trace_msg -message_file scscf.msg >target.out 2>&1 &
TARGET=$!
sleep 0.3
sipp $common -p 5060 -cp 8888 -mp 16100 -sf "$S/caller_scscf.xml" -s bob -key domain ims.example.net \
  -key scscf 127.0.0.1:5080 -m 1 127.0.0.1:5070 >caller.out 2>&1 ||
  { show caller.out target.out cdivas.log; fail "the call was not diverted (no 181 with History-Info, or no 200)"; }
wait $TARGET || { show target.out cdivas.log; fail "the S-CSCF side of the call failed"; }
TARGET=""
tr -d '\r' <scscf.msg | grep -q '^INVITE sip:carol@ims.example.net' ||
  { show scscf.msg; fail "the S-CSCF did not get an INVITE for carol"; }
grep -q "diversion .*service=cfu" cdivas.log || { show cdivas.log; fail "cdivas logged no cfu diversion"; }
echo "== diverted: the caller got 181 with History-Info, the S-CSCF got carol's INVITE"

echo "== stop (SIGTERM)"
kill -TERM "$PID"
rc=0; wait $RUNUSER || rc=$?
[ $rc = 0 ] || { show cdivas.log; fail "the daemon exited with status $rc"; }
PID=""
grep -q stopped cdivas.log || { show cdivas.log; fail "no clean stop"; }

echo "== apt-get purge -y cdivas cdivas-kms"
apt-get purge -y -qq cdivas cdivas-kms >purge.log 2>&1 || { show purge.log; fail "apt-get purge"; }
INSTALLED=""
for f in /etc/cdivas /usr/sbin/cdivas /usr/sbin/cdivas-kms /usr/bin/cdivas-ue /var/lib/cdivas \
         /lib/systemd/system/cdivas.service /lib/systemd/system/cdivas-kms.service; do
  [ ! -e "$f" ] || fail "$f is left after the purge"
done
! getent passwd cdivas >/dev/null || fail "the user cdivas is left after the purge"
! getent group cdivas >/dev/null || fail "the group cdivas is left after the purge"

echo "== package sizes"
for d in cdivas_*.deb cdivas-kms_*.deb; do
  echo "$d: $(( $(stat -c %s "$d") / 1024 )) KiB, installed $(dpkg-deb -f "$d" Installed-Size) KiB"
done
echo "== package.sh: all good"
