#!/bin/bash
# Attacks on kernel-side caching (lockd/kernel_cache.h: ignore marks on allowlisted files of
# read-only superblocks). Each case tries to get changed content run through a mark, or a mark
# where the content can change:
#  1. a read-only bind mount of a writable tmpfs: the mount is read-only, the superblock is not:
#     it never qualifies, and a binary allowed through it, rewritten through a shared mapping
#     of the writable mount (no FAN_MODIFY), is denied through both mounts;
#  2. an overlay whose lower layer is a read-only ext4 and whose upper is a tmpfs: the event of
#     an exec through the overlay is the lower file's, which may be marked; rewriting the file
#     through the overlay copies it up into the upper layer (another inode): denied;
#  3. scope "immutable": a read-only ext4 does not qualify, a squashfs image does;
#  4. root flips the superblock read-write, rewrites a marked file through a shared mapping and
#     flips it back read-only (fspick + fsconfig, no mount-table change), all between two of
#     lockd's passes over the mount tables: lockd never sees it writable. Under scope
#     "immutable" an ext4 file is never marked; under "read-only" only its execs are, its opens
#     still come to lockd, and the rewrite's open for writing takes the mark away before it is
#     answered: the rewritten file is denied under both (it ran under "read-only" when opens
#     were left to the kernel too).
# shellcheck disable=SC2015  # "check && ok || fail" is meant
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kernel_cache_lib.sh"

mkdir -p "$MNT"
mount_tmpfs "$MNT"
pad /usr/bin/true "$T/good.bin"
pad /usr/bin/id "$T/evil.bin"
# ext4 image with two allowlisted binaries, then read-only.
mount_ext4 "$MNT/ro"
cp "$T/good.bin" "$MNT/ro/good"
cp "$T/good.bin" "$MNT/ro/victim"
mkdir -p "$MNT/ro/l"
cp "$T/good.bin" "$MNT/ro/l/ovgood"
# writable tmpfs with a read-only bind mount of it.
mkdir -p "$MNT/rw" "$MNT/rwbind"
mount -t tmpfs -o size=64m,mode=0755 tmpfs "$MNT/rw"
MOUNTS+=("$MNT/rw")
cp "$T/good.bin" "$MNT/rw/good"
mount --bind "$MNT/rw" "$MNT/rwbind"
MOUNTS+=("$MNT/rwbind")
mount -o remount,bind,ro "$MNT/rwbind"
# squashfs image of one allowlisted binary.
have_squashfs=0
if command -v mksquashfs >/dev/null; then
  mkdir -p "$T/sq" "$MNT/sq"
  cp "$T/good.bin" "$T/sq/good"
  if mksquashfs "$T/sq" "$T/sq.img" -quiet -noappend >/dev/null 2>&1 &&
    mount -t squashfs -o loop,ro "$T/sq.img" "$MNT/sq"; then
    MOUNTS+=("$MNT/sq")
    have_squashfs=1
  fi
fi
new_key signer
trust_key signer
make_db signer "$T/allowlist.lockdb" 1 enforce "$T/good.bin"
write_config
mount -o remount,ro "$MNT/ro"

# --- 1. Read-only bind mount of a writable superblock.
start_lockd || { fail "lockd did not start"; finish; }
want=$((1 + have_squashfs))  # the read-only ext4 and the squashfs, never the tmpfs
wait_status 5 "$want" kernel_cache superblocks ||
  fail "expected $want qualifying superblocks, status: $(status_field kernel_cache superblocks)"
s0=$(status_field kernel_cache standing)
expect_runs "$MNT/rwbind/good"
expect_runs "$MNT/rwbind/good"
[[ $(status_field kernel_cache standing) == "$s0" ]] && log "ok: nothing marked through a read-only bind mount" ||
  fail "a file of a writable superblock was left to the kernel through its read-only bind mount"
rewrite_mapped "$T/evil.bin" "$MNT/rw/good"
expect_denied "$MNT/rwbind/good"
expect_denied "$MNT/rw/good"

# --- 2. Overlay over the read-only ext4: copy-up.
mkdir -p "$MNT/rw/u" "$MNT/rw/w" "$MNT/ovl"
mount -t overlay overlay -o "lowerdir=$MNT/ro/l,upperdir=$MNT/rw/u,workdir=$MNT/rw/w" "$MNT/ovl"
MOUNTS+=("$MNT/ovl")
sleep 0.5
expect_runs "$MNT/ovl/ovgood"
expect_runs "$MNT/ovl/ovgood"
rewrite_mapped "$T/evil.bin" "$MNT/ovl/ovgood"  # open for writing: copy-up first
[[ -f $MNT/rw/u/ovgood ]] || fail "no copy-up into the upper layer"
expect_denied "$MNT/ovl/ovgood"
expect_runs "$MNT/ro/l/ovgood"  # the lower file is unchanged
stop_lockd

# --- 3. Scope immutable.
echo 'kernel_cache = "immutable"' >>"$T/lockd.toml"
start_lockd || { fail "lockd did not start (immutable)"; finish; }
want=$have_squashfs
wait_status 5 "$want" kernel_cache superblocks &&
  log "ok: scope immutable: $want qualifying superblock(s) (the read-only ext4 is not one)" ||
  fail "scope immutable: $(status_field kernel_cache superblocks) qualifying superblocks, expected $want"
if ((have_squashfs)); then
  s0=$(status_field kernel_cache standing)
  expect_runs "$MNT/sq/good"
  (($(status_field kernel_cache standing) > s0)) && log "ok: a squashfs file is left to the kernel" ||
    fail "scope immutable: the squashfs file was not left to the kernel"
fi

# --- 4. Root flips the superblock writable and back between two passes.
# flip_rewrite_flip FILE: rw, rewrite FILE through a mapping of a writable mount, ro, in ms.
mount -o remount,bind,rw "$MNT/ro"  # the mount writable; the superblock stays read-only
flip_rewrite_flip() {
  "$RECONF" "$MNT/ro" rw && rewrite_mapped "$T/evil.bin" "$1" && "$RECONF" "$MNT/ro" ro
}
expect_runs "$MNT/ro/victim"
expect_runs "$MNT/ro/victim"
flip_rewrite_flip "$MNT/ro/victim" || fail "the flip did not work"
sleep 2.5  # several passes: lockd sees a read-only superblock each time
expect_denied "$MNT/ro/victim"  # scope immutable: an ext4 file was never left to the kernel
stop_lockd

sed -i '/^kernel_cache/d' "$T/lockd.toml"
start_lockd || { fail "lockd did not start (read-only)"; finish; }
wait_status 5 $((1 + have_squashfs)) kernel_cache superblocks || fail "read-only ext4 does not qualify"
expect_runs "$MNT/ro/good"
expect_runs "$MNT/ro/good"
(($(status_field kernel_cache standing) >= 1)) || fail "good not left to the kernel"
flip_rewrite_flip "$MNT/ro/good" || fail "the flip did not work"
sleep 2.5
# The rewrite's open for writing came to lockd (only execs are left to the kernel on a type
# that can be written), which took the mark away before answering it.
expect_denied "$MNT/ro/good"
(($(status_field kernel_cache unwatched) >= 1)) && log "ok: the writer's open took the mark away" ||
  fail "no mark was taken away by the writer's open"
stop_lockd
finish
