#!/bin/bash
# Script coverage by command line, environment and content (issue 11 items 1-3), against the
# real daemon:
#  1. a script with no suffix, no execute bit and no "#!" given to bash, sh, python3 or perl by
#     name (absolute, relative, through $PATH, after options) must be in the allowlist;
#  2. start-up files named by BASH_ENV (with $HOME expanded), ENV, PYTHONSTARTUP, and a
#     PERL5OPT module, must be in the allowlist;
#  3. a byte-identical copy of an allowlisted interpreter under another name is still an
#     interpreter (its content is flagged in the database);
# and the controls: the allowlisted versions run, a data file named after the script or read by
# `python3 -c` opens, a copy of a program that is no interpreter reads scripts as data.
source "$(dirname "$0")/lib.sh"

mount_tmpfs "$MNT"
BASH_BIN=$(readlink -f /bin/bash)
SH_BIN=$(readlink -f /bin/sh)
PERL_BIN=$(readlink -f "$(command -v perl)")
CAT_BIN=$(readlink -f "$(command -v cat)")
for v in good evil; do
  marker=$( [[ $v == good ]] && echo GOOD-SCRIPT-RAN || echo FOREIGN-SCRIPT-RAN )
  # Plain files: no suffix, mode 0644, no "#!". Names free of any script suffix.
  printf 'echo %s-shell\n' "$marker" >"$MNT/$v-shell"
  printf 'print("%s-python")\n' "$marker" >"$MNT/$v-python"
  printf 'print "%s-perl\\n";\n' "$marker" >"$MNT/$v-perl"
  printf 'package %smod; print "%s-perlmod\\n"; 1;\n' "$v" "$marker" >"$MNT/${v}mod.pm"
  printf 'echo %s-suffix\n' "$marker" >"$MNT/$v.sh"
  chmod 0644 "$MNT/$v-shell" "$MNT/$v-python" "$MNT/$v-perl" "$MNT/${v}mod.pm" "$MNT/$v.sh"
done
mkdir "$MNT/bin" "$MNT/home"
cp "$MNT/evil-shell" "$MNT/bin/evil-in-path"
cp "$MNT/good-shell" "$MNT/bin/good-in-path"
cp "$MNT/evil-shell" "$MNT/home/.evilenv"
# Readers (allowlisted) that open a data file named after them, and the data (not allowlisted).
printf 'while read -r l; do echo "GOOD-READ $l"; done <"$1"\n' >"$MNT/good-shell-reader"
printf 'import sys\nprint("GOOD-READ", open(sys.argv[1]).read())\n' >"$MNT/good-python-reader"
printf 'plain data\n' >"$MNT/data"
chmod 0644 "$MNT/good-shell-reader" "$MNT/good-python-reader" "$MNT/data"
# Item 3: a byte-identical copy of bash under another name, and a copy of cat.
cp "$BASH_BIN" "$MNT/renamed-shell"
cp "$CAT_BIN" "$MNT/renamed-cat"

# The allowlist: the good files, and bash and cat under their own names, so that db build flags
# bash's content as an interpreter (and cat's not).
new_key signer
trust_key signer
stage="$T/stage"
mkdir -p "$stage/bin"
i=0
for f in good-shell good-python good-perl goodmod.pm good.sh bin/good-in-path good-shell-reader \
  good-python-reader; do
  cp "$MNT/$f" "$stage/f$i"
  chmod 0755 "$stage/f$i"
  i=$((i + 1))
done
cp "$BASH_BIN" "$stage/bin/bash"
cp "$CAT_BIN" "$stage/bin/cat"
"$LOCKCTL" db build --root "$stage" --key "$T/keys/signer.pem" --out "$T/allowlist.lockdb" \
  --generation 1 --mode enforce "${WATCH_ARGS[@]}" --progress=none >/dev/null 2>"$T/db-build.log" ||
  { cat "$T/db-build.log" >&2; exit 1; }
write_config
start_lockd

run_capture() {
  set +e
  RUN_OUT=$(timeout 10 "$@" 2>&1 </dev/null)
  RUN_RC=$?
  set -e
}
good() {
  local name=$1
  shift
  run_capture "$@"
  if [[ $RUN_OUT == *GOOD-* && $RUN_OUT != *FOREIGN-* ]]; then
    log "ok: $name: runs"
  else
    fail "$name: control did not run: rc $RUN_RC: $RUN_OUT"
  fi
}
# evil NAME CMD...: the foreign code must not run (the interpreter may still exit 0, e.g. bash
# after a start-up file it could not read).
evil() {
  local name=$1
  shift
  run_capture "$@"
  if [[ $RUN_OUT == *FOREIGN-* ]]; then
    fail "$name: foreign code ran: $RUN_OUT"
  else
    log "ok: $name: refused ($(head -n 1 <<<"$RUN_OUT"))"
  fi
}

