#!/usr/bin/env bash
# lockctl doctor against the real kernel: the JSON contract, exit codes, mounts made in this
# private mount namespace showing up (and going away with noexec), an uncovered filesystem
# failing, vm.memfd_noexec judged before and after it is set to 2 inside a fresh pid namespace
# (never in the machine's own: it cannot be lowered again), and --db listing the allowlisted
# interpreters. The fanotify probes place no permission mark (lockd/os/fanotify_probe.h).
source "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || { log "SKIP: needs jq"; exit 77; }

# doctor_json ARGS...: JSON on stdout; the exit code is kept in DOCTOR_RC.
doctor_json() {
  set +e
  "$LOCKCTL" doctor --json "$@" >"$T/out.json" 2>"$T/err.txt"
  DOCTOR_RC=$?
  set -e
  jq -e . "$T/out.json" >/dev/null || { fail "doctor --json $* did not print JSON"; cat "$T/out.json" >&2; }
}
status_of() { jq -r --arg id "$1" '.checks[] | select(.id == $id) | .status' "$T/out.json"; }
items_of() { jq -r --arg id "$1" '.checks[] | select(.id == $id) | .items[].path' "$T/out.json"; }

# --- 1. The contract: schema, fixed check ids, statuses, exit code agreeing with them.
doctor_json
[[ $(jq -r .schema "$T/out.json") == lockd-doctor/1 ]] || fail "schema is not lockd-doctor/1"
ids=$(jq -r '[.checks[].id] | join(",")' "$T/out.json")
want="fanotify_permission,fanotify_filesystem_mark,memfd_noexec,fanotify_blind_spots,ptrace_scope,kernel_modules,kexec_load_disabled,secure_boot,unprivileged_bpf_disabled,unprivileged_userns,writable_exec_mounts,uncovered_filesystems,overlay_layers,mount_discovery"
[[ $ids == "$want" ]] || fail "check ids: got $ids"
jq -e '.checks | all(.status == "ok" or .status == "warn" or .status == "fail")' "$T/out.json" \
  >/dev/null || fail "a status is not ok/warn/fail"
jq -e '.checks | all((.why | length) > 0)' "$T/out.json" >/dev/null || fail "a check has no why"
[[ $(jq -r .database "$T/out.json") == null ]] || fail "database should be null without --db"
overall=$(jq -r .status "$T/out.json")
nfail=$(jq -r .summary.fail "$T/out.json")
if [[ $nfail -gt 0 ]]; then
  [[ $overall == fail && $DOCTOR_RC -eq 1 ]] || fail "fails=$nfail but status=$overall rc=$DOCTOR_RC"
else
  [[ $overall != fail && $DOCTOR_RC -eq 0 ]] || fail "no fails but status=$overall rc=$DOCTOR_RC"
fi
# As root the probes must give an answer, not "could not tell".
[[ $(status_of fanotify_permission) == ok ]] || fail "fanotify permission events not available?"
[[ $(status_of fanotify_filesystem_mark) == ok ]] || fail "FAN_MARK_FILESYSTEM not available?"
# fanotify mount notifications: since Linux 6.14.
kv=$(uname -r | awk -F. '{print $1 * 1000 + $2}')
if ((kv >= 6014)); then
  [[ $(status_of mount_discovery) == ok ]] || fail "FAN_REPORT_MNT not found on $(uname -r)"
else
  [[ $(status_of mount_discovery) == warn ]] || fail "mount_discovery not a warn before 6.14"
fi

# Secure Boot, from /sys/firmware/efi (this machine's answer, whatever it is).
sb_why=$(jq -r '.checks[] | select(.id == "secure_boot") | .why' "$T/out.json")
if [[ ! -d /sys/firmware/efi ]]; then
  [[ $(status_of secure_boot) == warn && $sb_why == "unknown (legacy boot): "* ]] ||
    fail "secure_boot without EFI: $(status_of secure_boot) $sb_why"
elif [[ $(od -An -tu1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0e1f9e5d5f5 2>/dev/null | awk '{print $NF}') == 1 ]]; then
  [[ $(status_of secure_boot) == ok ]] || fail "secure_boot on but: $sb_why"
else
  [[ $(status_of secure_boot) == warn ]] || fail "secure_boot not on but: $sb_why"
fi

# The text form: one line per check plus a summary, same exit code.
set +e
"$LOCKCTL" doctor >"$T/out.txt" 2>&1
text_rc=$?
set -e
[[ $text_rc -eq $DOCTOR_RC ]] || fail "text exit $text_rc != json exit $DOCTOR_RC"
grep -Eq '^(ok|warn|fail) +vm\.memfd_noexec +' "$T/out.txt" || fail "no aligned memfd line"
grep -q '^summary: ' "$T/out.txt" || fail "no summary line"

# --- 2. Mounts: a writable exec tmpfs is listed; with noexec it is not.
mount_tmpfs "$T/rwexec"
doctor_json
items_of writable_exec_mounts | grep -qx "$T/rwexec" || fail "rw exec tmpfs not listed"
[[ $(status_of writable_exec_mounts) != ok ]] || fail "writable_exec_mounts ok with an rw exec tmpfs"
mount -o remount,noexec "$T/rwexec"
doctor_json
items_of writable_exec_mounts | grep -qx "$T/rwexec" && fail "noexec tmpfs still listed"

