#!/usr/bin/env bash
# Builds the system test bed's own packages and programs from tests/system/kiosk/ into OUTDIR:
#   kiosk-base_1.0_amd64.deb  the kiosk application, in the image before the baseline
#   kiosk-base_1.1_amd64.deb  the update installed in a maintenance window: maintainer scripts
#                             (prerm, postinst running the new native tool), a shared library
#                             (activates libc-bin's ldconfig trigger: activate-noawait ldconfig)
#   kiosk-plugin-receipts_1.0_all.deb  a plugin installed with it: its file in /opt/kiosk/plugins
#                             activates kiosk-base's trigger (interest-noawait /opt/kiosk/plugins),
#                             whose postinst rebuilds the plugin index
#   foreign                   a program in no baseline (foreign code for the checks)
# Usage: make_debs.sh OUTDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: make_debs.sh OUTDIR}
mkdir -p "$out"
work=$(mktemp -d "$out/debs.XXXXXX")
trap 'rm -rf "$work"' EXIT
k=$here/kiosk
cc=(gcc -O2 -Wall -Werror)

"${cc[@]}" -o "$out/foreign" "$k/src/foreign.c"
"${cc[@]}" -shared -fPIC -Wl,-soname,libkiosk.so.1 -o "$work/libkiosk.so.1" "$k/src/libkiosk.c"
"${cc[@]}" -o "$work/kiosk-tool" "$k/src/kiosk-tool.c" "$work/libkiosk.so.1"

for version in 1.0 1.1; do
  d=$work/kiosk-base-$version
  mkdir -p "$d/DEBIAN"
  cp -a "$k/files/." "$d/"
  for f in control postinst prerm conffiles; do
    sed "s/@VERSION@/$version/g" "$k/debian/$f" >"$d/DEBIAN/$f"
  done
  chmod 0755 "$d/DEBIAN/postinst" "$d/DEBIAN/prerm"
  sed -i "s/@VERSION@/$version/g" "$d/opt/kiosk/lib/kiosk/__init__.py"
  # Each version's files get their own time: Python takes a __pycache__ entry as current when
  # the source's mtime and size match it, and 1.0 and 1.1 of a module can have the same size.
  find "$d" -exec touch -h -d "2025-0$((${version#1.} + 1))-01 12:00:00" {} +
  echo "interest-noawait /opt/kiosk/plugins" >"$d/DEBIAN/triggers"
  if [[ $version == 1.1 ]]; then
    install -D -m 0755 "$work/kiosk-tool" "$d/opt/kiosk/bin/kiosk-tool"
    install -D -m 0644 "$work/libkiosk.so.1" "$d/usr/lib/x86_64-linux-gnu/libkiosk.so.1"
    echo "activate-noawait ldconfig" >>"$d/DEBIAN/triggers"
  fi
  dpkg-deb --root-owner-group -Zgzip --build "$d" "$out/kiosk-base_${version}_amd64.deb" >/dev/null
done

d=$work/kiosk-plugin-receipts
mkdir -p "$d/DEBIAN"
cp -a "$k/plugin-receipts/." "$d/"
cat >"$d/DEBIAN/control" <<CONTROL
Package: kiosk-plugin-receipts
Version: 1.0
Architecture: all
Maintainer: lockd system test bed <bed@example.invalid>
Depends: kiosk-base (>= 1.1)
Section: misc
Priority: optional
Description: receipt printer plugin of the kiosk application (lockd system test bed)
 Installs a module into /opt/kiosk/plugins, which triggers kiosk-base.
CONTROL
dpkg-deb --root-owner-group -Zgzip --build "$d" "$out/kiosk-plugin-receipts_1.0_all.deb" >/dev/null
echo "$out"
