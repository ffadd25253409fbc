import type { DuckDBConnection } from '@duckdb/node-api';
import { migrationFailed, stepsAfter } from './migration-steps.js';
import { KEY_OF_COLUMNS_SQL, KEY_PROBE_SQL } from './duckdb-key.js';

/**
 * One schema step. Steps are numbered from 1 and never edited once released: a change is a
 * new step. Each step runs in one transaction together with its `schema_migrations` row.
 */
export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

/**
 * The DuckDB schema, oldest step first.
 *
 * flows: one column per FlowRecord field (times ms since epoch as BIGINT, counters UBIGINT,
 * `srcMeta`/`dstMeta` as JSON text) plus `dedup_key` (`flowDedupKey` text, dedup.ts, until step 7). Step 1 made
 * `dedup_key` the primary key; step 2 rebuilds `flows` without it (rows kept, ordered by
 * `observed_at` so zone maps prune by time): maintaining that ART index cost most of an insert
 * and grew with the table, so insertFlows now looks up stored keys only within the batch's
 * `observed_at` range (see duckdb.ts). findings: `id` primary key, `severity_rank`
 * (0 info .. 4 critical) for `minSeverity`. decisions: `target` primary key. decision_audit:
 * append-only, ordered by `seq` from a sequence. dead_letters (step 3): append-only, by `seq`;
 * `payload` is the original bytes in base64. data_gaps (step 4): DataGap v1 records, `gap_key`
 * (gaps.ts gapKey) primary key so a redelivered gap is stored once; times in ms since epoch as
 * the flows' (the collector's clock); `reasons` JSON text. Step 5 (issue 8): `finding_triage`
 * (append-only history by `seq`; a finding's current state is its latest row), `finding_suppressions`
 * (one row per suppressed finding: the rule and when), `suppressions` (rules, by `id`) and
 * `never_block` (the run-time never-block list, by `cidr`).
 * the flows' (the collector's clock); `reasons` JSON text. api_tokens (step 6): API tokens by
 * `id`, only the SHA-256 `hash` of the secret (access.ts); api_audit (step 6): one row per
 * mutating API call, read newest first by (at_ms, id). Step 7: `flows.dedup_key` becomes UBIGINT,
 * DuckDB's `hash()` of the key fields (duckdb-key.ts; every stored row's key recomputed from its
 * columns, a one-time rewrite of the table), and `flow_key_probe` keeps KEY_PROBE_SQL's value so a
 * DuckDB upgrade that changes `hash()` is noticed and the keys recomputed.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'flows, findings, decisions, decision_audit',
    statements: [
      `CREATE TABLE flows (
        dedup_key VARCHAR PRIMARY KEY,
        schema_version UTINYINT NOT NULL,
        observed_at BIGINT NOT NULL,
        start_ms BIGINT,
        end_ms BIGINT,
        node VARCHAR,
        source VARCHAR NOT NULL,
        event VARCHAR NOT NULL,
        family UTINYINT NOT NULL,
        protocol USMALLINT NOT NULL,
        src_addr VARCHAR NOT NULL,
        dst_addr VARCHAR NOT NULL,
        src_port INTEGER,
        dst_port INTEGER,
        icmp_type SMALLINT,
        icmp_code SMALLINT,
        reply_src_addr VARCHAR,
        reply_dst_addr VARCHAR,
        reply_src_port INTEGER,
        reply_dst_port INTEGER,
        bytes_orig UBIGINT,
        packets_orig UBIGINT,
        bytes_reply UBIGINT,
        packets_reply UBIGINT,
        state VARCHAR,
        assured BOOLEAN,
        unreplied BOOLEAN,
        zone INTEGER,
        mark UBIGINT,
        ct_id VARCHAR,
        log_prefix VARCHAR,
        verdict VARCHAR,
        in_iface VARCHAR,
        out_iface VARCHAR,
        direction VARCHAR,
        src_meta VARCHAR,
        dst_meta VARCHAR
      )`,
      `CREATE TABLE findings (
        id VARCHAR PRIMARY KEY,
        schema_version UTINYINT NOT NULL,
        first_seen BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        detector VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        severity VARCHAR NOT NULL,
        severity_rank UTINYINT NOT NULL,
        score DOUBLE NOT NULL,
        entity_addr VARCHAR NOT NULL,
        entity_namespace VARCHAR,
        entity_pod VARCHAR,
        entity_workload VARCHAR,
        peers VARCHAR NOT NULL,
        summary VARCHAR NOT NULL,
        evidence VARCHAR NOT NULL,
        mitre VARCHAR,
        produced_by VARCHAR NOT NULL
      )`,
      `CREATE TABLE decisions (
        target VARCHAR PRIMARY KEY,
        schema_version UTINYINT NOT NULL,
        action VARCHAR NOT NULL,
        scope VARCHAR NOT NULL,
        duration_ms BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        origin VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        count INTEGER NOT NULL,
        dry_run BOOLEAN NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `CREATE SEQUENCE decision_audit_seq START 1`,
      `CREATE TABLE decision_audit (
        seq BIGINT NOT NULL DEFAULT nextval('decision_audit_seq'),
        at_ms BIGINT NOT NULL,
        target VARCHAR NOT NULL,
        change VARCHAR NOT NULL,
        origin VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        decision VARCHAR
      )`,
    ],
  },
  {
    version: 2,
    name: 'flows without the dedup_key primary key (insertFlows checks keys in the batch time range)',
    statements: [
      `CREATE TABLE flows_v2 (
        dedup_key VARCHAR NOT NULL,
        schema_version UTINYINT NOT NULL,
        observed_at BIGINT NOT NULL,
        start_ms BIGINT,
        end_ms BIGINT,
        node VARCHAR,
        source VARCHAR NOT NULL,
        event VARCHAR NOT NULL,
        family UTINYINT NOT NULL,
        protocol USMALLINT NOT NULL,
        src_addr VARCHAR NOT NULL,
        dst_addr VARCHAR NOT NULL,
        src_port INTEGER,
        dst_port INTEGER,
        icmp_type SMALLINT,
        icmp_code SMALLINT,
        reply_src_addr VARCHAR,
        reply_dst_addr VARCHAR,
        reply_src_port INTEGER,
        reply_dst_port INTEGER,
        bytes_orig UBIGINT,
        packets_orig UBIGINT,
        bytes_reply UBIGINT,
        packets_reply UBIGINT,
        state VARCHAR,
        assured BOOLEAN,
        unreplied BOOLEAN,
        zone INTEGER,
        mark UBIGINT,
        ct_id VARCHAR,
        log_prefix VARCHAR,
        verdict VARCHAR,
        in_iface VARCHAR,
        out_iface VARCHAR,
        direction VARCHAR,
        src_meta VARCHAR,
        dst_meta VARCHAR
      )`,
      `INSERT INTO flows_v2 SELECT * FROM flows ORDER BY observed_at`,
      `DROP TABLE flows`,
      `ALTER TABLE flows_v2 RENAME TO flows`,
    ],
  },
  {
    version: 3,
    name: 'dead_letters (messages and records the processor could not handle)',
    statements: [
      `CREATE SEQUENCE dead_letters_seq START 1`,
      `CREATE TABLE dead_letters (
        seq BIGINT NOT NULL DEFAULT nextval('dead_letters_seq'),
        at_ms BIGINT NOT NULL,
        reason VARCHAR NOT NULL,
        detail VARCHAR NOT NULL,
        topic VARCHAR NOT NULL,
        partition_no INTEGER NOT NULL,
        offset_no VARCHAR NOT NULL,
        msg_key VARCHAR NOT NULL,
        record_no INTEGER,
        payload VARCHAR NOT NULL,
        group_id VARCHAR NOT NULL,
        step VARCHAR NOT NULL
      )`,
    ],
  },
  {
    version: 4,
    name: 'data_gaps (input the collectors know they missed: ENOBUFS, silent sources, rejected lines)',
    statements: [
      `CREATE TABLE data_gaps (
        gap_key VARCHAR PRIMARY KEY,
        schema_version UTINYINT NOT NULL,
        node VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        from_ms BIGINT NOT NULL,
        to_ms BIGINT NOT NULL,
        count BIGINT NOT NULL,
        reasons VARCHAR
      )`,
    ],
  },
  {
    version: 5,
    name: 'finding_triage, finding_suppressions, suppressions, never_block (issue 8: triage and suppression)',
    statements: [
      `CREATE SEQUENCE finding_triage_seq START 1`,
      `CREATE TABLE finding_triage (
        seq BIGINT NOT NULL DEFAULT nextval('finding_triage_seq'),
        finding_id VARCHAR NOT NULL,
        state VARCHAR NOT NULL,
        reason VARCHAR,
        by_user VARCHAR NOT NULL,
        at_ms BIGINT NOT NULL
      )`,
      `CREATE TABLE finding_suppressions (
        finding_id VARCHAR PRIMARY KEY,
        rule_id VARCHAR NOT NULL,
        at_ms BIGINT NOT NULL
      )`,
      `CREATE TABLE suppressions (
        id VARCHAR PRIMARY KEY,
        detector VARCHAR,
        entity VARCHAR,
        namespace VARCHAR,
        port INTEGER,
        expires_at BIGINT NOT NULL,
        reason VARCHAR NOT NULL,
        created_by VARCHAR NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE never_block (
        cidr VARCHAR PRIMARY KEY,
        reason VARCHAR NOT NULL,
        created_by VARCHAR NOT NULL,
        created_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 6,
    name: 'api_tokens (hashes of API tokens) and api_audit (every mutating API call)',
    statements: [
      `CREATE TABLE api_tokens (
        id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        hash VARCHAR NOT NULL,
        created_at BIGINT NOT NULL,
        created_by VARCHAR NOT NULL,
        expires_at BIGINT,
        revoked_at BIGINT
      )`,
      `CREATE TABLE api_audit (
        id VARCHAR NOT NULL,
        at_ms BIGINT NOT NULL,
        subject VARCHAR NOT NULL,
        via VARCHAR NOT NULL,
        role VARCHAR,
        method VARCHAR NOT NULL,
        route VARCHAR NOT NULL,
        path VARCHAR NOT NULL,
        status INTEGER NOT NULL,
        ip VARCHAR NOT NULL,
        action VARCHAR,
        target VARCHAR,
        request_id VARCHAR NOT NULL
      )`,
    ],
  },
  {
    version: 7,
    name: "flows.dedup_key as DuckDB's 64-bit hash() of the key fields, and flow_key_probe",
    statements: [
      `ALTER TABLE flows ALTER dedup_key SET DATA TYPE UBIGINT USING ${KEY_OF_COLUMNS_SQL}`,
      `CREATE TABLE flow_key_probe (probe UBIGINT NOT NULL)`,
      `INSERT INTO flow_key_probe SELECT ${KEY_PROBE_SQL}`,
    ],
  },
];

/**
 * Brings the database to the newest step of `steps`: creates `schema_migrations`
 * (version, name, applied_at ms) when absent, then applies each step above the recorded
 * version, each in its own transaction. Idempotent: a second run applies nothing.
 *
 * @returns the versions applied by this call (empty when already current).
 * @throws StoreError FLOE_STORE_MIGRATION_FAILED naming the step; that step is rolled back.
 */
export async function migrate(conn: DuckDBConnection, steps: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await conn.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at BIGINT NOT NULL)`);
  const res = await conn.runAndReadAll('SELECT coalesce(max(version), 0) AS v FROM schema_migrations');
  const current = Number(res.getRowObjectsJS()[0].v);
  const applied: number[] = [];
  for (const step of stepsAfter(steps, current)) {
    await conn.run('BEGIN TRANSACTION');
    try {
      for (const sql of step.statements) await conn.run(sql);
      await conn.run('INSERT INTO schema_migrations VALUES (?, ?, ?)', [step.version, step.name, Date.now()]);
      await conn.run('COMMIT');
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => undefined);
      throw migrationFailed(step, err);
    }
    applied.push(step.version);
  }
  return applied;
}
