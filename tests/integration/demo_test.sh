#!/usr/bin/env bash
# The README's main job, installer/demo.sh, runs to the end and shows what it promises: the
# allowlisted program ran, the foreign one was stopped (exit 126) with lockd's deny line, and
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
work=$(sed -n 's|^allowlist: \(/tmp/lockd-demo\.[A-Za-z0-9]*\)/.*|\1|p' "$out")
[[ -n $work && ! -e $work ]] || fail "the demo left its work folder behind: $work"
! grep -q "lockd-demo" /proc/self/mountinfo || fail "a demo mount is still visible"
echo "PASS: demo"
