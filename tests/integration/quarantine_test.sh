#!/bin/bash
# Forensics without weakening enforcement (issue 15 item 3): a foreign program on a marked
# filesystem is denied and cannot even be copied (cp is refused); `lockctl quarantine` has lockd
# read it and write a 0400 tar holding its bytes (0400, under a non-executable name) and a
# manifest naming the deny record; --remove removes it afterwards; the audit log gets a
# quarantine record and still verifies; symlinks and FIFOs are refused; a non-root user is
# refused; the sample taken out of the archive is still denied.
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs
start_lockd
AUDIT="$T/log/audit.jsonl"
foreign_sha=$(sha256sum /usr/bin/id | cut -d' ' -f1)

expect_denied "$MNT/foreign"
# Even reading it is refused (library coverage: a foreign ELF cannot be opened).
expect_within 10 1 cp "$MNT/foreign" "$T/copied"
[[ ! -s $T/copied ]] || fail "cp copied the foreign program"
for _ in $(seq 100); do grep -q "\"type\":\"deny\".*\"path\":\"$MNT/foreign\"" "$AUDIT" && break; sleep 0.05; done
deny_seq=$(grep "\"type\":\"deny\".*\"path\":\"$MNT/foreign\"" "$AUDIT" | head -n 1 |
  "$PYTHON" -c 'import json,sys; print(json.loads(sys.stdin.readline())["seq"])')
log "deny record seq $deny_seq"

# 1. Quarantine without removing it, into a directory on / (not marked).
mkdir -p "$T/out"
ctl quarantine "$MNT/foreign" --out "$T/out" >"$T/q1.out" 2>"$T/q1.err" ||
  fail "quarantine failed: $(cat "$T/q1.err")"
cat "$T/q1.out" >&2
archive=$(ls "$T"/out/lockd-quarantine-*.tar 2>/dev/null | head -n 1)
[[ -n $archive ]] || fail "no archive in $T/out"
[[ -e $MNT/foreign ]] || fail "the file was removed without --remove"
[[ $(stat -c %a "$archive") == 400 ]] || fail "archive mode $(stat -c %a "$archive"), expected 400"
check_archive() { # check_archive ARCHIVE: members, modes, digest, manifest
  "$PYTHON" - "$1" "$foreign_sha" "$MNT/foreign" "$deny_seq" <<'PY'
import hashlib, json, sys, tarfile
archive, sha, path, seq = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with tarfile.open(archive, "r:") as t:
    names = t.getnames()
    assert sorted(names) == ["manifest.json", "sample.bin"], names
    for m in t.getmembers():
        assert m.isreg() and m.mode == 0o400, (m.name, oct(m.mode))
    sample = t.extractfile("sample.bin").read()
    manifest = json.loads(t.extractfile("manifest.json").read())
assert hashlib.sha256(sample).hexdigest() == sha
assert manifest["sha256"] == sha and manifest["path"] == path, manifest
st = manifest["stat"]
assert st["size"] == len(sample) and st["mode"] == "0755" and st["type"] == "regular", st
assert manifest["first_seen"] and manifest["last_seen"], manifest
records = manifest["deny_records"]
assert any(r["seq"] == seq and r["type"] == "deny" and r["path"] == path and r["sha256"] == sha
           for r in records), records
print("archive ok: %d deny record(s), first seen %s" % (len(records), manifest["first_seen"]),
      file=sys.stderr)
PY
}
check_archive "$archive" && log "ok: archive holds the sample (sha256 $foreign_sha) at 0400 and the manifest names deny seq $deny_seq" ||
  fail "archive content"
grep -q '"type":"quarantine"' "$AUDIT" || { sleep 1; grep -q '"type":"quarantine"' "$AUDIT"; } ||
  fail "no quarantine audit record"

# 2. The sample taken out of the archive is still the same program: still denied.
"$PYTHON" -c 'import sys,tarfile; open(sys.argv[2],"wb").write(tarfile.open(sys.argv[1]).extractfile("sample.bin").read())' \
  "$archive" "$MNT/extracted"
