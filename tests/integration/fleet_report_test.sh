#!/usr/bin/env bash
# `lockctl fleet report` over real export bundles. One real terminal history (lockd enforcing
# on a sandbox: denials, a maintenance window with a field engineer's file token installing
# generation 2), then five terminals exported with the real `lockctl export`, signed by the
# auditors' token: three on the same database, one drifted (a database with a file more and
# one less), and three bundles that must fail, each for its own reason:
#   - tampered: a byte of blocks.csv changed after the export;
#   - unknown key: exported with a token whose key is not in the auditors' trust dir;
#   - broken chain: the terminal's audit log was edited before the export (signed, but the
#     chain in audit/ does not verify).
# Checks: exit 1, each failed bundle named with its reason (stderr, failures.csv, HTML); the
# terminals, their generation and signer; the drift (which terminal, which digests added and
# removed); maintenance by engineer; blocks by terminal and by digest; exit 0 on good bundles
# only; a non-empty --out refused.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/maintenance_lib.sh"
source "$(dirname "$0")/fleet_lib.sh"

fleet_seed
fleet_drift_db "$T/drift.lockdb"
ID_A=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01
ID_B=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa02
ID_C=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa03
ID_D=dddddddddddddddddddddddddddddd04
ID_E=eeeeeeeeeeeeeeeeeeeeeeeeeeeeee05
fleet_terminal a "$ID_A" "$T/allowlist.lockdb"
fleet_terminal b "$ID_B" "$T/allowlist.lockdb"
fleet_terminal c "$ID_C" "$T/allowlist.lockdb"
fleet_terminal d "$ID_D" "$T/drift.lockdb"
# Terminal e: someone edited a deny record in its log (the pid), before the export.
sed '0,/"type":"deny"/{/"type":"deny"/s/"pid":\([0-9]*\)/"pid":9\1/}' "$T/log/audit.jsonl" >"$T/edited.jsonl"
cmp -s "$T/log/audit.jsonl" "$T/edited.jsonl" && fail "the log edit changed nothing"
edited_line=$( (cmp "$T/log/audit.jsonl" "$T/edited.jsonl" || true) | sed -n 's/.* line \([0-9]*\)$/\1/p')
fleet_terminal e "$ID_E" "$T/allowlist.lockdb" "$T/edited.jsonl"

B=$T/bundles
mkdir -p "$B"
fleet_export a "$B/atm-a.tar"
fleet_export b "$B/atm-b"
fleet_export c "$B/atm-c.tar"
fleet_export d "$B/atm-d.tar"
fleet_export b "$B/atm-b-tampered"
printf 'Z' | dd of="$B/atm-b-tampered/blocks.csv" bs=1 seek=20 conv=notrunc status=none
make_file_token rogue
fleet_export c "$B/atm-c-rogue.tar" "$FILE_TOKEN"
rogue_id=$(key_id "$T/keys/rogue.token.pem")
fleet_export e "$B/atm-e.tar"
fe_id=$(key_id "$T/keys/fe.token.pem")

log "fleet report over the directory of bundles"
R=$T/report
rc=0
"$LOCKCTL" fleet report "$B" --trust "$T/export-trust" --db-trust "$T/trust" --out "$R" \
  >"$T/fleet.out" 2>"$T/fleet.err" || rc=$?
cat "$T/fleet.out" >&2
[[ $rc -eq 1 ]] || fail "fleet report exited $rc, expected 1 (some bundles fail): $(cat "$T/fleet.err")"
grep -q '^bundles:   7 read, 4 verified, 3 FAILED$' "$T/fleet.out" || fail "summary: $(cat "$T/fleet.out")"
grep -q '^terminals: 4, 1 image group(s), 1 drifted' "$T/fleet.out" || fail "summary: $(cat "$T/fleet.out")"
for f in fleet-report.html terminals.csv drift.csv blocks_by_terminal.csv blocks_by_digest.csv \
  sessions.csv engineers.csv failures.csv; do
  [[ -f $R/$f ]] || fail "the report lacks $f"
done

log "every failed bundle named, with its reason"
expect_failure() {  # BUNDLE REASON-SUBSTRING
  grep -qF "lockctl fleet report: FAILED: $1: $2" "$T/fleet.err" || fail "stderr does not name $1 ($2): $(cat "$T/fleet.err")"
  grep -F "$1," "$R/failures.csv" | grep -qF "$2" || fail "failures.csv does not name $1 ($2): $(cat "$R/failures.csv")"
}
expect_failure "$B/atm-b-tampered" "blocks.csv: SHA-256 "
expect_failure "$B/atm-c-rogue.tar" "MANIFEST.sig: signed by key $rogue_id, which is not a trust anchor in $T/export-trust"
expect_failure "$B/atm-e.tar" "audit/audit.jsonl:$((edited_line + 1)): log chain broken: "
grep -qF ",$ID_B,\"blocks.csv: SHA-256" "$R/failures.csv" || fail "failures.csv lacks the claimed terminal id of the tampered bundle"
[[ $(grep -c "^$B" "$R/failures.csv") -eq 3 ]] || fail "failures.csv: $(cat "$R/failures.csv")"
for name in atm-b-tampered atm-c-rogue.tar atm-e.tar; do
  grep -qF "$B/$name" "$R/fleet-report.html" || fail "fleet-report.html does not name $name"
