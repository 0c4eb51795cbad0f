#!/usr/bin/env bash
# lockd demo: the main job, safe to run on any machine (as root).
#
# Installs the dependencies, builds, makes a signing key, fills a sandbox (a tmpfs in a private
# mount namespace) with real programs, builds and signs an allowlist of it, starts lockd
# enforcing on that sandbox only, runs an allowlisted program (it runs) and a foreign one (the
# kernel stops it; lockd's log line is shown), and cleans up. Nothing outside the sandbox is
# ever marked: the machine running the demo is not locked.
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

mkdir -p "$work"/{keys,trust,state,log,run} "$sandbox"
mount -t tmpfs -o size=64m,mode=0755 lockd-demo "$sandbox"

say "a sandbox with real programs: $sandbox"
mkdir -p "$sandbox/bin" "$sandbox/drop"
for p in ls cat date uname sha256sum; do cp "$(command -v $p)" "$sandbox/bin/"; done
printf '#!/bin/sh\necho "hello from an approved script"\n' >"$sandbox/bin/hello.sh"
chmod 755 "$sandbox/bin/hello.sh"
ls -l "$sandbox/bin"

say "a signing key (the private key never goes on a terminal)"
"$lockctl" key generate --out "$work/keys"
cp "$work/keys/public.pem" "$work/trust/demo-signer.pem"

say "build and sign the allowlist of the sandbox"
"$lockctl" db build --root "$sandbox" --key "$work/keys/private.key" \
  --out "$work/state/allowlist.lockdb" --generation 1
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

say "status after the run"
"$lockctl" status --socket "$work/run/control.sock"

say "the audit log: one hash-chained JSON line per event"
"$lockctl" log show "$work/log/audit.jsonl"
"$lockctl" log verify "$work/log/audit.jsonl"

say "done"
echo "allowlist: $work/state/allowlist.lockdb    lockd log: $work/log/lockd.log"
