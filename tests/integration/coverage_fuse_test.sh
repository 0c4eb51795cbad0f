#!/bin/bash
# FUSE is untrusted for exec: a FUSE daemon can show lockd one content and the kernel's exec
# another, so under the policy's deny_untrusted_fs (on by default) every exec from a FUSE
# filesystem is denied with reason untrusted-filesystem, even of a program whose content is in
# the allowlist. The same program on the local test filesystem runs. The FUSE filesystem is a
# squashfs image served by squashfuse (Debian's), mounted below the watched test tmpfs, once
# before lockd starts and once while it runs.
source "$(dirname "$0")/lib.sh"

command -v squashfuse >/dev/null && command -v mksquashfs >/dev/null || {
  log "SKIP: squashfuse or mksquashfs missing (installer/deps.sh installs them)"
  exit 77
}
[[ -e /dev/fuse ]] || { log "SKIP: no /dev/fuse"; exit 77; }

setup_standard tmpfs
stage="$T/stage"
mkdir -p "$stage"
cp /usr/bin/true "$stage/good"  # the same content as the allowlisted $MNT/good
cp /usr/bin/id "$stage/foreign"
mksquashfs "$stage" "$T/image.sqfs" -quiet -noappend >/dev/null

# fuse_mount DIR: the image at DIR through squashfuse; unmounted at exit by lib.sh.
fuse_mount() {
  mkdir -p "$1"
  squashfuse "$T/image.sqfs" "$1" || { fail "squashfuse could not mount $1"; finish; }
  MOUNTS+=("$1")
  [[ $(findmnt -n -o FSTYPE --mountpoint "$1") == fuse* ]] || fail "$1 is not a FUSE mount"
}

fuse_mount "$MNT/before"
start_lockd
expect_runs "$MNT/good"

expect_denied "$MNT/before/good"
grep -aq "reason=untrusted-filesystem .*path=\"$MNT/before/good\"" "$LOCKD_LOG" ||
  fail "no untrusted-filesystem deny line for $MNT/before/good"

# Mounted while lockd runs: marked on the mount-table wakeup or the once-a-second tick.
fuse_mount "$MNT/after"
denied=0
for _ in $(seq 60); do
  run_file "$MNT/after/foreign"
  if [[ $RUN_RC -eq 126 ]]; then denied=1; break; fi
  sleep 0.05
done
[[ $denied == 1 ]] && log "ok: a FUSE filesystem mounted after start is denied for exec" ||
  fail "exec from a FUSE mount made after start was never denied: rc $RUN_RC $RUN_ERR"

# Reading from FUSE is not exec: data stays readable.
cmp -s "$MNT/before/good" /usr/bin/true && log "ok: files on FUSE stay readable" ||
  fail "reading a file on FUSE failed"
expect_runs "$MNT/good"
finish
