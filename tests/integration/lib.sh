# Shared harness for lockd's root integration tests (tests/integration/*_test.sh).
#
# Every test re-executes itself inside a private mount namespace (unshare -m --propagation
# private), so the tmpfs / loop-mounted ext4 it mounts and lockd's marks never reach the real
# system, and inside a fresh pid namespace (-p -f --mount-proc): lockd raises
# vm.memfd_noexec to 2 when the database's policy says so, a setting that is per pid
# namespace and can never be lowered again; in the test's own namespace it dies with it.
# lockd marks only the test mount: the test databases are signed with `--watch $MNT`
# (WATCH_ARGS), since in enforce mode lockd takes its watch from the signed policy, and the
# test's lockd.toml names the same path (it may only widen the signed watch). The tools the test
# itself runs (bash, coreutils, python3) live on / which is not marked, so they keep working.
# Every wait has a timeout; the EXIT trap stops lockd (by its pid) and removes the mounts even
# when a test fails.
#
# Environment: LOCKD_BUILD_DIR, LOCKD_SOURCE_DIR (set by ctest).

set -euo pipefail

: "${LOCKD_BUILD_DIR:?set LOCKD_BUILD_DIR to the build directory}"
: "${LOCKD_SOURCE_DIR:?set LOCKD_SOURCE_DIR to the source directory}"

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: needs root (fanotify permission events)" >&2
  exit 77
fi

if [[ -z "${LOCKD_TEST_IN_NAMESPACE:-}" ]]; then
  exec env LOCKD_TEST_IN_NAMESPACE=1 timeout --kill-after=10 "${LOCKD_TEST_TIMEOUT:-280}" \
    unshare -m -p -f --kill-child --mount-proc --propagation private bash "$0" "$@"
fi

LOCKD_BIN="$LOCKD_BUILD_DIR/lockd/lockd"
LOCKCTL="$LOCKD_BUILD_DIR/tools/lockctl"
# A file token like `lockctl token create` makes, but with cheap scrypt parameters (milliseconds
# per unlock instead of ~0.7 s; lockctl warns that its protection is weak), for tests that unlock
# tokens many times; same options as token create (tests/integration/helpers/make_test_token.cpp,
# built with the tests, never installed). token_file_test and demo_test use the real command.
MAKE_TOKEN="$LOCKD_BUILD_DIR/integration-helpers/make_test_token"
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=$(command -v python3)
TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "/tmp/lockd-it-${TEST_NAME}.XXXXXX")
MNT="$T/mnt"
# `lockctl db build` options for every database a test daemon loads: the signed watch, the test
# mount only. Never build a test database without it: a database signed for every filesystem,
# loaded with no `watch` in lockd.toml, would make a test daemon mark the whole machine.
WATCH_ARGS=(--watch "$MNT")
LOCKD_PID=""
LOCKD_LOG="$T/lockd.log"
SOCK="$T/run/control.sock"
MOUNTS=()
EXTRA_PIDS=()  # other daemons a script started (killed by pid in cleanup)
FAILURES=0

log() { echo "[$TEST_NAME] $*" >&2; }

cleanup() {
  local rc=$?
  if [[ -n $LOCKD_PID ]] && kill -0 "$LOCKD_PID" 2>/dev/null; then
    kill -TERM "$LOCKD_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$LOCKD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$LOCKD_PID" 2>/dev/null || true
  fi
  local p
  for p in ${EXTRA_PIDS[@]+"${EXTRA_PIDS[@]}"}; do kill -KILL "$p" 2>/dev/null || true; done
  if [[ $rc -ne 0 && -f $LOCKD_LOG ]]; then
    log "lockd log (last 40 lines):"
    tail -n 40 "$LOCKD_LOG" >&2 || true
  fi
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTS[$i]}" 2>/dev/null || true; done
  for i in "${LOOPDEVS[@]}"; do losetup -d "$i" 2>/dev/null || true; done
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT

