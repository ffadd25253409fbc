// The Kafka adapter's floe_bus_* metrics against a real broker on 127.0.0.1:19092
// (deploy/dev/kafka.sh start). Skipped when no broker answers, unless FLOE_REQUIRE_KAFKA=1.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { createRegistry, readMetric, type Registry } from '@floe/telemetry';
import kafkajs from 'kafkajs';
import { createKafkaBus, type KafkaBus } from './kafka.js';
import { BUS_METRICS } from './metrics.js';

const BROKER = process.env.FLOE_KAFKA_BROKER ?? '127.0.0.1:19092';
const REQUIRED = process.env.FLOE_REQUIRE_KAFKA === '1';

function reachable(hostPort: string): Promise<boolean> {
  const i = hostPort.lastIndexOf(':');
  return new Promise((resolve) => {
    const s = connect({ host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

const up = await reachable(BROKER);
const skip = up || REQUIRED ? false : `no Kafka broker on ${BROKER} (FLOE_REQUIRE_KAFKA=1 makes this fail)`;
const unique = (tag: string): string => `test.kafka-metrics.${tag}.${randomUUID().slice(0, 8)}`;

async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function started(registry: Registry, partitions: number): Promise<KafkaBus> {
  const bus = createKafkaBus({ brokers: [BROKER], clientId: 'floe-test-metrics', partitions, retryBackoffMs: 50, maxRetryBackoffMs: 500, lagSampleMs: 0 }, { metrics: registry });
  await bus.start();
  return bus;
}

describe('kafka bus metrics on a real broker', { skip, timeout: 120_000 }, () => {
  it('publish 6 counts 6; lag sums to 6 while the handler waits, 0 once all are consumed and committed', async (t) => {
    const registry = createRegistry({ defaultMetrics: false });
    const bus = await started(registry, 2);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    t.after(() => {
      open();
      return bus.stop();
    });
    const topic = unique('lag');
    let got = 0;
    await bus.subscribe<number>(topic, { group: 'lag' }, async (b) => {
      await gate;
      got += b.messages.length;
    });
    await bus.publish(
      topic,
      Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: i })),
    );
    assert.equal(await readMetric(registry, BUS_METRICS.published, { topic }), 6);
    await bus.sampleLag();
    assert.equal(await readMetric(registry, BUS_METRICS.lag, { topic, group: 'lag' }), 6);
    open();
    await until(async () => (await readMetric(registry, BUS_METRICS.consumed, { topic })) === 6, '6 consumed');
    assert.equal(got, 6);
    assert.equal(await readMetric(registry, BUS_METRICS.lag, { topic, group: 'lag' }), 0, 'lag from the committed batches');
    await bus.sampleLag();
    assert.equal(await readMetric(registry, BUS_METRICS.lag, { topic, group: 'lag' }), 0, 'lag sampled from the broker');
    assert.equal(await readMetric(registry, BUS_METRICS.undecodable, { topic }), undefined);
  });

  it('a message whose value is not JSON counts one undecodable; the valid one behind it is consumed', async (t) => {
    const registry = createRegistry({ defaultMetrics: false });
    const bus = await started(registry, 1);
    t.after(() => bus.stop());
    const topic = unique('undecodable');
    await bus.publish(topic, [{ key: 'first', value: 1 }]);
    const producer = new kafkajs.Kafka({ brokers: [BROKER], logLevel: kafkajs.logLevel.NOTHING }).producer();
    await producer.connect();
    try {
      await producer.send({
        topic,
        messages: [
          { key: 'bad', value: '{not json' },
          { key: 'good', value: '2' },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    const values: unknown[] = [];
    await bus.subscribe(topic, { group: 'u', fromBeginning: true }, async (b) => {
      for (const m of b.messages) values.push(m.value);
    });
    await until(async () => (await readMetric(registry, BUS_METRICS.undecodable, { topic })) === 1, 'one undecodable');
    await until(async () => values.length >= 2, 'the valid messages');
    assert.deepEqual(values, [1, 2]);
  });
});
