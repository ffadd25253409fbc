#!/usr/bin/env bash
# Installs (once, cached under .cache/) and starts the development Kafka and ClickHouse on
# 127.0.0.1 (Kafka 19092, ClickHouse HTTP 18123). Idempotent. Stops at the first failure.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$dir/kafka.sh" install
"$dir/clickhouse.sh" install
"$dir/kafka.sh" start
"$dir/clickhouse.sh" start
