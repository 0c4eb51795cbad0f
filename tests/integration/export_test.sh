#!/usr/bin/env bash
# The auditor's export from a real terminal: lockd enforces on a tmpfs sandbox and writes
# real deny records (one for a file with a hostile name), then `lockctl export` reads the
# terminal's files (and the daemon's status) and signs the manifest with a file token.
# Checks: the bundle's files; the manifest with sha256sum(1) and the signature with openssl,
# independently of lockctl; `lockctl export verify` with and without --trust; a byte changed,
# a file removed or added, another trust dir, a damaged .tar: each fails naming the file.
source "$(dirname "$0")/lib.sh"

PASS="auditor-export-passphrase"
setup_standard
# A larger allowlisted file, so that the foreign copies of id are hashed and denied as
# not-in-allowlist (a file larger than every allowlisted one is denied unread, 9cbf8ec).
make_db signer "$T/allowlist.lockdb" 1 enforce "$MNT/good" /usr/bin/bash
HOSTILE=$'evil\n=cmd|x,"q"<b>'
cp /usr/bin/id "$MNT/$HOSTILE"

cp /usr/bin/id "$MNT/foreign2"
start_lockd
# Three different files: a second denial of the same file within 10 s would be counted into a
# repeat record (docs/audit-log.md, "Repeats"), written only when its window ends.
expect_denied "$MNT/foreign"
expect_denied "$MNT/foreign2"
expect_denied "$MNT/$HOSTILE"
expect_runs "$MNT/good"
# The audit writer flushes within milliseconds; wait for the three deny records.
for _ in $(seq 100); do
  [[ $(grep -c '"type":"deny"' "$T/log/audit.jsonl" 2>/dev/null || true) -ge 3 ]] && break
  sleep 0.1
done
[[ $(grep -c '"type":"deny"' "$T/log/audit.jsonl") -ge 3 ]] || fail "fewer than 3 deny records in the log"

log "token for signing the export"
"$MAKE_TOKEN" --out "$T/token" --holder "Audit Team" --org "Bank Internal Audit" \
  --not-after 2030-12-31 --passphrase-fd 3 --public-out "$T/exporter.pem" 3<<<"$PASS" >/dev/null ||
  fail "token create exited $?"
mkdir -p "$T/export-trust"
cp "$T/exporter.pem" "$T/export-trust/exporter.pem"
key_id=$(openssl pkey -pubin -in "$T/exporter.pem" -outform DER | sha256sum | cut -d' ' -f1)

log "export while the daemon runs"
out=$("$LOCKCTL" export --out "$T/bundle" --config "$T/lockd.toml" --token "$T/token" \
  --passphrase-fd 3 3<<<"$PASS" 2>"$T/export.err") || fail "export exited $?: $(cat "$T/export.err")"
[[ $out == *"manifest signed by file token $T/token"* ]] || fail "export output: $out"
B=$T/bundle
for f in inventory.csv database.json generations.json maintenance.json blocks.csv chain.json \
  posture.json host.json trust.json status.json report.html allowlist.lockdb signer.pem \
  signer.json MANIFEST.sha256 MANIFEST.sig audit/audit.jsonl; do
  [[ -f $B/$f ]] || fail "bundle lacks $f"
done
good_sha=$(sha256sum "$MNT/good" | cut -d' ' -f1)
grep -q ",$good_sha,elf-exec," "$B/inventory.csv" || fail "inventory.csv lacks the allowlisted file: $(cat "$B/inventory.csv")"
[[ $(grep -c ',deny,not-in-allowlist,enforce,' "$B/blocks.csv") -ge 3 ]] || fail "blocks.csv: $(cat "$B/blocks.csv")"
# The hostile name: escaped in one CSV field, exact in path_hex, escaped in the HTML.
hostile_hex=$(printf '%s' "$MNT/$HOSTILE" | od -An -tx1 | tr -d ' \n')
grep -q "\"$MNT/evil\\\\x0a'*=cmd|x,\"\"q\"\"<b>\",$hostile_hex," "$B/blocks.csv" ||
  fail "hostile path not encoded as expected in blocks.csv: $(grep evil "$B/blocks.csv")"
grep -q "evil\\\\x0a=cmd|x,&quot;q&quot;&lt;b&gt;" "$B/report.html" || fail "hostile path not escaped in report.html"
grep -q "<b>" "$B/report.html" && fail "raw <b> from a file name in report.html"
grep -q '"signature_verified":true' "$B/database.json" || fail "database.json: $(cat "$B/database.json")"
grep -q '"ok":true' "$B/chain.json" || fail "chain.json: $(cat "$B/chain.json")"
grep -q '"schema":"lockd-doctor/1"' "$B/posture.json" || fail "posture.json is not the doctor report"
# The terminal id lives in state_dir/terminal-id once lockd has issued a challenge; the export
# reads it and never creates it.
if [[ -f $T/state/terminal-id ]]; then
  grep -q "\"terminal_id\":\"$(cat "$T/state/terminal-id")\"" "$B/host.json" || fail "host.json: $(cat "$B/host.json")"
else
  grep -q '"terminal_id":null,"terminal_id_error":"' "$B/host.json" || fail "host.json: $(cat "$B/host.json")"
  [[ ! -e $T/state/terminal-id ]] || fail "export created the terminal id"
fi
"$PYTHON" -c 'import json,sys; json.load(open(sys.argv[1]))' "$B/status.json" || fail "status.json is not JSON"
# The head in the bundle is the head `lockctl log verify` reports for the log now.
head_now=$("$LOCKCTL" log verify --log "$T/log/audit.jsonl" --json | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["head_hash"])')
head_bundle=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["head_hash"])' "$B/chain.json")
[[ $head_now == "$head_bundle" ]] || fail "chain head $head_bundle, log verify says $head_now"

