#!/bin/bash
# Where lockd enforces comes from the signed policy's `watch` (issue 12 item 9): lockd.toml may
# widen it but never narrow it while enforcing, and a watch path must be canonical on disk.
# Before: lockd took `watch` from lockd.toml alone, so a database signed for every filesystem
# plus `watch = [an empty tmpfs]` in the unsigned file started and enforced nowhere that
# mattered (section 1 failed: lockd ran).
#
# Safety: lockd is only ever started here with a `watch` in lockd.toml or a database signed for
# $MNT; a database signed for every filesystem is never loaded without a lockd.toml watch.
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs  # signed --watch $MNT, lockd.toml watch = [$MNT]
mount_tmpfs "$T/decoy"  # an empty filesystem, where an attacker would point lockd
GEN=1

# sign_db WATCH_ARGS...: the next generation, allowing $MNT/good, enforce, these watch options.
sign_db() {
  local saved=("${WATCH_ARGS[@]}")
  GEN=$((GEN + 1))
  WATCH_ARGS=("$@")
  make_db signer "$T/allowlist.lockdb" "$GEN" "${MODE:-enforce}" "$MNT/good"
  WATCH_ARGS=("${saved[@]}")
}

# toml_watch [PATH...]: lockd.toml with `watch` set to PATH... (no argument: no watch key).
toml_watch() {
  write_config "$MNT"
  sed -i '/^watch = /d' "$T/lockd.toml"
  if [[ $# -gt 0 ]]; then
    local list="" w
    for w in "$@"; do list+="\"$w\", "; done
    echo "watch = [${list%, }]" >>"$T/lockd.toml"
  fi
}

# expect_refused WHAT PATTERN: lockd exits non-zero at start with PATTERN on stderr, and left
# nothing enforcing.
expect_refused() {
  local what=$1 pattern=$2 rc=0
  timeout 8 "$LOCKD_BIN" --config "$T/lockd.toml" 2>"$T/start.log" || rc=$?
  if [[ $rc -eq 0 || $rc -eq 124 ]]; then
    fail "$what: lockd started (exit $rc): $(grep -E 'marking|watching' "$T/start.log" | head -3)"
  elif grep -qE -- "$pattern" "$T/start.log"; then
    log "ok: $what refused: $(grep -E -- "$pattern" "$T/start.log" | head -1)"
  else
    fail "$what: unexpected message: $(cat "$T/start.log")"
  fi
  expect_runs "$MNT/foreign"
}

# marked_points: the mount points lockd reports as marked, one per line, sorted.
marked_points() {
  ctl status --json | "$PYTHON" -c '
import json, sys
print("\n".join(sorted(m["mount_point"] for m in json.load(sys.stdin)["marked_filesystems"])))'
}

log "1. signed for every filesystem, lockd.toml narrows it: refused"
sign_db
toml_watch /nonexistent
expect_refused "watch=/nonexistent" \
  "event kind=error .* message=\"not starting: $T/lockd.toml: watch: \[/nonexistent\] would narrow the signed policy's watch, which is every local filesystem"
toml_watch "$T/decoy"
expect_refused "watch=an empty tmpfs" "event kind=error .* message=\"not starting: $T/lockd.toml: watch: \[$T/decoy\] would narrow"

log "2. signed for \$MNT, lockd.toml elsewhere: refused"
sign_db "${WATCH_ARGS[@]}"
toml_watch "$T/decoy"
expect_refused "watch elsewhere" \
  "event kind=error .* message=\"not starting: $T/lockd.toml: watch: \[$T/decoy\] does not cover the signed watch path $MNT "
mkdir -p "$MNT/sub"
toml_watch "$MNT/sub"
expect_refused "watch narrower" "does not cover the signed watch path $MNT "

log "3. signed for \$MNT, no watch in lockd.toml: lockd marks \$MNT only, from the policy"
toml_watch
start_lockd
grep -q "lockd: info: marking $MNT (watch from signed policy)" "$LOCKD_LOG" ||
  fail "no 'marking $MNT (watch from signed policy)' line"
[[ $(marked_points) == "$MNT" ]] || fail "marked: $(marked_points | tr '\n' ' ')"
expect_denied "$MNT/foreign"
expect_runs "$MNT/good"
log "   a reload of a database with another signed watch keeps the marks and says so"
sign_db --watch "$MNT/sub"
ctl reload >/dev/null || fail "reload refused"
wait_for_log "the new policy enforces on $MNT/sub but the marks were placed for $MNT: restart lockd" ||
  fail "no restart notice after the reload"
[[ $(marked_points) == "$MNT" ]] || fail "marked after reload: $(marked_points | tr '\n' ' ')"
stop_lockd

log "4. lockd.toml wider than the signed watch: accepted, its list is used"
sign_db --watch "$MNT/sub"
toml_watch "$MNT" "$T/decoy"
start_lockd
grep -q "lockd: info: marking $MNT, $T/decoy (watch from $T/lockd.toml)" "$LOCKD_LOG" ||
  fail "no 'marking ... (watch from lockd.toml)' line"
[[ $(marked_points | tr '\n' ' ') == "$T/decoy $MNT " ]] || fail "marked: $(marked_points | tr '\n' ' ')"
expect_denied "$MNT/foreign"
log "   a reload of a database signed for every filesystem, which lockd.toml now narrows: said"
# (a decider started afresh would refuse, as in section 1: never a wider mark from here)
sign_db
ctl reload >/dev/null || fail "reload refused"
wait_for_log "lockd keeps the marks it placed at start and will refuse to restart" ||
  fail "no refusal notice after the reload"
[[ $(marked_points | tr '\n' ' ') == "$T/decoy $MNT " ]] || fail "marked after reload: $(marked_points | tr '\n' ' ')"
expect_denied "$MNT/foreign"
stop_lockd

log "5. audit mode: nothing is denied, lockd.toml's watch is used as given"
MODE=audit sign_db
toml_watch "$MNT"
start_lockd
[[ $(status_field mode) == audit ]] || fail "mode: $(status_field mode)"
[[ $(marked_points) == "$MNT" ]] || fail "marked: $(marked_points | tr '\n' ' ')"
expect_runs "$MNT/foreign"
stop_lockd

log "6. a signed watch path that is a symbolic link (planted offline): refused"
ln -s "$MNT" "$T/link"
sign_db --watch "$T/link"
toml_watch
expect_refused "symlinked watch path" \
  "error: marks: signed policy: watch path $T/link resolves to $MNT: watch paths must be canonical"
sign_db --watch "$T/missing"
expect_refused "missing signed watch path" "error: marks: signed policy: watch path $T/missing: No such file"

finish
