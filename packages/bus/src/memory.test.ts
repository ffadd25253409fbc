import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOPICS, type BusMessage } from './bus.js';
import { runBusContract } from './contract.js';
import { createBus } from './factory.js';
import { createMemoryBus, fnv1a32, partitionFor } from './memory.js';

runBusContract('memory', (o) => createMemoryBus({ partitions: 4, compactedTopics: o.compactedTopics, retryBackoffMs: 10 }));

async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) assert.fail('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('memory bus', () => {
  it('FNV-1a 32 matches the reference test vectors ("" "a" "foobar")', () => {
    // Vectors from the FNV reference code (isthe.com/chongo/tech/comp/fnv, test_fnv.c).
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
    assert.equal(partitionFor('foobar', 4), 0xbf9cf968 % 4);
  });

  it('compacted read delivers exactly one message per live key and no tombstone', async (t) => {
    const bus = createMemoryBus({ partitions: 1 });
    await bus.start();
    t.after(() => bus.stop());
    const msgs: BusMessage<number>[] = [];
    for (let i = 0; i < 50; i++) msgs.push({ key: `10.0.${i % 5}.0/24`, value: i });
    msgs.push({ key: '10.0.0.0/24', value: null });
    await bus.publish(TOPICS.decisions, msgs);
    const got: BusMessage<number>[] = [];
    await bus.subscribe<number>(TOPICS.decisions, { group: 'e', fromBeginning: true }, async (b) => {
      got.push(...b.messages);
    });
    await until(() => got.length >= 4);
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(
      got.map((m) => [m.key, m.value]),
      [
        ['10.0.1.0/24', 46],
        ['10.0.2.0/24', 47],
        ['10.0.3.0/24', 48],
        ['10.0.4.0/24', 49],
      ],
    );
  });

  it('a compacted topic keeps memory bounded: 5 000 updates of 5 keys, read by a group, leave a handful of messages', async (t) => {
    const bus = createMemoryBus({ partitions: 1 });
    await bus.start();
    t.after(() => bus.stop());
    let read = 0;
    await bus.subscribe(TOPICS.decisions, { group: 'enforcer', fromBeginning: true }, async (b) => {
      read += b.messages.length;
    });
    for (let i = 0; i < 5000; i += 100) {
      await bus.publish(
        TOPICS.decisions,
        Array.from({ length: 100 }, (_, j) => ({ key: `192.0.2.${(i + j) % 5}/32`, value: i + j })),
      );
      await until(() => read >= i + 100);
    }
    assert.equal(read, 5000, 'the live group saw every update');
    assert.ok(bus.stats().retained < 1100, `retained ${bus.stats().retained}`);
    const state = new Map<string, unknown>();
    await bus.subscribe(TOPICS.decisions, { group: 'late', fromBeginning: true }, async (b) => {
      for (const m of b.messages) state.set(m.key, m.value);
    });
    await until(() => state.size === 5 && state.get('192.0.2.4/32') === 4999);
    assert.deepEqual([...state.entries()].sort(), [
      ['192.0.2.0/32', 4995],
      ['192.0.2.1/32', 4996],
      ['192.0.2.2/32', 4997],
      ['192.0.2.3/32', 4998],
      ['192.0.2.4/32', 4999],
    ]);
  });

  it('a non-compacted topic read fromBeginning delivers every message, superseded ones too', async (t) => {
    const bus = createMemoryBus({ partitions: 1 });
    await bus.start();
    t.after(() => bus.stop());
    await bus.publish('plain', [
      { key: 'k', value: 1 },
      { key: 'k', value: 2 },
      { key: 'k', value: null },
    ]);
    const got: unknown[] = [];
    await bus.subscribe('plain', { group: 'g', fromBeginning: true }, async (b) => {
      got.push(...b.messages.map((m) => m.value));
    });
    await until(() => got.length >= 3);
    assert.deepEqual(got, [1, 2, null]);
  });

  it('hands at most maxBatch messages of one partition per call (1001 messages, maxBatch 500 -> 500, 500, 1)', async (t) => {
    const bus = createMemoryBus({ partitions: 1, maxBatch: 500 });
    await bus.start();
    t.after(() => bus.stop());
    await bus.publish(
      'flows',
      Array.from({ length: 1001 }, (_, i) => ({ key: 'src', value: i })),
    );
    const sizes: number[] = [];
    await bus.subscribe('flows', { group: 'p', fromBeginning: true }, async (b) => {
      sizes.push(b.messages.length);
    });
    await until(() => sizes.reduce((a, b) => a + b, 0) >= 1001);
    assert.deepEqual(sizes, [500, 500, 1]);
  });

  it('counts redeliveries and frees messages every group has committed', async (t) => {
    const bus = createMemoryBus({ partitions: 2, retryBackoffMs: 5 });
    await bus.start();
    t.after(() => bus.stop());
    let fail = 3;
    let n = 0;
    await bus.subscribe('t', { group: 'g' }, async (b) => {
      if (fail > 0) {
        fail--;
        throw new Error('test failure');
      }
      n += b.messages.length;
    });
    await bus.publish('t', [{ key: 'a', value: 1 }]);
    await until(() => n === 1);
    const s = bus.stats();
    assert.equal(s.redeliveries, 3);
    assert.equal(s.published, 1);
    assert.equal(s.delivered, 1);
    assert.equal(s.retained, 0);
  });

  it('retention keeps at most maxRetainedPerPartition messages and counts unread evictions', async (t) => {
    const bus = createMemoryBus({ partitions: 1, maxRetainedPerPartition: 10 });
    await bus.start();
    t.after(() => bus.stop());
    await bus.publish(
      't',
      Array.from({ length: 25 }, (_, i) => ({ key: 'k', value: i })),
    );
    assert.equal(bus.stats().retained, 10);
    // No group yet: nothing was "unread by a group", the partition end is the bound.
    assert.equal(bus.stats().evicted, 0);
    const got: unknown[] = [];
    await bus.subscribe('t', { group: 'g', fromBeginning: true }, async (b) => {
      got.push(...b.messages.map((m) => m.value));
    });
    await until(() => got.length >= 10);
    assert.deepEqual(
      got,
      Array.from({ length: 10 }, (_, i) => 15 + i),
    );
  });

  it('rejects publish before start, a duplicate group, and bad options with FLOE_BUS_ codes', async (t) => {
    const bus = createMemoryBus();
    await assert.rejects(bus.publish('t', []), { code: 'FLOE_BUS_NOT_STARTED' });
    await bus.start();
    t.after(() => bus.stop());
    await bus.subscribe('t', { group: 'g' }, async () => {});
    await assert.rejects(
      bus.subscribe('t', { group: 'g' }, async () => {}),
      { code: 'FLOE_BUS_DUPLICATE_GROUP' },
    );
    await assert.rejects(bus.publish('', []), { code: 'FLOE_BUS_BAD_ARGUMENT' });
    assert.throws(() => createMemoryBus({ partitions: 0 }), { code: 'FLOE_BUS_BAD_ARGUMENT' });
  });
});

describe('createBus', () => {
  it('creates the memory bus', async () => {
    const bus = createBus({ kind: 'memory', partitions: 2 });
    assert.equal(bus.name, 'memory');
    await bus.start();
    await bus.stop();
  });

  it('creates the Kafka bus, inert until start()', () => {
    const bus = createBus({ kind: 'kafka', brokers: ['127.0.0.1:9'] });
    assert.equal(bus.name, 'kafka');
  });

  it('rejects an unknown kind', () => {
    assert.throws(() => createBus({ kind: 'rabbit' } as never), /unknown bus kind "rabbit"/);
  });
});
