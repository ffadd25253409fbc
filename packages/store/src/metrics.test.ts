// The store adapters' floe_store_* metrics and child logger, one suite run on each adapter:
// DuckDB (:memory:) always; ClickHouse on FLOE_CLICKHOUSE_URL (default http://127.0.0.1:18123)
// when it answers, or failing when FLOE_REQUIRE_CLICKHOUSE=1 and it does not.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { createClient } from '@clickhouse/client';
import { createLogger, createRegistry, readMetric, type Logger, type Registry } from '@floe/telemetry';
import { decisionFixture, findingFixture, flowFixture } from './contract.js';
import { createStore, type StoreConfig } from './factory.js';
import { STORE_METRICS } from './metrics.js';

const CH_URL = process.env.FLOE_CLICKHOUSE_URL ?? 'http://127.0.0.1:18123';
const CH_REQUIRED = process.env.FLOE_REQUIRE_CLICKHOUSE === '1';
const chUp = await fetch(new URL('/ping', CH_URL), { signal: AbortSignal.timeout(2000) }).then(
  (r) => r.ok,
  () => false,
);
const databases: string[] = [];

after(async () => {
  if (databases.length === 0) return;
  const admin = createClient({ url: CH_URL });
  for (const db of databases) await admin.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db } });
  await admin.close();
});

/** A pino logger writing parsed JSON lines into `lines`. */
function capture(lines: Array<Record<string, unknown>>): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return createLogger({ level: 'info' }, sink);
}

const adapters: Array<{ name: 'duckdb' | 'clickhouse'; config: () => StoreConfig; skip: string | false }> = [
  { name: 'duckdb', config: () => ({ kind: 'duckdb', path: ':memory:' }), skip: false },
  {
    name: 'clickhouse',
    config: () => {
      const database = `floe_test_metrics_${randomBytes(4).toString('hex')}`;
      databases.push(database);
      return { kind: 'clickhouse', url: CH_URL, database, retentionDays: 3650 };
    },
    skip: chUp || CH_REQUIRED ? false : `no ClickHouse at ${CH_URL} (FLOE_REQUIRE_CLICKHOUSE=1 makes this fail)`,
  },
];

for (const a of adapters) {
  describe(`${a.name} store metrics`, { skip: a.skip, concurrency: false }, () => {
    const value = (r: Registry, name: string, labels: Record<string, string>) => readMetric(r, name, labels);

    it('insertFlows of 3 counts 3 rows and one timed write of table flows; findings, decisions and audit rows by table', async (t) => {
      const registry = createRegistry({ defaultMetrics: false });
      const lines: Array<Record<string, unknown>> = [];
      const store = createStore(a.config(), { metrics: registry, logger: capture(lines) });
      await store.start();
      t.after(() => store.stop());
      await store.insertFlows([flowFixture({ ctId: '1' }), flowFixture({ ctId: '2' }), flowFixture({ ctId: '3' })]);
      assert.equal(await value(registry, STORE_METRICS.rowsWritten, { table: 'flows' }), 3);
      assert.equal(await value(registry, STORE_METRICS.writeSeconds, { table: 'flows' }), 1, 'one observation');
      await store.insertFindings([findingFixture({ id: 'a' }), findingFixture({ id: 'b' })]);
      assert.equal(await value(registry, STORE_METRICS.rowsWritten, { table: 'findings' }), 2);
      const d = decisionFixture();
      await store.upsertDecision(d, { at: d.updatedAt, target: d.target, change: 'create', origin: d.origin, reason: d.reason, decision: d });
      assert.equal(await value(registry, STORE_METRICS.rowsWritten, { table: 'decisions' }), 1);
      assert.equal(await value(registry, STORE_METRICS.rowsWritten, { table: 'decision_audit' }), 1);
      assert.equal(await value(registry, STORE_METRICS.errors, {}), undefined, 'no error counted');
      const own = lines.filter((l) => l.component === 'store');
      assert.ok(own.length > 0, 'the adapter logged at start');
      for (const l of own) assert.equal(l.adapter, a.name);
    });

    it('a failed call counts floe_store_errors_total by operation and rejects unchanged (before start); a bad cursor or query (client errors) is not counted', async (t) => {
      const registry = createRegistry({ defaultMetrics: false });
      const store = createStore(a.config(), { metrics: registry });
      await assert.rejects(store.insertFlows([flowFixture()]), { code: 'FLOE_STORE_NOT_STARTED' });
      assert.equal(await value(registry, STORE_METRICS.errors, { op: 'insertFlows' }), 1);
      assert.equal(await value(registry, STORE_METRICS.rowsWritten, { table: 'flows' }), undefined, 'nothing written');
      await store.start();
      t.after(() => store.stop());
      await assert.rejects(store.queryFindings({ cursor: 'not a cursor' }), { code: 'FLOE_STORE_BAD_CURSOR' });
      await assert.rejects(store.queryDecisions({ cursor: 'garbage' }), { code: 'FLOE_STORE_BAD_CURSOR' });
      await assert.rejects(store.queryFindings({ limit: 0 }), { code: 'FLOE_STORE_BAD_QUERY' });
      assert.equal(await value(registry, STORE_METRICS.errors, { op: 'queryFindings' }), undefined, 'client errors are not store errors');
      assert.equal(await value(registry, STORE_METRICS.errors, { op: 'queryDecisions' }), undefined);
      assert.equal(await value(registry, STORE_METRICS.errors, { op: 'insertFlows' }), 1, 'the real failure stays counted');
    });
  });
}
