// Kafka adapter against a real broker on 127.0.0.1:19092 (deploy/dev/kafka.sh start).
// Skipped when no broker answers there, unless FLOE_REQUIRE_KAFKA=1 (then it fails).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { createRegistry, readMetric, type Registry } from '@floe/telemetry';
import kafkajs from 'kafkajs';
import type { BusBatch, BusMessage } from './bus.js';
import { runBusContract } from './contract.js';
import { BUS_ERROR_CODES } from './errors.js';
import { createKafkaBus, type KafkaBus, type KafkaBusOptions } from './kafka.js';
import { BUS_METRICS } from './metrics.js';

const BROKER = process.env.FLOE_KAFKA_BROKER ?? '127.0.0.1:19092';
const REQUIRED = process.env.FLOE_REQUIRE_KAFKA === '1';

function reachable(hostPort: string, timeoutMs = 1000): Promise<boolean> {
  const i = hostPort.lastIndexOf(':');
  return new Promise((resolve) => {
    const s = connect({ host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

const up = await reachable(BROKER);
const skip = up ? false : `no Kafka broker on ${BROKER} (deploy/dev/kafka.sh start; FLOE_REQUIRE_KAFKA=1 makes this fail)`;

/** Small timeouts so redelivery and stop are quick against a local broker. */
function busOptions(overrides: Partial<KafkaBusOptions> = {}): KafkaBusOptions {
  return { brokers: [BROKER], clientId: 'floe-test', partitions: 3, retryBackoffMs: 50, maxRetryBackoffMs: 1000, ...overrides };
}

async function startedBus(t: TestContext, overrides: Partial<KafkaBusOptions> = {}): Promise<KafkaBus> {
  const bus = createKafkaBus(busOptions(overrides));
  await bus.start();
  t.after(() => bus.stop());
  return bus;
}

const unique = (tag: string): string => `test.kafka.${tag}.${randomUUID().slice(0, 8)}`;

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Committed offsets of `group` on `topic` per partition, read with a separate kafkajs admin client. */
async function committed(group: string, topic: string): Promise<Map<number, number>> {
  const admin = new kafkajs.Kafka({ brokers: [BROKER], logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const res = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return new Map(res[0].partitions.map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

if (REQUIRED && !up) {
  it('Kafka is reachable (FLOE_REQUIRE_KAFKA=1)', () => {
    assert.fail(`FLOE_REQUIRE_KAFKA=1 but nothing listens on ${BROKER}; run deploy/dev/kafka.sh start`);
  });
}

describe('kafka bus: construction and lifecycle', () => {
  it('rejects empty brokers and a partition count below 1 without any I/O', () => {
    assert.throws(() => createKafkaBus({ brokers: [] }), { code: BUS_ERROR_CODES.BAD_ARGUMENT });
    assert.throws(() => createKafkaBus({ brokers: [BROKER], partitions: 0 }), { code: BUS_ERROR_CODES.BAD_ARGUMENT });
  });

  it('publish before start() is FLOE_BUS_NOT_STARTED; stop() before start() is safe twice', async () => {
    const bus = createKafkaBus(busOptions());
    await assert.rejects(bus.publish('t', [{ key: 'k', value: 1 }]), { code: BUS_ERROR_CODES.NOT_STARTED });
    await bus.stop();
    await bus.stop();
    await assert.rejects(bus.start(), { code: BUS_ERROR_CODES.STOPPED });
  });
});

describe('kafka bus on a real broker', { skip, timeout: 120_000 }, () => {
  it('round-trips keys, JSON values and a tombstone, and commits the end offset of each partition', async (t) => {
    const bus = await startedBus(t);
    const topic = unique('roundtrip');
    const sent: BusMessage<{ n: number; s: string } | null>[] = [
      { key: '203.0.113.7', value: { n: 1, s: 'ä ✓' } },
      { key: '2001:db8::1', value: { n: 2, s: '' } },
      { key: '203.0.113.7', value: null },
    ];
    await bus.publish(topic, sent);
    const got: BusBatch<{ n: number; s: string }>[] = [];
    await bus.subscribe<{ n: number; s: string }>(topic, { group: 'rt', fromBeginning: true }, async (b) => {
      got.push(b);
    });
    await waitFor(() => got.reduce((a, b) => a + b.messages.length, 0) >= 3, '3 messages');
    const flat = got.flatMap((b) => b.messages.map(({ key, value }) => ({ key, value })));
    assert.deepEqual(
      flat.filter((m) => m.key === '203.0.113.7'),
      [sent[0], sent[2]],
    );
    assert.deepEqual(
      flat.filter((m) => m.key === '2001:db8::1'),
      [sent[1]],
    );
    for (const b of got) assert.equal(b.topic, topic);
    await waitFor(() => bus.stats().delivered === 3, 'the commit');
    const offsets = await committed('rt', topic);
    const perPartition = new Map<number, number>();
    for (const b of got) perPartition.set(b.partition, (perPartition.get(b.partition) ?? 0) + b.messages.length);
    for (const [p, n] of perPartition) assert.equal(offsets.get(p), n, `committed offset of partition ${p}`);
    assert.equal(bus.stats().published, 3);
  });

  it('a rejected handler commits nothing: a new consumer of the group gets the same batch again', async (t) => {
    const topic = unique('redeliver');
    const first = createKafkaBus(busOptions({ partitions: 1 }));
    await first.start();
    t.after(() => first.stop());
    await first.publish(topic, [
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ]);
    let attempts = 0;
    await first.subscribe<number>(topic, { group: 'g', fromBeginning: true }, async () => {
      attempts++;
      throw new Error('handler failure (test)');
    });
    await waitFor(() => attempts >= 2, 'the batch to be delivered again after the first rejection');
    await first.stop();
    assert.ok(first.stats().handlerErrors >= 2);
    assert.equal(first.stats().delivered, 0);
    assert.equal((await committed('g', topic)).get(0), -1, 'no offset committed');

    // "Restart": a second bus in the same group starts where nothing was committed.
    const second = await startedBus(t, { partitions: 1 });
    const got: number[] = [];
    await second.subscribe<number>(topic, { group: 'g', fromBeginning: true }, async (b) => {
      for (const m of b.messages) got.push(m.value!);
    });
    await waitFor(() => got.length >= 2, 'redelivery to the second consumer');
    assert.deepEqual(got, [1, 2]);
    await waitFor(() => second.stats().delivered === 2, 'the commit');
    assert.equal((await committed('g', topic)).get(0), 2);

    // And a third one, after that commit, gets nothing old but what comes next.
    await second.stop();
    const third = await startedBus(t, { partitions: 1 });
    const later: number[] = [];
    await third.subscribe<number>(topic, { group: 'g', fromBeginning: true }, async (b) => {
      for (const m of b.messages) later.push(m.value!);
    });
    await third.publish(topic, [{ key: 'c', value: 3 }]);
    await waitFor(() => later.length >= 1, 'the new message');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(later, [3]);
  });

  it('creates topics with the configured partitions; compacted topics get cleanup.policy=compact, others delete', async (t) => {
    const compactedTopic = unique('decisions');
    const plainTopic = unique('flows');
    const bus = await startedBus(t, { partitions: 4, topics: [compactedTopic, plainTopic], compactedTopics: [compactedTopic] });
    assert.equal(await bus.topicConfig(compactedTopic, 'cleanup.policy'), 'compact');
    assert.equal(await bus.topicConfig(plainTopic, 'cleanup.policy'), 'delete');
    const admin = new kafkajs.Kafka({ brokers: [BROKER], logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
    t.after(() => admin.disconnect());
    const meta = await admin.fetchTopicMetadata({ topics: [compactedTopic, plainTopic] });
    for (const tm of meta.topics) assert.equal(tm.partitions.length, 4, `partitions of ${tm.name}`);
    // A tombstone is stored as a null value, which is what log compaction removes.
    await bus.publish(compactedTopic, [
      { key: '203.0.113.7/32', value: { action: 'block' } },
      { key: '203.0.113.7/32', value: null },
    ]);
    const consumer = new kafkajs.Kafka({ brokers: [BROKER], logLevel: kafkajs.logLevel.NOTHING }).consumer({ groupId: `raw-${randomUUID()}` });
    await consumer.connect();
    t.after(() => consumer.disconnect());
    await consumer.subscribe({ topic: compactedTopic, fromBeginning: true });
    const raw: { key: string; value: string | null; encoding: string | undefined }[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        raw.push({ key: String(message.key), value: message.value === null ? null : String(message.value), encoding: message.headers?.['floe-encoding']?.toString() });
      },
    });
    await waitFor(() => raw.length >= 2, 'the raw messages');
    assert.deepEqual(raw, [
      { key: '203.0.113.7/32', value: '{"action":"block"}', encoding: 'json' },
      { key: '203.0.113.7/32', value: null, encoding: 'json' },
    ]);
  });

  it('the same group can subscribe to two topics on one bus, each consumer gets only its topic', async (t) => {
    const bus = await startedBus(t);
    const ta = unique('two-a');
    const tb = unique('two-b');
    const got = new Map<string, string[]>([
      [ta, []],
      [tb, []],
    ]);
    await bus.subscribe<string>(ta, { group: 'shared', fromBeginning: true }, async (b) => {
      got.get(ta)!.push(...b.messages.map((m) => `${b.topic}:${m.value}`));
    });
    await bus.subscribe<string>(tb, { group: 'shared', fromBeginning: true }, async (b) => {
      got.get(tb)!.push(...b.messages.map((m) => `${b.topic}:${m.value}`));
    });
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    await bus.publish(
      ta,
      keys.map((k) => ({ key: k, value: 'a' })),
    );
    await bus.publish(
      tb,
      keys.map((k) => ({ key: k, value: 'b' })),
    );
    await waitFor(() => got.get(ta)!.length >= 12 && got.get(tb)!.length >= 12, 'both topics', 30_000);
    assert.deepEqual(
      got.get(ta),
      keys.map(() => `${ta}:a`),
    );
    assert.deepEqual(
      got.get(tb),
      keys.map(() => `${tb}:b`),
    );
  });

  it('topicPrefix isolates buses on one cluster: prefixed topics on the wire, logical names in batches, compaction kept', async (t) => {
    const logical = unique('prefixed');
    const prefix = `run-${randomUUID().slice(0, 8)}.`;
    const a = await startedBus(t, { topicPrefix: prefix, topics: [logical], compactedTopics: [logical] });
    const plain = await startedBus(t, { topics: [logical] });
    const gotA: string[] = [];
    const gotPlain: string[] = [];
    await a.subscribe<string>(logical, { group: 'g-prefixed', fromBeginning: true }, async (b) => {
      gotA.push(...b.messages.map((m) => `${b.topic}:${m.value}`));
    });
    await plain.subscribe<string>(logical, { group: 'g-plain', fromBeginning: true }, async (b) => {
      gotPlain.push(...b.messages.map((m) => `${b.topic}:${m.value}`));
    });
    await a.publish(logical, [{ key: 'k', value: 'from-prefixed' }]);
    await plain.publish(logical, [{ key: 'k', value: 'from-plain' }]);
    await waitFor(() => gotA.length >= 1 && gotPlain.length >= 1, 'one message on each bus');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(gotA, [`${logical}:from-prefixed`]);
    assert.deepEqual(gotPlain, [`${logical}:from-plain`]);
    assert.equal(await a.topicConfig(logical, 'cleanup.policy'), 'compact');
    assert.equal(await plain.topicConfig(logical, 'cleanup.policy'), 'delete');
    const admin = new kafkajs.Kafka({ brokers: [BROKER], logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
    t.after(() => admin.disconnect());
    const names = await admin.listTopics();
    assert.ok(names.includes(`${prefix}${logical}`), 'the prefixed topic exists on the broker');
    assert.throws(() => createKafkaBus(busOptions({ topicPrefix: 'bad prefix/' })), { code: BUS_ERROR_CODES.BAD_ARGUMENT });
  });
});

if (up) {
  describe('kafka adapter', { timeout: 180_000 }, () => {
    runBusContract('kafka', ({ compactedTopics }) => createKafkaBus(busOptions({ compactedTopics, topics: [] })));
  });
}

describe('kafka bus: consumer error policy on a real broker', { skip, timeout: 120_000 }, () => {
  it("a message that is not JSON goes to onUndecodable with its bytes and offset; the batch's other messages reach the handler", async (t) => {
    const bus = await startedBus(t);
    const topic = unique('undecodable');
    const raw = Buffer.from([0x7b, 0x6e, 0x6f, 0x74, 0x20, 0x6a, 0x73, 0x6f, 0x6e, 0xff, 0x00]); // "{not json" + 0xff 0x00
    const producer = new kafkajs.Kafka({ brokers: [BROKER], logLevel: kafkajs.logLevel.NOTHING }).producer();
    await producer.connect();
    t.after(() => producer.disconnect());
    await bus.publish(topic, [{ key: 'k', value: { n: 1 } }]);
    await producer.send({ topic, messages: [{ key: 'k', value: raw }] });
    await bus.publish(topic, [{ key: 'k', value: { n: 2 } }]);
    const got: unknown[] = [];
    const bad: Array<{ raw: Buffer; offset: string; key: string; error: string }> = [];
    await bus.subscribe(
      topic,
      {
        group: 'u',
        fromBeginning: true,
        onUndecodable: async (m) => {
          bad.push({ raw: Buffer.from(m.raw), offset: m.offset, key: m.key, error: m.error });
        },
      },
      async (b) => {
        for (const m of b.messages) got.push(m.value);
      },
    );
    await waitFor(() => got.length === 2 && bad.length === 1, 'two values and one undecodable message');
    assert.deepEqual(got, [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(bad[0].raw, raw);
    assert.deepEqual([bad[0].offset, bad[0].key], ['1', 'k']);
    assert.match(bad[0].error, /JSON/);
    await waitFor(() => bus.stats().undecodable === 1 && bus.stats().delivered === 2, 'counted and committed');
  });

  it('without onUndecodable the bus dead-letters the message on floe.deadletter.v1 with its original bytes', async (t) => {
    const prefix = `${unique('dl')}.`;
    const bus = await startedBus(t, { topicPrefix: prefix });
    const topic = 'plain.v1';
    const producer = new kafkajs.Kafka({ brokers: [BROKER], logLevel: kafkajs.logLevel.NOTHING }).producer();
    await producer.connect();
    t.after(() => producer.disconnect());
    await bus.subscribe(topic, { group: 'g' }, async () => undefined);
    await producer.send({ topic: `${prefix}${topic}`, messages: [{ key: 'x', value: 'nope' }] });
    const dl: Array<Record<string, unknown>> = [];
    await bus.subscribe<Record<string, unknown>>('floe.deadletter.v1', { group: 'watch', fromBeginning: true }, async (b) => {
      for (const m of b.messages) if (m.value) dl.push(m.value);
    });
    await waitFor(() => dl.length === 1, 'the dead letter');
    assert.equal(dl[0].reason, 'undecodable');
    assert.equal(dl[0].topic, topic);
    assert.equal(dl[0].key, 'x');
    assert.equal(Buffer.from(dl[0].payload as string, 'base64').toString(), 'nope');
  });

  it('a consumer whose handler keeps failing is given up after consumerRestarts: onDeath once, nothing committed', async (t) => {
    const bus = await startedBus(t, { consumerRestarts: 0, retryBackoffMs: 20, maxRetryBackoffMs: 50 });
    const topic = unique('death');
    await bus.publish(topic, [{ key: 'k', value: 1 }]);
    const deaths: Error[] = [];
    let calls = 0;
    await bus.subscribe(topic, { group: 'd', fromBeginning: true, onDeath: (e) => deaths.push(e) }, async () => {
      calls++;
      throw new Error('handler keeps failing (test)');
    });
    await waitFor(() => deaths.length === 1, 'the consumer to be given up', 60_000);
    assert.match(deaths[0].message, /crashed and will not restart/);
    assert.ok(calls >= 1);
    const offsets = await committed('d', topic);
    assert.ok(
      [...offsets.values()].every((o) => o <= 0),
      'no offset committed past the failing message',
    );
  });
});

// The adapter's floe_bus_* metrics on the same broker.
async function started(registry: Registry, partitions: number): Promise<KafkaBus> {
  const bus = createKafkaBus(busOptions({ clientId: 'floe-test-metrics', partitions, lagSampleMs: 0 }), { metrics: registry });
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
    const topic = unique('metrics-lag');
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
    await waitFor(async () => (await readMetric(registry, BUS_METRICS.consumed, { topic })) === 6, '6 consumed');
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
    const topic = unique('metrics-undecodable');
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
    await waitFor(async () => (await readMetric(registry, BUS_METRICS.undecodable, { topic })) === 1, 'one undecodable');
    await waitFor(async () => values.length >= 2, 'the valid messages');
    assert.deepEqual(values, [1, 2]);
  });
});
