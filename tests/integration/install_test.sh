#!/usr/bin/env bash
# The install, the Debian package and the uninstall, checked against the documented layout.
#   1. installer/install.sh into a scratch root (--root-prefix): every file lands where the
#      FILES sections of docs/man/* say, with the documented owner and mode, and nothing else;
#      the baseline verifies with the installed anchor and is in audit mode; installing again
#      changes nothing; an upgrade keeps config, anchors, database and logs; bad calls refuse.
#   2. systemd-analyze verify on the installed unit (when systemd-analyze exists).
#   3. installer/uninstall.sh removes everything but the logs.
#   4. CPack builds lockd_<version>_amd64.deb; its contents, control data and conffiles are
#      checked with dpkg-deb; its maintainer scripts never enable or start the service.
#   5. The .deb is installed with dpkg into a Debian chroot (debootstrap, cached as a tarball
#      in /var/cache/lockd-test/), never into this system: lockd --version and lockctl --help
#      work there, nothing is enabled, a changed conffile survives reinstalling, and purge
#      removes everything but a non-empty log directory.
# Needs root and LOCKD_BUILD_DIR with lockd and lockctl built. Never starts lockd.
# shellcheck disable=SC2015,SC2016  # "check && ok || fail" is meant; dpkg formats are literal
set -euo pipefail

