#!/bin/bash
# Enters the system test bed. Run by bed_lib.sh as pid 1 of a fresh pid namespace, in fresh
# mount, ipc and uts namespaces (unshare --pid --fork --mount --ipc --uts, propagation
# private), with the bed's root already mounted at ROOT (its own loop-mounted ext4):
#   enter.sh ROOT [LOWER_IMAGE]
# Mounts the bed's own /proc (a proc of the new pid namespace), /dev (a tmpfs with null, zero,
# full, random, urandom, tty, a devpts instance of its own with ptmx, /dev/shm), /tmp and /run
# (tmpfs), and the read-only kiosk image LOWER_IMAGE (ext4, on a loop device released with its
# mount) at /media/kiosk-lower when given;
# then pivot_root into ROOT, detaches the old root (umount -l) and execs the bed's init. No
# host /sys, no cgroup filesystem: sysfs belongs to the network namespace, it would be the
# host's. Writes "pivoted" on fd 3 (a file of the host) once the old root is gone.
set -euo pipefail
R=$1
lower=${2:-}

mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
# The bed's lockd turns unprivileged user namespaces off (its policy's restrict_user_namespaces)
# by writing settings that are the machine's, not the namespace's: a plain file on the bed's
# own root (a superblock of its own, as the guard requires) stands in for each.
mkdir -p "$R/var/lib/bed-sysctl"
for knob in user/max_user_namespaces kernel/unprivileged_userns_clone; do
  [[ -e $R/proc/sys/$knob ]] || continue
  standin="$R/var/lib/bed-sysctl/${knob//\//.}"
  cat "$R/proc/sys/$knob" >"$standin"
  mount --bind "$standin" "$R/proc/sys/$knob"
done
mount -t tmpfs -o nosuid,mode=0755,size=4m bed-dev "$R/dev"
mknod -m 0666 "$R/dev/null" c 1 3
mknod -m 0666 "$R/dev/zero" c 1 5
mknod -m 0666 "$R/dev/full" c 1 7
mknod -m 0666 "$R/dev/random" c 1 8
mknod -m 0666 "$R/dev/urandom" c 1 9
mknod -m 0666 "$R/dev/tty" c 5 0
mkdir -m 0755 "$R/dev/pts"
mkdir -m 1777 "$R/dev/shm"
mount -t devpts -o newinstance,nosuid,noexec,ptmxmode=0666,mode=0620,gid=5 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$R/dev/shm"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$R/tmp"
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs "$R/run"
if [[ -n $lower ]]; then
  mkdir -p "$R/media/kiosk-lower"
  mount -t ext4 -o loop,ro "$lower" "$R/media/kiosk-lower"
fi
hostname bed-terminal

cd "$R"
mkdir -p .oldroot
pivot_root . .oldroot
cd /
# From here on every path is the bed's; this shell still runs the host's bash from memory.
umount -l /.oldroot
rmdir /.oldroot
echo pivoted >&3
exec 3>&- </dev/null >/dev/null 2>&1
exec /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /usr/bin/python3 /bed/init.py
