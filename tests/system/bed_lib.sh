# shellcheck shell=bash disable=SC2034  # (variables used by bed_test.sh)
# The system test bed's host side (tests/system/README.md), sourced by bed_test.sh.
#
# The host controller (this script) runs on the host, in a private mount namespace of its own
# (so the loop mounts it makes are never seen by the machine). The bed is a whole Debian root on
# its own loop-mounted ext4, entered with pivot_root in fresh mount, pid, ipc and uts
# namespaces (enter.sh); lockd runs inside it with the shipped configuration, no watch list:
# it marks every filesystem the bed shows. The controller never opens a file of the bed while
# lockd may run there (an open would be a permission event lockd might never answer): it acts
# only through probes, processes put into the bed's namespaces with nsenter, whose output goes
# to files of the host, and whose deadline the controller keeps with the host's clock. A probe
# still running at its deadline is reported HUNG and killed; the bed is then torn down (SIGKILL
# of its pid-namespace init kills lockd, which closes its fanotify group and releases every
# waiter) and booted again from its disk image for the next check.
#
# Environment: LOCKD_BUILD_DIR, LOCKD_SOURCE_DIR (set by ctest); BED_TIMEOUT (seconds, whole
# run, default 840); BED_KEEP=1 keeps the work directory (images, logs) for a look afterwards.

set -euo pipefail
: "${LOCKD_BUILD_DIR:?set LOCKD_BUILD_DIR to the build directory}"
: "${LOCKD_SOURCE_DIR:?set LOCKD_SOURCE_DIR to the source directory}"

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: the system test bed needs root (namespaces, loop devices, fanotify)" >&2
  exit 77
fi

