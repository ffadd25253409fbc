import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MODEL_ERROR_CODES } from './errors.js';

test('every error code is documented in README.md, and every documented code exists', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  for (const code of Object.keys(MODEL_ERROR_CODES)) assert.ok(readme.includes(code), `${code} missing from README`);
  for (const code of readme.match(/FLOE_MODEL_[A-Z_]+/g) ?? []) assert.ok(code in MODEL_ERROR_CODES, `${code} documented but not defined`);
});
