import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedKeys } from './keyed.js';

describe('BoundedKeys (segmented LRU)', () => {
  it('evicts the least recently used probation key first; touch refreshes recency', () => {
    const m = new BoundedKeys<number>(3);
    m.set('a', 1);
    m.set('b', 2);
    m.set('c', 3);
    m.touch('a');
    const ev = m.set('d', 4);
    assert.deepEqual(ev, { key: 'b', value: 2, segment: 'probation' });
    assert.deepEqual(
      [...m.fromOldest('probation')].map(([k]) => k),
      ['c', 'a', 'd'],
    );
    assert.equal(m.evicted.probation, 1);
  });

  it('a protected key survives a spray of one-shot keys ten times the capacity', () => {
    const m = new BoundedKeys<number>(100);
    m.set('scanner', 0);
    m.promote('scanner');
    let evictedScanner = false;
    for (let i = 0; i < 1000; i++) if (m.set(`spoof-${i}`, i)?.key === 'scanner') evictedScanner = true;
    assert.equal(evictedScanner, false);
    assert.equal(m.get('scanner'), 0);
    assert.equal(m.size, 100);
    assert.equal(m.sizeOf('protected'), 1);
    assert.equal(m.evicted.probation, 901);
    assert.equal(m.evicted.protected, 0);
  });

  it('protected beyond its share demotes its least recent key to probation, which is then evicted first', () => {
    const m = new BoundedKeys<string>(4, 0.5);
    for (const k of ['p1', 'p2', 'p3']) {
      m.set(k, k);
      m.promote(k);
    }
    assert.equal(m.sizeOf('protected'), 2);
    assert.deepEqual(
      [...m.fromOldest('probation')].map(([k]) => k),
      ['p1'],
    );
    m.set('x', 'x');
    assert.equal(m.set('y', 'y')?.key, 'p1');
  });

  it('evicts from protected only when probation is empty; delete and replace keep the lists consistent', () => {
    const m = new BoundedKeys<number>(2, 1);
    m.set('a', 1);
    m.promote('a');
    m.set('b', 2);
    m.promote('b');
    assert.deepEqual(m.set('c', 3), { key: 'a', value: 1, segment: 'protected' });
    assert.equal(m.delete('b'), true);
    assert.equal(m.delete('b'), false);
    m.set('c', 30);
    assert.equal(m.get('c'), 30);
    assert.equal(m.size, 1);
    assert.deepEqual(m.oldest('protected'), undefined);
    m.clear();
    assert.equal(m.size, 0);
    assert.equal(m.oldest('probation'), undefined);
  });

  it('rejects a capacity below 1 and a share outside 0..1', () => {
    assert.throws(() => new BoundedKeys(0), RangeError);
    assert.throws(() => new BoundedKeys(10, 1.5), RangeError);
  });
});
