import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { parseFile, type FlowRecord } from '@floe/flow';
import { decisionFixture, flowFixture, runStoreContract } from './contract.js';
import { createDuckDbStore, flowDedupKey } from './duckdb.js';
import { MIGRATIONS, migrate } from './migrations.js';
import { KEY_OF_COLUMNS_SQL } from './duckdb-key.js';
import { STORE_ERROR_CODES } from './errors.js';
import { createStore } from './factory.js';

const tmp = mkdtempSync(join(tmpdir(), 'floe-store-'));
let n = 0;
after(() => rmSync(tmp, { recursive: true, force: true }));

runStoreContract('duckdb :memory:', () => createDuckDbStore({ path: ':memory:' }));
runStoreContract('duckdb file', () => createDuckDbStore({ path: join(tmp, `contract-${n++}`, 'floe.duckdb') }));

/** Rows of `sql` in the DuckDB file at `path`, read with a connection of its own (the store is stopped). */
async function readRows(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const inst = await DuckDBInstance.create(path);
  const c = await inst.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJS();
  } finally {
    c.closeSync();
    inst.closeSync();
  }
}

describe('duckdb store', { concurrency: false }, () => {
  it('keeps data and migrations across a restart on the same file (migration applied once)', async (t) => {
    const path = join(tmp, 'restart.duckdb');
    const s1 = createDuckDbStore({ path });
    await s1.start();
    await s1.insertFlows([flowFixture()]);
    const d = decisionFixture();
    await s1.upsertDecision(d, { at: d.updatedAt, target: d.target, change: 'create', origin: d.origin, reason: d.reason, decision: d });
    await s1.stop();
    await s1.stop();
    const s2 = createDuckDbStore({ path });
    await s2.start();
    t.after(() => s2.stop());
    assert.deepEqual(await s2.countFlows(), { flows: 1, bytes: 4600 });
    assert.deepEqual(await s2.getDecision(d.target), d);
    await s2.insertFlows([flowFixture()]);
    assert.equal((await s2.countFlows()).flows, 1, 'dedup holds across restarts');
    await s2.stop();
    const rows = await readRows(path, 'SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(rows, [{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }, { version: 7 }]);
  });

  it('a file written at migration 1 (dedup_key primary key) opens: rows kept, index gone, dedup still holds', async (t) => {
    const path = join(tmp, 'v1.duckdb');
    const f = flowFixture();
    const inst = await DuckDBInstance.create(path);
    const c = await inst.connect();
    assert.deepEqual(await migrate(c, MIGRATIONS.slice(0, 1)), [1]);
    await c.run(
      `INSERT INTO flows (dedup_key, schema_version, observed_at, node, source, event, family, protocol, src_addr, dst_addr, src_port, dst_port,
         bytes_orig, packets_orig, bytes_reply, packets_reply, state, assured, ct_id) VALUES (?, 1, ?, ?, ?, ?, 4, 6, ?, ?, ?, ?, ?, ?, ?, ?, ?, true, ?)`,
      [
        flowDedupKey(f),
        f.observedAt,
        f.node!,
        f.source,
        f.event,
        f.srcAddr,
        f.dstAddr,
        f.srcPort!,
        f.dstPort!,
        f.bytesOrig!,
        f.packetsOrig!,
        f.bytesReply!,
        f.packetsReply!,
        f.state!,
        f.ctId!,
      ],
    );
    c.closeSync();
    inst.closeSync();
    const s = createDuckDbStore({ path });
    await s.start();
    t.after(() => s.stop());
    assert.deepEqual(await s.countFlows(), { flows: 1, bytes: 4600 });
    await s.insertFlows([f, flowFixture({ ctId: '2' })]);
    assert.deepEqual(await s.countFlows(), { flows: 2, bytes: 9200 }, 'the row written before the migration still dedups');
    await s.stop();
    const inst2 = await DuckDBInstance.create(path);
    const c2 = await inst2.connect();
    const pk = (await c2.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM duckdb_constraints() WHERE table_name = 'flows' AND constraint_type = 'PRIMARY KEY'`)).getRowObjectsJS();
    c2.closeSync();
    inst2.closeSync();
    assert.deepEqual(pk, [{ n: 0 }]);
  });

  it('dedup holds when a batch spans the time of several earlier batches (stored keys anywhere in its observedAt range)', async (t) => {
    const s = createDuckDbStore({ path: ':memory:' });
    await s.start();
    t.after(() => s.stop());
    const at = (i: number) => flowFixture({ observedAt: 1_740_830_400_000 + i * 1000, ctId: String(i) });
    for (let b = 0; b < 10; b++) await s.insertFlows(Array.from({ length: 10 }, (_, j) => at(b * 10 + j)));
    assert.equal((await s.countFlows()).flows, 100);
    // every tenth stored flow, two new ones at the range's ends, one new one inside it, and a repeat
    const mixed = [at(-1), ...Array.from({ length: 10 }, (_, k) => at(k * 10 + 3)), at(200), at(3)];
    mixed.push(flowFixture({ observedAt: 1_740_830_400_000 + 45_000, ctId: '45', state: 'CLOSE' }));
    await s.insertFlows(mixed);
    assert.equal((await s.countFlows()).flows, 103);
    await s.insertFlows(mixed);
    assert.equal((await s.countFlows()).flows, 103);
  });

  it('a batch that fails part-way stores none of its flows (one transaction), and the store keeps working', async (t) => {
    const s = createDuckDbStore({ path: ':memory:' });
    await s.start();
    t.after(() => s.stop());
    const bad = { ...flowFixture({ ctId: '2' }), source: undefined } as unknown as FlowRecord;
    await assert.rejects(s.insertFlows([flowFixture(), bad]), /NOT NULL constraint failed: flows\.source/);
    assert.deepEqual(await s.countFlows(), { flows: 0, bytes: 0 });
    await s.insertFlows([flowFixture()]);
    assert.deepEqual(await s.countFlows(), { flows: 1, bytes: 4600 });
  });

  it('stores every FlowRecord field in its own column', async () => {
    const path = join(tmp, 'columns.duckdb');
    const s = createDuckDbStore({ path });
    await s.start();
    const f: FlowRecord = flowFixture({
      start: 1,
      end: 2,
      icmpType: undefined,
      replySrcAddr: '10.96.0.10',
      replyDstAddr: '10.0.0.5',
      replySrcPort: 53,
      replyDstPort: 40_000,
      unreplied: false,
      zone: 7,
      mark: 4_294_967_295,
      logPrefix: 'DROP ',
      verdict: 'drop',
      inIface: 'eth0',
      outIface: 'cni0',
      direction: 'egress',
      srcMeta: { namespace: 'shop', labels: { app: 'cart' } },
      dstMeta: { zone: 'dns' },
    });
    await s.insertFlows([f]);
    await s.stop();
    const row = (await readRows(path, `SELECT *, dedup_key = ${KEY_OF_COLUMNS_SQL} AS own_key FROM flows`))[0];
    assert.equal(row.own_key, true, 'the key computed from the JSON equals the key of the stored columns');
    assert.equal(row.mark, 4_294_967_295n);
    assert.equal(row.observed_at, BigInt(f.observedAt));
    assert.equal(row.reply_src_addr, '10.96.0.10');
    assert.equal(row.icmp_type, null);
    assert.equal(row.verdict, 'drop');
    assert.equal(row.unreplied, false);
    assert.equal(row.ct_id, '3512345678');
    assert.deepEqual(JSON.parse(row.src_meta as string), f.srcMeta);
    assert.deepEqual(JSON.parse(row.dst_meta as string), f.dstMeta);
  });

  it('the JSON bulk path keeps text and numbers exact: quotes, backslashes, non-ASCII, 2^53-1, a stray key field', async () => {
    const path = join(tmp, 'bulk.duckdb');
    const s = createDuckDbStore({ path });
    await s.start();
    const f = {
      ...flowFixture({ logPrefix: 'say "hi" \\ ünï 😀 ,', bytesOrig: Number.MAX_SAFE_INTEGER, inIface: 'br.lan', srcMeta: { labels: { 'a"b': 'c\\d' } } }),
      floe_dedup_key: 'not-the-key', // a hostile extra field with the bulk path's key name
    } as FlowRecord;
    await s.insertFlows([f]);
    await s.stop();
    const row = (await readRows(path, `SELECT *, dedup_key = ${KEY_OF_COLUMNS_SQL} AS own_key FROM flows`))[0];
    assert.equal(row.own_key, true, 'the stray key field changed nothing');
    assert.equal(row.log_prefix, f.logPrefix);
    assert.equal(row.bytes_orig, BigInt(Number.MAX_SAFE_INTEGER));
    assert.equal(row.in_iface, 'br.lan');
    assert.equal(row.src_meta, JSON.stringify(f.srcMeta));
  });

  it('each stored row carries the key of its own flow (keys and flows of a batch are paired by position)', async () => {
    const path = join(tmp, 'zip.duckdb');
    const s = createDuckDbStore({ path });
    await s.start();
    const flows = Array.from({ length: 3000 }, (_, i) =>
      flowFixture({ observedAt: 1_700_000_000_000 + (i % 7) * 1000 + i, srcPort: 1024 + (i % 60_000), ctId: String(i), srcMeta: i % 3 ? undefined : { pod: `p${i}` } }),
    );
    await s.insertFlows([...flows.slice(0, 1000), flows[5], ...flows.slice(1000)]); // a repeat inside the batch too
    await s.stop();
    const rows = await readRows(path, `SELECT dedup_key = ${KEY_OF_COLUMNS_SQL} AS own_key, ct_id, src_meta FROM flows`);
    assert.equal(rows.length, 3000);
    const byCt = new Map(flows.map((f) => [f.ctId, f]));
    for (const r of rows) {
      const f = byCt.get(r.ct_id as string)!;
      assert.equal(r.own_key, true, `row of ctId ${String(r.ct_id)}`);
      assert.equal(r.src_meta, f.srcMeta === undefined ? null : JSON.stringify(f.srcMeta));
    }
  });

  it('on every record of the real captures (all parsers), DuckDB keeps one row per distinct flowDedupKey, each with its own distinct key', async () => {
    const dir = fileURLToPath(new URL('../../flow/testdata/', import.meta.url));
    const files = ['conntrack', 'iptables-log', 'ulogd-nfct', 'ulogd-nflog'].flatMap((d) => readdirSync(join(dir, d)).map((f) => join(dir, d, f)));
    const flows: FlowRecord[] = [];
    for (const file of files) flows.push(...(await parseFile(file, { format: 'auto' })).records);
    assert.ok(flows.length > 1000, `${flows.length} records`);
    const path = join(tmp, 'sqlkey.duckdb');
    const s = createDuckDbStore({ path });
    await s.start();
    await s.insertFlows(flows);
    await s.insertFlows(flows.slice(0, 500)); // a replay of part of it
    await s.stop();
    const rows = await readRows(path, `SELECT dedup_key, dedup_key = ${KEY_OF_COLUMNS_SQL} AS own_key FROM flows`);
    const distinct = new Set(flows.map(flowDedupKey));
    assert.equal(rows.length, distinct.size, 'the same flows are one flow for both adapters');
    assert.equal(new Set(rows.map((r) => String(r.dedup_key))).size, rows.length, 'no two stored flows share a key');
    assert.ok(rows.every((r) => r.own_key === true));
  });

  it('a key two different flows share (a 64-bit collision) deletes neither; a true repeat among them is still removed', async (t) => {
    const path = join(tmp, 'collision.duckdb');
    const a = flowFixture({ ctId: '1' });
    const b = flowFixture({ ctId: '2' });
    const s1 = createDuckDbStore({ path });
    await s1.start();
    await s1.insertFlows([a]);
    await s1.stop();
    // force a's stored key to b's, as a collision would make it
    const inst = await DuckDBInstance.create(path);
    const c = await inst.connect();
    const keyOfB = (await c.runAndReadAll(`SELECT ${KEY_OF_COLUMNS_SQL.replaceAll('ct_id', "'2'::VARCHAR")} AS k FROM flows`)).getRowObjectsJS()[0].k as bigint;
    await c.run(`UPDATE flows SET dedup_key = ${keyOfB}`);
    c.closeSync();
    inst.closeSync();
    const s2 = createDuckDbStore({ path });
    await s2.start();
    t.after(() => s2.stop());
    await s2.insertFlows([b]);
    assert.equal((await s2.countFlows()).flows, 2, 'the collision alone deletes nothing');
    const keys = (await s2.readFlows({ limit: 10 })).items.map((f) => f.ctId).sort();
    assert.deepEqual(keys, ['1', '2']);
    await s2.insertFlows([b]); // three rows share the key now: the new one equals b and goes, a stays
    assert.equal((await s2.countFlows()).flows, 2, 'a true repeat among rows of a shared key is removed');
    assert.deepEqual((await s2.readFlows({ limit: 10 })).items.map((f) => f.ctId).sort(), ['1', '2']);
  });

  it('a store whose keys were made by another hash() (its probe differs: a DuckDB upgrade) recomputes them at start, and dedup holds', async () => {
    const path = join(tmp, 'rekey.duckdb');
    const f = flowFixture();
    const s1 = createDuckDbStore({ path });
    await s1.start();
    await s1.insertFlows([f, flowFixture({ ctId: '2' })]);
    await s1.stop();
    const inst = await DuckDBInstance.create(path);
    const c = await inst.connect();
    await c.run('UPDATE flows SET dedup_key = dedup_key + 1');
    await c.run('UPDATE flow_key_probe SET probe = probe + 1');
    c.closeSync();
    inst.closeSync();
    const s2 = createDuckDbStore({ path });
    await s2.start();
    await s2.insertFlows([f]);
    assert.equal((await s2.countFlows()).flows, 2, 'the replayed flow found its stored copy under the recomputed key');
    await s2.stop();
    const rows = await readRows(path, `SELECT count(*) FILTER (WHERE dedup_key = ${KEY_OF_COLUMNS_SQL})::INTEGER AS own FROM flows`);
    assert.deepEqual(rows, [{ own: 2 }]);
  });

  it("a flows cursor that is not this store's (forged, or of the text keys before migration 7) is refused as a bad cursor", async (t) => {
    const s = createDuckDbStore({ path: ':memory:' });
    await s.start();
    t.after(() => s.stop());
    await s.insertFlows([flowFixture({ ctId: '1' }), flowFixture({ ctId: '2' }), flowFixture({ ctId: '3' })]);
    const first = await s.readFlows({ limit: 2 });
    assert.equal(first.items.length, 2);
    const rest = await s.readFlows({ limit: 2, cursor: first.next });
    assert.deepEqual([...first.items, ...rest.items].map((f) => f.ctId).sort(), ['1', '2', '3'], 'the pages hold every flow once');
    const cursor = (k: string) => Buffer.from(JSON.stringify({ t: 'l', s: 1, k })).toString('base64url');
    for (const k of ['0123456789abcdef0123456789abcdef', '-1', '18446744073709551616', "1' OR 1=1"]) {
      await assert.rejects(s.readFlows({ limit: 2, cursor: cursor(k) }), (e: Error & { code?: string }) => e.code === STORE_ERROR_CODES.BAD_CURSOR, k);
    }
  });

  it('dedup key tells apart event, observedAt, ctId, node, state and counters; equal records share it', () => {
    const base = flowFixture();
    assert.equal(flowDedupKey(base), flowDedupKey({ ...base }));
    // two UPDATE events of one connection in the same millisecond (SYN_RECV then ESTABLISHED)
    for (const over of [
      { event: 'new' },
      { observedAt: base.observedAt + 1 },
      { ctId: '1' },
      { node: 'node-b' },
      { dstPort: 80 },
      { state: 'ESTABLISHED' },
      { bytesOrig: (base.bytesOrig ?? 0) + 1 },
      { assured: !base.assured },
    ] as const) {
      assert.notEqual(flowDedupKey(base), flowDedupKey({ ...base, ...over }), JSON.stringify(over));
    }
  });

  it('dedup key text is unchanged from the first release (keys stored before still match): SHA-256/128 of the fields joined by |', () => {
    const f = flowFixture({ icmpType: undefined, zone: 7, mark: 4_294_967_295, replySrcAddr: '10.96.0.10', replySrcPort: 53, verdict: 'drop', unreplied: true });
    const fields = [
      f.source,
      f.node,
      f.ctId,
      f.family,
      f.protocol,
      f.srcAddr,
      f.srcPort,
      f.dstAddr,
      f.dstPort,
      f.icmpType,
      f.icmpCode,
      f.event,
      f.observedAt,
      f.start,
      f.end,
      f.state,
      f.assured ? 1 : 0,
      f.unreplied ? 1 : 0,
      f.bytesOrig,
      f.packetsOrig,
      f.bytesReply,
      f.packetsReply,
      f.zone,
      f.mark,
      f.replySrcAddr,
      f.replyDstAddr,
      f.replySrcPort,
      f.replyDstPort,
      f.logPrefix,
      f.verdict,
    ];
    const want = createHash('sha256').update(fields.join('|')).digest('hex').slice(0, 32);
    assert.equal(flowDedupKey(f), want);
  });

  it('measures batch insert throughput (100 000 flows in batches of 5 000)', async (t) => {
    const s = createDuckDbStore({ path: join(tmp, 'bench.duckdb') });
    await s.start();
    t.after(() => s.stop());
    const total = 100_000;
    const batch = 5000;
    const t0 = performance.now();
    for (let i = 0; i < total; i += batch) {
      const flows: FlowRecord[] = [];
      for (let j = i; j < i + batch; j++) {
        flows.push(
          flowFixture({ observedAt: 1_740_830_400_000 + j, srcPort: 1024 + (j % 60_000), ctId: String(j), srcAddr: `10.${(j >> 16) & 255}.${(j >> 8) & 255}.${j & 255}` }),
        );
      }
      await s.insertFlows(flows);
    }
    const ms = performance.now() - t0;
    t.diagnostic(`duckdb insertFlows: ${total} flows in ${ms.toFixed(0)} ms = ${Math.round(total / (ms / 1000))} flows/s`);
    assert.equal((await s.countFlows()).flows, total);
  });

  it('createStore: duckdb works, unknown kinds are refused', async () => {
    const s = createStore({ kind: 'duckdb', path: ':memory:' });
    assert.equal(s.name, 'duckdb');
    assert.throws(() => createStore({ kind: 'sqlite' } as never), { code: 'FLOE_STORE_UNKNOWN_KIND', message: /unknown store kind "sqlite"/ });
    assert.throws(() => createStore({ kind: 'duckdb', path: '' }), { code: 'FLOE_STORE_BAD_CONFIG' });
  });
});
