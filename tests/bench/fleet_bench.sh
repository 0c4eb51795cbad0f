#!/bin/bash
# Fleet report benchmark (not a test; run by hand as root):
#   LOCKD_BUILD_DIR=build LOCKD_SOURCE_DIR=. bash tests/bench/fleet_bench.sh [N] [DENIES]
#
# 1. A real terminal history (tests/integration/fleet_lib.sh fleet_seed, in a private mount
#    namespace on a tmpfs only the test lockd watches): lockd enforcing, denials, a maintenance
#    window with a field engineer's file token installing generation 2; then DENIES (default
#    300) more real denials of three foreign programs, so each log holds a few hundred records.
# 2. N (default 5000) terminals made from it, each exported with the real `lockctl export`,
#    signed by the auditors' file token, as a .tar: terminal id i (hex), the seed log cut at
#    one of four lengths (a prefix of a chain is a chain), and the database: generation 2 for
#    most, the drift database (a file more, one less) for every 20th, the generation-1
#    database for every 20th + 7 (the one before the maintenance), so the report has drift to
#    find. Exports run two at a time (the machine has 2 cores).
# 3. `lockctl fleet report` over 500, 1000, 2500 and N of them (directories of symbolic
#    links), each under /usr/bin/time -v: wall time and peak RSS. Every bundle must verify.
# Prints one line per step and a summary block (copied into docs/performance.md).
export LOCKD_TEST_TIMEOUT=${LOCKD_TEST_TIMEOUT:-7000}
source "${LOCKD_SOURCE_DIR:?}/tests/integration/lib.sh"
source "$LOCKD_SOURCE_DIR/tests/integration/maintenance_lib.sh"
source "$LOCKD_SOURCE_DIR/tests/integration/fleet_lib.sh"

N=${1:-5000}
DENIES=${2:-300}

log "seed: a real terminal history"
fleet_seed
cp /usr/bin/tty "$MNT/tool-a"
cp /usr/bin/nproc "$MNT/tool-b"
start_lockd
for i in $(seq "$DENIES"); do
  case $((i % 3)) in
    0) run_file "$MNT/foreign" ;;
    1) run_file "$MNT/tool-a" ;;
    2) run_file "$MNT/tool-b" ;;
  esac
done
stop_lockd
fleet_drift_db "$T/drift.lockdb"
records=$(wc -l <"$T/log/audit.jsonl")
log "seed log: $records records ($(du -k "$T/log/audit.jsonl" | cut -f1) KiB)"
for cut in 0 1 2 3; do head -n $((records - cut)) "$T/log/audit.jsonl" >"$T/seed-$cut.jsonl"; done

# make_one I: terminal I and its bundle.
make_one() {
  local i=$1 db=$T/allowlist.lockdb
  ((i % 20 == 0)) && db=$T/drift.lockdb
  ((i % 20 == 7)) && db=$T/gen1.lockdb
  fleet_terminal "t$i" "$(printf '%032x' "$i")" "$db" "$T/seed-$((i % 4)).jsonl"
  fleet_export "t$i" "$T/bundles/atm-$(printf '%05d' "$i").tar"
  rm -rf "$T/terminals/t$i"
}
mkdir -p "$T/bundles"
log "exporting $N terminals (two at a time)"
start=$(date +%s.%N)
for ((i = 1; i <= N; i += 2)); do
  make_one "$i" &
  p=$!
  ((i + 1 <= N)) && make_one $((i + 1))
  wait "$p"
done
gen_s=$(echo "$(date +%s.%N) - $start" | bc)
n_made=$(find "$T/bundles" -name '*.tar' | wc -l)
[[ $n_made -eq $N ]] || fail "made $n_made of $N bundles"
bundle_kib=$(du -sk "$T/bundles" | cut -f1)
log "exports: $N in ${gen_s} s ($(echo "scale=1; $gen_s * 1000 / $N" | bc) ms each, 2 in parallel), $((bundle_kib / 1024)) MiB"

SUMMARY=$T/summary.txt
{
  echo "fleet_bench: N=$N, seed log $records records, bundles $((bundle_kib / 1024)) MiB ($((bundle_kib / N)) KiB each)"
  echo "exports: ${gen_s} s for $N (two at a time)"
} >"$SUMMARY"
for m in 500 1000 2500 "$N"; do
  ((m <= N)) || continue
  dir=$T/subset-$m
  mkdir -p "$dir"
  find "$T/bundles" -name '*.tar' | sort | head -n "$m" | while read -r f; do ln -s "$f" "$dir/"; done
  sync
  rc=0
  /usr/bin/time -v "$LOCKCTL" fleet report "$dir" --trust "$T/export-trust" --db-trust "$T/trust" \
    --out "$T/report-$m" >"$T/report-$m.out" 2>"$T/report-$m.time" || rc=$?
  [[ $rc -eq 0 ]] || fail "fleet report over $m bundles exited $rc: $(grep -v '^\s' "$T/report-$m.time" | head -5)"
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$T/report-$m.time")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$T/report-$m.time")
  user=$(sed -n 's/.*User time (seconds): //p' "$T/report-$m.time")
  sys=$(sed -n 's/.*System time (seconds): //p' "$T/report-$m.time")
  line="fleet report over $m bundles: wall $wall, user ${user} s, sys ${sys} s, peak RSS $((rss / 1024)) MiB; $(sed -n 2p "$T/report-$m.out")"
  log "$line"
  echo "$line" >>"$SUMMARY"
  cat "$T/report-$m.out" >&2
done
echo "html $(du -k "$T/report-$N/fleet-report.html" | cut -f1) KiB; csv $(du -ck "$T/report-$N"/*.csv | tail -1 | cut -f1) KiB" >>"$SUMMARY"
echo "----- summary -----"
cat "$SUMMARY"
[[ -n ${FLEET_BENCH_KEEP:-} ]] && cp -r "$SUMMARY" "$T/report-$N" "$FLEET_BENCH_KEEP/"
finish
