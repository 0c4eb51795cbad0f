#!/usr/bin/env bash
# Installs lockd on this machine, or into a scratch root for tests (see usage below and
# lockd(8), "Installing"). Safe by default: lockd starts in audit mode (it logs what it would
# deny and denies nothing) unless --enforce is given. Idempotent: running it again upgrades
# the programs and keeps the configuration, the trust anchors, the database and the logs.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: installer/install.sh --trust KEY.pem (--key PRIVATE.pem | --token SPEC) [options]

  --trust KEY.pem       trust anchor (public key) to install in /etc/lockd/trust/; repeatable.
                        Needed on a first install; on an upgrade the anchors in place are kept
                        (adding another one later is `lockctl trust add ... --token`).
  --key PRIVATE.pem     sign the initial baseline with this PKCS#8 private key
  --token SPEC          sign the initial baseline with this token (folder or pkcs11: URI)
  --passphrase-fd FD    read the token's passphrase or PIN from this fd (default: prompt)
  --enforce             sign the baseline with the enforce policy (default: audit)
  --baseline-root DIR   directory to baseline; repeatable (default: / and every local
                        filesystem below it, or the --root-prefix)
  --exclude GLOB        exclude recorded paths matching GLOB from the baseline; repeatable
  --no-baseline         do not build a baseline (one must then be put in /var/lib/lockd/)
  --build-dir DIR       use (and bring up to date) this CMake build directory
                        (default: build-install/ in the source tree)
  --no-build            use --build-dir as it is, do not run the build
  --no-deps             do not install the Debian packages lockd needs (installer/deps.sh)
  --root-prefix DIR     install below DIR instead of / (also taken from $DESTDIR); implies
                        --no-start
  --no-start            do not enable or start the service
  -h, --help            this text
USAGE
}

die() {
  echo "install.sh: $*" >&2
  exit 2
}
say() { echo "install.sh: $*"; }

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
trust=()
key=""
token=""
secret_fd=""
mode=audit
baseline_roots=()
excludes=()
baseline=1
build_dir=""
build=1
deps=1
prefix="${DESTDIR:-}"
start=1

while (($#)); do
  case "$1" in
    --trust) trust+=("${2:?--trust needs a file}"); shift 2 ;;
    --key) key="${2:?--key needs a file}"; shift 2 ;;
    --token) token="${2:?--token needs a value}"; shift 2 ;;
    --passphrase-fd | --pin-fd) secret_fd="${2:?$1 needs a number}"; shift 2 ;;
    --enforce) mode=enforce; shift ;;
    --baseline-root) baseline_roots+=("${2:?--baseline-root needs a directory}"); shift 2 ;;
    --exclude) excludes+=("${2:?--exclude needs a pattern}"); shift 2 ;;
    --no-baseline) baseline=0; shift ;;
    --build-dir) build_dir="${2:?--build-dir needs a directory}"; shift 2 ;;
    --no-build) build=0; shift ;;
    --no-deps) deps=0; shift ;;
    --root-prefix) prefix="${2:?--root-prefix needs a directory}"; shift 2 ;;
    --no-start) start=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done

# --- checks before touching anything -------------------------------------------------------
if [[ -n "$prefix" ]]; then
  [[ -d "$prefix" ]] || die "--root-prefix $prefix: not a directory"
  prefix=$(cd "$prefix" && pwd)
  [[ "$prefix" != / ]] || prefix=""
fi
[[ -n "$prefix" ]] && start=0
if [[ $(id -u) -ne 0 ]]; then
  die "run as root (files go to /usr, /etc/lockd, /var/lib/lockd and belong to root)"
fi
[[ -n "$key" && -n "$token" ]] && die "give --key or --token, not both"
if [[ -z "$prefix" ]] && dpkg-query -W -f='${Status}' lockd 2>/dev/null | grep -q "ok installed"; then
  die "lockd is installed from the Debian package here: upgrade it with the package, not install.sh"
fi
if ((baseline)) && [[ -z "$key" && -z "$token" ]] && [[ ! -e "$prefix/var/lib/lockd/allowlist.lockdb" ]]; then
  die "a first install needs --key PRIVATE.pem or --token SPEC to sign the baseline (or --no-baseline)"
fi
[[ -z "$key" || -r "$key" ]] || die "--key $key: cannot read it"
for t in "${trust[@]}"; do
  [[ -r "$t" ]] || die "--trust $t: cannot read it"
  openssl pkey -pubin -in "$t" -noout 2>/dev/null || die "--trust $t: not a PEM public key"
