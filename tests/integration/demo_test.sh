#!/usr/bin/env bash
# The README's main job, installer/demo.sh, runs to the end and shows what it promises: the
# allowlisted program ran, the foreign one was stopped (exit 126) with lockd's deny line, a
# maintenance round with the token installed generation 2 (the update runs in enforce, the
# foreign program is still stopped), the auditor's export verifies with its signature, and
# nothing is left mounted or running afterwards.
set -euo pipefail
: "${LOCKD_BUILD_DIR:?}" "${LOCKD_SOURCE_DIR:?}"
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root" >&2; exit 77; }

out=$(mktemp /tmp/lockd-demo-test.XXXXXX)
trap 'rm -f "$out"' EXIT
status=0
LOCKD_BUILD_DIR=$LOCKD_BUILD_DIR timeout --kill-after=10 240 \
  bash "$LOCKD_SOURCE_DIR/installer/demo.sh" >"$out" 2>&1 || status=$?
fail() { echo "FAIL: $*"; echo "---- demo output ----"; cat "$out"; exit 1; }
[[ $status == 0 ]] || fail "demo.sh exited $status"
grep -q '^hello from an approved script$' "$out" || fail "the allowlisted script did not run"
grep -q '^Linux ' "$out" || fail "the allowlisted uname did not run"
grep -q '^exit status: 126' "$out" || fail "the foreign program was not stopped"
grep -q 'verdict=deny reason=not-in-allowlist .*path=".*/sandbox/drop/dropper"' "$out" ||
  fail "lockd's deny line for the dropper is missing"
# Library coverage judges the programs' own opens too (FAN_OPEN_PERM), and bash reads the
# denied file to word its error: at least the two execs allowed and the dropper denied.
grep -Eq 'decisions: ([2-9]|[1-9][0-9]+) allowed, [1-9][0-9]* denied' "$out" ||
  fail "status does not count the decisions"
grep -q '^finished: generation 2 installed, back to enforce$' "$out" ||
  fail "the maintenance round did not install generation 2"
grep -q '^changes: 1 added, 0 removed, 0 changed' "$out" || fail "the re-baseline diff is missing"
grep -q '^the dropper, again: exit status 126$' "$out" ||
  fail "the foreign program was not stopped after the maintenance round"
grep -q '^generation: 2$' "$out" || fail "status does not show generation 2"
grep -q '^signature: valid, by key ' "$out" || fail "the export's signature was not verified"
[[ $(grep -c '^result: *OK$' "$out") -ge 2 ]] || fail "log verify or export verify did not say OK"
work=$(sed -n 's|^allowlist: \(/tmp/lockd-demo\.[A-Za-z0-9]*\)/.*|\1|p' "$out")
[[ -n $work && ! -e $work ]] || fail "the demo left its work folder behind: $work"
! grep -q "lockd-demo" /proc/self/mountinfo || fail "a demo mount is still visible"
echo "PASS: demo"