src=${LOCKD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${LOCKD_BUILD_DIR:?set LOCKD_BUILD_DIR to a build directory}
build=$(cd "$build" && pwd)
[[ $(id -u) -eq 0 ]] || { echo "install_test: needs root" >&2; exit 1; }
for b in lockd/lockd tools/lockctl; do
  [[ -x $build/$b ]] || { echo "install_test: $build/$b is not built" >&2; exit 1; }
done
version=$(sed -n 's/^project(lockd VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[[ -n $version ]] || { echo "install_test: no version in CMakeLists.txt" >&2; exit 1; }

# In a private mount namespace: lockd turns unprivileged user namespaces off at start when its
# signed policy says so (the default), and uninstall.sh puts recorded values back; both write
# /proc/sys/user/max_user_namespaces (or Debian's kernel.unprivileged_userns_clone), settings of
# the machine. Here a plain file in the scratch directory stands in for each (a bind mount, also
# over every fresh /proc this test mounts for a lockd: shield_lines), as in lib.sh.
if [[ -z ${INSTALL_TEST_IN_NAMESPACE:-} ]]; then
  exec env INSTALL_TEST_IN_NAMESPACE=1 unshare -m --propagation private bash "$0" "$@"
fi

scratch=$(mktemp -d /tmp/lockd-install-test.XXXXXX)
# shield_lines PROC: shell lines that put the stand-ins over PROC/sys's user-namespace settings.
shield_lines() {
  local knob
  for knob in user/max_user_namespaces kernel/unprivileged_userns_clone; do
    printf '[ ! -e %q ] || mount --bind %q %q || exit 3\n' "$1/sys/$knob" \
      "$scratch/sysctl-${knob//\//.}" "$1/sys/$knob"
  done
}
for knob in user/max_user_namespaces kernel/unprivileged_userns_clone; do
  [[ -e /proc/sys/$knob ]] && cat "/proc/sys/$knob" >"$scratch/sysctl-${knob//\//.}"
done
eval "$(shield_lines /proc)" || { echo "install_test: cannot shield the user-namespace settings" >&2; exit 1; }
lockd_pid=""
cleanup() {
  # The only process started is a lockd watching a tmpfs in its own mount namespace (section
  # 3); the tmpfs goes away with it. Nothing else is mounted.
  if [[ -n $lockd_pid ]] && kill -0 "$lockd_pid" 2>/dev/null; then
    kill -KILL "$lockd_pid" 2>/dev/null || true
    wait "$lockd_pid" 2>/dev/null || true
  fi
  rm -rf --one-file-system "$scratch"
}
trap cleanup EXIT

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
ok() { echo "ok: $*"; }
section() { echo "== $* ($(date +%T))"; }
lockctl=$build/tools/lockctl

# What the docs promise: path, type (f, d), mode, for an install on /. Anchors are named
# by their key id, which the test fills in.
expected_layout() {
  cat <<EOL
/usr/sbin/lockd f 755
/usr/bin/lockctl f 755
/etc/lockd d 755
/etc/lockd/lockd.toml f 644
/etc/lockd/trust d 755
/etc/lockd/trust/$1.pem f 644
/var/lib/lockd d 700
/var/lib/lockd/allowlist.lockdb f 600
/var/log/lockd d 750
/lib/systemd/system/lockd.service f 644
/usr/share/man/man8/lockd.8 f 644
/usr/share/man/man8/lockctl.8 f 644
/usr/share/man/man5/lockd.toml.5 f 644
/usr/share/bash-completion/completions/lockctl f 644
EOL
}
# Paths named under FILES in the manuals that lockd or an operator creates later.
runtime_paths="/run/lockd/control.sock /var/lib/lockd/highest-generation /var/log/lockd/audit.jsonl"
runtime_paths+=" /var/lib/lockd/maintenance/window /var/lib/lockd/maintenance/learned"

# Every path the manuals list under FILES (roff escapes removed).
documented_paths() {
  for m in "$src"/docs/man/*.[0-9]; do
    awk '/^\.SH /{files = ($2 == "FILES")} files && /^\.I \//{print $2}' "$m"
  done | sed 's/\\-/-/g' | sort -u
}

# Lists "path type mode owner" of everything under a root, sorted.
snapshot() {
  (cd "$1" && find . -mindepth 1 -printf '/%P %y %m %u:%g %s\n' | sort)
}

section "1. install.sh into a scratch root"
"$lockctl" key generate --out "$scratch/key" >/dev/null
"$lockctl" key generate --out "$scratch/other" >/dev/null
key_id=$(openssl pkey -pubin -in "$scratch/key/public.pem" -outform DER | sha256sum | cut -c1-64)
root=$scratch/root
mkdir "$root"
install_args=(--root-prefix "$root" --build-dir "$build" --no-build --no-deps)

# Refusals first: they must leave the root untouched.
if bash "$src/installer/install.sh" "${install_args[@]}" --key "$scratch/key/private.key" \
  >"$scratch/out" 2>&1; then
  fail "install without --trust succeeded"
elif ! grep -q -- "--trust" "$scratch/out"; then
  fail "install without --trust: message does not name --trust: $(cat "$scratch/out")"
fi
if bash "$src/installer/install.sh" "${install_args[@]}" --trust "$scratch/key/public.pem" \
  >"$scratch/out" 2>&1; then
  fail "first install without --key/--token succeeded"
fi
if bash "$src/installer/install.sh" "${install_args[@]}" --trust "$scratch/key/private.key" \
  --key "$scratch/key/private.key" >"$scratch/out" 2>&1; then
  fail "install with a private key as trust anchor succeeded"
fi
[[ -z $(ls -A "$root") ]] && ok "refused calls left the root empty" ||
  fail "a refused install wrote into the root: $(ls -A "$root")"

if ! bash "$src/installer/install.sh" "${install_args[@]}" --trust "$scratch/key/public.pem" \
  --key "$scratch/key/private.key" >"$scratch/install.out" 2>&1; then
  cat "$scratch/install.out" >&2
  fail "install.sh failed"
fi
grep -q "AUDIT mode" "$scratch/install.out" && grep -q -- "--mode enforce" "$scratch/install.out" &&
  ok "install output says it is in audit mode and how to switch to enforce" ||
  fail "install output does not explain audit mode and the switch to enforce"

# Every expected path, with its type, mode and owner; nothing else as a file.
while read -r path type mode; do
  p=$root$path
  if [[ ! -e $p ]]; then
    fail "$path missing"
    continue
  fi
  got=$(stat -c '%F %a %U:%G' "$p")
  want_type=$([[ $type == d ]] && echo directory || echo "regular file")
  [[ $got == "$want_type $mode root:root" ]] || fail "$path: $got, expected $want_type $mode root:root"
done < <(expected_layout "$key_id")
want_files=$(expected_layout "$key_id" | awk '$2 == "f" {print $1}' | sort)
got_files=$(cd "$root" && find . -type f -printf '/%P\n' | sort)
[[ $want_files == "$got_files" ]] && ok "exactly the expected $(wc -l <<<"$got_files") files" ||
  fail "files differ from the layout: $(diff <(echo "$want_files") <(echo "$got_files") | grep '^[<>]' | tr '\n' ' ')"

# The layout and the manuals agree, both ways.
for p in $(documented_paths); do
  [[ " $runtime_paths " == *" $p "* ]] && continue
  [[ -e $root${p%/} ]] || fail "documented under FILES but not installed: $p"
done
docs=" $(documented_paths | sed 's:/$::' | tr '\n' ' ') "
while read -r path _ _; do
  # The anchors are named by key id; the manuals are where man(1) looks; a directory counts
  # as documented when a documented path lies below it.
  case $path in /etc/lockd/trust/*.pem | /usr/share/man/*) continue ;; esac
  [[ $docs == *" $path "* || $docs == *" $path/"* ]] ||
    fail "installed but not under FILES in any manual: $path"
done < <(expected_layout "$key_id")
ok "layout checked against the FILES sections of docs/man/*"

# The programs work, the config is the shipped one, the baseline verifies and is audit.
[[ $("$root/usr/sbin/lockd" --version) == "lockd $version" ]] || fail "lockd --version: $("$root/usr/sbin/lockd" --version)"
"$root/usr/bin/lockctl" --help >/dev/null || fail "lockctl --help failed"
cmp -s "$src/installer/lockd.toml" "$root/etc/lockd/lockd.toml" || fail "lockd.toml differs from installer/lockd.toml"
db=$root/var/lib/lockd/allowlist.lockdb
"$lockctl" db verify "$db" --trust "$root/etc/lockd/trust" >/dev/null ||
  fail "the baseline does not verify with the installed anchor"
show=$("$lockctl" db show "$db" --trust "$root/etc/lockd/trust" --json)
grep -q '"mode": *"audit"' <<<"$show" || fail "the baseline is not in audit mode: $show"
"$lockctl" db lookup "$db" "$root/usr/sbin/lockd" "$root/usr/bin/lockctl" \
  --trust "$root/etc/lockd/trust" >/dev/null || fail "lockd/lockctl are not in the baseline"
"$lockctl" db list "$db" --trust "$root/etc/lockd/trust" | grep -q ' /usr/sbin/lockd$' ||
  fail "the baseline does not record /usr/sbin/lockd as it will be seen on the terminal"
"$lockctl" db list "$db" --trust "$root/etc/lockd/trust" | grep -q -F "$root" &&
  fail "the baseline records scratch-root paths"
ok "programs run, baseline verifies, is audit, has lockd and lockctl under their real paths"

# Idempotent: a second identical run changes nothing at all.
before=$(snapshot "$root")
db_sum=$(sha256sum <"$db")
bash "$src/installer/install.sh" "${install_args[@]}" --trust "$scratch/key/public.pem" \
  --key "$scratch/key/private.key" >"$scratch/install2.out" 2>&1 || fail "second install failed"
[[ $(snapshot "$root") == "$before" && $(sha256sum <"$db") == "$db_sum" ]] &&
  ok "a second install changes nothing" ||
  fail "a second install changed: $(diff <(echo "$before") <(snapshot "$root") | grep '^[<>]' | tr '\n' ' ')"

# Upgrade: a changed config, the database, the anchors and the logs are kept.
echo "workers = 2" >>"$root/etc/lockd/lockd.toml"
conf_sum=$(sha256sum <"$root/etc/lockd/lockd.toml")
echo '{"seq":1}' >"$root/var/log/lockd/audit.jsonl"
rm "$root/usr/bin/lockctl"  # a program from the old version, to be replaced
bash "$src/installer/install.sh" "${install_args[@]}" --key "$scratch/other/private.key" \
  >"$scratch/upgrade.out" 2>&1 || fail "upgrade (no --trust) failed: $(cat "$scratch/upgrade.out")"
[[ -x $root/usr/bin/lockctl ]] || fail "upgrade did not reinstall lockctl"
[[ $(sha256sum <"$root/etc/lockd/lockd.toml") == "$conf_sum" ]] || fail "upgrade overwrote lockd.toml"
cmp -s "$src/installer/lockd.toml" "$root/etc/lockd/lockd.toml.dist" ||
  fail "upgrade did not leave the shipped default as lockd.toml.dist"
[[ $(sha256sum <"$db") == "$db_sum" ]] || fail "upgrade replaced the database"
[[ $(cat "$root/var/log/lockd/audit.jsonl") == '{"seq":1}' ]] || fail "upgrade touched the log"
[[ $(ls "$root/etc/lockd/trust") == "$key_id.pem" ]] || fail "upgrade changed the anchors: $(ls "$root/etc/lockd/trust")"
ok "upgrade kept config (default in lockd.toml.dist), database, anchors and log"
# A new anchor on an installed terminal needs a token (lockctl trust add), not install.sh.
if bash "$src/installer/install.sh" "${install_args[@]}" --trust "$scratch/other/public.pem" \
  >"$scratch/out" 2>&1; then
  fail "install.sh added a second trust anchor to an installed terminal"
else
  grep -q "trust add" "$scratch/out" || fail "refusal does not point to lockctl trust add"
  [[ $(ls "$root/etc/lockd/trust") == "$key_id.pem" ]] || fail "refused anchor was installed anyway"
  ok "a second anchor is refused (lockctl trust add --token is the way)"
fi

# --enforce signs the enforce policy.
root2=$scratch/root-enforce
mkdir "$root2"
bash "$src/installer/install.sh" --root-prefix "$root2" --build-dir "$build" --no-build --no-deps \
  --trust "$scratch/key/public.pem" --key "$scratch/key/private.key" --enforce \
  >"$scratch/enforce.out" 2>&1 || fail "install --enforce failed: $(cat "$scratch/enforce.out")"
"$lockctl" db show "$root2/var/lib/lockd/allowlist.lockdb" --trust "$root2/etc/lockd/trust" --json |
  grep -q '"mode": *"enforce"' && ok "--enforce signs an enforce baseline" ||
  fail "--enforce did not produce an enforce baseline"

section "2. systemd unit"
unit=$root/lib/systemd/system/lockd.service
if ! command -v systemd-analyze >/dev/null; then
  echo "skip: systemd-analyze not installed"
elif [[ -f $unit ]]; then
  # systemd-analyze needs the system's own units (sysinit.target...) and checks that the
  # programs exist: verify a copy whose /usr/sbin/lockd points into the scratch root.
  sed "s#/usr/sbin/lockd#$root/usr/sbin/lockd#g" "$unit" >"$scratch/lockd.service"
  # Documentation=man:... is checked with man(1) against the manuals installed in the root.
  if MANPATH=$root/usr/share/man systemd-analyze verify "$scratch/lockd.service" \
    >"$scratch/verify" 2>&1 &&
    ! grep -q . "$scratch/verify"; then
    ok "systemd-analyze verify: clean"
  else
    fail "systemd-analyze verify lockd.service: $(cat "$scratch/verify")"
  fi
else
  fail "no lockd.service installed (installer/lockd.service missing?)"
fi

section "3. uninstall.sh"
# As if lockd had turned user namespaces off (restrict_user_namespaces): the setting is 0 (its
# stand-in, lib.sh: never the machine's) and the value found before is recorded in the state
# directory. uninstall.sh puts it back.
standin_before=$(cat /proc/sys/user/max_user_namespaces)
echo 0 >/proc/sys/user/max_user_namespaces
mkdir -p "$root/var/lib/lockd"
echo "user.max_user_namespaces=4242" >"$root/var/lib/lockd/sysctl-restore"
bash "$src/installer/uninstall.sh" --root-prefix "$root" >"$scratch/uninstall.out" 2>&1 ||
  fail "uninstall.sh failed: $(cat "$scratch/uninstall.out")"
[[ $(cat /proc/sys/user/max_user_namespaces) == 4242 ]] &&
  grep -q "restored user.max_user_namespaces=4242" "$scratch/uninstall.out" &&
  ok "uninstall put back the recorded user.max_user_namespaces" ||
  fail "uninstall did not restore user.max_user_namespaces: $(cat "$scratch/uninstall.out")"
echo "$standin_before" >/proc/sys/user/max_user_namespaces
left=$(cd "$root" && find . -type f -printf '/%P\n')
[[ $left == /var/log/lockd/audit.jsonl ]] && ok "uninstall removed everything but the log" ||
  fail "uninstall left: $left"
[[ -e $root/etc/lockd || -e $root/var/lib/lockd ]] && fail "uninstall left /etc/lockd or /var/lib/lockd"

# While the installation's lockd enforces, uninstall.sh (and an upgrade) must refuse without
# a token. A real lockd serves root2 (enforce baseline): it watches only a tmpfs mounted in its
# own private mount namespace, and its control socket is the one root2's lockd.toml names.
sandbox=$scratch/sandbox
mkdir "$sandbox" "$scratch/state"
cat >"$root2/etc/lockd/lockd.toml" <<EOC
database = "$root2/var/lib/lockd/allowlist.lockdb"
trust_dir = "$root2/etc/lockd/trust"
state_dir = "$scratch/state"
control_socket = "$scratch/run/control.sock"
workers = 2
audit_log = "$scratch/log/audit.jsonl"
syslog_facility = "none"
kernel_cache = "off"
watch = ["$sandbox"]
EOC
# A key lockd learns later (an audit log path...) could make this lockd write outside the
# scratch dir, into the real /var/log/lockd: refuse to start it until the test sets it too.
known=" database trust_dir state_dir control_socket workers kernel_cache log_level watch audit_log syslog_facility trusted_updaters baseline_roots baseline_excludes "
unknown_keys=$(grep -o 'key == "[a-z_]*"' "$src/lockd/config.cpp" | sed 's/.*"\(.*\)"/\1/' |
  sort -u | while read -r k; do [[ $known == *" $k "* ]] || echo "$k"; done)
[[ -z $unknown_keys ]] || fail "lockd.toml has new keys ($unknown_keys): set them in this test's config"
# The installer's baseline is signed for every local filesystem, which an enforcing lockd never
# lets lockd.toml narrow: re-sign it (same key, same mode) for the sandbox only.
mkdir -p "$scratch/empty"
"$lockctl" db build --root "$scratch/empty" --watch "$sandbox" --mode enforce --generation 2 \
  --key "$scratch/key/private.key" --out "$root2/var/lib/lockd/allowlist.lockdb" \
  >/dev/null 2>"$scratch/resign.err" || fail "re-signing root2's baseline: $(cat "$scratch/resign.err")"
if [[ -z $unknown_keys ]]; then
  # lockd is exec'd only once the sandbox is a tmpfs in this namespace: never on a real fs.
  # In a fresh pid namespace too (lockd may raise vm.memfd_noexec, a per-pid-namespace
  # setting that is never lowered again): $! is unshare's pid; killing it kills the namespace
  # (--kill-child), lockd included. lockd is not the namespace's init (which ignores SIGTERM).
  # The fresh /proc gets the stand-ins for the user-namespace settings before lockd starts.
  unshare -m -p -f --kill-child --mount-proc --propagation private bash -c "$(shield_lines /proc)"'
    mount -t tmpfs -o size=8m lockd-install-test "$1" || exit 3
    [[ $(findmnt -n -o FSTYPE --mountpoint "$1") == tmpfs ]] || exit 3
    "$2" --config "$3"' _ "$sandbox" "$root2/usr/sbin/lockd" "$root2/etc/lockd/lockd.toml" \
    2>"$scratch/lockd.err" &
  lockd_pid=$!
fi
for _ in $(seq 100); do
  [[ -S $scratch/run/control.sock || -z $lockd_pid ]] && break
  kill -0 "$lockd_pid" 2>/dev/null || break
  sleep 0.1
done
if ! "$root2/usr/bin/lockctl" status --json --socket "$scratch/run/control.sock" \
  >"$scratch/status" 2>&1; then
  fail "lockd for root2 did not come up: $(cat "$scratch/status" "$scratch/lockd.err")"
elif ! grep -q '"mode": *"enforce"' "$scratch/status"; then
  fail "lockd for root2 is not enforcing: $(cat "$scratch/status")"
else
  ok "a lockd serving root2 is enforcing (on its own tmpfs)"
  before=$(snapshot "$root2")
  if bash "$src/installer/uninstall.sh" --root-prefix "$root2" >"$scratch/out" 2>&1; then
    fail "uninstall.sh without a token removed an enforcing lockd"
  else
    grep -q "enforcing" "$scratch/out" || fail "refusal does not say lockd is enforcing: $(cat "$scratch/out")"
  fi
  if bash "$src/installer/uninstall.sh" --root-prefix "$root2" --token "$scratch/no-such-token" \
    --passphrase-fd 0 </dev/null >"$scratch/out" 2>&1; then
    fail "uninstall.sh with a bogus token removed an enforcing lockd"
  fi
  if bash "$src/installer/install.sh" --root-prefix "$root2" --build-dir "$build" --no-build \
    --no-deps >"$scratch/out" 2>&1; then
    fail "install.sh upgraded an enforcing lockd's programs"
  fi
  [[ $(snapshot "$root2") == "$before" ]] &&
    ok "uninstall (no token, bogus token) and upgrade refused while enforcing; nothing changed" ||
    fail "a refused call changed root2"
fi
if [[ -n $lockd_pid ]]; then
  # $lockd_pid is unshare's, which ignores SIGTERM while it waits: the SIGTERM goes to the
  # lockd this test started (its supervisor: the oldest process with root2's lockd path), and
  # unshare ends with it.
  daemon=$(pgrep -o -f -- "$root2/usr/sbin/lockd --config" || true)
  kill -TERM "${daemon:-$lockd_pid}" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$lockd_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$lockd_pid" 2>/dev/null; then
    fail "lockd did not stop within 10 s of SIGTERM"
    kill -KILL "$lockd_pid"
  fi
  wait "$lockd_pid" 2>/dev/null || true
  lockd_pid=""
fi
[[ -e $scratch/run/control.sock ]] && fail "lockd left its control socket behind after SIGTERM"
# A socket nobody answers on (a crashed lockd) means the mode is unknown: refuse, fail closed.
mkdir -p "$scratch/run"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
  "$scratch/run/control.sock"
if bash "$src/installer/uninstall.sh" --root-prefix "$root2" >"$scratch/out" 2>&1; then
  fail "uninstall.sh went ahead with an unanswered control socket"
elif ! grep -q "does not answer" "$scratch/out"; then
  fail "refusal with a stale socket does not say so: $(cat "$scratch/out")"
else
  ok "uninstall refuses while the control socket does not answer (mode unknown)"
fi
rm -f "$scratch/run/control.sock"
bash "$src/installer/uninstall.sh" --root-prefix "$root2" >"$scratch/out" 2>&1 ||
  fail "uninstall after lockd stopped failed: $(cat "$scratch/out")"
[[ ! -e $root2/var/log/lockd && ! -e $root2/etc/lockd ]] &&
  ok "uninstall after lockd stopped removes it all, and an empty log directory" ||
  fail "uninstall left $(cd "$root2" && find . -mindepth 1 -path './usr' -prune -o -print | tr '\n' ' ')"

section "4. Debian package"
pkg=$scratch/pkg
mkdir "$pkg"
if ! (cd "$build" && cpack -G DEB -B "$pkg" >"$scratch/cpack.out" 2>&1); then
  cat "$scratch/cpack.out" >&2
  fail "cpack failed"
fi
deb=$pkg/lockd_${version}_amd64.deb
if [[ ! -f $deb ]]; then
  fail "no $deb (cpack wrote: $(ls "$pkg"))"
else
  ok "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"
  info=$(dpkg-deb -f "$deb" Package Version Architecture Depends)
  grep -qx "Package: lockd" <<<"$info" && grep -qx "Version: $version" <<<"$info" &&
    grep -qx "Architecture: amd64" <<<"$info" && grep -q "Depends:.*libssl3" <<<"$info" &&
    ok "control: $(tr '\n' ' ' <<<"$info")" || fail "control fields: $info"
  # Contents: the same files, modes and owners as the scratch install.
  deb_files=$(dpkg-deb -c "$deb" | awk '$1 ~ /^-/ {print $1, $2, $6}' | sed 's: \./: /:' | sort -k3)
  # The package compresses the manuals and adds the Debian documentation
  # (cmake/deb_pre_build.cmake; checked against lintian by deb_package_test.sh).
  want=$( (expected_layout "$key_id" | awk '$2 == "f"' | grep -v -e '/trust/' -e 'allowlist.lockdb' |
    sed 's#^\(/usr/share/man/[^ ]*\) #\1.gz #'
    printf '%s f 644\n' /usr/share/doc/lockd/copyright /usr/share/doc/lockd/changelog.gz \
      /usr/share/lintian/overrides/lockd) | sort)
  while read -r path _ mode; do
    perm=$(awk -v p="$path" '$3 == p {print $1, $2}' <<<"$deb_files")
    want_perm=$( [[ $mode == 755 ]] && echo "-rwxr-xr-x root/root" || echo "-rw-r--r-- root/root")
    [[ $perm == "$want_perm" ]] || fail "deb: $path: '${perm:-missing}', expected $want_perm"
  done <<<"$want"
  [[ $(awk '{print $3}' <<<"$deb_files" | sort) == "$(awk '{print $1}' <<<"$want" | sort)" ]] &&
    ok "deb holds exactly the documented files" ||
    fail "deb files: $(awk '{print $3}' <<<"$deb_files" | tr '\n' ' ')"
  listing=$(dpkg-deb -c "$deb")
  for d in "drwxr-xr-x /etc/lockd/trust" "drwx------ /var/lib/lockd" "drwxr-x--- /var/log/lockd"; do
    grep -q "^${d% *} root/root .* \.${d#* }/$" <<<"$listing" || fail "deb lacks directory $d"
  done
  ctl=$scratch/control
  dpkg-deb -e "$deb" "$ctl"
  [[ $(cat "$ctl/conffiles") == /etc/lockd/lockd.toml ]] || fail "conffiles: $(cat "$ctl/conffiles")"
  for s in postinst prerm postrm; do
    [[ -x $ctl/$s ]] || fail "deb: $s missing or not executable"
    sh -n "$ctl/$s" || fail "deb: $s: syntax error"
    # The package never enables or starts lockd (try-restart of a running one is allowed).
    grep -nE 'systemctl[^|;&]*\b(enable|start|restart|reload-or-restart)\b' "$ctl/$s" |
      grep -v 'try-restart' | grep -v '^[0-9]*: *#' | grep -v 'enable --now lockd   (' |
      grep . && fail "deb: $s may enable or start lockd"
    grep -q '/run/systemd/system' "$ctl/$s" || fail "deb: $s does not check systemd is running"
  done
  ok "conffiles and maintainer scripts checked"
fi

section "5. the package in a Debian chroot"
# tests/run.sh builds the chroot cache before ctest; here it is built only if missing, within
# this test's time limit.
tarball=$(bash "$src/tests/integration/chroot_cache.sh" "${LOCKD_DEBOOTSTRAP_TIMEOUT:-200}") ||
  tarball=""
if [[ -z $tarball || ! -f $tarball ]]; then
  fail "no chroot: debootstrap failed or timed out; build the cache once with
  bash $src/tests/integration/chroot_cache.sh"
elif [[ -f $deb ]]; then
  ch=$scratch/chroot
  mkdir "$ch"
  tar --zstd -C "$ch" -xf "$tarball"
  cp "$deb" "$ch/tmp/lockd.deb"
  in_chroot() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C chroot "$ch" "$@"; }
  if in_chroot dpkg -i /tmp/lockd.deb >"$scratch/dpkg-i.out" 2>&1; then
    ok "dpkg -i in the chroot"
  else
    fail "dpkg -i: $(cat "$scratch/dpkg-i.out")"
  fi
  [[ $(in_chroot lockd --version) == "lockd $version" ]] && ok "lockd --version in the chroot" ||
    fail "lockd --version in the chroot"
  in_chroot lockctl --help >/dev/null && ok "lockctl --help in the chroot" ||
    fail "lockctl --help in the chroot"
  grep -q "not running and not enabled" "$scratch/dpkg-i.out" || fail "postinst did not say lockd is not enabled"
  find "$ch/etc/systemd" -name 'lockd*' 2>/dev/null | grep . && fail "the package enabled lockd"
  [[ $(in_chroot dpkg-query -W -f='${Conffiles}' lockd | awk '{print $1}') == /etc/lockd/lockd.toml ]] ||
    fail "dpkg does not register /etc/lockd/lockd.toml as a conffile"
  [[ $(stat -c '%a' "$ch/var/lib/lockd") == 700 ]] || fail "chroot: /var/lib/lockd not 0700"
  # A changed conffile survives reinstalling the same version.
  echo "workers = 3" >>"$ch/etc/lockd/lockd.toml"
  in_chroot dpkg -i /tmp/lockd.deb >"$scratch/dpkg-i2.out" 2>&1 || fail "dpkg -i again: $(cat "$scratch/dpkg-i2.out")"
  tail -1 "$ch/etc/lockd/lockd.toml" | grep -q "workers = 3" && ok "reinstall kept the changed conffile" ||
    fail "reinstall replaced the changed conffile"
  # Purge: everything goes but a non-empty log directory.
  echo '{"seq":1}' >"$ch/var/log/lockd/audit.jsonl"
  touch "$ch/etc/lockd/trust/anchor.pem" "$ch/var/lib/lockd/allowlist.lockdb"
  in_chroot dpkg --purge lockd >"$scratch/purge.out" 2>&1 || fail "dpkg --purge: $(cat "$scratch/purge.out")"
  in_chroot dpkg-query -W -f='${Status}' lockd 2>/dev/null | grep -q 'ok installed' &&
    fail "lockd still installed after purge"
  for p in /usr/sbin/lockd /usr/bin/lockctl /etc/lockd /var/lib/lockd /lib/systemd/system/lockd.service \
    /usr/share/man/man8/lockd.8.gz /usr/share/doc/lockd /usr/share/bash-completion/completions/lockctl; do
    [[ -e $ch$p ]] && fail "purge left $p"
  done
  [[ -f $ch/var/log/lockd/audit.jsonl ]] && ok "purge removed lockd and kept the non-empty log" ||
    fail "purge deleted the audit log"
  rm -rf "$ch/var/log/lockd"
  in_chroot dpkg -i /tmp/lockd.deb >/dev/null 2>&1 || fail "dpkg -i (2) failed"
  in_chroot dpkg --purge lockd >/dev/null 2>&1 || fail "dpkg --purge (2) failed"
  [[ -e $ch/var/log/lockd ]] && fail "purge kept an empty /var/log/lockd" ||
    ok "purge without logs leaves nothing"

  # While lockd enforces, the package refuses to be removed (prerm asks lockctl status). A
  # real lockd runs in the chroot, in its own mount namespace, watching only a tmpfs there.
  in_chroot dpkg -i /tmp/lockd.deb >/dev/null 2>&1 || fail "dpkg -i (3) failed"
  "$lockctl" key generate --out "$ch/root/signer" >/dev/null
  signer_id=$(openssl pkey -pubin -in "$ch/root/signer/public.pem" -outform DER | sha256sum | cut -c1-64)
  cp "$ch/root/signer/public.pem" "$ch/etc/lockd/trust/$signer_id.pem"
  mkdir -p "$ch/srv/sandbox" "$ch/srv/empty"
  in_chroot lockctl db build --root /srv/empty --key /root/signer/private.key --mode enforce \
    --watch /srv/sandbox \
    --out /var/lib/lockd/allowlist.lockdb >/dev/null 2>&1 || fail "db build in the chroot failed"
  echo 'watch = ["/srv/sandbox"]' >>"$ch/etc/lockd/lockd.toml"
  if [[ -n $unknown_keys ]]; then
    fail "not starting lockd in the chroot: lockd.toml has keys this test does not set"
  else
    unshare -m -p -f --kill-child --propagation private bash -c '
      mount -t proc proc "$1/proc" || exit 3
      '"$(shield_lines "$ch/proc")"'
      mount -t tmpfs -o size=8m lockd-install-test "$1/srv/sandbox" || exit 3
      [[ $(findmnt -n -o FSTYPE --mountpoint "$1/srv/sandbox") == tmpfs ]] || exit 3
      env -i PATH=/usr/sbin:/usr/bin chroot "$1" /usr/sbin/lockd' _ "$ch" \
      2>"$scratch/lockd-chroot.err" &
    lockd_pid=$!
    for _ in $(seq 100); do
      [[ -S $ch/run/lockd/control.sock ]] && break
      kill -0 "$lockd_pid" 2>/dev/null || break
      sleep 0.1
    done
    if ! in_chroot lockctl status --json 2>&1 | grep -q '"mode": *"enforce"'; then
      fail "lockd in the chroot is not up and enforcing: $(cat "$scratch/lockd-chroot.err")"
    elif in_chroot dpkg -r lockd >"$scratch/dpkg-r.out" 2>&1; then
      fail "dpkg -r removed lockd while it was enforcing"
    elif ! grep -q "lockd is enforcing: refusing to remove it" "$scratch/dpkg-r.out" ||
      [[ ! -x $ch/usr/sbin/lockd ]]; then
      fail "dpkg -r while enforcing: $(cat "$scratch/dpkg-r.out")"
    else
      ok "dpkg -r is refused while lockd enforces, and lockd stays installed"
    fi
    kill -TERM "$lockd_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$lockd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$lockd_pid" 2>/dev/null || true
    wait "$lockd_pid" 2>/dev/null || true
    lockd_pid=""
  fi
  in_chroot dpkg --purge lockd >"$scratch/purge2.out" 2>&1 &&
    ok "once lockd stopped, purge works" || fail "purge after lockd stopped: $(cat "$scratch/purge2.out")"
  rm -rf "$ch/var/log/lockd"

  # With systemd present the scripts talk to it, but never enable or start lockd. systemd
  # cannot run in a chroot, so a systemctl that records its arguments stands in for it.
  mkdir -p "$ch/run/systemd/system"
  printf '#!/bin/sh\necho "$*" >>/tmp/systemctl.log\n' >"$ch/usr/bin/systemctl"
  chmod 755 "$ch/usr/bin/systemctl"
  calls() { [[ -f $ch/tmp/systemctl.log ]] && tr '\n' ';' <"$ch/tmp/systemctl.log"; rm -f "$ch/tmp/systemctl.log"; }
  in_chroot dpkg -i /tmp/lockd.deb >/dev/null 2>&1 || fail "dpkg -i with systemd failed"
  got=$(calls)
  [[ $got == "daemon-reload;" ]] && ok "install with systemd: only daemon-reload" ||
    fail "install with systemd called: systemctl $got"
  in_chroot dpkg -i /tmp/lockd.deb >/dev/null 2>&1 || fail "dpkg -i (upgrade) with systemd failed"
  got=$(calls)
  [[ $got == "daemon-reload;try-restart lockd.service;" ]] &&
    ok "upgrade with systemd: daemon-reload, try-restart (never starts a stopped lockd)" ||
    fail "upgrade with systemd called: systemctl $got"
  in_chroot dpkg --purge lockd >/dev/null 2>&1 || fail "dpkg --purge with systemd failed"
  got=$(calls)
  [[ $got == "stop lockd.service;disable lockd.service;daemon-reload;daemon-reload;" ]] &&
    ok "purge with systemd: stop, disable, daemon-reload" ||
    fail "purge with systemd called: systemctl $got"
fi

echo "== done ($(date +%T)): $failures failure(s)"
((failures == 0))
