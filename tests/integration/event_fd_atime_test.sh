#!/bin/bash
# lockd's reads of a file (the head sniff and the hash, on the event loop thread for a small
# cached file) never update its access time: an atime update is an inode write that on ext4
# starts a journal handle, which waits while the journal is busy, so a user who keeps the
# journal busy would hold lockd's event loop on every file whose atime is due (relatime: older
# than a day, or not newer than mtime). The event fds are opened O_NOATIME.
# shellcheck disable=SC2015  # "check && ok || fail" is meant
source "$(dirname "$0")/lib.sh"

setup_standard ext4
# An ELF file a program opens without running it: lockd judges the open (library coverage),
# reading the head and hashing the content.
cp /usr/bin/true "$MNT/lib.so"
touch -a -d '2020-01-01 00:00:00' "$MNT/good" "$MNT/lib.so"
sync
start_lockd || { fail "lockd did not start"; finish; }
before=$(stat -c %X "$MNT/lib.so")
expect_within 5 0 "$PYTHON" -c "import sys; open(sys.argv[1], 'rb').close()" "$MNT/lib.so"
hashes=$(status_field hashes)
((hashes >= 1)) || fail "lockd did not judge the open (hashes $hashes)"
after=$(stat -c %X "$MNT/lib.so")
[[ $after == "$before" ]] && log "ok: lockd read the file and left its atime alone" ||
  fail "lockd's read updated the atime ($(date -u -d "@$before") -> $(date -u -d "@$after"))"
finish
