import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { signBody, verifySignature } from './sign.js';
import { slackEscape, slackPayload } from './sinks/slack.js';
import { testFinding } from './test-finding.js';

const secret = 'a-webhook-secret-of-32-characters';

test('sign: v1 is the hex HMAC-SHA256 of "t.body" (computed here independently)', () => {
  const body = '{"a":1}';
  const h = signBody(secret, body, 1767225600);
  assert.equal(h, `t=1767225600,v1=${createHmac('sha256', secret).update(`1767225600.${body}`).digest('hex')}`);
});

test('sign: verify accepts within the tolerance, rejects just over it, a changed body and a malformed header', () => {
  const body = '{"a":1}';
  const h = signBody(secret, body, 1000);
  assert.deepEqual(verifySignature(secret, h, body, 1300), { ok: true }, 'exactly 300 s old');
  assert.deepEqual(verifySignature(secret, h, body, 1301), { ok: false, reason: 'stale' }, '301 s old');
  assert.deepEqual(verifySignature(secret, h, '{"a":2}', 1000), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verifySignature('another-secret-0000000', h, body, 1000), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verifySignature(secret, 't=1000', body, 1000), { ok: false, reason: 'malformed' });
  assert.deepEqual(verifySignature(secret, undefined, body, 1000), { ok: false, reason: 'malformed' });
});

test('slack: mrkdwn escaping of & < > stops mentions and links from input', () => {
  assert.equal(slackEscape('<!channel> & <http://x|y>'), '&lt;!channel&gt; &amp; &lt;http://x|y&gt;');
  const p = slackPayload({ route: 'r', groupKey: 'g', status: 'firing', at: 0, findings: [testFinding({ summary: 'hi <!here>' })] });
  assert.ok(!JSON.stringify(p).includes('<!here>'));
  assert.ok(JSON.stringify(p).includes('&lt;!here&gt;'));
});