done
existing_anchors=()
if [[ -d "$prefix/etc/lockd/trust" ]]; then
  mapfile -t existing_anchors < <(find "$prefix/etc/lockd/trust" -maxdepth 1 -name '*.pem' -type f | sort)
fi
if ((${#trust[@]} == 0 && ${#existing_anchors[@]} == 0)); then
  die "a first install needs --trust KEY.pem (the public key that signs this terminal's databases)"
fi

# Key fingerprint of a PEM public key: SHA-256 of its DER SubjectPublicKeyInfo.
fingerprint() { openssl pkey -pubin -in "$1" -outform DER 2>/dev/null | sha256sum | cut -c1-64; }

upgrade=0
[[ -e "$prefix/usr/sbin/lockd" || -e "$prefix/etc/lockd/lockd.toml" ]] && upgrade=1

# Is lockd running for this installation, and in which mode? Replacing its programs while it
# enforces would leave the new lockctl denied (its digest is not in the allowlist yet), so an
# upgrade then needs maintenance mode first. Asked on the control socket named in lockd.toml.
running_mode=""
socket=/run/lockd/control.sock
if [[ -f "$prefix/etc/lockd/lockd.toml" ]]; then
  s=$(sed -n 's/^[[:space:]]*control_socket[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' \
    "$prefix/etc/lockd/lockd.toml" | tail -n 1)
  [[ -n "$s" ]] && socket=$s
fi
if [[ -S "$socket" && -x "$prefix/usr/bin/lockctl" ]]; then
  if status=$("$prefix/usr/bin/lockctl" status --json --socket "$socket" 2>/dev/null); then
    running_mode=$(grep -o '"mode": *"[a-z]*"' <<<"$status" | head -n 1 | sed 's/.*"\([a-z]*\)"$/\1/')
  else
    running_mode=unknown
  fi
fi
if [[ "$running_mode" == unknown ]]; then
  die "$socket exists but lockd does not answer on it, so its mode is unknown: refusing.
If lockd is not running, remove the stale socket and run install.sh again."
fi
if [[ "$running_mode" == enforce ]]; then
  die "lockd is enforcing: start maintenance with the token first (lockctl maintenance start --token ...),
then run install.sh again, then lockctl maintenance finish --token ..."
fi

# --- 1. dependencies -----------------------------------------------------------------------
if ((deps)); then
  bash "$src/installer/deps.sh" --runtime
fi

# --- 2. build --------------------------------------------------------------------------------
[[ -n "$build_dir" ]] || build_dir="$src/build-install"
if ((build)); then
  if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    ((deps)) && bash "$src/installer/deps.sh"
    say "configuring $build_dir"
    cmake -S "$src" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DLOCKD_BUILD_TESTS=OFF \
      -DLOCKD_BUILD_BENCH=OFF >/dev/null
  fi
  say "building lockd and lockctl in $build_dir"
  cmake --build "$build_dir" -j"$(nproc)" --target lockd lockctl >/dev/null
fi
for b in lockd/lockd tools/lockctl; do
  [[ -x "$build_dir/$b" ]] || die "$build_dir/$b: not built (drop --no-build, or build it)"
done

# --- 3. files --------------------------------------------------------------------------------
# cmake/install.cmake places every file; an existing lockd.toml is kept.
say "installing into ${prefix:-/}"
DESTDIR="$prefix" cmake --install "$build_dir" --prefix /usr --strip | sed 's/^/  /'
# cmake does not set the owner, and keeps a directory's old mode: make them what the docs say.
chown root:root "$prefix/etc/lockd" "$prefix/etc/lockd/trust" "$prefix/var/lib/lockd" \
  "$prefix/var/log/lockd"
chmod 0755 "$prefix/etc/lockd" "$prefix/etc/lockd/trust"
chmod 0700 "$prefix/var/lib/lockd"
chmod 0750 "$prefix/var/log/lockd"

# --- 4. trust anchors ------------------------------------------------------------------------
# A new anchor is accepted here only on a first install: afterwards, who may sign databases for
# this terminal is changed with a token signed by a current anchor (lockctl trust add).
for t in "${trust[@]}"; do
  fp=$(fingerprint "$t")
  have=""
  for a in "${existing_anchors[@]}"; do
    [[ "$(fingerprint "$a")" == "$fp" ]] && have="$a"
  done
  if [[ -n "$have" ]]; then
    say "trust anchor ${fp:0:16} already in place ($have)"
  elif ((${#existing_anchors[@]} > 0)); then
    die "--trust $t: this terminal already has trust anchors; add another with
  lockctl trust add $t --token ...   (authorized by a current anchor)"
  else
    dest="$prefix/etc/lockd/trust/$fp.pem"
    install -o root -g root -m 0644 "$t" "$dest"
    say "trust anchor ${fp:0:16} installed as ${dest#"$prefix"}"
  fi
done

# --- 5. baseline -----------------------------------------------------------------------------
db="$prefix/var/lib/lockd/allowlist.lockdb"
lockctl_bin="$build_dir/tools/lockctl"
if [[ -e "$db" ]]; then
  say "keeping the database in place (${db#"$prefix"}); re-baseline with lockctl maintenance"
  [[ "$mode" == enforce ]] && say "--enforce ignored: the mode is the one signed into the database in place"
elif ((baseline)); then
  args=(db build --out "$db" --generation 1 --mode "$mode")
  if ((${#baseline_roots[@]} == 0)); then
    baseline_roots=("${prefix:-/}")
    # lockd checks every local filesystem, so the baseline of a whole system covers all of
    # them (/usr or /opt may be separate); pseudo and network filesystems are still skipped.
    [[ -z "$prefix" ]] && args+=(--cross-filesystems)
  fi
  for r in "${baseline_roots[@]}"; do args+=(--root "$r"); done
  [[ -n "$prefix" ]] && args+=(--strip-prefix "$prefix")
  for e in "${excludes[@]}"; do args+=(--exclude "$e"); done
  if [[ -n "$key" ]]; then
    args+=(--key "$key")
  else
    # Signing the baseline on a token needs `lockctl db build --token` (tokens issue).
    "$lockctl_bin" db build --help 2>/dev/null | grep -q -- '--token' ||
      die "--token: this lockctl cannot sign a database with a token yet; use --key PRIVATE.pem"
    args+=(--token "$token")
    [[ -n "$secret_fd" ]] && args+=(--passphrase-fd "$secret_fd")
  fi
  say "building the baseline of ${baseline_roots[*]} (mode $mode); this hashes every program"
  "$lockctl_bin" "${args[@]}"
  trust_dir="$prefix/etc/lockd/trust"
  "$lockctl_bin" db verify "$db" --trust "$trust_dir" >/dev/null ||
    die "$db: the new baseline does not verify with the anchors in $trust_dir (was it signed by
  the key of --trust?); remove it and run install.sh again with the matching key"
  chmod 0600 "$db"
else
  say "no baseline built (--no-baseline): lockd will not start until ${db#"$prefix"} exists"
fi

# --- 6. service ------------------------------------------------------------------------------
if ((start)) && [[ ! -e "$db" ]]; then
  say "service not started: there is no database yet (${db#"$prefix"})"
elif ((start)); then
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    systemctl daemon-reload
    systemctl enable lockd.service
    if ((upgrade)); then systemctl restart lockd.service; else systemctl start lockd.service; fi
    say "lockd is running; 'lockctl status' shows its mode and database"
  else
    say "systemd is not running here: lockd was not started (start it with /usr/sbin/lockd)"
  fi
else
  say "service not started (--no-start or --root-prefix)"
fi

# The mode in force is the one signed into the database (an upgrade keeps the old one).
db_mode=""
if [[ -e "$db" ]]; then
  db_mode=$("$lockctl_bin" db show "$db" --trust "$prefix/etc/lockd/trust" --json 2>/dev/null |
    grep -o '"mode": *"[a-z]*"' | head -n 1 | sed 's/.*"\([a-z]*\)"$/\1/') || true
fi
if [[ "$db_mode" == audit ]]; then
  cat <<'MSG'

lockd's database is in AUDIT mode: lockd denies nothing and logs what it would deny. Read the
log until no denial is expected ('lockctl log show', 'journalctl -u lockd'), then switch to
enforce with a database signed with the enforce policy and a higher generation:
  lockctl db build --root / --key PRIVATE.pem --mode enforce --generation 2 \
    --out /var/lib/lockd/allowlist.lockdb.new
  mv /var/lib/lockd/allowlist.lockdb.new /var/lib/lockd/allowlist.lockdb && lockctl reload
  (on a terminal in the field: lockctl db install NEW.lockdb --token ...)
MSG
elif [[ "$db_mode" == enforce ]]; then
  say "the database's policy is ENFORCE: programs not in the allowlist are denied once lockd runs"
fi
say "done"
