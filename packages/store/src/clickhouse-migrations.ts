import type { ClickHouseClient } from '@clickhouse/client';
import { migrationFailed, stepsAfter } from './migration-steps.js';

/**
 * One ClickHouse schema step. Steps are numbered from 1 and never edited once released: a change
 * is a new step. ClickHouse has no transactional DDL, so every statement must be idempotent
 * (`IF NOT EXISTS`): a step interrupted half-way is simply run again from its first statement,
 * and two processes starting at once may both run a step without harm.
 */
export interface ClickHouseMigration {
  version: number;
  name: string;
  statements: readonly string[];
}

/** Retention (days) written by migration 1; `createClickHouseStore` changes it with `MODIFY TTL`. */
export const CLICKHOUSE_DEFAULT_RETENTION_DAYS = 30;

/**
 * The ClickHouse schema, oldest step first (ClickHouse SQL reference: MergeTree, ReplacingMergeTree,
 * SummingMergeTree, TTL, CREATE MATERIALIZED VIEW … TO).
 *
 * - `flows`: ReplacingMergeTree keyed by `dedup_key` (flowDedupKey, dedup.ts). Times are Int64 ms
 *   since epoch like the DuckDB schema; `observed` (DateTime64(3, UTC)) is MATERIALIZED from
 *   `observed_at` and drives the day partition (`toYYYYMMDD`), the sorting key (hour, source,
 *   destination, key) and the TTL. Every column of the sorting key but `dedup_key` is a function
 *   of the hashed fields, so two rows with one key always collapse on merge. A bloom-filter skip
 *   index on `dedup_key` serves the replay filter of insertFlows.
 *   `non_replicated_deduplication_window` enables `insert_deduplication_token` on one server.
 * - `flows_1m` + `flows_1m_mv`: SummingMergeTree rollup per minute, source, destination,
 *   protocol, destination port (-1 when absent) and event: flow count, bytes and packets each way.
 * - `findings`: ReplacingMergeTree(last_seen) by `id`. `decisions`: ReplacingMergeTree(version,
 *   is_deleted) by `target`. `decision_audit`: MergeTree, append-only, ordered by a snowflake `seq`.
 * - `dead_letters` (step 2): MergeTree, append-only; `payload` is the original bytes in base64.
 * - `data_gaps` (step 3): DataGap v1 records, ReplacingMergeTree whose sorting key ends in
 *   `gap_key` (gaps.ts gapKey): a redelivered gap collapses to one row (reads use FINAL, and
 *   insertGaps skips keys already stored). Times are Int64 ms since epoch like `flows`.
 * - step 4 (issue 8): `finding_triage` (MergeTree, append-only by a snowflake `seq`; the latest
 *   row of a finding is its state), `finding_suppressions` (ReplacingMergeTree(at_ms) by finding),
 *   `suppressions` and `never_block` (ReplacingMergeTree(version, is_deleted) like `decisions`:
 *   delete writes a tombstone; reads use FINAL).
 */
