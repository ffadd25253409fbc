import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RecentIds } from './recent-ids.js';

describe('RecentIds', () => {
  it('answers false for a repeat and forgets the oldest id past its limit', () => {
    const ids = new RecentIds(3);
    assert.equal(ids.remember('a'), true);
    assert.equal(ids.remember('a'), false);
    assert.equal(ids.remember('b'), true);
    assert.equal(ids.remember('c'), true);
    assert.equal(ids.remember('d'), true); // forgets a
    assert.equal(ids.size, 3);
    assert.equal(ids.remember('b'), false);
    assert.equal(ids.remember('a'), true); // a was forgotten; now forgets b
    assert.equal(ids.remember('c'), false);
    assert.equal(ids.remember('b'), true);
  });

  it('keeps exactly the last limit ids over many more than it holds', () => {
    const limit = 1000;
    const ids = new RecentIds(limit);
    const n = 250_000;
    for (let i = 0; i < n; i++) assert.equal(ids.remember(`id${i}`), true);
    assert.equal(ids.size, limit);
    for (let i = n - limit; i < n; i++) assert.equal(ids.remember(`id${i}`), false, `id${i} is among the last ${limit}`);
    assert.equal(ids.remember(`id${n - limit - 1}`), true);
  });

  it('refuses a limit that is not a positive integer', () => {
    assert.throws(() => new RecentIds(0), RangeError);
    assert.throws(() => new RecentIds(1.5), RangeError);
  });
});
