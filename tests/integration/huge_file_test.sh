#!/bin/bash
# A file larger than every allowlisted file is denied without being read (issue 10): an exec of
# a 1 TiB sparse file costs microseconds, not a worker hashing for minutes, and allowlisted
# programs keep running meanwhile.
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs
cp /usr/bin/true "$MNT/huge"
truncate -s 1T "$MNT/huge"
start_lockd || { fail "lockd did not start"; finish; }

expect_within 2 126 "$MNT/huge"
((PROBE_MS < 1500)) || fail "the huge exec took $PROBE_MS ms"
expect_within 2 0 "$MNT/good"
hashed=$(status_field hashed_bytes)
((hashed < 1000000000)) && log "ok: lockd hashed $hashed bytes in all (the huge file was not read)" ||
  fail "lockd hashed $hashed bytes: it read the huge file"
grep -q 'reason=larger-than-allowlist' "$LOCKD_LOG" && log "ok: logged as larger-than-allowlist" ||
  fail "no larger-than-allowlist decision in the log"
# Opened for reading by a program (not run): the same rule, no hashing.
expect_within 2 any head -c 16 "$MNT/huge"
hashed=$(status_field hashed_bytes)
((hashed < 1000000000)) || fail "a plain read of the huge file made lockd hash $hashed bytes"
finish
