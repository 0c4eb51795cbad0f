#!/bin/bash
# Progress of `lockctl db build` (issue 15 item 1): nothing on stderr when it is not a terminal
# (the default, auto), a live line on a real terminal (script(1) gives the command a pty), and
# JSON lines with --progress=json that parse, count first, rise, and end with "done". The
# database built is the same in every mode. No daemon is needed.
source "$(dirname "$0")/lib.sh"

mount_tmpfs "$MNT"
tree="$MNT/tree"
mkdir -p "$tree/bin" "$tree/lib" "$tree/share"
for i in $(seq 300); do printf 'text %d\n' "$i" >"$tree/share/f$i.txt"; done
for i in $(seq 40); do cp /usr/bin/true "$tree/bin/t$i"; printf '#!/bin/sh\necho %d\n' "$i" >"$tree/bin/s$i.sh"; done
# Large programs (ELF header, then sparse zeros) so the hashing lasts long enough for several
# progress reports (every 200 ms) on one thread.
for i in 1 2 3 4 5 6; do cp /usr/bin/true "$tree/lib/big$i"; truncate -s 160M "$tree/lib/big$i"; done
expected_files=$(find "$tree" -type f | wc -l)
new_key signer

build() { # build OUT EXTRA_ARGS...: db build of the tree, one thread
  local out=$1
  shift
  "$LOCKCTL" db build --root "$tree" --key "$T/keys/signer.pem" --out "$out" --generation 1 \
    --threads 1 "$@"
}

# 1. Not a terminal: auto and none print no progress at all.
build "$T/auto.lockdb" >"$T/auto.out" 2>"$T/auto.err" || fail "db build (auto) failed: $(cat "$T/auto.err")"
build "$T/none.lockdb" --progress=none >/dev/null 2>"$T/none.err" || fail "db build --progress=none failed"
if [[ -s $T/auto.err || -s $T/none.err ]]; then
  fail "progress written without a terminal: $(od -c "$T/auto.err" | head -n 3)"
else
  log "ok: no progress on stderr when it is not a terminal"
fi
grep -q "^recorded: " "$T/auto.out" || fail "summary missing on stdout"
"$LOCKCTL" db build --root "$tree" --key "$T/keys/signer.pem" --out "$T/x.lockdb" --progress=fancy \
  >/dev/null 2>"$T/bad.err" && fail "--progress=fancy accepted"
grep -q "fancy" "$T/bad.err" || fail "--progress=fancy: no message naming it: $(cat "$T/bad.err")"

# 2. JSON lines on stderr.
build "$T/json.lockdb" --progress=json >"$T/json.out" 2>"$T/json.err" || fail "db build --progress=json failed"
if "$PYTHON" - "$T/json.err" "$expected_files" <<'PY'; then log "ok: --progress=json lines parse and add up"; else fail "--progress=json lines"; fi
import json, sys
lines = open(sys.argv[1], "rb").read().decode().splitlines()
expected = int(sys.argv[2])
events = [json.loads(l) for l in lines]          # every line one JSON object
assert all(e["task"] == "db-build" for e in events), events
kinds = [e["event"] for e in events]
counted = [e for e in events if e["event"] == "count" and e["done"]]
assert len(counted) == 1 and counted[0]["files_counted"] == expected, (counted, expected)
first_progress = kinds.index("progress")          # at least one report while hashing
assert kinds.index("count") < first_progress
assert kinds[-1] == "done" and kinds.count("done") == 1, kinds
done = events[-1]
assert done["files_examined"] == expected and done["files_total"] == expected, done
assert done["bytes_hashed"] >= 6 * 160 * 2**20, done
assert done["eta_seconds"] == 0
prog = [e for e in events if e["event"] == "progress"]
seen = [e["files_examined"] for e in prog]
assert seen == sorted(seen), seen
assert all(isinstance(e["bytes_per_second"], int) and e["elapsed_ms"] >= 0 for e in prog)
assert any(e["eta_seconds"] is not None for e in prog) or prog[-1]["elapsed_ms"] < 600, prog
print("json: %d lines, %d progress reports" % (len(events), len(prog)), file=sys.stderr)
PY
grep -q "^recorded: " "$T/json.out" || fail "summary missing on stdout with --progress=json"

# 3. A real terminal: script(1) runs the command on a pty; auto shows the live line.
script -q -e -f -c "$(printf '%q ' "$LOCKCTL" db build --root "$tree" --key "$T/keys/signer.pem" \
  --out "$T/tty.lockdb" --generation 1 --threads 1)" "$T/typescript" >/dev/null 2>&1 ||
  fail "db build on a pty failed: $(tr -d '\r' <"$T/typescript" | tail -n 5)"
if "$PYTHON" - "$T/typescript" "$expected_files" <<'PY'; then log "ok: a live progress line on a terminal"; else fail "no progress line on the terminal"; fi
import re, sys
data = open(sys.argv[1], "rb").read().decode(errors="replace")
expected = sys.argv[2]
assert "\r\x1b[Kdb build: counting files: %s to examine" % expected in data, data[:400]
lines = re.findall(r"\r\x1b\[K(db build: \d+/%s files \(\d+%%\), [^\r\n]*? at [^\r\n]*?/s[^\r\n]*? left)" % expected, data)
assert lines, data[:600]
# The line is cleared before the summary: no progress text is left on the summary's line.
summary = data.index("scan:")
assert data.rfind("\r\x1b[K", 0, summary) > data.rfind("db build: ", 0, summary), data[-800:]
print("tty: %d progress lines, e.g. %r" % (len(lines), lines[-1]), file=sys.stderr)
PY

# The same database whatever the progress mode.
for m in none json tty; do
  cmp -s <("$LOCKCTL" db list "$T/auto.lockdb" --no-verify 2>/dev/null) \
    <("$LOCKCTL" db list "$T/$m.lockdb" --no-verify 2>/dev/null) || fail "$m: different entries"
done
log "ok: same entries in every mode"

finish
