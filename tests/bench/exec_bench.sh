#!/bin/bash
# Exec benchmark for lockd (not a test; run by hand as root):
#   LOCKD_BUILD_DIR=build LOCKD_SOURCE_DIR=. bash tests/bench/exec_bench.sh [ROUNDS] [N]
#
# In a private mount namespace, on a tmpfs that lockd alone watches:
#  1. steady state: spawn-and-wait of an allowlisted small binary (coreutils `true`), N times
#     per round, without a daemon and with lockd (cache warm), rounds alternated;
#  2. first exec: each spawn runs a fresh copy (new inode: a cache miss, hashed), without a
#     daemon and with lockd, alternated;
#  3. first exec of a 100 MB allowlisted binary (true + 100 MB appended), fresh copy each time;
#     the extra latency over no daemon gives the hashing throughput;
#  4. lockd's resident memory;
#  5. with FAPOLICYD=1: the same three measurements under Debian's fapolicyd (integrity =
#     sha256, trust = file listing exactly the binaries lockd allows, watch_fs = tmpfs), started
#     by hand in the foreground inside this private namespace (its config, /var/lib/fapolicyd
#     and /run/fapolicyd are bind-mounted from the test dir there, so the installed service
#     and the host are untouched) and stopped by its pid. It runs as root here (uid = root in
#     its config) because dropping to its own user fails in this environment.
#  6. with FLOOR=1: the same steady-state and first-exec measurements under a trivial responder
#     (tests/bench/null_responder.cpp: same marks, allows everything with one read, one write and
#     one close per event), the kernel's round trip alone: the floor for any daemon.
#  7. with RO=1: the steady state again for a copy of the same binary on a second, read-only
#     tmpfs ($T/ro) and on a squashfs image ($T/sq), marked like the first (fapolicyd's
#     watch_fs then covers tmpfs and squashfs): where lockd leaves allowlisted files to the
#     kernel after their first allow (lockd/kernel_cache.h: execs only on the tmpfs, whose opens
#     lockd still answers; execs and opens on squashfs, a type that cannot be written).
#  8. with PAIRED=1, in every phase (none, lockd, fapolicyd, floor): execs of `true` on the
#     marked tmpfs (and with RO=1 on the read-only one) each paired with an exec of the same
#     binary on a filesystem no daemon watches ($T, the host's), in alternating order
#     (exec_bench_spawn --paired): the per-pair ratio is taken a few ms apart under the same
#     load, so it is far less noisy than medians of separate phases. The daemon's overhead is
#     its phase's median ratio over the no-daemon phase's (which holds the filesystems'
#     own difference).
# Prints one line per measurement and a summary block (copied into docs/performance.md), and
# the load average at the start of each round.
# BENCH_RT=1 runs the spawner and lockd under SCHED_FIFO (chrt -f 10), which takes most of the
# scheduling noise of a busy shared machine out of the figures (RT throttling still leaves
# others 5% of the CPU).
export LOCKD_TEST_TIMEOUT=${LOCKD_TEST_TIMEOUT:-1800}
source "${LOCKD_SOURCE_DIR:?}/tests/integration/lib.sh"

ROUNDS=${1:-10}
N=${2:-2000}
FRESH=${FRESH:-200}
SPAWN="$LOCKD_BUILD_DIR/integration-helpers/exec_bench_spawn"
mkdir -p "$(dirname "$SPAWN")"  # absent on a fresh build until the integration tests ran
g++ -O2 -std=c++20 "$LOCKD_SOURCE_DIR/tests/bench/exec_bench_spawn.cpp" -o "$SPAWN"
NULL_RESPONDER="$LOCKD_BUILD_DIR/integration-helpers/null_responder"
if [[ ${FLOOR:-0} == 1 ]]; then
  g++ -O2 -std=c++20 "$LOCKD_SOURCE_DIR/tests/bench/null_responder.cpp" -o "$NULL_RESPONDER"
fi

RT=()
if [[ ${BENCH_RT:-0} == 1 ]]; then
  RT=(chrt -f 10)
  export LOCKD_WRAPPER="chrt -f 10"
fi

