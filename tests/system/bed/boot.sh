#!/bin/bash
# The bed's boot-like start-up after lockd (which, like the unit's Before=sysinit.target,
# starts first): what an init system would do on the terminal, then the services' start
# scripts. Ends when the kiosk application says it is ready.
set -euo pipefail
ldconfig
install -d -m 1777 /run/lock
install -d -m 0755 /run/kiosk /var/log/kiosk
hostname -F /etc/hostname 2>/dev/null || true
/etc/init.d/cron start
/etc/init.d/kiosk start
for _ in $(seq 100); do
  if [[ -s /run/kiosk/ready ]]; then
    echo "boot: kiosk ready ($(cat /run/kiosk/ready))"
    exit 0
  fi
  sleep 0.05
done
echo "boot: the kiosk application did not become ready within 5 s" >&2
exit 1
