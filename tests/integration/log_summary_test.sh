#!/usr/bin/env bash
# From audit to enforce (docs/runbook.md), on a real audit-mode lockd in a sandbox: the
# terminal runs with an audit-mode baseline of $MNT/app (its baseline root) while
#   - the vendor drops a new program into $MNT/app without a maintenance window (run 3 times
#     by root),
#   - a script of the application changes in place (run once),
#   - a new job script is read by the shell (sh job.sh),
#   - someone runs a foreign program from the sandbox's /tmp place as uid 1000;
# then `lockctl log summary --type would-deny` groups the would-deny records and proposes:
# add-to-baseline (new program, job script), review (changed script), investigate (foreign).
# --json says the same. Then the baseline is rebuilt in enforce mode with a file token and
# installed (`lockctl db build`, `lockctl db install`), the foreign program is denied, and
# `lockctl log summary --type deny` shows that deny. LOCKD_SUMMARY_OUT=DIR keeps the outputs
# (the runbook's example is taken from them). lockd folds repeats of a denial into counted
# `repeat` records (docs/audit-log.md, "Repeats"): the summary counts denials, so newtool's 3
# would-denials are 1 record and a repeat record of 2, written 10 s after the first repeat.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/maintenance_lib.sh"
out=""  # set by expect_rc

new_key signer
trust_key signer
make_file_token fe
cp "$T/keys/fe.token.pem" "$T/trust/fe.pem"
setup_terminal --key "$T/keys/signer.pem"
"$LOCKCTL" db build --root "$MNT/app" --out "$T/allowlist.lockdb" --generation 1 --mode audit "${WATCH_ARGS[@]}" \
  --key "$T/keys/signer.pem" >"$T/db-audit.log" 2>&1 || fail "audit db build: $(cat "$T/db-audit.log")"
start_lockd
[[ $(status_field mode) == audit ]] || fail "mode: $(status_field mode)"

log "a week of audit mode, in a minute"
cp /usr/bin/whoami "$MNT/app/newtool"
for _ in 1 2 3; do expect_runs "$MNT/app/newtool"; done
printf '#!/bin/sh\necho v2\n' >"$MNT/app/run.sh"
expect_runs "$MNT/app/run.sh"
printf 'echo job done\n' >"$MNT/app/job.sh"
expect_runs sh "$MNT/app/job.sh"
chmod 0711 "$T"  # uid 1000 must reach $MNT (mktemp made $T 0700)
expect_runs setpriv --reuid=1000 --regid=1000 --clear-groups "$MNT/foreign"
LOG=$T/log/audit.jsonl
# 6 would-denials (one per exec or script read: issue 12 item 7): records plus repeat counts (the repeat records come 10 s after the first
# repeat of each program, so wait up to 25 s).
for _ in $(seq 100); do
  [[ $(audit_denials "$LOG" would_deny) -ge 6 ]] && break
  sleep 0.25
done
[[ $(audit_denials "$LOG" would_deny) -eq 6 ]] ||
  fail "the log accounts for $(audit_denials "$LOG" would_deny) would-denials, expected 6"
repeats=$(grep -c '"type":"repeat"' "$LOG" || true)
[[ $repeats -ge 1 ]] || fail "no repeat record: the test no longer checks that the summary counts them"

log "log summary --type would-deny"
expect_rc 0 out "$LOCKCTL" log summary --type would-deny --config "$T/lockd.toml"
printf '%s\n' "$out" >"$T/summary.txt"
printf '%s\n' "$out" >&2
block() {  # ACTION PATH: the lines of that group (up to the next blank line)
  awk -v head="$1  $2" '$0 == head {on = 1} on && /^$/ {exit} on {print}' "$T/summary.txt"
}
# Each run of a program gives one record: its exec; the open that follows it (the shell or the
# loader reading the same file in the same process) is the same act (issue 12 item 7).
g=$(block add-to-baseline "$MNT/app/newtool")
[[ $g == *"seen:    3 times"* && $g == *"uid:     0 (3)"* ]] || fail "newtool group: $g"
[[ $g == *"under the baseline root $MNT/app, so the next maintenance window's finish"* ]] || fail "newtool why: $g"
g=$(block add-to-baseline "$MNT/app/job.sh")
[[ $g == *"by:      /usr/bin/dash (1)"* ]] || fail "job.sh group (read by the shell): $g"
g=$(block review "$MNT/app/run.sh")
[[ $g == *"the database in force has another content at this path"* ]] || fail "run.sh group: $g"
g=$(block investigate "$MNT/foreign")
[[ $g == *"uid:     1000 (1)"* && $g == *"seen once, uid 1000, from /tmp (a writable place"* ]] ||
  fail "foreign group: $g"