done
grep -qF "which is not a trust anchor in $T/export-trust" "$R/fleet-report.html" || fail "fleet-report.html lacks the unknown key's reason"
grep -qF "log chain broken" "$R/fleet-report.html" || fail "fleet-report.html lacks the broken chain's reason"

log "terminals: generation, signer, baseline"
"$PYTHON" - "$R" "$fe_id" "$ID_A" "$ID_B" "$ID_C" "$ID_D" "$ID_E" <<'PY' || fail "terminals.csv"
import csv, sys
r, fe, a, b, c, d, e = sys.argv[1:]
rows = {row['terminal_id']: row for row in csv.DictReader(open(r + '/terminals.csv', newline=''))}
assert set(rows) == {a, b, c, d}, sorted(rows)   # e's only bundle failed: not a terminal here
for t in (a, b, c):
    x = rows[t]
    assert x['db_generation'] == '2', x
    assert x['db_signer_key_id'] == fe, (x['db_signer_key_id'], fe)  # the finish signed it
    assert x['db_fleet_signature'] == 'verified', x
    assert x['db_verified_on_terminal'] == 'true', x
    assert x['baseline'] == 'majority' and x['image_group'] == '1', x
    assert x['generation_lineage'] == '1 > 2', x['generation_lineage']
    # 3 denials in enforce; 3 would-denials of newtool inside the maintenance window (denials:
    # records plus the counts of repeat records)
    assert x['sessions'] == '1' and x['deny'] == '3' and x['would_deny'] == '2', x
x = rows[d]
assert x['baseline'] == 'drifted' and x['digests_added'] == '1' and x['digests_removed'] == '1', x
print('terminals.csv ok')
PY
env_sha=$(sha256sum /usr/bin/env | cut -d' ' -f1)
run_sha=$(sha256sum "$MNT/app/run.sh" | cut -d' ' -f1)
new_sha=$(sha256sum "$MNT/app/newtool" | cut -d' ' -f1)
# The drift database was built after the maintenance (newtool in), without run.sh.
grep -q "^1,$ID_D,.*,added,$env_sha,$MNT/app/extra-tool," "$R/drift.csv" || fail "drift.csv lacks extra-tool: $(cat "$R/drift.csv")"
grep -q "^1,$ID_D,.*,removed,$run_sha,$MNT/app/run.sh," "$R/drift.csv" || fail "drift.csv lacks run.sh: $(cat "$R/drift.csv")"
[[ $(grep -c "^1," "$R/drift.csv") -eq 2 ]] || fail "drift.csv: $(cat "$R/drift.csv")"
grep -qF "$MNT/app/extra-tool" "$R/fleet-report.html" || fail "the page does not show the drift"

log "maintenance by engineer, blocks by terminal and digest"
# One session in each of the 4 terminals' logs (copies of one seed log). newtool is learned
# from its exec, and also from its write when lockd could still see the writing process (cp
# may have exited before lockd read /proc: docs/threat-model.md), so once or twice per log.
grep -q '^"FE fe",[0-9a-f]*,"ACME ATM Services",4,4,4,0,0,0,[48],' "$R/engineers.csv" ||
  fail "engineers.csv: $(cat "$R/engineers.csv")"
[[ $(grep -c ',maintenance_finish,.*,2,1,1,0,0,[12].$' "$R/sessions.csv") -eq 4 ]] || fail "sessions.csv: $(cat "$R/sessions.csv")"
foreign_sha=$(sha256sum "$MNT/foreign" | cut -d' ' -f1)
dropper_sha=$(sha256sum "$MNT/dropper" | cut -d' ' -f1)
grep -q "^$foreign_sha,8,0,4," "$R/blocks_by_digest.csv" || fail "blocks_by_digest.csv: $(cat "$R/blocks_by_digest.csv")"
grep -q "^$dropper_sha,4,0,4," "$R/blocks_by_digest.csv" || fail "blocks_by_digest.csv: $(cat "$R/blocks_by_digest.csv")"
grep -q "^$new_sha,0,8,4," "$R/blocks_by_digest.csv" || fail "blocks_by_digest.csv: $(cat "$R/blocks_by_digest.csv")"
[[ $(grep -c ",3,2,3," "$R/blocks_by_terminal.csv") -eq 4 ]] || fail "blocks_by_terminal.csv: $(cat "$R/blocks_by_terminal.csv")"

log "good bundles only: exit 0; a non-empty --out is refused"
"$LOCKCTL" fleet report "$B/atm-a.tar" "$B/atm-b" "$B/atm-c.tar" "$B/atm-d.tar" \
  --trust "$T/export-trust" --out "$T/report2" >"$T/fleet2.out" 2>&1 || fail "good bundles: exit $?: $(cat "$T/fleet2.out")"
grep -q '4 read, 4 verified, 0 failed' "$T/fleet2.out" || fail "good bundles: $(cat "$T/fleet2.out")"
rc=0
"$LOCKCTL" fleet report "$B" --trust "$T/export-trust" --out "$R" >/dev/null 2>"$T/fleet3.err" || rc=$?
[[ $rc -eq 2 ]] || fail "an existing report dir: exit $rc"
grep -q "exists and is not empty" "$T/fleet3.err" || fail "$(cat "$T/fleet3.err")"

finish
