#!/bin/bash
# The mount race (not a test; run by hand as root):
#   LOCKD_BUILD_DIR=build LOCKD_SOURCE_DIR=. bash tests/bench/mount_race_bench.sh [N]
#   BEFORE_BUILD_DIR=/path/to/an/older/build ... : the same with that build's lockd first
#
# How often lockd's mark is in place before an exec from a freshly mounted tmpfs, when the
# program execs the instant its mount returns (tests/bench/mount_race_spawn.cpp), in three
# situations: a mount namespace that already existed (lockd knows it), a new mount namespace
# per round, and a new user+mount namespace per round. lockd watches the test mount below which
# every race tmpfs is mounted; the foreign binary is `id`, the allowlisted one `true`. Each
# situation is run with the exec DELAYS microseconds after the file is written (default 0, 1 ms,
# 10 ms, 100 ms): how soon after a mount its mark is in place.
# Prints one line per situation and lockd build; docs/performance.md has the figures.
export LOCKD_TEST_TIMEOUT=${LOCKD_TEST_TIMEOUT:-1800}
source "${LOCKD_SOURCE_DIR:?}/tests/integration/lib.sh"

N=${1:-100}
SPAWN="$LOCKD_BUILD_DIR/integration-helpers/mount_race_spawn"
mkdir -p "$(dirname "$SPAWN")"
g++ -O2 -std=c++20 "$LOCKD_SOURCE_DIR/tests/bench/mount_race_spawn.cpp" -o "$SPAWN"

setup_standard tmpfs
chmod 0755 "$T"
mkdir -p "$MNT/race"
chmod 0777 "$MNT/race"
cp /usr/bin/id "$T/foreign"
chmod 0755 "$T/foreign"

DELAYS=${DELAYS:-0 1000 10000 100000}  # microseconds between the file written and the exec
run_all() {  # run_all LABEL
  local mode out delay
  for delay in $DELAYS; do
    for mode in existing new userns; do
      if [[ $mode == userns ]]; then
        out=$(setpriv --reuid 65534 --regid 65534 --clear-groups \
          "$SPAWN" "$mode" "$MNT/race" "$T/foreign" "$N" "$delay" 2>&1 | head -n 1)
      else
        out=$("$SPAWN" "$mode" "$MNT/race" "$T/foreign" "$N" "$delay" 2>&1 | head -n 1)
      fi
      echo "[$1] $out"
    done
  done
}

if [[ -n ${BEFORE_BUILD_DIR:-} ]]; then
  LOCKD_BIN="$BEFORE_BUILD_DIR/lockd/lockd"
  start_lockd
  run_all "before: $BEFORE_BUILD_DIR"
  stop_lockd
  LOCKD_BIN="$LOCKD_BUILD_DIR/lockd/lockd"
fi
start_lockd
run_all "this build: $(grep -o 'mount discovery: .*' <(ctl status) | cut -c1-60)"
stop_lockd
finish
