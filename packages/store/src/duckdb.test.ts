import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { FlowRecord } from '@floe/flow';
import { decisionFixture, flowFixture, runStoreContract } from './contract.js';
import { createDuckDbStore, flowDedupKey } from './duckdb.js';
import { createStore } from './factory.js';

const tmp = mkdtempSync(join(tmpdir(), 'floe-store-'));
let n = 0;
after(() => rmSync(tmp, { recursive: true, force: true }));

runStoreContract('duckdb :memory:', () => createDuckDbStore({ path: ':memory:' }));
runStoreContract('duckdb file', () => createDuckDbStore({ path: join(tmp, `contract-${n++}`, 'floe.duckdb') }));

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
    const inst = await DuckDBInstance.create(path);
    const c = await inst.connect();
    const rows = (await c.runAndReadAll('SELECT version FROM schema_migrations')).getRowObjectsJS();
    c.closeSync();
    inst.closeSync();
    assert.deepEqual(rows, [{ version: 1 }]);
  });

  it('stores every FlowRecord field in its own column', async () => {
    const path = join(tmp, 'columns.duckdb');
    const s = createDuckDbStore({ path });
    await s.start();
    const f: FlowRecord = flowFixture({
      start: 1, end: 2, icmpType: undefined, replySrcAddr: '10.96.0.10', replyDstAddr: '10.0.0.5', replySrcPort: 53, replyDstPort: 40_000,
      unreplied: false, zone: 7, mark: 4_294_967_295, logPrefix: 'DROP ', verdict: 'drop', inIface: 'eth0', outIface: 'cni0',
      direction: 'egress', srcMeta: { namespace: 'shop', labels: { app: 'cart' } }, dstMeta: { zone: 'dns' },
    });
    await s.insertFlows([f]);
    await s.stop();
    const inst = await DuckDBInstance.create(path);
    const c = await inst.connect();
    const row = (await c.runAndReadAll('SELECT * FROM flows')).getRowObjectsJS()[0];
    c.closeSync();
    inst.closeSync();
    assert.equal(row.dedup_key, flowDedupKey(f));
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

  it('dedup key tells apart event, observedAt, ctId, node, state and counters; equal records share it', () => {
    const base = flowFixture();
    assert.equal(flowDedupKey(base), flowDedupKey({ ...base }));
    // two UPDATE events of one connection in the same millisecond (SYN_RECV then ESTABLISHED)
    for (const over of [{ event: 'new' }, { observedAt: base.observedAt + 1 }, { ctId: '1' }, { node: 'node-b' }, { dstPort: 80 },
      { state: 'ESTABLISHED' }, { bytesOrig: (base.bytesOrig ?? 0) + 1 }, { assured: !base.assured }] as const) {
      assert.notEqual(flowDedupKey(base), flowDedupKey({ ...base, ...over }), JSON.stringify(over));
    }
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
        flows.push(flowFixture({ observedAt: 1_740_830_400_000 + j, srcPort: 1024 + (j % 60_000), ctId: String(j), srcAddr: `10.${(j >> 16) & 255}.${(j >> 8) & 255}.${j & 255}` }));
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
