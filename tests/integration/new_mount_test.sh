#!/bin/bash
# A filesystem mounted after lockd started (below the watched path, as a USB stick would be
# below /media) is marked within about a second: a foreign binary on it is denied, the
# allowlisted one runs.
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs
start_lockd

for kind in tmpfs ext4; do
  late="$MNT/late-$kind"
  start_ns=$(date +%s%N)
  if [[ $kind == tmpfs ]]; then mount_tmpfs "$late"; else mount_ext4 "$late" 32; fi
  cp /usr/bin/id "$late/foreign"
  cp /usr/bin/true "$late/good"
  # Try until denied, for 3 s at most; report how long marking took.
  denied=0
  for _ in $(seq 60); do
    run_file "$late/foreign"
    if [[ $RUN_RC -eq 126 ]]; then denied=1; break; fi
    sleep 0.05
  done
  elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
  if [[ $denied -eq 1 ]]; then
    log "ok: foreign binary on new $kind denied ${elapsed_ms} ms after the mount"
    [[ $elapsed_ms -le 1500 ]] || fail "new $kind marked only after ${elapsed_ms} ms"
  else
    fail "foreign binary on a $kind mounted after start was never denied"
  fi
  expect_denied "$late/foreign"
  expect_runs "$late/good"
done
[[ $(ctl status --json | "$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)["marked_filesystems"]))') == 3 ]] ||
  fail "expected 3 marked filesystems"

# Unmount and mount again (the device number may be reused): still marked.
umount "$MNT/late-tmpfs"
mount -t tmpfs tmpfs "$MNT/late-tmpfs"
cp /usr/bin/id "$MNT/late-tmpfs/foreign2"
sleep 1.2
expect_denied "$MNT/late-tmpfs/foreign2"
finish
