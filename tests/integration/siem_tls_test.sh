#!/usr/bin/env bash
# Live collection for a fleet: lockd's syslog copy of the audit log, forwarded by the
# terminal's rsyslog to the bank's SIEM over TLS (RFC 5425: syslog over TLS, octet-counted
# frames, mutual X.509 authentication) with rsyslog's gtls (GnuTLS) driver. The configuration
# is the one docs/compliance.md gives ("Live collection: forwarding to the SIEM over TLS").
#
# Two rsyslogd processes started here, each with its own config, work dir, pid file and
# port on 127.0.0.1, stopped by their pid:
#   "terminal": receives lockd's datagrams on /dev/log (lockd sends there, as on a real
#               terminal; this test gives its private mount namespace its own /dev with an
#               overlay, so the host's /dev is untouched) and forwards lockd's messages over
#               TLS with a disk-assisted queue;
#   "SIEM":     accepts TLS from the terminal's certificate only and writes what it gets.
# Certificates are made here with openssl (a test CA, the SIEM's server certificate, the
# terminal's client certificate; an impostor CA).
#
# Checks: a real lockd deny (and every other record) arrives at the SIEM byte for byte, and
# the SIEM's copy verifies as a chain with the terminal's head hash; the SIEM stores nothing
# from a client without the terminal's certificate; a server presenting a
# certificate from another CA, or from our CA under another name, is refused by the terminal
# (nothing reaches it, rsyslog names the reason) and the records held back in the queue reach
# the real SIEM once it is back.
#
# Each step denies a program of its own ($MNT/foreign, then copies of it under new names):
# lockd folds repeats of one denial (same path, content, uid, reason) into a `repeat` record
# written 10 s later or at stop (docs/audit-log.md, "Repeats"), so denying the same program
# again would send nothing new at once, and a step that needs a fresh record on the wire would
# test nothing.
source "$(dirname "$0")/lib.sh"

RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
[[ -x $RSYSLOGD ]] || { log "FAIL: rsyslogd not installed (installer/deps.sh)"; exit 1; }
GTLS=$(find /usr/lib -name lmnsd_gtls.so -path '*rsyslog*' 2>/dev/null | head -n 1)
[[ -n $GTLS ]] || { log "FAIL: rsyslog's gtls driver is missing (rsyslog-gnutls, installer/deps.sh)"; exit 1; }

# wait_until SECONDS COMMAND...: polls every 0.1 s.
wait_until() {
  local n=$(($1 * 10))
  shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
  return 1
}

