// The chDB HTTP endpoint (server.py) driven by the real @clickhouse/client.
// Needs `deploy/dev/clickhouse.sh start`; skipped when nothing answers on 127.0.0.1:18123
// unless FLOE_REQUIRE_CLICKHOUSE=1 (then it fails).
// Run: node --import tsx --test deploy/dev/clickhouse/endpoint.test.ts
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it, before, after } from 'node:test';
import { ClickHouseError, createClient, type ClickHouseClient } from '@clickhouse/client';

const URL_ = process.env.FLOE_CLICKHOUSE_URL ?? 'http://127.0.0.1:18123';
const REQUIRED = process.env.FLOE_REQUIRE_CLICKHOUSE === '1';

async function reachable(): Promise<boolean> {
  try {
    const r = await fetch(`${URL_}/ping`, { signal: AbortSignal.timeout(1000) });
    return r.ok && (await r.text()) === 'Ok.\n';
  } catch {
    return false;
  }
}

const up = await reachable();
if (REQUIRED && !up) {
  it('ClickHouse endpoint is reachable (FLOE_REQUIRE_CLICKHOUSE=1)', () => {
    assert.fail(`FLOE_REQUIRE_CLICKHOUSE=1 but ${URL_}/ping does not answer; run deploy/dev/clickhouse.sh start`);
  });
}

interface FlowRow {
  ts: string;
  src: string;
  dst: string;
  dport: number;
  bytes: number;
  tags: string[];
}

function flow(i: number, overrides: Partial<FlowRow> = {}): FlowRow {
  return {
    ts: `2026-11-30 12:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`,
    src: `10.0.${i % 4}.${(i % 250) + 1}`,
    dst: '192.0.2.10',
    dport: 1 + (i % 1024),
    bytes: 40 + i,
    tags: i % 2 ? ['odd'] : [],
    ...overrides,
  };
}