# lockd turns unprivileged user namespaces off at start when its signed policy says so (the
# default: restrict_user_namespaces), by writing user.max_user_namespaces (or Debian's
# kernel.unprivileged_userns_clone): settings of the machine's user namespace, which this test's
# namespaces do not separate. So in this test's private mount namespace a plain file stands in
# for each (a bind mount over the /proc/sys file: lockd reads and writes the file, the machine's
# value is never touched). USERNS_SYSCTL_STANDIN is the stand-in for user.max_user_namespaces.
# A test that mounts a fresh /proc for a lockd (a nested --mount-proc, a chroot's /proc) must put
# the stand-ins over it too: `userns_sysctl_shield_lines PROC` prints the shell lines that do it,
# for the script that runs in that namespace.
USERNS_SYSCTL_STANDIN="$T/sysctl-user.max_user_namespaces"
userns_sysctl_shield_lines() {
  local proc=$1 knob
  for knob in user/max_user_namespaces kernel/unprivileged_userns_clone; do
    printf '[ ! -e %q ] || mount --bind %q %q || exit 3\n' "$proc/sys/$knob" \
      "$T/sysctl-${knob//\//.}" "$proc/sys/$knob"
  done
}
for _knob in user/max_user_namespaces kernel/unprivileged_userns_clone; do
  [[ -e /proc/sys/$_knob ]] || continue
  cat "/proc/sys/$_knob" >"$T/sysctl-${_knob//\//.}"
done
eval "$(userns_sysctl_shield_lines /proc)" ||
  { echo "cannot put stand-ins over the user-namespace sysctls: refusing to run" >&2; exit 1; }
unset _knob

fail() {
  log "FAIL: $*"
  FAILURES=$((FAILURES + 1))
}

finish() {
  if [[ $FAILURES -ne 0 ]]; then
    log "$FAILURES check(s) failed"
    exit 1
  fi
  log "all checks passed"
}

# mount_tmpfs DIR: a fresh tmpfs at DIR (exec allowed).
mount_tmpfs() {
  mkdir -p "$1"
  mount -t tmpfs -o size=512m,mode=0755 tmpfs "$1"
  MOUNTS+=("$1")
}

# mount_ext4 DIR [SIZE_MB]: a loop-mounted ext4 image at DIR.
LOOPDEVS=()
mount_ext4() {
  local size=${2:-64} img="$T/ext4-${#LOOPDEVS[@]}.img" dev
  mkdir -p "$1"
  truncate -s "${size}M" "$img"
  mkfs.ext4 -q -F "$img"
  dev=$(losetup --find --show "$img")
  LOOPDEVS+=("$dev")
  mount -t ext4 "$dev" "$1"
  MOUNTS+=("$1")
}

# The database tools: `lockctl key generate` and `lockctl db build` (the real tools: scan,
# hash, sign). A small test-only builder against this build's libhashdb.a (same format and
# signing code) is kept for the one thing lockctl rightly refuses to do: sign with a key that
# is not a proper PEM key pair on disk (not needed so far), and as a fallback when lockctl is
# not built.
MAKE_DB="$LOCKD_BUILD_DIR/integration-helpers/make_test_db"
build_make_db() {
  local src="$LOCKD_SOURCE_DIR/tests/integration/helpers/make_test_db.cpp"
  if [[ ! -x $MAKE_DB || $src -nt $MAKE_DB || $LOCKD_BUILD_DIR/hashdb/libhashdb.a -nt $MAKE_DB ]]; then
    mkdir -p "$(dirname "$MAKE_DB")"
    g++ -std=c++20 -O1 -I"$LOCKD_SOURCE_DIR" -I"$LOCKD_BUILD_DIR/generated" "$src" \
      "$LOCKD_BUILD_DIR/hashdb/libhashdb.a" -lcrypto -lpthread -o "$MAKE_DB.tmp.$$"
    mv "$MAKE_DB.tmp.$$" "$MAKE_DB"
  fi
}
use_lockctl_db() { [[ -x $LOCKCTL ]] && "$LOCKCTL" db build --help >/dev/null 2>&1; }

