#!/usr/bin/python3
"""timed_exec.py PROGRAM [ARG...]: executes PROGRAM and prints how long the exec took to be
decided and how it ended, measured here in the bed (without the probe's own start-up):
  "exec PROGRAM: EPERM|exit N|<errno name> in N ms"
"""
import errno
import subprocess
import sys
import time

t0 = time.monotonic()
try:
    rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    outcome = f"exit {rc}"
except PermissionError:
    outcome = "EPERM"
except OSError as e:
    outcome = errno.errorcode.get(e.errno, str(e.errno))
print(f"exec {sys.argv[1]}: {outcome} in {(time.monotonic() - t0) * 1000:.1f} ms", flush=True)
