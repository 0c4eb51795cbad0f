#!/bin/bash
# Allowlisted files on a read-only superblock are left to the kernel after their first allow
# (lockd/kernel_cache.h: an inode ignore mark), and never once that could let changed content
# run:
#  1. on a read-only ext4, 50 execs of an allowlisted binary reach lockd a few times at most
#     (its `allowed` count), where with kernel_cache = "off" lockd answers each of them;
#  2. denials are never left to the kernel: every exec of a foreign binary is denied and counted;
#  3. remounted read-write (mount(8): a mount-table change), every mark goes before anything can
#     be written: a binary allowed before, rewritten through a shared mapping (no FAN_MODIFY),
#     is denied;
#  4. made writable silently (fspick + fsconfig: the superblock alone, no mount-table change),
#     lockd's once-a-second pass over the tables sees it within ~2 s and removes the marks: the
#     same rewrite is denied;
#  5. a database swap removes the marks: a binary the new database no longer allows is denied
#     although the kernel answered for it before.
# shellcheck disable=SC2015  # "check && ok || fail" is meant
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kernel_cache_lib.sh"

mount_ext4 "$MNT"
pad /usr/bin/true "$MNT/good"
pad /usr/bin/true "$MNT/victim"
pad /usr/bin/true "$MNT/victim2"
pad /usr/bin/id "$T/evil"
cp /usr/bin/id "$MNT/foreign"
new_key signer
trust_key signer
make_db signer "$T/allowlist.lockdb" 1 enforce "$MNT/good"
# Generation 2 allows only what `foreign` is: `good` is no longer allowed.
make_db signer "$T/gen2" 2 enforce "$MNT/foreign"
write_config
mount -o remount,ro "$MNT"

allowed() { status_field decisions allowed; }

# --- The control: lockd answers every exec itself with the kernel cache off.
echo 'kernel_cache = "off"' >>"$T/lockd.toml"
start_lockd
a0=$(allowed)
for _ in $(seq 50); do "$MNT/good" || fail "good did not run (cache off)"; done
a1=$(allowed)
((a1 - a0 >= 50)) && log "ok: kernel_cache off: lockd answered $((a1 - a0)) of 50 execs" ||
  fail "kernel_cache off: lockd answered only $((a1 - a0)) of 50 execs"
[[ $(status_field kernel_cache scope) == off ]] || fail "status does not say the cache is off"
stop_lockd
sed -i '/^kernel_cache/d' "$T/lockd.toml"

# --- 1. Read-only ext4, the default scope.
start_lockd
wait_status 5 1 kernel_cache superblocks && log "ok: the read-only ext4 qualifies" ||
  fail "status: $(status_field kernel_cache superblocks) qualifying superblocks, expected 1"
a0=$(allowed)
for _ in $(seq 50); do "$MNT/good" || fail "good did not run"; done
a1=$(allowed)
((a1 - a0 <= 4)) && log "ok: 50 execs, lockd asked $((a1 - a0)) time(s): the kernel answered" ||
  fail "50 execs on a read-only superblock reached lockd $((a1 - a0)) times"
(($(status_field kernel_cache standing) >= 1)) || fail "no file left to the kernel"

# --- 2. Denials are lockd's every time.
d0=$(status_field decisions denied)
for _ in 1 2 3; do expect_denied "$MNT/foreign"; done
d1=$(status_field decisions denied)
((d1 - d0 == 3)) && log "ok: each of 3 foreign execs was decided by lockd" ||
  fail "3 foreign execs, lockd counted $((d1 - d0)) denials"

# --- 3. Remounted read-write by mount(8).
expect_runs "$MNT/victim"
f0=$(status_field kernel_cache flushes)
mount -o remount,rw "$MNT"
wait_status 5 0 kernel_cache superblocks && log "ok: remounted read-write: no longer qualifies" ||
  fail "remount read-write not seen"
(($(status_field kernel_cache flushes) > f0)) || fail "remount read-write: no flush"
rewrite_mapped "$T/evil" "$MNT/victim"
expect_denied "$MNT/victim"

# --- 4. Made writable without a mount-table change.
mount -o remount,ro "$MNT"
wait_status 5 1 kernel_cache superblocks || fail "read-only again not seen"
mount -o remount,bind,rw "$MNT"  # the mount writable, the superblock still read-only
sleep 1.5
[[ $(status_field kernel_cache superblocks) == 1 ]] || fail "a writable mount of a read-only superblock stopped qualifying"
expect_runs "$MNT/victim2"
(($(status_field kernel_cache standing) >= 1)) || fail "victim2 not left to the kernel"
f0=$(status_field kernel_cache flushes)
"$RECONF" "$MNT" rw
[[ $(awk -v m="$MNT" '$5 == m {print $NF}' /proc/self/mountinfo) == rw* ]] ||
  fail "fs_reconfigure did not make the superblock writable"
start=$(date +%s%N)
wait_status 4 0 kernel_cache superblocks &&
  log "ok: silent remount seen after $((($(date +%s%N) - start) / 1000000)) ms" ||
  fail "a superblock made writable by fsconfig still qualifies after 4 s"
(($(status_field kernel_cache flushes) > f0)) || fail "silent remount: no flush"
rewrite_mapped "$T/evil" "$MNT/victim2"
expect_denied "$MNT/victim2"

# --- 5. A database swap.
"$RECONF" "$MNT" ro
wait_status 5 1 kernel_cache superblocks || fail "read-only again not seen (fsconfig)"
expect_runs "$MNT/good"
expect_runs "$MNT/good"
cp "$T/gen2" "$T/allowlist.lockdb"
ctl reload >/dev/null || fail "reload of generation 2 refused"
expect_denied "$MNT/good"
expect_runs "$MNT/foreign"

stop_lockd
finish
