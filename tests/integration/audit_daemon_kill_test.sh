#!/bin/bash
# kill -9 of lockd's decider (the process that writes the audit log; the supervisor then
# starts a fresh one, lockd/supervisor.h) during a flood of denials, 8 times: the audit log
# verifies each time and keeps growing as one chain (docs/audit-log.md, "Crashes"), with a
# decider_restart record for each kill.
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs
AUDIT="$T/audit/audit.jsonl"
sed -i "s|^audit_log = .*|audit_log = \"$AUDIT\"|" "$T/lockd.toml"
if ! start_lockd; then
  fail "lockd did not start"
  finish
fi
stop_lockd
rm -rf "$T/audit"

FLOOD_PIDS=()
stop_flood() {
  local p
  for p in "${FLOOD_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${FLOOD_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  FLOOD_PIDS=()
}
trap 'stop_flood; cleanup' EXIT

last=0
ROUNDS=8
for round in $(seq $ROUNDS); do
  start_lockd || { fail "round $round: lockd did not start"; break; }
  decider=$(decider_pid)
  [[ -n $decider ]] || { fail "round $round: no decider"; break; }
  for _ in 1 2 3 4; do
    timeout 30 bash -c "while :; do '$MNT/foreign' >/dev/null 2>&1; done" &
    FLOOD_PIDS+=($!)
  done
  # Wait for denials to reach the log (5 s at most), then a little more, then kill -9.
  for _ in $(seq 100); do
    [[ -f $AUDIT ]] && (($(wc -l <"$AUDIT") > last + 1)) && break
    sleep 0.05
  done
  sleep "0.$((RANDOM % 5))"
  kill -KILL "$decider"
  # The fresh decider repairs a torn tail, writes decider_restart, and takes over the flood.
  wait_ready_count 2 15 || { fail "round $round: no fresh decider after kill -9"; break; }
  stop_flood
  stop_lockd
  [[ $STOP_RC == 0 ]] || fail "round $round: lockd exit $STOP_RC after SIGTERM"
  if ! timeout 60 "$LOCKCTL" log verify --log "$AUDIT" >"$T/verify.out" 2>&1; then
    cat "$T/verify.out" >&2
    fail "round $round: the audit log does not verify after kill -9"
    break
  fi
  n=$(sed -n 's/^records: *\([0-9]*\).*/\1/p' "$T/verify.out")
  ((n > last)) || fail "round $round: no new records ($n after $last)"
  grep -q '"type":"deny"' "$AUDIT" || fail "round $round: no deny record"
  (($(grep -c '"type":"decider_restart"' "$AUDIT") == round)) ||
    fail "round $round: $(grep -c '"type":"decider_restart"' "$AUDIT") decider_restart records"
  last=$n
done
log "after $ROUNDS kills: $last records; $(grep -c torn_record "$AUDIT" || true) torn lines repaired"
timeout 60 "$LOCKCTL" log verify --genesis --log "$AUDIT" >/dev/null || fail "final verify"
finish
