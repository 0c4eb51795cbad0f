#!/usr/bin/python3
"""A burst of execs and opens for SECONDS (the decider is killed meanwhile, from the host).

  burst.py SECONDS FOREIGN MARKER

Four threads loop over: exec of allowlisted programs, exec of FOREIGN (must fail with EPERM;
given MARKER as its argument, so a run leaves the marker), open+read of an allowlisted shared
library (judged like an exec) and of a plain data file. Each operation is timed. Prints
"started" at once, then one JSON line at the end:
  {"ops": N, "max_ms": {kind: ms}, "slow": [[kind, ms], ...] (over 2 s),
   "foreign": {outcome: count}, "errors": [...]}
A hang shows as no final line (the host's deadline reports it)."""
import json
import os
import subprocess
import sys
import threading
import time

seconds, foreign, marker = float(sys.argv[1]), sys.argv[2], sys.argv[3]
GOOD = [["/usr/bin/true"], ["/bin/sh", "-c", ":"], ["/usr/bin/id", "-u"],
        ["/opt/kiosk/bin/kiosk-tool"]]
LIB = "/usr/lib/x86_64-linux-gnu/libkiosk.so.1"
DATA = "/etc/kiosk/config.ini"
lock = threading.Lock()
stats = {"ops": 0, "max_ms": {}, "slow": [], "foreign": {}, "errors": []}


def record(kind, ms, error=None):
    with lock:
        stats["ops"] += 1
        stats["max_ms"][kind] = max(stats["max_ms"].get(kind, 0.0), round(ms, 1))
        if ms > 2000:
            stats["slow"].append([kind, round(ms, 1)])
        if error and len(stats["errors"]) < 20:
            stats["errors"].append(f"{kind}: {error}")


def timed(kind, fn):
    t0 = time.monotonic()
    try:
        err = fn()
    except Exception as e:  # noqa: BLE001 - every failure is a finding, reported
        err = f"{type(e).__name__}: {e}"
    record(kind, (time.monotonic() - t0) * 1000, err)


def run_good(argv):
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return None if r.returncode == 0 else f"{argv[0]} exit {r.returncode} {r.stderr[:200]!r}"


def run_foreign():
    try:
        subprocess.run([foreign, marker], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        outcome = "ran"
    except PermissionError:
        outcome = "EPERM"
    except OSError as e:
        outcome = f"errno {e.errno}"
    with lock:
        stats["foreign"][outcome] = stats["foreign"].get(outcome, 0) + 1
    return None if outcome == "EPERM" else f"foreign exec: {outcome}"


def read_file(path):
    with open(path, "rb") as f:
        f.read(4096)


def worker(n):
    end = time.monotonic() + seconds
    i = n
    while time.monotonic() < end:
        timed("exec", lambda: run_good(GOOD[i % len(GOOD)]))
        timed("foreign-exec", run_foreign)
        timed("open-lib", lambda: read_file(LIB))
        timed("open-data", lambda: read_file(DATA))
        i += 1


print("started", flush=True)
threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
stats["marker"] = os.path.exists(marker)
print(json.dumps(stats, sort_keys=True), flush=True)
