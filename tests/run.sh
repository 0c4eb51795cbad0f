#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script):
#   1. installs the build and test dependencies (installer/deps.sh),
#   2. builds everything in build/ and runs every ctest test, including the `root` integration
#      tests against the real kernel when run as root (each in a private mount namespace) and
#      the system test bed (label `system`: lockd with the shipped configuration in a whole
#      Debian root of its own, behind its guard; tests/system/README.md),
#   3. builds again with AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/ and runs
#      the unit tests and fuzz corpora there,
#   4. builds the whole project with clang in build-fuzz/ (-DLOCKD_FUZZ=ON: libFuzzer
#      instrumentation, ASan + UBSan) and runs every fuzz target for LOCKD_FUZZ_SECONDS
#      (default 20) from its seed corpus, one after the other (ctest label `libfuzzer`;
#      docs/fuzzing.md); skipped, saying so, when clang++ with libFuzzer is not installed.
# Set LOCKD_SKIP_ASAN=1 to skip step 3, LOCKD_SKIP_FUZZ=1 to skip step 4. Exits non-zero when
# any test fails or a fuzz target finds anything.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

bash installer/deps.sh

echo "== build (RelWithDebInfo) =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"

echo "== tests =="
labels=()
if [[ $(id -u) -ne 0 ]]; then
  echo "not root: skipping the integration tests labelled 'root'"
  labels=(-LE root)
fi
if [[ $(id -u) -eq 0 ]]; then
  # The Debian chroot the package test installs the .deb into, and the root of the system test
  # bed (tests/system/README.md), each built once, then cached.
  bash tests/integration/chroot_cache.sh >/dev/null
  bash tests/integration/chroot_cache.sh --system >/dev/null
fi
# Test daemons turn user namespaces off (restrict_user_namespaces) only on stand-in files over
# the machine's settings (tests/integration/lib.sh, tests/system/enter.sh). Checked here: a
# machine setting changed by the suite is put back and fails the run.
userns_knobs=(/proc/sys/user/max_user_namespaces /proc/sys/kernel/unprivileged_userns_clone)
declare -A userns_before=()
for k in "${userns_knobs[@]}"; do [[ -e $k ]] && userns_before[$k]=$(cat "$k"); done
ctest_rc=0
ctest --test-dir build --output-on-failure --timeout 600 "${labels[@]}" || ctest_rc=$?
for k in "${!userns_before[@]}"; do
  if [[ $(cat "$k") != "${userns_before[$k]}" ]]; then
    echo "FAIL: the suite changed $k from ${userns_before[$k]} to $(cat "$k"); put back" >&2
    echo "${userns_before[$k]}" >"$k" || true
    ctest_rc=1
  fi
done
[[ $ctest_rc -eq 0 ]] || exit "$ctest_rc"

if [[ "${LOCKD_SKIP_ASAN:-0}" != 1 ]]; then
  echo "== unit tests under ASan + UBSan =="
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DLOCKD_SANITIZE="address;undefined" \
    -DLOCKD_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j"$jobs"
  ctest --test-dir build-asan --output-on-failure --timeout 900 -L unit
fi

# True when clang++ can link a libFuzzer target (Debian: clang, libclang-rt-dev).
have_libfuzzer() {
  command -v clang++ >/dev/null 2>&1 || return 1
  local dir ok=0
  dir=$(mktemp -d)
  echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
    >"$dir/t.cpp"
  clang++ -fsanitize=fuzzer,address,undefined "$dir/t.cpp" -o "$dir/t" >/dev/null 2>&1 || ok=1
  rm -rf "$dir"
  return "$ok"
}

if [[ "${LOCKD_SKIP_FUZZ:-0}" != 1 ]]; then
  seconds=${LOCKD_FUZZ_SECONDS:-20}
  echo "== libFuzzer (clang, ASan + UBSan): every fuzz target for $seconds s =="
  if ! have_libfuzzer; then
    echo "SKIPPED: clang++ with libFuzzer not found (Debian: apt-get install clang libclang-rt-dev);"
    echo "         no fuzz target ran"
  else
    cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
      -DLOCKD_FUZZ=ON -DLOCKD_FUZZ_SECONDS="$seconds" -DLOCKD_BUILD_BENCH=OFF >/dev/null
    cmake --build build-fuzz -j"$jobs"
    ctest --test-dir build-fuzz --verbose -L libfuzzer
  fi
fi
