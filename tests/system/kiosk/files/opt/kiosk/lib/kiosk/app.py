"""The kiosk daemon: started at boot by /etc/init.d/kiosk, runs all day."""
import configparser
import os
import signal
import sys
import time

from kiosk import VERSION, hw


def run_daemon():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    config = configparser.ConfigParser()
    config.read("/etc/kiosk/config.ini")
    interval = config.getfloat("daemon", "interval", fallback=0.5)
    os.makedirs("/var/log/kiosk", exist_ok=True)
    with open("/run/kiosk/ready.tmp", "w") as f:
        f.write(f"pid {os.getpid()} version {VERSION} devices {hw.count()}\n")
    os.rename("/run/kiosk/ready.tmp", "/run/kiosk/ready")
    beat = 0
    while True:
        beat += 1
        # Re-read the configuration like a real service polling for changes (plain opens).
        config.read("/etc/kiosk/config.ini")
        with open("/var/log/kiosk/app.log", "a") as log:
            log.write(f"{time.strftime('%H:%M:%S')} heartbeat {beat} devices {hw.count()}\n")
        time.sleep(interval)
