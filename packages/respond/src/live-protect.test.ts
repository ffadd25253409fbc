// Issue 8: the protected set whose run-time never-block entries change (the API's never-block list).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLiveProtectedSet } from './protect.js';
import { normalizeTarget } from './target.js';

test('run-time never-block entries: refused as new targets, carved out of stored ones, named by their label; a bad CIDR changes nothing; listeners run', () => {
  const live = createLiveProtectedSet({ neverBlock: ['10.96.0.1/32'] });
  let changes = 0;
  live.onChange(() => changes++);
  assert.equal(live.check(normalizeTarget('10.20.0.5')), undefined);
  assert.equal(live.admit('10.20.0.0/24').outcome, 'ok');

  live.setRuntimeNeverBlock([{ cidr: '10.20.0.5/32', label: 'never-block list (added at run time by alice: backup)' }]);
  assert.equal(changes, 1);
  const hit = live.check(normalizeTarget('10.20.0.5'));
  assert.equal(hit?.reason, 'never-block');
  assert.match(hit?.detail ?? '', /10\.20\.0\.5\/32 overlaps 10\.20\.0\.5\/32 \(never-block list \(added at run time by alice: backup\)\)/);
  const a = live.admit('10.20.0.0/24');
  assert.equal(a.outcome, 'split');
  assert.equal(a.pieces.length, 8);
  assert.ok(!a.pieces.includes('10.20.0.5/32'));
  assert.equal(live.check(normalizeTarget('10.96.0.1'))?.reason, 'never-block', 'the policy entries stay');

  assert.throws(() => live.setRuntimeNeverBlock([{ cidr: 'not-a-cidr', label: 'x' }]), { code: 'FLOE_RESPOND_BAD_OPTIONS' });
  assert.equal(changes, 1);
  assert.equal(live.admit('10.20.0.0/24').outcome, 'split', 'unchanged after a refused update');

  live.setRuntimeNeverBlock([]);
  assert.equal(live.admit('10.20.0.0/24').outcome, 'ok');
  assert.deepEqual(live.runtimeNeverBlock(), []);
});
