#!/usr/bin/env bash
# Stops the development Kafka, ClickHouse and Kubernetes API server (no-op for what is not
# running). Data stays in $FLOE_CACHE/kafka/data, clickhouse/data and kube/run/etcd-data.
set -uo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rc=0
"$dir/kube.sh" stop || rc=1
"$dir/clickhouse.sh" stop || rc=1
"$dir/kafka.sh" stop || rc=1
exit $rc
