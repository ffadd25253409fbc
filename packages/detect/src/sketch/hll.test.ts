// HyperLogLog against exact distinct counts: ports, IPv4 addresses and host:port pairs, from 10 to
// 1,000,000 items, with duplicates. Deterministic (fixed hash, no randomness): the bounds are three
// standard errors (1.04 / sqrt(4096) = 1.6 % each), which the estimator meets with room.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HyperLogLog, hash32 } from './hll.js';

function within(est: number, exact: number, hll: HyperLogLog): void {
  const err = Math.abs(est - exact) / exact;
  assert.ok(err <= 3 * hll.standardError, `estimate ${est} for ${exact} distinct: error ${(100 * err).toFixed(2)} % > ${(300 * hll.standardError).toFixed(2)} %`);
}

test('all 65,536 ports (added twice each): within 3 standard errors', () => {
  const h = new HyperLogLog();
  for (let k = 0; k < 2; k++) for (let p = 0; p < 65536; p++) h.add(p);
  within(h.estimate(), 65536, h);
});

test('IPv4 addresses of a /12 sampled, 10 .. 1,000,000 distinct: within 3 standard errors; small counts exact or nearly', () => {
  for (const n of [10, 100, 1000, 10_000, 100_000, 1_000_000]) {
    const h = new HyperLogLog();
    for (let i = 0; i < n; i++) h.add(`10.${16 + ((i >> 16) & 15)}.${(i >> 8) & 255}.${i & 255}`);
    for (let i = 0; i < n; i += 3) h.add(`10.${16 + ((i >> 16) & 15)}.${(i >> 8) & 255}.${i & 255}`);
    if (n <= 100) assert.ok(Math.abs(h.estimate() - n) <= 1, `${h.estimate()} for ${n}`);
    else within(h.estimate(), n, h);
  }
});

test('host:port pairs: within 3 standard errors; an empty sketch estimates 0; precision is checked', () => {
  const h = new HyperLogLog();
  let n = 0;
  for (let host = 0; host < 256; host++) for (let port = 1; port <= 200; port++, n++) h.add(`203.0.113.${host}|6|${port}`);
  within(h.estimate(), n, h);
  assert.equal(new HyperLogLog().estimate(), 0);
  assert.throws(() => new HyperLogLog(3), RangeError);
  assert.equal(hash32('a'), hash32('a'));
  assert.notEqual(hash32(1), hash32(2));
});
