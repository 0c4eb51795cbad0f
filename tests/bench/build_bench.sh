#!/bin/bash
# Open-heavy benchmark (not a test; run by hand as root on an idle machine):
#   LOCKD_BUILD_DIR=build LOCKD_SOURCE_DIR=. bash tests/bench/build_bench.sh [ROUNDS] [FILES]
#
# The spec's real workload: building a C project with make and gcc, every exec, library and
# script checked. In a private mount namespace, a tmpfs holds a small root with the host's
# toolchain (make, gcc, cc1, as, ld, their libraries, the C headers) and a generated C project
# (FILES translation units, each including a dozen system headers, linked into one program).
# `make -j$(nproc)` runs in a chroot there, from clean, ROUNDS times each, alternating:
#   none       no daemon at all;
#   lockd      lockd enforcing on that tmpfs with the database's full default coverage
#              (execs, shared objects, scripts) and a baseline of the whole toolchain root;
#   fapolicyd  with FAPOLICYD=1: Debian's fapolicyd with the same coverage (exec and open of
#              executables and shared objects checked against a sha256 trust list of the root),
#              configured by tests/bench/fapolicyd_lib.sh (private config, tmpfs only, started
#              by hand, stopped by its pid).
#   floor      with FLOOR=1: tests/bench/null_responder.cpp, the same marks (exec and open
#              permission events on the tmpfs), allowing everything with one read, one write
#              and one close per event: the kernel's round trip alone, the floor for any daemon
#              that sees every open.
# With RO=1 the toolchain root is a read-only superblock (as a terminal's root usually is) and
# the project and /tmp are writable tmpfs mounts inside it (marked too): lockd leaves the
# allowlisted compilers and libraries to the kernel after their first allow
# (lockd/kernel_cache.h); headers and sources are still answered by lockd.
# The load average at the start of each round is printed with the figures.
# Every build's result is checked (the program links); under lockd and fapolicyd a foreign
# binary is checked to be denied first, so the coverage is really on.
export LOCKD_TEST_TIMEOUT=${LOCKD_TEST_TIMEOUT:-3600}
source "${LOCKD_SOURCE_DIR:?}/tests/integration/lib.sh"

ROUNDS=${1:-5}
FILES=${2:-120}
JOBS=$(nproc)

mkdir -p "$MNT"
mount -t tmpfs -o size=2g,mode=0755 benchfs "$MNT" && MOUNTS+=("$MNT")
R="$MNT/root"
mkdir -p "$R"/{proj,tmp} && chmod 1777 "$R/tmp"
RW_PATHS=()
if [[ ${RO:-0} == 1 ]]; then
  mount_tmpfs "$R/proj"
  mount_tmpfs "$R/tmp"
  chmod 1777 "$R/tmp"
  RW_PATHS=("$R/proj" "$R/tmp")
fi

