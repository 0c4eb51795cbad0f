#!/usr/bin/env bash
# Removes what installer/install.sh installed, except the audit logs in /var/log/lockd (they
# are the auditor's evidence; delete them by hand when the retention period is over).
# While lockd is enforcing, removing it would end enforcement, so that needs the field
# engineer's token (it authorizes leaving enforce first), as every other way out of enforce.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: installer/uninstall.sh [--token SPEC [--passphrase-fd FD]] [--root-prefix DIR]

  --token SPEC          token that authorizes leaving enforce (needed while lockd enforces)
  --passphrase-fd FD    read the token's passphrase or PIN from this fd (default: prompt)
  --root-prefix DIR     remove from the scratch root DIR instead of / (also taken from $DESTDIR)
  -h, --help            this text

Kernel settings lockd changed at start (its policy's restrict_user_namespaces) are put back to
the values recorded in its state directory before the files are removed.
USAGE
}

die() {
  echo "uninstall.sh: $*" >&2
  exit "${2:-2}"
}
say() { echo "uninstall.sh: $*"; }

token=""
secret_fd=""
prefix="${DESTDIR:-}"
while (($#)); do
  case "$1" in
    --token) token="${2:?--token needs a value}"; shift 2 ;;
    --passphrase-fd | --pin-fd) secret_fd="${2:?$1 needs a number}"; shift 2 ;;
    --root-prefix) prefix="${2:?--root-prefix needs a directory}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
if [[ -n "$prefix" ]]; then
  [[ -d "$prefix" ]] || die "--root-prefix $prefix: not a directory"
  prefix=$(cd "$prefix" && pwd)
  [[ "$prefix" != / ]] || prefix=""
fi
[[ $(id -u) -eq 0 ]] || die "run as root"

# Installed by the Debian package? Then dpkg owns the files: remove it with apt.
if [[ -z "$prefix" ]] && dpkg-query -W -f='${Status}' lockd 2>/dev/null | grep -q "ok installed"; then
  die "lockd is installed from the Debian package: remove it with 'apt purge lockd'"
fi

systemd_running() { [[ -z "$prefix" && -d /run/systemd/system ]] && command -v systemctl >/dev/null; }

# --- Is lockd enforcing? ---------------------------------------------------------------------
# Asked of the lockd that serves this installation: the control socket named in its lockd.toml
# (a path on this machine, also for a --root-prefix install). If lockd runs but does not
# answer, its mode is unknown and we refuse: failing closed is the point of the product.
config="$prefix/etc/lockd/lockd.toml"
socket=/run/lockd/control.sock
if [[ -f "$config" ]]; then
  s=$(sed -n 's/^[[:space:]]*control_socket[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$config" | tail -n 1)
  [[ -n "$s" ]] && socket=$s
fi
state_dir=/var/lib/lockd
if [[ -f "$config" ]]; then
  s=$(sed -n 's/^[[:space:]]*state_dir[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$config" | tail -n 1)
  [[ -n "$s" ]] && state_dir=$s
fi
lockctl_bin="$prefix/usr/bin/lockctl"
mode=""
active=0
if systemd_running && systemctl is-active --quiet lockd.service; then active=1; fi
if [[ -S "$socket" ]] || ((active)); then
  if [[ -x "$lockctl_bin" ]] && status=$("$lockctl_bin" status --json --socket "$socket" 2>/dev/null); then
    mode=$(grep -o '"mode": *"[a-z]*"' <<<"$status" | head -n 1 | sed 's/.*"\([a-z]*\)"$/\1/')
    [[ -n "$mode" ]] || mode=unknown
  else
    mode=unknown
  fi
fi
if [[ "$mode" == enforce || "$mode" == unknown ]]; then
  if [[ -z "$token" ]]; then
    if [[ "$mode" == unknown ]]; then
      die "lockd runs or left its socket $socket but does not answer, so its mode is unknown:
refusing without a token (--token SPEC). If lockd is not running, remove the stale socket." 1
    fi
    die "lockd is enforcing: refusing to remove it without the token that authorizes leaving
enforce (--token SPEC)" 1
  fi
  # >>> AUTHORIZATION CHECK (issue 5): leaving enforce is authorized by the token through
  # >>> `lockctl maintenance start --token` (a 30-minute window: lockd allows everything while
  # >>> the files are removed); lockd verifies the signature, the anchor, the terminal id, the
  # >>> expiry and the single-use nonce. If the command is missing or refuses, we refuse too.
  args=(maintenance start --minutes 30 --token "$token" --socket "$socket")
  [[ -f "$config" ]] && args+=(--config "$config")
  [[ -n "$secret_fd" ]] && args+=(--passphrase-fd "$secret_fd")
  if ! "$lockctl_bin" "${args[@]}"; then
    die "the token did not authorize leaving enforce ('lockctl ${args[*]}' failed): not removed" 1
  fi
  say "lockd left enforce with the token's authorization"
fi

# --- Stop the service and remove the files ---------------------------------------------------
if systemd_running; then
  systemctl disable --now lockd.service 2>/dev/null || true
fi
files=(
  /usr/sbin/lockd
  /usr/bin/lockctl
  /lib/systemd/system/lockd.service
  /usr/share/man/man8/lockd.8
  /usr/share/man/man8/lockctl.8
  /usr/share/man/man5/lockd.toml.5
  /usr/share/bash-completion/completions/lockctl
)
# Kernel settings lockd changed (restrict_user_namespaces): put back the values it found
# before its first change, recorded as name=value lines in <state_dir>/sysctl-restore. They are
# this machine's kernel settings, so they are restored also for a --root-prefix installation
# whose lockd ran here.
record="$prefix$state_dir/sysctl-restore"
if [[ -f "$record" ]]; then
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ -z "$line" ]] && continue
    name=${line%%=*}
    value=${line#*=}
    if [[ ! $name =~ ^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$ || ! $value =~ ^-?[0-9]+$ ]]; then
      say "ignored a malformed line in $record: $line"
      continue
    fi
    knob="/proc/sys/${name//.//}"
    if [[ -w "$knob" ]] && echo "$value" >"$knob" 2>/dev/null; then
      say "restored $name=$value"
    else
      say "could not restore $name=$value (set it by hand: sysctl -w $name=$value)"
    fi
  done <"$record"
fi
for f in "${files[@]}"; do
  if [[ -e "$prefix$f" || -L "$prefix$f" ]]; then
    rm -f "$prefix$f"
    say "removed $f"
  fi
done
for d in /etc/lockd /var/lib/lockd /run/lockd; do
  if [[ -e "$prefix$d" ]]; then
    rm -rf -- "$prefix$d"
    say "removed $d"
  fi
done
if systemd_running; then systemctl daemon-reload; fi
if [[ -d "$prefix/var/log/lockd" ]]; then
  if rmdir "$prefix/var/log/lockd" 2>/dev/null; then
    say "removed /var/log/lockd (it was empty)"
  else
    say "kept the audit log in /var/log/lockd"
  fi
fi
say "done"
