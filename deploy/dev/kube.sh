#!/usr/bin/env bash
# Development Kubernetes API server: kube-apiserver v1.37.2 and a single-member embedded etcd,
# both built from the Go module proxy (deploy/dev/kube/go.mod), plus kubectl from the same build.
# No controller manager, scheduler or kubelet: nothing creates default ServiceAccounts or
# EndpointSlices and nothing sets pod IPs; tests create them and patch pods/status themselves.
# Usage: deploy/dev/kube.sh {install|start|stop|status|logs|kubeconfig|env}
#   install     build kube-apiserver, kubectl and etcd into $FLOE_CACHE/kube/bin-<go.mod hash> (once;
#               about 10-20 min on 2 cores, ~3 GB peak memory); later clones and CI reuse it
#   start       install if needed, make certificates, keys and the admin token once, start etcd and
#               kube-apiserver on 127.0.0.1, wait for /readyz, print the kubeconfig's path
#   stop        SIGTERM kube-apiserver then etcd (SIGKILL after 20 s); no-op when stopped
#   status      exit 0 healthy, 1 running but unhealthy, 3 stopped
#   kubeconfig  print the kubeconfig's path (admin, token auth, system:masters)
#   env         print `export FLOE_KUBECONFIG=... KUBECTL=...` for eval
# Environment: KUBE_PORT (16443), KUBE_ETCD_PORT (16379; the peer port is +1), KUBE_START_TIMEOUT
#   (90 s), KUBE_BUILD_P (go build -p, 1), FLOE_CACHE (${XDG_CACHE_HOME:-~/.cache}/floe),
#   FLOE_KUBE_DIR (default $FLOE_CACHE/kube/run: etcd data, pki, kubeconfig, pids, logs).
set -euo pipefail
SERVICE=kube
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KUBE_VERSION=v1.37.2
KUBE_PORT="${KUBE_PORT:-16443}"
KUBE_ETCD_PORT="${KUBE_ETCD_PORT:-16379}"
KUBE_START_TIMEOUT="${KUBE_START_TIMEOUT:-90}"
KUBE_BUILD_P="${KUBE_BUILD_P:-1}"
HOST=127.0.0.1

MOD_DIR="$DEV_DIR/kube"
KUBE_HOME="$FLOE_CACHE/kube"
# The binaries are keyed by what they are built from: go.mod, go.sum, the etcd main and the
# build flags below (bump BUILD_REV when they change).
BUILD_REV=1
BUILD_KEY=$(cat "$MOD_DIR/go.mod" "$MOD_DIR/go.sum" "$MOD_DIR/etcd/main.go" <(echo "$BUILD_REV") | sha256sum | cut -c1-16)
BIN="$KUBE_HOME/bin-$BUILD_KEY"
STAMP="$BIN/.installed"
RUN_DIR="${FLOE_KUBE_DIR:-$KUBE_HOME/run}"
PKI="$RUN_DIR/pki"
ETCD_DATA="$RUN_DIR/etcd-data"
PIDFILE="$RUN_DIR/kube-apiserver.pid"
LOGFILE="$RUN_DIR/kube-apiserver.log"
ETCD_PIDFILE="$RUN_DIR/etcd.pid"
ETCD_LOGFILE="$RUN_DIR/etcd.log"
KUBECONFIG_FILE="$RUN_DIR/kubeconfig"
TOKEN_FILE="$PKI/admin.token"
ENDPOINT="https://$HOST:$KUBE_PORT"

