#!/bin/bash
# Overlayfs (issue 10, freeze 2): an overlay whose lower layer is on a marked filesystem. A mark
# on the overlay superblock as well made lockd's own read of the event fd raise a permission
# event on the lower layer that only lockd's waiting reader could answer: an allowlisted
# program started through the overlay hung, and with it lockd. lockd now never marks overlays
# and judges their files through the marks on the layers' filesystems.
#
# Layout (all below the watch path, lockd's own files off it): lower = a marked tmpfs and,
# separately, a read-only ext4; upper = a marked tmpfs; overlays over them. Checked, each with a
# deadline (a hung exec cannot be killed, so nothing is waited for without one):
#   - an allowlisted program runs through the overlay, a foreign one in the lower layer and one
#     created in the upper through the overlay are denied, nothing hangs;
#   - the denial's audit path is the overlay path, not the layer-relative "/foreign" the event
#     fd shows;
#   - no overlay superblock is marked, and no gap is reported for covered layers;
#   - an overlay whose upper layer lockd cannot find (its mount detached after the overlay was
#     made) or does not mark is reported in `lockctl status` and `lockctl doctor`.
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs
# The allowlisted program is true's copy; a second allowlisted one lives in the ext4 image.
start_lockd

mount_tmpfs "$MNT/lower"
mount_tmpfs "$MNT/upper"
mkdir -p "$MNT/lower/l" "$MNT/upper/u" "$MNT/upper/w" "$MNT/ovl"
cp /usr/bin/true "$MNT/lower/l/good"
cp /usr/bin/id "$MNT/lower/l/foreign"
mount -t overlay overlay -o "lowerdir=$MNT/lower/l,upperdir=$MNT/upper/u,workdir=$MNT/upper/w" \
  "$MNT/ovl"
