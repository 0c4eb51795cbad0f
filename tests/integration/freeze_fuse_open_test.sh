#!/bin/bash
# A FUSE server that never answers never freezes the terminal (docs/threat-model.md, "FUSE and
# network filesystems"). FUSE filesystems are marked for exec (untrusted). For every permission
# event the kernel opens the event's file for lockd inside lockd's read of the fanotify group,
# and on FUSE that open is a request to the server: a server that never answers it held lockd's
# only reader, and every exec on every filesystem waited with it. With deny_untrusted_fs off, a
# server that answers the open but never a read held the workers that hash, one per file.
#
# The server is tests/support/fuse/stall_fuse (raw /dev/fuse protocol), mounted as root below
# the watched test tmpfs, so lockd marks it as it marks any FUSE mount on a terminal.
#  1. default policy (deny_untrusted_fs): an exec from the FUSE mount makes the server hold
#     lockd's open; meanwhile an allowlisted exec on the tmpfs runs and a foreign one is denied,
#     each within 2 s; the FUSE exec itself is denied within a few seconds (lockd aborts the
#     FUSE connection that holds its open, a daemon event);
#  2. deny_untrusted_fs off: execs of four FUSE files whose reads the server never answers;
#     meanwhile an allowlisted exec (hashed: a fresh decider has no cache) runs within 2 s; the
#     FUSE execs are denied within a few seconds (the connection is aborted).
# Before the untrusted group (lockd/untrusted_reader.h) both allowlisted execs HUNG.
source "$(dirname "$0")/lib.sh"

STALL_FUSE="$LOCKD_BUILD_DIR/integration-helpers/stall_fuse"
[[ -c /dev/fuse ]] || { log "SKIP: no /dev/fuse"; exit 77; }
[[ -x $STALL_FUSE ]] || { log "FAIL: $STALL_FUSE not built"; exit 1; }

# Teardown: the FUSE servers first (closing /dev/fuse aborts their connections and fails every
# request they hold, lockd's included), then lib.sh's cleanup (lockd by pid, mounts).
FUSE_PIDS=()
# The execs they held end a moment later (before cleanup removes $T, where they write).
trap 'rc=$?; for p in ${FUSE_PIDS[@]+"${FUSE_PIDS[@]}"}; do kill -KILL "$p" 2>/dev/null || true; done; sleep 0.5; (exit $rc); cleanup' EXIT

# start_stall_fuse DIR open|read: a stall_fuse server mounted at DIR; its log is $T/stall.<name>.
start_stall_fuse() {
  local dir=$1 mode=$2 slog="$T/stall.$(basename "$1")"
  mkdir -p "$dir"
  : >"$slog"
  "$STALL_FUSE" "$dir" "$slog" "$mode" 2>>"$slog" &
  FUSE_PIDS+=("$!")
  EXTRA_PIDS+=("$!")
  MOUNTS+=("$dir")
  for _ in $(seq 100); do
    grep -q '^ready$' "$slog" && return 0
    sleep 0.05
  done
  fail "stall_fuse did not mount $dir"
  return 1
}

# bg_exec NAME FILE: runs FILE in the background (it may wait in a permission event that cannot
# be interrupted); its exit status goes to $T/NAME.rc.
bg_exec() {
  ( set +e; "$2" >/dev/null 2>"$T/$1.err"; echo $? >"$T/$1.rc" ) &
  EXTRA_PIDS+=("$!")
}

# expect_bg NAME SECONDS WANT: fails unless the background exec NAME ended within SECONDS of
# now with status WANT.
expect_bg() {
  local name=$1 secs=$2 want=$3
  for _ in $(seq $((secs * 20))); do
    [[ -s $T/$name.rc ]] && break
    sleep 0.05
  done
  if [[ ! -s $T/$name.rc ]]; then
    fail "HUNG: background exec $name did not end within $secs s"
  elif [[ $(cat "$T/$name.rc") != "$want" ]]; then
    fail "background exec $name ended with $(cat "$T/$name.rc"), expected $want: $(cat "$T/$name.err")"
  else
    log "ok: background exec $name ended with $want"
  fi
}

