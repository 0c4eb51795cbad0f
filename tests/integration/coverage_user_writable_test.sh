#!/bin/bash
# Code a user can rewrite is not code (issue 11, "writable by user"; item 5): under the signed
# policy's deny_user_writable (the default), a file is executed only if it is owned by root or a
# trusted owner and not writable by group or others, whatever its digest. A user's
# byte-identical copy of an allowlisted program is denied with reason writable-by-user; the
# root-owned copy runs; `--trusted-owner UID` and `--allow-user-writable-code` (a re-signed
# database, reloaded) let it run. Before: the user's copy ran (its digest is allowlisted).
source "$(dirname "$0")/lib.sh"
command -v setpriv >/dev/null || { log "SKIP: needs setpriv"; exit 77; }

NOBODY=65534
as_nobody() { setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$@"; }

chmod 0711 "$T"  # the user reaches $MNT (nothing in $T is readable to them)
mount_tmpfs "$MNT"
cp /usr/bin/true "$MNT/good"
printf '#!/bin/sh\nexit 0\n' >"$MNT/good.sh"
chmod 0755 "$MNT/good.sh"
mkdir -p "$MNT/home/nobody"
chown $NOBODY:$NOBODY "$MNT/home/nobody"
new_key signer
trust_key signer
make_db signer "$T/allowlist.lockdb" 1 enforce "$MNT/good" "$MNT/good.sh"
write_config

# The user's own copies (byte-identical, mode 0755), made before lockd starts: with it running,
# an open of a user's ELF file for reading is judged as a library load, and denied too.
as_nobody cp "$MNT/good" "$MNT/home/nobody/mytrue"
as_nobody cp "$MNT/good.sh" "$MNT/home/nobody/my.sh"
as_nobody cp "$MNT/good" "$MNT/home/nobody/given"
cmp -s "$MNT/good" "$MNT/home/nobody/mytrue" || fail "the copy is not byte-identical"
cmp -s "$MNT/good.sh" "$MNT/home/nobody/my.sh" || fail "the script copy is not byte-identical"
[[ $(stat -c %u "$MNT/home/nobody/mytrue") == "$NOBODY" ]] || fail "the copy is not the user's"
# A root-owned copy, and one that group and others may write.
cp "$MNT/good" "$MNT/rootcopy"
cp "$MNT/good" "$MNT/openbits"
chmod 0777 "$MNT/openbits"
start_lockd

# deny_reason PATH: the reason of the latest deny line naming PATH in lockd's log.
deny_reason() {
  grep -E "verdict=deny .*path=\"$1\"" "$LOCKD_LOG" | tail -n 1 | sed -n 's/.*reason=\([a-z-]*\).*/\1/p'
}
# expect_writable_denied PATH: the exec is denied and a new deny line gives writable-by-user.
expect_writable_denied() {
  local pattern="verdict=deny reason=writable-by-user .*path=\"$1\"" before
  before=$(grep -cE -- "$pattern" "$LOCKD_LOG" || true)
  expect_denied "$@"
  for _ in $(seq 100); do
    (($(grep -cE -- "$pattern" "$LOCKD_LOG" || true) > before)) && return 0
    sleep 0.05
  done
  fail "$1: no new writable-by-user deny line (last reason: $(deny_reason "$1"))"
}

log "deny_user_writable on (the default)"
expect_runs "$MNT/good"
expect_runs "$MNT/rootcopy"
expect_writable_denied "$MNT/home/nobody/mytrue"
expect_writable_denied "$MNT/home/nobody/my.sh"
expect_writable_denied "$MNT/openbits"
# Whoever executes it: the user too.
run_file setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$MNT/home/nobody/mytrue"
[[ $RUN_RC -eq 126 && $RUN_ERR == *"Operation not permitted"* ]] ||
  fail "the user's exec of their copy: exit $RUN_RC: $RUN_ERR"
# The user's copy given to root (chown: a new version, judged afresh): runs.
expect_writable_denied "$MNT/home/nobody/given"
chown 0 "$MNT/home/nobody/given"
expect_runs "$MNT/home/nobody/given"

log "--trusted-owner $NOBODY: the user's copy counts as root's; open permission bits still do not"
make_db_with() { # make_db_with GEN EXTRA_BUILD_ARGS...
  local gen=$1 stage
  shift
  stage=$(mktemp -d "$T/stage.XXXXXX")
  cp "$MNT/good" "$stage/f0"
  cp "$MNT/good.sh" "$stage/f1"
  "$LOCKCTL" db build --root "$stage" --key "$T/keys/signer.pem" --out "$T/allowlist.lockdb" \
    --generation "$gen" --mode enforce "${WATCH_ARGS[@]}" "$@" >/dev/null 2>"$T/db-build.log" ||
    fail "db build $*: $(cat "$T/db-build.log")"
  ctl reload >/dev/null || fail "reload of generation $gen refused"
}
make_db_with 2 --trusted-owner $NOBODY
expect_runs "$MNT/home/nobody/mytrue"
expect_runs "$MNT/home/nobody/my.sh"
expect_writable_denied "$MNT/openbits"

log "--allow-user-writable-code: all of them run"
make_db_with 3 --allow-user-writable-code
expect_runs "$MNT/home/nobody/mytrue"
expect_runs "$MNT/openbits"

log "back to the default: denied again (the cache does not keep the old policy's answer)"
make_db_with 4
expect_writable_denied "$MNT/home/nobody/mytrue"
expect_runs "$MNT/rootcopy"

finish