describe('chDB HTTP endpoint with @clickhouse/client', { skip: up ? false : `no endpoint on ${URL_}` }, () => {
  const db = `floe_test_${randomUUID().slice(0, 8)}`;
  let client: ClickHouseClient;

  before(async () => {
    const admin = createClient({ url: URL_ });
    await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
    await admin.close();
    client = createClient({ url: URL_, database: db });
  });
  after(async () => {
    await client?.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await client?.close();
  });

  it('ping answers true', async () => {
    const r = await client.ping();
    assert.equal(r.success, true);
  });

  it('accepts MergeTree DDL partitioned by day with a TTL, inserts JSONEachRow, answers parameterized queries', async () => {
    await client.command({
      query: `CREATE TABLE flows (ts DateTime, src String, dst String, dport UInt16, bytes UInt64, tags Array(String))
              ENGINE = MergeTree PARTITION BY toDate(ts) ORDER BY (src, ts) TTL ts + INTERVAL 30 DAY`,
    });
    const rows = Array.from({ length: 1000 }, (_, i) => flow(i));
    const ins = await client.insert({ table: 'flows', values: rows, format: 'JSONEachRow' });
    assert.equal(ins.executed, true);
    assert.equal(ins.summary?.written_rows, '1000');
    assert.match(ins.query_id, /.+/);

    const expectedBytes = rows.filter((r) => r.src === '10.0.1.2').reduce((a, r) => a + r.bytes, 0);
    const rs = await client.query({
      query: 'SELECT src, count() AS n, sum(bytes) AS b FROM flows WHERE src = {src:String} AND dport >= {min:UInt16} GROUP BY src',
      query_params: { src: '10.0.1.2', min: 1 },
      format: 'JSON',
    });
    const json = await rs.json<{ src: string; n: string | number; b: string | number }>();
    assert.deepEqual(
      json.meta?.map((m) => m.name),
      ['src', 'n', 'b'],
    );
    assert.equal(json.rows, 1);
    assert.equal(json.data[0].src, '10.0.1.2');
    assert.equal(Number(json.data[0].n), rows.filter((r) => r.src === '10.0.1.2').length);
    assert.equal(Number(json.data[0].b), expectedBytes);

    // Array and DateTime parameters; a quote inside a String parameter stays data, not SQL.
    const each = await client.query({
      query: `SELECT count() AS n FROM flows WHERE has({tags:Array(String)}, 'odd') AND has(tags, 'odd')
              AND ts >= {from:DateTime} AND src != {evil:String}`,
      query_params: { tags: ['odd'], from: '2026-11-30 12:00:00', evil: "x' OR 1=1 --" },
      format: 'JSONEachRow',
    });
    assert.deepEqual(
      (await each.json<{ n: number | string }>()).map((r) => Number(r.n)),
      [500],
    );

    const compact = await client.query({
      query: 'SELECT dport, bytes FROM flows WHERE src = {src:String} ORDER BY ts LIMIT 2',
      query_params: { src: '10.0.0.1' },
      format: 'JSONCompactEachRow',
    });
    // Rows of 10.0.0.1 are i = 0 and i = 500 (i % 4 = 0 and i % 250 = 0).
    const c = await compact.json<[number, number | string]>();
    assert.deepEqual(
      c.map(([p, b]) => [p, Number(b)]),
      [
        [1, 40],
        [501, 540],
      ],
    );
  });

  it('reports bad SQL as a ClickHouseError with the ClickHouse code, type and message', async () => {
    await assert.rejects(client.query({ query: 'SELEC 1', format: 'JSON' }), (e: unknown) => {
      assert.ok(e instanceof ClickHouseError, `got ${String(e)}`);
      assert.equal(e.code, '62');
      assert.equal(e.type, 'SYNTAX_ERROR');
      assert.match(e.message, /Syntax error/);
      return true;
    });
    await assert.rejects(client.query({ query: 'SELECT * FROM no_such_table', format: 'JSON' }), (e: unknown) => {
      assert.ok(e instanceof ClickHouseError);
      assert.equal(e.code, '60');
      assert.equal(e.type, 'UNKNOWN_TABLE');
      return true;
    });
    // A parameter that does not parse as its declared type is the server's error, not a crash.
    await assert.rejects(
      client.query({ query: 'SELECT {n:UInt8} AS n', query_params: { n: 'abc' }, format: 'JSON' }),
      (e: unknown) => e instanceof ClickHouseError && /abc|parse|Cannot/i.test(e.message),
    );
  });

  it('ReplacingMergeTree with a version column and TTL: FINAL keeps one row per key after a replayed insert', async () => {
    await client.command({
      query: `CREATE TABLE decisions (target String, action LowCardinality(String), version UInt64, expires DateTime)
              ENGINE = ReplacingMergeTree(version) ORDER BY target TTL expires + INTERVAL 7 DAY`,
    });
    const batch = [
      { target: '203.0.113.7/32', action: 'block', version: 1, expires: '2026-12-01 00:00:00' },
      { target: '198.51.100.0/24', action: 'block', version: 1, expires: '2026-12-01 00:00:00' },
      { target: '203.0.113.7/32', action: 'unblock', version: 2, expires: '2026-12-01 00:00:00' },
    ];
    await client.insert({ table: 'decisions', values: batch, format: 'JSONEachRow' });
    await client.insert({ table: 'decisions', values: batch, format: 'JSONEachRow' }); // replay
    const raw = await (await client.query({ query: 'SELECT count() AS n FROM decisions', format: 'JSONEachRow' })).json<{ n: number | string }>();
    // optimize_on_insert (default 1) already collapses each inserted block to one row per key:
    // 2 rows per insert; the replayed insert's rows stay until a merge or FINAL.
    assert.equal(Number(raw[0].n), 4);
    const fin = await client.query({
      query: 'SELECT target, action FROM decisions FINAL ORDER BY target',
      format: 'JSONEachRow',
    });
    assert.deepEqual(await fin.json(), [
      { target: '198.51.100.0/24', action: 'block' },
      { target: '203.0.113.7/32', action: 'unblock' },
    ]);
  });

  it('accepts a rollup materialized view (SummingMergeTree) fed by inserts', async () => {
    await client.command({ query: 'CREATE TABLE src_t (d Date, k String, v UInt64) ENGINE = MergeTree ORDER BY (d, k)' });
    await client.command({ query: 'CREATE TABLE roll (d Date, k String, v UInt64) ENGINE = SummingMergeTree ORDER BY (d, k)' });
    await client.command({ query: 'CREATE MATERIALIZED VIEW roll_mv TO roll AS SELECT d, k, sum(v) AS v FROM src_t GROUP BY d, k' });
    await client.insert({
      table: 'src_t',
      values: [
        { d: '2026-11-30', k: 'a', v: 1 },
        { d: '2026-11-30', k: 'a', v: 2 },
        { d: '2026-11-30', k: 'b', v: 5 },
      ],
      format: 'JSONEachRow',
    });
    const r = await client.query({ query: 'SELECT k, sum(v) AS v FROM roll GROUP BY k ORDER BY k', format: 'JSONCompactEachRow' });
    assert.deepEqual(
      (await r.json<[string, number | string]>()).map(([k, v]) => [k, Number(v)]),
      [
        ['a', 3],
        ['b', 5],
      ],
    );
  });

  it('applies clickhouse_settings to one request only', async () => {
    const q = (settings?: Record<string, 0 | 1>) => client.query({ query: 'SELECT toUInt64(7) AS u', format: 'JSONEachRow', clickhouse_settings: settings }).then((r) => r.text());
    const quoted = await q({ output_format_json_quote_64bit_integers: 1 });
    const plain = await q({ output_format_json_quote_64bit_integers: 0 });
    assert.equal(quoted.trim(), '{"u":"7"}');
    assert.equal(plain.trim(), '{"u":7}');
    assert.equal((await q()).trim(), (await q()).trim(), 'no setting leaks into later requests');
    const again = await q({ output_format_json_quote_64bit_integers: 1 });
    assert.equal(again.trim(), '{"u":"7"}');
  });

  it('works with gzip request and response compression and echoes the query id', async () => {
    const gz = createClient({ url: URL_, database: db, compression: { request: true, response: true } });
    try {
      await gz.command({ query: 'CREATE TABLE gz (id UInt32, s String) ENGINE = MergeTree ORDER BY id' });
      const values = Array.from({ length: 5000 }, (_, id) => ({ id, s: 'x'.repeat(50) }));
      await gz.insert({ table: 'gz', values, format: 'JSONEachRow' });
      const qid = `floe-${randomUUID()}`;
      const r = await gz.query({ query: 'SELECT count() AS n, sum(length(s)) AS l FROM gz', format: 'JSON', query_id: qid });
      assert.equal(r.query_id, qid);
      const j = await r.json<{ n: number | string; l: number | string }>();
      assert.equal(Number(j.data[0].n), 5000);
      assert.equal(Number(j.data[0].l), 5000 * 50);
    } finally {
      await gz.close();
    }
  });
});
