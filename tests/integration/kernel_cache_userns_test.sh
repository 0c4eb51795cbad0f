#!/bin/bash
# An unprivileged user must never get an ignore mark (lockd/kernel_cache.h) on a file it can
# change. With user namespaces allowed by the policy (and its files trusted), a user can mount a tmpfs in a namespace
# of its own and make that superblock read-only and writable again at will (fspick + fsconfig,
# no mount-table notification; it owns the superblock). Were such a superblock to qualify:
# copy an allowlisted binary in, make it read-only, exec it once (lockd allows it and the
# kernel is told to answer for it), make it writable, rewrite the binary through a shared
# mapping (no FAN_MODIFY) and exec it again before lockd's next pass over the mount tables:
# foreign code would run. Only superblocks that lockd's own mount namespace shows qualify (a
# user cannot mount there, and cannot reconfigure a superblock the initial user namespace
# owns), so the second exec is judged and denied. (On kernels with statmount, 6.8+, lockd reads
# other namespaces' mounts through it, and its options carry no "ro": there the superblock
# never looked read-only even before the rule; the rule is what holds where mountinfo is read.)
# shellcheck disable=SC2015  # "check && ok || fail" is meant
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kernel_cache_lib.sh"

USER_UID=65534
if ! setpriv --reuid=$USER_UID --regid=$USER_UID --clear-groups unshare -U -r -m true 2>/dev/null; then
  log "SKIP: unprivileged user namespaces are not available here"
  exit 77
fi

mount_tmpfs "$MNT"
# What the user works with, readable by it: the allowlisted binary and the foreign one, padded
# to one size (one is rewritten into the other in place), outside the marked filesystem (an
# open of a foreign ELF on it is refused).
chmod 0711 "$T"
PUB="$T/pub"
mkdir -m 0777 "$PUB"
cp /usr/bin/true "$PUB/good" && truncate -s 131072 "$PUB/good" && chmod 0755 "$PUB/good"
cp /usr/bin/id "$PUB/evil" && truncate -s 131072 "$PUB/evil" && chmod 0644 "$PUB/evil"
cp "$PUB/good" "$MNT/good"
mkdir -m 0777 "$MNT/u"
new_key signer
trust_key signer
# The policy lets this account use user namespaces and trusts its files (a service account
# the terminal's software runs as); with the defaults (deny_user_writable, namespaces off) its
# files would never be allowed in the first place.
WATCH_ARGS+=(--allow-user-namespaces --trusted-owner "$USER_UID")
make_db signer "$T/allowlist.lockdb" 1 enforce "$MNT/good"
write_config
start_lockd
expect_runs "$MNT/good"

# The user's attempt, in one script in its own user and mount namespace.
cat >"$PUB/attempt.sh" <<EOF
set -u
mount -t tmpfs u "$MNT/u" || exit 10
cp "$PUB/good" "$MNT/u/good" || exit 11
"$RECONF" "$MNT/u" ro || exit 12
sleep 2.5                       # lockd has read this namespace's table and marked the tmpfs
"$MNT/u/good" || exit 13        # allowed: the content is allowlisted
"$RECONF" "$MNT/u" rw || exit 14
"$PYTHON" - "$PUB/evil" "$MNT/u/good" <<'PY' || exit 15
import mmap, sys
src = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    m[:] = src
    m.flush()
    m.close()
PY
"$MNT/u/good" >/dev/null 2>"$PUB/second.err"
echo \$? >"$PUB/second.rc"
EOF
chmod 0755 "$PUB/attempt.sh"
probe 20 setpriv --reuid=$USER_UID --regid=$USER_UID --clear-groups unshare -U -r -m bash "$PUB/attempt.sh"
if [[ $PROBE_RC == hung ]]; then
  fail "HUNG: the user's attempt did not end within 20 s"
elif [[ $PROBE_RC != 0 ]]; then
  fail "the user's attempt stopped early (exit $PROBE_RC): $PROBE_ERR"
else
  rc=$(cat "$PUB/second.rc")
  if [[ $rc == 126 ]] && grep -q "Operation not permitted" "$PUB/second.err"; then
    log "ok: the rewritten binary was denied (EPERM)"
  else
    fail "the binary rewritten on the user's superblock ran (exit $rc: $(cat "$PUB/second.err"))"
  fi
fi
[[ $(status_field kernel_cache standing) == 0 ]] ||
  fail "a file on a superblock outside lockd's namespace was left to the kernel"

stop_lockd
finish
