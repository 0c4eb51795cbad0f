#!/bin/bash
# A terminal's lockd keeps its own files (config, database, trust anchors, state, audit log,
# control socket) on filesystems it marks. kill -9 of the decider there must not freeze the
# terminal: the fresh decider reads its config and database through marked filesystems before
# its event loop runs, and nothing may wait on it for more than 2 s.
#  1. lockd starts with every file of its own on the watched filesystem;
#  2. kill -9 of the decider during a burst of execs: no exec waits more than 2 s, nothing
#     foreign runs, the fresh decider becomes ready and decides (allowlisted runs, foreign is
#     denied), status shows the restart;
#  3. SIGHUP (reload through the event loop's own signal handling) with the database on the
#     watched filesystem answers, and execs keep being answered meanwhile.
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs
cp /usr/bin/touch "$MNT/touch-good"
cp /usr/bin/touch "$MNT/touch-foreign"
printf 'x' >>"$MNT/touch-foreign"  # runs like touch, another digest
make_db signer "$T/allowlist.lockdb" 1 enforce "$MNT/good" "$MNT/touch-good"
write_config_on_marked_fs "$MNT/lockd"

start_lockd || { fail "lockd did not start with its files on the watched filesystem"; finish; }
expect_within 2 0 "$MNT/good"
expect_within 2 126 "$MNT/foreign"

# --- 2. kill -9 during a burst --------------------------------------------------------------
D1=$(decider_pid)
[[ -n $D1 ]] || { fail "no decider"; finish; }
burst() {
  local i
  for i in $(seq 200); do
    "$MNT/touch-good" "$T/burst-good" 2>/dev/null || true
    "$MNT/touch-foreign" "$T/burst-foreign-$i" 2>/dev/null || true
  done
}
burst &
BURST=$!
EXTRA_PIDS+=("$BURST")
sleep 0.2
kill -KILL "$D1"
log "killed decider $D1 during the burst"
# Every exec made from now on must be answered within 2 s, the restart included.
for i in 1 2 3 4 5; do
  expect_within 2 0 "$MNT/good"
  expect_within 2 126 "$MNT/foreign"
  sleep 0.1
done
probe 30 wait "$BURST"
[[ $PROBE_RC == hung ]] && fail "HUNG: the exec burst did not end within 30 s"
if compgen -G "$T/burst-foreign-*" >/dev/null; then
  fail "a foreign program ran during the restart: $(ls "$T" | grep -c burst-foreign) time(s)"
else
  log "ok: no foreign program ran during the burst"
fi
if wait_ready_count 2 10; then
  log "ok: a fresh decider became ready"
else
  fail "HUNG: no fresh decider became ready within 10 s"
  ps -eo pid,ppid,stat,wchan:32,args >&2 || true
  finish
fi
probe 5 ctl status --json
[[ $PROBE_RC == 0 ]] || fail "status: $PROBE_RC $PROBE_ERR"
restarts=$(status_field decider_restarts 2>/dev/null || echo "?")
[[ $restarts == 1 ]] && log "ok: status shows 1 decider restart" || fail "decider_restarts: $restarts"

# --- 3. SIGHUP with the database on the watched filesystem ---------------------------------
kill -HUP "$LOCKD_PID"
expect_within 2 0 "$MNT/good"
wait_for_log "loaded .*generation 1" 5 || fail "no reload logged after SIGHUP"
expect_within 2 0 "$MNT/good"
expect_within 2 126 "$MNT/foreign"

probe 15 stop_lockd
[[ $PROBE_RC == hung ]] && fail "HUNG: lockd did not stop"
finish
