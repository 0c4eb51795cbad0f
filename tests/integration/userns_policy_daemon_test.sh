#!/bin/bash
# Issue 11 item 4, "no mounts by unprivileged users": lockd applies the signed policy's
# restrict_user_namespaces (default on) at start, recording the value it found for uninstall,
# and puts it back when a reloaded policy turns the switch off; `lockctl status` shows the
# kernel's setting beside the policy. Before: the switch was signed and shown but never applied
# (the setting stayed as it was).
#
# The setting is the machine's (user.max_user_namespaces, or Debian's
# kernel.unprivileged_userns_clone): here lib.sh has put a plain file over it in this test's
# private mount namespace (USERNS_SYSCTL_STANDIN), so lockd writes the stand-in and the
# machine's value is never touched. The kernel side of the write (a real user namespace refused
# with ENOSPC after it) is tested by tests/lockd/userns_policy_test.cpp in a child user
# namespace of its own.
source "$(dirname "$0")/lib.sh"

[[ -f $USERNS_SYSCTL_STANDIN ]] || { log "SKIP: no user.max_user_namespaces in this kernel"; exit 77; }
before=$(cat "$USERNS_SYSCTL_STANDIN")
[[ $before != 0 ]] || { log "SKIP: user namespaces are already off here"; exit 77; }
knob=user.max_user_namespaces
if [[ -e /proc/sys/kernel/unprivileged_userns_clone ]]; then
  knob=kernel.unprivileged_userns_clone
  before=$(cat /proc/sys/kernel/unprivileged_userns_clone)
fi
setting() { cat "/proc/sys/${knob//.//}"; }

setup_standard tmpfs
start_lockd || { fail "lockd did not start"; finish; }

log "policy on (the default): lockd turns unprivileged user namespaces off at start"
[[ $(setting) == 0 ]] || fail "$knob is $(setting) after start, expected 0"
record="$T/state/sysctl-restore"
[[ $(cat "$record" 2>/dev/null) == "$knob=$before" ]] ||
  fail "restore record: '$(cat "$record" 2>/dev/null)', expected '$knob=$before'"
text=$(ctl status) || fail "status"
grep -q "^user namespaces: restricted ($knob=0" <<<"$text" || fail "status text: $(grep -i 'user namespaces' <<<"$text")"
[[ $(status_field user_namespaces) == "restricted ("*"$knob=0"*")" ]] ||
  fail "status json: $(status_field user_namespaces)"
grep -q "$knob $before -> 0 (policy restrict_user_namespaces)" "$LOCKD_LOG" || fail "no log of the change"

log "a restart keeps the first record (the value from before lockd)"
stop_lockd
start_lockd || { fail "lockd did not restart"; finish; }
[[ $(cat "$record") == "$knob=$before" ]] || fail "record after restart: $(cat "$record")"
[[ $(setting) == 0 ]] || fail "$knob after restart: $(setting)"

log "someone turns them back on while lockd runs: status says so"
echo "$before" >"/proc/sys/${knob//.//}"
grep -q "^user namespaces: NOT restricted although the policy asks ($knob=$before)" <<<"$(ctl status)" ||
  fail "status after the setting was put back: $(ctl status | grep -i 'user namespaces')"

log "a reload applies the policy again"
make_db signer "$T/allowlist.lockdb" 2 enforce "$MNT/good" || fail "db generation 2"
ctl reload >/dev/null || fail "reload of generation 2 refused"
[[ $(setting) == 0 ]] || fail "$knob after reload: $(setting)"

log "policy off (--allow-user-namespaces): the recorded value is put back, the record goes"
WATCH_ARGS+=(--allow-user-namespaces)
make_db signer "$T/allowlist.lockdb" 3 enforce "$MNT/good" || fail "db generation 3"
ctl reload >/dev/null || fail "reload of generation 3 refused"
[[ $(setting) == "$before" ]] || fail "$knob after the policy turned it off: $(setting), expected $before"
[[ ! -s $record ]] || fail "restore record still there: $(cat "$record")"
grep -q "^user namespaces: policy leaves them on ($knob=$before" <<<"$(ctl status)" ||
  fail "status with the policy off: $(ctl status | grep -i 'user namespaces')"
expect_runs "$MNT/good"
expect_denied "$MNT/foreign"

finish
