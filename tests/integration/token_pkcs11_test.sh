#!/usr/bin/env bash
# PKCS#11 token through lockctl, for real: SoftHSM2 (store in the test's temp dir), an EC
# P-256 key generated on the token by pkcs11-tool, then lockctl token show / check (wrong PIN,
# PIN from a file descriptor and from the URI's pin-source) / sign, and the signature checked
# against the token's public key by an independent reimplementation of the documented format.
source "$(dirname "$0")/lib.sh"

MODULE=/usr/lib/softhsm/libsofthsm2.so
[[ -f $MODULE ]] || { log "SKIP: $MODULE missing (installer/deps.sh installs softhsm2)"; exit 77; }
PIN=135790
mkdir -p "$T/softhsm/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
  "$T/softhsm/tokens" >"$T/softhsm/softhsm2.conf"
export SOFTHSM2_CONF="$T/softhsm/softhsm2.conf"
softhsm2-util --init-token --free --label fe-card --so-pin 87654321 --pin "$PIN" >/dev/null
pkcs11-tool --module "$MODULE" --token-label fe-card --login --pin "$PIN" \
  --keypairgen --key-type EC:prime256v1 --label lockd-sign --id 01 >/dev/null 2>&1 ||
  fail "pkcs11-tool keypairgen"
pkcs11-tool --module "$MODULE" --token-label fe-card --read-object --type pubkey --id 01 \
  -o "$T/pub.der" >/dev/null 2>&1 || fail "pkcs11-tool read public key"
openssl pkey -pubin -inform DER -in "$T/pub.der" -out "$T/card.pem" || fail "public key to PEM"
URI="pkcs11:token=fe-card;object=lockd-sign?module-path=$MODULE"

log "show with the PIN on a file descriptor"
out=$("$LOCKCTL" token show --token "$URI" --pin-fd 3 3<<<"$PIN") || fail "show exited $?"
grep -q '^token: *PKCS#11 token "fe-card" key "lockd-sign"' <<<"$out" || fail "show: $out"
grep -q '(ecdsa-p256)$' <<<"$out" || fail "show key type: $out"

log "wrong PIN"
rc=0
err=$("$LOCKCTL" token check --token "$URI" --pin-fd 3 3<<<"000000" 2>&1) || rc=$?
[[ $rc -eq 2 && $err == *'PKCS#11 token "fe-card": login: wrong PIN (CKR_PIN_INCORRECT)'* ]] ||
  fail "wrong PIN: exit $rc: $err"

log "a PIN in the URI is refused"
rc=0
err=$("$LOCKCTL" token check --token "$URI&pin-value=$PIN" 2>&1) || rc=$?
[[ $rc -eq 2 && $err == *"pin-value is refused"* ]] || fail "pin-value: exit $rc: $err"

log "PIN from pin-source; trusted"
printf '%s\n' "$PIN" >"$T/pin"
chmod 600 "$T/pin"
mkdir -p "$T/trust"
cp "$T/card.pem" "$T/trust/"
out=$("$LOCKCTL" token check --token "$URI&pin-source=file:$T/pin" --trust "$T/trust") ||
  fail "check with pin-source exited $?"
grep -q "^signing: *ok$" <<<"$out" || fail "check: $out"
grep -q "^trusted by: .*: yes$" <<<"$out" || fail "check trust: $out"

log "sign a challenge on the token; verify it independently"
now=$(date +%s)
cat >"$T/challenge.txt" <<CH
lockd-challenge-v1
nonce: $(openssl rand -hex 32)
terminal: 0123456789abcdef0123456789abcdef
act: db_install
argument: $(printf '%064d' 0)
issued-at: $now
expires-at: $((now + 300))
CH
"$LOCKCTL" token sign --token "$URI" --pin-fd 3 --challenge "$T/challenge.txt" \
  --out "$T/auth.txt" 3<<<"$PIN" 2>"$T/sign.err" || fail "sign exited $?: $(cat "$T/sign.err")"
grep -q "^holder: fe-card$" "$T/auth.txt" || fail "authorization holder: $(cat "$T/auth.txt")"
$PYTHON "$LOCKD_SOURCE_DIR/tests/integration/token_verify.py" "$T/auth.txt" "$T/card.pem" >/dev/null ||
  fail "token signature does not verify with openssl"
sed -i 's/^argument: .*/argument: '"$(printf '%064d' 1)"'/' "$T/auth.txt"
if $PYTHON "$LOCKD_SOURCE_DIR/tests/integration/token_verify.py" "$T/auth.txt" "$T/card.pem" >/dev/null; then
  fail "an authorization with a changed argument still verifies"
fi

finish
