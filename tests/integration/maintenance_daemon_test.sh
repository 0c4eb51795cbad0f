#!/bin/bash
# The daemon side of maintenance, driven over the control socket with the real token tools
# (lockctl token create / token sign, a file token): challenge -> maintenance-start -> a
# foreign binary runs and is learned, a written file is learned with its digest, one written
# by another login is listed as "other" (maintenance_not_learned), one written by the trusted
# updater as "updater" -> status
# says maintenance -> a second start refused -> another act's authorization refused (wrong
# act) -> restart inside the window: still maintenance -> maintenance-finish with a database
# that is not newer refused, its authorization replayed: refused (replay) -> generation 2
# accepted and loaded, enforce again -> an authorization from before a restart: refused
# (unknown nonce) -> a window that ends while lockd runs ends by itself, one that ended while
# lockd was down is closed at start (maintenance_expired).
#
# The window's own end: the shortest window a token can authorize is one minute. Rather than
# wait for it (or give lockd a test-only shortcut), the test stops lockd, moves the end of the
# recorded window (root-only state file <state_dir>/maintenance/window) sooner, and starts
# lockd again: the real resume-after-restart and end-by-itself code runs. lockd resumes a
# window only as its token's authorization granted it (an end moved later is refused:
# maintenance_resume_test); one that ends sooner grants less and is resumed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/maintenance_lib.sh"
engineer_login  # the test acts as the field engineer: what it writes is the session's

setup_standard tmpfs
# A trusted updater: a copy of the python3 executable, allowlisted, named in the config. It
# stays alive a moment after writing: lockd recognises the writer from /proc/<pid>/exe when it
# handles the close-write, so a writer already gone is learned as a plain write.
cp "$(readlink -f /usr/bin/python3)" "$MNT/updater"
make_db signer "$T/allowlist.lockdb" 1 enforce "$MNT/good" "$MNT/updater"
echo "trusted_updaters = [\"$MNT/updater\"]" >>"$T/lockd.toml"
PASS="maintenance-test-passphrase"
"$MAKE_TOKEN" --out "$T/token" --holder "Ada Field" --org "ACME ATM Service" \
  --not-after 2099-12-31 --passphrase-fd 3 --public-out "$T/token.pub.pem" 3<<<"$PASS" \
  >"$T/token.out" || { fail "token create"; finish; }
cp "$T/token.pub.pem" "$T/trust/token.pem"
AUDIT="$T/log/audit.jsonl"
start_lockd

# authorize ACT [ARG]: asks lockd for a challenge and has the token sign it; prints the
# authorization text (raw, expect_reply, audit_has, wait_audit: maintenance_lib.sh).
authorize() { get_challenge "$@" && sign_challenge "$T/token"; }

expect_denied "$MNT/foreign"

log "challenges are validated"
expect_reply error "1 to 1440" "$(raw 'challenge maintenance_start 0')"
expect_reply error "unknown act" "$(raw 'challenge open_sesame')"

log "maintenance start with the token"
start_auth=$(authorize maintenance_start 5) || fail "authorize maintenance_start"
expect_reply ok "for 5 minute(s)" "$(raw "maintenance-start
$start_auth")"
[[ $(status_field mode) == maintenance ]] || fail "status mode is not maintenance"
session=$(ctl status --json | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["maintenance"]["session"])')
[[ $session =~ ^[0-9a-f]{32}$ ]] || fail "status has no maintenance session: $session"
ctl status | grep -q "^maintenance: session $session, ends " || fail "text status lacks the window"
audit_has maintenance_start session "$session" holder "Ada Field" minutes 5 || fail "no maintenance_start record"
audit_has mode_change from enforce to maintenance || fail "no mode_change to maintenance"

log "a second window while one is open; another act's authorization"
# Refused before the authorization is looked at (its nonce is not used up).
expect_reply refused "maintenance already open" "$(raw "maintenance-start
$start_auth")"
abort_auth=$(authorize maintenance_abort) || fail "authorize maintenance_abort"
expect_reply refused "authorization refused: wrong act" "$(raw "maintenance-finish $T/allowlist.lockdb
$abort_auth")"
wait_audit 5 authz_refused act maintenance_finish check "wrong act" || fail "no authz_refused (act) record"

