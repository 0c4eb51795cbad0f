#!/usr/bin/env bash
# installer/bash-completion/lockctl completes what lockctl really has: it reads
# `lockctl ... --help`, so this checks that reading against the built lockctl — every command
# group lists its subcommands, every command its options, and option choices come from CLI11's
# ":{a,b}" hints. Needs LOCKD_BUILD_DIR; no root needed, starts nothing.
set -euo pipefail

src=${LOCKD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${LOCKD_BUILD_DIR:?set LOCKD_BUILD_DIR to a build directory}
bin=$(cd "$build" && pwd)/tools/lockctl
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# shellcheck source=/dev/null
source "$src/installer/bash-completion/lockctl"
complete -p lockctl >/dev/null || fail "the file does not register a completion for lockctl"

# Completes the last word of "lockctl WORDS..." and prints the candidates sorted on one line.
comp() {
  COMP_WORDS=("$bin" "$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _lockctl 2>/dev/null
  printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() {
  local want=$1
  shift
  local got
  got=$(comp "$@")
  [[ $got == "$want" ]] || fail "lockctl $* <TAB>: got '$got', expected '$want'"
}

# The top level: exactly the subcommands lockctl --help lists.
top=$("$bin" --help | awk '/^Subcommands:$/ {on = 1; next} /^[A-Za-z]/ {on = 0} on && /^  [^ ]/ {print $1}' |
  sort | tr '\n' ' ' | sed 's/ $//')
[[ -n $top ]] || fail "no subcommands in lockctl --help"
expect "$top" ""
expect "build diff install list lookup show verify" db ""
expect "build" db b
expect "audit enforce" db build --root / --mode ""
expect "enforce" db build --one-file-system --mode e
expect "ed25519 p256" key generate --type ""
expect "--token" token sign --tok
# The token commands, rekey included (issue 12).
expect "check create find rekey show sign" token ""
expect "--new-passphrase-fd" token rekey /media/fe/FE-STICK --new
expect "--generation" db build --root / --gen
# A value after an option that takes one is not completed as a command or an option.
expect "" db build --out ""
# The maintenance and trust commands (issue 5).
expect "abort finish start status" maintenance ""
expect "add list retire" trust ""
expect "--updater-only" maintenance finish --upd
expect "--passphrase-fd --pin-fd" trust retire --p
expect "" maintenance start --minutes ""
# The fleet report and the log summary (issue 15).
expect "report" fleet ""
expect "show summary verify" log ""
expect "--db-trust" fleet report --db
expect "" fleet report --out ""
# Progress modes and the quarantine command (issue 15).
expect "auto json none tty" db build --root / --progress ""
expect "auto json none tty" maintenance finish --progress ""
expect "--out" quarantine --ou
# Every option of every db, maintenance, trust, token, fleet, log and quarantine command is
# offered after "--".
for c in "db build" "db verify" "db show" "db list" "db lookup" "db diff" "db install" \
  "maintenance start" "maintenance status" "maintenance finish" "maintenance abort" \
  "trust add" "trust retire" "trust list" "token create" "token show" "token check" \
  "token sign" "token rekey" "fleet report" "log summary" "log show" "log verify" "quarantine"; do
  read -r -a cmd <<<"$c"
  opts=$("$bin" "${cmd[@]}" --help | awk '/^[A-Za-z][^ ]*:$/ {s = $0; next} s == "Options:" && /^  -/ {
    n = split($1, a, ","); for (i = 1; i <= n; i++) if (a[i] ~ /^--/) print a[i] }' | sort |
    tr '\n' ' ' | sed 's/ $//')
  expect "$opts" "${cmd[@]}" --
done

echo "== bash completion: $failures failure(s)"
((failures == 0))
