#!/bin/bash
# Ways to exec a program without naming a path on a marked filesystem: execveat on an O_PATH
# fd, an O_TMPFILE file (no name at all), a memfd, and a hard link of a foreign binary under an
# allowlisted name. Each foreign attempt is refused; the allowlisted equivalent runs.
# memfd: lockd sets vm.memfd_noexec=2, which is per pid namespace; lib.sh runs this test in a
# fresh one (`sysctl vm.memfd_noexec` on the machine is the same before and after).
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs

# fexec.py MODE FILE: MODE opath = execveat(AT_EMPTY_PATH) on an O_PATH fd of FILE;
# tmpfile = copy FILE's bytes into an O_TMPFILE file on the test fs, exec it through its fd;
# memfd = copy into a memfd and exec it. Prints EXEC-REFUSED <errno> when the exec fails.
cat >"$T/fexec.py" <<'PY'
import os, sys
mode, src, mnt = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, "rb").read() if mode != "opath" else b""
try:
    if mode == "opath":
        fd = os.open(src, os.O_PATH)
    elif mode == "tmpfile":
        w = os.open(mnt, os.O_TMPFILE | os.O_RDWR, 0o755)
        os.write(w, data)
        fd = os.open("/proc/self/fd/%d" % w, os.O_PATH)
        os.close(w)
    else:
        w = os.memfd_create("coverage-test", 0)
        os.write(w, data)
        fd = os.open("/proc/self/fd/%d" % w, os.O_PATH)
        os.close(w)
    os.execve(fd, [src], dict(os.environ))
except OSError as e:
    print("EXEC-REFUSED", e.errno, e.strerror)
    sys.exit(3)
PY

# memfd before lockd: works in this fresh namespace (control), unless the machine forbids it.
good_src=/usr/bin/true
set +e
out=$(timeout 10 "$PYTHON" "$T/fexec.py" memfd /usr/bin/id "$MNT" 2>&1)
memfd_before=$?
set -e
log "memfd exec before lockd: rc $memfd_before ($out)"

start_lockd

run_py() {
  set +e
  RUN_OUT=$(timeout 10 "$PYTHON" "$T/fexec.py" "$@" 2>&1)
  RUN_RC=$?
  set -e
}

# execveat on an O_PATH fd (O_PATH opens are not reported; the exec is).
run_py opath "$MNT/good" "$MNT"
[[ $RUN_RC -eq 0 ]] && log "ok: execveat(O_PATH fd) of the allowlisted program runs" ||
  fail "control: execveat good: rc $RUN_RC $RUN_OUT"
run_py opath "$MNT/foreign" "$MNT"
[[ $RUN_RC -eq 3 && $RUN_OUT == *"EXEC-REFUSED 1 "* ]] && log "ok: execveat(O_PATH fd) of a foreign program refused (EPERM)" ||
  fail "execveat of foreign: rc $RUN_RC $RUN_OUT"

# O_TMPFILE: a file with no name on the marked filesystem.
run_py tmpfile "$good_src" "$MNT"
[[ $RUN_RC -eq 0 ]] && log "ok: exec of an O_TMPFILE copy of the allowlisted program runs" ||
  fail "control: O_TMPFILE good: rc $RUN_RC $RUN_OUT"
run_py tmpfile /usr/bin/id "$MNT"
[[ $RUN_RC -eq 3 && $RUN_OUT == *"EXEC-REFUSED 1 "* && $RUN_OUT != *uid=* ]] &&
  log "ok: exec of a foreign O_TMPFILE file refused (EPERM)" || fail "O_TMPFILE foreign: rc $RUN_RC $RUN_OUT"

# memfd: shut by vm.memfd_noexec=2 (fanotify cannot mark the memfd mount).
if wait_for_log "vm.memfd_noexec (0|1) -> 2|vm.memfd_noexec is already 2" 5; then
  log "ok: lockd set vm.memfd_noexec: $(grep -o 'vm.memfd_noexec[^"]*' "$LOCKD_LOG" | head -n 1)"
  [[ $(cat /proc/sys/vm/memfd_noexec) == 2 ]] || fail "vm.memfd_noexec in the test namespace is not 2"
  run_py memfd /usr/bin/id "$MNT"
  if [[ $RUN_OUT == *uid=* || $RUN_RC -eq 0 ]]; then
    fail "memfd exec of a foreign program ran: $RUN_OUT"
  else
    log "ok: memfd exec refused ($RUN_OUT)"
  fi
  [[ $memfd_before -eq 0 ]] || log "note: memfd exec already failed before lockd (rc $memfd_before)"
elif grep -q "no vm.memfd_noexec" "$LOCKD_LOG"; then
  log "kernel without vm.memfd_noexec: lockd reported it"
else
  fail "lockd did not report vm.memfd_noexec"
fi

# A hard link of a foreign binary under a name that is allowlisted elsewhere: content decides.
mkdir -p "$MNT/bin"
ln "$MNT/foreign" "$MNT/bin/good"
expect_denied "$MNT/bin/good"
ln "$MNT/good" "$MNT/bin/true-link"
expect_runs "$MNT/bin/true-link"
finish
