#!/bin/bash
# Shared-object coverage (FAN_OPEN_PERM with a head sniff): a foreign library is not loaded by
# LD_PRELOAD, LD_AUDIT or dlopen, and the dynamic loader run directly on a foreign program
# cannot map it; the allowlisted equivalents work. Each check shows the foreign code did not
# run (its marker line is absent, its path is not in /proc/self/maps).
source "$(dirname "$0")/lib.sh"

command -v gcc >/dev/null || { log "SKIP: needs gcc to build the test libraries"; exit 77; }
LDSO=/lib64/ld-linux-x86-64.so.2
[[ -x $LDSO ]] || { log "SKIP: no $LDSO"; exit 77; }

mount_tmpfs "$MNT"
src="$LOCKD_SOURCE_DIR/tests/integration/helpers/coverage_lib.c"
gcc -shared -fPIC -O1 -DMARKER='"GOOD-LIB-RAN"' -o "$MNT/good.so" "$src"
gcc -shared -fPIC -O1 -DMARKER='"FOREIGN-LIB-RAN"' -o "$MNT/evil.so" "$src"
gcc -c -O1 -o "$MNT/object.o" "$src"   # ET_REL: not loadable, so not judged
cp /usr/bin/true "$MNT/good"
cp /usr/bin/id "$MNT/foreign"
cp /usr/bin/cat "$MNT/cat"
echo "plain data" >"$MNT/data.txt"
new_key signer
trust_key signer
make_db signer "$T/allowlist.lockdb" 1 enforce "$MNT/good" "$MNT/good.so" "$MNT/cat"
write_config
start_lockd

# run_capture CMD...: RUN_RC, RUN_OUT (stdout+stderr), 10 s at most.
run_capture() {
  set +e
  RUN_OUT=$(timeout 10 "$@" 2>&1)
  RUN_RC=$?
  set -e
}

# LD_PRELOAD: the allowlisted library is mapped and runs; the foreign one is refused.
run_capture env LD_PRELOAD="$MNT/good.so" "$MNT/cat" /proc/self/maps
if [[ $RUN_OUT == *GOOD-LIB-RAN* && $RUN_OUT == *"$MNT/good.so"* ]]; then
  log "ok: LD_PRELOAD of the allowlisted library works (mapped, constructor ran)"
else
  fail "control: LD_PRELOAD of good.so did not work: $RUN_OUT"
fi
run_capture env LD_PRELOAD="$MNT/evil.so" "$MNT/cat" /proc/self/maps
if [[ $RUN_OUT == *FOREIGN-LIB-RAN* || $RUN_OUT == *"$MNT/evil.so ("* ||
  $(grep -c "$MNT/evil.so\$" <<<"$RUN_OUT") -ne 0 ]]; then
  fail "LD_PRELOAD loaded the foreign library: $RUN_OUT"
elif [[ $RUN_OUT != *"cannot be preloaded"* ]]; then
  fail "LD_PRELOAD of evil.so: expected the loader's refusal, got: $RUN_OUT"
else
  log "ok: LD_PRELOAD of a foreign library refused (not in maps, constructor did not run)"
fi

# /etc/ld.so.preload has the same path in the loader as LD_PRELOAD (not touched here: it is
# the machine's file).

# LD_AUDIT.
run_capture env LD_AUDIT="$MNT/good.so" "$MNT/good"
[[ $RUN_RC -eq 0 && $RUN_OUT == *GOOD-LIB-RAN* ]] && log "ok: LD_AUDIT of the allowlisted module works" ||
  fail "control: LD_AUDIT of good.so: rc $RUN_RC: $RUN_OUT"
run_capture env LD_AUDIT="$MNT/evil.so" "$MNT/good"
if [[ $RUN_OUT == *FOREIGN-LIB-RAN* ]]; then
  fail "LD_AUDIT ran the foreign module: $RUN_OUT"
else
  log "ok: LD_AUDIT of a foreign module refused ($(head -c 120 <<<"$RUN_OUT"))"
fi

# The dynamic loader run directly on a program: the program is opened, not exec'd.
run_capture "$LDSO" "$MNT/good"
[[ $RUN_RC -eq 0 ]] && log "ok: ld.so on the allowlisted program runs" ||
  fail "control: $LDSO $MNT/good: rc $RUN_RC: $RUN_OUT"
run_capture "$LDSO" "$MNT/foreign"
if [[ $RUN_RC -eq 0 || $RUN_OUT == *uid=* ]]; then
  fail "ld.so ran the foreign program: rc $RUN_RC: $RUN_OUT"
else
  log "ok: ld.so on a foreign program refused: $RUN_OUT"
fi

# dlopen from python (ctypes.CDLL).
dl='import ctypes, sys
try:
    lib = ctypes.CDLL(sys.argv[1])
    print("loaded", lib.coverage_lib_answer())
except OSError as e:
    print("refused:", e)'
run_capture "$PYTHON" -c "$dl" "$MNT/good.so"
[[ $RUN_OUT == *"loaded 42"* && $RUN_OUT == *GOOD-LIB-RAN* ]] && log "ok: dlopen of the allowlisted library works" ||
  fail "control: dlopen good.so: $RUN_OUT"
run_capture "$PYTHON" -c "$dl" "$MNT/evil.so"
if [[ $RUN_OUT == *FOREIGN-LIB-RAN* || $RUN_OUT == *"loaded 42"* ]]; then
  fail "dlopen loaded the foreign library: $RUN_OUT"
elif [[ $RUN_OUT == *"refused:"*"Operation not permitted"* ]]; then
  log "ok: dlopen of a foreign library refused (EPERM)"
else
  fail "dlopen of evil.so: unexpected: $RUN_OUT"
fi

# Not code: plain data, relocatable objects and the library as read by an allowlisted program
# whose judgement is the library's own (allowlisted) are opened normally.
run_capture cat "$MNT/data.txt"
[[ $RUN_RC -eq 0 && $RUN_OUT == "plain data" ]] || fail "reading a data file: rc $RUN_RC: $RUN_OUT"
run_capture dd if="$MNT/object.o" of=/dev/null status=none
[[ $RUN_RC -eq 0 ]] || fail "reading a relocatable object (ET_REL) was refused: $RUN_OUT"
run_capture dd if="$MNT/good.so" of=/dev/null status=none
[[ $RUN_RC -eq 0 ]] || fail "reading the allowlisted library was refused: $RUN_OUT"
log "ok: data, .o and allowlisted libraries read normally"
# A foreign loadable ELF is refused to every reader (fanotify does not say who maps it).
run_capture dd if="$MNT/evil.so" of=/dev/null status=none
[[ $RUN_RC -ne 0 && $RUN_OUT == *"Operation not permitted"* ]] || fail "reading evil.so was allowed"

# The deny record names the library.
wait_for_log "decision verdict=deny reason=not-in-allowlist .*path=\"$MNT/evil.so\"" ||
  fail "no deny line for evil.so"
finish
