#!/bin/bash
# Plain opens by an interpreter (not a test; run by hand as root on an idle machine):
#   LOCKD_BUILD_DIR=build LOCKD_SOURCE_DIR=. bash tests/bench/interpreter_open_bench.sh [FILES]
#   BEFORE_LOCKD=/path/to/an/older/lockd ... : the same with that binary too
#
# The cost of script coverage's rule 2b (lockd/coverage.h) on its hot path: an allowlisted
# python3 script on a marked tmpfs opens and reads FILES data files (no suffix, no execute bit,
# no "#!"), five times over; each open is an interpreter's open of a file that is no script by
# name or mode, so lockd checks it against the script's command line (cached per process) and
# start-up variables. The same script run by a copy of python3 named `notpy` outside the marked
# filesystem is the cost for a program that is no interpreter (its name and executable's
# identity are read, nothing else). Prints the best of three runs in µs per open: without a
# daemon, with BEFORE_LOCKD, with this build's lockd. docs/performance.md has the figures.
source "${LOCKD_SOURCE_DIR:?}/tests/integration/lib.sh"

FILES=${1:-2000}
mount_tmpfs "$MNT"
mkdir "$MNT/d"
for i in $(seq "$FILES"); do echo "data $i" >"$MNT/d/f$i"; done
cat >"$MNT/bench.py" <<'PY'
import os, sys, time
d = sys.argv[1]
names = [os.path.join(d, n) for n in os.listdir(d)]
t = time.perf_counter()
for _ in range(5):
    for n in names:
        with open(n) as f:
            f.read()
print("%.1f" % ((time.perf_counter() - t) / (5 * len(names)) * 1e6))
PY
new_key signer
trust_key signer
make_db signer "$T/allowlist.lockdb" 1 enforce "$MNT/bench.py"
write_config
cp "$(readlink -f "$PYTHON")" "$T/notpy"
best() { for _ in 1 2 3; do "$1" "$MNT/bench.py" "$MNT/d"; done | sort -n | head -n 1; }
both() { echo "$1: python3 $(best "$PYTHON") us/open, notpy $(best "$T/notpy") us/open"; }
both "no daemon"
if [[ -n ${BEFORE_LOCKD:-} ]]; then
  LOCKD_BIN=$BEFORE_LOCKD start_lockd
  both "lockd $BEFORE_LOCKD"
  stop_lockd
fi
start_lockd
both "lockd $LOCKD_BIN"
if grep -q "verdict=deny" "$LOCKD_LOG"; then fail "a data file was denied"; fi
finish
