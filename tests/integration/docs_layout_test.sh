#!/usr/bin/env bash
# Every lockd path the documentation names is real, and every installed file is documented:
#   1. `cmake --install` into a scratch root (DESTDIR, --prefix /usr: the layout of
#      installer/install.sh and of the .deb);
#   2. each path under lockd's places (/usr/sbin/lockd, /usr/bin/lockctl, /etc/lockd,
#      /var/lib/lockd, /var/log/lockd, /run/lockd, the unit, manuals, completion) named in
#      README.md, docs/*.md, docs/man/*, installer/lockd.toml or installer/lockd.service is
#      either installed there or is one of the files made at run time, listed below with the
#      source that makes it (checked to still say so);
#   3. each installed file is named somewhere in that documentation.
# install_test.sh checks modes, owners and the FILES sections of the manuals; this test is
# the docs-wide net for a renamed or mistyped path. Never starts lockd.
# shellcheck disable=SC2015  # "check && ok || fail" is meant
set -euo pipefail

src=${LOCKD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${LOCKD_BUILD_DIR:?set LOCKD_BUILD_DIR to a build directory}
for b in lockd/lockd tools/lockctl; do
  [[ -x $build/$b ]] || { echo "docs_layout_test: $build/$b is not built" >&2; exit 1; }
done
scratch=$(mktemp -d /tmp/lockd-docs-layout.XXXXXX)
trap 'rm -rf --one-file-system "$scratch"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

root=$scratch/root
DESTDIR=$root cmake --install "$build" --prefix /usr >"$scratch/install.out" 2>&1 ||
  { cat "$scratch/install.out" >&2; echo "FAIL: cmake --install" >&2; exit 1; }

# Files lockd, lockctl, systemd or the operator make at run time: path (a glob), then a source
# file and a string in it that shows the file is made there.
runtime_table() {
  cat <<'EOT'
/run/lockd installer/lockd.service RuntimeDirectory=lockd
/run/lockd/control.sock lockd/config.h "/run/lockd/control.sock"
/var/lib/lockd/allowlist.lockdb lockd/config.h "/var/lib/lockd/allowlist.lockdb"
/var/lib/lockd/allowlist.lockdb.new tools/maintenance/staging.h "allowlist.lockdb.new"
/var/lib/lockd/staging tools/maintenance/staging.h "staging"
/var/lib/lockd/staging/allowlist.lockdb.new tools/maintenance/staging.h "allowlist.lockdb.new"
/var/lib/lockd/staging/install.lockdb tools/maintenance/staging.h "install.lockdb"
/var/lib/lockd/highest-generation lockd/state_store.h "/highest-generation"
/var/lib/lockd/terminal-id hashdb/terminal_id.h "/var/lib/lockd/terminal-id"
/var/lib/lockd/maintenance/window lockd/maintenance/window.h <state_dir>/maintenance/window
/var/lib/lockd/maintenance/learned lockd/maintenance/learned_list.h <state_dir>/maintenance/learned
/var/log/lockd/audit.jsonl lockd/config.h "/var/log/lockd/audit.jsonl"
/etc/lockd/trust/*.pem installer/install.sh /etc/lockd/trust
EOT
}

docs=("$src/README.md" "$src"/docs/*.md "$src"/docs/man/* "$src/installer/lockd.toml"
  "$src/installer/lockd.service")
# Absolute lockd paths in the documentation (roff's \- undone; a trailing . , ; : ) or /
# dropped), with the file that names each.
for d in "${docs[@]}"; do
  sed 's/\\-/-/g' "$d" | grep -oE '(/usr/s?bin/lock[a-z]*|/etc/lockd|/var/lib/lockd|/var/log/lockd|/run/lockd|/lib/systemd/system/lockd|/usr/share/(man|bash-completion|doc)/[a-z0-9/-]*lock)[A-Za-z0-9_.*/-]*' |
    sed -E 's#[.,;:)]+$##; s#(.)/$#\1#' | sort -u | sed "s#\$# ${d#"$src"/}#" || true
done | sort -u >"$scratch/named"
[[ -s $scratch/named ]] || { echo "FAIL: no paths found in the documentation" >&2; exit 1; }

checked=0
while read -r path where; do
  checked=$((checked + 1))
  [[ -e $root$path ]] && continue
  found=""
  while read -r pattern file evidence; do
    evidence=${evidence#\"}
    evidence=${evidence%\"}
    # shellcheck disable=SC2053  # the table's path is a glob
    if [[ $path == $pattern ]]; then
      if [[ -f $src/$file ]] && grep -qF -- "$evidence" "$src/$file"; then
        found=yes
      else
        found=stale
        fail "$path (named in $where) is made at run time by $file, which no longer says '$evidence'"
      fi
      break
    fi
  done < <(runtime_table)
  [[ -n $found ]] || fail "$path (named in $where) is neither installed nor made at run time"
done <"$scratch/named"
ok "$checked documented path mention(s) checked against the install and the run-time table"

all_docs=$(sed 's/\\-/-/g' "${docs[@]}")
while read -r f; do
  base=$f
  [[ $f == /usr/share/man/* ]] && base=$(basename "$f")  # manuals are named as lockd(8) too
  grep -qF -- "$base" <<<"$all_docs" || fail "installed but named in no documentation: $f"
done < <(cd "$root" && find . -type f -printf '/%P\n' | sort)
ok "every installed file is named in the documentation"

echo "== done: $failures failure(s)"
((failures == 0))
