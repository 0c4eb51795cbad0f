#!/usr/bin/env bash
# Every way a privileged act is refused, through lockctl and a running lockd, and what the
# engineer sees: wrong passphrase, wrong PIN, expired token, unknown key, a replayed
# authorization, an authorization made for another terminal, a tampered database on the stick
# (db install refuses it before asking for the token); then the golden-image flow (db build
# --token on the "workstation", db install on the terminal) and key rotation (trust add, trust
# retire, retiring the last anchor refused). After every refusal the terminal is still in
# enforce with the same database.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/maintenance_lib.sh"
out=""  # set by expect_rc

make_pkcs11_token
make_file_token stranger
make_file_token expired 2020-01-31
make_file_token fe
mkdir -p "$T/trust"
cp "$T/keys/fe.token.pem" "$T/trust/fe.pem"
cp "$T/keys/expired.token.pem" "$T/trust/expired.pem"
cp "$T/keys/card.token.pem" "$T/trust/card.pem"
# The database is signed by the file token itself (db build --token).
setup_terminal --token "$FILE_TOKEN" --passphrase-fd 3 3<<<"$PASS"
start_lockd
FT=(--token "$FILE_TOKEN" --passphrase-fd 3)
FE_ID=$(key_id "$T/keys/fe.token.pem")
cp "$T/allowlist.lockdb" "$T/gen1.lockdb"

still_locked() {  # the terminal is unchanged after a refusal
  [[ $(status_field mode) == enforce ]] || fail "$1: mode $(status_field mode)"
  [[ $(db_generation) == 1 ]] || fail "$1: generation $(db_generation)"
  cmp -s "$T/allowlist.lockdb" "$T/gen1.lockdb" || fail "$1: database file changed"
}

log "wrong passphrase: the token does not open; nothing is sent"
expect_rc 2 out mctl maintenance start "${FT[@]}" 3<<<"not-the-passphrase"
[[ $out == *"file token $FILE_TOKEN"*"wrong passphrase"* ]] || fail "wrong passphrase: $out"
log "  -> $out"
still_locked "wrong passphrase"

log "wrong PIN"
expect_rc 2 out mctl maintenance start --token "$CARD_URI" --pin-fd 3 3<<<"000000"
[[ $out == *'PKCS#11 token "fe-card": login: wrong PIN (CKR_PIN_INCORRECT)'* ]] || fail "wrong PIN: $out"
log "  -> $out"
still_locked "wrong PIN"

log "expired token (trusted key, not-after 2020-01-31)"
expect_rc 1 out mctl maintenance start --token "$T/stick-expired/LOCKD-TOKEN" --passphrase-fd 3 3<<<"$PASS"
[[ $out == *"refused by lockd: authorization refused: token expired"* ]] || fail "expired: $out"
log "  -> $out"
still_locked "expired token"

log "unknown key (a token this terminal does not trust)"
expect_rc 1 out mctl maintenance start --token "$T/stick-stranger/LOCKD-TOKEN" --passphrase-fd 3 3<<<"$PASS"
[[ $out == *"refused by lockd: authorization refused: unknown key"* ]] || fail "unknown key: $out"
log "  -> $out"
still_locked "unknown key"

log "replay: the same authorization sent twice"
raw_request <(printf 'challenge maintenance_start 30\n') >"$T/ch.reply"
[[ $(head -n 1 "$T/ch.reply") == ok ]] || fail "challenge: $(cat "$T/ch.reply")"
tail -n +2 "$T/ch.reply" >"$T/ch.txt"
"$LOCKCTL" token sign --challenge "$T/ch.txt" --out "$T/auth.txt" "${FT[@]}" 3<<<"$PASS" 2>/dev/null ||
  fail "token sign"
{ echo maintenance-start; cat "$T/auth.txt"; } >"$T/start.req"
reply=$(raw_request "$T/start.req")
[[ $(head -n 1 <<<"$reply") == ok ]] || fail "first use of the authorization: $reply"
[[ $(status_field mode) == maintenance ]] || fail "not in maintenance after the first use"
expect_rc 0 out mctl maintenance abort "${FT[@]}" 3<<<"$PASS"
reply=$(raw_request "$T/start.req")
[[ $(head -n 1 <<<"$reply") == refused && $reply == *"authorization refused: replay"* ]] ||
  fail "replayed authorization: $reply"
log "  -> $(tail -n +2 <<<"$reply")"
still_locked "replay"

log "wrong terminal: lockd's challenge signed for another terminal id"
raw_request <(printf 'challenge maintenance_start 30\n') | tail -n +2 >"$T/ch2.txt"
sed -i 's/^terminal: .*/terminal: 0123456789abcdef0123456789abcdef/' "$T/ch2.txt"
"$LOCKCTL" token sign --challenge "$T/ch2.txt" --out "$T/auth2.txt" "${FT[@]}" 3<<<"$PASS" 2>/dev/null ||
  fail "token sign 2"
