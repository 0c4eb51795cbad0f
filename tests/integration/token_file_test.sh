#!/usr/bin/env bash
# File token on a real (loop-mounted vfat, or ext4) USB stick image: lockctl token create (a
# standard PKCS#8 key with scrypt, as openssl reads it), weak passphrases refused, automatic
# discovery through /proc/self/mountinfo under /media, show, check (wrong passphrase, trusted
# or not), sign a challenge whose signature an independent reimplementation of the documented
# format verifies, token rekey on the stick (and of an old PBKDF2 token, which warns until it
# is rekeyed), and the stick pulled out. /media is a tmpfs inside the test's private mount
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

log "key.pem is standard PKCS#8: PBES2, scrypt N=16384 r=8 p=24, AES-256-CBC; openssl decrypts it"
asn=$(openssl asn1parse -in "$STICK/key.pem") || fail "openssl asn1parse key.pem"
# The scrypt parameters: salt, then N, r, p as INTEGERs (hex).
params=$(awk '/OBJECT *:scrypt/ {on = 1; next} on && /INTEGER/ {sub(/.*:/, ""); printf "%s ", $0} /OBJECT *:aes-256-cbc/ {on = 0}' <<<"$asn")
[[ $asn == *":PBES2"* && $asn == *":aes-256-cbc"* && $params == "4000 08 18 " ]] ||
  fail "key.pem is not PBES2/scrypt N=16384 r=8 p=24: params '$params' in $asn"
openssl pkey -in "$STICK/key.pem" -passin fd:3 -pubout 3<<<"$PASS" 2>"$T/openssl.err" |
  cmp -s - "$T/fe1.pem" || fail "openssl cannot decrypt key.pem: $(cat "$T/openssl.err")"

log "create refuses to overwrite and refuses a short or common passphrase"
if err=$("$LOCKCTL" token create --out "$STICK" --holder X --org Y --not-after 2030-01-01 \
  --passphrase-fd 3 3<<<"$PASS" 2>&1); then fail "overwrote a token"; fi
[[ $err == *"exists and is not empty"* ]] || fail "overwrite message: $err"
if err=$("$LOCKCTL" token create --out "$T/short" --holder X --org Y --not-after 2030-01-01 \
  --passphrase-fd 3 3<<<"eleven char" 2>&1); then fail "accepted a short passphrase"; fi
[[ $err == *"passphrase refused: shorter than 12 characters"* ]] || fail "short passphrase message: $err"
for weak in "Password2024!" "Hanako.Suzuki.1985" "lockdlockdlockd"; do
  if err=$("$LOCKCTL" token create --out "$T/weak" --holder "Hanako Suzuki" --org Y \
    --not-after 2030-01-01 --passphrase-fd 3 3<<<"$weak" 2>&1); then fail "accepted '$weak'"; fi
  [[ $err == "lockctl: token create $T/weak: passphrase refused: "* ]] || fail "'$weak' message: $err"
  [[ ! -e $T/weak ]] || fail "a refused create left $T/weak"
done

log "the stick is found by itself"
unset LOCKD_TOKEN_SEARCH_ROOTS
found=$("$LOCKCTL" token find) || fail "token find exited $?"
[[ $found == "$STICK" ]] || fail "token find printed '$found'"
show=$("$LOCKCTL" token show) || fail "token show exited $?"
grep -q "^holder: *Hanako Suzuki$" <<<"$show" || fail "show: $show"
grep -q "^key id: *$key_id" <<<"$show" || fail "show key id: $show"
grep -q "^key protection: scrypt N=16384 r=8 p=24 (16 MiB), AES-256-CBC$" <<<"$show" ||
  fail "show key protection: $show"

log "wrong passphrase"
mkdir -p "$T/trust" "$T/other-trust"
cp "$T/fe1.pem" "$T/trust/fe1.pem"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkey -pubout -out "$T/other-trust/other.pem"
rc=0
err=$("$LOCKCTL" token check --passphrase-fd 3 --trust "$T/trust" 3<<<"wrong-passphrase" 2>&1) || rc=$?
[[ $rc -eq 2 ]] || fail "wrong passphrase: exit $rc"
[[ $err == *"file token $STICK"*"wrong passphrase"* ]] || fail "wrong passphrase message: $err"

log "right passphrase: trusted here, not trusted there; the unlock costs at least 0.3 s"
start=$(date +%s%N)
out=$("$LOCKCTL" token check --passphrase-fd 3 --trust "$T/trust" 3<<<"$PASS" 2>"$T/check.err") ||
  fail "check exited $?"
took_ms=$((($(date +%s%N) - start) / 1000000))
log "token check took $took_ms ms"
((took_ms >= 300)) || fail "token check took only $took_ms ms: key protection too cheap"
[[ ! -s $T/check.err ]] || fail "check of a new token printed: $(cat "$T/check.err")"
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
cp "$T/challenge.txt" "$T/challenge.ok"
sed -i 's/^act: .*/act: make_coffee/' "$T/challenge.txt"
rc=0
err=$("$LOCKCTL" token sign --challenge "$T/challenge.txt" --passphrase-fd 3 3<<<"$PASS" 2>&1) || rc=$?
[[ $rc -eq 2 && $err == *"$T/challenge.txt:4: unknown act \"make_coffee\""* ]] ||
  fail "bad challenge: exit $rc: $err"

