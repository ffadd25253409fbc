import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RESPOND_ERROR_CODES } from './errors.js';

test('every error code is documented in README.md with its status, and every documented code exists', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  for (const [code, { status }] of Object.entries(RESPOND_ERROR_CODES)) {
    assert.match(readme, new RegExp(`${code}\` \\(${status}`), `${code} (${status}) missing from README`);
  }
  for (const code of readme.match(/FLOE_RESPOND_[A-Z_]+/g) ?? []) assert.ok(code in RESPOND_ERROR_CODES, `${code} documented but not defined`);
});