reply=$(raw_request <(echo maintenance-start; cat "$T/auth2.txt"))
[[ $(head -n 1 <<<"$reply") == refused && $reply == *"authorization refused: wrong terminal"* ]] ||
  fail "wrong terminal: $reply"
log "  -> $(tail -n +2 <<<"$reply")"
still_locked "wrong terminal"

log "golden image: built and signed with the token on the workstation"
mkdir -p "$T/image/app"
cp /usr/bin/true "$T/image/app/good"
cp /usr/bin/whoami "$T/image/app/golden"
expect_rc 0 out "$LOCKCTL" db build --root "$T/image/app" --strip-prefix "$T/image" \
  "${WATCH_ARGS[@]}" --generation 5 --out "$T/stick-fe/golden.lockdb" "${FT[@]}" 3<<<"$PASS"
[[ $out == *"signed by $FE_ID (ecdsa-p256) on file token $FILE_TOKEN"* ]] || fail "db build --token: $out"

log "tampered database on the stick: refused before the token is asked"
cp "$T/stick-fe/golden.lockdb" "$T/stick-fe/tampered.lockdb"
size=$(stat -c %s "$T/stick-fe/tampered.lockdb")
printf '\x01' | dd of="$T/stick-fe/tampered.lockdb" bs=1 seek=$((size / 2)) conv=notrunc status=none
# No --passphrase-fd and no terminal: asking for the passphrase would fail differently.
expect_rc 1 out mctl db install "$T/stick-fe/tampered.lockdb" --token "$FILE_TOKEN" </dev/null
[[ $out == *"db install: refused, not installed: $T/stick-fe/tampered.lockdb: "* ]] || fail "tampered: $out"
[[ $out == *"assphrase"* ]] && fail "tampered: the passphrase was asked: $out"
log "  -> $out"
still_locked "tampered database"

log "golden image installed"
expect_rc 0 out mctl db install "$T/stick-fe/golden.lockdb" "${FT[@]}" 3<<<"$PASS"
log "  -> $out"
[[ $(db_generation) == 5 ]] || fail "generation after db install: $(db_generation)"
mkdir -p "$MNT/app"
cp /usr/bin/whoami "$MNT/app/golden"
expect_runs "$MNT/app/golden"
expect_denied "$MNT/foreign"
[[ ! -e $T/state/staging/install.lockdb ]] || fail "install staging file left behind"
log "the same (older) file again: refused by lockd's rollback check"
expect_rc 1 out mctl db install "$T/stick-fe/golden.lockdb" "${FT[@]}" 3<<<"$PASS"
log "  -> $out"

log "key rotation: trust add, list, retire"
new_key newfe
NEW_ID=$(key_id "$T/keys/newfe.pub.pem")
mkdir -p "$T/FE STICK"  # a stick label with a space: the path reaches lockd as a staged copy
cp "$T/keys/newfe.pub.pem" "$T/FE STICK/new fe.pem"
expect_rc 0 out mctl trust add "$T/FE STICK/new fe.pem" "${FT[@]}" 3<<<"$PASS"
log "  -> $out"
expect_rc 0 out mctl trust list
grep -q "^$NEW_ID  ecdsa-p256  " <<<"$out" || fail "trust list lacks the new key: $out"
log "trust add by an untrusted token: refused"
new_key other
expect_rc 1 out mctl trust add "$T/keys/other.pub.pem" --token "$T/stick-stranger/LOCKD-TOKEN" \
  --passphrase-fd 3 3<<<"$PASS"
[[ $out == *"authorization refused: unknown key"* ]] || fail "trust add by a stranger: $out"
expect_rc 0 out mctl trust retire "$NEW_ID" "${FT[@]}" 3<<<"$PASS"
log "  -> $out"
expect_rc 0 out mctl trust list
grep -q "^$NEW_ID " <<<"$out" && fail "retired key still listed: $out"
expect_rc 2 out mctl trust retire not-a-key-id "${FT[@]}" 3<<<"$PASS"

log "retiring the last anchor is refused"
for k in expired card; do
  expect_rc 0 out mctl trust retire "$(key_id "$T/keys/$k.token.pem")" "${FT[@]}" 3<<<"$PASS"
done
expect_rc 1 out mctl trust retire "$FE_ID" "${FT[@]}" 3<<<"$PASS"
log "  -> $out"
expect_rc 0 out mctl trust list
grep -q "^$FE_ID " <<<"$out" || fail "the last anchor is gone: $out"

finish