install() {
  already_installed "kube-apiserver/kubectl/etcd $KUBE_VERSION" "$BIN" && return 0
  command -v go >/dev/null || die "go not found (Go 1.26 builds kube-apiserver from the Go module proxy)"
  mkdir -p "$BIN" "$KUBE_HOME/go"
  local build_date ldflags=() key val
  build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  # As k8s.io/kubernetes hack/lib/version.sh does: `kubectl version` and /version report these.
  for kv in "gitVersion=$KUBE_VERSION" gitMajor=1 gitMinor=37 gitTreeState=clean "buildDate=$build_date"; do
    key=${kv%%=*} val=${kv#*=}
    ldflags+=("-X k8s.io/client-go/pkg/version.$key=$val" "-X k8s.io/component-base/version.$key=$val")
  done
  log "building kube-apiserver, kubectl ($KUBE_VERSION) and etcd into $BIN (go build -p $KUBE_BUILD_P; log $KUBE_HOME/build.log)"
  local t0=$SECONDS
  # The module and build caches live in the cache folder too, so a CI cache of .cache/ covers them.
  if ! (cd "$MOD_DIR" && GOMODCACHE="$KUBE_HOME/go/mod" GOCACHE="$KUBE_HOME/go/build" \
      GOFLAGS="-modcacherw -buildvcs=false -mod=readonly" CGO_ENABLED=0 \
      go build -p "$KUBE_BUILD_P" -trimpath -ldflags "-s -w ${ldflags[*]}" -o "$BIN/" \
        k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl ./etcd) \
      >"$KUBE_HOME/build.log" 2>&1; then
    show_log "$KUBE_HOME/build.log" 40
    die "go build failed (full log: $KUBE_HOME/build.log)"
  fi
  "$BIN/kube-apiserver" --version >/dev/null || die "the built kube-apiserver does not run"
  touch "$STAMP"
  link_current
  log "built in $((SECONDS - t0)) s: $(cd "$BIN" && ls | tr '\n' ' ')"
}

# link_current -> $FLOE_CACHE/kube/current points at this build (tests find kubectl there).
link_current() {
  ln -sfn "bin-$BUILD_KEY" "$KUBE_HOME/current"
}

# make_pki -> once per run dir: a CA, the serving certificate for 127.0.0.1/localhost and the
# in-cluster names, the service-account signing key pair, an admin token, the kubeconfig.
make_pki() {
  [[ -f $PKI/.done ]] && return 0
  command -v openssl >/dev/null || die "openssl not found"
  rm -rf "$PKI"
  mkdir -p "$PKI"
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj "/CN=floe-dev-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt \
      -days 3650 -extfile apiserver.ext 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    openssl rand -hex 24 >admin.token
    # Static token file (kube-apiserver --token-auth-file): token,user,uid,"group1,group2".
    printf '%s,floe-dev-admin,floe-dev-admin,"system:masters"\n' "$(<admin.token)" >tokens.csv
    chmod 600 ./*.key admin.token tokens.csv
  ) || die "openssl failed making $PKI"
  touch "$PKI/.done"
}

write_kubeconfig() {
  cat >"$KUBECONFIG_FILE.tmp" <<KC
apiVersion: v1
kind: Config
clusters:
  - name: floe-dev
    cluster:
      server: $ENDPOINT
      certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
  - name: floe-dev-admin
    user:
      token: $(<"$TOKEN_FILE")
contexts:
  - name: floe-dev
    context:
      cluster: floe-dev
      user: floe-dev-admin
current-context: floe-dev
KC
  chmod 600 "$KUBECONFIG_FILE.tmp"
  mv "$KUBECONFIG_FILE.tmp" "$KUBECONFIG_FILE"
}

# readyz -> the body of GET /readyz (admin token); non-zero unless 200.
readyz() {
  curl -sS --fail --max-time 5 --cacert "$PKI/ca.crt" -H "Authorization: Bearer $(<"$TOKEN_FILE")" \
    "$ENDPOINT/readyz" 2>&1
}

health() {
  port_open "$HOST" "$KUBE_PORT" || { echo "port $HOST:$KUBE_PORT closed"; return 1; }
  local out version
  out=$(readyz) || { echo "/readyz: $out"; return 1; }
  version=$(curl -sS --max-time 5 --cacert "$PKI/ca.crt" -H "Authorization: Bearer $(<"$TOKEN_FILE")" \
    "$ENDPOINT/version" | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p')
  echo "ok /readyz=$out version=${version:-?}"
}

start_etcd() {
  if pid_alive "$ETCD_PIDFILE"; then return 0; fi
  if port_open "$HOST" "$KUBE_ETCD_PORT"; then
    die "etcd port $KUBE_ETCD_PORT on $HOST is taken by another process (pid $(port_pid "$KUBE_ETCD_PORT")); not started"
  fi
  mkdir -p "$ETCD_DATA"
  : >"$ETCD_LOGFILE"
  setsid "$BIN/etcd" --data-dir "$ETCD_DATA" --listen-client "http://$HOST:$KUBE_ETCD_PORT" \
    --listen-peer "http://$HOST:$((KUBE_ETCD_PORT + 1))" >>"$ETCD_LOGFILE" 2>&1 </dev/null &
  echo $! >"$ETCD_PIDFILE"
  local i
  for ((i = 0; i < 150; i++)); do
    grep -q 'etcd: ready' "$ETCD_LOGFILE" && { log "etcd ready (pid $(<"$ETCD_PIDFILE")) on $HOST:$KUBE_ETCD_PORT"; return 0; }
    pid_alive "$ETCD_PIDFILE" || { show_log "$ETCD_LOGFILE"; die "etcd exited during start-up"; }
    sleep 0.2
  done
  show_log "$ETCD_LOGFILE"
  die "etcd not ready within 30 s"
}

start() {
  install
  link_current
  make_pki
  mkdir -p "$RUN_DIR"
  write_kubeconfig
  if already_running; then
    log "kubeconfig: $KUBECONFIG_FILE"
    return 0
  fi
  if port_open "$HOST" "$KUBE_PORT"; then
    die "port $KUBE_PORT on $HOST is taken by another process (pid $(port_pid "$KUBE_PORT")); not started"
  fi
  start_etcd
  : >"$LOGFILE"
  local t0=$SECONDS
  # --endpoint-reconciler-type=none: on loopback the default reconciler would publish 127.0.0.1
  # as the `kubernetes` Service's endpoint, which the apiserver refuses.
  setsid "$BIN/kube-apiserver" \
    --bind-address="$HOST" --advertise-address="$HOST" --secure-port="$KUBE_PORT" \
    --etcd-servers="http://$HOST:$KUBE_ETCD_PORT" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" --token-auth-file="$PKI/tokens.csv" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 --authorization-mode=RBAC \
    --endpoint-reconciler-type=none --profiling=false --v=0 \
    >>"$LOGFILE" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  log "starting kube-apiserver $KUBE_VERSION (pid $!), log $LOGFILE"
  wait_healthy "$t0" "$KUBE_START_TIMEOUT" 0.5 kube-apiserver "$ENDPOINT"
  log "kubeconfig: $KUBECONFIG_FILE"
}

stop() {
  stop_pid "$PIDFILE" 20
  PIDFILE=$ETCD_PIDFILE SERVICE=kube-etcd stop_pid "$ETCD_PIDFILE" 20
}

case "${1:-}" in
  stop) stop ;;
  kubeconfig) echo "$KUBECONFIG_FILE" ;;
  env) echo "export FLOE_KUBECONFIG='$KUBECONFIG_FILE' FLOE_KUBECTL='$BIN/kubectl'" ;;
  *) service_main 20 "$@" ;;
esac
