#!/usr/bin/env bash
# The audit log's syslog copy arrives at a real rsyslogd (Debian's), with the same fields.
# rsyslogd is started by this test with its own config in a temp dir, listening only on its
# own imuxsock socket there (the system socket /dev/log is switched off), and writing what it
# receives to a file. The writer (lockd/audit, run through lockd_tests) sends to that socket.
# Only the rsyslogd started here is stopped, by its pid; every wait has a timeout.
set -euo pipefail

build="${LOCKD_BUILD_DIR:?LOCKD_BUILD_DIR must be set}"
tests_bin="$build/tests/lockd_tests"
rsyslogd=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
[[ -x "$rsyslogd" ]] || { echo "FAIL: rsyslogd not installed (installer/deps.sh)"; exit 1; }
[[ -x "$tests_bin" ]] || { echo "FAIL: $tests_bin not built"; exit 1; }

tmp=$(mktemp -d /tmp/lockd-audit-syslog.XXXXXX)
rsyslog_pid=""
cleanup() {
  if [[ -n "$rsyslog_pid" ]] && kill -0 "$rsyslog_pid" 2>/dev/null; then
    kill -TERM "$rsyslog_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$rsyslog_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$rsyslog_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# wait_for SECONDS COMMAND...: polls every 0.1 s.
wait_for() {
  local limit=$(( $1 * 10 )); shift
  for _ in $(seq "$limit"); do "$@" && return 0; sleep 0.1; done
  return 1
}

run_case() {  # facility
  local facility=$1 out="$tmp/$1"
  mkdir -p "$out/work"
  cat >"$out/rsyslog.conf" <<CONF
global(workDirectory="$out/work" maxMessageSize="64k")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$out/log.sock" RateLimit.Interval="0")
template(name="fields" type="list") {
  property(name="syslogfacility-text") constant(value=" ")
  property(name="syslogseverity-text") constant(value=" ")
  property(name="programname") constant(value=" ")
  property(name="procid") constant(value=" ")
  property(name="msg" droplastlf="on") constant(value="\n")
}
action(type="omfile" file="$out/received.log" template="fields")
CONF
  "$rsyslogd" -n -f "$out/rsyslog.conf" -i "$out/rsyslogd.pid" &
  rsyslog_pid=$!
  wait_for 10 test -S "$out/log.sock" || { echo "FAIL: rsyslogd did not create its socket"; exit 1; }

  LOCKD_AUDIT_SYSLOG_SOCKET="$out/log.sock" LOCKD_AUDIT_OUT="$out/audit/audit.jsonl" \
    LOCKD_AUDIT_FACILITY="$facility" \
    timeout 60 "$tests_bin" -tc="audit syslog: to a running syslog daemon" >"$out/test.log" 2>&1 ||
    { cat "$out/test.log"; echo "FAIL: writer test case failed"; exit 1; }
  local n
  n=$(wc -l <"$out/audit/audit.jsonl")
  wait_for 10 bash -c "[[ -f '$out/received.log' && \$(wc -l <'$out/received.log') -ge $n ]]" ||
    { echo "FAIL: rsyslog stored $(wc -l <"$out/received.log" 2>/dev/null || echo 0) of $n records"; exit 1; }

  kill -TERM "$rsyslog_pid"
  wait_for 10 bash -c "! kill -0 $rsyslog_pid 2>/dev/null" || { echo "FAIL: rsyslogd did not stop"; exit 1; }
  wait "$rsyslog_pid" 2>/dev/null || true
  rsyslog_pid=""

  python3 - "$out/audit/audit.jsonl" "$out/received.log" "$facility" <<'PY'
import json, sys
audit = open(sys.argv[1], 'rb').read().split(b'\n')[:-1]
received = open(sys.argv[2], 'rb').read().split(b'\n')[:-1]
facility = sys.argv[3]
severity = {'daemon_start': 'notice', 'deny': 'warning', 'would_deny': 'warning',
            'records_lost': 'err'}
assert len(received) == len(audit), (len(received), len(audit))
for line, got in zip(audit, received):
    fac, sev, prog, procid, msg = got.split(b' ', 4)
    msg = msg[1:] if msg.startswith(b' ') else msg  # RFC 3164: the space after the tag
    rec = json.loads(line)
    assert msg == line, ('message differs from the audit line', msg[:200], line[:200])
    assert json.loads(msg) == rec
    assert fac.decode() == facility, (fac, facility)
    assert sev.decode() == severity[rec['type']], (sev, rec['type'])
    assert prog == b'lockd', prog
    assert procid.isdigit(), procid
    print('ok seq %d %s %s.%s %d bytes' % (rec['seq'], rec['type'], fac.decode(), sev.decode(), len(line)))
PY
  if [[ -x "$build/tools/lockctl" ]]; then
    "$build/tools/lockctl" log verify "$out/audit/audit.jsonl"
  fi
}

run_case authpriv
run_case local5
echo "PASS: audit records arrive in rsyslog unchanged (authpriv and local5)"
