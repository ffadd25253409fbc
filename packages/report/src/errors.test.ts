import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { REPORT_ERROR_CODES } from './errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test('every FLOE_REPORT_* code is in README.md, and the README names no code that is gone', () => {
  const codes = Object.values(REPORT_ERROR_CODES) as string[];
  for (const c of codes) assert.ok(readme.includes(`\`${c}\``), `README.md should document ${c}`);
  for (const m of readme.matchAll(/FLOE_REPORT_[A-Z_]+/g)) assert.ok(codes.includes(m[0]), `README.md names ${m[0]}, which errors.ts lacks`);
});
