#!/bin/bash
# 8 processes exec'ing in a tight loop for 10 s, allowlisted and foreign binaries mixed, one of
# them a fresh copy each time (always a cache miss): no hang, no wrong answer.
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs
cp /usr/bin/true "$MNT/good2"
start_lockd

storm() {
  local id=$1 end=$(($(date +%s) + 10)) n=0 wrong=0 rc
  while [[ $(date +%s) -lt $end ]]; do
    "$MNT/good" || wrong=$((wrong + 1))
    if "$MNT/foreign" 2>/dev/null; then wrong=$((wrong + 1)); fi
    cp "$MNT/good2" "$MNT/copy-$id"
    "$MNT/copy-$id" || wrong=$((wrong + 1))
    n=$((n + 3))
  done
  echo "$n $wrong" >"$T/storm-$id"
}
pids=()
for i in $(seq 8); do
  timeout 40 bash -c "$(declare -f storm); MNT='$MNT' T='$T'; storm $i" &
  pids+=($!)
done
for p in "${pids[@]}"; do
  if ! wait "$p"; then fail "a storm process hung or failed (pid $p)"; fi
done
total=0
wrong=0
for i in $(seq 8); do
  read -r n w <"$T/storm-$i" || { fail "storm $i left no result"; continue; }
  total=$((total + n))
  wrong=$((wrong + w))
done
log "execs: $total, wrong answers: $wrong"
[[ $total -gt 100 ]] || fail "too few execs ($total)"
[[ $wrong -eq 0 ]] || fail "$wrong wrong answers"
[[ $(status_field queue_depth) == 0 ]] || fail "events left unanswered"
[[ $(status_field response_errors) == 0 ]] || fail "response errors"
expect_runs "$MNT/good"
finish