if [[ -z "${BED_T:-}" ]]; then
  # Before any namespace is entered: the host's mount tables, the guard's reference. Both
  # this process's table and pid 1's (the machine's) are kept.
  BED_T=$(mktemp -d /tmp/lockd-bed.XXXXXX)
  cat /proc/self/mountinfo /proc/1/mountinfo >"$BED_T/host-mountinfo"
  rc=0
  env BED_T="$BED_T" timeout --kill-after=30 "${BED_TIMEOUT:-840}" \
    unshare --mount --propagation private bash "$0" "$@" || rc=$?
  # Whatever the controller left (it was killed by the timeout?): a bed still running (its
  # unshare and init, recorded by bed_boot, checked by their command lines) and loop devices
  # of our images.
  if [[ -s $BED_T/bed.pids ]]; then
    for pid in $(cat "$BED_T/bed.pids"); do
      grep -qaE "unshare|/bed/init.py" "/proc/$pid/cmdline" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    done
    sleep 2
  fi
  for img in "$BED_T"/*.img; do
    [[ -e $img ]] || continue
    for dev in $(losetup -j "$img" -O NAME -n 2>/dev/null); do losetup -d "$dev" 2>/dev/null || true; done
  done
  if [[ -n "${BED_KEEP:-}" ]]; then
    echo "bed: work directory kept: $BED_T" >&2
  elif ! grep -q " $BED_T" /proc/self/mountinfo; then
    rm -rf --one-file-system "$BED_T"
  fi
  ((rc == 124)) && echo "FAIL: the whole bed run exceeded ${BED_TIMEOUT:-840} s" >&2
  exit $rc
fi

T=$BED_T
SRC=$LOCKD_SOURCE_DIR
BUILD=$(cd "$LOCKD_BUILD_DIR" && pwd)
LOCKCTL=$BUILD/tools/lockctl
HOST_MOUNTINFO=$T/host-mountinfo
IMG=$T/root.img            # the bed's root filesystem
LOWER_IMG=$T/lower.img     # the read-only kiosk image (overlay lower layer)
PASSPHRASE_FILE=$T/passphrase
mkdir -p "$T/probes" "$T/root"
BED_INIT=""       # host pid of the bed's pid-namespace init (empty: no bed)
BED_UNSHARE=""    # host pid of the unshare process that made the namespaces
BED_BOOTS=0
BED_WEDGED=0      # a probe hung: the bed must be torn down before the next check
LOCKD_LOG=""      # host file holding lockd's stderr (the journal stands in)
PROBE_N=0
PROBE_PGIDS=()
RESULTS=()        # "STATUS NAME: detail" lines, in order
HUNG=()

log() { echo "[bed $(date +%T)] $*" >&2; }
now_ms() { date +%s%3N; }
result() {  # result STATUS NAME DETAIL...
  local status=$1 name=$2
  shift 2
  RESULTS+=("$status $name: $*")
  echo "$status: $name: $*" >&2
}
ok() { result ok "$@"; }
fail() { result FAIL "$@"; }

# --- probes ---------------------------------------------------------------------------------
BED_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# probe_start NAME CMD...: starts CMD inside the bed (all its namespaces, its root and cwd),
# stdin from $BED_STDIN (default /dev/null), stdout/stderr to host files. Sets PROBE, the
# probe's file prefix: $PROBE.out, .err, .rc (exit status, once it ended), .pid (process
# group), .t0 (start, ms).
probe_start() {
  local name=$1
  shift
  PROBE_N=$((PROBE_N + 1))
  PROBE=$T/probes/$(printf '%03d' "$PROBE_N")-$name
  local p=$PROBE
  rm -f "$p".*  # (a name left by an earlier session in the same work directory)
  now_ms >"$p.t0"
  (
    setsid nsenter -t "$BED_INIT" -m -p -i -u -r -w -- /usr/bin/env -i PATH="$BED_PATH" \
      HOME=/root LC_ALL=C.UTF-8 TERM=dumb "$@" <"${BED_STDIN:-/dev/null}" >"$p.out" 2>"$p.err" &
    echo $! >"$p.pid"
    rc=0
    wait $! || rc=$?
    echo "$rc" >"$p.rc.tmp" && mv "$p.rc.tmp" "$p.rc"
  ) 2>/dev/null &  # (no "Killed" job notice when a hung probe is killed)
  for _ in $(seq 200); do [[ -s $p.pid ]] && break; sleep 0.01; done
  PROBE_PGIDS+=("$(cat "$p.pid")")
}

# probe_wait PREFIX DEADLINE_S: waits for the probe until its deadline (host clock, from the
# probe's start). Sets PROBE_RC (exit status, or HUNG) and PROBE_MS (its run time, or the time
# waited). A hung probe is killed (its process group; a process stuck in the kernel stays until
# the bed is torn down) and the bed is marked wedged.
probe_wait() {
  local p=$1 t0
  t0=$(cat "$p.t0")
  local deadline_ms=$((t0 + $(awk "BEGIN{print int($2 * 1000)}")))
  while [[ ! -e $p.rc ]] && (($(now_ms) < deadline_ms)); do sleep 0.02; done
  if [[ -e $p.rc ]]; then
    PROBE_RC=$(cat "$p.rc")
    PROBE_MS=$(($(stat -c %.3Y "$p.rc" | tr -d .) - t0))
  else
    PROBE_RC=HUNG
    PROBE_MS=$(($(now_ms) - t0))
    HUNG+=("$(basename "$p")")
    BED_WEDGED=1
    log "probe $(basename "$p") HUNG (deadline $2 s); the bed's processes in D state:"
    stuck_report >&2
    kill -KILL -- "-$(cat "$p.pid")" 2>/dev/null || true
    log "its process group killed, bed marked wedged"
  fi
}

# stuck_report: the bed's processes that sleep uninterruptibly (D), with where they wait and
# the top of their kernel stack: the evidence of a freeze, read from the host's /proc.
stuck_report() {
  [[ -n $BED_INIT ]] || return 0
  local ns pid n=0
  ns=$(readlink "/proc/$BED_INIT/ns/pid" 2>/dev/null) || return 0
  for pid in $(ps -eo pid=,stat= | awk '$2 ~ /^D/ {print $1}'); do
    [[ $(readlink "/proc/$pid/ns/pid" 2>/dev/null) == "$ns" ]] || continue
    n=$((n + 1))
    ((n <= 8)) || continue
    echo "  host pid $pid (bed pid $(awk '/^NSpid/ {print $NF}' "/proc/$pid/status")): $(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-100)"
    echo "    wchan $(cat "/proc/$pid/wchan" 2>/dev/null); stack: $(head -n 6 "/proc/$pid/stack" 2>/dev/null | awk '{print $2}' | tr '\n' ' ')"
  done
  ((n > 8)) && echo "  ... and $((n - 8)) more"
  ((n > 0)) || echo "  (none)"
  # lockd's own threads, where they wait (a lease break, a permission event of its own, ...).
  local t
  for pid in $(pgrep -x lockd); do
    [[ $(readlink "/proc/$pid/ns/pid" 2>/dev/null) == "$ns" ]] || continue
    echo "  lockd host pid $pid threads: $(for t in /proc/"$pid"/task/*; do
      printf '%s:%s ' "${t##*/}" "$(cat "$t/wchan" 2>/dev/null)"; done)"
  done
}

