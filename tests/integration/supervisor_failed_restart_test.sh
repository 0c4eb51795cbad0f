#!/bin/bash
# The supervisor never fails open when a fresh decider cannot start (issue 12 item 6): after a
# decider was ready once, a replacement that fails at startup (here: the database file on disk
# was damaged meanwhile) does not make the supervisor exit, which would close the fanotify group
# and allow everything. Instead:
#  - every exec is denied (foreign and allowlisted alike: nothing can be judged), none waits
#    more than 2 s;
#  - `lockctl status` is answered by the supervisor: no decider runs, and why;
#  - it retries with back-off; once the database is repaired a decider starts and execs are
#    decided again; status counts the failed starts and the denials made meanwhile, and the
#    audit log's decider_restart record says so.
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs
AUDIT="$T/log/audit.jsonl"
start_lockd || { fail "lockd did not start"; finish; }
expect_within 2 0 "$MNT/good"
SUP=$LOCKD_PID
D1=$(decider_pid)

cp "$T/allowlist.lockdb" "$T/allowlist.good"
printf 'not a database' >"$T/allowlist.lockdb"
kill -KILL "$D1"
log "killed decider $D1 with a damaged database on disk"

# Give the first replacements time to fail, then check the gate stays shut.
for _ in $(seq 100); do
  (($(grep -c "failed to start" "$LOCKD_LOG" || true) >= 1)) && break
  sleep 0.05
done
grep -q "failed to start" "$LOCKD_LOG" && log "ok: the replacement decider failed to start" ||
  fail "no failed start logged"
sleep 1.5
kill -0 "$SUP" 2>/dev/null && log "ok: the supervisor still runs" ||
  { fail "the supervisor exited (the group is closed: everything is allowed)"; }
expect_within 2 126 "$MNT/foreign"
expect_within 2 126 "$MNT/good"

probe 5 ctl status
[[ $PROBE_RC == 0 ]] || fail "status while down: rc $PROBE_RC $PROBE_ERR"
ctl status >"$T/down-status" 2>&1 || true
grep -q "DECIDER DOWN" "$T/down-status" && log "ok: status says no decider runs" ||
  fail "status while down: $(cat "$T/down-status")"
grep -q "database" "$T/down-status" && log "ok: status names the failing step" ||
  fail "status while down does not say why: $(cat "$T/down-status")"
state=$(ctl status --json | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["state"])')
[[ $state == decider-down ]] && log "ok: status --json state decider-down" ||
  fail "status --json state: $state"

# Repair: the next retry (back-off at most 5 s) starts a decider that decides again.
cp "$T/allowlist.good" "$T/allowlist.lockdb"
wait_ready_count 2 15 && log "ok: a decider started after the repair" ||
  { fail "no decider became ready within 15 s of the repair"; finish; }
expect_within 2 0 "$MNT/good"
expect_within 2 126 "$MNT/foreign"
failed=$(status_field failed_starts)
denied=$(status_field denied_while_down)
((failed >= 1)) && log "ok: status counts $failed failed start(s)" ||
  fail "failed_starts: $failed"
((denied >= 2)) && log "ok: status counts $denied denial(s) made while down" ||
  fail "denied_while_down: $denied"
grep '"type":"decider_restart"' "$AUDIT" | tail -n 1 | grep -q '"failed_starts":"[1-9]' &&
  log "ok: the audit record counts the failed starts" ||
  fail "decider_restart record: $(grep decider_restart "$AUDIT" | tail -n 1)"

probe 15 stop_lockd
[[ $PROBE_RC == hung ]] && fail "HUNG: lockd did not stop"
finish
