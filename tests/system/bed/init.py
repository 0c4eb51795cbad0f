#!/usr/bin/python3
# pid 1 of the system test bed's pid namespace (tests/system/enter.sh execs it after
# pivot_root): reaps every orphan, so the bed's processes never pile up as zombies, and does
# nothing else (no file is opened after start). The bed is torn down by SIGKILL of this process
# from the host: the kernel then kills every process of the namespace, lockd included, which
# closes lockd's fanotify group and releases anything still waiting on it.
import os
import signal
import time

signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(0.5)
    except InterruptedError:
        pass
