// The processor's floe.gaps.v1 path on the in-process bus and DuckDB (issue 6): DataGaps are
// checked (schema version, shape), stored in data_gaps once however often they are delivered,
// and poison gap messages are dead-lettered with their reason while the gaps behind them are stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataGap } from '@floe/flow';
import { createMemoryBus, TOPICS, type BusMessage, type DeadLetter } from '@floe/bus';
import { createDuckDbStore, type Store } from '@floe/store';
import { compilePolicy, defaultPolicy } from '@floe/policy';
import { createDetectors } from '@floe/detect';
import { createResponder, defaultResponderOptions } from '@floe/respond';
import { createRegistry } from '@floe/telemetry';
import { checkDataGap, createPipeline, createProcessor, gapsGroup } from './index.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

function gap(over: Partial<DataGap> = {}): DataGap {
  return { schema: 1, node: 'n1', source: 'replay', kind: 'rejected', from: T0, to: T0 + 10, count: 2, reasons: { 'bad-port': 2 }, ...over };
}

async function until(what: string, pred: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function rig(t: { after(fn: () => unknown): void }, store: Store) {
  const bus = createMemoryBus({ partitions: 1, retryBackoffMs: 5, maxRetryBackoffMs: 20 });
  await bus.start();
  await store.start();
  const registry = createRegistry({ defaultMetrics: false });
  const policy = compilePolicy(defaultPolicy());
  const processor = createProcessor(
    { group: 'gap-test', storeFlows: true, retries: 1 },
    {
      bus,
      store,
      metrics: registry,
      now: () => T0,
      pipeline: createPipeline({ policy, detectors: createDetectors(policy.policy.detectors) }),
      responder: createResponder(defaultResponderOptions()),
    },
  );
  await processor.start();
  const dead: DeadLetter[] = [];
  await bus.subscribe<DeadLetter>(TOPICS.deadletter, { group: 'watch-dl', fromBeginning: true }, async (b) => {
    for (const m of b.messages) if (m.value) dead.push(m.value);
  });
  t.after(async () => {
    await processor.stop();
    await bus.stop();
    await store.stop();
  });
  return { bus, processor, registry, dead };
}

/** Poison values on floe.gaps.v1 and the dead-letter reason each must get. */
const POISON: Array<[unknown, string]> = [
  [{ ...gap(), schema: 99 }, 'schema-version'],
  [(({ schema: _s, ...rest }) => rest)(gap()), 'schema-version'],
  [{ ...gap(), kind: 'lost' }, 'invalid-record'],
  [{ ...gap(), from: T0 + 20 }, 'invalid-record'], // to < from
  [{ ...gap(), count: -1 }, 'invalid-record'],
  [{ ...gap(), count: 1.5 }, 'invalid-record'],
  [{ ...gap(), from: '2026-11-30' }, 'invalid-record'],
  [{ ...gap(), node: '\u001b[2Jevil' }, 'invalid-record'],
  [{ ...gap(), source: 'x'.repeat(257) }, 'invalid-record'],
  [{ ...gap(), reasons: { 'bad-port': 'many' } }, 'invalid-record'],
  [{ ...gap(), reasons: [1, 2] }, 'invalid-record'],
  [[gap()], 'undecodable'],
  ['a gap', 'undecodable'],
  [42, 'undecodable'],
];

test('checkDataGap: the schema version first, then every field; extra fields are allowed', () => {
  assert.equal(checkDataGap(gap()), undefined);
  assert.equal(checkDataGap({ ...gap(), extra: true }), undefined);
  const silent = gap({ kind: 'silent', count: 0 });
  delete silent.reasons;
  assert.equal(checkDataGap(silent), undefined);
  assert.equal(checkDataGap(gap({ from: T0, to: T0 })), undefined, 'a one-instant gap');
  for (const [v, reason] of POISON) if (reason !== 'undecodable') assert.equal(checkDataGap(v)?.reason, reason, JSON.stringify(v));
});

test('gaps on floe.gaps.v1 are stored once each (redelivered or published twice) and poison gap messages are dead-lettered with their reason; the gaps behind them are stored', async (t) => {
  const store = createDuckDbStore({ path: ':memory:' });
  const r = await rig(t, store);
  const good = [gap(), gap({ kind: 'enobufs', source: 'conntrack', count: 1, reasons: undefined, from: T0 + 100, to: T0 + 200 })];
  delete good[1].reasons;
  const msgs: BusMessage<unknown>[] = [
    ...POISON.map(([value], i) => ({ key: `n1/poison-${i}`, value })),
    { key: 'n1/replay', value: good[0] },
    { key: 'n1/replay', value: null }, // a tombstone is skipped
    { key: 'n1/conntrack', value: { ...good[1], extra: 'dropped' } },
    { key: 'n1/replay', value: good[0] }, // the collector's gap delivered twice
  ];
  await r.bus.publish(TOPICS.gaps, msgs);
  await until('all handled', () => r.processor.health().gaps >= 3 && r.dead.length >= POISON.length);
  const page = await store.queryGaps({});
  assert.deepEqual(page.items, [good[1], good[0]], 'stored once each, extra fields not stored');
  assert.deepEqual(
    r.dead.map((d) => d.reason),
    POISON.map(([, reason]) => reason),
  );
  assert.ok(r.dead.every((d) => d.topic === TOPICS.gaps && d.group === gapsGroup('gap-test') && d.step === 'decode-gaps'));
  assert.deepEqual(JSON.parse(Buffer.from(r.dead[0].payload, 'base64').toString('utf8')), POISON[0][0], 'the original value is kept');
  assert.equal((await store.queryDeadLetters({ limit: 100 })).length, POISON.length, 'and in the dead_letters table');
  const h = r.processor.health();
  assert.deepEqual([h.ok, h.gaps, h.deadLetters], [true, 3, POISON.length]);
  const stored = await r.registry.getSingleMetric('floe_processor_gaps_stored_total')?.get();
  assert.deepEqual(stored?.values.map((v) => [v.labels.kind, v.value]).sort(), [
    ['enobufs', 1],
    ['rejected', 2],
  ]);
});

test('a store outage leaves the gaps batch uncommitted; it is redelivered and stored once the store is back', async (t) => {
  const real = createDuckDbStore({ path: ':memory:' });
  let down = 2;
  const flaky = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'insertGaps') {
        return (gaps: DataGap[]) => (down-- > 0 ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:18123')) : target.insertGaps(gaps));
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  const r = await rig(t, flaky);
  await r.bus.publish(TOPICS.gaps, [{ key: 'n1/replay', value: gap() }]);
  await until('stored after the outage', async () => (await real.queryGaps({})).total === 1);
  assert.equal(down, -1, 'insertGaps was called until it succeeded');
  assert.deepEqual(r.dead, [], 'an outage never turns gaps into dead letters');
  await until('counted', () => r.processor.health().gaps === 1);
});
