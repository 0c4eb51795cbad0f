# shellcheck shell=bash disable=SC2034  # (variables used by the scripts that source this)
# Shared by the fleet report tests and tests/bench/fleet_bench.sh (sourced after lib.sh and
# maintenance_lib.sh): one real terminal history, then as many "terminals" as wanted, each with
# its own terminal id, database and copy of the log, exported with the real `lockctl export`
# and signed with the auditors' file token.

# fleet_seed: a real run on the sandbox terminal. Tokens: "fe" (the field engineer, a trust
# anchor of the terminal) and "auditor" (signs the exports; its key alone is in
# $T/export-trust). lockd enforces the generation-1 baseline ($MNT/app), denies
# $MNT/foreign and $MNT/dropper, a maintenance window with the fe token adds
# $MNT/app/newtool (generation 2, signed by fe), $MNT/foreign is denied again; lockd is
# stopped. Leaves $T/allowlist.lockdb (generation 2), $T/gen1.lockdb and the real log in
# $T/log/.
fleet_seed() {
  engineer_login  # the test acts as the field engineer: what it installs is the session's
  make_file_token fe
  FILE_TOKEN_FE=$FILE_TOKEN
  make_file_token auditor
  FILE_TOKEN_AUDITOR=$FILE_TOKEN
  mkdir -p "$T/export-trust"
  cp "$T/keys/auditor.token.pem" "$T/export-trust/auditor.pem"
  new_key signer
  mkdir -p "$T/trust"
  cp "$T/keys/signer.pub.pem" "$T/trust/signer.pem"
  cp "$T/keys/fe.token.pem" "$T/trust/fe.pem"
  setup_terminal --key "$T/keys/signer.pem"
  cp "$T/allowlist.lockdb" "$T/gen1.lockdb"
  cp /usr/bin/uname "$MNT/dropper"
  start_lockd
  expect_denied "$MNT/foreign"
  expect_denied "$MNT/dropper"
  mctl maintenance start --minutes 30 --token "$FILE_TOKEN_FE" --passphrase-fd 3 3<<<"$PASS" \
    >"$T/mstart.out" 2>&1 || fail "maintenance start: $(cat "$T/mstart.out")"
  cp /usr/bin/whoami "$MNT/app/newtool"
  expect_runs "$MNT/app/newtool"
  mctl maintenance finish --yes --token "$FILE_TOKEN_FE" --passphrase-fd 3 3<<<"$PASS" \
    >"$T/mfinish.out" 2>&1 || fail "maintenance finish: $(cat "$T/mfinish.out")"
  expect_denied "$MNT/foreign"
  # The second denial of foreign may be counted in a repeat record, which lockd writes 10 s
  # after it or at stop: wait for the two full deny records, then stop and count all three.
  for _ in $(seq 100); do
    [[ $(grep -c '"type":"deny"' "$T/log/audit.jsonl" 2>/dev/null || true) -ge 2 ]] && break
    sleep 0.1
  done
  stop_lockd
  [[ $(audit_denials "$T/log/audit.jsonl" deny) -eq 3 ]] ||
    fail "the seed log accounts for $(audit_denials "$T/log/audit.jsonl" deny) denials, expected 3"
  [[ $(grep -c '"type":"maintenance_finish"' "$T/log/audit.jsonl") -eq 1 ]] ||
    fail "the seed log has no maintenance_finish"
}

# fleet_terminal NAME ID DB [LOG]: a terminal in $T/terminals/NAME whose terminal id is ID,
# database a copy of DB and audit log a copy of LOG (default: the seed log).
fleet_terminal() {
  local dir=$T/terminals/$1
  mkdir -p "$dir/state" "$dir/log"
  printf '%s\n' "$2" >"$dir/state/terminal-id"
  cp "$3" "$dir/allowlist.lockdb"
  cp "${4:-$T/log/audit.jsonl}" "$dir/log/audit.jsonl"
  cat >"$dir/lockd.toml" <<TOML
database = "$dir/allowlist.lockdb"
trust_dir = "$T/trust"
state_dir = "$dir/state"
control_socket = "$dir/no-daemon.sock"
audit_log = "$dir/log/audit.jsonl"
syslog_facility = "none"
TOML
}

# fleet_export NAME OUT [TOKEN]: `lockctl export` of terminal NAME to OUT (a directory, or a
# .tar file), signed with TOKEN (default: the auditor's).
fleet_export() {
  local token=${3:-$FILE_TOKEN_AUDITOR}
  "$LOCKCTL" export --config "$T/terminals/$1/lockd.toml" --out "$2" --token "$token" \
    --passphrase-fd 3 3<<<"$PASS" >"$T/export-$1.out" 2>&1 ||
    { fail "export of $1 exited $?: $(cat "$T/export-$1.out")"; return 1; }
}

# fleet_drift_db OUT: a database of generation 2 signed by the terminal's signer key, built
# from the baseline with $MNT/app/extra-tool added and $MNT/app/run.sh left out.
fleet_drift_db() {
  local image=$T/drift-root$MNT/app  # the image's paths are the terminal's after --strip-prefix
  mkdir -p "$image"
  cp -a "$MNT/app/." "$image/"
  rm "$image/run.sh"
  cp /usr/bin/env "$image/extra-tool"
  "$LOCKCTL" db build --root "$image" --strip-prefix "$T/drift-root" --out "$1" --generation 2 \
    --mode enforce "${WATCH_ARGS[@]}" --key "$T/keys/signer.pem" >"$T/drift-build.log" 2>&1 ||
    fail "drift db build: $(cat "$T/drift-build.log")"
}
