// Run-time never-block entries (FloeNeverBlock objects): they join the protected set, are named
// in refusals, replace the previous run-time set, and never remove the options' own entries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RespondError } from './errors.js';
import { defaultResponderOptions } from './options.js';
import { createResponder } from './responder.js';

const NOW = Date.UTC(2026, 11, 2);
const req = (target: string) => ({ target, reason: 'test', user: 'analyst' });

test("setExtraNeverBlock protects its CIDRs from manual blocks until replaced; the options' list stays", () => {
  const r = createResponder({ ...defaultResponderOptions(), neverBlock: ['10.9.0.0/16'] });
  assert.equal(r.manualBlock(req('192.0.2.7'), NOW).kind, 'decision');
  r.release('192.0.2.7');

  r.setExtraNeverBlock([{ cidr: '192.0.2.0/24', label: 'FloeNeverBlock floe/office' }]);
  const o = r.manualBlock(req('192.0.2.7'), NOW);
  assert.equal(o.kind, 'refused');
  assert.equal(o.kind === 'refused' && o.protectedBy, 'never-block');
  assert.match(o.kind === 'refused' ? JSON.stringify(o.audit) : '', /FloeNeverBlock floe\/office/);

  r.setExtraNeverBlock([]);
  assert.equal(r.manualBlock(req('192.0.2.7'), NOW).kind, 'decision');
  assert.equal(r.manualBlock(req('10.9.1.1'), NOW).kind, 'refused', "the options' never-block list is not replaced");
});

test('setExtraNeverBlock refuses a bad CIDR and keeps the earlier set', () => {
  const r = createResponder(defaultResponderOptions());
  r.setExtraNeverBlock([{ cidr: '198.51.100.0/24', label: 'a' }]);
  assert.throws(() => r.setExtraNeverBlock([{ cidr: '198.51.100.0/33', label: 'b' }]), RespondError);
  assert.equal(r.manualBlock(req('198.51.100.1'), NOW).kind, 'refused');
});
