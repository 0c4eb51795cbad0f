#!/usr/bin/env bash
# Re-baselining learns only what the maintenance session wrote (issue 12 item 4). The test's
# shell is the engineer's login; during the window it installs newtool. Another login on the
# terminal (a fresh kernel login session, as a console or kiosk login has) plants a program as
# uid 1000 in a world-writable directory under the baseline root, and, as root, rewrites the
# allowlisted run.sh. `lockctl maintenance finish` then:
#   - adds newtool, showing its owner and who wrote it (the session: pid, uid, executable);
#   - lists planted and run.sh as NOT learned, with their owners and the other login's
#     writer; planted is not in the new database, run.sh keeps its old entry.
# Afterwards newtool runs, planted and the rewritten run.sh are denied. On main both were
# learned and ran.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/maintenance_lib.sh"
engineer_login  # the test acts as the field engineer: what it writes is the session's
out=""  # set by expect_rc

make_file_token fe
mkdir -p "$T/trust"
cp "$T/keys/fe.token.pem" "$T/trust/fe.pem"
setup_terminal --token "$FILE_TOKEN" --passphrase-fd 3 3<<<"$PASS"
mkdir -m 1777 "$MNT/app/shared"
chmod o+x "$T" "$MNT" "$MNT/app"  # uid 1000 reaches the shared directory
start_lockd
FT=(--token "$FILE_TOKEN" --passphrase-fd 3)

# linger_copy FROM TO: a copy whose writer stays a moment, so that lockd finds it in /proc
# when the close-write reaches it (a writer gone before is "unknown": never learned either).
COPY='import os, shutil, sys, time
shutil.copy(sys.argv[1], sys.argv[2]); time.sleep(1.5)'
linger_copy() { "$PYTHON" -c "$COPY" "$@"; }

expect_rc 0 out mctl maintenance start "${FT[@]}" 3<<<"$PASS"
linger_copy /usr/bin/whoami "$MNT/app/newtool" || fail "the engineer's copy"
(
  echo 1000 >"/proc/$BASHPID/loginuid" || exit 1
  setpriv --reuid 1000 --regid 1000 --clear-groups "$PYTHON" -c "$COPY" /usr/bin/hostname \
    "$MNT/app/shared/planted" || exit 1
  "$PYTHON" -c 'import sys, time
open(sys.argv[1], "w").write("#!/bin/sh\necho v2\n"); time.sleep(1.5)' "$MNT/app/run.sh"
) || fail "the other login's writes"
[[ $(stat -c %u "$MNT/app/shared/planted") == 1000 ]] || fail "planted is not owned by uid 1000"
ms=$(mctl maintenance status 2>&1) || fail "maintenance status: $ms"
grep -q "^not learned:  2 file(s) written or run by processes outside the session" <<<"$ms" ||
  fail "status does not count the other login's files: $ms"

expect_rc 0 out mctl maintenance finish --yes "${FT[@]}" 3<<<"$PASS"
log "finish said:"$'\n'"$out"
py=$(readlink -f "$PYTHON")
grep -q "^changes: 1 added, 0 removed, 0 changed, 2 unchanged$" <<<"$out" || fail "diff counts"
grep -q "^  + $MNT/app/newtool  (elf-exec, .*, owner root:root)$" <<<"$out" ||
  fail "newtool not added with its owner"
grep -q "^      written by the maintenance session: pid [0-9]*, uid 0 (root), $py$" <<<"$out" ||
  fail "the diff does not name the session's writer of newtool"
grep -q "^NOT learned (2), " <<<"$out" || fail "no NOT learned section of 2 files"
grep -q "^  ! $MNT/app/shared/planted  (elf-exec, .*, owner 1000:1000)$" <<<"$out" ||
  grep -q "^  ! $MNT/app/shared/planted  (elf-exec, .*, owner [a-z_-]*:[a-z_-]*)$" <<<"$out" ||
  fail "planted not listed as NOT learned with its owner"
grep -q "^      written by a process outside the maintenance session: pid [0-9]*, uid 1000.*, $py$" <<<"$out" ||
  fail "the diff does not name the other login's writer (uid 1000)"
grep -q "^  ! $MNT/app/run.sh  (script, " <<<"$out" || fail "run.sh not listed as NOT learned"
[[ $(db_generation) == 2 ]] || fail "generation $(db_generation)"
expect_runs "$MNT/app/newtool"
expect_denied "$MNT/app/shared/planted"
expect_denied "$MNT/app/run.sh"
expect_runs "$MNT/app/good"

finish
