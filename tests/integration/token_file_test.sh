#!/usr/bin/env bash
# File token on a real (loop-mounted vfat, or ext4) USB stick image: lockctl token create, automatic
# discovery through /proc/self/mountinfo under /media, show, check (wrong passphrase, trusted
# or not), sign a challenge whose signature an independent reimplementation of the documented
# format verifies, and the stick pulled out. /media is a tmpfs inside the test's private mount
# namespace; nothing outside it is touched.
source "$(dirname "$0")/lib.sh"

PASS="field-engineer-passphrase"
mkdir -p /media
mount -t tmpfs -o size=16m tmpfs /media
MOUNTS+=(/media)
mkdir -p /media/fe/FE-STICK
truncate -s 32M "$T/stick.img"
# USB sticks are usually vfat; kernels without vfat (some CI VMs) get ext4 instead: what is
# tested is finding the mount, not the filesystem.
fstype=ext4
grep -qw vfat /proc/filesystems && fstype=vfat
if [[ $fstype == vfat ]]; then
  mkfs.vfat -n FE-STICK "$T/stick.img" >/dev/null
else
  mkfs.ext4 -q -F -L FE-STICK "$T/stick.img"
fi
dev=$(losetup --find --show "$T/stick.img")
LOOPDEVS+=("$dev")
mount -t "$fstype" "$dev" /media/fe/FE-STICK
log "stick image: $fstype on $dev"
MOUNTS+=(/media/fe/FE-STICK)
STICK=/media/fe/FE-STICK/LOCKD-TOKEN

log "token create on the stick"
out=$("$LOCKCTL" token create --out "$STICK" --holder "Hanako Suzuki" --org "ACME ATM Services" \
  --not-after 2030-12-31 --passphrase-fd 3 --public-out "$T/fe1.pem" 3<<<"$PASS") ||
  fail "token create exited $?"
echo "$out" | grep -q "^created token [0-9a-f]\{32\} in $STICK$" || fail "create output: $out"
key_id=$(echo "$out" | sed -n 's/^key id: *\([0-9a-f]\{64\}\) (ecdsa-p256)$/\1/p')
[[ -n $key_id ]] || fail "no key id printed"
for f in token.conf key.pem public.pem; do [[ -f $STICK/$f ]] || fail "$f missing on the stick"; done
grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$STICK/key.pem" || fail "key.pem is not encrypted"
cmp -s "$STICK/public.pem" "$T/fe1.pem" || fail "--public-out differs from public.pem"

log "create refuses to overwrite and refuses a short passphrase"
if err=$("$LOCKCTL" token create --out "$STICK" --holder X --org Y --not-after 2030-01-01 \
  --passphrase-fd 3 3<<<"$PASS" 2>&1); then fail "overwrote a token"; fi
[[ $err == *"exists and is not empty"* ]] || fail "overwrite message: $err"
if err=$("$LOCKCTL" token create --out "$T/short" --holder X --org Y --not-after 2030-01-01 \
  --passphrase-fd 3 3<<<"short" 2>&1); then fail "accepted a short passphrase"; fi
[[ $err == *"passphrase shorter than 8"* ]] || fail "short passphrase message: $err"

log "the stick is found by itself"
unset LOCKD_TOKEN_SEARCH_ROOTS
found=$("$LOCKCTL" token find) || fail "token find exited $?"
[[ $found == "$STICK" ]] || fail "token find printed '$found'"
show=$("$LOCKCTL" token show) || fail "token show exited $?"
grep -q "^holder: *Hanako Suzuki$" <<<"$show" || fail "show: $show"
grep -q "^key id: *$key_id" <<<"$show" || fail "show key id: $show"

log "wrong passphrase"
mkdir -p "$T/trust" "$T/other-trust"
cp "$T/fe1.pem" "$T/trust/fe1.pem"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkey -pubout -out "$T/other-trust/other.pem"
rc=0
err=$("$LOCKCTL" token check --passphrase-fd 3 --trust "$T/trust" 3<<<"wrong-passphrase" 2>&1) || rc=$?
[[ $rc -eq 2 ]] || fail "wrong passphrase: exit $rc"
[[ $err == *"file token $STICK"*"wrong passphrase"* ]] || fail "wrong passphrase message: $err"

log "right passphrase: trusted here, not trusted there"
out=$("$LOCKCTL" token check --passphrase-fd 3 --trust "$T/trust" 3<<<"$PASS") || fail "check exited $?"
grep -q "^signing: *ok$" <<<"$out" || fail "check: $out"
grep -q "^trusted by: *$T/trust: yes$" <<<"$out" || fail "check trust: $out"
rc=0
out=$("$LOCKCTL" token check --passphrase-fd 3 --trust "$T/other-trust" 3<<<"$PASS") || rc=$?
[[ $rc -eq 1 ]] || fail "untrusted token: exit $rc"
grep -q "trusted by: .*: NO$" <<<"$out" || fail "untrusted check: $out"

log "sign a challenge; the documented format verifies independently"
now=$(date +%s)
cat >"$T/challenge.txt" <<CH
lockd-challenge-v1
nonce: $(openssl rand -hex 32)
terminal: 0123456789abcdef0123456789abcdef
act: maintenance_start
argument: 60
issued-at: $now
expires-at: $((now + 300))
CH
"$LOCKCTL" token sign --challenge "$T/challenge.txt" --out "$T/auth.txt" --passphrase-fd 3 \
  3<<<"$PASS" 2>"$T/sign.err" || fail "token sign exited $?: $(cat "$T/sign.err")"
grep -q "^holder: Hanako Suzuki$" "$T/auth.txt" || fail "authorization lacks the holder"
grep -q "^key-id: $key_id$" "$T/auth.txt" || fail "authorization lacks the key id"
$PYTHON "$LOCKD_SOURCE_DIR/tests/integration/token_verify.py" "$T/auth.txt" "$T/fe1.pem" >/dev/null ||
  fail "authorization signature does not verify with openssl"
sed -i 's/^holder: .*/holder: Mallory/' "$T/auth.txt"
if $PYTHON "$LOCKD_SOURCE_DIR/tests/integration/token_verify.py" "$T/auth.txt" "$T/fe1.pem" >/dev/null; then
  fail "a tampered authorization still verifies"
fi
sed -i 's/^act: .*/act: make_coffee/' "$T/challenge.txt"
rc=0
err=$("$LOCKCTL" token sign --challenge "$T/challenge.txt" --passphrase-fd 3 3<<<"$PASS" 2>&1) || rc=$?
[[ $rc -eq 2 && $err == *"$T/challenge.txt:4: unknown act \"make_coffee\""* ]] ||
  fail "bad challenge: exit $rc: $err"

log "the stick pulled out"
umount /media/fe/FE-STICK
rc=0
"$LOCKCTL" token find >/dev/null || rc=$?
[[ $rc -eq 1 ]] || fail "token find without a stick: exit $rc"
rc=0
err=$("$LOCKCTL" token show 2>&1) || rc=$?
[[ $rc -eq 2 && $err == *"no token found: no LOCKD-TOKEN folder on removable media under /media"* ]] ||
  fail "no stick: exit $rc: $err"

finish
