#!/bin/bash
# Startup failures are loud and non-zero: no database, untrusted database, bad config (file,
# line, reason). --version works. A watch path that does not exist marks nothing: refused; a
# lockd.toml watch that does not cover the signed one (watch_policy_test.sh): refused.
source "$(dirname "$0")/lib.sh"

"$LOCKD_BIN" --version | grep -q "^lockd [0-9]" && log "ok: --version" || fail "--version"

setup_standard tmpfs
expect_start_failure() {
  local what=$1 pattern=$2 rc=0
  timeout 10 "$LOCKD_BIN" --config "$T/lockd.toml" 2>"$T/start.log" || rc=$?
  if [[ $rc -eq 0 || $rc -eq 124 ]]; then fail "$what: lockd exit $rc"; return; fi
  if grep -qE -- "$pattern" "$T/start.log"; then
    log "ok: $what refused: $(grep -E -- "$pattern" "$T/start.log" | head -1)"
  else
    fail "$what: unexpected message: $(cat "$T/start.log")"
  fi
  # Nothing was left enforcing.
  expect_runs "$MNT/foreign"
}

mv "$T/allowlist.lockdb" "$T/saved.lockdb"
expect_start_failure "missing database" "event kind=database-refused .*allowlist.lockdb"
# One event, one journal line (lockd/report.h): no plain "error: database:" line beside it.
! grep -q "lockd: error: database: " "$T/start.log" || fail "database refusal logged twice: $(cat "$T/start.log")"
new_key stranger
make_db stranger "$T/allowlist.lockdb" 1 enforce "$MNT/good"
expect_start_failure "untrusted signer" "event kind=database-refused "
mv "$T/saved.lockdb" "$T/allowlist.lockdb"

cp "$T/lockd.toml" "$T/good.toml"
sed -i 's/^workers = 2$/workers = "many"/' "$T/lockd.toml"
expect_start_failure "bad config value" "lockd.toml:5: workers: expected an integer"
cp "$T/good.toml" "$T/lockd.toml"
printf 'enforce = false\n' >>"$T/lockd.toml"
expect_start_failure "unknown config key" "lockd.toml:10: unknown key 'enforce'"
write_config "$MNT" "$T/does-not-exist/x"
expect_start_failure "missing watch path" "error: marks: .*lockd.toml: watch path $T/does-not-exist/x: No such file"
write_config "$T/does-not-exist/x"
expect_start_failure "watch narrower than the signed one" \
  "event kind=error .* message=\"not starting: .*lockd.toml: watch: \[$T/does-not-exist/x\] does not cover the signed watch path $MNT"
! grep -q "lockd: error: watch: " "$T/start.log" || fail "watch refusal logged twice: $(cat "$T/start.log")"
timeout 10 "$LOCKD_BIN" --config "$T/nonexistent.toml" 2>"$T/start.log" && fail "missing config accepted" ||
  grep -q "nonexistent.toml: No such file" "$T/start.log" || fail "missing config message"

# And the good config starts, enforces, and stops cleanly.
write_config
start_lockd
expect_denied "$MNT/foreign"
stop_lockd
[[ $STOP_RC == 0 ]] || fail "exit status $STOP_RC after SIGTERM"
finish
