#!/usr/bin/env bash
# `lockctl maintenance finish --progress=json` (issue 15 item 1) against the real daemon: the
# rescan of the baseline roots writes JSON lines on stderr (task maintenance-rescan: the count,
# then done with every file examined), the results stay on stdout, and the finish installs
# generation 2 as without it. A first window finished without --progress and without a
# terminal writes no progress at all.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/maintenance_lib.sh"
engineer_login  # the test acts as the field engineer: what it installs is the session's

make_file_token fe
new_key signer
mkdir -p "$T/trust"
cp "$T/keys/signer.pub.pem" "$T/trust/signer.pem"
cp "$T/keys/fe.token.pem" "$T/trust/fe.pem"
setup_terminal --key "$T/keys/signer.pem"
for i in $(seq 50); do printf '#!/bin/sh\necho %d\n' "$i" >"$MNT/app/s$i.sh"; done
chmod 0755 "$MNT"/app/s*.sh
start_lockd
FT=(--token "$FILE_TOKEN" --passphrase-fd 3)

window() { # window N: a maintenance window in which a new program is installed
  mctl maintenance start --minutes 30 "${FT[@]}" 3<<<"$PASS" >/dev/null || fail "start $1"
  cp /usr/bin/whoami "$MNT/app/new$1"
  # Run once, as the runbook says: the session ran these bytes, so they are learned even when
  # the quick cp was gone before lockd could tell whose it was.
  "$MNT/app/new$1" >/dev/null || fail "new$1 did not run in the window"
}

window 1
mctl maintenance finish --yes "${FT[@]}" 3<<<"$PASS" >"$T/f1.out" 2>"$T/f1.err" ||
  fail "finish without --progress: $(cat "$T/f1.err")"
if grep -q '"event"' "$T/f1.err" || grep -q $'\r' "$T/f1.err"; then
  fail "progress without a terminal: $(head -c 300 "$T/f1.err")"
else
  log "ok: no progress without a terminal"
fi

window 2
files=$(find "$MNT/app" -type f | wc -l)
mctl maintenance finish --yes --progress=json "${FT[@]}" 3<<<"$PASS" >"$T/f2.out" 2>"$T/f2.err" ||
  fail "finish --progress=json: $(cat "$T/f2.err")"
grep -q "^finished: generation 3 installed, back to enforce$" "$T/f2.out" || fail "finish output: $(cat "$T/f2.out")"
grep -q '"event"' "$T/f2.out" && fail "progress on stdout"
"$PYTHON" - "$T/f2.err" "$files" <<'PY' && log "ok: --progress=json lines of the rescan" || fail "rescan JSON lines: $(cat "$T/f2.err")"
import json, sys
files = int(sys.argv[2])
events = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
assert events and all(e["task"] == "maintenance-rescan" for e in events), events
counted = [e for e in events if e["event"] == "count" and e["done"]]
assert len(counted) == 1 and counted[0]["files_counted"] == files, (counted, files)
done = events[-1]
assert done["event"] == "done" and done["files_examined"] == files, done
assert done["files_recorded"] == files, done  # every file under app/ is code
PY
[[ $(db_generation) == 3 ]] || fail "generation $(db_generation)"
expect_runs "$MNT/app/new2"
finish
