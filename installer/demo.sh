#!/usr/bin/env bash
# lockd demo: the main job, safe to run on any machine (as root).
#
# Installs the dependencies, builds, creates a field engineer's file token in a temporary
# folder, fills a sandbox (a tmpfs in a private mount namespace) with real programs, builds an
# allowlist of it signed by the token, starts lockd enforcing on that sandbox only, runs an
# allowlisted program (it runs) and a foreign one (the kernel stops it; lockd's log line is
# shown), does a maintenance round with the token (an update is installed, the allowlist is
# re-baselined to generation 2), writes an auditor's export signed by the token and verifies
# it, and cleans up. Nothing outside the sandbox is ever marked: the machine running the demo
# is not locked.
#
# Usage: sudo installer/demo.sh [--keep]    (--keep leaves the work folder for inspection)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${LOCKD_BUILD_DIR:-$repo/build}
keep=0
[[ "${1:-}" == "--keep" ]] && keep=1

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

if [[ "${LOCKD_DEMO_INSIDE:-}" != 1 ]]; then
  [[ $(id -u) -eq 0 ]] || die "run as root (lockd needs CAP_SYS_ADMIN for fanotify): sudo $0"
  say "dependencies"
  bash "$repo/installer/deps.sh"
  say "build ($build)"
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" --target lockd lockctl 2>&1 | tail -n 1
  work=$(mktemp -d /tmp/lockd-demo.XXXXXX)
  # Everything else runs in a private mount namespace: the sandbox mount is invisible to the
  # rest of the machine and disappears with the namespace even if this script is killed. And in
  # a fresh pid namespace: lockd raises vm.memfd_noexec (per pid namespace, never lowered
  # again) when the allowlist's policy says so; the machine's own value stays as it was.
  status=0
  LOCKD_DEMO_INSIDE=1 LOCKD_DEMO_WORK=$work LOCKD_BUILD_DIR=$build LOCKD_DEMO_KEEP=$keep \
    unshare --mount --propagation private --pid --fork --kill-child --mount-proc bash "$0" ||
    status=$?
  if [[ $keep == 1 ]]; then
    echo "work folder kept: $work"
  else
    rm -rf "$work"
  fi
  exit $status
fi

# ---- inside the private mount namespace -------------------------------------------------
work=$LOCKD_DEMO_WORK
lockd=$build/lockd/lockd
lockctl=$build/tools/lockctl
sandbox=$work/sandbox
lockd_pid=""

cleanup() {
  if [[ -n "$lockd_pid" ]] && kill -0 "$lockd_pid" 2>/dev/null; then
    kill -TERM "$lockd_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$lockd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$lockd_pid" 2>/dev/null || true
  fi
  umount "$sandbox" 2>/dev/null || true
}
trap cleanup EXIT

mkdir -p "$work"/{stick,trust,state,log,run,export} "$sandbox"
mount -t tmpfs -o size=64m,mode=0755 lockd-demo "$sandbox"
# The demo token's passphrase (a real engineer types theirs at a no-echo prompt; lockctl reads
# it from a descriptor here so the demo runs unattended, never from the command line).
pass="demo passphrase, not a secret"
token=(--token "$work/stick/LOCKD-TOKEN" --passphrase-fd 3)

say "a sandbox with real programs: $sandbox"
mkdir -p "$sandbox/bin" "$sandbox/drop"
for p in ls cat date uname sha256sum; do cp "$(command -v $p)" "$sandbox/bin/"; done
printf '#!/bin/sh\necho "hello from an approved script"\n' >"$sandbox/bin/hello.sh"
chmod 755 "$sandbox/bin/hello.sh"
ls -l "$sandbox/bin"

say "a field engineer's file token (on a USB stick in real life: here $work/stick)"
"$lockctl" token create --out "$work/stick/LOCKD-TOKEN" --holder "Demo Engineer" \
  --org "Demo Bank ATM Services" --not-after 2099-12-31 --passphrase-fd 3 \
  --public-out "$work/trust/demo-token.pem" 3<<<"$pass"
echo "its public key is the terminal's trust anchor: $work/trust/demo-token.pem"

