#!/usr/bin/env bash
# The trusted updater: a program named in lockd.toml (trusted_updaters) and itself allowlisted
# by digest. Files it writes during a window are learned as "updater", and
# `lockctl maintenance finish --updater-only` takes exactly those without a full rescan: nothing
# else learned in the window (a file copied by hand) is taken, and nothing is removed (a file
# deleted by hand stays allowed).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/maintenance_lib.sh"
engineer_login  # the test acts as the field engineer: what it writes is the session's
out=""  # set by expect_rc

make_file_token fe
mkdir -p "$T/trust"
cp "$T/keys/fe.token.pem" "$T/trust/fe.pem"
mount_tmpfs "$MNT"
mkdir -p "$MNT/app"
cp /usr/bin/true "$MNT/app/good"
# The vendor's updater: here a copy of python3 that writes the file itself (a helper it forked
# would not be the updater). It stays a moment after its last write so that the test does not
# depend on how soon lockd looks at the writer's /proc/PID/exe.
cp /usr/bin/python3 "$MNT/app/updater"
"$LOCKCTL" db build --root "$MNT/app" --out "$T/allowlist.lockdb" --generation 1 "${WATCH_ARGS[@]}" \
  --token "$FILE_TOKEN" --passphrase-fd 3 3<<<"$PASS" >/dev/null 2>&1 || fail "db build"
write_config
cat >>"$T/lockd.toml" <<TOML
baseline_roots = ["$MNT/app"]
trusted_updaters = ["$MNT/app/updater"]
baseline_excludes = []  # the test tree lives in /tmp, a default exclude
TOML
start_lockd
FT=(--token "$FILE_TOKEN" --passphrase-fd 3)

expect_rc 0 out mctl maintenance start "${FT[@]}" 3<<<"$PASS"
"$MNT/app/updater" -c "import shutil, time
shutil.copy('/usr/bin/whoami', '$MNT/app/vendor-tool')
time.sleep(2)" || fail "the updater did not run"
# Not the updater: the engineer's own copy (a writer that stays a moment, so that lockd sees
# it is the session's; a writer gone before lockd looks is "unknown", never taken either).
"$PYTHON" -c 'import shutil, sys, time
shutil.copy(sys.argv[1], sys.argv[2]); time.sleep(1.5)' /usr/bin/uname "$MNT/app/by-hand" ||
  fail "copy by-hand"
rm "$MNT/app/good"                     # deleted by hand
expect_rc 0 out mctl maintenance finish --yes --updater-only "${FT[@]}" 3<<<"$PASS"
log "finish --updater-only said:"$'\n'"$out"
grep -q "^changes: 1 added, 0 removed, 0 changed, 2 unchanged$" <<<"$out" || fail "diff: $out"
grep -q "^  + $MNT/app/vendor-tool  (elf-exec, .*, owner root:root)$" <<<"$out" ||
  fail "vendor-tool not added (with its owner): $out"
grep -q "^      written by the trusted updater: pid [0-9]*, uid 0 (root), $MNT/app/updater$" <<<"$out" ||
  fail "the diff does not name the updater as vendor-tool's writer: $out"
grep -q "by-hand: not taken: write by the session, not written by the trusted updater" <<<"$out" ||
  fail "by-hand not reported as not taken: $out"
[[ $(db_generation) == 2 ]] || fail "generation $(db_generation)"
expect_runs "$MNT/app/vendor-tool"
expect_denied "$MNT/app/by-hand"
cp /usr/bin/true "$MNT/good-again"
expect_runs "$MNT/good-again"  # removed by hand, still allowed: --updater-only removes nothing

finish
