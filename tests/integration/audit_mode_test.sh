#!/bin/bash
# Audit mode (from the signed policy): the foreign binary runs, and a would-deny line is logged.
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs
# With a larger allowlisted file, so that foreign (a copy of id) is hashed: a file larger than
# every allowlisted one is denied unread as larger-than-allowlist (9cbf8ec).
make_db signer "$T/allowlist.lockdb" 1 audit "$MNT/good" /usr/bin/bash
start_lockd
expect_runs "$MNT/good"
expect_runs "$MNT/foreign"
expect_runs "$MNT/foreign"
if wait_for_log "decision verdict=would-deny reason=not-in-allowlist mode=audit .* path=\"$MNT/foreign\""; then
  log "ok: would-deny logged"
else
  fail "no would-deny line"
fi
[[ $(status_field mode) == audit ]] || fail "status mode is not audit"
[[ $(status_field decisions would_deny) -ge 2 ]] || fail "would_deny count"
[[ $(status_field decisions denied) == 0 ]] || fail "denied count in audit mode"
# The text config cannot switch enforcement: there is no such key.
echo 'mode = "audit"' >>"$T/lockd.toml"
stop_lockd
if "$LOCKD_BIN" --config "$T/lockd.toml" 2>"$T/bad.log"; then
  fail "lockd accepted a mode key in the text config"
else
  grep -q "lockd.toml:10: unknown key 'mode'" "$T/bad.log" && log "ok: mode key in text config refused" ||
    fail "unexpected message: $(cat "$T/bad.log")"
fi
finish