# new_key NAME: $T/keys/NAME.pem (private) and NAME.pub.pem.
new_key() {
  mkdir -p "$T/keys"
  if use_lockctl_db; then
    "$LOCKCTL" key generate --out "$T/keys/$1.d" >/dev/null
    cp "$T/keys/$1.d/private.key" "$T/keys/$1.pem"
    cp "$T/keys/$1.d/public.pem" "$T/keys/$1.pub.pem"
  else
    build_make_db
    "$MAKE_DB" genkey "$T/keys/$1.pem" "$T/keys/$1.pub.pem"
  fi
}

# trust_key NAME: make NAME a trust anchor.
trust_key() {
  mkdir -p "$T/trust"
  cp "$T/keys/$1.pub.pem" "$T/trust/$1.pem"
}

# make_db KEY OUT GENERATION MODE FILE...: signed database allowing the content of FILE...
# (with lockctl: a staging directory holding copies of the files is scanned), watch $MNT.
make_db() {
  local key=$1 out=$2 gen=$3 mode=$4
  shift 4
  if use_lockctl_db; then
    local stage i=0 f
    stage=$(mktemp -d "$T/stage.XXXXXX")
    for f in "$@"; do cp "$f" "$stage/f$i"; chmod 0755 "$stage/f$i"; i=$((i + 1)); done
    "$LOCKCTL" db build --root "$stage" --key "$T/keys/$key.pem" --out "$out" \
      --generation "$gen" --mode "$mode" ${WATCH_ARGS[@]+"${WATCH_ARGS[@]}"} >/dev/null 2>"$T/db-build.log" ||
      { cat "$T/db-build.log" >&2; return 1; }
    rm -rf "$stage"
  else
    build_make_db
    local watch=() a
    for a in ${WATCH_ARGS[@]+"${WATCH_ARGS[@]}"}; do [[ $a == --watch ]] || watch+=("--watch=$a"); done
    "$MAKE_DB" build "$T/keys/$key.pem" "$out" "$gen" "$mode" ${watch[@]+"${watch[@]}"} "$@"
  fi
}