MOUNTS+=("$MNT/ovl")
# Both layers are tmpfs mounted after start: wait until lockd marked them (status lists them).
marked_count() { ctl status --json | "$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)["marked_filesystems"]))'; }
for _ in $(seq 60); do [[ $(marked_count) -ge 3 ]] && break; sleep 0.05; done
[[ $(marked_count) -ge 3 ]] || fail "the layers' tmpfs were not marked"

# A hang leaves processes stuck in the kernel: stop at the first one (the teardown stops lockd,
# closing its group, which releases them) rather than pile up more.
within() {
  expect_within "$@"
  if [[ $PROBE_RC == hung ]]; then
    log "a process hangs in a permission event: stopping here"
    exit 1
  fi
}
within 5 0 "$MNT/ovl/good"
within 5 126 "$MNT/ovl/foreign"
[[ $PROBE_ERR == *"Operation not permitted"* ]] || fail "foreign through the overlay: $PROBE_ERR"
# Created in the upper layer through the overlay (copy-up of nothing: a new file).
within 5 0 cp /usr/bin/id "$MNT/ovl/made-in-upper"
[[ -f $MNT/upper/u/made-in-upper ]] || fail "the new file is not in the upper layer"
within 5 126 "$MNT/ovl/made-in-upper"
# A lower file changed through the overlay is copied up: the upper copy is judged as well.
within 5 0 cp /usr/bin/id "$MNT/ovl/good"
within 5 126 "$MNT/ovl/good"
# Plain reads through the overlay never wait either (a data file: reading a foreign ELF is
# refused by library coverage).
echo data >"$MNT/lower/l/data"
within 5 0 cat "$MNT/ovl/data"

# The audit path of an exec through the overlay: the overlay path, not "/foreign".
denial=$(grep -F 'verdict=deny' "$LOCKD_LOG" | grep -F 'foreign' | head -n 1 || true)
if [[ $denial == *"path=\"$MNT/ovl/foreign\""* ]]; then
  log "ok: denial logged with the overlay path"
else
  fail "denial path is not the overlay path: $denial"
fi

# No overlay superblock marked, no gap for these layers.
ctl status --json >"$T/status.json"
"$PYTHON" - "$T/status.json" "$MNT/ovl" <<'PY' || fail "status: an overlay is marked or its covered layers are reported"
import json, sys
s = json.load(open(sys.argv[1]))
assert all(m["fs_type"] != "overlay" for m in s["marked_filesystems"]), s["marked_filesystems"]
assert not any(g["gap"].startswith("overlay " + sys.argv[2] + ":") for g in s["overlay_gaps"]), s["overlay_gaps"]
PY

# --- Read-only ext4 as the lower layer (a kiosk image), tmpfs upper.
mount_ext4 "$MNT/image" 32
mkdir -p "$MNT/image/root"
cp /usr/bin/true "$MNT/image/root/good"
cp /usr/bin/id "$MNT/image/root/foreign"
mount -o remount,ro "$MNT/image"
mkdir -p "$MNT/upper/u2" "$MNT/upper/w2" "$MNT/root"
mount -t overlay overlay -o "lowerdir=$MNT/image/root,upperdir=$MNT/upper/u2,workdir=$MNT/upper/w2" \
  "$MNT/root"
MOUNTS+=("$MNT/root")
for _ in $(seq 60); do [[ $(marked_count) -ge 4 ]] && break; sleep 0.05; done
within 5 0 "$MNT/root/good"
within 5 126 "$MNT/root/foreign"
within 5 0 cp /usr/bin/id "$MNT/root/dropped"
within 5 126 "$MNT/root/dropped"

# --- Gaps: an overlay whose upper layer is on a filesystem lockd does not mark (outside the
# watch list), and one whose upper layer's mount was detached after the overlay was made.
mkdir -p "$T/plain/u" "$T/plain/w" "$MNT/gap1"
mount -t overlay overlay -o "lowerdir=$MNT/lower/l,upperdir=$T/plain/u,workdir=$T/plain/w" "$MNT/gap1"
MOUNTS+=("$MNT/gap1")
mkdir -p "$T/gone" "$MNT/gap2"
mount -t tmpfs tmpfs "$T/gone"
mkdir -p "$T/gone/u" "$T/gone/w"
mount -t overlay overlay -o "lowerdir=$MNT/lower/l,upperdir=$T/gone/u,workdir=$T/gone/w" "$MNT/gap2"
MOUNTS+=("$MNT/gap2")
umount -l "$T/gone"
rmdir "$T/gone"
want1="overlay $MNT/gap1: upper layer $T/plain/u not covered"
want2="overlay $MNT/gap2: upper layer $T/gone/u not covered"
for _ in $(seq 60); do
  ctl status >"$T/status.txt"
  grep -qF "  $want1" "$T/status.txt" && grep -qF "  $want2" "$T/status.txt" && break
  sleep 0.05
done
grep -qF "  $want1" "$T/status.txt" && log "ok: status: $want1" || fail "status lacks: $want1"
grep -qF "  $want2 (its path does not lead anywhere now" "$T/status.txt" &&
  log "ok: status: $want2 (detached)" || fail "status lacks the detached layer: $want2"
grep -c "error: overlay $MNT/gap1:" "$LOCKD_LOG" | grep -qx 1 || fail "gap1 not logged exactly once"
# lockctl doctor asks the running lockd and fails on these gaps.
set +e
"$LOCKCTL" doctor --json --socket "$SOCK" >"$T/doctor.json" 2>"$T/doctor.err"
rc=$?
set -e
"$PYTHON" - "$T/doctor.json" "$want1" "$want2" <<'PY' || fail "doctor does not report the overlay gaps (rc $rc)"
import json, sys
d = json.load(open(sys.argv[1]))
c = [c for c in d["checks"] if c["id"] == "overlay_layers"][0]
assert c["status"] == "fail", c
paths = [i["path"] for i in c["items"]]
for want in sys.argv[2:]:
    assert any(p.startswith(want) for p in paths), (want, paths)
PY
[[ $rc -eq 1 ]] || fail "doctor exit $rc with failing overlay layers"
# Still nothing hangs, and the covered overlay still works.
within 5 0 "$MNT/root/good"
within 5 126 "$MNT/ovl/foreign"
finish
