#!/bin/bash
# Baseline-build benchmark (not a test): `lockctl db build` over a tree (default /usr), side by
# side in the same run with `find | xargs -P2 sha256sum` and `aide --init` (sha256 only), warm
# page cache, medians of RUNS runs. Prints a Markdown table for docs/performance.md.
#
# usage: tests/bench/baseline_bench.sh [TREE] [RUNS]
#   env LOCKCTL: the lockctl binary (default: $LOCKD_BUILD_DIR/tools/lockctl or build/tools/lockctl)
# Needs: aide (apt-get install aide), python3, openssl. Writes only to a temporary directory
# (aide's config and database included); does not install aide as a service or cron job.
set -euo pipefail

TREE=${1:-/usr}
RUNS=${2:-3}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
LOCKCTL=${LOCKCTL:-${LOCKD_BUILD_DIR:-$SRC/build}/tools/lockctl}
[[ -x $LOCKCTL ]] || { echo "lockctl not found at $LOCKCTL (set LOCKCTL)" >&2; exit 2; }
command -v aide >/dev/null || { echo "aide not installed (apt-get install aide)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/lockd-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
NPROC=$(nproc)

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# time_cmd NAME CMD...: runs CMD with its output discarded, appends "real user sys" to $WORK/NAME.
time_cmd() {
  local name=$1; shift
  # bash's `time` reports the CPU time of the command and all its children.
  ( TIMEFORMAT='%R %U %S'; { time "$@" >/dev/null 2>&1; } 2>>"$WORK/$name.times" )
}

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)" >&2
echo "== tree: $TREE ($(find "$TREE" -xdev -type f | wc -l) regular files, $(du -sxh "$TREE" | cut -f1))" >&2

echo "== warming the page cache (reading every file once)" >&2
find "$TREE" -xdev -type f -print0 | xargs -0 -P"$NPROC" -n 256 cat >/dev/null 2>&1 || true

echo "== openssl speed -evp sha256 (single core)" >&2
OPENSSL_KBS=$(openssl speed -evp sha256 -seconds 3 2>/dev/null | awk '/^sha256/ {v=$NF} END {sub("k","",v); print v}')
OPENSSL_GBS=$(awk -v k="$OPENSSL_KBS" 'BEGIN {printf "%.3f", k*1000/1e9}')

"$LOCKCTL" key generate --out "$WORK/keys" >/dev/null
mkdir "$WORK/trust" && cp "$WORK/keys/public.pem" "$WORK/trust/"

# The file set lockd records (code files), as a NUL-separated list for sha256sum.
"$LOCKCTL" db build --root "$TREE" --key "$WORK/keys/private.key" --out "$WORK/ref.lockdb" \
  >"$WORK/ref.summary"
"$LOCKCTL" db list "$WORK/ref.lockdb" --trust "$WORK/trust" --json | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    p = bytes.fromhex(e["path_hex"]) if "path_hex" in e else e["path"].encode()
    sys.stdout.buffer.write(p + b"\0")' >"$WORK/code.list"
read -r CODE_FILES CODE_BYTES < <("$LOCKCTL" db show "$WORK/ref.lockdb" --trust "$WORK/trust" --json |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["records"], d["total_bytes"])')
ALL_FILES=$(find "$TREE" -xdev -type f | wc -l)
ALL_BYTES=$(find "$TREE" -xdev -type f -printf '%s\n' | awk '{s+=$1} END {print s}')

cat >"$WORK/aide.conf" <<CONF
database_out=file:$WORK/aide.db.new
gzip_dbout=no
log_level=error
report_level=minimal
num_workers=$NPROC
H = sha256
$TREE H
CONF

for ((i = 1; i <= RUNS; i++)); do
  echo "== run $i/$RUNS" >&2
  cut -d' ' -f1 /proc/loadavg >>"$WORK/load"
  time_cmd lockd "$LOCKCTL" db build --root "$TREE" --key "$WORK/keys/private.key" --out "$WORK/run.lockdb"
  time_cmd sha_code bash -c "xargs -0 -P$NPROC -n 64 sha256sum <'$WORK/code.list'"
  time_cmd sha_all bash -c "find '$TREE' -xdev -type f -print0 | xargs -0 -P$NPROC -n 64 sha256sum"
  rm -f "$WORK/aide.db.new"
  time_cmd aide aide --init --config="$WORK/aide.conf"
  [[ -s $WORK/aide.db.new ]] || { echo "aide wrote no database" >&2; exit 1; }
done

row() {  # name files bytes
  local name=$1 files=$2 bytes=$3
  local real user sys
  real=$(cut -d' ' -f1 "$WORK/$name.times" | median)
  user=$(cut -d' ' -f2 "$WORK/$name.times" | median)
  sys=$(cut -d' ' -f3 "$WORK/$name.times" | median)
  awk -v n="$name" -v f="$files" -v b="$bytes" -v r="$real" -v u="$user" -v s="$sys" \
    -v all="$(tr '\n' ' ' <"$WORK/$name.times")" 'BEGIN {
      printf "| %s | %d | %.2f | %.2f | %.0f | %.3f | %.2f | %.1f | %.2f | %s|\n", n, f, b/1e9, r, f/r, b/1e9/r, (u+s)/r, u+s, b/1e9/(u+s), all }'
  echo "$real" >"$WORK/$name.median"
}

echo
echo "| job | files hashed | GB hashed | wall s (median) | files/s | GB/s | CPUs busy | CPU s | GB per CPU s | all runs (real user sys) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
row lockd "$CODE_FILES" "$CODE_BYTES"
row sha_code "$CODE_FILES" "$CODE_BYTES"
row sha_all "$ALL_FILES" "$ALL_BYTES"
row aide "$ALL_FILES" "$ALL_BYTES"
echo
L=$(cat "$WORK/lockd.median")
awk -v l="$L" -v sc="$(cat "$WORK/sha_code.median")" -v sa="$(cat "$WORK/sha_all.median")" \
  -v a="$(cat "$WORK/aide.median")" -v o="$OPENSSL_GBS" -v cb="$CODE_BYTES" \
  -v load="$(tr '\n' ' ' <"$WORK/load")" 'BEGIN {
  printf "- openssl speed -evp sha256, one core, 16 KiB blocks: %.3f GB/s (2 cores: %.3f GB/s)\n", o, 2*o
  printf "- lockd build vs aide --init (same tree, wall time): %.2fx faster\n", a/l
  printf "- lockd build vs xargs -P2 sha256sum on the same code files: %.2fx\n", sc/l
  printf "- lockd build vs xargs -P2 sha256sum on every file: %.2fx\n", sa/l
  printf "- load average (1 min) at the start of each run: %s\n", load
  printf "- lockd hashing throughput: %.3f GB/s = %.0f%% of 2x single-core openssl\n", cb/1e9/l, 100*cb/1e9/l/(2*o)
}'
