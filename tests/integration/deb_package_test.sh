#!/usr/bin/env bash
# The Debian package against Debian policy (install_test.sh checks its layout and installs it):
#   1. lintian reports no error and no warning (deliberate exceptions are overridden in
#      installer/debian/lintian-overrides, each with its reason);
#   2. man pages are gzip-compressed, /usr/share/doc/lockd holds the copyright file and a
#      changelog.gz whose version is the package's;
#   3. in a Debian chroot (the tarball of chroot_cache.sh, never this system) with systemd
#      "running" and a policy-rc.d that forbids service actions (exit 101, as image builders
#      use): installing, upgrading and removing never start, restart or stop lockd.
# Needs root and LOCKD_BUILD_DIR with lockd and lockctl built. Never starts lockd.
# shellcheck disable=SC2015  # "check && ok || fail" is meant
set -euo pipefail

src=${LOCKD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${LOCKD_BUILD_DIR:?set LOCKD_BUILD_DIR to a build directory}
build=$(cd "$build" && pwd)
[[ $(id -u) -eq 0 ]] || { echo "deb_package_test: needs root" >&2; exit 1; }
version=$(sed -n 's/^project(lockd VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")

scratch=$(mktemp -d /tmp/lockd-deb-test.XXXXXX)
trap 'rm -rf --one-file-system "$scratch"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

(cd "$build" && cpack -G DEB -B "$scratch/pkg" >"$scratch/cpack.out" 2>&1) ||
  { cat "$scratch/cpack.out" >&2; echo "FAIL: cpack" >&2; exit 1; }
deb=$scratch/pkg/lockd_${version}_amd64.deb
[[ -f $deb ]] || { echo "FAIL: no $deb" >&2; exit 1; }

echo "== 1. lintian"
if ! command -v lintian >/dev/null; then
  fail "lintian is not installed (installer/deps.sh installs it)"
else
  # lintian refuses to run as root without --allow-root.
  lintian --allow-root --fail-on error,warning --no-tag-display-limit "$deb" >"$scratch/lintian" 2>&1 &&
    ok "lintian: no error, no warning ($(grep -c . "$scratch/lintian" || true) info/pedantic line(s))" ||
    fail "lintian: $(cat "$scratch/lintian")"
fi

echo "== 2. documentation in the package"
listing=$(dpkg-deb -c "$deb" | awk '{print $1, $6}')
for page in man8/lockd.8 man8/lockctl.8 man5/lockd.toml.5; do
  grep -qx -- "-rw-r--r-- ./usr/share/man/$page.gz" <<<"$listing" ||
    fail "no compressed /usr/share/man/$page.gz (0644)"
  grep -q "/usr/share/man/$page\$" <<<"$listing" && fail "uncompressed /usr/share/man/$page"
done
for f in copyright changelog.gz; do
  grep -qx -- "-rw-r--r-- ./usr/share/doc/lockd/$f" <<<"$listing" || fail "no /usr/share/doc/lockd/$f"
done
x=$scratch/x
dpkg-deb -x "$deb" "$x"
head -n 1 <(gzip -dc "$x/usr/share/doc/lockd/changelog.gz") | grep -q "^lockd ($version) " &&
  ok "changelog.gz names version $version" ||
  fail "changelog.gz does not start with 'lockd ($version)' (update installer/debian/changelog)"
gzip -dc "$x/usr/share/man/man8/lockd.8.gz" | grep -q '^\.TH LOCKD 8' || fail "lockd.8.gz is not the manual"
ok "man pages compressed, copyright and changelog present"

echo "== 3. maintainer scripts under policy-rc.d (exit 101)"
tarball=$(bash "$src/tests/integration/chroot_cache.sh" "${LOCKD_DEBOOTSTRAP_TIMEOUT:-200}") || tarball=""
if [[ -z $tarball || ! -f $tarball ]]; then
  fail "no chroot: build the cache once with bash $src/tests/integration/chroot_cache.sh"
else
  ch=$scratch/chroot
  mkdir "$ch"
  tar --zstd -C "$ch" -xf "$tarball"
  cp "$deb" "$ch/tmp/lockd.deb"
  in_chroot() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C chroot "$ch" "$@"; }
  # systemd cannot run in a chroot: a systemctl that records its arguments stands in for it.
  mkdir -p "$ch/run/systemd/system"
  printf '#!/bin/sh\necho "$*" >>/tmp/systemctl.log\n' >"$ch/usr/bin/systemctl"
  printf '#!/bin/sh\necho "$*" >>/tmp/policy.log\nexit 101\n' >"$ch/usr/sbin/policy-rc.d"
  chmod 755 "$ch/usr/bin/systemctl" "$ch/usr/sbin/policy-rc.d"
  calls() {
    [[ -f $ch/tmp/systemctl.log ]] && tr '\n' ';' <"$ch/tmp/systemctl.log"
    rm -f "$ch/tmp/systemctl.log"
  }
  in_chroot dpkg -i /tmp/lockd.deb >"$scratch/i1" 2>&1 || fail "dpkg -i: $(cat "$scratch/i1")"
  got=$(calls)
  [[ $got == "daemon-reload;" ]] && ok "install: only daemon-reload" || fail "install called systemctl $got"
  in_chroot dpkg -i /tmp/lockd.deb >"$scratch/i2" 2>&1 || fail "dpkg -i (upgrade): $(cat "$scratch/i2")"
  got=$(calls)
  [[ $got == "daemon-reload;" ]] && grep -q "try-restart" "$ch/tmp/policy.log" &&
    ok "upgrade: policy-rc.d was asked and refused the restart" ||
    fail "upgrade under policy-rc.d 101 called systemctl $got (policy asked: $(cat "$ch/tmp/policy.log" 2>/dev/null))"
  in_chroot dpkg --purge lockd >"$scratch/p" 2>&1 || fail "dpkg --purge: $(cat "$scratch/p")"
  got=$(calls)
  [[ $got == "disable lockd.service;daemon-reload;daemon-reload;" ]] &&
    ok "purge: no stop (policy-rc.d refused it), disable and daemon-reload only" ||
    fail "purge under policy-rc.d 101 called systemctl $got"
  in_chroot dpkg-query -W lockd >/dev/null 2>&1 && fail "lockd still known to dpkg after purge"
  left=$(cd "$ch" && find usr/share/doc/lockd usr/share/man -name 'lock*' 2>/dev/null || true)
  [[ -z $left ]] && ok "purge removed the documentation too" || fail "purge left: $left"
fi

echo "== done: $failures failure(s)"
((failures == 0))
