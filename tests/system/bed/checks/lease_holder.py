#!/usr/bin/python3
"""lease_holder.py [--polite] PATH: what any unprivileged user can do to a file they own:
create PATH, take a write lease on it (fcntl F_SETLEASE F_WRLCK) and never give it up (the
lease-break signal is ignored), so that every other open of PATH has to wait for the kernel's
lease-break-time (45 s by default). With --polite, a well-behaved holder instead (as Samba's
oplocks are): on the break signal it gives the lease up at once. Prints "leased PATH" once the
lease is held, then sleeps until killed."""
import fcntl
import os
import signal
import sys
import time

F_SETLEASE = 1024  # F_LINUX_SPECIFIC_BASE + 0 (fcntl.h)
polite = sys.argv[1] == "--polite"
path = sys.argv[-1]
with open(path, "w") as f:
    f.write("a file its owner leases\n")
fd = os.open(path, os.O_RDONLY)
if polite:
    def give_up(*_):
        fcntl.fcntl(fd, F_SETLEASE, fcntl.F_UNLCK)
        print("lease given up on the break signal", flush=True)
    signal.signal(signal.SIGIO, give_up)
else:
    signal.signal(signal.SIGIO, signal.SIG_IGN)
deadline = time.monotonic() + 5
while True:
    try:
        fcntl.fcntl(fd, F_SETLEASE, fcntl.F_WRLCK)
        break
    except OSError as e:
        # EAGAIN: another open of the file (lockd's event fd of our own open) still exists.
        if time.monotonic() > deadline:
            print(f"no lease on {path}: {e}", flush=True)
            sys.exit(1)
        time.sleep(0.05)
print(f"leased {path} (uid {os.getuid()})", flush=True)
while True:
    time.sleep(60)
