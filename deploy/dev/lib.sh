# Shared helpers for the deploy/dev service scripts (sourced, not run).
# Everything lives under $FLOE_CACHE (default <repo>/.cache, ignored by git).

DEV_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEV_DIR/../.." && pwd)"
FLOE_CACHE="${FLOE_CACHE:-$REPO_ROOT/.cache}"

log() { printf '%s: %s\n' "$SERVICE" "$*"; }
die() { printf '%s: ERROR: %s\n' "$SERVICE" "$*" >&2; exit 1; }

# pid_alive PIDFILE -> 0 when the pid in PIDFILE is a live process.
pid_alive() {
  local pidfile=$1 pid
  [[ -f $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# port_open HOST PORT -> 0 when a TCP connect succeeds (bash /dev/tcp, 1 s timeout).
port_open() {
  timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# port_pid PORT -> the pid listening on 127.0.0.1:PORT, if `ss` can tell.
port_pid() {
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n1
}

# show_log FILE [N] -> print the last N lines of FILE to stderr.
show_log() {
  local file=$1 n=${2:-40}
  if [[ -f $file ]]; then
    printf -- '--- last %s lines of %s ---\n' "$n" "$file" >&2
    tail -n "$n" "$file" >&2
    printf -- '--- end ---\n' >&2
  fi
}

# stop_pid PIDFILE TIMEOUT_S -> SIGTERM, wait up to TIMEOUT_S, then SIGKILL. No-op when not running.
stop_pid() {
  local pidfile=$1 limit=$2 pid i
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    log "not running"
    return 0
  fi
  pid=$(<"$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < limit * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; log "stopped (pid $pid)"; return 0; }
    sleep 0.2
  done
  log "pid $pid did not exit within ${limit}s after SIGTERM; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
  rm -f "$pidfile"
}
