/**
 * The Bus contract (STYLE.md pattern 6): one suite every adapter passes. Run it from an
 * adapter's test file: `runBusContract('memory', (o) => createMemoryBus(o))`.
 * Topic names are unique per test, so a shared broker can run it repeatedly.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import type { Bus, BusBatch, BusMessage } from './bus.js';

/** What the suite asks of an adapter factory: treat `compactedTopics` as compacted topics. */
export interface BusContractOptions {
  compactedTopics: string[];
}

/** Per-message value the suite publishes. */
interface Seq {
  seq: number;
}

/** Waits until `cond()` is true, polling every 5 ms; fails after `timeoutMs`. */
async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function topicName(tag: string): string {
  return `contract.${tag}.${randomUUID().slice(0, 8)}`;
}

/** `n` messages per key, interleaved across keys: k0#0, k1#0, ..., k0#1, ... */
function interleaved(keys: string[], n: number): BusMessage<Seq>[] {
  const out: BusMessage<Seq>[] = [];
  for (let i = 0; i < n; i++) for (const key of keys) out.push({ key, value: { seq: i } });
  return out;
}

/** Sequences received per key, in arrival order. */
function byKey(msgs: BusMessage<Seq>[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const x of msgs) {
    const list = m.get(x.key) ?? [];
    list.push(x.value === null ? -1 : x.value.seq);
    m.set(x.key, list);
  }
  return m;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * Registers the Bus contract suite under `describe(name)`.
 *
 * @param makeBus returns a new, not yet started adapter; it must treat the topics in
 *   `opts.compactedTopics` as compacted (Kafka: `cleanup.policy=compact`).
 */
export function runBusContract(name: string, makeBus: (opts: BusContractOptions) => Bus | Promise<Bus>): void {
  describe(`Bus contract: ${name}`, () => {
    async function started(t: TestContext, compactedTopics: string[] = []): Promise<Bus> {
      const bus = await makeBus({ compactedTopics });
      await bus.start();
      t.after(() => bus.stop());
      return bus;
    }

    it('delivers every published message to a fromBeginning subscriber', async (t) => {
      const bus = await started(t);
      const topic = topicName('basic');
      const sent = interleaved(['a', 'b', 'c'], 10);
      await bus.publish(topic, sent);
      const got: BusMessage<Seq>[] = [];
      await bus.subscribe<Seq>(topic, { group: 'g', fromBeginning: true }, async (b) => {
        got.push(...b.messages);
      });
      await waitFor(() => got.length >= sent.length, '30 messages');
      assert.equal(got.length, sent.length);
      assert.deepEqual(byKey(got), byKey(sent));
    });

    it('a subscriber without fromBeginning gets messages published after it subscribed, not before', async (t) => {
      const bus = await started(t);
      const topic = topicName('latest');
      await bus.publish(topic, [{ key: 'old', value: { seq: 0 } }]);
      const got: BusMessage<Seq>[] = [];
      await bus.subscribe<Seq>(topic, { group: 'g' }, async (b) => {
        got.push(...b.messages);
      });
      await bus.publish(topic, [{ key: 'new', value: { seq: 1 } }]);
      await waitFor(() => got.length >= 1, 'the new message');
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(
        got.map(({ key, value }) => ({ key, value })),
        [{ key: 'new', value: { seq: 1 } }],
      );
      assert.match(got[0].offset ?? '', /^\d+$/, 'delivered messages carry their offset');
    });

    it('keeps order per key across publish calls, each key in one partition, batches of one partition', async (t) => {
      const bus = await started(t);
      const topic = topicName('order');
      const keys = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '2001:db8::1', '192.0.2.77'];
      const got: BusMessage<Seq>[] = [];
      const partitionOf = new Map<string, Set<number>>();
      await bus.subscribe<Seq>(topic, { group: 'g', fromBeginning: true }, async (b) => {
        for (const m of b.messages) {
          const s = partitionOf.get(m.key) ?? new Set<number>();
          s.add(b.partition);
          partitionOf.set(m.key, s);
        }
        got.push(...b.messages);
      });
      const all = interleaved(keys, 100);
      for (let i = 0; i < all.length; i += 37) await bus.publish(topic, all.slice(i, i + 37));
      await waitFor(() => got.length >= all.length, `${all.length} messages`);
      const seqs = byKey(got);
      for (const k of keys) {
        assert.deepEqual(seqs.get(k), range(100), `order of key ${k}`);
        assert.equal(partitionOf.get(k)?.size, 1, `key ${k} in one partition`);
      }
    });

    it('redelivers a batch whose handler rejected, without skipping or reordering', async (t) => {
      const bus = await started(t);
      const topic = topicName('redeliver');
      const sent = interleaved(['k1', 'k2'], 60);
      let failures = 0;
      let sawPoisonTimes = 0;
      const acked: BusMessage<Seq>[] = [];
      await bus.subscribe<Seq>(topic, { group: 'g', fromBeginning: true }, async (b) => {
        if (b.messages.some((m) => m.key === 'k1' && m.value?.seq === 30)) {
          sawPoisonTimes++;
          if (failures < 2) {
            failures++;
            throw new Error('handler failure (test)');
          }
        }
        acked.push(...b.messages);
      });
      await bus.publish(topic, sent);
      await waitFor(() => acked.length >= sent.length, 'all messages acknowledged', 10_000);
      assert.equal(failures, 2);
      assert.equal(sawPoisonTimes, 3, 'the failing batch is delivered twice more');
      const seqs = byKey(acked);
      assert.deepEqual(seqs.get('k1'), range(60));
      assert.deepEqual(seqs.get('k2'), range(60));
    });

    it('groups are independent: each sees every message, a failing group does not hold back another', async (t) => {
      const bus = await started(t);
      const topic = topicName('groups');
      const sent = interleaved(['x', 'y', 'z'], 20);
      let release = false;
      const a: BusMessage<Seq>[] = [];
      const b: BusMessage<Seq>[] = [];
      await bus.subscribe<Seq>(topic, { group: 'group-a', fromBeginning: true }, async (batch) => {
        if (!release) throw new Error('group-a not ready (test)');
        a.push(...batch.messages);
      });
      await bus.subscribe<Seq>(topic, { group: 'group-b', fromBeginning: true }, async (batch) => {
        b.push(...batch.messages);
      });
      await bus.publish(topic, sent);
      await waitFor(() => b.length >= sent.length, 'group-b to read everything');
      assert.equal(a.length, 0, 'group-a has acknowledged nothing yet');
      release = true;
      await waitFor(() => a.length >= sent.length, 'group-a to read everything', 10_000);
      assert.deepEqual(byKey(a), byKey(sent));
      assert.deepEqual(byKey(b), byKey(sent));
    });

    it('compacted topic read fromBeginning yields the last value per key; tombstones remove keys', async (t) => {
      const topic = topicName('compacted');
      const bus = await started(t, [topic]);
      await bus.publish<string>(topic, [
        { key: '203.0.113.7/32', value: 'v1' },
        { key: '198.51.100.0/24', value: 'v1' },
        { key: '203.0.113.7/32', value: 'v2' },
        { key: '2001:db8::/64', value: 'v1' },
      ]);
      await bus.publish<string>(topic, [
        { key: '198.51.100.0/24', value: null },
        { key: '203.0.113.7/32', value: 'v3' },
      ]);
      const fold = (state: Map<string, string>) => async (batch: BusBatch<string>) => {
        for (const m of batch.messages) {
          if (m.value === null) state.delete(m.key);
          else state.set(m.key, m.value);
        }
      };
      const first = new Map<string, string>();
      await bus.subscribe<string>(topic, { group: 'enforcer-1', fromBeginning: true }, fold(first));
      const expected = new Map([
        ['203.0.113.7/32', 'v3'],
        ['2001:db8::/64', 'v1'],
      ]);
      await waitFor(() => first.size === 2 && first.get('203.0.113.7/32') === 'v3', 'the compacted state');
      assert.deepEqual(first, expected);
      // A live tombstone reaches an existing reader.
      await bus.publish<string>(topic, [{ key: '2001:db8::/64', value: null }]);
      await waitFor(() => !first.has('2001:db8::/64'), 'the live tombstone');
      assert.deepEqual(first, new Map([['203.0.113.7/32', 'v3']]));
      // A new reader rebuilds the same state.
      const second = new Map<string, string>();
      await bus.subscribe<string>(topic, { group: 'enforcer-2', fromBeginning: true }, fold(second));
      await waitFor(() => second.size === 1, 'the rebuilt state');
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(second, new Map([['203.0.113.7/32', 'v3']]));
    });

    it('stop() waits for an in-flight handler, then publish rejects', async () => {
      const bus = await makeBus({ compactedTopics: [] });
      await bus.start();
      const topic = topicName('stop');
      let entered = false;
      let finished = false;
      await bus.subscribe(topic, { group: 'g', fromBeginning: true }, async () => {
        entered = true;
        await new Promise((r) => setTimeout(r, 100));
        finished = true;
      });
      await bus.publish(topic, [{ key: 'k', value: 1 }]);
      await waitFor(() => entered, 'the handler to start');
      await bus.stop();
      assert.equal(finished, true, 'handler finished before stop() resolved');
      await assert.rejects(bus.publish(topic, [{ key: 'k', value: 2 }]));
      await bus.stop(); // safe twice
    });

    it('stop() before start() and start() twice are safe', async () => {
      const idle = await makeBus({ compactedTopics: [] });
      await idle.stop();
      await idle.stop();
      const bus = await makeBus({ compactedTopics: [] });
      await bus.start();
      await bus.start();
      await bus.stop();
    });
  });
}
