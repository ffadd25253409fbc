import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FLOW_ERROR_CODES, FlowFormatError } from './errors.js';

test('every error code is documented in the README and every documented FLOE_FLOW_ code exists', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const documented = new Set(readme.match(/FLOE_FLOW_[A-Z_]+/g) ?? []);
  assert.deepEqual([...documented].sort(), Object.keys(FLOW_ERROR_CODES).sort());
});

test('FlowFormatError carries code, file and a message naming both', () => {
  const e = new FlowFormatError('FLOE_FLOW_UNKNOWN_FORMAT', 'looked at 3 lines', '/tmp/x.log');
  assert.equal(e.code, 'FLOE_FLOW_UNKNOWN_FORMAT');
  assert.equal(e.file, '/tmp/x.log');
  assert.equal(e.name, 'FlowFormatError');
  assert.match(e.message, /^FLOE_FLOW_UNKNOWN_FORMAT: .*\(\/tmp\/x\.log\): looked at 3 lines$/);
  assert.equal(new FlowFormatError('FLOE_FLOW_BAD_FORMAT_NAME').file, undefined);
});
