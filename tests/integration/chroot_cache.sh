#!/usr/bin/env bash
# Builds (once) the Debian chroot tarball that install_test.sh installs the .deb into, so that
# the package is never installed into the machine running the tests. The chroot holds the
# runtime packages installer/deps.sh names, so dpkg -i inside it needs no network.
# With --system: the root of the system test bed (tests/system/), which also holds what a
# terminal's day needs (tests/system/packages: python3, cron, logrotate, procps, ...).
# Prints the tarball's path on stdout. Uses the Debian mirror this machine's apt is set up
# with. Usage: chroot_cache.sh [--system] [TIMEOUT_SECONDS]   (default: no limit)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
cache=${LOCKD_CHROOT_CACHE:-/var/cache/lockd-test}
runtime=$(sed -n 's/^runtime=(\(.*\))$/\1/p' "$src/installer/deps.sh")
flavour=minbase
if [[ "${1:-}" == --system ]]; then
  shift
  flavour=system
  runtime="$runtime $(sed 's/#.*//' "$src/tests/system/packages" | xargs)"
fi
tarball=$cache/bookworm-$flavour-$(echo "$runtime" | sha256sum | cut -c1-12).tar.zst
if [[ -f $tarball ]]; then
  echo "$tarball"
  exit 0
fi

mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)$/\1/p' \
  /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
if [[ -z $mirror && -f /etc/apt/sources.list ]]; then
  mirror=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
fi
[[ -n $mirror ]] || { echo "chroot_cache: no Debian mirror found in apt's sources" >&2; exit 2; }

command -v debootstrap >/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
mkdir -p "$cache"
dbs=$(mktemp -d "$cache/debootstrap.XXXXXX")
trap 'rm -rf --one-file-system "$dbs"' EXIT
echo "chroot_cache: building $tarball from $mirror (debootstrap, once)" >&2
limit=()
[[ -n "${1:-}" ]] && limit=(timeout "$1")
if ! "${limit[@]}" debootstrap --variant=minbase --include="$(tr ' ' ',' <<<"$runtime")" \
  bookworm "$dbs" "$mirror" >"$dbs.log" 2>&1; then
  tail -5 "$dbs.log" >&2
  rm -f "$dbs.log"
  exit 1
fi
rm -f "$dbs.log"
chmod 0755 "$dbs"  # the root directory of the chroot (mktemp made it 0700)
tar --zstd -C "$dbs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
echo "$tarball"
