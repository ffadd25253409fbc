# Shared helpers for the deploy/dev service scripts (sourced, not run).
# Everything lives under $FLOE_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/floe, outside the clone, so fresh clones and CI reuse the downloads).

DEV_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEV_DIR/../.." && pwd)"
FLOE_CACHE="${FLOE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/floe}"

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

# The helpers below use what the service script sets before calling them: SERVICE, PIDFILE,
# LOGFILE, STAMP (written when installed), ENDPOINT (where the service answers, for messages), and the functions install, start
# and health (health prints one line; 0 when healthy).

# already_installed WHAT DIR -> 0 (and says "WHAT already installed in DIR") when the install
# stamp file $STAMP exists; 1 otherwise.
already_installed() {
  [[ -f $STAMP ]] || return 1
  log "$1 already installed in $2"
}

# already_running -> 0 (and says so) when the service's pid is alive; 1 otherwise.
already_running() {
  pid_alive "$PIDFILE" || return 1
  log "already running (pid $(<"$PIDFILE")) on $ENDPOINT"
}

# wait_healthy T0 TIMEOUT_S INTERVAL_S WHAT WHERE -> after a start at $SECONDS=T0, poll health every
# INTERVAL_S until it passes (log "healthy after N s: <health> (WHERE)", return 0). Dies with the
# log's tail when the pid exits ("the WHAT exited during start-up") or TIMEOUT_S passes (the
# process is left running).
wait_healthy() {
  local t0=$1 limit=$2 interval=$3 what=$4 where=$5 out=""
  while ((SECONDS - t0 < limit)); do
    if ! pid_alive "$PIDFILE"; then
      rm -f "$PIDFILE"
      show_log "$LOGFILE" 40
      die "the $what exited during start-up"
    fi
    if out=$(health); then
      log "healthy after $((SECONDS - t0)) s: $out ($where)"
      return 0
    fi
    sleep "$interval"
  done
  show_log "$LOGFILE" 40
  log "last health check: ${out:-none yet}"
  die "not healthy within ${limit}s (still running as pid $(<"$PIDFILE"); run '$0 stop')"
}

# service_status -> exit 0 healthy, 1 running but unhealthy, 3 stopped (and says which).
service_status() {
  if ! pid_alive "$PIDFILE"; then
    log "stopped"
    return 3
  fi
  local out
  if out=$(health); then
    log "running (pid $(<"$PIDFILE")) on $ENDPOINT, $out"
    return 0
  fi
  log "running (pid $(<"$PIDFILE")) but unhealthy: $out"
  return 1
}

# service_main STOP_TIMEOUT_S {install|start|stop|status|logs [N]} -> runs the command; stop
# waits STOP_TIMEOUT_S after SIGTERM before SIGKILL; usage and exit 2 on anything else.
service_main() {
  local stop_timeout=$1
  shift
  case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop_pid "$PIDFILE" "$stop_timeout" ;;
    status) service_status ;;
    logs) tail -n "${2:-100}" "$LOGFILE" ;;
    *) echo "usage: $0 {install|start|stop|status|logs [N]}" >&2; exit 2 ;;
  esac
}
