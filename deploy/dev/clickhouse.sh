#!/usr/bin/env bash
# Development ClickHouse: the ClickHouse engine from PyPI's chDB behind a small HTTP endpoint
# (deploy/dev/clickhouse/server.py; what it is and is not: deploy/dev/clickhouse/README.md).
# Usage: deploy/dev/clickhouse.sh {install|start|stop|status|logs}
#   install  python3 -m venv + pip install chdb==$CHDB_VERSION into $FLOE_CACHE/chdb-venv (once)
#   start    install if needed, start on 127.0.0.1:$CLICKHOUSE_PORT, wait for /ping and SELECT 1
#   stop     SIGTERM, SIGKILL after 15 s; no-op when stopped
#   status   exit 0 healthy, 1 running but unhealthy, 3 stopped
# Environment: CHDB_VERSION (4.4.0), CLICKHOUSE_PORT (18123), CLICKHOUSE_START_TIMEOUT (60 s),
#   FLOE_CACHE (${XDG_CACHE_HOME:-~/.cache}/floe).
set -euo pipefail
SERVICE=clickhouse
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHDB_VERSION="${CHDB_VERSION:-4.4.0}"
CLICKHOUSE_PORT="${CLICKHOUSE_PORT:-18123}"
CLICKHOUSE_START_TIMEOUT="${CLICKHOUSE_START_TIMEOUT:-60}"
HOST=127.0.0.1

VENV="$FLOE_CACHE/chdb-venv"
STAMP="$VENV/.installed-chdb-$CHDB_VERSION"
HOME_DIR="$FLOE_CACHE/clickhouse"
DATA="$HOME_DIR/data"
PIDFILE="$HOME_DIR/server.pid"
LOGFILE="$HOME_DIR/server.log"
ENDPOINT="http://$HOST:$CLICKHOUSE_PORT"
PY="$VENV/bin/python"

install() {
  already_installed "chdb $CHDB_VERSION" "$VENV" && return 0
  command -v python3 >/dev/null || die "python3 not found"
  mkdir -p "$FLOE_CACHE"
  log "installing chdb $CHDB_VERSION from PyPI into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  # pip's download cache lives in the cache folder too, so a CI cache of .cache/ covers it.
  if ! PIP_CACHE_DIR="$FLOE_CACHE/pip" "$VENV/bin/pip" install -q --disable-pip-version-check "chdb==$CHDB_VERSION" >"$FLOE_CACHE/chdb-pip.log" 2>&1; then
    show_log "$FLOE_CACHE/chdb-pip.log" 30
    die "pip install chdb==$CHDB_VERSION failed (full log: $FLOE_CACHE/chdb-pip.log)"
  fi
  "$PY" -c 'import chdb; chdb.query("SELECT 1")' || die "chdb installed but cannot run a query"
  touch "$STAMP"
  log "installed chdb $CHDB_VERSION"
}

# http GET path -> body on stdout; non-zero on failure. Uses the venv's python (no curl needed).
http_get() {
  "$PY" - "$HOST" "$CLICKHOUSE_PORT" "$1" <<'PY'
import sys, http.client
c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=5)
c.request("GET", sys.argv[3])
r = c.getresponse()
body = r.read().decode()
sys.stdout.write(body)
sys.exit(0 if r.status == 200 else 1)
PY
}

health() {
  port_open "$HOST" "$CLICKHOUSE_PORT" || { echo "port $HOST:$CLICKHOUSE_PORT closed"; return 1; }
  local ping version
  ping=$(http_get /ping 2>&1) || { echo "/ping failed: $ping"; return 1; }
  [[ $ping == "Ok." ]] || { echo "/ping answered '$ping'"; return 1; }
  version=$(http_get '/?query=SELECT%20version()' 2>&1) || { echo "SELECT version() failed: $version"; return 1; }
  echo "ok engine=$version"
}

start() {
  install
  already_running && return 0
  if port_open "$HOST" "$CLICKHOUSE_PORT"; then
    die "port $CLICKHOUSE_PORT on $HOST is taken by another process (pid $(port_pid "$CLICKHOUSE_PORT")); not started"
  fi
  mkdir -p "$DATA"
  : >"$LOGFILE"
  local t0=$SECONDS
  setsid "$PY" "$DEV_DIR/clickhouse/server.py" --host "$HOST" --port "$CLICKHOUSE_PORT" --data "$DATA" \
    >>"$LOGFILE" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  log "starting chdb endpoint (pid $!), log $LOGFILE"
  wait_healthy "$t0" "$CLICKHOUSE_START_TIMEOUT" 0.3 endpoint "$ENDPOINT"
}

service_main 15 "$@"