setup_standard tmpfs
BIG="$T/big-src"
cp /usr/bin/true "$BIG"
head -c $((100 * 1000 * 1000)) /dev/urandom >>"$BIG"
cp "$BIG" "$MNT/big"
RO_MNT="$T/ro"
RO_PATHS=()
if [[ ${RO:-0} == 1 ]]; then
  mount_tmpfs "$RO_MNT"
  cp /usr/bin/true "$RO_MNT/good"
  mount -o remount,ro "$RO_MNT"
  SQ_MNT="$T/sq"
  mkdir -p "$T/sq-src" "$SQ_MNT"
  cp /usr/bin/true "$T/sq-src/good"
  mksquashfs "$T/sq-src" "$T/sq.img" -quiet -noappend >/dev/null
  mount -t squashfs -o loop,ro "$T/sq.img" "$SQ_MNT"
  MOUNTS+=("$SQ_MNT")
  RO_PATHS=("$RO_MNT" "$SQ_MNT")
  WATCH_ARGS+=(--watch "$RO_MNT" --watch "$SQ_MNT")
  write_config "$MNT" "$RO_MNT" "$SQ_MNT"
  export FAPOLICYD_WATCH_FS=tmpfs,squashfs
fi
make_db signer "$T/allowlist.lockdb" 1 enforce "$MNT/good" "$MNT/big"

# fresh_copies PREFIX COUNT SRC: COUNT new inodes with SRC's content; prints their paths.
fresh_copies() {
  local i
  for ((i = 0; i < $2; i++)); do cp "$3" "$MNT/$1-$i"; echo "$MNT/$1-$i"; done
}

