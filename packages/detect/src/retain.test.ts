// A string kept in detector state must not pin the text it was cut from (retain.ts): measured on
// V8's heap with a 16 MB parent string, once keeping a plain substring (the parent stays) and once
// the detached copy (the parent is freed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FlowRecord } from '@floe/flow';
import { detach, detachRecord } from './retain.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap growth (bytes) while `keep` holds what `cut` returns from a fresh 16 MB parent. */
function retained(cut: (parent: string) => string): { bytes: number; kept: string } {
  gc();
  const before = process.memoryUsage().heapUsed;
  let parent: string | undefined = `${'203.0.113.200 '.repeat(1 << 20)}${Math.random()}`;
  const kept = cut(parent);
  parent = undefined;
  gc();
  return { bytes: process.memoryUsage().heapUsed - before, kept };
}

test('a 13-character substring pins its 16 MB parent; its detached copy does not', () => {
  const sliced = retained((p) => p.slice(14, 27));
  const detached = retained((p) => detach(p.slice(14, 27)));
  assert.equal(sliced.kept, '203.0.113.200');
  assert.equal(detached.kept, '203.0.113.200');
  assert.ok(sliced.bytes > 8_000_000, `the substring kept ${sliced.bytes} bytes`);
  assert.ok(detached.bytes < 1_000_000, `the detached copy kept ${detached.bytes} bytes`);
});

test('detachRecord copies a record with equal fields', () => {
  const r: FlowRecord = {
    schema: 1,
    observedAt: 1,
    source: 'kernel-log',
    event: 'log',
    family: 6,
    protocol: 6,
    srcAddr: '2001:db8::1234:5678',
    dstAddr: '2001:db8::1',
    dstPort: 22,
    logPrefix: '[UFW BLOCK] ',
  };
  const c = detachRecord(r);
  assert.notEqual(c, r);
  assert.deepEqual(c, r);
});
