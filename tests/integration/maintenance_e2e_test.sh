#!/usr/bin/env bash
# The field engineer's whole maintenance visit, end to end, on a sandbox (tmpfs in a private
# mount namespace), with both kinds of token:
#   baseline -> enforce -> foreign binary denied -> maintenance start with the token ->
#   "install" a new binary -> maintenance finish --yes -> the new binary runs in enforce, an
#   unrelated foreign binary is still denied -> generation went up by one.
# First with a file token (passphrase on a descriptor), then again with a PKCS#11 token
# (SoftHSM2), whose key is made an anchor on the running terminal with `lockctl trust add`
# authorized by the file token.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/maintenance_lib.sh"
engineer_login  # the test acts as the field engineer: what it writes is the session's
out=""  # set by expect_rc

make_file_token fe
make_pkcs11_token
new_key signer
mkdir -p "$T/trust"
cp "$T/keys/signer.pub.pem" "$T/trust/signer.pem"
cp "$T/keys/fe.token.pem" "$T/trust/fe.pem"
setup_terminal --key "$T/keys/signer.pem"
start_lockd
FT=(--token "$FILE_TOKEN" --passphrase-fd 3)
CT=(--token "$CARD_URI" --pin-fd 3)

log "baseline in enforce: allowlisted runs, foreign denied"
expect_runs "$MNT/app/good"
expect_denied "$MNT/foreign"
[[ $(db_generation) == 1 ]] || fail "initial generation $(db_generation)"

log "maintenance start with the file token"
expect_rc 0 out mctl maintenance start --minutes 30 "${FT[@]}" 3<<<"$PASS"
log "start said: $out"
expect_rc 0 out mctl maintenance status
log "status: $(head -n 3 <<<"$out" | tr '\n' ' ')"
[[ $(status_field mode) == maintenance ]] || fail "mode in the window: $(status_field mode)"

log "install the update: a new program and a changed script"
cp /usr/bin/whoami "$MNT/app/newtool"
printf '#!/bin/sh\necho v2\n' >"$MNT/app/run.sh"
expect_runs "$MNT/app/newtool"  # the window allows it (and learns it)

log "maintenance finish --yes with the file token"
expect_rc 0 out mctl maintenance finish --yes "${FT[@]}" 3<<<"$PASS"
printf '%s\n' "$out" >"$T/finish1.out"
grep -q "^changes: 1 added, 0 removed, 1 changed, 1 unchanged$" <<<"$out" || fail "diff counts: $out"
grep -q "^  + $MNT/app/newtool  (elf-exec, " <<<"$out" || fail "diff lacks newtool: $out"
grep -q "^  ~ $MNT/app/run.sh  (sha256 " <<<"$out" || fail "diff lacks run.sh: $out"
grep -q "^finished: generation 2 installed, back to enforce$" <<<"$out" || fail "finish: $out"
grep -q "foreign" <<<"$out" && fail "the foreign binary (outside the roots) got into the diff: $out"
[[ ! -e $T/state/staging/allowlist.lockdb.new ]] || fail "staging file left behind"

log "back in enforce with generation 2"
[[ $(db_generation) == 2 ]] || fail "generation after finish: $(db_generation)"
[[ $(status_field mode) == enforce ]] || fail "mode after finish: $(status_field mode)"
expect_runs "$MNT/app/newtool"
expect_runs "$MNT/app/good"
expect_denied "$MNT/foreign"
cp /usr/bin/uname "$MNT/app/intruder"  # dropped in after the window: not allowlisted
expect_denied "$MNT/app/intruder"
rm -f "$MNT/app/intruder"
[[ $(status_field database signer) == $(key_id "$T/keys/fe.token.pem") ]] ||
  fail "generation 2 not signed by the file token"

log "trust add: the card's key becomes an anchor, authorized by the file token"
expect_rc 0 out mctl trust add "$T/keys/card.token.pem" "${FT[@]}" 3<<<"$PASS"
[[ -n $(grep -l "$(sed -n 2p "$T/keys/card.token.pem")" "$T"/trust/*.pem) ]] ||
  fail "card key not in the trust dir: $(ls "$T/trust")"

log "second visit with the PKCS#11 token"
expect_rc 0 out mctl maintenance start "${CT[@]}" 3<<<"$PIN"
cp /usr/bin/date "$MNT/app/tool2"
rm "$MNT/app/good"
expect_runs "$MNT/app/tool2"
expect_rc 0 out mctl maintenance finish --yes "${CT[@]}" 3<<<"$PIN"
grep -q "^changes: 1 added, 1 removed, 0 changed, 2 unchanged$" <<<"$out" || fail "diff 2: $out"
grep -q "^  - $MNT/app/good  (elf-exec, " <<<"$out" || fail "diff 2 lacks the removal: $out"
[[ $(db_generation) == 3 ]] || fail "generation after the card's finish: $(db_generation)"
[[ $(status_field mode) == enforce ]] || fail "mode after the card's finish: $(status_field mode)"
[[ $(status_field database signer) == $(key_id "$T/keys/card.token.pem") ]] ||
  fail "generation 3 not signed by the card"
expect_runs "$MNT/app/tool2"
expect_runs "$MNT/app/newtool"
expect_denied "$MNT/foreign"
cp /usr/bin/true "$MNT/good-again"  # the removed program's content, elsewhere: no longer allowed
expect_denied "$MNT/good-again"

log "maintenance abort: a window closed without a new database"
expect_rc 0 out mctl maintenance start --minutes 5 "${CT[@]}" 3<<<"$PIN"
cp /usr/bin/uname "$MNT/app/abandoned"
expect_rc 0 out mctl maintenance abort "${CT[@]}" 3<<<"$PIN"
[[ $(status_field mode) == enforce ]] || fail "mode after abort: $(status_field mode)"
[[ $(db_generation) == 3 ]] || fail "abort changed the generation: $(db_generation)"
expect_denied "$MNT/app/abandoned"

finish
