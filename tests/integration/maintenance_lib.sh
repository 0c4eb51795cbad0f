# shellcheck shell=bash disable=SC2034  # (variables used by the tests that source this)
# Shared by the maintenance_*_test.sh tests (sourced after lib.sh): tokens of both kinds, a
# terminal whose baseline is $MNT/app, and lockctl talking to this test's lockd through its
# config file (socket, trust dir and state dir all come from $T/lockd.toml).

PASS="field-engineer-passphrase"
PIN=135790
SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so

# engineer_login: makes this test's shell an engineer's login, as pam_loginuid does at a real
# login: every process it starts from now on (lockctl, cp, the programs run) carries one kernel
# audit session id, which lockd takes as the maintenance session (lockd/maintenance/session.h).
# Without it, the session would be only what descends from the process that ran lockctl.
# Exits 77 (skip) on a kernel without audit login sessions.
engineer_login() {
  [[ -e /proc/self/loginuid ]] || { log "SKIP: no /proc/self/loginuid (kernel without audit)"; exit 77; }
  echo 0 2>/dev/null >"/proc/$$/loginuid" ||
    { log "SKIP: cannot start a login session here (loginuid immutable?)"; exit 77; }
}

# mctl ARGS: lockctl with this test's config (60 s at most: a finish scans and signs).
mctl() { timeout 60 "$LOCKCTL" "$@" --config "$T/lockd.toml"; }

# make_file_token NAME [NOT_AFTER]: a file token in $T/stick-NAME/LOCKD-TOKEN with passphrase
# $PASS; its public key in $T/keys/NAME.token.pem (not trusted yet). Sets FILE_TOKEN. Made with
# $MAKE_TOKEN (cheap key protection: these tests unlock tokens dozens of times).
make_file_token() {
  local name=$1 not_after=${2:-2099-12-31}
  mkdir -p "$T/keys" "$T/stick-$name"
  "$MAKE_TOKEN" --out "$T/stick-$name/LOCKD-TOKEN" --holder "FE $name" \
    --org "ACME ATM Services" --not-after "$not_after" --passphrase-fd 3 \
    --public-out "$T/keys/$name.token.pem" 3<<<"$PASS" >/dev/null
  FILE_TOKEN="$T/stick-$name/LOCKD-TOKEN"
}

# make_pkcs11_token: a SoftHSM2 card "fe-card" with an EC P-256 key generated on it, PIN $PIN;
# its public key in $T/keys/card.token.pem. Sets CARD_URI. Exits 77 without SoftHSM2.
make_pkcs11_token() {
  [[ -f $SOFTHSM_MODULE ]] || { log "SKIP: $SOFTHSM_MODULE missing (installer/deps.sh installs softhsm2)"; exit 77; }
  mkdir -p "$T/softhsm/tokens" "$T/keys"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$T/softhsm/tokens" >"$T/softhsm/softhsm2.conf"
  export SOFTHSM2_CONF="$T/softhsm/softhsm2.conf"
  softhsm2-util --init-token --free --label fe-card --so-pin 87654321 --pin "$PIN" >/dev/null
  pkcs11-tool --module "$SOFTHSM_MODULE" --token-label fe-card --login --pin "$PIN" \
    --keypairgen --key-type EC:prime256v1 --label lockd-sign --id 01 >/dev/null 2>&1
  pkcs11-tool --module "$SOFTHSM_MODULE" --token-label fe-card --read-object --type pubkey \
    --id 01 -o "$T/keys/card.der" >/dev/null 2>&1
  openssl pkey -pubin -inform DER -in "$T/keys/card.der" -out "$T/keys/card.token.pem"
  CARD_URI="pkcs11:token=fe-card;object=lockd-sign?module-path=$SOFTHSM_MODULE"
}

