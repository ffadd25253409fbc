/**
 * ClickHouse adapter tests: the Store contract plus ClickHouse-only behaviour, against the
 * endpoint on FLOE_CLICKHOUSE_URL (default http://127.0.0.1:18123, `deploy/dev/clickhouse.sh start`).
 * Skipped when it is not reachable, unless FLOE_REQUIRE_CLICKHOUSE=1 (then they fail).
 * Each store gets its own fresh database `floe_test_<run>_<n>`, dropped at the end.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { FlowRecord } from '@floe/flow';
import { decisionFixture, findingFixture, flowFixture, runStoreContract } from './contract.js';
import { createClickHouseStore, type ClickHouseStoreOptions } from './clickhouse.js';
import { flowDedupKey } from './dedup.js';
import { createStore } from './factory.js';
import type { Store } from './store.js';

const URL_ = process.env.FLOE_CLICKHOUSE_URL ?? 'http://127.0.0.1:18123';
const REQUIRED = process.env.FLOE_REQUIRE_CLICKHOUSE === '1';
const RUN = randomBytes(4).toString('hex');
const DAY = 86_400_000;
/** Contract fixtures are dated 2025-03-01: keep them well inside the retention. */
const LONG_RETENTION = 3650;

async function reachable(): Promise<boolean> {
  try {
    const res = await fetch(new URL('/ping', URL_), { signal: AbortSignal.timeout(2000) });
    return res.ok && (await res.text()).startsWith('Ok.');
  } catch {
    return false;
  }
}

const up = await reachable();
const databases: string[] = [];
let n = 0;

function newDatabase(): string {
  const db = `floe_test_${RUN}_${n++}`;
  databases.push(db);
  return db;
}

function chStore(over: Partial<ClickHouseStoreOptions> = {}): Store {
  return createClickHouseStore({ url: URL_, database: newDatabase(), retentionDays: LONG_RETENTION, ...over });
}

async function rows<T>(c: ClickHouseClient, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return (await c.query({ query, format: 'JSONEachRow', query_params: params })).json<T>();
}

