import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RotatingBloom } from './index.js';

test('bloom: sizing for a million pairs at 1 %: 7 hashes, 512-bit blocks, about 1.4 MB', () => {
  const b = new RotatingBloom(1_000_000);
  assert.equal(b.perGeneration, 500_000);
  assert.equal(b.hashes, 7);
  assert.equal(b.bits % 512, 0);
  assert.ok(b.bytes > 1_400_000 && b.bytes < 1_480_000, String(b.bytes));
});

test('bloom: no false negatives, and at most 2 % false positives over both generations', () => {
  const b = new RotatingBloom(20_000);
  // 15 000 keys: one rotation (10 000), so both generations hold keys.
  let early = 0; // keys answered "seen" before they were added: false positives while filling
  for (let i = 0; i < 15_000; i++) if (b.testAndAdd(`10.1.${i >> 8}.${i & 255}>10.2.0.1>6/${i % 1000}`)) early++;
  assert.ok(early / 15_000 <= 0.02, `false positives while filling: ${early}`);
  assert.equal(b.rotations, 1);
  for (let i = 0; i < 15_000; i++) assert.ok(b.has(`10.1.${i >> 8}.${i & 255}>10.2.0.1>6/${i % 1000}`));
  let fp = 0;
  for (let i = 0; i < 20_000; i++) if (b.has(`172.16.${i >> 8}.${i & 255}>10.2.0.9>17/53`)) fp++;
  assert.ok(fp / 20_000 <= 0.02, `false-positive rate ${fp / 20_000}`);
});

test('bloom: rotation forgets the oldest generation, and a key in use is carried into the new one', () => {
  const b = new RotatingBloom(200);
  b.testAndAdd('keep');
  for (let i = 0; i < 99; i++) b.testAndAdd(`a${i}`); // fills generation 1 (100 keys): rotates
  assert.equal(b.rotations, 1);
  assert.equal(b.testAndAdd('keep'), true, 'found in the old generation, copied into the current one');
  for (let i = 0; i < 100; i++) b.testAndAdd(`b${i}`); // rotates again: generation 1 is dropped
  assert.equal(b.rotations, 2);
  assert.ok(b.has('keep'));
  let left = 0;
  for (let i = 0; i < 99; i++) if (b.has(`a${i}`)) left++;
  assert.ok(left <= 5, `${left} of the dropped generation still answer (false positives only)`);
});

test('bloom: bad sizes are refused', () => {
  assert.throws(() => new RotatingBloom(1), RangeError);
  assert.throws(() => new RotatingBloom(100, 0), RangeError);
});