log "token rekey on the stick: wrong current passphrase refused, then a new passphrase"
cp "$STICK/key.pem" "$T/key.before"
rc=0
err=$("$LOCKCTL" token rekey "$STICK" --passphrase-fd 3 --new-passphrase-fd 3 3<<<"wrong-passphrase
another fine passphrase" 2>&1) || rc=$?
[[ $rc -eq 2 && $err == "lockctl: token rekey $STICK: $STICK/key.pem: wrong passphrase"* ]] ||
  fail "rekey with a wrong passphrase: exit $rc: $err"
rc=0
err=$("$LOCKCTL" token rekey "$STICK" --passphrase-fd 3 --new-passphrase-fd 4 3<<<"$PASS" \
  4<<<"qwerty123456" 2>&1) || rc=$?
[[ $rc -eq 2 && $err == *"passphrase refused: "* ]] || fail "rekey to a weak passphrase: exit $rc: $err"
cmp -s "$STICK/key.pem" "$T/key.before" || fail "a refused rekey changed key.pem"
NEWPASS="a stick found on the bus"
out=$("$LOCKCTL" token rekey /media/fe/FE-STICK --passphrase-fd 3 --new-passphrase-fd 4 \
  3<<<"$PASS" 4<<<"$NEWPASS") || fail "rekey exited $?"
grep -q "^re-encrypted $STICK/key.pem$" <<<"$out" || fail "rekey output: $out"
grep -q "^key protection: scrypt N=16384 r=8 p=24 (16 MiB), AES-256-CBC$" <<<"$out" ||
  fail "rekey protection: $out"
! cmp -s "$STICK/key.pem" "$T/key.before" || fail "rekey left key.pem as it was"
[[ ! -e $STICK/key.pem.new ]] || fail "rekey left key.pem.new"
rc=0
"$LOCKCTL" token check --passphrase-fd 3 3<<<"$PASS" >/dev/null 2>&1 || rc=$?
[[ $rc -eq 2 ]] || fail "the old passphrase still opens the rekeyed token (exit $rc)"
log "the rekeyed token signs a challenge that verifies with the unchanged public key"
"$LOCKCTL" token sign --challenge "$T/challenge.ok" --out "$T/auth2.txt" --passphrase-fd 3 \
  3<<<"$NEWPASS" 2>"$T/sign2.err" || fail "sign with the rekeyed token: $(cat "$T/sign2.err")"
$PYTHON "$LOCKD_SOURCE_DIR/tests/integration/token_verify.py" "$T/auth2.txt" "$T/fe1.pem" >/dev/null ||
  fail "the rekeyed token's authorization does not verify with the public key made at create"
grep -q "^key-id: $key_id$" "$T/auth2.txt" || fail "rekey changed the key id"

log "an old PBKDF2 token (lockctl before scrypt) opens with a warning until it is rekeyed"
OLD=/media/fe/FE-STICK/OLD/LOCKD-TOKEN
mkdir -p "$OLD"
cp "$LOCKD_SOURCE_DIR"/tests/tools/token/data/pbkdf2-token/LOCKD-TOKEN/* "$OLD/"
show=$("$LOCKCTL" token show --token "$OLD") || fail "show old token exited $?"
grep -q "^key protection: PBKDF2 hmacWithSHA256, 2048 iterations, AES-256-CBC -- WEAK: run lockctl token rekey$" \
  <<<"$show" || fail "old token show: $show"
"$LOCKCTL" token check --token "$OLD" --passphrase-fd 3 3<<<"old-pbkdf2-passphrase" >/dev/null \
  2>"$T/old.err" || fail "old token check exited $?: $(cat "$T/old.err")"
grep -q "^lockctl: warning: file token $OLD uses weak key protection (PBKDF2 hmacWithSHA256, 2048 iterations, AES-256-CBC).*lockctl token rekey $OLD" \
  "$T/old.err" || fail "no weak-key warning: $(cat "$T/old.err")"
# The same passphrase for both: rekeying only upgrades the protection (it is not a common one).
"$LOCKCTL" token rekey "$OLD" --passphrase-fd 3 --new-passphrase-fd 3 3<<<"old-pbkdf2-passphrase
old-pbkdf2-passphrase" >/dev/null || fail "rekey of the old token exited $?"
"$LOCKCTL" token check --token "$OLD" --passphrase-fd 3 3<<<"old-pbkdf2-passphrase" >/dev/null \
  2>"$T/old.err" || fail "rekeyed old token check exited $?: $(cat "$T/old.err")"
[[ ! -s $T/old.err ]] || fail "the rekeyed old token still warns: $(cat "$T/old.err")"
rm -rf /media/fe/FE-STICK/OLD

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
