#!/bin/bash
# Script coverage: a script read by an interpreter (bash x.sh, . x.sh, python3 x.py, a shebang
# script, sh reading a script without "#!" but with an execute bit) must be in the allowlist;
# the allowlisted scripts run; a shebang naming a foreign interpreter is refused; a script read
# by a program that is not an interpreter (cat) is just data.
source "$(dirname "$0")/lib.sh"

mount_tmpfs "$MNT"
BASH_BIN=$(readlink -f /bin/bash)
SH_BIN=$(readlink -f /bin/sh)
for v in good evil; do
  marker=$( [[ $v == good ]] && echo GOOD-SCRIPT-RAN || echo FOREIGN-SCRIPT-RAN )
  printf '#!/bin/sh\necho %s-shebang\n' "$marker" >"$MNT/$v-shebang"
  printf 'echo %s-sh\n' "$marker" >"$MNT/$v.sh"
  printf 'print("%s-py")\n' "$marker" >"$MNT/$v.py"
  printf 'echo %s-noext\n' "$marker" >"$MNT/$v-noext"
  chmod 0755 "$MNT/$v-shebang" "$MNT/$v-noext"
  chmod 0644 "$MNT/$v.sh" "$MNT/$v.py"
done
# A foreign interpreter: a copy of bash that is not allowlisted (different content: one byte
# appended to the copy; the ELF still runs).
cp "$BASH_BIN" "$MNT/foreign-interp"
printf '\0' >>"$MNT/foreign-interp"
printf '#!%s\necho FOREIGN-INTERP-RAN\n' "$MNT/foreign-interp" >"$MNT/via-foreign-interp"
printf '#!%s\necho GOOD-INTERP-RAN\n' "$BASH_BIN" >"$MNT/via-good-interp"
chmod 0755 "$MNT/via-foreign-interp" "$MNT/via-good-interp"
new_key signer
trust_key signer
make_db signer "$T/allowlist.lockdb" 1 enforce "$MNT/good-shebang" "$MNT/good.sh" "$MNT/good.py" \
  "$MNT/good-noext" "$MNT/via-foreign-interp" "$MNT/via-good-interp"
write_config
start_lockd

run_capture() {
  set +e
  RUN_OUT=$(timeout 10 "$@" 2>&1)
  RUN_RC=$?
  set -e
}
# check NAME GOOD_CMD... -- EVIL_CMD...: the good command prints GOOD-*, the evil one fails
# without printing FOREIGN-*.
check() {
  local name=$1 good=() evil=()
  shift
  while [[ $1 != -- ]]; do good+=("$1"); shift; done
  shift
  evil=("$@")
  run_capture "${good[@]}"
  if [[ $RUN_RC -ne 0 || $RUN_OUT != *GOOD-* ]]; then
    fail "$name: control (allowlisted) did not run: rc $RUN_RC: $RUN_OUT"
  fi
  run_capture "${evil[@]}"
  if [[ $RUN_OUT == *FOREIGN-* ]]; then
    fail "$name: the foreign script ran: $RUN_OUT"
  elif [[ $RUN_RC -eq 0 ]]; then
    fail "$name: the foreign script's interpreter exited 0: $RUN_OUT"
  else
    log "ok: $name: allowlisted runs, foreign refused ($(head -n 1 <<<"$RUN_OUT"))"
  fi
}

check "bash x.sh" bash "$MNT/good.sh" -- bash "$MNT/evil.sh"
check ". x.sh" bash -c ". '$MNT/good.sh'" -- bash -c ". '$MNT/evil.sh'"
check "sh x.sh (dash)" "$SH_BIN" "$MNT/good.sh" -- "$SH_BIN" "$MNT/evil.sh"
check "python3 x.py" "$PYTHON" "$MNT/good.py" -- "$PYTHON" "$MNT/evil.py"
check "shebang script" "$MNT/good-shebang" -- "$MNT/evil-shebang"
check "bash on a shebang script" bash "$MNT/good-shebang" -- bash "$MNT/evil-shebang"
check "executable script without #! or suffix" bash "$MNT/good-noext" -- bash "$MNT/evil-noext"
check "shebang naming a foreign interpreter" "$MNT/via-good-interp" -- "$MNT/via-foreign-interp"

# A script read by a program that is not an interpreter is data.
run_capture cat "$MNT/evil.sh" "$MNT/evil.py" "$MNT/evil-shebang"
[[ $RUN_RC -eq 0 && $RUN_OUT == *FOREIGN-SCRIPT-RAN-sh* ]] && log "ok: cat reads foreign scripts" ||
  fail "cat of foreign scripts refused: $RUN_OUT"
run_capture grep -c echo "$MNT/evil-noext"
[[ $RUN_RC -eq 0 ]] || fail "grep of a foreign executable script refused: $RUN_OUT"

wait_for_log "decision verdict=deny reason=not-in-allowlist .*exe=\"$BASH_BIN\" path=\"$MNT/evil.sh\"" ||
  fail "no deny line naming bash and evil.sh"
finish
