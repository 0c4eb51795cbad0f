#!/bin/bash
# The image build inside the bed, before lockd ever runs here: the .deb with dpkg, then what
# installer/install.sh does after its file copy (section 4 and 5 there): the trust anchor as
# /etc/lockd/trust/<fingerprint>.pem, the baseline of / and every local filesystem below it
# (lockctl db build --cross-filesystems), signed on the field engineer's file token, verified
# with the installed anchors, mode 0600. The shipped /etc/lockd/lockd.toml is left as it is.
#   install-lockd.sh LOCKD_DEB TOKEN_DIR TOKEN_PUBLIC_PEM   (passphrase on stdin)
set -euo pipefail
deb=$1 token=$2 anchor=$3
dpkg -i "$deb"
fp=$(openssl pkey -pubin -in "$anchor" -outform DER | sha256sum | cut -c1-64)
install -o root -g root -m 0644 "$anchor" "/etc/lockd/trust/$fp.pem"
db=/var/lib/lockd/allowlist.lockdb
lockctl db build --out "$db" --generation 1 --mode enforce --root / --cross-filesystems \
  --token "$token" --passphrase-fd 0
lockctl db verify "$db" --trust /etc/lockd/trust
chmod 0600 "$db"
echo "install-lockd: baseline generation 1 (enforce) signed by token, anchor ${fp:0:16}"
