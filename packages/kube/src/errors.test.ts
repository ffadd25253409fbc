import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { KUBE_ERROR_CODES } from './errors.js';

it('every FLOE_KUBE_* code is documented in the README and every documented one exists', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const documented = new Set([...readme.matchAll(/`(FLOE_KUBE_[A-Z_]+)`/g)].map((m) => m[1]));
  assert.deepEqual([...documented].sort(), Object.values(KUBE_ERROR_CODES).sort());
});