# bed_exec NAME DEADLINE_S CMD...: probe_start + probe_wait.
bed_exec() {
  local name=$1 deadline=$2
  shift 2
  probe_start "$name" "$@"
  probe_wait "$PROBE" "$deadline"
}

# The last lines of a probe's stderr and stdout, on one line.
probe_tail() { tail -c 400 "$PROBE.err" "$PROBE.out" 2>/dev/null | tr '\n' ' ' | tr -s ' '; }

# step NAME DEADLINE CMD...: a step of the day that must exit 0 within its deadline. Reports
# ok / FAIL / HUNG; sets STEP_OK (1 or 0) and STEP_MS; always returns 0 (the day goes on).
step() {
  local name=$1 deadline=$2
  shift 2
  STEP_OK=0
  STEP_MS=0
  ensure_bed || { result FAIL "$name" "no bed to run it in"; return 0; }
  bed_exec "$name" "$deadline" "$@"
  STEP_MS=$PROBE_MS
  if [[ $PROBE_RC == HUNG ]]; then
    result HUNG "$name" "no answer within $deadline s ($*)"
  elif [[ $PROBE_RC != 0 ]]; then
    fail "$name" "exit $PROBE_RC: $(probe_tail)"
  else
    STEP_OK=1
    ok "$name" "${PROBE_MS} ms"
  fi
  return 0
}

# expect_out NAME PATTERN: the last probe's stdout matches PATTERN (grep -E), else FAIL.
expect_out() {
  if grep -qE -- "$2" "$PROBE.out"; then
    ok "$1" "output has /$2/"
  else
    fail "$1" "output lacks /$2/: $(tail -c 300 "$PROBE.out" | tr '\n' ' ')"
  fi
}

# --- the bed's life -------------------------------------------------------------------------
# bed_boot [--leak bind|oldroot]: mounts the image, makes the namespaces, enters the bed (with
# the kiosk lower image from the second boot on). --leak makes a deliberately UNSAFE bed (a
# host directory bound in, or the old root left attached) for the guard's own check: lockd is
# never started in it.
BED_WITH_LOWER=0
# shellcheck disable=SC2120  # (bed_test.sh passes --leak)
bed_boot() {
  local leak=""
  [[ ${1:-} == --leak ]] && leak=$2
  BED_BOOTS=$((BED_BOOTS + 1))
  mount -o loop "$IMG" "$T/root"
  local args=("$T/root")
  ((BED_WITH_LOWER)) && args+=("$LOWER_IMG")
  local enter=$SRC/tests/system/enter.sh
  if [[ -n $leak ]]; then
    sed -e "/^hostname /a mkdir -p \"\$R/mnt/leak\"; mount --bind /usr/share \"\$R/mnt/leak\"" \
      "$enter" >"$T/enter-leak-bind.sh"
    sed -e 's/^umount -l \/.oldroot$/: kept attached/' -e 's/^rmdir \/.oldroot$/:/' \
      "$enter" >"$T/enter-leak-oldroot.sh"
    enter=$T/enter-leak-$leak.sh
  fi
  : >"$T/enter.status"
  setsid unshare --pid --fork --mount --ipc --uts --propagation private --kill-child \
    bash "$enter" "${args[@]}" 3>"$T/enter.status" >>"$T/enter.log" 2>&1 &
  BED_UNSHARE=$!
  local i
  for i in $(seq 200); do
    grep -q pivoted "$T/enter.status" && break
    kill -0 "$BED_UNSHARE" 2>/dev/null || break
    sleep 0.05
  done
  BED_INIT=$(pgrep -P "$BED_UNSHARE" | head -n 1 || true)
  if ! grep -q pivoted "$T/enter.status" || [[ -z $BED_INIT ]]; then
    log "the bed did not come up:"
    tail -n 20 "$T/enter.log" >&2
    umount "$T/root" 2>/dev/null || true
    return 1
  fi
  for i in $(seq 100); do
    [[ $(cat "/proc/$BED_INIT/comm" 2>/dev/null) == python3 ]] && break
    sleep 0.05
  done
  echo "$BED_UNSHARE $BED_INIT" >"$T/bed.pids"
  # The controller's own view of the bed's disk goes: from now on only the bed holds it.
  umount "$T/root"
  BED_BOOT_T=$(now_ms)
  BED_WEDGED=0
  log "bed #$BED_BOOTS up: init is host pid $BED_INIT${leak:+ (LEAKY: $leak)}"
}

