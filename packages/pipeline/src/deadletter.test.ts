// The dead-letter path on the in-process bus and DuckDB: poison messages and records go to
// floe.deadletter.v1 and the dead_letters table, the flows behind them are stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FlowRecord } from '@floe/flow';
import { createMemoryBus, TOPICS, type DeadLetter } from '@floe/bus';
import { createDuckDbStore, type Store } from '@floe/store';
import { compilePolicy, defaultPolicy } from '@floe/policy';
import { createDetectors } from '@floe/detect';
import { createResponder, defaultResponderOptions } from '@floe/respond';
import { createRegistry } from '@floe/telemetry';
import { createPipeline, createProcessor, type Pipeline } from './index.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
/** Destination port that makes the detect step throw (an injected detector bug). */
export const POISON_PORT = 6666;

export function flow(i: number, over: Partial<FlowRecord> = {}): FlowRecord {
  return {
    schema: 1,
    observedAt: T0 + i,
    source: 'conntrack',
    event: 'new',
    family: 4,
    protocol: 6,
    srcAddr: `10.1.${i >> 8}.${i & 255}`,
    dstAddr: '10.2.0.1',
    srcPort: 40_000 + i,
    dstPort: 443,
    ...over,
  };
}

/** The real pipeline, with a detector that throws on POISON_PORT (a record that makes a step throw). */
export function poisonablePipeline(): Pipeline {
  const policy = compilePolicy(defaultPolicy());
  const real = createPipeline({ policy, detectors: createDetectors(policy.policy.detectors) });
  return Object.assign(Object.create(real) as Pipeline, {
    detect(f: FlowRecord) {
      if (f.dstPort === POISON_PORT) throw new TypeError(`injected detector bug on port ${POISON_PORT}`);
      return real.detect(f);
    },
  });
}