# An uncovered filesystem that allows exec (hugetlbfs: lockd marks no pseudo filesystem, yet
# its files can hold programs) fails both mount checks; noexec turns "not covered" into warn.
if grep -qw hugetlbfs /proc/filesystems; then
  mkdir -p "$T/huge"
  if mount -t hugetlbfs none "$T/huge" 2>/dev/null; then
    MOUNTS+=("$T/huge")
    doctor_json
    [[ $(status_of uncovered_filesystems) == fail ]] || fail "hugetlbfs exec not a fail"
    [[ $(status_of writable_exec_mounts) == fail ]] || fail "writable hugetlbfs not a fail"
    items_of uncovered_filesystems | grep -qx "$T/huge" || fail "hugetlbfs not listed"
    [[ $DOCTOR_RC -eq 1 ]] || fail "exit code $DOCTOR_RC with a failing check"
    mount -o remount,noexec "$T/huge"
    doctor_json
    [[ $(status_of uncovered_filesystems) == warn ]] || fail "noexec hugetlbfs not a warn"
  else
    log "note: hugetlbfs could not be mounted here; uncovered-filesystem case skipped"
  fi
fi

# --- 3. vm.memfd_noexec, judged as read; set to 2 only inside a fresh pid namespace.
host_memfd=$(cat /proc/sys/vm/memfd_noexec 2>/dev/null || echo absent)
doctor_json
case $host_memfd in
  2) want=ok ;;
  1) want=warn ;;
  *) want=fail ;;
esac
[[ $(status_of memfd_noexec) == "$want" ]] || fail "memfd_noexec=$host_memfd judged $(status_of memfd_noexec)"
# The blind spots fanotify cannot close: always a warn, naming the memfd value read.
[[ $(status_of fanotify_blind_spots) == warn ]] || fail "fanotify_blind_spots not a warn"
blind=$(jq -r '.checks[] | select(.id == "fanotify_blind_spots") | .items[0].detail' "$T/out.json")
if [[ $host_memfd == absent ]]; then
  [[ $blind == *"no vm.memfd_noexec"* ]] || fail "blind spots without the absent memfd_noexec: $blind"
else
  [[ $blind == *"vm.memfd_noexec=$host_memfd"* ]] || fail "blind spots without memfd_noexec=$host_memfd: $blind"
fi
if [[ $host_memfd != absent ]]; then
  inner=$(timeout 60 unshare -p -f --mount-proc bash -c '
    [[ $$ -eq 1 ]] || { echo "not pid 1" >&2; exit 3; }
    echo 2 > /proc/sys/vm/memfd_noexec || exit 4
    "$0" doctor --json | jq -r ".checks[] | select(.id == \"memfd_noexec\") | .status"
  ' "$LOCKCTL") || fail "doctor in a fresh pid namespace failed"
  [[ $inner == ok ]] || fail "memfd_noexec after setting 2 in the namespace: '$inner'"
  [[ $(cat /proc/sys/vm/memfd_noexec) == "$host_memfd" ]] || fail "host vm.memfd_noexec changed!"
fi

# --- 4. --db: interpreters in a signed allowlist.
mkdir -p "$T/img/usr/bin"
cp /bin/bash "$T/img/usr/bin/bash"
cp "$(readlink -f "$PYTHON")" "$T/img/usr/bin/python3.99"
cp /bin/ls "$T/img/usr/bin/ls"
"$LOCKCTL" key generate --out "$T/k" >/dev/null
mkdir -p "$T/trust" "$T/other-trust"
cp "$T/k/public.pem" "$T/trust/"
"$LOCKCTL" db build --root "$T/img" --strip-prefix "$T/img" --key "$T/k/private.key" \
  --out "$T/a.lockdb" >/dev/null 2>&1 || fail "db build failed"
doctor_json --db "$T/a.lockdb" --trust "$T/trust"
[[ $(status_of allowlisted_interpreters) == warn ]] || fail "interpreters not a warn"
found=$(items_of allowlisted_interpreters | sort | tr '\n' ' ')
[[ $found == "/usr/bin/bash /usr/bin/python3.99 " ]] || fail "interpreters found: '$found'"
jq -r '.checks[] | select(.id == "allowlisted_interpreters") | .why' "$T/out.json" |
  grep -q 'bash -c' || fail "why does not mention inline code"
[[ $(jq -r .database.path "$T/out.json") == "$T/a.lockdb" ]] || fail "database path missing"

# A database signed by a key that is not trusted is a failed check, not a usage error.
"$LOCKCTL" key generate --out "$T/k2" >/dev/null
cp "$T/k2/public.pem" "$T/other-trust/"
doctor_json --db "$T/a.lockdb" --trust "$T/other-trust"
[[ $(status_of allowlisted_interpreters) == fail ]] || fail "unverified db not a fail"
[[ $DOCTOR_RC -eq 1 ]] || fail "unverified db: exit $DOCTOR_RC, want 1"

# --- 5. Usage errors exit 2.
set +e
"$LOCKCTL" doctor --db "$T/a.lockdb" >/dev/null 2>&1; rc1=$?
"$LOCKCTL" doctor --trust "$T/trust" >/dev/null 2>&1; rc2=$?
"$LOCKCTL" doctor --db "$T/a.lockdb" --trust "$T/no-such-dir" >/dev/null 2>&1; rc3=$?
"$LOCKCTL" doctor --bogus >/dev/null 2>&1; rc4=$?
set -e
[[ "$rc1 $rc2 $rc3 $rc4" == "2 2 2 2" ]] || fail "usage exits: $rc1 $rc2 $rc3 $rc4 (want 2 2 2 2)"

finish
