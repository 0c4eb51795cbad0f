#!/usr/bin/python3
"""timed_open.py [--blocking] PATH: opens PATH read-only and non-blocking (so that a lease on
it does not make THIS open wait for the lease break: only lockd's answer is timed), or with
--blocking as an ordinary program does (it then also waits for the lease holder), and prints
how long the open took and how it ended: "open PATH: ok|EWOULDBLOCK|<errno name> in N ms"."""
import errno
import os
import sys
import time

blocking = sys.argv[1] == "--blocking"
path = sys.argv[-1]
t0 = time.monotonic()
try:
    fd = os.open(path, os.O_RDONLY | (0 if blocking else os.O_NONBLOCK))
    os.close(fd)
    outcome = "ok"
except OSError as e:
    outcome = "EWOULDBLOCK" if e.errno == errno.EWOULDBLOCK else errno.errorcode.get(e.errno, "?")
print(f"open {path}: {outcome} in {(time.monotonic() - t0) * 1000:.1f} ms", flush=True)