# key_id PEM: the key id (SHA-256 of the DER SubjectPublicKeyInfo) of a public key.
key_id() { openssl pkey -pubin -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

# setup_terminal SIGNER_ARGS...: the sandbox terminal.
#   $MNT/app/good     copy of true, in the baseline
#   $MNT/app/run.sh   a script, in the baseline
#   $MNT/foreign      copy of id, outside the baseline roots (never allowlisted)
# The generation-1 database is built by `lockctl db build --root $MNT/app SIGNER_ARGS...`
# (e.g. --key FILE, or --token SPEC --passphrase-fd 3), and the config's baseline is $MNT/app.
setup_terminal() {
  mount_tmpfs "$MNT"
  mkdir -p "$MNT/app"
  cp /usr/bin/true "$MNT/app/good"
  printf '#!/bin/sh\necho v1\n' >"$MNT/app/run.sh"
  chmod 0755 "$MNT/app/run.sh"
  cp /usr/bin/id "$MNT/foreign"
  "$LOCKCTL" db build --root "$MNT/app" --out "$T/allowlist.lockdb" --generation 1 \
    --mode enforce "${WATCH_ARGS[@]}" "$@" >"$T/db-build.log" 2>&1 || { cat "$T/db-build.log" >&2; return 1; }
  write_config
  cat >>"$T/lockd.toml" <<TOML
baseline_roots = ["$MNT/app"]
baseline_excludes = []
TOML
}

# expect_rc WANT OUTPUT_VAR CMD...: runs CMD, stores stdout+stderr in OUTPUT_VAR, checks the
# exit status.
expect_rc() {
  local want=$1 var=$2 rc=0 text
  shift 2
  text=$("$@" 2>&1) || rc=$?
  printf -v "$var" '%s' "$text"
  if [[ $rc -ne $want ]]; then
    fail "expected exit $want from '$*', got $rc: $text"
    return 0
  fi
}

# raw_request FILE: sends FILE's content (a command line and a body) to the control socket as
# is, prints the reply (for replaying an authorization by hand).
raw_request() {
  "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(open(sys.argv[2], "rb").read())
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode("utf-8", "replace"))' "$SOCK" "$1"
}

# db_generation: the generation lockd has in force.
db_generation() { status_field database generation; }

# raw REQUEST: lockd's reply to one request (command line, then a body), sent over the control
# socket as the protocol says (the client shuts down its write side after the request).
raw() {
  timeout 20 "$PYTHON" - "$SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(15)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode(errors="replace"))
PY
}

# get_challenge ACT [ARG]: asks lockd for a challenge; its text in $T/challenge.txt.
get_challenge() {
  local reply
  reply=$(raw "challenge $*")
  [[ $(head -n 1 <<<"$reply") == ok ]] || { log "challenge $*: $reply"; return 1; }
  tail -n +2 <<<"$reply" >"$T/challenge.txt"
}

# sign_challenge TOKEN: has the file token TOKEN (passphrase $PASS) sign $T/challenge.txt, as
# it is; prints the authorization text.
sign_challenge() {
  "$LOCKCTL" token sign --token "$1" --challenge "$T/challenge.txt" --passphrase-fd 3 \
    3<<<"$PASS" 2>"$T/sign.err" || { log "token sign: $(cat "$T/sign.err")"; return 1; }
}

# expect_reply WANT_FIRST_LINE PATTERN REPLY
expect_reply() {
  local first
  first=$(head -n 1 <<<"$3")
  if [[ $first == "$1" && $3 == *$2* ]]; then log "ok: $1: $(sed -n 2p <<<"$3")"; else fail "expected $1 *$2*, got: $3"; fi
}

# audit_has TYPE [FIELD VALUE]...: a record of TYPE with these fields is in $AUDIT.
audit_has() {
  "$PYTHON" - "$AUDIT" "$@" <<'PY'
import json, sys
path, typ, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
want = dict(zip(pairs[0::2], pairs[1::2]))
for line in open(path, encoding="utf-8"):
    r = json.loads(line)
    if r.get("type") == typ and all(str(r.get(k)) == v for k, v in want.items()):
        sys.exit(0)
sys.exit(1)
PY
}

# wait_audit SECONDS TYPE [FIELD VALUE]...: waits for such a record.
wait_audit() {
  local secs=$1
  shift
  for _ in $(seq $((secs * 10))); do audit_has "$@" && return 0; sleep 0.1; done
  return 1
}
