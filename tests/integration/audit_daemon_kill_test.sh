#!/bin/bash
# kill -9 of lockd during a flood of denials, 20 times: the audit log verifies each time and
# keeps growing as one chain (docs/audit-log.md, "Crashes").
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
for round in $(seq 20); do
  start_lockd || { fail "round $round: lockd did not start"; break; }
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
  kill -KILL "$LOCKD_PID"
  wait "$LOCKD_PID" 2>/dev/null || true
  LOCKD_PID=""
  stop_flood
  if ! timeout 60 "$LOCKCTL" log verify --log "$AUDIT" >"$T/verify.out" 2>&1; then
    cat "$T/verify.out" >&2
    fail "round $round: the audit log does not verify after kill -9"
    break
  fi
  n=$(sed -n 's/^records: *\([0-9]*\).*/\1/p' "$T/verify.out")
  ((n > last)) || fail "round $round: no new records ($n after $last)"
  grep -q '"type":"deny"' "$AUDIT" || fail "round $round: no deny record"
  last=$n
done
log "after 20 kills: $last records; $(grep -c torn_record "$AUDIT" || true) torn lines repaired"
timeout 60 "$LOCKCTL" log verify --genesis --log "$AUDIT" >/dev/null || fail "final verify"
finish