log "certificates"
C=$T/certs
mkdir -p "$C"
new_ca() {  # NAME CN
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$C/$1.key" -subj "/CN=$2" -out "$C/$1.pem" 2>/dev/null
}
new_cert() {  # NAME DNS-NAME CA
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/$1.key" \
    -subj "/CN=$2" -out "$C/$1.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$2" >"$C/$1.ext"
  openssl x509 -req -in "$C/$1.csr" -CA "$C/$3.pem" -CAkey "$C/$3.key" -CAcreateserial \
    -days 2 -extfile "$C/$1.ext" -out "$C/$1.pem" 2>/dev/null
}
new_ca ca "Bank Syslog CA"
new_ca evilca "Impostor CA"
new_cert siem siem.bank.test ca
new_cert terminal terminal-0042.bank.test ca
new_cert impostor siem.bank.test evilca     # right name, wrong CA
new_cert othername logs.other.test ca       # right CA, wrong name
chmod 0600 "$C"/*.key
PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

log "a private /dev with /dev/log (overlay over the host's /dev, in this mount namespace only)"
mkdir -p "$T/dev-upper" "$T/dev-work"
mount -t overlay overlay -o "lowerdir=/dev,upperdir=$T/dev-upper,workdir=$T/dev-work" /dev
MOUNTS+=(/dev)
[[ ! -e /dev/log ]] || fail "/dev/log already exists in the private /dev"

# The SIEM: TLS only, from the terminal's certificate only. $1: certificate name, $2: dir.
start_siem() {
  local cert=$1 dir=$T/$2
  mkdir -p "$dir/work"
  cat >"$dir/rsyslog.conf" <<CONF
global(workDirectory="$dir/work" maxMessageSize="64k"
       DefaultNetstreamDriverCAFile="$C/ca.pem"
       DefaultNetstreamDriverCertFile="$C/$cert.pem"
       DefaultNetstreamDriverKeyFile="$C/$cert.key")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1"
       StreamDriver.AuthMode="x509/name" PermittedPeer=["terminal-0042.bank.test"])
input(type="imtcp" port="$PORT" address="127.0.0.1")
template(name="fields" type="list") {
  property(name="hostname") constant(value=" ")
  property(name="programname") constant(value=" ")
  property(name="syslogfacility-text") constant(value=" ")
  property(name="syslogseverity-text") constant(value=" ")
  property(name="msg" droplastlf="on") constant(value="\n")
}
if \$programname == "lockd" then {
  action(type="omfile" file="$dir/lockd.log" template="fields")
} else {
  action(type="omfile" file="$dir/internal.log")
}
CONF
  "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslogd.pid" >"$dir/stderr" 2>&1 &
  SIEM_PID=$!
  EXTRA_PIDS+=("$SIEM_PID")
  wait_until 10 "$PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null ||
    { log "FAIL: the SIEM rsyslogd ($2) is not listening: $(cat "$dir/stderr")"; exit 1; }
}

stop_rsyslog() {  # PID
  kill -TERM "$1" 2>/dev/null || true
  wait_until 15 bash -c "! kill -0 $1 2>/dev/null" || kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

log "the terminal's rsyslog: /dev/log in, lockd's messages out over TLS to siem.bank.test"
A=$T/terminal-rsyslog
mkdir -p "$A/work"
cat >"$A/rsyslog.conf" <<CONF
global(workDirectory="$A/work" maxMessageSize="64k"
       DefaultNetstreamDriverCAFile="$C/ca.pem"
       DefaultNetstreamDriverCertFile="$C/terminal.pem"
       DefaultNetstreamDriverKeyFile="$C/terminal.key")
module(load="imuxsock" SysSock.Use="on" SysSock.Name="/dev/log" SysSock.RateLimit.Interval="0")
if \$programname == "lockd" then {
  action(type="omfwd" target="127.0.0.1" port="$PORT" protocol="tcp"
         StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name"
         StreamDriverPermittedPeers="siem.bank.test"
         TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
         queue.type="LinkedList" queue.filename="to-siem" queue.saveOnShutdown="on"
         action.resumeRetryCount="-1" action.resumeInterval="1")
} else {
  action(type="omfile" file="$A/internal.log")
}
CONF
"$RSYSLOGD" -N1 -f "$A/rsyslog.conf" >"$A/check.out" 2>&1 || fail "terminal config: $(cat "$A/check.out")"
start_siem siem siem
"$RSYSLOGD" -n -f "$A/rsyslog.conf" -i "$A/rsyslogd.pid" >"$A/stderr" 2>&1 &
TERM_PID=$!
EXTRA_PIDS+=("$TERM_PID")
wait_until 10 test -S /dev/log || { log "FAIL: the terminal rsyslogd did not create /dev/log: $(cat "$A/stderr")"; exit 1; }

log "lockd with a syslog copy (facility authpriv), a real deny"
setup_standard
sed -i 's/^syslog_facility = .*/syslog_facility = "authpriv"/' "$T/lockd.toml"
start_lockd
expect_denied "$MNT/foreign"
AUDIT=$T/log/audit.jsonl
wait_until 10 grep -q '"type":"deny"' "$AUDIT" || fail "no deny record in the audit log"

# received_all FILE [FROM]: every audit line so far (from line FROM, 1 by default) is a
# message in the SIEM's FILE.
received_all() {
  [[ -f $1 ]] || return 1
  "$PYTHON" - "$AUDIT" "$1" "${2:-1}" <<'PY'
import sys
audit = open(sys.argv[1], 'rb').read().split(b'\n')[:-1][int(sys.argv[3]) - 1:]
got = set()
for line in open(sys.argv[2], 'rb').read().split(b'\n')[:-1]:
    msg = line.split(b' ', 4)[4]
    got.add(msg[1:] if msg.startswith(b' ') else msg)
sys.exit(0 if all(a in got for a in audit) else 1)
PY
}
wait_until 20 received_all "$T/siem/lockd.log" ||
  fail "the SIEM did not receive every audit record: $(wc -l <"$AUDIT") in the log; SIEM has $(cat "$T/siem/lockd.log" 2>/dev/null | wc -l); terminal rsyslog: $(tail -3 "$A/stderr")"

log "the SIEM's copy: byte for byte, facility and severity, and a chain that verifies"
"$PYTHON" - "$AUDIT" "$T/siem/lockd.log" "$T/siem-copy.jsonl" <<'PY' || fail "the SIEM's copy differs"
import json, sys
audit = open(sys.argv[1], 'rb').read().split(b'\n')[:-1]
rows = open(sys.argv[2], 'rb').read().split(b'\n')[:-1]
by_msg = {}
for row in rows:
    host, prog, fac, sev, msg = row.split(b' ', 4)
    msg = msg[1:] if msg.startswith(b' ') else msg  # the space before MSG (RFC 5424)
    by_msg[msg] = (prog, fac, sev)