if (!up && REQUIRED) {
  it('ClickHouse endpoint is reachable (FLOE_REQUIRE_CLICKHOUSE=1)', () => {
    assert.fail(`no ClickHouse at ${URL_}; start it with deploy/dev/clickhouse.sh start`);
  });
} else if (!up) {
  it('clickhouse store', { skip: `no ClickHouse at ${URL_} (set FLOE_REQUIRE_CLICKHOUSE=1 to fail instead)` }, () => undefined);
} else {
  const admin = createClient({ url: URL_ });
  after(async () => {
    for (const db of databases) await admin.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db } });
    await admin.close();
  });

  runStoreContract('clickhouse', () => chStore());

  describe('clickhouse store', { concurrency: false }, () => {
    /** A client on the store's database for inspecting tables. */
    function inspect(database: string): ClickHouseClient {
      return createClient({ url: URL_, database });
    }

    function manyFlows(count: number, base: number, offset = 0): FlowRecord[] {
      const out: FlowRecord[] = [];
      for (let j = offset; j < offset + count; j++) {
        out.push(
          flowFixture({
            observedAt: base + j,
            srcPort: 1024 + (j % 60_000),
            ctId: String(j),
            bytesOrig: j % 1000,
            bytesReply: 7,
            srcAddr: `10.${(j >> 16) & 255}.${(j >> 8) & 255}.${j & 255}`,
          }),
        );
      }
      return out;
    }

    it('a replay (same batches, then re-cut batches) leaves countFlows, raw rows and the rollup exact', async (t) => {
      const database = newDatabase();
      const s = createClickHouseStore({ url: URL_, database, retentionDays: 7, flushRows: 3000 });
      await s.start();
      t.after(() => s.stop());
      const base = Date.now() - 3_600_000;
      const flows = manyFlows(12_000, base);
      const want = { flows: flows.length, bytes: flows.reduce((a, f) => a + (f.bytesOrig ?? 0) + (f.bytesReply ?? 0), 0) };
      for (let i = 0; i < flows.length; i += 5000) await s.insertFlows(flows.slice(i, i + 5000));
      assert.deepEqual(await s.countFlows(), want);
      for (let i = 0; i < flows.length; i += 5000) await s.insertFlows(flows.slice(i, i + 5000));
      // a crash replay rarely cuts batches the same way: overlapping, reversed, with new flows mixed in
      const extra = manyFlows(500, base, 20_000);
      await s.insertFlows([...flows.slice(2500, 9000).reverse(), ...extra]);
      const want2 = { flows: want.flows + 500, bytes: want.bytes + extra.reduce((a, f) => a + (f.bytesOrig ?? 0) + (f.bytesReply ?? 0), 0) };
      assert.deepEqual(await s.countFlows(), want2);
      const c = inspect(database);
      t.after(() => c.close());
      const [raw] = await rows<{ n: string | number }>(c, 'SELECT count() AS n FROM flows');
      assert.equal(Number(raw.n), want2.flows, 'the replay filter wrote no duplicate rows (not only FINAL hiding them)');
      const [roll] = await rows<{ f: string | number; b: string | number }>(c, 'SELECT sum(flows) AS f, sum(bytes_orig + bytes_reply) AS b FROM flows_1m');
      assert.deepEqual({ flows: Number(roll.f), bytes: Number(roll.b) }, want2, 'the per-minute rollup did not double-count the replay');
    });

    it('rows that slip past the filter (two writers racing) still count once: countFlows reads FINAL', async (t) => {
      const database = newDatabase();
      const s = createClickHouseStore({ url: URL_, database, retentionDays: 7 });
      await s.start();
      t.after(() => s.stop());
      const f = flowFixture({ observedAt: Date.now() - 60_000 });
      await s.insertFlows([f]);
      const c = inspect(database);
      t.after(() => c.close());
      // what a racing second writer would add: the same row, inserted directly
      const row = {
        dedup_key: flowDedupKey(f),
        schema_version: 1,
        observed_at: f.observedAt,
        source: f.source,
        event: f.event,
        family: 4,
        protocol: 6,
        src_addr: f.srcAddr,
        dst_addr: f.dstAddr,
        bytes_orig: f.bytesOrig,
        bytes_reply: f.bytesReply,
      };
      await c.insert({ table: 'flows', values: [row], format: 'JSONEachRow', clickhouse_settings: { async_insert: 0 } });
      const [raw] = await rows<{ n: string | number }>(c, 'SELECT count() AS n FROM flows');
      assert.equal(Number(raw.n), 2, 'two physical rows before any merge');
      assert.deepEqual(await s.countFlows(), { flows: 1, bytes: (f.bytesOrig ?? 0) + (f.bytesReply ?? 0) });
    });

    it('DDL: day partitions, ReplacingMergeTree keys, TTL from retentionDays (changed on restart), expired flows dropped', async (t) => {
      const database = newDatabase();
      const s1 = createClickHouseStore({ url: URL_, database, retentionDays: 7 });
      await s1.start();
      const c = inspect(database);
      t.after(() => c.close());
      type T = { name: string; engine: string; partition_key: string; sorting_key: string; create_table_query: string };
      const tables = async () =>
        new Map(
          (await rows<T>(c, 'SELECT name, engine, partition_key, sorting_key, create_table_query FROM system.tables WHERE database = {db:String}', { db: database })).map((r) => [
            r.name,
            r,
          ]),
        );
      let tb = await tables();
      assert.equal(tb.get('flows')?.engine, 'ReplacingMergeTree');
      assert.equal(tb.get('flows')?.partition_key, 'toYYYYMMDD(observed)');
      assert.match(tb.get('flows')?.sorting_key ?? '', /dedup_key$/);
      assert.match(tb.get('flows')?.create_table_query ?? '', /TTL toDateTime\(observed\) \+ toIntervalDay\(7\)/);
      assert.match(tb.get('flows_1m')?.create_table_query ?? '', /TTL minute \+ toIntervalDay\(7\)/);
      assert.equal(tb.get('flows_1m')?.engine, 'SummingMergeTree');
      assert.equal(tb.get('flows_1m_mv')?.engine, 'MaterializedView');
      assert.match(tb.get('findings')?.create_table_query ?? '', /ReplacingMergeTree\(last_seen\)/);
      assert.match(tb.get('decisions')?.create_table_query ?? '', /ReplacingMergeTree\(version, is_deleted\)/);
      assert.equal(tb.get('decision_audit')?.engine, 'MergeTree');

      const now = Date.now();
      await s1.insertFlows([flowFixture({ observedAt: now - 8 * DAY }), flowFixture({ observedAt: now - 6 * DAY }), flowFixture({ observedAt: now })]);
      await c.command({ query: 'OPTIMIZE TABLE flows FINAL' });
      assert.equal((await s1.countFlows()).flows, 2, 'the flow 8 days old is past a 7-day TTL');
      const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
      const parts = await rows<{ p: string }>(c, 'SELECT DISTINCT _partition_id AS p FROM flows ORDER BY p');
      assert.deepEqual(
        parts.map((r) => r.p),
        [ymd(now - 6 * DAY), ymd(now)],
        'rows sit in one partition per UTC day',
      );
      await s1.stop();

      const s2 = createClickHouseStore({ url: URL_, database, retentionDays: 9 });
      await s2.start();
      t.after(() => s2.stop());
      tb = await tables();
      assert.match(tb.get('flows')?.create_table_query ?? '', /toIntervalDay\(9\)/);
      assert.match(tb.get('flows_1m')?.create_table_query ?? '', /toIntervalDay\(9\)/);
      const mig = await rows<{ version: number }>(c, 'SELECT version FROM schema_migrations FINAL');
      assert.deepEqual(mig.map((m) => Number(m.version)).sort(), [1, 2, 3, 4], 'each migration applied once across two starts');
      assert.equal((await s2.countFlows()).flows, 2, 'data kept across restart');
    });

    it('values with quotes and backslashes are data: decision targets, finding ids and filters round-trip', async (t) => {
      const s = chStore();
      await s.start();
      t.after(() => s.stop());
      const target = "203.0.113.7/32' OR '1'='1";
      const d = decisionFixture({ target, reason: 'back\\slash "and" quotes\n' });
      await s.upsertDecision(d, { at: d.updatedAt, target, change: 'create', origin: d.origin, reason: d.reason, decision: d });
      await s.upsertDecision(decisionFixture({ target: '192.0.2.1/32' }), { at: d.updatedAt, target: '192.0.2.1/32', change: 'create', origin: 'x', reason: 'y' });
      assert.deepEqual(await s.getDecision(target), d);
      assert.deepEqual((await s.queryDecisions({ target })).items, [d]);
      assert.deepEqual(
        (await s.queryAudit({ target })).map((a) => a.target),
        [target],
      );
      assert.equal(await s.deleteDecision(target, { at: d.updatedAt + 1, target, change: 'delete', origin: 'api:x', reason: 'r' }), true);
      assert.equal(await s.getDecision(target), undefined);
      assert.ok(await s.getDecision('192.0.2.1/32'), 'the other decision is untouched');
      const f = findingFixture({ id: "f-'; DROP TABLE findings; --", detector: "x'y" });
      await s.insertFindings([f]);
      assert.deepEqual((await s.queryFindings({ detector: "x'y" })).items, [f]);
    });

    it('an updated finding is filtered on its latest lastSeen only (WHERE applies after FINAL)', async (t) => {
      const s = chStore();
      await s.start();
      t.after(() => s.stop());
      const T = Date.parse('2025-03-01T12:00:00Z');
      await s.insertFindings([findingFixture({ id: 'u', lastSeen: T + 1000 })]);
      await s.insertFindings([findingFixture({ id: 'u', lastSeen: T + 5000 })]);
      assert.deepEqual((await s.queryFindings({ to: T + 3000 })).items, []);
      assert.equal((await s.queryFindings({ to: T + 3000 })).total, 0);
      assert.deepEqual(
        (await s.queryFindings({ from: T + 3000 })).items.map((f) => f.lastSeen),
        [T + 5000],
      );
    });

    it('a stale finding with an earlier firstSeen lowers firstSeen but does not win the rest', async (t) => {
      const s = chStore();
      await s.start();
      t.after(() => s.stop());
      const T = Date.parse('2025-03-01T12:00:00Z');
      const cur = findingFixture({ id: 's', firstSeen: T, lastSeen: T + 9000, evidence: { flows: 9 } });
      await s.insertFindings([cur]);
      await s.insertFindings([findingFixture({ id: 's', firstSeen: T - 1000, lastSeen: T + 100, evidence: { flows: 1 } })]);
      assert.deepEqual((await s.queryFindings({})).items, [{ ...cur, firstSeen: T - 1000 }]);
    });

    it('createStore({ kind: "clickhouse" }) returns this adapter; bad options are refused at creation', async (t) => {
      const database = newDatabase();
      const s = createStore({ kind: 'clickhouse', url: URL_, database, retentionDays: LONG_RETENTION });
      assert.equal(s.name, 'clickhouse');
      await s.start();
      t.after(() => s.stop());
      await s.insertFlows([flowFixture()]);
      assert.deepEqual(await s.countFlows(), { flows: 1, bytes: 4600 });
      assert.throws(() => createClickHouseStore({ url: URL_, database: 'bad-name; DROP' }), { code: 'FLOE_STORE_BAD_CONFIG' });
      assert.throws(() => createClickHouseStore({ url: 'not a url', database: 'x' }), { code: 'FLOE_STORE_BAD_CONFIG' });
      assert.throws(() => createClickHouseStore({ url: URL_, database: 'x', retentionDays: 0 }), { code: 'FLOE_STORE_BAD_CONFIG' });
      assert.throws(() => createClickHouseStore({ url: URL_, database: 'x', flushRows: 1.5 }), { code: 'FLOE_STORE_BAD_CONFIG' });
    });

    it('measures insert throughput (100 000 flows, batches of 5 000) and query times (FINAL vs GROUP BY)', async (t) => {
      const database = newDatabase();
      const s = createClickHouseStore({ url: URL_, database, retentionDays: 7 });
      await s.start();
      t.after(() => s.stop());
      const total = 100_000;
      const batch = 5000;
      const base = Date.now() - 2 * 3_600_000;
      let ms = 0;
      for (let i = 0; i < total; i += batch) {
        const flows = manyFlows(batch, base, i);
        const t0 = performance.now();
        await s.insertFlows(flows);
        ms += performance.now() - t0;
      }
      t.diagnostic(`clickhouse insertFlows: ${total} flows in ${ms.toFixed(0)} ms = ${Math.round(total / (ms / 1000))} flows/s`);
      const t1 = performance.now();
      await s.insertFlows(manyFlows(batch, base, 0));
      t.diagnostic(`clickhouse insertFlows replay of one stored batch of ${batch}: ${(performance.now() - t1).toFixed(0)} ms`);
      const c = inspect(database);
      t.after(() => c.close());
      const timed = async (label: string, fn: () => Promise<unknown>) => {
        const t0 = performance.now();
        const out = await fn();
        t.diagnostic(`${label}: ${(performance.now() - t0).toFixed(1)} ms -> ${JSON.stringify(out)}`);
        return out;
      };
      const viaStore = await timed('countFlows (FINAL)', () => s.countFlows());
      assert.deepEqual(viaStore, { flows: total, bytes: manyFlows(total, base).reduce((a, f) => a + (f.bytesOrig ?? 0) + (f.bytesReply ?? 0), 0) });
      await timed(
        'count via GROUP BY dedup_key',
        async () =>
          (await rows(c, 'SELECT count() AS n, sum(b) AS b FROM (SELECT dedup_key, any(ifNull(bytes_orig, 0) + ifNull(bytes_reply, 0)) AS b FROM flows GROUP BY dedup_key)'))[0],
      );
      await timed('count via uniqExact(dedup_key)', async () => (await rows(c, 'SELECT uniqExact(dedup_key) AS n FROM flows'))[0]);
      await timed('count without dedup (plain)', async () => (await rows(c, 'SELECT count() AS n FROM flows'))[0]);
      await timed(
        'rollup: top 5 sources by bytes',
        async () => (await rows(c, 'SELECT src_addr, sum(bytes_orig + bytes_reply) AS b FROM flows_1m GROUP BY src_addr ORDER BY b DESC LIMIT 5')).length,
      );
      await timed('queryFindings (empty)', () => s.queryFindings({ limit: 100 }));
    });
  });
}