log "learning: a foreign binary runs, a new file is written, another login writes one too"
expect_runs "$MNT/foreign"
# The writers stay a moment after their write: lockd tells whose process wrote a file from
# /proc when the close-write reaches it, and a writer already gone counts as "unknown".
linger_copy() { "$PYTHON" -c 'import shutil, sys, time
shutil.copy(sys.argv[1], sys.argv[2]); time.sleep(1.5)' "$@"; }
linger_copy /usr/bin/uname "$MNT/new-tool" || fail "copy new-tool"
# Another login on the terminal (a fresh kernel login session, as at a console login): not the
# engineer's session, nor a descendant of the shell that opened the window.
(echo 1000 >"/proc/$BASHPID/loginuid" && linger_copy /usr/bin/hostname "$MNT/outsider-tool") ||
  fail "the other login's copy"
new_digest=$(sha256sum /usr/bin/uname | cut -d' ' -f1)
foreign_digest=$(sha256sum /usr/bin/id | cut -d' ' -f1)
outsider_digest=$(sha256sum /usr/bin/hostname | cut -d' ' -f1)
hexpath() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
learned="$T/state/maintenance/learned"
# learned_has DIGEST HOW BY PATH: a line of the learned list
# (<sha256>\t<how>\t<by>\t<pid>\t<uid>\t<exe hex>\t<path hex>).
learned_has() {
  awk -F'\t' -v d="$1" -v h="$2" -v b="$3" -v p="$(hexpath "$4")" \
    '$1 == d && $2 == h && $3 == b && $7 == p { found = 1 } END { exit !found }' "$learned" 2>/dev/null
}
wait_learned() {  # wait_learned DIGEST HOW BY PATH: waits (5 s) for such a line
  for _ in $(seq 50); do learned_has "$@" && return 0; sleep 0.1; done
  return 1
}
wait_learned "$foreign_digest" exec session "$MNT/foreign" && log "ok: exec learned" ||
  fail "foreign exec not in the learned list: $(cat "$learned" 2>&1)"
wait_learned "$new_digest" write session "$MNT/new-tool" && log "ok: write learned" ||
  fail "written file not in the learned list: $(cat "$learned" 2>&1)"
wait_learned "$outsider_digest" write other "$MNT/outsider-tool" && log "ok: the other login's write listed as other" ||
  fail "the other login's write not listed as other: $(cat "$learned" 2>&1)"
wait_audit 5 maintenance_not_learned how write by other path "$MNT/outsider-tool" uid 0 ||
  fail "no maintenance_not_learned record for the other login's file"
audit_has maintenance_learned path "$MNT/outsider-tool" && fail "the other login's file was recorded as learned"
"$MNT/updater" -c 'import shutil, sys, time
shutil.copyfile("/usr/bin/uname", sys.argv[1]); time.sleep(1.5)' "$MNT/by-updater" ||
  fail "the updater did not run"
wait_learned "$new_digest" updater updater "$MNT/by-updater" && log "ok: updater write learned" ||
  fail "the updater's file not learned as updater: $(cat "$learned" 2>&1)"
expect_runs "$MNT/foreign"
[[ $(awk -F'\t' -v p="$(hexpath "$MNT/foreign")" '$2 == "exec" && $7 == p' "$learned" | wc -l) == 1 ]] ||
  fail "exec learned twice"
wait_audit 5 maintenance_learned how write by session path "$MNT/new-tool" sha256 "$new_digest" kind elf-exec ||
  fail "no maintenance_learned record for the written file"
ms=$(raw "maintenance-status --json")
expect_reply ok '"state":"active"' "$ms"
tail -n +2 <<<"$ms" | "$PYTHON" -c '
import json, sys
v = json.load(sys.stdin)
assert v["session"] == sys.argv[1], v
assert v["learned_list"] == sys.argv[2], v
assert v["learned_count"] >= 3, v
assert v["not_learned_count"] == 1, v
assert v["trusted_updaters"] == [sys.argv[3]], v
assert v["baseline_roots"] == ["/"] and "/proc" in v["baseline_excludes"], v
assert v["database"]["generation"] == 1, v
' "$session" "$learned" "$MNT/updater" || fail "maintenance-status --json: $ms"

log "restart inside the window: still maintenance"
stop_lockd
start_lockd
[[ $(status_field mode) == maintenance ]] || fail "maintenance did not survive the restart"
grep -q "maintenance session $session resumed after a restart" "$LOCKD_LOG" || fail "no resume line"
expect_runs "$MNT/foreign"

log "finish: a database that is not newer is refused"
sha() { sha256sum "$1" | cut -d' ' -f1; }
make_db signer "$T/same.lockdb" 1 enforce "$MNT/good" "$MNT/new-tool"
a=$(authorize maintenance_finish "$(sha "$T/same.lockdb")") || fail "authorize finish (same)"
expect_reply refused "not greater than generation 1" "$(raw "maintenance-finish $T/same.lockdb
$a")"
log "replay: that authorization (its nonce was used) again"
expect_reply refused "authorization refused: replay" "$(raw "maintenance-finish $T/same.lockdb
$a")"
wait_audit 5 authz_refused act maintenance_finish check replay || fail "no authz_refused (replay) record"
[[ $(status_field mode) == maintenance ]] || fail "a refused finish ended maintenance"

log "finish: generation 2 is installed and loaded"
make_db signer "$T/next.lockdb" 2 enforce "$MNT/good" "$MNT/new-tool"
a=$(authorize maintenance_finish "$(sha "$T/next.lockdb")") || fail "authorize finish"
expect_reply ok "generation 1 -> 2" "$(raw "maintenance-finish $T/next.lockdb
$a")"
cmp -s "$T/next.lockdb" "$T/allowlist.lockdb" || fail "the installed file is not the new database"
[[ $(status_field mode) == enforce ]] || fail "not back to enforce"
[[ $(status_field database generation) == 2 ]] || fail "generation is not 2"
expect_runs "$MNT/new-tool"
expect_denied "$MNT/foreign"
audit_has maintenance_finish session "$session" generation 2 previous_generation 1 ||
  fail "no maintenance_finish record"
audit_has mode_change from maintenance to enforce || fail "no mode_change back to enforce"
expect_reply refused "not in maintenance" "$(raw "maintenance-abort
$abort_auth")"

log "the authorization that opened the first window, after a restart: unknown nonce"
expect_reply refused "authorization refused: unknown nonce" "$(raw "maintenance-start
$start_auth")"
[[ $(status_field mode) == enforce ]] || fail "an old authorization changed the mode"

log "a window that ends while lockd runs"
a=$(authorize maintenance_start 1) || fail "authorize start (1 minute)"
expect_reply ok "for 1 minute(s)" "$(raw "maintenance-start
$a")"
session2=$(sed -n 's/^session: //p' "$T/state/maintenance/window")
stop_lockd
now=$(date +%s)
sed -i "s/^end: .*/end: $((now + 5))/" "$T/state/maintenance/window"
start_lockd
grep -q "maintenance session $session2 resumed after a restart" "$LOCKD_LOG" ||
  fail "shortened window not resumed"
wait_audit 20 maintenance_expired session "$session2" && log "ok: the window ended by itself" ||
  fail "no maintenance_expired record within 20 s"
grep -q "maintenance session $session2 ended at" "$LOCKD_LOG" || fail "no end line in lockd's log"
[[ $(status_field mode) == enforce ]] || fail "not enforce after the window ended"
[[ ! -e $T/state/maintenance/window ]] || fail "window file left after the end"
expect_denied "$MNT/foreign"

log "a window that ended while lockd was down"
a=$(authorize maintenance_start 1) || fail "authorize start (again)"
expect_reply ok "for 1 minute(s)" "$(raw "maintenance-start
$a")"
session3=$(sed -n 's/^session: //p' "$T/state/maintenance/window")
start3=$(sed -n 's/^start: //p' "$T/state/maintenance/window")
stop_lockd
sed -i "s/^end: .*/end: $((start3 + 1))/" "$T/state/maintenance/window"
while (($(date +%s) <= start3 + 1)); do sleep 0.2; done
start_lockd
[[ $(status_field mode) == enforce ]] || fail "an ended window was resumed"
audit_has maintenance_expired session "$session3" || fail "no maintenance_expired after restart"
timeout 60 "$LOCKCTL" log verify --genesis --log "$AUDIT" >/dev/null || fail "audit log does not verify"

finish