# bed_halt: tears the bed down and waits until its disk image is released.
bed_halt() {
  [[ -n $BED_INIT ]] || return 0
  kill -KILL "$BED_INIT" 2>/dev/null || true
  local i
  for i in $(seq 200); do kill -0 "$BED_UNSHARE" 2>/dev/null || break; sleep 0.05; done
  wait "$BED_UNSHARE" 2>/dev/null || true
  local g
  for g in "${PROBE_PGIDS[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
  PROBE_PGIDS=()
  for i in $(seq 200); do
    [[ -z $(losetup -j "$IMG" -n 2>/dev/null) && -z $(losetup -j "$LOWER_IMG" -n 2>/dev/null) ]] && break
    sleep 0.1
  done
  if [[ -n $(losetup -j "$IMG" -n 2>/dev/null) ]]; then
    log "the bed's disk is still attached 20 s after its teardown: $(losetup -j "$IMG")"
    ps -eo pid,stat,wchan:30,args | awk '$2 ~ /D/' >&2 || true
    BED_INIT=""
    return 1
  fi
  log "bed #$BED_BOOTS down"
  rm -f "$T/bed.pids"
  BED_INIT=""
  BED_WEDGED=0
}

# ensure_bed: a wedged bed is torn down and booted again, lockd started (like a reboot).
ensure_bed() {
  if [[ -z $BED_INIT ]] || ((BED_WEDGED)); then
    log "rebooting the bed (after a hang)"
    bed_halt || return 1
    bed_boot || return 1
    if ((WANT_LOCKD)); then start_lockd || return 1; fi
    bed_exec reboot-services 30 /bed/boot.sh || true
  fi
}
WANT_LOCKD=0

# start_lockd: the guard, then lockd (bed/bin/start-lockd), waits for "ready" in its log.
start_lockd() {
  WANT_LOCKD=1
  bed_exec start-lockd 20 /bed/bin/start-lockd
  LOCKD_LOG=$PROBE.err
  if [[ $PROBE_RC == 3 ]]; then
    fail "guard" "the guard refused to let lockd start: $(cat "$LOCKD_LOG")"
    return 1
  elif [[ $PROBE_RC != 0 ]]; then
    fail "start-lockd" "exit $PROBE_RC: $(probe_tail)"
    return 1
  fi
  LOCKD_BED_PID=$(head -n 1 "$PROBE.out")
  local i
  for i in $(seq 600); do
    grep -q "lockd: info: ready" "$LOCKD_LOG" && break
    grep -q "supervisor: .*exit" "$LOCKD_LOG" && break
    sleep 0.05
  done
  if ! grep -q "lockd: info: ready" "$LOCKD_LOG"; then
    fail "start-lockd" "lockd not ready within 30 s: $(tail -n 5 "$LOCKD_LOG" | tr '\n' ' ')"
    return 1
  fi
  LOCKD_HOST_PID=$(pgrep -P "$BED_INIT" -x lockd | head -n 1 || true)
  log "lockd ready (supervisor: bed pid $LOCKD_BED_PID, host pid $LOCKD_HOST_PID)"
}

# decider_host_pid: the decider (the supervisor's child), as the host sees it.
decider_host_pid() { pgrep -P "$LOCKD_HOST_PID" | head -n 1 || true; }
ready_count() { grep -c "lockd: info: ready" "$LOCKD_LOG" || true; }

cleanup() {
  local rc=$?
  set +e
  bed_halt
  umount "$T/root" 2>/dev/null
  umount "$T/inspect" 2>/dev/null
  exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT
