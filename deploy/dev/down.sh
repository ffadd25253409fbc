#!/usr/bin/env bash
# Stops the development Kafka and ClickHouse (no-op for what is not running). Data stays in
# .cache/kafka/data and .cache/clickhouse/data.
set -uo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rc=0
"$dir/clickhouse.sh" stop || rc=1
"$dir/kafka.sh" stop || rc=1
exit $rc