log "independent checks: sha256sum -c and openssl"
(cd "$B" && sha256sum --quiet -c MANIFEST.sha256) || fail "sha256sum -c MANIFEST.sha256 failed"
[[ $(wc -l <"$B/MANIFEST.sha256") -eq $(($(find "$B" -type f | wc -l) - 2)) ]] ||
  fail "the manifest does not list every file but itself and the signature"
grep -q "^key-id: $key_id$" "$B/MANIFEST.sig" || fail "MANIFEST.sig key id is not the token's"
{ printf 'lockd-export-v1\0'; cat "$B/MANIFEST.sha256"; } >"$T/signed.bin"
sed -n 's/^signature: //p' "$B/MANIFEST.sig" | "$PYTHON" -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' >"$T/sig.der"
openssl dgst -sha256 -verify "$T/exporter.pem" -signature "$T/sig.der" "$T/signed.bin" >/dev/null ||
  fail "openssl does not verify the manifest signature"

log "export verify"
out=$("$LOCKCTL" export verify "$B" --trust "$T/export-trust" 2>&1) || fail "verify --trust exited $?: $out"
[[ $out == *"signature: valid, by key $key_id, a trust anchor in $T/export-trust"* ]] || fail "verify: $out"
[[ $out == *"log chain: verifies"* ]] || fail "verify chain: $out"
out=$("$LOCKCTL" export verify "$B" 2>&1) || fail "verify exited $?: $out"
[[ $out == *"not checked against trust anchors"* ]] || fail "verify without --trust: $out"

expect_verify_fails() {  # DIR|TAR WHAT-STDERR-MUST-SAY [verify args...]
  local bundle=$1 want=$2 rc=0 err
  shift 2
  err=$("$LOCKCTL" export verify "$bundle" "$@" 2>&1 >/dev/null) || rc=$?
  if [[ $rc -ne 1 ]]; then fail "verify of $bundle: exit $rc, expected 1 ($want): $err"; return 0; fi
  [[ $err == *"$want"* ]] || fail "verify of $bundle: expected '$want' in: $err"
}

log "tampering"
cp -a "$B" "$T/t1"
printf 'Z' | dd of="$T/t1/blocks.csv" bs=1 seek=20 conv=notrunc status=none
expect_verify_fails "$T/t1" "$T/t1: blocks.csv: SHA-256 "
cp -a "$B" "$T/t2"
rm "$T/t2/inventory.csv"
expect_verify_fails "$T/t2" "inventory.csv: missing (listed in MANIFEST.sha256)"
cp -a "$B" "$T/t3"
echo planted >"$T/t3/extra.txt"
expect_verify_fails "$T/t3" "extra.txt: extra file, not listed in MANIFEST.sha256"
cp -a "$B" "$T/t4"
sed -i 's/"seq":2,/"seq":2 ,/' "$T/t4/audit/audit.jsonl"
expect_verify_fails "$T/t4" "audit/audit.jsonl: SHA-256 "
expect_verify_fails "$B" "which is not a trust anchor in $T/trust" --trust "$T/trust"

log "tar output; the system tar reads it"
stop_lockd
"$LOCKCTL" export --out "$T/bundle.tar" --config "$T/lockd.toml" --token "$T/token" \
  --passphrase-fd 3 3<<<"$PASS" >/dev/null 2>"$T/export2.err" || fail "tar export exited $?"
grep -q "daemon did not answer" "$T/export2.err" || fail "no note about the stopped daemon: $(cat "$T/export2.err")"
tar -tf "$T/bundle.tar" >"$T/tar.list" || fail "tar cannot list the bundle"
grep -qx "MANIFEST.sig" "$T/tar.list" || fail "tar list: $(cat "$T/tar.list")"
grep -qx "status.json" "$T/tar.list" && fail "status.json in a bundle taken without a daemon"
"$LOCKCTL" export verify "$T/bundle.tar" --trust "$T/export-trust" >/dev/null || fail "verify of the tar exited $?"
mkdir "$T/untar" && tar -xf "$T/bundle.tar" -C "$T/untar" || fail "tar cannot extract the bundle"
"$LOCKCTL" export verify "$T/untar" --trust "$T/export-trust" >/dev/null || fail "verify of the extracted tar exited $?"
# One byte in the report's data inside the archive.
off=$("$PYTHON" - "$T/bundle.tar" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
pos = 0
while pos + 512 <= len(data) and data[pos:pos + 512] != b'\0' * 512:
    name = data[pos:pos + 100].rstrip(b'\0').decode()
    size = int(data[pos + 124:pos + 136].rstrip(b'\0 ') or b'0', 8)
    if name == 'report.html':
        print(pos + 512 + size // 2)
        break
    pos += 512 + (size + 511) // 512 * 512
PY
)
[[ -n $off ]] || fail "report.html not found in the tar"
cp "$T/bundle.tar" "$T/bad.tar"
printf 'Z' | dd of="$T/bad.tar" bs=1 seek="$off" conv=notrunc status=none
expect_verify_fails "$T/bad.tar" "report.html: SHA-256 " --trust "$T/export-trust"
printf 'Z' | dd of="$T/bad.tar" bs=1 seek=0 conv=notrunc status=none
expect_verify_fails "$T/bad.tar" "header checksum does not match"

rc=0
"$LOCKCTL" export --out "$T/bundle" --config "$T/lockd.toml" >/dev/null 2>&1 || rc=$?
[[ $rc -eq 2 ]] || fail "export over an existing bundle: exit $rc"

finish
