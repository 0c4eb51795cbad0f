#!/bin/bash
# An allowlisted binary that was judged (and cached) and is then changed in place is denied:
# written with its mtime put back (touch -r: ctime still moves), written through a shared
# mmap (tmpfs updates neither mtime nor ctime for that), appended to, and written from another
# mount namespace. On a tmpfs and on a loop-mounted ext4 image.
source "$(dirname "$0")/lib.sh"

# flip_byte_mmap FILE OFFSET: XORs one byte through a MAP_SHARED mapping, no write(2).
flip_byte_mmap() {
  "$PYTHON" - "$1" "$2" <<'PY'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
off = int(sys.argv[2])
m[off] = m[off] ^ 0x01
m.close()
os.close(fd)
PY
}

# An offset inside the ELF that does not keep the program from running: the last byte of the
# section header string table area is hard to find portably; the ELF header's e_ident padding
# (bytes 9..15) is ignored by the kernel and the loader.
PAD_OFFSET=10

check_fs() {
  local fs=$1
  log "--- $fs"
  cp /usr/bin/true "$MNT/t-touch"
  cp /usr/bin/true "$MNT/t-mmap"
  cp /usr/bin/true "$MNT/t-append"
  cp /usr/bin/true "$MNT/t-otherns"
  for f in t-touch t-mmap t-append t-otherns; do expect_runs "$MNT/$f"; expect_runs "$MNT/$f"; done

  # 1. Same size, bytes changed with dd, mtime restored.
  cp -p "$MNT/t-touch" "$T/ref"
  printf '\x42' | dd of="$MNT/t-touch" bs=1 seek=$PAD_OFFSET conv=notrunc status=none
  touch -r "$T/ref" "$MNT/t-touch"
  [[ $(stat -c %Y.%y "$MNT/t-touch") == $(stat -c %Y.%y "$T/ref") ]] || fail "touch -r did not restore mtime"
  expect_denied "$MNT/t-touch"

  # 2. Through a shared mapping.
  local before after
  before=$(stat -c '%y %z %s' "$MNT/t-mmap")
  flip_byte_mmap "$MNT/t-mmap" $PAD_OFFSET
  after=$(stat -c '%y %z %s' "$MNT/t-mmap")
  log "mmap write: metadata before [$before] after [$after]"
  expect_denied "$MNT/t-mmap"

  # 3. Appended.
  printf 'x' >>"$MNT/t-append"
  expect_denied "$MNT/t-append"

  # 4. From another mount namespace (a bind mount of the test fs there).
  unshare -m --propagation private bash -c "
    mkdir -p '$T/elsewhere' && mount --bind '$MNT' '$T/elsewhere' &&
    printf '\x42' | dd of='$T/elsewhere/t-otherns' bs=1 seek=$PAD_OFFSET conv=notrunc status=none"
  expect_denied "$MNT/t-otherns"

  # And an untouched allowlisted file still runs.
  expect_runs "$MNT/good"
}

setup_standard tmpfs
start_lockd
check_fs tmpfs
stop_lockd

# The same on ext4 (a second mount below the first one's directory).
mkdir -p "$T/ext4"
MNT_TMPFS=$MNT
MNT="$T/ext4"
WATCH_ARGS=(--watch "$MNT")
mount_ext4 "$MNT"
cp /usr/bin/true "$MNT/good"
make_db signer "$T/allowlist.lockdb" 1 enforce "$MNT/good"
write_config "$MNT"
start_lockd
check_fs ext4
stop_lockd
finish
