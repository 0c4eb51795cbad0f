#!/bin/bash
# Reload (lockctl reload and SIGHUP): a valid newer database changes decisions at once; a lower
# generation, a bad signature, a truncated file are refused and the old database stays in
# force. The highest generation survives a restart: lockd refuses to start on an older file.
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs
start_lockd
expect_denied "$MNT/foreign"

DB="$T/allowlist.lockdb"
# Generation 2 allows the foreign binary too (hashed from its source, /usr/bin/id: with
# library coverage, reading a foreign ELF on the marked filesystem is refused).
make_db signer "$T/gen2" 2 enforce "$MNT/good" /usr/bin/id
cp "$T/gen2" "$DB"
if out=$(ctl reload); then log "ok: reload: $out"; else fail "reload of generation 2 refused"; fi
[[ $(status_field database generation) == 2 ]] || fail "generation after reload"
expect_runs "$MNT/foreign"

# Refusals: each keeps generation 2 (foreign keeps running).
expect_refused() {
  local what=$1 out rc=0
  out=$(ctl reload 2>&1) || rc=$?
  if [[ $rc -ne 1 ]]; then fail "reload of $what: exit $rc ($out), expected 1 (refused)"; return; fi
  log "ok: $what refused: $out"
  [[ $(status_field database generation) == 2 ]] || fail "generation changed after refused $what"
  expect_runs "$MNT/foreign"
  expect_runs "$MNT/good"
}
make_db signer "$DB" 1 enforce "$MNT/good"
expect_refused "lower generation"
new_key stranger
make_db stranger "$DB" 3 enforce "$MNT/good"
expect_refused "bad signature (untrusted signer)"
cp "$T/gen2" "$DB"
# Flip every bit of one byte (writing a fixed value could leave a byte that already had it, a
# padding byte for instance, unchanged).
byte=$(od -An -tu1 -j 200 -N 1 "$DB" | tr -d ' ')
printf "\\$(printf '%03o' $((byte ^ 255)))" | dd of="$DB" bs=1 seek=200 conv=notrunc status=none
cmp -s "$DB" "$T/gen2" && fail "the corrupted copy is identical to the original"
expect_refused "corrupted byte"
make_db signer "$T/gen3" 3 enforce "$MNT/good"
head -c 300 "$T/gen3" >"$DB"
expect_refused "truncated file"
wait_for_log "event kind=database-refused .*lower than the highest accepted" 2 || fail "refusal not logged"

# SIGHUP with a valid generation 3 (foreign not allowed any more).
cp "$T/gen3" "$DB"
kill -HUP "$LOCKD_PID"
wait_status 5 3 database generation || fail "SIGHUP did not load generation 3"
expect_denied "$MNT/foreign"
[[ $(cat "$T/state/highest-generation") == 3 ]] || fail "state file does not hold 3"

# Restart on an older (validly signed) file: refused at start, exit non-zero.
stop_lockd
cp "$T/gen2" "$DB"
set +e
timeout 10 "$LOCKD_BIN" --config "$T/lockd.toml" 2>"$T/start.log"
rc=$?
set -e
if [[ $rc -ne 1 ]]; then fail "lockd started on a rolled-back database (exit $rc)"; fi
grep -q "event kind=database-refused .*generation 2 is lower than the highest accepted (3)" "$T/start.log" &&
  log "ok: rollback refused at start" || fail "unexpected start message: $(cat "$T/start.log")"
finish