# --- the toolchain root ------------------------------------------------------------------
# copy_in PATH...: copies each path into $R at the same place, following symlinks (the link
# and its target both land), and for ELF files every library ldd names.
copy_in() {
  local p t
  for p in "$@"; do
    [[ -e $p || -L $p ]] || continue
    cp -a --parents "$p" "$R" 2>/dev/null || true
    if [[ -L $p ]]; then
      t=$(readlink "$p")  # one level at a time, so every link of a chain lands
      [[ $t == /* ]] || t=$(dirname "$p")/$t
      [[ -e $R$t ]] || copy_in "$t"
    fi
    if [[ -f $p ]] && head -c 4 "$p" | grep -q $'\x7fELF'; then
      local lib
      for lib in $(ldd "$p" 2>/dev/null | grep -o '/[^ ]*'); do
        [[ -e $R$lib ]] || copy_in "$lib"
      done
    fi
  done
}
mkdir -p "$R"/usr/{bin,lib,lib64,sbin}
for l in /bin /lib /lib64 /sbin; do [[ -L $l ]] && cp -a "$l" "$R$l"; done
GCCDIR=$(dirname "$(gcc -print-prog-name=cc1)")
copy_in /usr/bin/make /bin/sh /usr/bin/dash /usr/bin/rm /usr/bin/mkdir /usr/bin/cat \
  "$(readlink -f /usr/bin/gcc)" /usr/bin/gcc /usr/bin/cc /usr/bin/as /usr/bin/ld \
  /usr/bin/x86_64-linux-gnu-as /usr/bin/x86_64-linux-gnu-ld /usr/bin/x86_64-linux-gnu-ld.bfd \
  "$GCCDIR"/cc1 "$GCCDIR"/collect2 "$GCCDIR"/lto-wrapper "$GCCDIR"/liblto_plugin.so* \
  "$GCCDIR"/crt*.o "$GCCDIR"/libgcc* "$GCCDIR"/include \
  /usr/lib/x86_64-linux-gnu/crt1.o /usr/lib/x86_64-linux-gnu/crti.o \
  /usr/lib/x86_64-linux-gnu/crtn.o /usr/lib/x86_64-linux-gnu/Scrt1.o \
  /usr/lib/x86_64-linux-gnu/libc.so /usr/lib/x86_64-linux-gnu/libc_nonshared.a \
  /usr/lib/x86_64-linux-gnu/libc.so.6 /usr/lib/x86_64-linux-gnu/libm.so \
  /usr/lib/x86_64-linux-gnu/libm.so.6 /usr/lib/x86_64-linux-gnu/libmvec.so.1 \
  /usr/lib/x86_64-linux-gnu/libmvec.so /usr/lib/x86_64-linux-gnu/libpthread.a \
  /usr/lib/x86_64-linux-gnu/libgcc_s.so.1 /lib64/ld-linux-x86-64.so.2 \
  /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 /usr/include
log "toolchain root: $(du -sh "$R" | cut -f1), $(find "$R" -type f | wc -l) files"

# --- the project ---------------------------------------------------------------------------
headers="stdio.h stdlib.h string.h math.h errno.h stdint.h unistd.h fcntl.h sys/stat.h
         pthread.h time.h ctype.h signal.h limits.h"
{
  for h in $headers; do echo "#include <$h>"; done
  echo "int work(int x);"
  for ((i = 0; i < FILES; i++)); do echo "int f$i(int x);"; done
} >"$R/proj/common.h"
for ((i = 0; i < FILES; i++)); do
  cat >"$R/proj/f$i.c" <<C
#include "common.h"
int f$i(int x) {
  char buf[64];
  snprintf(buf, sizeof buf, "%d-%s", x * $i, strerror(x & 7));
  return (int)strlen(buf) + (int)sqrt((double)(x + $i)) + (isdigit(buf[0]) ? 1 : 0);
}
C
done
{
  echo '#include "common.h"'
  echo 'int main(void) { int s = 0;'
  for ((i = 0; i < FILES; i++)); do echo "  s += f$i(s);"; done
  echo '  printf("%d\n", s); return 0; }'
} >"$R/proj/main.c"
objs=""
for ((i = 0; i < FILES; i++)); do objs+=" f$i.o"; done
printf 'CC = gcc\nCFLAGS = -O1\nprog: main.o%s\n\t$(CC) -o $@ $^ -lm\n%%.o: %%.c common.h\n\t$(CC) $(CFLAGS) -c $<\nclean:\n\trm -f *.o prog\n' \
  "$objs" >"$R/proj/Makefile"

build_once() {  # build_once LABEL ROUND: one clean build, wall time in ms to $results
  chroot "$R" /usr/bin/make -s -C /proj clean >/dev/null
  local t0 t1
  t0=$(date +%s%N)
  chroot "$R" /usr/bin/make -s -C /proj -j"$JOBS" >"$T/make.log" 2>&1 ||
    { cat "$T/make.log" >&2; fail "$1: the build failed"; return 1; }
  t1=$(date +%s%N)
  [[ -f $R/proj/prog ]] || { fail "$1: no program was linked"; return 1; }
  echo "$1 $2 $(((t1 - t0) / 1000000))" | tee -a "$results" >&2
}
results="$T/results"
: >"$results"

# The toolchain works (and warm the page cache) before anything is measured.
build_once warmup 0 || finish

# --- lockd: the whole root is the baseline ---------------------------------------------------
new_key signer
trust_key signer
"$LOCKCTL" db build --root "$R" --key "$T/keys/signer.pem" --out "$T/allowlist.lockdb" \
  --generation 1 --mode enforce "${WATCH_ARGS[@]}" >"$T/db-build.log" 2>&1 || { cat "$T/db-build.log"; exit 1; }
"$LOCKCTL" db show "$T/allowlist.lockdb" --trust "$T/trust" | grep -i -E 'entries|cover|polic' >&2 || true
write_config "$MNT"
cp /usr/bin/id "$MNT/foreign"
if [[ ${RO:-0} == 1 ]]; then
  mount -o remount,ro "$MNT"
  log "toolchain root read-only: $(awk -v m="$MNT" '$5 == m {print $NF}' /proc/self/mountinfo)"
fi

if [[ ${FAPOLICYD:-0} == 1 ]]; then
  source "$LOCKD_SOURCE_DIR/tests/bench/fapolicyd_lib.sh"
  fapolicyd_setup "allow perm=execute all : trust=1" "deny_audit perm=execute all : all" \
    "allow perm=open all : ftype=application/x-executable trust=1" \
    "allow perm=open all : ftype=application/x-sharedlib trust=1" \
    "deny_audit perm=open all : ftype=application/x-executable" \
    "deny_audit perm=open all : ftype=application/x-sharedlib" \
    "allow perm=open all : all"
  # fapolicyd_trust_line's format (path size sha256) for every file, in two passes over the
  # tree instead of three processes per file (8,000 files: minutes on a loaded machine).
  join -j1 <(find "$R" -type f -printf '%p %s\n' | sort -k1,1) \
    <(find "$R" -type f -print0 | xargs -0 -P2 -n 256 sha256sum | awk '{print $2, $1}' |
      sort -k1,1) >"$T/fapolicyd-trust"
fi

if [[ ${FLOOR:-0} == 1 ]]; then
  NULL_RESPONDER="$T/null_responder"
  g++ -O2 -std=c++20 "$LOCKD_SOURCE_DIR/tests/bench/null_responder.cpp" -o "$NULL_RESPONDER"
fi
for ((r = 1; r <= ROUNDS; r++)); do
  echo "load $r $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$results" >&2
  build_once none "$r"

  start_lockd
  expect_denied "$MNT/foreign"
  build_once lockd "$r"
  stop_lockd

  if [[ ${FAPOLICYD:-0} == 1 ]]; then
    fapolicyd_start "$T/fapolicyd-trust"
    expect_denied "$MNT/foreign"
    build_once fapolicyd "$r"
    fapolicyd_stop
  fi
  if [[ ${FLOOR:-0} == 1 ]]; then
    rm -f "$T/null-ready"
    "$NULL_RESPONDER" "$MNT" "${RW_PATHS[@]}" "$T/null-ready" 2>>"$T/null.log" &
    npid=$!
    EXTRA_PIDS+=("$npid")
    for _ in $(seq 300); do [[ -e $T/null-ready ]] && break; sleep 0.1; done
    [[ -e $T/null-ready ]] || fail "null_responder did not start"
    build_once floor "$r"
    kill -TERM "$npid"
    wait "$npid" 2>/dev/null || true
  fi
done

"$PYTHON" - "$results" "$FILES" "$JOBS" <<'PY'
import statistics, sys
rows = {}
loads = []
for line in open(sys.argv[1]):
    if line.startswith("load "):
        loads.append(" ".join(line.split()[2:]))
        continue
    label, rnd, ms = line.split()
    if label != "warmup":
        rows.setdefault(label, []).append(int(ms))
print(f"== build benchmark: make -j{sys.argv[3]} of {sys.argv[2]} C files, clean, "
      f"wall ms (median of {len(rows['none'])} rounds) ==")
print("load average at each round's start: " + "; ".join(loads))
med = {k: statistics.median(v) for k, v in rows.items()}
for k, v in rows.items():
    print(f"{k:10s} {med[k]:8.0f} ms   rounds: {', '.join(map(str, v))}")
for k in rows:
    if k != "none":
        pairs = [x / n for x, n in zip(rows[k], rows["none"])]
        print(f"{k} / none = {med[k] / med['none']:.3f} (paired per round: median "
              f"{statistics.median(pairs):.3f}, min {min(pairs):.3f}, max {max(pairs):.3f})")
PY
finish
