#!/usr/bin/env bash
# The manuals in docs/man/ tell the truth about the programs:
#   - each page formats without a groff warning;
#   - lockctl(8): every command section (.SS "db build") lists exactly the options that
#     `lockctl db build --help` shows, and every command lockctl has is documented; a section
#     marked `.\" pending: ...` (a command still being written) must not exist yet in lockctl;
#   - lockd(8): the OPTIONS section lists exactly the options of `lockd --help`;
#   - lockd.toml(5): the KEYS section lists exactly the keys lockd/config.cpp accepts, and the
#     shipped installer/lockd.toml uses only those.
# Needs LOCKD_BUILD_DIR with lockd and lockctl built; does not need root, starts nothing.
set -euo pipefail

src=${LOCKD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${LOCKD_BUILD_DIR:?set LOCKD_BUILD_DIR to a build directory}
lockctl=$build/tools/lockctl
lockd=$build/lockd/lockd
man=$src/docs/man
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# Long options in CLI11 help text (without --help), one per line, sorted.
help_options() {
  awk '/^[A-Za-z][^ ]*:$/ {s = $0; next}
       s != "Positionals:" && s != "Subcommands:" && /^  -/ {
         n = split($1, a, ","); for (i = 1; i <= n; i++) if (a[i] ~ /^--/) print a[i] }' |
    { grep -v -x -e --help -e --help-all || true; } | sort -u
}
help_subcommands() { awk '/^[A-Za-z][^ ]*:$/ {s = $0; next} s == "Subcommands:" && /^  [^ ]/ {print $1}'; }
# Long options written in a piece of roff (\-\-name), sorted.
roff_options() { { grep -oE '\\-\\-[a-z0-9]([a-z0-9]|\\-)*' || true; } | sed 's/\\-/-/g' | { grep -v -x -e --help || true; } | sort -u; }

for page in "$man"/*.[0-9]; do
  warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
  [[ -z $warnings ]] || fail "$(basename "$page"): groff: $warnings"
done

# --- lockctl(8) ------------------------------------------------------------------------------
# Every command path lockctl has: commands (leaves) and all (leaves and groups).
# (`lockctl db nosuch --help` prints db's help and exits 0, so existence is read from the tree.)
commands=()
all=$'\n'
walk() {
  local subs
  [[ $# -gt 0 ]] && all+="$*"$'\n'
  subs=$("$lockctl" "$@" --help 2>/dev/null | help_subcommands)
  if [[ -z $subs ]]; then
    commands+=("$*")
    return
  fi
  local s
  for s in $subs; do walk "$@" "$s"; done
}
walk
[[ ${#commands[@]} -gt 3 ]] || fail "found only ${#commands[@]} lockctl commands"

page=$man/lockctl.8
sections=$(sed -n 's/^\.SS "\(.*\)"$/\1/p' "$page")
while IFS= read -r sec; do
  body=$(awk -v t=".SS \"$sec\"" '$0 == t {on = 1; next} /^\.S[SH] / {on = 0} on' "$page")
  read -r -a words <<<"$sec"
  if grep -q '^\.\\" pending:' <<<"$body"; then
    if [[ $all == *$'\n'"$sec"$'\n'* ]]; then
      fail "lockctl.8: \"$sec\" is marked pending but lockctl has it now: check the section and drop the marker"
    else
      echo "pending (not in lockctl yet): $sec"
    fi
    continue
  fi
  if [[ $all != *$'\n'"$sec"$'\n'* ]]; then
    fail "lockctl.8 documents \"$sec\", which lockctl does not have"
    continue
  fi
  help=$("$lockctl" "${words[@]}" --help 2>&1)
  want=$(help_options <<<"$help")
  got=$(roff_options <<<"$body")
  if [[ $want != "$got" ]]; then
    fail "lockctl.8 \"$sec\": options differ from --help: $(diff <(echo "$want") <(echo "$got") |
      sed -n 's/^< /missing in man: /p; s/^> /not in lockctl: /p' | tr '\n' ' ')"
  fi
done <<<"$sections"
for c in "${commands[@]}"; do
  grep -q -x -F "$c" <<<"$sections" || fail "lockctl has \"$c\" but lockctl.8 has no section for it"
done
echo "lockctl.8: $(wc -l <<<"$sections") sections checked against ${#commands[@]} commands"

# --- lockd(8) --------------------------------------------------------------------------------
opts=$(awk '/^\.SH OPTIONS/ {on = 1; next} /^\.SH / {on = 0} on' "$man/lockd.8" | roff_options)
# lockd's usage text: "  --config FILE  ..." lines.
want=$("$lockd" --help | grep -o '^ *--[a-z-]*' | tr -d ' ' | grep -v -x -e --help | sort -u)
[[ $opts == "$want" ]] || fail "lockd.8 OPTIONS: $(tr '\n' ' ' <<<"$opts"), lockd --help: $(tr '\n' ' ' <<<"$want")"

# --- lockd.toml(5) ---------------------------------------------------------------------------
documented=$(awk '/^\.SH KEYS/ {on = 1; next} /^\.SH / {on = 0} on && prev == ".TP" {print $2} {prev = $0}' \
  "$man/lockd.toml.5" | sort -u)
accepted=$(grep -o 'key == "[a-z_]*"' "$src/lockd/config.cpp" | sed 's/.*"\(.*\)"/\1/' | sort -u)
[[ $documented == "$accepted" ]] ||
  fail "lockd.toml.5 keys: $(tr '\n' ' ' <<<"$documented"); lockd/config.cpp accepts: $(tr '\n' ' ' <<<"$accepted")"
shipped=$(grep -o '^[a-z_]* *=' "$src/installer/lockd.toml" | tr -d ' =' | sort -u)
extra=$(comm -23 <(echo "$shipped") <(echo "$accepted"))
[[ -z $extra ]] || fail "installer/lockd.toml sets keys lockd does not accept: $extra"

echo "== man pages: $failures failure(s)"
((failures == 0))
