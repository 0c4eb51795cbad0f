#!/bin/bash
# Filesystems mounted after lockd started, of every common kind (vfat, squashfs; tmpfs and ext4
# are in new_mount_test.sh), a bind mount, and a tmpfs created inside another mount namespace
# (unshare -m), which lockd's own mount table never shows: a foreign binary on each is denied,
# the allowlisted one runs. An overlay whose layers lockd does not mark is reported as a gap
# (overlays with marked layers: coverage_overlay_test.sh).
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs
start_lockd

# wait_denied FILE LABEL: tries FILE until its exec is denied (3 s at most; marking is on the
# mount-table wakeup or the once-a-second tick).
wait_denied() {
  local start_ns elapsed_ms
  start_ns=$(date +%s%N)
  for _ in $(seq 60); do
    run_file "$1"
    if [[ $RUN_RC -eq 126 ]]; then
      elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
      log "ok: foreign binary on $2 denied (${elapsed_ms} ms after the mount)"
      return 0
    fi
    sleep 0.05
  done
  fail "foreign binary on $2 was never denied (last: rc $RUN_RC $RUN_ERR)"
}

stage="$T/stage"
mkdir -p "$stage"
cp /usr/bin/id "$stage/foreign"
cp /usr/bin/true "$stage/good"

# vfat on a loop image.
# have_fs TYPE: the kernel knows TYPE (built in or as a loadable module).
have_fs() { grep -qw "$1" /proc/filesystems || modprobe -q "$1" 2>/dev/null; }

if command -v mkfs.vfat >/dev/null && have_fs vfat; then
  img="$T/vfat.img"
  truncate -s 16M "$img"
  mkfs.vfat -n LOCKDTEST "$img" >/dev/null
  dev=$(losetup --find --show "$img")
  LOOPDEVS+=("$dev")
  mkdir -p "$MNT/vfat"
  mount -t vfat -o umask=0022 "$dev" "$MNT/vfat"
  MOUNTS+=("$MNT/vfat")
  cp "$stage/foreign" "$stage/good" "$MNT/vfat/"
  wait_denied "$MNT/vfat/foreign" vfat
  expect_runs "$MNT/vfat/good"
else
  log "no mkfs.vfat or no vfat in this kernel: vfat not tested"
fi

# squashfs (read-only image).
if command -v mksquashfs >/dev/null && have_fs squashfs; then
  mksquashfs "$stage" "$T/sq.img" -quiet -noappend >/dev/null
  mkdir -p "$MNT/squash"
  mount -t squashfs -o loop "$T/sq.img" "$MNT/squash"
  MOUNTS+=("$MNT/squash")
  wait_denied "$MNT/squash/foreign" squashfs
  expect_runs "$MNT/squash/good"
else
  log "no mksquashfs or no squashfs in this kernel: squashfs not tested"
fi

# An overlay whose layers are on an unmarked filesystem (/, outside the watch list). lockd never
# marks an overlay superblock (with a marked layer that makes lockd's own read of the event fd
# wait on lockd: coverage_overlay_test.sh); an overlay's files are judged through the marks on
# its layers' filesystems, so here they are not, and lockd says so: a gap in `lockctl status`.
mkdir -p "$T/upper" "$T/work" "$MNT/ovl"
mount -t overlay overlay -o "lowerdir=$stage,upperdir=$T/upper,workdir=$T/work" "$MNT/ovl"
MOUNTS+=("$MNT/ovl")
gap="overlay $MNT/ovl: lower layer $stage not covered"
for _ in $(seq 60); do
  ctl status --json | "$PYTHON" -c '
import json, sys
gaps = [g["gap"] for g in json.load(sys.stdin)["overlay_gaps"]]
sys.exit(0 if any(g.startswith(sys.argv[1]) for g in gaps) else 1)' "$gap" && break
  sleep 0.05
done
if ctl status | grep -qF "  $gap"; then
  log "ok: status reports the overlay's uncovered layers"
else
  fail "status does not report '$gap'"
fi
grep -qF "error: $gap" "$LOCKD_LOG" || fail "the overlay gap was not logged"
[[ $(grep -cF "error: $gap" "$LOCKD_LOG") -eq 1 ]] || fail "the overlay gap was logged more than once"
ctl status --json | "$PYTHON" -c '
import json, sys
fs = [m["fs_type"] for m in json.load(sys.stdin)["marked_filesystems"]]
sys.exit(1 if "overlay" in fs else 0)' || fail "an overlay superblock was marked"
expect_runs "$MNT/ovl/good"
# The same bytes through the lower layer's own path are not on a watched filesystem (control).
expect_runs "$stage/foreign"

# A bind mount of the test filesystem elsewhere: the same superblock, already marked.
mkdir -p "$MNT/sub" "$MNT/bound"
cp /usr/bin/id "$MNT/sub/foreign2"
mount --bind "$MNT/sub" "$MNT/bound"
MOUNTS+=("$MNT/bound")
expect_denied "$MNT/bound/foreign2"

# A new tmpfs created inside another mount namespace: not in lockd's mount table.
mkdir -p "$MNT/ns"
set +e
out=$(timeout 20 unshare -m --propagation private bash -c '
  mount -t tmpfs -o size=16m other-ns "$1" || exit 9
  cp /usr/bin/id "$1/foreign"; cp /usr/bin/true "$1/good"
  start=$(date +%s%N)
  for _ in $(seq 60); do
    if ! "$1/foreign" >/dev/null 2>&1; then
      echo "DENIED after $((($(date +%s%N) - start) / 1000000)) ms"
      "$1/good" && echo GOOD-RAN
      exit 0
    fi
    sleep 0.05
  done
  echo NEVER-DENIED' _ "$MNT/ns" 2>&1)
rc=$?
set -e
if [[ $rc -eq 0 && $out == *DENIED* && $out == *GOOD-RAN* ]]; then
  log "ok: tmpfs made in another mount namespace: foreign denied, good runs (${out%%$'\n'*})"
else
  fail "tmpfs in another mount namespace: rc $rc: $out"
fi
grep -q "of other mount namespaces" "$LOCKD_LOG" || fail "no log line for the other namespace's mark"
# In our own namespace that mount point is still the plain directory.
[[ $(findmnt -n -o FSTYPE --mountpoint "$MNT/ns" || true) == "" ]] || fail "the other namespace's mount leaked"
finish