sev_of = {'deny': b'warning', 'would_deny': b'warning', 'db_refused': b'warning'}
with open(sys.argv[3], 'wb') as out:
    for line in audit:
        assert line in by_msg, ('missing at the SIEM', line[:200])
        prog, fac, sev = by_msg[line]
        rec = json.loads(line)
        assert prog == b'lockd' and fac == b'authpriv', (prog, fac)
        assert sev == sev_of.get(rec['type'], b'notice'), (rec['type'], sev)
        out.write(line + b'\n')
deny = [json.loads(l) for l in audit if b'"type":"deny"' in l]
assert deny and deny[0]['path'].endswith('/foreign'), deny
print('SIEM holds all %d records, deny of %s' % (len(audit), deny[0]['path']))
PY
terminal_head=$("$LOCKCTL" log verify --json "$AUDIT" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["head_hash"])')
siem_head=$("$LOCKCTL" log verify --json "$T/siem-copy.jsonl" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["head_hash"])') ||
  fail "the SIEM's copy does not verify as a chain"
[[ -n $terminal_head && $terminal_head == "$siem_head" ]] || fail "head hashes differ: terminal $terminal_head, SIEM $siem_head"
"$LOCKCTL" log verify "$AUDIT" --anchor "$siem_head" >/dev/null || fail "the terminal's log does not contain the SIEM's head"

log "the SIEM refuses a client without the terminal's certificate (a forged record is not stored)"
forged='{"seq":999,"time":"2026-01-01T00:00:00.000Z","type":"deny","path":"/forged","prev":"00"}'
frame="<84>1 2026-01-01T00:00:00Z rogue lockd 1 - - $forged"
printf '%d %s' "${#frame}" "$frame" |
  timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -cert "$C/impostor.pem" -key "$C/impostor.key" \
    -CAfile "$C/ca.pem" -quiet >/dev/null 2>&1 || true
cp /usr/bin/id "$MNT/foreign-2"
expect_denied "$MNT/foreign-2"  # a real record after the forged one: when it is stored, the forged one had its chance
wait_until 20 received_all "$T/siem/lockd.log" || fail "the deny after the forged record did not arrive"
grep -qF '/forged' "$T/siem/lockd.log" && fail "the SIEM stored a record from a client with another CA's certificate"
grep -Eq 'not permitted to talk to peer|signer not found' "$T/siem/stderr" ||
  fail "the SIEM did not say why it refused the client: $(tail -3 "$T/siem/stderr")"

# refused CERT DIR WHAT: the SIEM presents CERT; a new deny must not reach it, and the
# terminal's rsyslog must say why (WHAT, a regular expression).
refused() {
  local cert=$1 dir=$2 what=$3 before
  stop_rsyslog "$SIEM_PID"
  start_siem "$cert" "$dir"
  before=$(wc -l <"$A/stderr")
  cp /usr/bin/id "$MNT/foreign-$dir"  # a new denial: a full deny record at once
  expect_denied "$MNT/foreign-$dir"
  wait_until 15 bash -c "tail -n +$((before + 1)) '$A/stderr' | grep -Eq '$what'" ||
    fail "$cert: the terminal did not refuse the server (rsyslog said: $(tail -n +$((before + 1)) "$A/stderr" | head -5))"
  sleep 2
  if [[ -s $T/$dir/lockd.log ]]; then
    fail "$cert: records reached a server with the wrong certificate: $(head -c 300 "$T/$dir/lockd.log")"
  else
    log "ok: $cert refused: $(tail -n +$((before + 1)) "$A/stderr" | grep -Eo "$what[^[]*" | head -n 1 | sed 's/ *$//')"
  fi
}
held_from=$(($(wc -l <"$AUDIT") + 1))
log "a server with a certificate from another CA (same name) is refused"
refused impostor impostor 'not permitted to talk to peer, certificate invalid: signer not found'
log "a server with our CA's certificate under another name is refused"
refused othername othername 'peer name not authorized'

log "the real SIEM back: the records held in the terminal's queue arrive"
stop_rsyslog "$SIEM_PID"
start_siem siem siem-again
wait_until 30 received_all "$T/siem-again/lockd.log" "$held_from" ||
  fail "records denied while the SIEM was an impostor did not arrive later: $(tail -3 "$A/stderr")"
n_deny=$(grep -c '"type":"deny"' "$AUDIT")
[[ $n_deny -eq 4 ]] || fail "expected 4 deny records (4 distinct denials), the log has $n_deny"

stop_lockd
# At stop lockd writes any pending repeat count: the log still accounts for exactly 4 denials.
n_denials=$(audit_denials "$AUDIT" deny)
[[ $n_denials -eq 4 ]] || fail "expected 4 denials in the log after stop, it accounts for $n_denials"
stop_rsyslog "$TERM_PID"
stop_rsyslog "$SIEM_PID"
finish