export const CLICKHOUSE_MIGRATIONS: readonly ClickHouseMigration[] = [
  {
    version: 1,
    name: 'flows (+ per-minute rollup), findings, decisions, decision_audit',
    statements: [
      `CREATE TABLE IF NOT EXISTS flows (
        dedup_key FixedString(32),
        schema_version UInt8,
        observed_at Int64,
        observed DateTime64(3, 'UTC') MATERIALIZED fromUnixTimestamp64Milli(observed_at, 'UTC'),
        start_ms Nullable(Int64),
        end_ms Nullable(Int64),
        node LowCardinality(Nullable(String)),
        source LowCardinality(String),
        event LowCardinality(String),
        family UInt8,
        protocol UInt16,
        src_addr String,
        dst_addr String,
        src_port Nullable(Int32),
        dst_port Nullable(Int32),
        icmp_type Nullable(Int16),
        icmp_code Nullable(Int16),
        reply_src_addr Nullable(String),
        reply_dst_addr Nullable(String),
        reply_src_port Nullable(Int32),
        reply_dst_port Nullable(Int32),
        bytes_orig Nullable(UInt64),
        packets_orig Nullable(UInt64),
        bytes_reply Nullable(UInt64),
        packets_reply Nullable(UInt64),
        state LowCardinality(Nullable(String)),
        assured Nullable(Bool),
        unreplied Nullable(Bool),
        zone Nullable(Int32),
        mark Nullable(UInt64),
        ct_id Nullable(String),
        log_prefix Nullable(String),
        verdict LowCardinality(Nullable(String)),
        in_iface LowCardinality(Nullable(String)),
        out_iface LowCardinality(Nullable(String)),
        direction LowCardinality(Nullable(String)),
        src_meta Nullable(String),
        dst_meta Nullable(String),
        INDEX dedup_key_bf dedup_key TYPE bloom_filter(0.01) GRANULARITY 1
      ) ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMMDD(observed)
      ORDER BY (toStartOfHour(observed), src_addr, dst_addr, dedup_key)
      TTL toDateTime(observed) + toIntervalDay(${CLICKHOUSE_DEFAULT_RETENTION_DAYS})
      SETTINGS non_replicated_deduplication_window = 1000`,
      `CREATE TABLE IF NOT EXISTS flows_1m (
        minute DateTime('UTC'),
        src_addr String,
        dst_addr String,
        protocol UInt16,
        dst_port Int32,
        event LowCardinality(String),
        flows UInt64,
        bytes_orig UInt64,
        packets_orig UInt64,
        bytes_reply UInt64,
        packets_reply UInt64
      ) ENGINE = SummingMergeTree
      PARTITION BY toYYYYMMDD(minute)
      ORDER BY (minute, src_addr, dst_addr, protocol, dst_port, event)
      TTL minute + toIntervalDay(${CLICKHOUSE_DEFAULT_RETENTION_DAYS})
      SETTINGS non_replicated_deduplication_window = 1000`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1m_mv TO flows_1m AS
      SELECT
        toStartOfMinute(fromUnixTimestamp64Milli(observed_at, 'UTC')) AS minute,
        src_addr, dst_addr, protocol, ifNull(dst_port, -1) AS dst_port, event,
        count() AS flows,
        sum(ifNull(bytes_orig, 0)) AS bytes_orig, sum(ifNull(packets_orig, 0)) AS packets_orig,
        sum(ifNull(bytes_reply, 0)) AS bytes_reply, sum(ifNull(packets_reply, 0)) AS packets_reply
      FROM flows
      GROUP BY minute, src_addr, dst_addr, protocol, dst_port, event`,
      `CREATE TABLE IF NOT EXISTS findings (
        id String,
        schema_version UInt8,
        first_seen Int64,
        last_seen UInt64,
        detector LowCardinality(String),
        kind LowCardinality(String),
        severity LowCardinality(String),
        severity_rank UInt8,
        score Float64,
        entity_addr String,
        entity_namespace Nullable(String),
        entity_pod Nullable(String),
        entity_workload Nullable(String),
        peers String,
        summary String,
        evidence String,
        mitre Nullable(String),
        produced_by String
      ) ENGINE = ReplacingMergeTree(last_seen)
      ORDER BY id`,
      `CREATE TABLE IF NOT EXISTS decisions (
        target String,
        schema_version UInt8,
        action LowCardinality(String),
        scope String,
        duration_ms Int64,
        expires_at Int64,
        origin String,
        reason String,
        count Int32,
        dry_run Bool,
        created_at Int64,
        updated_at Int64,
        version UInt64,
        is_deleted UInt8
      ) ENGINE = ReplacingMergeTree(version, is_deleted)
      ORDER BY target`,
      `CREATE TABLE IF NOT EXISTS decision_audit (
        seq UInt64 DEFAULT generateSnowflakeID(),
        at_ms Int64,
        target String,
        change LowCardinality(String),
        origin String,
        reason String,
        decision Nullable(String)
      ) ENGINE = MergeTree
      ORDER BY (target, seq)`,
    ],
  },
  {
    version: 2,
    name: 'dead_letters (messages and records the processor could not handle)',
    statements: [
      `CREATE TABLE IF NOT EXISTS dead_letters (
        seq UInt64 DEFAULT generateSnowflakeID(),
        at_ms Int64,
        reason LowCardinality(String),
        detail String,
        topic String,
        partition_no Int32,
        offset_no String,
        msg_key String,
        record_no Nullable(Int32),
        payload String,
        group_id String,
        step LowCardinality(String)
      ) ENGINE = MergeTree
      ORDER BY (at_ms, seq)`,
    ],
  },
  {
    version: 3,
    name: 'data_gaps (input the collectors know they missed: ENOBUFS, silent sources, rejected lines)',
    statements: [
      `CREATE TABLE IF NOT EXISTS data_gaps (
        gap_key FixedString(32),
        schema_version UInt8,
        node String,
        source LowCardinality(String),
        kind LowCardinality(String),
        from_ms Int64,
        to_ms Int64,
        count UInt64,
        reasons Nullable(String)
      ) ENGINE = ReplacingMergeTree
      ORDER BY (node, source, kind, from_ms, gap_key)`,
    ],
  },
  {
    version: 4,
    name: 'finding_triage, finding_suppressions, suppressions, never_block (issue 8: triage and suppression)',
    statements: [
      `CREATE TABLE IF NOT EXISTS finding_triage (
        seq UInt64 DEFAULT generateSnowflakeID(),
        finding_id String,
        state LowCardinality(String),
        reason Nullable(String),
        by_user String,
        at_ms Int64
      ) ENGINE = MergeTree
      ORDER BY (finding_id, seq)`,
      `CREATE TABLE IF NOT EXISTS finding_suppressions (
        finding_id String,
        rule_id String,
        at_ms Int64
      ) ENGINE = ReplacingMergeTree(at_ms)
      ORDER BY finding_id`,
      `CREATE TABLE IF NOT EXISTS suppressions (
        id String,
        detector Nullable(String),
        entity Nullable(String),
        namespace Nullable(String),
        port Nullable(Int32),
        expires_at Int64,
        reason String,
        created_by String,
        created_at Int64,
        version UInt64,
        is_deleted UInt8
      ) ENGINE = ReplacingMergeTree(version, is_deleted)
      ORDER BY id`,
      `CREATE TABLE IF NOT EXISTS never_block (
        cidr String,
        reason String,
        created_by String,
        created_at Int64,
        version UInt64,
        is_deleted UInt8
      ) ENGINE = ReplacingMergeTree(version, is_deleted)
      ORDER BY cidr`,
    ],
  },
];

/**
 * Brings the client's database to the newest step of `steps`: creates `schema_migrations`
 * (version, name, applied_at ms; ReplacingMergeTree by version, so a step recorded twice by two
 * racing processes counts once) when absent, then runs each step above the recorded version and
 * records it. Idempotent: a second run applies nothing. The database must exist.
 *
 * @returns the versions applied by this call (empty when already current).
 * @throws StoreError FLOE_STORE_MIGRATION_FAILED naming the step; earlier steps stay recorded.
 */
export async function migrateClickHouse(client: ClickHouseClient, steps: readonly ClickHouseMigration[] = CLICKHOUSE_MIGRATIONS): Promise<number[]> {
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations (
      version UInt32, name String, applied_at Int64) ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  const res = await client.query({ query: 'SELECT max(version) AS v FROM schema_migrations', format: 'JSONEachRow' });
  const current = Number((await res.json<{ v: number | string }>())[0]?.v ?? 0);
  const applied: number[] = [];
  for (const step of stepsAfter(steps, current)) {
    try {
      for (const sql of step.statements) await client.command({ query: sql });
      await client.insert({
        table: 'schema_migrations',
        values: [{ version: step.version, name: step.name, applied_at: Date.now() }],
        format: 'JSONEachRow',
        clickhouse_settings: { async_insert: 0 },
      });
    } catch (err) {
      throw migrationFailed(step, err);
    }
    applied.push(step.version);
  }
  return applied;
}
