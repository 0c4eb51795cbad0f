#!/bin/bash
# An authorization is bound to the challenge lockd issued, not only to its nonce (issue 12
# item 2). Over the raw control socket with a real file token: a challenge issued for
# maintenance_abort is edited to say "maintenance_start 60" before the token signs it, and
# sent as maintenance-start: refused ("not as issued: act"), recorded (authz_refused, mismatch
# act), the mode stays enforce. A challenge for "maintenance_start 5" signed as 1440 minutes:
# refused (duration). The genuine challenges still work afterwards (the refusals burned no
# nonce). On main both forged requests opened a maintenance window.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/maintenance_lib.sh"

setup_standard tmpfs
make_file_token fe
cp "$T/keys/fe.token.pem" "$T/trust/fe.token.pem"
AUDIT="$T/log/audit.jsonl"
start_lockd
expect_denied "$MNT/foreign"

log "a challenge for maintenance_abort, edited to maintenance_start 60 before signing"
get_challenge maintenance_abort || fail "challenge maintenance_abort"
cp "$T/challenge.txt" "$T/abort-challenge.txt"
sed -i -e 's/^act: maintenance_abort$/act: maintenance_start/' -e 's/^argument:$/argument: 60/' \
  "$T/challenge.txt"
grep -qx 'act: maintenance_start' "$T/challenge.txt" || fail "the challenge was not edited"
swapped=$(sign_challenge "$FILE_TOKEN") || fail "token sign (swapped act)"
expect_reply refused "authorization refused: not as issued: act" "$(raw "maintenance-start
$swapped")"
wait_audit 5 authz_refused act maintenance_start check "not as issued" mismatch act ||
  fail "no authz_refused record naming the act mismatch"
[[ $(status_field mode) == enforce ]] || fail "the swapped act changed the mode"
expect_denied "$MNT/foreign"

log "a challenge for maintenance_start 5, signed as 1440 minutes"
get_challenge maintenance_start 5 || fail "challenge maintenance_start 5"
cp "$T/challenge.txt" "$T/start-challenge.txt"
sed -i 's/^argument: 5$/argument: 1440/' "$T/challenge.txt"
longer=$(sign_challenge "$FILE_TOKEN") || fail "token sign (longer)"
expect_reply refused "authorization refused: not as issued: duration" "$(raw "maintenance-start
$longer")"
wait_audit 5 authz_refused act maintenance_start check "not as issued" mismatch duration ||
  fail "no authz_refused record naming the duration mismatch"
[[ $(status_field mode) == enforce ]] || fail "the longer window changed the mode"

log "the genuine challenges still work: start for 5 minutes, then abort"
cp "$T/start-challenge.txt" "$T/challenge.txt"
genuine=$(sign_challenge "$FILE_TOKEN") || fail "token sign (genuine start)"
expect_reply ok "for 5 minute(s)" "$(raw "maintenance-start
$genuine")"
[[ $(status_field mode) == maintenance ]] || fail "the genuine authorization did not open the window"
cp "$T/abort-challenge.txt" "$T/challenge.txt"
abort=$(sign_challenge "$FILE_TOKEN") || fail "token sign (genuine abort)"
expect_reply ok "aborted by token" "$(raw "maintenance-abort
$abort")"
[[ $(status_field mode) == enforce ]] || fail "not back to enforce after the abort"
timeout 60 "$LOCKCTL" log verify --genesis --log "$AUDIT" >/dev/null || fail "audit log does not verify"

finish
