import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPolicy, defaultPolicy, parsePolicy } from './index.js';

test('issue 6: respond.minPrefixLength and respond.blockOnAcceptedLogs: defaults, values, errors with line and field', () => {
  assert.deepEqual(defaultPolicy().respond.minPrefixLength, { ipv4: 16, ipv6: 32 });
  assert.equal(defaultPolicy().respond.blockOnAcceptedLogs, false);
  const p = parsePolicy('version: 1\nrespond:\n  minPrefixLength: { ipv4: 24 }\n  blockOnAcceptedLogs: true\n', 'p.yaml');
  assert.deepEqual(p.respond.minPrefixLength, { ipv4: 24, ipv6: 32 });
  assert.equal(p.respond.blockOnAcceptedLogs, true);
  const text = ['version: 1', 'respond:', '  minPrefixLength:', '    ipv4: 33', '    ipv6: -1', '    ipv5: 8', '  blockOnAcceptedLogs: "yes"'].join('\n');
  const issues = checkPolicy(text, 'p.yaml').map((i) => `${i.line} ${i.field}`);
  assert.deepEqual(issues, ['4 respond.minPrefixLength.ipv4', '5 respond.minPrefixLength.ipv6', '6 respond.minPrefixLength.ipv5', '7 respond.blockOnAcceptedLogs']);
});
