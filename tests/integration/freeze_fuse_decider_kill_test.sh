#!/bin/bash
# A decider killed while a FUSE server holds its untrusted reader does not freeze the terminal
# (docs/threat-model.md, "FUSE and network filesystems"). The kernel's open of an event's file
# for lockd on FUSE is a request to the server; a request the server has read waits
# uninterruptibly, so after kill -9 (root) the decider cannot finish dying: its leader is a
# zombie that cannot be reaped, the guard that would abort the connection died with it, and the
# supervisor, which waits for that death before it denies or restarts anything, waited with it:
# every exec on the terminal hung until the server was killed.
#
#  1. an exec from the stall_fuse mount makes the server hold the untrusted reader's open
#     (thread of the decider); the decider is killed with SIGKILL right away, well inside the
#     3 s after which its own guard would abort the connection;
#  2. an allowlisted exec on the watched tmpfs runs and a foreign one is denied, each within a
#     few seconds (probes in a child with a deadline: HUNG before the fix);
#  3. the supervisor aborted the marked FUSE connection (its log), the killed decider was
#     reaped, a fresh decider is ready and records the abort (fuse_abort in the audit log), the
#     FUSE exec is denied, and lockd still stops cleanly.
source "$(dirname "$0")/lib.sh"

STALL_FUSE="$LOCKD_BUILD_DIR/integration-helpers/stall_fuse"
[[ -c /dev/fuse ]] || { log "SKIP: no /dev/fuse"; exit 77; }
[[ -x $STALL_FUSE ]] || { log "FAIL: $STALL_FUSE not built"; exit 1; }

# Teardown: the FUSE server first (closing /dev/fuse aborts its connection and fails the request
# the killed decider waits in, so it can finish dying), then lib.sh's cleanup (lockd by pid,
# mounts; the pid namespace ends whatever is left).
FUSE_PID=""
trap 'rc=$?; [[ -z $FUSE_PID ]] || kill -KILL "$FUSE_PID" 2>/dev/null || true; sleep 0.5; (exit $rc); cleanup' EXIT

setup_standard tmpfs
SLOG="$T/stall.log"
mkdir -p "$MNT/fuse"
: >"$SLOG"
"$STALL_FUSE" "$MNT/fuse" "$SLOG" open 2>>"$SLOG" &
FUSE_PID=$!
EXTRA_PIDS+=("$FUSE_PID")
MOUNTS+=("$MNT/fuse")
for _ in $(seq 100); do grep -q '^ready$' "$SLOG" && break; sleep 0.05; done
grep -q '^ready$' "$SLOG" || { fail "stall_fuse did not mount $MNT/fuse"; finish; }

start_lockd || { fail "lockd did not start"; finish; }
SUP=$LOCKD_PID
grep -q "watching $MNT/fuse (fuse.stall_fuse" "$LOCKD_LOG" && log "ok: the FUSE mount is marked" ||
  fail "lockd did not mark $MNT/fuse"
expect_within 2 0 "$MNT/good"
D1=$(decider_pid)
[[ -n $D1 && $D1 != "$SUP" ]] || { fail "no decider child of supervisor $SUP"; finish; }
log "supervisor $SUP, decider $D1"

# --- 1. the server holds the untrusted reader; the decider is killed ---
( set +e; "$MNT/fuse/prog0" >/dev/null 2>"$T/fuse.err"; echo $? >"$T/fuse.rc" ) &
EXTRA_PIDS+=("$!")
held=""
for _ in $(seq 100); do
  held=$(grep -m1 '^OPEN ' "$SLOG" | sed 's/.*pid=//' || true)
  [[ -n $held ]] && break
  sleep 0.02
done
[[ -n $held ]] || { fail "the server never saw an open of prog0"; finish; }
[[ -d /proc/$D1/task/$held ]] ||
  { fail "the held open is not decider $D1's (thread $held)"; finish; }
# Only the decider this test started, and before its own guard (3 s) ends the request.
kill -KILL "$D1"
log "killed decider $D1 while the server holds its thread $held"
sleep 0.3
# Informational: how the killed decider looks (a zombie leader with a thread in the request).
log "decider $D1 now: $(awk '{print "state " $3}' "/proc/$D1/stat" 2>/dev/null || echo reaped)" \
  "$(cat "/proc/$D1/task/$held/stat" 2>/dev/null | awk '{print "thread " $3}' || true)"

# --- 2. the terminal goes on ---
expect_within 8 0 "$MNT/good"
expect_within 3 126 "$MNT/foreign"
((FAILURES == 0)) || finish

# --- 3. how it went on ---
wait_for_log "supervisor: .*aborted FUSE connection .*$MNT/fuse" 2 &&
  log "ok: $(grep -m1 -o 'supervisor: aborted FUSE connection.*' "$LOCKD_LOG")" ||
  fail "no supervisor line about aborting the FUSE connection of $MNT/fuse"
for _ in $(seq 100); do [[ -d /proc/$D1 ]] || break; sleep 0.05; done
[[ ! -d /proc/$D1 ]] && log "ok: decider $D1 was reaped" || fail "decider $D1 is still not reaped"
wait_ready_count 2 10 && log "ok: a fresh decider is ready" || fail "no fresh decider became ready"
D2=$(decider_pid)
[[ -n $D2 && $D2 != "$D1" ]] && log "ok: decider $D2 replaced $D1" || fail "no new decider (${D2:-none})"
for _ in $(seq 100); do [[ -s $T/fuse.rc ]] && break; sleep 0.05; done
[[ $(cat "$T/fuse.rc" 2>/dev/null) == 126 ]] && log "ok: the FUSE exec was denied" ||
  fail "the FUSE exec ended with '$(cat "$T/fuse.rc" 2>/dev/null)', expected 126"
for _ in $(seq 40); do grep -q '"fuse_abort"' "$T/log/audit.jsonl" && break; sleep 0.05; done
grep '"fuse_abort"' "$T/log/audit.jsonl" | grep -q "supervisor" &&
  log "ok: the supervisor's abort is a fuse_abort record in the audit log" ||
  fail "no fuse_abort audit record of the supervisor's abort"
grep -q '"decider_restart"' "$T/log/audit.jsonl" && log "ok: decider_restart recorded" ||
  fail "no decider_restart audit record"
timeout 60 "$LOCKCTL" log verify --log "$T/log/audit.jsonl" >"$T/verify.out" 2>&1 &&
  log "ok: the audit log verifies" || fail "lockctl log verify: $(cat "$T/verify.out")"
expect_within 2 0 "$MNT/good"
expect_within 2 126 "$MNT/foreign"
stop_lockd
[[ $STOP_RC -eq 0 ]] && log "ok: lockd stopped cleanly" || fail "lockd stopped with $STOP_RC"
finish
