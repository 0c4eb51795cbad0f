#!/usr/bin/env bash
# Installs everything lockd needs to build and test, from Debian's packages.
# Used by the README, by .ci/run and by installer/install.sh.
#   installer/deps.sh            build + test dependencies
#   installer/deps.sh --runtime  only what the installed daemon and lockctl need at run time
set -euo pipefail

runtime=(libssl3 openssl libtomlplusplus3 libmount1)
build=(build-essential cmake pkg-config libssl-dev libcli11-dev libtomlplusplus-dev doctest-dev
       libp11-kit-dev nlohmann-json3-dev libmount-dev)
test=(softhsm2 opensc gnutls-bin rsyslog e2fsprogs squashfs-tools dosfstools util-linux
      python3 file procps kmod jq debootstrap zstd lintian squashfuse fuse3)
test+=(chromium)  # tests/integration/export_browser_test.sh renders the export's report.html
test+=(rsyslog-gnutls)  # tests/integration/siem_tls_test.sh: rsyslog's gtls driver (RFC 5425)
test+=(clang libclang-rt-dev)  # tests/fuzz: the clang build and its libFuzzer targets (tests/run.sh)

want=("${runtime[@]}")
if [[ "${1:-}" != "--runtime" ]]; then
  want+=("${build[@]}" "${test[@]}")
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "deps: all ${#want[@]} packages present"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 2
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${#missing[@]} packages"