say "build the allowlist of the sandbox's programs, signed by the token"
# --allow-user-namespaces: on a terminal the default policy has lockd turn unprivileged user
# namespaces off at start (a machine-wide setting); the demo leaves your machine's as it is.
"$lockctl" db build --root "$sandbox/bin" --watch "$sandbox" "${token[@]}" \
  --allow-user-namespaces --out "$work/state/allowlist.lockdb" --generation 1 3<<<"$pass"
"$lockctl" db verify "$work/state/allowlist.lockdb" --trust "$work/trust"
"$lockctl" db show "$work/state/allowlist.lockdb" --trust "$work/trust"

say "start lockd, enforcing on the sandbox only"
cat >"$work/lockd.toml" <<EOF
database = "$work/state/allowlist.lockdb"
trust_dir = "$work/trust"
state_dir = "$work/state"
control_socket = "$work/run/control.sock"
audit_log = "$work/log/audit.jsonl"
syslog_facility = "none"
watch = ["$sandbox"]
baseline_roots = ["$sandbox/bin"]
baseline_excludes = []
EOF
"$lockd" --config "$work/lockd.toml" 2>"$work/log/lockd.log" &
lockd_pid=$!
for _ in $(seq 100); do
  "$lockctl" status --socket "$work/run/control.sock" >/dev/null 2>&1 && break
  kill -0 "$lockd_pid" 2>/dev/null || { cat "$work/log/lockd.log"; die "lockd exited"; }
  sleep 0.1
done
"$lockctl" status --socket "$work/run/control.sock"

say "an allowlisted program runs"
"$sandbox/bin/uname" -sr
"$sandbox/bin/hello.sh"

say "a foreign program is stopped by the kernel before it runs"
cp "$(command -v whoami)" "$sandbox/drop/dropper"
set +e
"$sandbox/drop/dropper"
rc=$?
set -e
echo "exit status: $rc (126: the kernel refused the exec)"
[[ $rc == 126 ]] || die "the foreign program was not stopped"
sleep 0.2
echo "lockd's log:"
grep -a 'deny' "$work/log/lockd.log" | tail -n 3

say "maintenance: the engineer unlocks the terminal with the token for an update"
# The engineer's shell (a subshell here): what it and the programs it starts write or run
# during the window is learned; what any other process writes is listed as NOT learned.
(
  "$lockctl" maintenance start --minutes 15 "${token[@]}" --config "$work/lockd.toml" 3<<<"$pass"
  "$lockctl" status --socket "$work/run/control.sock" | grep -E '^(mode|maintenance)' || true
  echo "installing the update: a new program, report"
  cp "$(command -v hostname)" "$sandbox/bin/report"
  "$sandbox/bin/report" >/dev/null && echo "report runs during maintenance (and is learned)"
)

say "maintenance finish: rescan, diff, generation 2 signed by the token, back to enforce"
"$lockctl" maintenance finish --yes "${token[@]}" --config "$work/lockd.toml" 3<<<"$pass"
echo "the update runs under enforce:"
"$sandbox/bin/report"
set +e
"$sandbox/drop/dropper"
rc=$?
set -e
echo "the dropper, again: exit status $rc"
[[ $rc == 126 ]] || die "the foreign program was not stopped after the maintenance round"

say "status after the run"
"$lockctl" status --socket "$work/run/control.sock"

say "the audit log: one hash-chained JSON line per event"
"$lockctl" log show "$work/log/audit.jsonl"
"$lockctl" log verify "$work/log/audit.jsonl"

say "the auditor's export, signed by the token, verified offline"
"$lockctl" export --out "$work/export/bundle" "${token[@]}" --config "$work/lockd.toml" 3<<<"$pass"
"$lockctl" export verify "$work/export/bundle" --trust "$work/trust"

say "done"
echo "allowlist: $work/state/allowlist.lockdb    lockd log: $work/log/lockd.log"
echo "audit log: $work/log/audit.jsonl    export: $work/export/bundle (report.html)"
echo "token: $work/stick/LOCKD-TOKEN    (all under $work; removed at exit unless --keep)"
