#!/usr/bin/env bash
# Runs one libFuzzer target for a while, starting from its seed corpus, and fails when it finds
# anything (a crash, a sanitizer report, a leak, a trap on a broken invariant, a timeout).
# Usage: run_fuzzer.sh BINARY SEED_DIR SECONDS ARTIFACT_DIR [libFuzzer options...]
# The seeds are read, never written: inputs libFuzzer finds interesting go to a scratch corpus
# that is removed afterwards; what it finds wrong is kept as ARTIFACT_DIR/<target>-crash-...
# (add it to SEED_DIR with the fix: docs/fuzzing.md). One job (-jobs/-workers unset): the
# machine is shared.
set -euo pipefail
if (($# < 4)); then
  echo "usage: run_fuzzer.sh BINARY SEED_DIR SECONDS ARTIFACT_DIR [libFuzzer options...]" >&2
  exit 2
fi
binary=$1 seeds=$2 seconds=$3 artifacts=$4
shift 4
name=$(basename "$binary")
mkdir -p "$artifacts"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
log=$scratch.log
trap 'rm -rf "$scratch" "$log"' EXIT
status=0
"$binary" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$artifacts/$name-" "$@" "$scratch" "$seeds" >"$log" 2>&1 || status=$?
runs=$(grep -o '^stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
if ((status != 0)); then
  tail -n 60 "$log"
  echo "$name: FAILED (exit $status) after ${runs:-?} runs; reproducer in $artifacts/"
  exit 1
fi
echo "$name: ${runs:-?} runs in ${seconds} s, ${cov:-cov: ?}, $(ls "$scratch" | wc -l) new corpus inputs, nothing found"
