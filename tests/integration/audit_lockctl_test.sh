#!/usr/bin/env bash
# `lockctl log verify` and `lockctl log show` on a real rotated log with hostile names:
# exit codes 0/1/2, the break named with file, line and seq, the head hash, safe output.
# Needs no root; files only in a temp dir.
set -euo pipefail

build="${LOCKD_BUILD_DIR:?LOCKD_BUILD_DIR must be set}"
lockctl="$build/tools/lockctl"
tests_bin="$build/tests/lockd_tests"
tmp=$(mktemp -d /tmp/lockd-audit-lockctl.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

LOCKD_AUDIT_SAMPLE="$tmp/log" timeout 60 "$tests_bin" -tc="audit log: sample log for the lockctl test" \
  >/dev/null || fail "could not write the sample log"
log="$tmp/log/audit.jsonl"
[[ -f "$log.3" ]] || fail "the sample log did not rotate"

expect_exit() {  # CODE COMMAND...: runs COMMAND, output in $tmp/out and $tmp/err
  local want=$1; shift
  local got=0
  "$@" >"$tmp/out" 2>"$tmp/err" || got=$?
  [[ $got -eq $want ]] || { cat "$tmp/out" "$tmp/err"; fail "exit $got, expected $want: $*"; }
}

# Intact: OK, from genesis, head = SHA-256 of the last line without its newline.
expect_exit 0 "$lockctl" log verify --log "$log"
grep -q "result:   OK" "$tmp/out" || fail "no OK"
grep -q "records:  40 (seq 1..40), chain starts at genesis" "$tmp/out" || fail "wrong count"
head_hash=$(tail -n 1 "$log" | tr -d '\n' | sha256sum | cut -d' ' -f1)
grep -q "head:     seq 40 sha256 $head_hash" "$tmp/out" || { cat "$tmp/out"; fail "wrong head"; }
expect_exit 0 "$lockctl" log verify --json --genesis --anchor "$head_hash" --log "$log"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["ok"] and r["records"]==40 and r["head_hash"]==sys.argv[2], r' \
  "$tmp/out" "$head_hash" || fail "bad --json report"

# Files given explicitly, oldest first.
mapfile -t files < <(ls "$log".* | grep -E '\.[0-9]+$' | sort -t. -k3 -n -r)
expect_exit 0 "$lockctl" log verify "${files[@]}" "$log"

# One byte edited in a middle file: exit 1, the break named as FILE:LINE: seq N.
cp -r "$tmp/log" "$tmp/edit"
python3 - "$tmp/edit/audit.jsonl.2" <<'PY'
import sys
p = sys.argv[1]
lines = open(p, 'rb').read().split(b'\n')
lines[1] = lines[1].replace(b'"pid":', b'"pid":9', 1)
open(p, 'wb').write(b'\n'.join(lines))
PY
expect_exit 1 "$lockctl" log verify --log "$tmp/edit/audit.jsonl"
grep -q "result:   BROKEN" "$tmp/out" || fail "no BROKEN"
grep -Eq "^$tmp/edit/audit.jsonl.2:3: seq [0-9]+: prev does not match" "$tmp/err" ||
  { cat "$tmp/err"; fail "break not named"; }

# A record deleted.
cp -r "$tmp/log" "$tmp/del"
sed -i '2d' "$tmp/del/audit.jsonl"
expect_exit 1 "$lockctl" log verify --log "$tmp/del/audit.jsonl"
grep -Eq "audit.jsonl:2: seq [0-9]+: seq [0-9]+ does not follow" "$tmp/err" || { cat "$tmp/err"; fail "delete"; }

# Torn tail (a crash): still verifies, reported; an earlier anchor shows the loss.
cp -r "$tmp/log" "$tmp/torn"
truncate -s -10 "$tmp/torn/audit.jsonl"
expect_exit 0 "$lockctl" log verify --log "$tmp/torn/audit.jsonl"
grep -q "^torn: .*not yet repaired" "$tmp/out" || { cat "$tmp/out"; fail "torn tail not reported"; }
expect_exit 1 "$lockctl" log verify --anchor "$head_hash" --log "$tmp/torn/audit.jsonl"

# Unreadable input and bad usage: exit 2.
expect_exit 2 "$lockctl" log verify "$tmp/no-such-file"
grep -q "no-such-file" "$tmp/err" || fail "missing file not named"
expect_exit 2 "$lockctl" log verify --anchor nothex --log "$log"

# show: a table, hostile bytes escaped, nothing raw reaches the terminal.
expect_exit 0 "$lockctl" log show --log "$log"
[[ $(wc -l <"$tmp/out") -eq 41 ]] || fail "show: expected header + 40 rows"
grep -q 'path=/tmp/evil\\nname' "$tmp/out" || fail "show: newline not escaped"
grep -q 'path=/tmp/\\xff\\xfe' "$tmp/out" || fail "show: invalid bytes not shown as \\xHH"
grep -q 'path=/tmp/rtl\\u{202e}txt.exe' "$tmp/out" || fail "show: bidi control not escaped"
grep -q $'\xe5\x8f\x96\xe5\xbc\x95' "$tmp/out" || fail "show: Japanese name not readable"
if LC_ALL=C grep -q $'\x1b' "$tmp/out"; then fail "show: raw ESC on the terminal"; fi
expect_exit 0 "$lockctl" log show --type deny,db_load --log "$log"
[[ $(wc -l <"$tmp/out") -eq 30 ]] || fail "show --type: expected 29 rows"
expect_exit 0 "$lockctl" log show --since 2026-11-28T00:00:00Z --type deny --json --log "$log"
# The sample starts at 2026-11-27T16:00Z, one record an hour (i = 0..39): from i = 8 on,
# deny at i%4==1: 9, 13, ..., 37.
[[ $(wc -l <"$tmp/out") -eq 8 ]] || { cat "$tmp/out"; fail "show --since --json"; }
while IFS= read -r line; do grep -qxF -- "$line" "$log" "$log".* 2>/dev/null || fail "--json line not as stored"; done <"$tmp/out"
expect_exit 2 "$lockctl" log show --since yesterday --log "$log"
grep -q "expected an RFC 3339" "$tmp/err" || fail "bad --since not explained"

echo "PASS: lockctl log verify/show"
