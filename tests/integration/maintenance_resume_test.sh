#!/bin/bash
# A recorded maintenance window is resumed after a restart only when the token's signed
# authorization kept with it proves it (issue 12 item 1). lockd is stopped, its window file
# (<state_dir>/maintenance/window, root-only) is replaced or edited, and lockd started again:
#   - a hand-written window in the old format, ending in 2100: not resumed (check "no
#     authorization"); on main lockd resumed it and allowed everything with no token;
#   - a genuine window whose end was moved to 2100: not resumed (check "window end");
#   - a genuine window left as lockd wrote it: resumed, with "verified again" in the log.
# Each refusal leaves lockd enforcing, a foreign binary denied, an authz_refused record (phase
# resume, naming the check) and the file set aside as window.refused; the audit chain verifies.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/maintenance_lib.sh"

setup_standard tmpfs
make_file_token fe
cp "$T/keys/fe.token.pem" "$T/trust/fe.token.pem"
AUDIT="$T/log/audit.jsonl"
WINDOW="$T/state/maintenance/window"
start_lockd
expect_denied "$MNT/foreign"

# open_window MINUTES: a genuine window, opened with the file token over the control socket.
open_window() {
  get_challenge maintenance_start "$1" || fail "challenge maintenance_start $1"
  local a
  a=$(sign_challenge "$FILE_TOKEN") || fail "token sign"
  expect_reply ok "for $1 minute(s)" "$(raw "maintenance-start
$a")"
  [[ $(status_field mode) == maintenance ]] || fail "the window did not open"
}

# expect_refused_resume CHECK: after a restart, lockd enforces and says why.
expect_refused_resume() {
  [[ $(status_field mode) == enforce ]] || fail "$1: the window was resumed: $(status_field mode)"
  expect_denied "$MNT/foreign"
  wait_audit 5 authz_refused act maintenance_start check "$1" phase resume ||
    fail "$1: no authz_refused record (phase resume)"
  grep -q "not resumed after a restart: $1: " "$LOCKD_LOG" || fail "$1: no log line saying why"
  [[ ! -e $WINDOW && -e $WINDOW.refused ]] || fail "$1: the window file was not set aside"
  rm -f "$WINDOW.refused"
}

log "a hand-written window (the old format, no authorization) ending in 2100"
stop_lockd
mkdir -p "$T/state/maintenance"
cat >"$WINDOW" <<'TXT'
lockd-maintenance-window-v1
session: 0123456789abcdef0123456789abcdef
token_id: T-0001
holder: Nobody
organisation: Nowhere
key_id: 00
start: 1700000000
end: 4102444800
TXT
chmod 600 "$WINDOW"
start_lockd
expect_refused_resume "no authorization"

log "a genuine window, its end moved to 2100"
open_window 5
stop_lockd
sed -i 's/^end: .*/end: 4102444800/' "$WINDOW"
start_lockd
expect_refused_resume "window end"

log "a genuine window, as lockd wrote it: resumed"
open_window 5
session=$(sed -n 's/^session: //p' "$WINDOW")
stop_lockd
start_lockd
[[ $(status_field mode) == maintenance ]] || fail "the genuine window was not resumed"
grep -q "maintenance session $session resumed after a restart (authorization of token .* verified again)" \
  "$LOCKD_LOG" || fail "no resume line"
expect_runs "$MNT/foreign"
get_challenge maintenance_abort || fail "challenge maintenance_abort"
abort=$(sign_challenge "$FILE_TOKEN") || fail "token sign (abort)"
expect_reply ok "aborted by token" "$(raw "maintenance-abort
$abort")"
[[ $(status_field mode) == enforce ]] || fail "not back to enforce after the abort"
timeout 60 "$LOCKCTL" log verify --genesis --log "$AUDIT" >/dev/null || fail "audit log does not verify"

finish
