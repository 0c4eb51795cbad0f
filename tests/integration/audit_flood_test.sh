#!/bin/bash
# A deny flood does not evict the evidence (issue 12 item 5): one denial of a first program,
# then LOCKD_FLOOD_EXECS denied execs of another one (default 100000; the acceptance run is
# LOCKD_FLOOD_EXECS=1000000, see docs/audit-log.md for its figures) as fast as
# helpers/exec_flood.c can posix_spawn them from LOCKD_FLOOD_PROCS (16) processes. Afterwards the first denial is
# still in the log, `lockctl log verify` passes, repeats were folded into counted `repeat`
# records (the log stays small), and the denials the chain accounts for (deny records + repeat
# counts + records_lost) equal the number lockd reports in its status.
# shellcheck disable=SC2015  # "check && ok || fail" is meant
source "$(dirname "$0")/lib.sh"

EXECS=${LOCKD_FLOOD_EXECS:-100000}
PROCS=${LOCKD_FLOOD_PROCS:-16}
FLOOD="$LOCKD_BUILD_DIR/integration-helpers/exec_flood"
mkdir -p "$(dirname "$FLOOD")"
gcc -O2 -Wall -Wextra -Werror -o "$FLOOD.tmp.$$" \
  "$LOCKD_SOURCE_DIR/tests/integration/helpers/exec_flood.c" && mv "$FLOOD.tmp.$$" "$FLOOD" ||
  { log "cannot build exec_flood"; exit 1; }

setup_standard tmpfs
cp /usr/bin/whoami "$MNT/first-evidence"
start_lockd
AUDIT="$T/log/audit.jsonl"

# The first, interesting denial.
expect_denied "$MNT/first-evidence"
wait_for_log 'verdict=deny .*first-evidence' 5 || fail "the first denial was not logged"

# The flood; every exec must be refused (a hang would be a lockd bug: bounded by timeout).
start=$(date +%s%N)
out=$(timeout 1800 "$FLOOD" "$MNT/foreign" "$EXECS" "$PROCS") || fail "exec_flood: $out"
ms=$((($(date +%s%N) - start) / 1000000))
log "flood: $out in ${ms} ms ($((EXECS * 1000 / (ms + 1))) denied execs/s)"

denied=$(status_field decisions denied)
log "lockd status: denied=$denied"
[[ $(status_field queue_depth) == 0 ]] || fail "events left unanswered"
stop_lockd

# The first denial is still in the log.
"$LOCKCTL" log show --log "$AUDIT" --type deny --json >"$T/denies.jsonl" ||
  fail "log show failed"
grep -q 'first-evidence' "$T/denies.jsonl" && log "ok: the first denial is still in the log" ||
  fail "the first denial is gone from the log"

# The chain verifies from genesis (nothing was rotated away: the flood is a few repeat records).
"$LOCKCTL" log verify --log "$AUDIT" --genesis --json >"$T/verify.json" ||
  fail "log verify failed: $(cat "$T/verify.json")"
read -r total records repeated lost < <("$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))["denials"]
print(d["total"], d["records"], d["repeated"], d["lost"])' "$T/verify.json")
log "log: denials $total = $records records + $repeated repeated + $lost lost; status $denied"
((total == denied)) && log "ok: the log accounts for every denial lockd counted" ||
  fail "the log accounts for $total denials, lockd counted $denied"
((denied >= EXECS + 1)) || fail "lockd counted $denied denials for $((EXECS + 1)) denied execs"
((repeated > 0 && records < 1000)) && log "ok: repeats folded ($records deny records)" ||
  fail "repeats were not folded: $records deny records"
bytes=$(cat "$T"/log/audit.jsonl* | wc -c)
log "audit log: $bytes bytes, $(cat "$T"/log/audit.jsonl* | grep -c '"type":"repeat"') repeat records"
((bytes < 4 * 1024 * 1024)) || fail "the audit log grew to $bytes bytes"
# Every repeat record of the flood names the flooded program, with first and last times.
"$LOCKCTL" log show --log "$AUDIT" --type repeat >"$T/repeats.txt" || fail "log show --type repeat"
grep -q "count=" "$T/repeats.txt" && grep -q "first_time=" "$T/repeats.txt" ||
  fail "log show does not print the repeat records: $(head -3 "$T/repeats.txt")"

finish
