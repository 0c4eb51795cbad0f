#!/usr/bin/env bash
# Crash safety of `lockctl maintenance finish`: the tool is SIGKILLed at each step (test hook
# LOCKCTL_TEST_STOP_AT, tools/maintenance/stop_point.h) — after the scan, after the build,
# after the staging write, after the challenge (authorization signed, not sent), after lockd's
# answer. Before lockd's answer, the previous database stays in force, byte for byte, the
# window stays open, and a re-run finishes normally. After lockd's answer the new database is
# in force and a re-run says there is no window to finish.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/maintenance_lib.sh"
engineer_login  # the test acts as the field engineer: what it writes is the session's
out=""  # set by expect_rc

make_file_token fe
mkdir -p "$T/trust"
cp "$T/keys/fe.token.pem" "$T/trust/fe.pem"
setup_terminal --token "$FILE_TOKEN" --passphrase-fd 3 3<<<"$PASS"
start_lockd
FT=(--token "$FILE_TOKEN" --passphrase-fd 3)

expect_rc 0 out mctl maintenance start "${FT[@]}" 3<<<"$PASS"
cp /usr/bin/whoami "$MNT/app/newtool"
expect_runs "$MNT/app/newtool"
cp "$T/allowlist.lockdb" "$T/before.lockdb"

for step in scanned built staged challenged; do
  log "killed at '$step'"
  rc=0
  out=$(LOCKCTL_TEST_STOP_AT=$step mctl maintenance finish --yes "${FT[@]}" 3<<<"$PASS" 2>&1) || rc=$?
  [[ $rc -eq 137 ]] || fail "$step: expected death by SIGKILL (137), got $rc: $out"
  [[ $out == *"killing myself at step $step"* ]] || fail "$step: did not stop there: $out"
  cmp -s "$T/allowlist.lockdb" "$T/before.lockdb" || fail "$step: the database file changed"
  [[ $(db_generation) == 1 ]] || fail "$step: generation $(db_generation)"
  [[ $(status_field mode) == maintenance ]] || fail "$step: window closed: $(status_field mode)"
done
[[ -e $T/state/staging/allowlist.lockdb.new ]] || fail "no stale staging file after the kills"

log "lockd restarted after the kills: still the old database, window still open"
stop_lockd
start_lockd
[[ $(db_generation) == 1 ]] || fail "after restart: generation $(db_generation)"
[[ $(status_field mode) == maintenance ]] || fail "after restart: mode $(status_field mode)"

log "re-run after the crashes finishes normally"
expect_rc 0 out mctl maintenance finish --yes "${FT[@]}" 3<<<"$PASS"
grep -q "^finished: generation 2 installed, back to enforce$" <<<"$out" || fail "re-run: $out"
[[ $(db_generation) == 2 ]] || fail "re-run: generation $(db_generation)"
expect_runs "$MNT/app/newtool"
expect_denied "$MNT/foreign"

log "killed after lockd answered: the new database is in force"
expect_rc 0 out mctl maintenance start "${FT[@]}" 3<<<"$PASS"
cp /usr/bin/date "$MNT/app/tool2"
rc=0
out=$(LOCKCTL_TEST_STOP_AT=sent mctl maintenance finish --yes "${FT[@]}" 3<<<"$PASS" 2>&1) || rc=$?
[[ $rc -eq 137 ]] || fail "sent: expected 137, got $rc: $out"
[[ $(db_generation) == 3 ]] || fail "sent: generation $(db_generation)"
[[ $(status_field mode) == enforce ]] || fail "sent: mode $(status_field mode)"
expect_runs "$MNT/app/tool2"
expect_rc 1 out mctl maintenance finish --yes "${FT[@]}" 3<<<"$PASS"
[[ $out == *"no maintenance window is open"* ]] || fail "re-run after sent: $out"
log "  -> $out"

log "not confirmed: nothing installed, the window stays open"
expect_rc 0 out mctl maintenance start "${FT[@]}" 3<<<"$PASS"
cp /usr/bin/uname "$MNT/app/tool3"
printf '%s\n' "$PASS" >"$T/pass"
# On a terminal (a pty), answering "no" once the question is shown.
rc=0
out=$("$PYTHON" -c '
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    f = os.open(sys.argv[2], os.O_RDONLY)
    if f != 3:
        os.dup2(f, 3)
    os.set_inheritable(3, True)
    os.execv(sys.argv[1], [sys.argv[1], "maintenance", "finish", "--config", sys.argv[3],
                           "--token", sys.argv[4], "--passphrase-fd", "3"])
out, answered, deadline = b"", False, time.time() + 50
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            b = os.read(fd, 4096)
        except OSError:
            break
        if not b:
            break
        out += b
    if not answered and b"[yes/no]" in out:
        os.write(fd, b"no\n")
        answered = True
sys.stdout.write(out.decode("utf-8", "replace"))
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))' "$LOCKCTL" "$T/pass" "$T/lockd.toml" "$FILE_TOKEN") || rc=$?
[[ $rc -eq 1 ]] || fail "not confirmed: exit $rc"
[[ $out == *"[yes/no]"* && $out == *"not confirmed: nothing installed"* ]] || fail "no: rc $rc: $out"
[[ $(db_generation) == 3 ]] || fail "not confirmed: generation $(db_generation)"
[[ $(status_field mode) == maintenance ]] || fail "not confirmed: mode $(status_field mode)"
expect_rc 2 out mctl maintenance finish "${FT[@]}" 3<<<"$PASS" </dev/null
[[ $out == *"no terminal to confirm on: give --yes"* ]] || fail "no tty: $out"
expect_rc 0 out mctl maintenance abort "${FT[@]}" 3<<<"$PASS"

finish
