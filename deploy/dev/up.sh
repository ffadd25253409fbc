#!/usr/bin/env bash
# Installs (once, cached under $FLOE_CACHE) and starts the development Kafka, ClickHouse and
# Kubernetes API server on 127.0.0.1 (Kafka 19092, ClickHouse HTTP 18123, kube-apiserver 16443).
# Idempotent. Stops at the first failure.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$dir/kafka.sh" install
"$dir/clickhouse.sh" install
"$dir/kube.sh" install
"$dir/kafka.sh" start
"$dir/clickhouse.sh" start
"$dir/kube.sh" start