[[ $g == *"by:      /usr/bin/setpriv (1)"* ]] || fail "foreign group program: $g"
g=$(block review "$MNT/app/run.sh")
[[ $g == *"by:      /usr/bin/timeout (1)"* ]] || fail "run.sh: executed (its read by the shell is the same act): $g"
grep -q "^would_deny: 6 denial(s) in 4 group(s), " "$T/summary.txt" || fail "header: $(head -1 "$T/summary.txt")"
grep -Eq "^repeats:        [0-9]+ of them counted in $repeats repeat record\(s\)" "$T/summary.txt" ||
  fail "repeats line ($repeats repeat records): $(sed -n 2p "$T/summary.txt")"
grep -q "^proposals: 1 investigate, 1 review, 2 add-to-baseline$" "$T/summary.txt" || fail "footer"
grep -q "^database:       $T/allowlist.lockdb (generation 1, mode audit, signature verified with $T/trust)$" \
  "$T/summary.txt" || fail "database line"
# Investigate comes first.
[[ $(grep -m1 -E '^(investigate|review|add-to-baseline|check|keep-blocked|none)  ' "$T/summary.txt") == "investigate  $MNT/foreign" ]] ||
  fail "investigate is not first"

log "the same as JSON"
expect_rc 0 out "$LOCKCTL" log summary --type would_deny --json --config "$T/lockd.toml"
printf '%s\n' "$out" >"$T/summary.json"
"$PYTHON" - "$T/summary.json" "$MNT" "$repeats" <<'PY' || fail "summary JSON"
import json, sys
s = json.load(open(sys.argv[1]))
mnt = sys.argv[2]
assert s["schema"] == "lockd-log-summary/2" and s["denials"] == 6, s
assert s["repeat_records"] == int(sys.argv[3]) and 1 <= s["in_repeats"] <= 3, s
assert sum(x["in_repeats"] for x in s["groups"]) == s["in_repeats"], s
g = {x["path"]: x for x in s["groups"]}
assert g[mnt + "/app/newtool"]["action"] == "add-to-baseline" and g[mnt + "/app/newtool"]["count"] == 3
assert g[mnt + "/app/newtool"]["uids"] == {"0": 3}
assert g[mnt + "/app/run.sh"]["action"] == "review"
assert g[mnt + "/foreign"]["action"] == "investigate" and g[mnt + "/foreign"]["uids"] == {"1000": 1}
assert g[mnt + "/app/job.sh"]["programs"] == [{"exe": "/usr/bin/dash", "count": 1}]
assert [x["action"] for x in s["groups"]][0] == "investigate"
print("json ok")
PY

log "to enforce: the foreign program removed, the baseline rebuilt in enforce mode and installed"
rm "$MNT/foreign"
cp /usr/bin/id "$T/dropped-again"
expect_rc 0 out "$LOCKCTL" db build --root "$MNT/app" --out "$T/enforce.lockdb" --generation 2 "${WATCH_ARGS[@]}" \
  --mode enforce --token "$FILE_TOKEN" --passphrase-fd 3 3<<<"$PASS"
expect_rc 0 out mctl db install "$T/enforce.lockdb" --token "$FILE_TOKEN" --passphrase-fd 3 3<<<"$PASS"
log "  -> $out"
[[ $(status_field mode) == enforce ]] || fail "mode after install: $(status_field mode)"
expect_runs "$MNT/app/newtool"
expect_runs "$MNT/app/run.sh"
expect_runs sh "$MNT/app/job.sh"
cp "$T/dropped-again" "$MNT/foreign"
expect_denied "$MNT/foreign"
for _ in $(seq 100); do
  [[ $(grep -c '"type":"deny"' "$LOG" 2>/dev/null || true) -ge 1 ]] && break
  sleep 0.1
done
expect_rc 0 out "$LOCKCTL" log summary --type deny --since 1h --config "$T/lockd.toml"
printf '%s\n' "$out" >"$T/summary-deny.txt"
printf '%s\n' "$out" >&2
grep -q "^deny: [12] denial(s) in 1 group(s), " "$T/summary-deny.txt" || fail "deny summary: $out"
grep -qx "investigate  $MNT/foreign" "$T/summary-deny.txt" || fail "deny summary: $out"
expect_rc 2 out "$LOCKCTL" log summary --type exec --config "$T/lockd.toml"
[[ $out == *'--type "exec": expected would-deny or deny'* ]] || fail "bad --type: $out"

if [[ -n ${LOCKD_SUMMARY_OUT:-} ]]; then
  cp "$T/summary.txt" "$T/summary.json" "$T/summary-deny.txt" "$LOCKD_SUMMARY_OUT/"
fi
finish
