# fapolicyd for benchmarks, sourced after tests/integration/lib.sh (not a test).
#
# Debian's fapolicyd ships rules that deny every untrusted exec on the whole machine, so it is
# never run as a service here: fapolicyd_setup gives it a private configuration in $T that is
# bind-mounted over /etc/fapolicyd, /var/lib/fapolicyd and /run/fapolicyd inside this private
# mount namespace only (the host's files and service are untouched), watching tmpfs only;
# fapolicyd_start runs it by hand in the foreground and fapolicyd_stop stops it by its pid.
# It runs as root (uid = root in its config): dropping to its own user fails here.

# fapolicyd_setup RULE...: the compiled rules, one per argument (integrity sha256, trust file).
fapolicyd_setup() {
  command -v fapolicyd >/dev/null || { log "fapolicyd is not installed"; exit 1; }
  FP_DIR="$T/fapolicyd"
  mkdir -p "$FP_DIR/etc" "$FP_DIR/var" "$FP_DIR/run"
  cp -a /etc/fapolicyd/. "$FP_DIR/etc/"
  rm -f "$FP_DIR/etc/rules.d/"*
  printf '%s\n' "$@" >"$FP_DIR/etc/compiled.rules"
  sed -i "s/^watch_fs = .*/watch_fs = ${FAPOLICYD_WATCH_FS:-tmpfs}/"' ; s/^trust = .*/trust = file/;
          s/^integrity = .*/integrity = sha256/; s/^uid = .*/uid = root/; s/^gid = .*/gid = root/;
          s/^permissive = .*/permissive = 0/' "$FP_DIR/etc/fapolicyd.conf"
  : >"$FP_DIR/etc/trust.d/fapolicyd.trust"
  mount --bind "$FP_DIR/etc" /etc/fapolicyd && MOUNTS+=(/etc/fapolicyd)
  mkdir -p /var/lib/fapolicyd /run/fapolicyd
  mount --bind "$FP_DIR/var" /var/lib/fapolicyd && MOUNTS+=(/var/lib/fapolicyd)
  mount --bind "$FP_DIR/run" /run/fapolicyd && MOUNTS+=(/run/fapolicyd)
}

# fapolicyd_trust_line FILE: FILE's line in fapolicyd's trust file (path size sha256).
fapolicyd_trust_line() { echo "$1 $(stat -c %s "$1") $(sha256sum "$1" | cut -d' ' -f1)"; }

# fapolicyd_start TRUST_FILE: starts it with that trust list; waits (60 s at most) until it
# listens. Sets FP_PID.
fapolicyd_start() {
  cp "$1" "$FP_DIR/etc/fapolicyd.trust"
  rm -f "$FP_DIR/var/"*
  ${RT[@]+"${RT[@]}"} fapolicyd --debug-deny >"$T/fapolicyd.log" 2>&1 &
  FP_PID=$!
  EXTRA_PIDS+=("$FP_PID")
  for _ in $(seq 600); do
    grep -q "Starting to listen for events" "$T/fapolicyd.log" && return 0
    kill -0 "$FP_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$T/fapolicyd.log" >&2
  kill -KILL "$FP_PID" 2>/dev/null || true
  exit 1
}

# fapolicyd_stop: SIGTERM by pid, SIGKILL after 10 s.
fapolicyd_stop() {
  kill -TERM "$FP_PID"
  for _ in $(seq 100); do kill -0 "$FP_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$FP_PID" 2>/dev/null || true
  wait "$FP_PID" 2>/dev/null || true
}
