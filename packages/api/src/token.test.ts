import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { isLoopbackHost, resolveApiToken } from './token.js';

const TOKEN = 'floe-test-token-0123456789abcdef';
const base = { host: '127.0.0.1', allowUnauthenticated: false };

test('isLoopbackHost: 127.0.0.0/8, ::1, mapped 127/8 and localhost only', () => {
  for (const h of ['127.0.0.1', '127.255.0.9', '::1', '[::1]', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '126.255.255.255', '::2', '::ffff:10.0.0.1', 'floe-api', 'localhost.example.org', ''])
    assert.equal(isLoopbackHost(h), false, h);
});

test('resolveApiToken: non-loopback host without a token is refused (FLOE_CONFIG_API_UNAUTHENTICATED)', () => {
  for (const host of ['0.0.0.0', '::', '192.0.2.10']) {
    assert.throws(
      () => resolveApiToken({ ...base, host }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'FLOE_CONFIG_API_UNAUTHENTICATED');
        assert.match(e.message, new RegExp(`api\\.host ${host.replace(/\./g, '\\.')} is not a loopback address`));
        assert.match(e.message, /allowUnauthenticated: true/);
        return true;
      },
    );
  }
  // The explicit opt-out, a token, or a loopback host each make it start.
  assert.equal(resolveApiToken({ ...base, host: '0.0.0.0', allowUnauthenticated: true }), undefined);
  assert.equal(resolveApiToken({ ...base, host: '0.0.0.0', token: TOKEN }), TOKEN);
  assert.equal(resolveApiToken({ ...base, host: '::1' }), undefined);
});

test('resolveApiToken: tokenFile is read and trimmed; unreadable, short or doubled tokens are config errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-token-'));
  const file = join(dir, 'token');
  writeFileSync(file, `  ${TOKEN}\n`);
  assert.equal(resolveApiToken({ ...base, host: '0.0.0.0', tokenFile: file }), TOKEN);
  const code = (c: string, re: RegExp) => (e: Error & { code?: string }) => {
    assert.equal(e.code, c);
    assert.match(e.message, re);
    return true;
  };
  assert.throws(() => resolveApiToken({ ...base, tokenFile: join(dir, 'missing') }), code('FLOE_CONFIG_API_TOKEN', /cannot read/));
  writeFileSync(file, 'short\n');
  assert.throws(() => resolveApiToken({ ...base, tokenFile: file }), code('FLOE_CONFIG_API_TOKEN', /16\.\.4096 printable ASCII/));
  writeFileSync(file, 'has a space in the middle of it\n');
  assert.throws(() => resolveApiToken({ ...base, tokenFile: file }), code('FLOE_CONFIG_API_TOKEN', /without spaces/));
  assert.throws(() => resolveApiToken({ ...base, token: TOKEN, tokenFile: file }), code('FLOE_CONFIG_API_TOKEN', /both set/));
});
