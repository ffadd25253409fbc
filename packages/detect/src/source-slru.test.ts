// SourceSlru (source-slru.ts) must behave exactly as BoundedKeys (keyed.ts), the segmented LRU it
// replaces for the first-sighting gate: same members, same recency order, same evictions, for
// IPv4 keys (hash table), IPv6 keys (Map fallback) and both mixed, across growth, collisions and
// removals by eviction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedKeys } from './keyed.js';
import { SourceSlru } from './source-slru.js';
import { NOT_IPV4 } from './v4.js';

/** A deterministic pseudo-random generator (LCG), uniform in [0, 1). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/** Source `i` of a key space: IPv4 (even i) or IPv6 (odd i) when `mixed`, else IPv4. */
function addr(i: number, mixed: boolean): string {
  if (mixed && i % 2 === 1) return `2001:db8::${i.toString(16)}`;
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/** Touch / insert / promote the same sources in both, comparing every answer and the final state. */
function compare(capacity: number, share: number, keySpace: number, ops: number, mixed: boolean, seed: number): SourceSlru {
  const rnd = lcg(seed);
  const model = new BoundedKeys<number>(capacity, share);
  const slru = new SourceSlru(capacity, share);
  const slotOf = new Map<string, number>();
  for (let n = 0; n < ops; n++) {
    const a = addr(Math.floor(rnd() * keySpace), mixed);
    const hit = model.touch(a) !== undefined;
    const slot = slru.touch(a);
    assert.equal(slot >= 0, hit, `op ${n}: touch ${a}`);
    if (!hit) {
      const ev = model.add(a, n);
      if (ev !== undefined) slotOf.delete(ev.key);
      slotOf.set(a, slru.insert(a));
    } else {
      assert.equal(slot, slotOf.get(a), `op ${n}: slot of ${a}`);
      if (rnd() < 0.3) {
        model.promote(a);
        slru.promote(slot);
      }
    }
  }
  assert.equal(slru.size, model.size);
  assert.deepEqual(slru.evicted, model.evicted);
  for (const seg of ['probation', 'protected'] as const) {
    assert.equal(slru.sizeOf(seg), model.sizeOf(seg), seg);
    assert.deepEqual(
      [...slru.fromOldest(seg)].map((s) => slru.addressOf(s)),
      [...model.fromOldest(seg)].map(([k]) => k),
      `${seg} order`,
    );
  }
  return slru;
}

test('SourceSlru: same answers and order as BoundedKeys, IPv4 keys, small capacity (eviction, collisions)', () => {
  compare(10, 0.8, 40, 5000, false, 1);
  compare(7, 0.5, 30, 5000, false, 2);
  compare(1, 0.8, 3, 500, false, 3);
});

test('SourceSlru: same answers and order as BoundedKeys, IPv4 and IPv6 mixed', () => {
  compare(50, 0.8, 200, 20_000, true, 4);
});

test('SourceSlru: same answers and order as BoundedKeys across growth (past the first 1024 slots) and churn', () => {
  const s = compare(3000, 0.8, 5000, 40_000, false, 5);
  assert.ok(s.slots > 1024, 'grown');
  compare(2000, 0.2, 2500, 20_000, true, 6);
});

test('SourceSlru: every held IPv4 source stays findable after many evictions (removal shifts back, no tombstones)', () => {
  const s = new SourceSlru(100, 0.8);
  for (let i = 0; i < 65_536; i++) {
    const a = `192.0.${(i >> 8) & 255}.${i & 255}`;
    if (s.touch(a) < 0) s.insert(a);
  }
  assert.equal(s.size, 100);
  assert.equal(s.evicted.probation, 65_536 - 100);
  // The last 100 distinct sources (of 65,536) are the ones held, each findable at its slot.
  const held = new Set([...s.fromOldest('probation')].map((x) => s.addressOf(x)));
  for (let i = 65_536 - 100; i < 65_536; i++) {
    const a = `192.0.${(i >> 8) & 255}.${i & 255}`;
    assert.ok(held.has(a), a);
    assert.ok(s.touch(a) >= 0, a);
  }
  assert.equal(s.touch('192.0.0.1'), -1);
});

test('SourceSlru: a promoted source survives a spray of one-shot sources a hundred times the capacity', () => {
  const s = new SourceSlru(100, 0.8);
  s.touch('203.0.113.7');
  const scanner = s.insert('203.0.113.7');
  s.promote(scanner);
  for (let i = 0; i < 10_000; i++) {
    const a = `198.18.${(i >> 8) & 255}.${i & 255}`;
    if (s.touch(a) < 0) s.insert(a);
  }
  assert.equal(s.touch('203.0.113.7'), scanner);
  assert.ok(s.isProtected(scanner));
  assert.deepEqual(s.evicted, { probation: 10_000 - 99, protected: 0 });
});

test('SourceSlru: addresses back from slots (IPv4 rebuilt, IPv6 as given), bitsOf', () => {
  const s = new SourceSlru(4, 0.8);
  for (const a of ['0.0.0.0', '255.255.255.255', '2001:db8::1', 'not-an-address']) {
    assert.equal(s.touch(a), -1);
    const slot = s.insert(a);
    assert.equal(s.addressOf(slot), a);
    assert.equal(s.touch(a), slot);
  }
  assert.equal(s.bitsOf(s.touch('255.255.255.255')), -1);
  assert.equal(s.bitsOf(s.touch('0.0.0.0')), 0);
  assert.equal(s.bitsOf(s.touch('2001:db8::1')), NOT_IPV4);
  assert.equal(s.touch('010.0.0.0'), -1, 'a non-canonical text is another key');
});

test('SourceSlru: grows its slots by doubling and calls onGrow before handing out a new slot', () => {
  const grown: number[] = [];
  const s = new SourceSlru(5000, 0.8, (n) => grown.push(n));
  let max = 0;
  for (let i = 0; i < 5000; i++) {
    const a = `172.16.${(i >> 8) & 255}.${i & 255}`;
    s.touch(a);
    const slot = s.insert(a);
    max = Math.max(max, slot);
    assert.ok(slot < s.slots);
  }
  assert.deepEqual(grown, [2048, 4096, 5002]);
  assert.equal(max, 5001);
});

test('SourceSlru: refuses a capacity below 1 or a share outside 0..1', () => {
  assert.throws(() => new SourceSlru(0, 0.8), RangeError);
  assert.throws(() => new SourceSlru(1.5, 0.8), RangeError);
  assert.throws(() => new SourceSlru(10, 1.1), RangeError);
  assert.throws(() => new SourceSlru(10, -0.1), RangeError);
});
