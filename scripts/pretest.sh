#!/usr/bin/env bash
# Before `npm test`: the Debian packages the live tests need (scripts/setup-deps.sh), then the
# development Kafka (KRaft), ClickHouse (chDB) and Kubernetes API server (kube-apiserver + etcd,
# built from the Go module proxy) on 127.0.0.1 (deploy/dev/up.sh: installed once under
# $FLOE_CACHE, started if not running). If the servers cannot be started, the tests that need
# them skip, unless FLOE_REQUIRE_KAFKA=1 / FLOE_REQUIRE_CLICKHOUSE=1 / FLOE_REQUIRE_KUBE=1 (as in CI).
# They keep running after the tests; `deploy/dev/down.sh` stops them.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh || exit 1
if ! bash deploy/dev/up.sh; then
  echo "pretest: the dev Kafka/ClickHouse/Kubernetes servers did not start; their tests will skip (or fail where required)" >&2
  if [ "${FLOE_REQUIRE_KAFKA:-}" = 1 ] || [ "${FLOE_REQUIRE_CLICKHOUSE:-}" = 1 ] || [ "${FLOE_REQUIRE_KUBE:-}" = 1 ]; then exit 1; fi
fi
exit 0