# write_config [WATCH...]: $T/lockd.toml watching the given paths (default: $MNT).
write_config() {
  local watch=("$@")
  [[ ${#watch[@]} -gt 0 ]] || watch=("$MNT")
  local list="" w
  for w in "${watch[@]}"; do list+="\"$w\", "; done
  mkdir -p "$T/state"
  cat >"$T/lockd.toml" <<TOML
database = "$T/allowlist.lockdb"
trust_dir = "$T/trust"
state_dir = "$T/state"
control_socket = "$SOCK"
workers = 2
log_level = "info"
audit_log = "$T/log/audit.jsonl"
syslog_facility = "none"
watch = [${list%, }]
TOML
}

# start_lockd: starts lockd in the background and waits (10 s at most) until it is ready.
start_lockd() {
  : >"$LOCKD_LOG"
  ${LOCKD_WRAPPER:-} "$LOCKD_BIN" --config "${CONF:-$T/lockd.toml}" 2>>"$LOCKD_LOG" &
  LOCKD_PID=$!
  for _ in $(seq 100); do
    if grep -q "lockd: info: ready" "$LOCKD_LOG"; then return 0; fi
    if ! kill -0 "$LOCKD_PID" 2>/dev/null; then
      log "lockd exited during startup:"
      cat "$LOCKD_LOG" >&2
      LOCKD_PID=""
      return 1
    fi
    sleep 0.1
  done
  log "lockd not ready after 10 s"
  return 1
}

# stop_lockd: SIGTERM and wait (10 s at most); sets STOP_RC to lockd's exit status.
stop_lockd() {
  local pid=$LOCKD_PID rc=0
  kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "lockd did not stop within 10 s"
    kill -KILL "$pid"
  fi
  wait "$pid" || rc=$?
  LOCKD_PID=""
  STOP_RC=$rc
}

# LOCKD_PID is the supervisor (lockd/supervisor.h); the decider is its forked child.
# decider_pid: the current decider's pid (empty when none runs at this instant).
decider_pid() { pgrep -P "$LOCKD_PID" 2>/dev/null | head -n 1 || true; }

# wait_ready_count N [SECONDS]: waits until lockd's log shows N deciders ready (10 s default).
wait_ready_count() {
  local n=$1 secs=${2:-10}
  for _ in $(seq $((secs * 20))); do
    (($(grep -c "lockd: info: ready" "$LOCKD_LOG" || true) >= n)) && return 0
    sleep 0.05
  done
  return 1
}

# run_file FILE: runs FILE (10 s at most); sets RUN_RC and RUN_ERR.
run_file() {
  RUN_ERR=""
  set +e
  RUN_ERR=$(timeout 10 "$@" 2>&1 >/dev/null)
  RUN_RC=$?
  set -e
}

# expect_runs FILE [ARGS]: the exec is allowed and the program exits 0.
expect_runs() {
  run_file "$@"
  if [[ $RUN_RC -ne 0 ]]; then fail "expected '$*' to run, got exit $RUN_RC: $RUN_ERR"; return 0; fi
  log "ok: $1 runs"
}

# expect_denied FILE: the exec fails with EPERM (timeout reports exit 126).
expect_denied() {
  run_file "$@"
  if [[ $RUN_RC -ne 126 || $RUN_ERR != *"Operation not permitted"* ]]; then
    fail "expected '$*' to be denied with EPERM, got exit $RUN_RC: $RUN_ERR"
    return 0
  fi
  log "ok: $1 denied (EPERM)"
}

# ctl ARGS: lockctl talking to this test's daemon.
ctl() { timeout 20 "$LOCKCTL" "$@" --socket "$SOCK"; }

# status_field KEY...: a field of `lockctl status --json` (python path, e.g. database generation).
status_field() {
  ctl status --json | "$PYTHON" -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$@"
}

# wait_status SECONDS EXPECTED KEY...: waits until the status field (status_field KEY...)
# equals EXPECTED; false after SECONDS.
wait_status() {
  local secs=$1 want=$2
  shift 2
  for _ in $(seq $((secs * 10))); do
    [[ $(status_field "$@") == "$want" ]] && return 0
    sleep 0.1
  done
  return 1
}

# wait_for_log PATTERN [SECONDS]: waits until lockd's log has a line matching PATTERN.
wait_for_log() {
  local pattern=$1 secs=${2:-5}
  for _ in $(seq $((secs * 20))); do
    grep -qE -- "$pattern" "$LOCKD_LOG" && return 0
    sleep 0.05
  done
  return 1
}

# audit_denials LOG VERDICT: the denials (VERDICT deny) or would-denials (would_deny) LOG
# accounts for: its records plus the counts of its `repeat` records (docs/audit-log.md,
# "Repeats"), as `lockctl log verify --json` sums them; 0 when it cannot be read. lockd folds
# repeats of a denial into a repeat record written 10 s after the first repeat or at stop, so
# counting `"type":"deny"` lines undercounts a run that repeats a denial.
audit_denials() {
  "$LOCKCTL" log verify --json "$1" 2>/dev/null | "$PYTHON" -c '
import json, sys
key = {"deny": "denials", "would_deny": "would_denials"}[sys.argv[1]]
print(json.load(sys.stdin)[key]["total"])' "$2" 2>/dev/null || echo 0
}

# Standard layout: the test mount with an allowlisted binary and a foreign one.
#   $MNT/good     copy of true (allowlisted)
#   $MNT/foreign  copy of false's sibling 'id' (not allowlisted; different content)
setup_standard() {
  local fs=${1:-tmpfs}
  if [[ $fs == ext4 ]]; then mount_ext4 "$MNT"; else mount_tmpfs "$MNT"; fi
  cp /usr/bin/true "$MNT/good"
  cp /usr/bin/id "$MNT/foreign"
  new_key signer
  trust_key signer
  make_db signer "$T/allowlist.lockdb" 1 enforce "$MNT/good"
  write_config
}

# probe SECONDS CMD...: runs CMD in the background and waits for it at most SECONDS (decimals
# allowed). A process stuck in a fanotify permission event cannot be killed, so a probe that
# does not end is not waited for: it is reported as hung (PROBE_RC=hung) and left to the
# teardown (stopping lockd closes its fanotify group, which answers what it held). Sets
# PROBE_RC (exit status or "hung"), PROBE_MS (elapsed milliseconds) and PROBE_ERR (stderr).
probe() {
  local secs=$1 start end pid deadline
  shift
  local err="$T/probe.$$.$RANDOM.err"
  start=$(date +%s%N)
  # Milliseconds from awk (decimals allowed), nanoseconds in bash: mawk's %d stops at 2^31-1,
  # which as nanoseconds cut every deadline above 2.1 s to 2.1 s.
  deadline=$((start + $(awk -v s="$secs" 'BEGIN { printf "%d", s * 1000 }') * 1000000))
  ( set +e; "$@" >/dev/null 2>"$err"; echo $? >"$err.rc" ) &
  pid=$!
  EXTRA_PIDS+=("$pid")
  while [[ ! -f $err.rc ]] && (($(date +%s%N) < deadline)); do sleep 0.01; done
  end=$(date +%s%N)
  PROBE_MS=$(((end - start) / 1000000))
  PROBE_ERR=$(cat "$err" 2>/dev/null || true)
  if [[ -f $err.rc ]]; then
    PROBE_RC=$(cat "$err.rc")
    wait "$pid" 2>/dev/null || true
  else
    PROBE_RC=hung
  fi
}

# expect_within SECONDS WANT CMD...: probe CMD; fail unless it ended within SECONDS with exit
# status WANT ("0", "126" for an exec denied with EPERM, "any").
expect_within() {
  local secs=$1 want=$2
  shift 2
  probe "$secs" "$@"
  if [[ $PROBE_RC == hung ]]; then
    fail "HUNG: '$*' did not end within $secs s"
  elif [[ $want != any && $PROBE_RC != "$want" ]]; then
    fail "'$*' ended with $PROBE_RC after $PROBE_MS ms, expected $want: $PROBE_ERR"
  else
    log "ok: '$*' ended with $PROBE_RC in $PROBE_MS ms"
  fi
}

# write_config_on_marked_fs DIR [WATCH...]: like write_config, but every file of lockd's own
# (database, trust anchors, state, audit log, control socket, and the config itself) lives in
# DIR, on a watched filesystem, as on a terminal running the shipped configuration. Sets CONF.
write_config_on_marked_fs() {
  local dir=$1
  shift
  local watch=("$@")
  [[ ${#watch[@]} -gt 0 ]] || watch=("$MNT")
  local list="" w
  for w in "${watch[@]}"; do list+="\"$w\", "; done
  mkdir -p "$dir/state" "$dir/trust" "$dir/log" "$dir/run"
  cp "$T/allowlist.lockdb" "$dir/allowlist.lockdb"
  cp "$T"/trust/*.pem "$dir/trust/"
  SOCK="$dir/run/control.sock"
  CONF="$dir/lockd.toml"
  cat >"$CONF" <<TOML
database = "$dir/allowlist.lockdb"
trust_dir = "$dir/trust"
state_dir = "$dir/state"
control_socket = "$SOCK"
workers = 2
log_level = "info"
audit_log = "$dir/log/audit.jsonl"
syslog_facility = "none"
watch = [${list%, }]
TOML
}
