#!/bin/bash
# SIGTERM while an exec waits for a long hash: the exec is answered (allowlisted: it runs),
# lockd exits 0, and the marks are gone afterwards. Also: sd_notify READY=1 only after the
# marks, WATCHDOG=1 pings, STOPPING=1, through a NOTIFY_SOCKET of our own.
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs
cp /usr/bin/true "$MNT/huge"
head -c $((300 * 1000 * 1000)) /dev/zero >>"$MNT/huge"
make_db signer "$T/allowlist.lockdb" 1 enforce "$MNT/good" "$MNT/huge"

# A notify socket that records every datagram.
"$PYTHON" - "$T/notify.sock" "$T/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        try:
            data = s.recv(4096)
        except socket.timeout:
            break
        out.write(data.decode(errors="replace").replace("\n", "|") + "\n")
PY
NOTIFY_PID=$!
for _ in $(seq 50); do [[ -S $T/notify.sock ]] && break; sleep 0.1; done
export NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000
start_lockd
unset NOTIFY_SOCKET WATCHDOG_USEC
sleep 0.5
grep -q "^READY=1" "$T/notify.log" && log "ok: READY=1" || fail "no READY=1"
[[ $(grep -c "^WATCHDOG=1" "$T/notify.log") -ge 2 ]] && log "ok: watchdog pings" || fail "no watchdog pings"

# Start the exec of the huge file (hash takes a while), then stop lockd at once.
( timeout 60 "$MNT/huge"; echo $? >"$T/huge.rc" ) &
EXEC_JOB=$!
for _ in $(seq 100); do [[ $(status_field queue_depth) -ge 1 ]] && break; sleep 0.02; done
depth=$(status_field queue_depth)
log "queue depth when stopping: $depth"
stop_lockd
[[ $STOP_RC == 0 ]] || fail "lockd exit $STOP_RC"
wait "$EXEC_JOB" || true
[[ $(cat "$T/huge.rc" 2>/dev/null) == 0 ]] && log "ok: the pending exec was answered and ran" ||
  fail "pending exec: exit $(cat "$T/huge.rc" 2>/dev/null)"
grep -q "^STOPPING=1" "$T/notify.log" && log "ok: STOPPING=1" || fail "no STOPPING=1"
expect_runs "$MNT/foreign"  # marks removed
kill "$NOTIFY_PID" 2>/dev/null || true
finish
