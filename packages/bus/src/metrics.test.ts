// The bus adapters' metrics and logger on the in-process bus (Kafka: kafka-metrics.test.ts).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, createRegistry, readMetric } from '@floe/telemetry';
import { createBus } from './factory.js';
import { createMemoryBus } from './memory.js';
import { BUS_METRICS } from './metrics.js';

const TOPIC = 'test.metrics.v1';

async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + 5000;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A promise and the function that resolves it. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

const msgs = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: i }));

describe('memory bus metrics', () => {
  it('publish 7 counts 7 published; lag is 7 while the handler waits and 0 after the commit', async (t) => {
    const registry = createRegistry({ defaultMetrics: false });
    const bus = createBus({ kind: 'memory', partitions: 1 }, { metrics: registry });
    await bus.start();
    t.after(() => bus.stop());
    const g = gate();
    let got = 0;
    await bus.subscribe(TOPIC, { group: 'g' }, async (b) => {
      await g.wait;
      got += b.messages.length;
    });
    assert.equal(await readMetric(registry, BUS_METRICS.lag, { topic: TOPIC, group: 'g' }), 0);
    await bus.publish(TOPIC, msgs(7));
    assert.equal(await readMetric(registry, BUS_METRICS.published, { topic: TOPIC }), 7);
    assert.equal(await readMetric(registry, BUS_METRICS.lag, { topic: TOPIC, partition: 0, group: 'g' }), 7);
    assert.equal(await readMetric(registry, BUS_METRICS.consumed, { topic: TOPIC }), undefined);
    g.open();
    await until(async () => (await readMetric(registry, BUS_METRICS.consumed, { topic: TOPIC })) === 7);
    assert.equal(got, 7);
    assert.equal(await readMetric(registry, BUS_METRICS.lag, { topic: TOPIC, partition: 0, group: 'g' }), 0);
  });

  it('a rejected batch counts one handler error and logs a warning with the bus child bindings', async (t) => {
    const registry = createRegistry({ defaultMetrics: false });
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const bus = createMemoryBus({ partitions: 1, retryBackoffMs: 5 }, { metrics: registry, logger: createLogger({ level: 'warn' }, sink) });
    await bus.start();
    t.after(() => bus.stop());
    let calls = 0;
    await bus.subscribe(TOPIC, { group: 'g' }, async () => {
      if (++calls === 1) throw new Error('first delivery fails');
    });
    await bus.publish(TOPIC, msgs(3));
    await until(async () => (await readMetric(registry, BUS_METRICS.consumed, { topic: TOPIC })) === 3);
    assert.equal(await readMetric(registry, BUS_METRICS.handlerErrors, { topic: TOPIC }), 1);
    const warn = lines.find((l) => l.msg === 'bus handler rejected; batch will be redelivered');
    assert.ok(warn, 'warning logged');
    assert.equal(warn.component, 'bus');
    assert.equal(warn.adapter, 'memory');
    assert.equal(warn.topic, TOPIC);
  });

  it('retention evicting 3 unread messages counts 3 evicted (maxRetainedPerPartition 2, 5 published)', async (t) => {
    const registry = createRegistry({ defaultMetrics: false });
    const bus = createMemoryBus({ partitions: 1, maxRetainedPerPartition: 2 }, { metrics: registry });
    await bus.start();
    const g = gate();
    t.after(() => {
      g.open();
      return bus.stop();
    });
    await bus.subscribe(TOPIC, { group: 'slow' }, () => g.wait);
    await bus.publish(TOPIC, msgs(5));
    assert.equal(bus.stats().evicted, 3);
    assert.equal(await readMetric(registry, BUS_METRICS.evicted, { topic: TOPIC }), 3);
  });

  it('two buses on one registry share the metrics (no duplicate-name error) and add up', async (t) => {
    const registry = createRegistry({ defaultMetrics: false });
    const a = createMemoryBus({}, { metrics: registry });
    const b = createBus({ kind: 'memory' }, { metrics: registry });
    await a.start();
    await b.start();
    t.after(() => Promise.all([a.stop(), b.stop()]));
    await a.publish(TOPIC, msgs(2));
    await b.publish(TOPIC, msgs(3));
    assert.equal(await readMetric(registry, BUS_METRICS.published, { topic: TOPIC }), 5);
  });

  it('a stopped bus leaves no lag series behind', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const bus = createMemoryBus({ partitions: 2 }, { metrics: registry });
    await bus.start();
    await bus.subscribe(TOPIC, { group: 'g' }, async () => undefined);
    assert.equal(await readMetric(registry, BUS_METRICS.lag, { group: 'g' }), 0);
    await bus.stop();
    assert.equal(await readMetric(registry, BUS_METRICS.lag, { group: 'g' }), undefined);
  });
});