async function until(what: string, pred: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function rig(store: Store, busOpts: Parameters<typeof createMemoryBus>[0] = {}) {
  const bus = createMemoryBus({ retryBackoffMs: 5, maxRetryBackoffMs: 20, ...busOpts });
  await bus.start();
  await store.start();
  const registry = createRegistry({ defaultMetrics: false });
  const failures: Error[] = [];
  const processor = createProcessor(
    { group: 'dl-test', storeFlows: true, retries: 1 },
    {
      bus,
      store,
      metrics: registry,
      now: () => T0,
      pipeline: poisonablePipeline(),
      responder: createResponder({ ...defaultResponderOptions(), minSeverity: 'high' }),
      onFailure: (e) => failures.push(e),
    },
  );
  await processor.start();
  const dead: DeadLetter[] = [];
  await bus.subscribe<DeadLetter>(TOPICS.deadletter, { group: 'watch-dl', fromBeginning: true }, async (b) => {
    for (const m of b.messages) if (m.value) dead.push(m.value);
  });
  return { bus, processor, registry, failures, dead };
}

test('poison messages and records are dead-lettered with reason and bytes; the flows behind them are stored', async (t) => {
  const store = createDuckDbStore({ path: ':memory:' });
  const { bus, processor, registry, dead } = await rig(store);
  t.after(async () => {
    await processor.stop();
    await bus.stop();
    await store.stop();
  });
  const key = '10.1.0.1'; // one key: one partition, so everything behind the poison waits on it
  const before = [flow(1), flow(2)];
  const after = [flow(10), flow(11), flow(12)];
  const schema99 = { ...flow(3), schema: 99 };
  await bus.publish<unknown>(TOPICS.flows, [
    { key, value: before },
    { key, value: 'not a batch of flows' },
    { key, value: schema99 },
    { key, value: [flow(4), { ...flow(5), schema: undefined }, flow(6, { dstPort: POISON_PORT }), flow(7, { srcAddr: 'zzz' }), flow(8, { dstPort: 70_000 })] },
    { key, value: after },
  ]);
  await until('every valid flow stored', async () => (await store.countFlows()).flows === 6);
  await until('six dead letters published', () => dead.length === 6);
  assert.deepEqual(
    dead.map((d) => [d.reason, d.step, d.record ?? null]),
    [
      ['undecodable', 'decode', null],
      ['schema-version', 'decode', null],
      ['schema-version', 'decode', 1],
      ['invalid-record', 'decode', 3],
      ['invalid-record', 'decode', 4],
      ['step-error', 'detect', 2],
    ],
  );
  const text = (d: DeadLetter) => Buffer.from(d.payload, 'base64').toString('utf8');
  assert.equal(text(dead[0]), JSON.stringify('not a batch of flows'), 'a whole message keeps its value');
  assert.deepEqual(JSON.parse(text(dead[1])), schema99);
  assert.match(dead[2].detail, /no schema version/);
  assert.match(dead[3].detail, /srcAddr/);
  assert.match(dead[4].detail, /dstPort/);
  assert.match(dead[5].detail, /injected detector bug/);
  assert.equal(JSON.parse(text(dead[5])).dstPort, POISON_PORT);
  for (const d of dead) assert.deepEqual([d.topic, d.key, d.group, d.at], [TOPICS.flows, key, 'dl-test', T0]);
  // the same six in the embedded store's dead_letters table, latest first
  const stored = await store.queryDeadLetters({});
  assert.deepEqual(stored.map((d) => d.reason).sort(), dead.map((d) => d.reason).sort());
  assert.deepEqual(new Set(stored.map((d) => d.payload)), new Set(dead.map((d) => d.payload)));
  const counted = (await registry.getSingleMetric('floe_deadletter_total')!.get()).values;
  assert.deepEqual(Object.fromEntries(counted.map((v) => [v.labels.reason, v.value])), { undecodable: 1, 'schema-version': 2, 'invalid-record': 2, 'step-error': 1 });
  const h = processor.health();
  assert.equal(h.ok, true);
  assert.equal(h.deadLetters, 6);
  assert.equal(h.flows, 11, 'every record received is counted, stored or dead-lettered');
});

test('a store that stays down kills the consumer after the bus gives up: health false, onFailure called', async (t) => {
  const real = createDuckDbStore({ path: ':memory:' });
  const down: Store = Object.assign(Object.create(real) as Store, {
    insertFlows: async () => {
      throw new Error('injected: connection refused');
    },
  });
  const { bus, processor, failures } = await rig(down, { maxDeliveryAttempts: 3 });
  t.after(async () => {
    await processor.stop();
    await bus.stop();
    await real.stop();
  });
  assert.equal(processor.health().ok, true);
  await bus.publish(TOPICS.flows, [{ key: 'k', value: [flow(1)] }]);
  await until('the consumer to die', () => failures.length === 1);
  assert.equal((failures[0] as Error & { code?: string }).code, 'FLOE_PIPELINE_CONSUMER_DIED');
  const h = processor.health();
  assert.equal(h.ok, false);
  assert.match(h.error ?? '', /gave up .* after 3 failed deliveries: step persist failed: injected: connection refused/);
  assert.equal((await real.countFlows()).flows, 0, 'nothing was dead-lettered or skipped: an outage is not a poison record');
  assert.equal((await real.queryDeadLetters({})).length, 0);
});

test('stop() waits for the in-flight batch to finish its steps (memory bus)', async (t) => {
  const real = createDuckDbStore({ path: ':memory:' });
  let entered = false;
  const slow: Store = Object.assign(Object.create(real) as Store, {
    insertFlows: async (flows: FlowRecord[]) => {
      entered = true;
      await new Promise((r) => setTimeout(r, 200));
      return real.insertFlows(flows);
    },
  });
  const { bus, processor } = await rig(slow);
  t.after(async () => {
    await bus.stop();
    await real.stop();
  });
  await bus.publish(TOPICS.flows, [{ key: 'k', value: [flow(1), flow(2)] }]);
  await until('the persist step to start', () => entered);
  await processor.stop();
  await processor.stop(); // safe twice
  assert.equal(processor.health().flows, 2, 'the in-flight batch finished before stop() resolved');
  assert.equal((await real.countFlows()).flows, 2);
  await bus.publish(TOPICS.flows, [{ key: 'k', value: [flow(3)] }]);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(processor.health().flows, 2, 'nothing is consumed after stop()');
});