# 1. A script that says nothing about itself.
good "bash PLAIN" bash "$MNT/good-shell"
evil "bash PLAIN" bash "$MNT/evil-shell"
good "sh PLAIN" "$SH_BIN" "$MNT/good-shell"
evil "sh PLAIN" "$SH_BIN" "$MNT/evil-shell"
good "python3 PLAIN" "$PYTHON" "$MNT/good-python"
evil "python3 PLAIN" "$PYTHON" "$MNT/evil-python"
evil "python3 -u -W ignore PLAIN" "$PYTHON" -u -W ignore "$MNT/evil-python"
good "perl PLAIN" "$PERL_BIN" "$MNT/good-perl"
evil "perl PLAIN" "$PERL_BIN" "$MNT/evil-perl"
evil "perl -w -I DIR PLAIN" "$PERL_BIN" -w -I "$MNT" "$MNT/evil-perl"
evil "bash -x -o posix RELATIVE" env -C "$MNT" bash -x -o posix ./evil-shell
evil "sh RELATIVE (no ./)" env -C "$MNT" "$SH_BIN" evil-shell
good "bash NAME through \$PATH" env -C / PATH="$MNT/bin:$PATH" bash good-in-path
evil "bash NAME through \$PATH" env -C / PATH="$MNT/bin:$PATH" bash evil-in-path
# Controls: data named after the script, and read by inline code, is data.
good "bash READER DATA" bash "$MNT/good-shell-reader" "$MNT/data"
good "python3 READER DATA" "$PYTHON" "$MNT/good-python-reader" "$MNT/data"
run_capture "$PYTHON" -c "print('GOOD-INLINE', open('$MNT/data').read())"
[[ $RUN_RC -eq 0 && $RUN_OUT == *GOOD-INLINE* ]] && log "ok: python3 -c reads data" ||
  fail "python3 -c could not read a data file: $RUN_OUT"
run_capture bash -c "cat '$MNT/evil-shell' '$MNT/evil-python'"
[[ $RUN_RC -eq 0 && $RUN_OUT == *FOREIGN-SCRIPT-RAN-shell* ]] && log "ok: cat reads foreign plain scripts" ||
  fail "cat of foreign plain scripts refused: $RUN_OUT"

# 2. Start-up files named in the environment.
good "BASH_ENV" env BASH_ENV="$MNT/good-shell" bash -c true
evil "BASH_ENV" env BASH_ENV="$MNT/evil-shell" bash -c true
evil "BASH_ENV with \$HOME" env HOME="$MNT/home" BASH_ENV='$HOME/.evilenv' bash -c true
good "ENV (sh -i)" env ENV="$MNT/good-shell" "$SH_BIN" -i -c true
evil "ENV (sh -i)" env ENV="$MNT/evil-shell" "$SH_BIN" -i -c true
good "ENV (bash --posix -i)" env ENV="$MNT/good-shell" bash --posix -i -c true
evil "ENV (bash --posix -i)" env ENV="$MNT/evil-shell" bash --posix -i -c true
good "PYTHONSTARTUP" env PYTHONSTARTUP="$MNT/good-python" "$PYTHON" -i
evil "PYTHONSTARTUP" env PYTHONSTARTUP="$MNT/evil-python" "$PYTHON" -i
good "PERL5OPT=-M" env PERL5LIB="$MNT" PERL5OPT=-Mgoodmod "$PERL_BIN" -e 1
evil "PERL5OPT=-M" env PERL5LIB="$MNT" PERL5OPT=-Mevilmod "$PERL_BIN" -e 1

# 3. A renamed interpreter.
good "renamed bash, allowlisted script" "$MNT/renamed-shell" "$MNT/good.sh"
evil "renamed bash, script with a suffix" "$MNT/renamed-shell" "$MNT/evil.sh"
evil "renamed bash, plain script" "$MNT/renamed-shell" "$MNT/evil-shell"
evil "renamed bash, BASH_ENV" env BASH_ENV="$MNT/evil-shell" "$MNT/renamed-shell" -c true
run_capture "$MNT/renamed-cat" "$MNT/evil.sh" "$MNT/evil-shell"
[[ $RUN_RC -eq 0 && $RUN_OUT == *FOREIGN-SCRIPT-RAN-suffix* ]] && log "ok: a copy of cat reads scripts as data" ||
  fail "a copy of cat could not read scripts: rc $RUN_RC: $RUN_OUT"

wait_for_log "decision verdict=deny reason=not-in-allowlist .*path=\"$MNT/evil-python\"" ||
  fail "no deny line for evil-python"
finish
