# Shared by the kernel-side caching tests (kernel_cache_test, kernel_cache_attack_test,
# kernel_cache_userns_test); source after lib.sh.

# fs_reconfigure (helpers/fs_reconfigure.c): a superblock made read-only or writable through
# fspick + fsconfig, with no mount-table change.
RECONF="$LOCKD_BUILD_DIR/integration-helpers/fs_reconfigure"
mkdir -p "$(dirname "$RECONF")"
gcc -O2 -Wall -Wextra -Werror -o "$RECONF.tmp.$$" \
  "$LOCKD_SOURCE_DIR/tests/integration/helpers/fs_reconfigure.c" && mv "$RECONF.tmp.$$" "$RECONF" ||
  { log "cannot build fs_reconfigure"; exit 1; }

# pad SRC DST: a copy of SRC grown to 128 KiB (an ELF runs with bytes appended), so that the
# allowlisted and the foreign binary have the same size and one can be rewritten into the other
# in place, through a mapping.
pad() { cp "$1" "$2"; truncate -s 131072 "$2"; chmod 0755 "$2"; }

# rewrite_mapped SRC DST: DST's bytes replaced by SRC's through a shared writable mapping (no
# write(2), so no FAN_MODIFY and nothing that clears an ignore mark).
rewrite_mapped() {
  "$PYTHON" - "$1" "$2" <<'PY'
import mmap, sys
src = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    m[:] = src
    m.flush()
    m.close()
PY
}