# CPU time lockd has used so far (all threads of the supervisor and of its decider, the child
# that reads and answers the events; the supervisor alone is idle), in ns.
lockd_cpu_ns() {
  local p pids=("$LOCKD_PID")
  for p in $(pgrep -P "$LOCKD_PID"); do pids+=("$p"); done
  for p in "${pids[@]}"; do cat /proc/"$p"/task/*/schedstat 2>/dev/null; done |
    awk '{s += $1} END {print s + 0}'
}

results="$T/results"
: >"$results"
PLAIN="$T/plain-good"  # on the host's filesystem: marked by no daemon here
cp /usr/bin/true "$PLAIN"
paired() {  # paired PHASE ROUND: the PAIRED=1 measurements of one phase
  [[ ${PAIRED:-0} == 1 ]] || return 0
  local out
  out=$("${RT[@]}" "$SPAWN" --paired "$N" "$PLAIN" "$MNT/good")
  echo "paired-rw-$1 $2 $out" | tee -a "$results" >&2
  if [[ ${RO:-0} == 1 ]]; then
    out=$("${RT[@]}" "$SPAWN" --paired "$N" "$PLAIN" "$RO_MNT/good")
    echo "paired-ro-$1 $2 $out" | tee -a "$results" >&2
    out=$("${RT[@]}" "$SPAWN" --paired "$N" "$PLAIN" "$SQ_MNT/good")
    echo "paired-sq-$1 $2 $out" | tee -a "$results" >&2
  fi
}
measure() {  # measure LABEL ROUND N FILE...
  local label=$1 round=$2 n=$3
  shift 3
  local out
  out=$("${RT[@]}" "$SPAWN" "$n" "$@")
  echo "$label $round $out" | tee -a "$results" >&2
}

if [[ ${FAPOLICYD:-0} == 1 ]]; then
  source "$LOCKD_SOURCE_DIR/tests/bench/fapolicyd_lib.sh"
  fapolicyd_setup "allow perm=execute all : trust=1" "deny_audit perm=execute all : all" \
    "allow perm=open all : all"
fi

fapolicyd_round() {
  local r=$1
  mapfile -t fresh < <(fresh_copies "f$r-c" "$FRESH" "$MNT/good")
  mapfile -t bigs < <(fresh_copies "b$r-c" 1 "$BIG")
  local f
  local ro_good=()
  [[ ${RO:-0} == 1 ]] && ro_good=("$RO_MNT/good" "$SQ_MNT/good")
  for f in "$MNT/good" "${ro_good[@]}" "${fresh[@]}" "${bigs[@]}"; do fapolicyd_trust_line "$f"; done \
    >"$T/fapolicyd-trust"
  fapolicyd_start "$T/fapolicyd-trust"
  expect_denied "$MNT/foreign"
  "$MNT/good"
  measure fapolicyd-steady "$r" "$N" "$MNT/good"
  paired fapolicyd "$r"
  if [[ ${RO:-0} == 1 ]]; then
    "$RO_MNT/good"
    measure fapolicyd-ro "$r" "$N" "$RO_MNT/good"
  fi
  measure fapolicyd-first "$r" 1 "${fresh[@]}"
  measure fapolicyd-big "$r" 1 "${bigs[@]}"
  rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$FP_PID/status")
  echo "fapolicyd-rss $r $rss_kb" | tee -a "$results" >&2
  fapolicyd_stop
  rm -f "${fresh[@]}" "${bigs[@]}"
}

floor_round() {
  local r=$1
  rm -f "$T/null-ready"
  "${RT[@]}" "$NULL_RESPONDER" "$MNT" "${RO_PATHS[@]}" "$T/null-ready" 2>>"$T/null.log" &
  local pid=$!
  EXTRA_PIDS+=("$pid")
  for _ in $(seq 300); do [[ -e $T/null-ready ]] && break; sleep 0.1; done
  [[ -e $T/null-ready ]] || { log "null_responder did not start"; exit 1; }
  mapfile -t fresh < <(fresh_copies "f$r-d" "$FRESH" "$MNT/good")
  "$MNT/good"
  measure floor-steady "$r" "$N" "$MNT/good"
  paired floor "$r"
  if [[ ${RO:-0} == 1 ]]; then measure floor-ro "$r" "$N" "$RO_MNT/good"; fi
  measure floor-first "$r" 1 "${fresh[@]}"
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  rm -f "${fresh[@]}"
}

for ((r = 1; r <= ROUNDS; r++)); do
  echo "load $r $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$results" >&2
  # No daemon.
  measure none-steady "$r" "$N" "$MNT/good"
  paired none "$r"
  if [[ ${RO:-0} == 1 ]]; then measure none-ro "$r" "$N" "$RO_MNT/good"; fi
  mapfile -t fresh < <(fresh_copies "f$r-a" "$FRESH" "$MNT/good")
  measure none-first "$r" 1 "${fresh[@]}"
  mapfile -t bigs < <(fresh_copies "b$r-a" 1 "$BIG")
  measure none-big "$r" 1 "${bigs[@]}"
  rm -f "${fresh[@]}" "${bigs[@]}"

  # lockd.
  start_lockd
  "$MNT/good"  # warm the cache
  c0=$(lockd_cpu_ns)
  measure lockd-steady "$r" "$N" "$MNT/good"
  c1=$(lockd_cpu_ns)
  mapfile -t fresh < <(fresh_copies "f$r-b" "$FRESH" "$MNT/good")
  c2=$(lockd_cpu_ns)
  measure lockd-first "$r" 1 "${fresh[@]}"
  c3=$(lockd_cpu_ns)
  echo "lockd-cpu $r $(((c1 - c0) / N)) $(((c3 - c2) / FRESH))" | tee -a "$results" >&2
  if [[ ${RO:-0} == 1 ]]; then
    "$RO_MNT/good"  # the first allow, after which the kernel answers
    measure lockd-ro "$r" "$N" "$RO_MNT/good"
  fi
  paired lockd "$r"
  mapfile -t bigs < <(fresh_copies "b$r-b" 1 "$BIG")
  measure lockd-big "$r" 1 "${bigs[@]}"
  rm -f "${fresh[@]}" "${bigs[@]}"
  rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$LOCKD_PID/status")
  hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$LOCKD_PID/status")
  echo "lockd-rss $r $rss_kb $hwm_kb" | tee -a "$results" >&2
  stop_lockd

  if [[ ${FAPOLICYD:-0} == 1 ]]; then fapolicyd_round "$r"; fi
  if [[ ${FLOOR:-0} == 1 ]]; then floor_round "$r"; fi
done

"$PYTHON" - "$results" <<'PY'
import statistics, sys
rows = {}
rss = []
cpu = []
paired = {}
fp_rss = []
loads = []
for line in open(sys.argv[1]):
    f = line.split()
    if f[0] == "load":
        loads.append(" ".join(f[2:]))
        continue
    if f[0] == "lockd-cpu":
        cpu.append((int(f[2]), int(f[3])))
        continue
    if f[0] == "fapolicyd-rss":
        fp_rss.append(int(f[2]))
        continue
    if f[0].startswith("paired-"):
        paired.setdefault(f[0], []).append(float(f[4]))  # per-round median ratio
        continue
    if f[0] == "lockd-rss":
        rss.append((int(f[2]), int(f[3])))
        continue
    rows.setdefault(f[0], []).append(int(f[2]))  # per-round median ns
med = {k: statistics.median(v) for k, v in rows.items()}
def us(ns): return f"{ns / 1000:.1f} us"
print("== exec benchmark summary (median over rounds of per-round medians) ==")
print("load average at each round's start: " + "; ".join(loads))
for k in ("none-steady", "floor-steady", "lockd-steady", "fapolicyd-steady", "none-ro",
          "floor-ro", "lockd-ro", "fapolicyd-ro", "none-first",
          "floor-first", "lockd-first", "fapolicyd-first", "none-big", "lockd-big",
          "fapolicyd-big"):
    if k not in rows:
        continue
    print(f"{k:14s} {us(med[k]):>12s}   rounds: {', '.join(us(x) for x in rows[k])}")
print(f"steady state: lockd / none = {med['lockd-steady'] / med['none-steady']:.4f}")
# Per-round paired ratio (the rounds alternate, so pairs share the machine's state).
pairs = [l / n for l, n in zip(rows['lockd-steady'], rows['none-steady'])]
print(f"steady state, paired per round: median ratio {statistics.median(pairs):.4f}, "
      f"min {min(pairs):.4f}, max {max(pairs):.4f}")
if "lockd-ro" in med:
    rpairs = [l / n for l, n in zip(rows['lockd-ro'], rows['none-ro'])]
    line = (f"read-only superblock, steady state: lockd / none = "
            f"{med['lockd-ro'] / med['none-ro']:.4f} (paired median "
            f"{statistics.median(rpairs):.4f}, min {min(rpairs):.4f}, max {max(rpairs):.4f})")
    if "floor-ro" in med:
        line += f", floor / none = {med['floor-ro'] / med['none-ro']:.4f}"
    if "fapolicyd-ro" in med:
        line += f", fapolicyd / none = {med['fapolicyd-ro'] / med['none-ro']:.4f}"
    print(line)
print(f"first exec:   lockd / none = {med['lockd-first'] / med['none-first']:.4f} "
      f"(+{(med['lockd-first'] - med['none-first']) / 1000:.1f} us)")
extra = med['lockd-big'] - med['none-big']
print(f"100 MB first exec: none {us(med['none-big'])}, lockd {us(med['lockd-big'])}, "
      f"extra {extra / 1e6:.1f} ms -> {100e6 / extra * 1e9 / 1e9:.2f} GB/s hashing (incl. "
      f"the event round trip)")
if "fapolicyd-steady" in med:
    print(f"fapolicyd: steady / none = {med['fapolicyd-steady'] / med['none-steady']:.4f}, "
          f"first / none = {med['fapolicyd-first'] / med['none-first']:.4f}, "
          f"100 MB extra {(med['fapolicyd-big'] - med['none-big']) / 1e6:.1f} ms, "
          f"RSS {statistics.median(fp_rss)} kB")
if "floor-steady" in med:
    fpairs = [f / n for f, n in zip(rows['floor-steady'], rows['none-steady'])]
    print(f"floor (null responder): steady / none = {med['floor-steady'] / med['none-steady']:.4f} "
          f"(paired median {statistics.median(fpairs):.4f}), first / none = "
          f"{med['floor-first'] / med['none-first']:.4f}; lockd above the floor: steady "
          f"{med['lockd-steady'] / med['floor-steady']:.4f}, first "
          f"{med['lockd-first'] / med['floor-first']:.4f}")
print(f"lockd CPU per exec: cached {statistics.median(c for c, _ in cpu) / 1000:.1f} us, "
      f"first exec of a small binary {statistics.median(f for _, f in cpu) / 1000:.1f} us")
for fs in ("rw", "ro", "sq"):
    base = paired.get(f"paired-{fs}-none")
    if not base:
        continue
    b = statistics.median(base)
    parts = [f"none {b:.4f}"]
    for who in ("lockd", "fapolicyd", "floor"):
        v = paired.get(f"paired-{fs}-{who}")
        if v:
            m = statistics.median(v)
            parts.append(f"{who} {m:.4f} (x{m / b:.4f} of no daemon; rounds "
                         f"{', '.join(f'{x / b:.3f}' for x in v)})")
    label = {"rw": "writable tmpfs", "ro": "read-only tmpfs",
             "sq": "squashfs (read-only type)"}[fs]
    print(f"paired with an unwatched exec, {label}: " + "; ".join(parts))
print(f"lockd RSS after the runs: {statistics.median(r for r, _ in rss)} kB "
      f"(peak {max(h for _, h in rss)} kB)")
PY
finish