chmod 0755 "$MNT/extracted"
expect_denied "$MNT/extracted"
rm -f "$MNT/extracted"

# 3. Refusals: a symlink, a FIFO, a directory; nothing written.
ln -s "$MNT/foreign" "$MNT/link"
mkfifo "$MNT/fifo"
for bad in "$MNT/link" "$MNT/fifo" "$MNT"; do
  probe 15 "$LOCKCTL" quarantine "$bad" --out "$T/out" --remove --socket "$SOCK"
  [[ $PROBE_RC == 1 && $PROBE_ERR == *refused* ]] && log "ok: $bad refused: $PROBE_ERR" ||
    fail "$bad: exit $PROBE_RC: $PROBE_ERR"
done
[[ -L $MNT/link && -p $MNT/fifo ]] || fail "a refused path was removed"
[[ $(ls "$T/out" | wc -l) == 1 ]] || fail "refusals left files: $(ls -a "$T/out")"

# 4. A non-root user is refused (the socket is root's; lockd checks the peer's uid).
if setpriv --reuid=65534 --regid=65534 --clear-groups "$LOCKCTL" quarantine "$MNT/foreign" \
  --out /tmp --socket "$SOCK" >"$T/nobody.out" 2>&1; then
  fail "quarantine as nobody succeeded: $(cat "$T/nobody.out")"
else
  log "ok: nobody refused: $(head -n 1 "$T/nobody.out")"
fi
ls /tmp/lockd-quarantine-* >/dev/null 2>&1 && fail "an archive appeared in /tmp"

# 5. --remove, into a directory on the marked filesystem (allowed: the archive is not code).
mkdir -p "$MNT/evidence"
ctl quarantine "$MNT/foreign" --out "$MNT/evidence" --remove --json >"$T/q2.json" 2>"$T/q2.err" ||
  fail "quarantine --remove failed: $(cat "$T/q2.err")"
[[ ! -e $MNT/foreign ]] && log "ok: --remove removed the file" || fail "--remove left the file"
archive2=$(ls "$MNT"/evidence/lockd-quarantine-*.tar 2>/dev/null | head -n 1)
[[ -n $archive2 ]] || fail "no archive on the marked filesystem"
check_archive "$archive2" || fail "second archive content"
"$PYTHON" - "$T/q2.json" "$archive2" <<'PY' || fail "reply of quarantine --remove --json"
import hashlib, json, sys
r = json.load(open(sys.argv[1]))
assert r["removed"] is True and r["remove_requested"] is True and r["archive"] == sys.argv[2], r
assert r["archive_sha256"] == hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest(), r
assert r["deny_records"] >= 1
PY

# 6. The audit log: two quarantine records with the digest and the archives; the chain verifies.
for _ in $(seq 40); do (($(grep -c '"type":"quarantine"' "$AUDIT") >= 2)) && break; sleep 0.05; done
"$PYTHON" - "$AUDIT" "$foreign_sha" "$archive" "$archive2" <<'PY' && log "ok: quarantine records in the audit log" || fail "quarantine audit records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if '"type":"quarantine"' in l]
assert len(recs) == 2, recs
assert [r["archive"] for r in recs] == sys.argv[3:5], recs
assert all(r["sha256"] == sys.argv[2] for r in recs)
assert [r["removed"] for r in recs] == ["false", "true"], recs
PY
"$LOCKCTL" log verify --log "$AUDIT" >"$T/verify.out" 2>&1 && log "ok: lockctl log verify passes" ||
  fail "log verify: $(cat "$T/verify.out")"
"$LOCKCTL" log show --log "$AUDIT" --type quarantine >"$T/show.out" 2>&1 || fail "log show --type quarantine"
grep -q quarantine "$T/show.out" || fail "log show does not show the quarantine records"

finish