# wait_stalled LOG KIND N: waits (5 s) until the server holds N requests of KIND (OPEN, READ).
wait_stalled() {
  for _ in $(seq 100); do
    (($(grep -c "^$2 " "$1" || true) >= $3)) && return 0
    sleep 0.05
  done
  return 1
}

# --- 1. The server holds lockd's open of the event's file (default policy) ---
setup_standard tmpfs
start_stall_fuse "$MNT/fuse" open || finish
start_lockd || { fail "lockd did not start"; finish; }
grep -q "watching $MNT/fuse (fuse.stall_fuse" "$LOCKD_LOG" && log "ok: the FUSE mount is marked" ||
  fail "lockd did not mark $MNT/fuse"
expect_within 2 0 "$MNT/good"

bg_exec fuse_open "$MNT/fuse/prog0"
if wait_stalled "$T/stall.fuse" OPEN 1; then
  held=$(grep -m1 '^OPEN ' "$T/stall.fuse" | sed 's/.*pid=//')
  decider=$(decider_pid)
  [[ -n $decider && -d /proc/$decider/task/$held ]] &&
    log "ok: the server holds lockd's own open (thread $held of decider $decider)" ||
    fail "the held open is not lockd's (pid $held, decider ${decider:-none})"
else
  fail "the server never saw an open of prog0"
fi
# Every other decision goes on while the server holds that open.
expect_within 2 0 "$MNT/good"
expect_within 2 126 "$MNT/foreign"
# The FUSE exec itself: lockd aborts the connection that holds its open; the kernel, which
# could not open the file for lockd, denies the exec.
expect_bg fuse_open 10 126
log "$(grep -m1 "kind=fuse-abort" "$LOCKD_LOG" || true)"
wait_for_log "kind=fuse-abort.*$MNT/fuse," 2 && log "ok: the abort is a daemon event" ||
  fail "no fuse_abort daemon event for $MNT/fuse in lockd's log"
grep -q '"fuse_abort"' "$T/log/audit.jsonl" && log "ok: the abort is in the audit log" ||
  fail "no fuse_abort record in the audit log"
expect_within 2 0 "$MNT/good"
# A lockd still held by the server cannot be stopped cleanly: the teardown kills the server.
((FAILURES == 0)) || finish
stop_lockd
[[ $STOP_RC -eq 0 ]] && log "ok: lockd stopped cleanly" || fail "lockd stopped with $STOP_RC"

# --- 2. deny_untrusted_fs off: the server holds the workers' reads ---
build_make_db
"$MAKE_DB" build "$T/keys/signer.pem" "$T/allowlist.lockdb" 2 enforce "--watch=$MNT" \
  --allow-untrusted-fs "$MNT/good"
start_stall_fuse "$MNT/fuse2" read || finish
start_lockd || { fail "lockd did not start with deny_untrusted_fs off"; finish; }
for i in 0 1 2 3; do bg_exec "fuse_read$i" "$MNT/fuse2/prog$i"; done
wait_stalled "$T/stall.fuse2" READ 1 && log "ok: the server holds a read of lockd's" ||
  fail "the server never saw a read"
# Hashing for everyone else goes on (lockd's workers: 2 small-lane threads in this config).
expect_within 2 0 "$MNT/good"
expect_within 2 126 "$MNT/foreign"
for i in 0 1 2 3; do expect_bg "fuse_read$i" 15 126; done
wait_for_log "kind=fuse-abort.*$MNT/fuse2," 2 && log "ok: the abort of $MNT/fuse2 is a daemon event" ||
  fail "no fuse_abort daemon event for $MNT/fuse2 in lockd's log"
expect_within 2 0 "$MNT/good"
stop_lockd
[[ $STOP_RC -eq 0 ]] && log "ok: lockd stopped cleanly" || fail "lockd stopped with $STOP_RC"
finish
