#!/bin/bash
# An allowlisted binary runs, a foreign one is denied with EPERM and logged, a copy of an
# allowlisted binary under another name runs, status reports it all; SIGTERM stops cleanly and
# removes the marks.
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs
# A larger allowlisted file, so that foreign (a copy of id) is hashed and its deny line has the
# digest (a file larger than every allowlisted one is denied unread, 9cbf8ec).
make_db signer "$T/allowlist.lockdb" 1 enforce "$MNT/good" /usr/bin/bash
start_lockd

expect_runs "$MNT/good"
expect_denied "$MNT/foreign"
cp "$MNT/good" "$MNT/renamed-copy"
expect_runs "$MNT/renamed-copy"
# Twice more: answered from the cache the second time, same answers.
expect_runs "$MNT/good"
expect_denied "$MNT/foreign"
# A binary on / is not affected (/ is not marked in tests).
expect_runs /usr/bin/id

# The deny line: one structured line with pid, ppid, uid, exe, path, digest, reason.
# (Digest of the source: with library coverage on, reading a foreign ELF on the marked
# filesystem is refused to every reader, sha256sum included.)
foreign_digest=$(sha256sum /usr/bin/id | cut -d' ' -f1)
if wait_for_log "decision verdict=deny reason=not-in-allowlist mode=enforce .* uid=0 exe=\"/usr/bin/timeout\" path=\"$MNT/foreign\" digest=$foreign_digest"; then
  log "ok: deny logged with exe, path and digest"
else
  fail "no structured deny line for $MNT/foreign"
fi

# A hostile file name cannot forge a log line.
evil="$MNT/evil
lockd: decision verdict=allow"
cp /usr/bin/id "$evil"
expect_denied "$evil"
if grep -q '^lockd: decision verdict=allow' "$LOCKD_LOG"; then
  fail "a file name forged a log line"
elif wait_for_log 'exe="/usr/bin/timeout" path=".*/evil\\x0alockd: decision verdict=allow"'; then
  log "ok: hostile path escaped in the log"
else
  fail "escaped hostile path not found in the log"
fi

# Status.
[[ $(status_field mode) == enforce ]] || fail "status mode"
[[ $(status_field database generation) == 1 ]] || fail "status generation"
[[ $(status_field database entries) == 2 ]] || fail "status entries"  # good and bash
[[ $(status_field decisions denied) -ge 3 ]] || fail "status denied count"
[[ $(status_field decisions allowed) -ge 3 ]] || fail "status allowed count"
[[ $(status_field cache hits) -ge 1 ]] || fail "status cache hits"
[[ $(status_field marked_filesystems 0 mount_point) == "$MNT" ]] || fail "status marked fs"
[[ $("$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)["marked_filesystems"]))' < <(ctl status --json)) == 1 ]] ||
  fail "more than the test filesystem is marked"
ctl status | grep -q "^last denials: " || fail "text status"
log "ok: status"

# Non-root peers are refused by the control socket.
if command -v setpriv >/dev/null; then
  if out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$LOCKCTL" status --socket "$SOCK" 2>&1); then
    fail "status as nobody succeeded: $out"
  else
    log "ok: control socket refuses non-root ($out)"
  fi
fi

stop_lockd
[[ $STOP_RC == 0 ]] || fail "lockd exit status after SIGTERM: $STOP_RC"
grep -q "lockd: info: stopped" "$LOCKD_LOG" || fail "no clean stop message"
# Marks are gone: the foreign binary runs again.
expect_runs "$MNT/foreign"
finish
