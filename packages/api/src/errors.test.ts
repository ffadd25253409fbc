import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { RESPOND_ERROR_CODES } from '@floe/respond';
import { STORE_ERROR_CODES, StoreError } from '@floe/store';
import { ApiError, ERROR_CATALOGUE, NOT_API_ERRORS, problem, toErrorBody, type ErrorCode } from './errors.js';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
const [table, rest] = doc.split('## Codes that never reach the API');

test('docs/errors.md documents every catalogued code with its status, and no code that is gone', () => {
  const rows = new Map([...table.matchAll(/^\| `(FLOE_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]));
  for (const [code, e] of Object.entries(ERROR_CATALOGUE)) assert.equal(rows.get(code), e.status, `docs/errors.md: ${code} should be listed with ${e.status}`);
  for (const code of rows.keys()) assert.ok(code in ERROR_CATALOGUE, `docs/errors.md documents ${code}, which the catalogue lacks`);
  const notApi = new Set(rest.match(/FLOE_[A-Z_]+/g) ?? []);
  assert.deepEqual([...notApi].sort(), Object.keys(NOT_API_ERRORS).sort(), 'the "never reach the API" list and NOT_API_ERRORS differ');
});

test('every code of @floe/respond and @floe/store is catalogued or listed as never reaching the API', () => {
  const domain = [...Object.keys(RESPOND_ERROR_CODES), ...Object.values(STORE_ERROR_CODES)];
  for (const code of domain)
    assert.ok(code in ERROR_CATALOGUE || code in NOT_API_ERRORS, `${code} is in no catalogue: add it to ERROR_CATALOGUE (and docs/errors.md) or to NOT_API_ERRORS`);
  for (const code of Object.keys(NOT_API_ERRORS)) assert.ok(!(code in ERROR_CATALOGUE), `${code} is both catalogued and listed as never reaching the API`);
  // the statuses @floe/respond itself states agree with the catalogue's
  for (const [code, e] of Object.entries(RESPOND_ERROR_CODES)) if (code in ERROR_CATALOGUE) assert.equal(ERROR_CATALOGUE[code as ErrorCode].status, e.status, code);
});

test('toErrorBody: catalogued codes keep code, status and message; uncatalogued errors are undefined (500 by the handler)', () => {
  for (const [code, e] of Object.entries(ERROR_CATALOGUE)) {
    const err = Object.assign(new Error(`m ${code}`), { code });
    assert.deepEqual(toErrorBody(err), { type: `urn:floe:problem:${code}`, title: e.title, status: e.status, code, detail: `m ${code}` });
  }
  assert.deepEqual(toErrorBody(new StoreError('FLOE_STORE_BAD_CURSOR', 'bad')), problem('FLOE_STORE_BAD_CURSOR', 'bad'));
  assert.deepEqual(toErrorBody(new ApiError('FLOE_RESPOND_ALREADY_BLOCKED', 'kept', { extra: { decision: { target: 'x' } } })), {
    type: 'urn:floe:problem:FLOE_RESPOND_ALREADY_BLOCKED',
    title: 'Already blocked',
    status: 409,
    code: 'FLOE_RESPOND_ALREADY_BLOCKED',
    detail: 'kept',
    decision: { target: 'x' },
  });
  for (const err of [
    new Error('boom'),
    Object.assign(new Error('x'), { code: 'FLOE_BUS_STOPPED' }),
    Object.assign(new Error('x'), { code: 'FLOE_RESPOND_BAD_OPTIONS' }),
    Object.assign(new Error('x'), { code: 'ECONNRESET', statusCode: 400 }),
    'a string',
    undefined,
    null,
    42,
  ]) {
    assert.equal(toErrorBody(err), undefined, String(err));
  }
  // fastify's own client errors
  assert.equal(toErrorBody(Object.assign(new Error('too big'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }))?.code, 'FLOE_API_PAYLOAD_TOO_LARGE');
  assert.equal(toErrorBody(Object.assign(new Error('bad type'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }))?.code, 'FLOE_API_UNSUPPORTED_MEDIA_TYPE');
  assert.equal(toErrorBody(Object.assign(new Error('bad json'), { code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 }))?.code, 'FLOE_API_BAD_REQUEST');
  assert.equal(toErrorBody(Object.assign(new Error('server'), { code: 'FST_ERR_SOMETHING', statusCode: 500 })), undefined);
});
