#!/bin/bash
# An unprivileged user's file lease never stalls lockd (issue 10, freeze 3). A user takes a
# write lease on a file they own on a marked filesystem; another process opens it. lockd's read
# of the event used to open the file for itself and wait for the lease break
# (fs.lease-break-time, 45 s), and every decision on the machine waited with it. Now:
#  - that open is answered within 1 s (denied: lockd cannot read the file without breaking the
#    lease, and nothing unread is allowed);
#  - an allowlisted exec meanwhile is answered at once, and a foreign one denied;
#  - repeated, it stays so (no state is left behind).
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs
chmod 0755 "$T"
chmod 0777 "$MNT"
mkdir -m 0777 "$T/u"
start_lockd || { fail "lockd did not start"; finish; }

LEASED="$MNT/leased"
setpriv --reuid 65534 --regid 65534 --clear-groups sh -c "echo data >'$LEASED'"
# hold_lease: as uid 65534, takes a write lease on $LEASED and keeps it for 60 s; SIGIO (the
# lease-break notice) is ignored so the holder never gives the lease up by itself.
hold_lease() {
  setpriv --reuid 65534 --regid 65534 --clear-groups "$PYTHON" -c '
import fcntl, os, signal, sys, time
signal.signal(signal.SIGIO, signal.SIG_IGN)
fd = os.open(sys.argv[1], os.O_RDONLY)
# A write lease needs the file open by no one else. lockd answers this open of the holder before
# it closes the event fd it read that open with, so right after os.open the lease may be
# refused (EAGAIN) for a moment: retry, as a lease taker on a marked filesystem has to.
for attempt in range(200):
    try:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
        break
    except BlockingIOError:
        if attempt == 199:
            raise
        time.sleep(0.01)
open(sys.argv[2], "w").write("held\n")
time.sleep(60)' "$LEASED" "$T/u/lease.$1" &
  HOLDER=$!
  EXTRA_PIDS+=("$HOLDER")
  for _ in $(seq 100); do [[ -f $T/u/lease.$1 ]] && return 0; sleep 0.05; done
  fail "the lease holder did not take its lease"
  return 1
}

for round in 1 2; do
  hold_lease "$round" || finish
  log "round $round: uid 65534 holds a write lease on $LEASED"
  # The open that would break the lease, from another process (root here: any opener).
  expect_within 1 any cat "$LEASED"
  # Decisions for everyone else go on meanwhile.
  expect_within 2 0 "$MNT/good"
  expect_within 2 126 "$MNT/foreign"
  kill -KILL "$HOLDER" 2>/dev/null || true
  wait "$HOLDER" 2>/dev/null || true
done

# Without a lease the file opens normally.
expect_within 2 0 cat "$LEASED"
# Where the kernel reports them (Linux 6.13+, FAN_REPORT_FD_ERROR), status counts the opens the
# kernel denied because lockd could not open the file without waiting.
if [[ $(status_field reports_open_errors) == True ]]; then
  n=$(status_field unopenable_denied)
  ((n >= 2)) && log "ok: status counts $n open(s) denied unopened" ||
    fail "status unopenable_denied: $n"
fi
finish
