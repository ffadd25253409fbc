import assert from 'node:assert/strict';
import { ApiError } from './errors.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { compilePolicy, defaultPolicy } from '@floe/policy';
import { buildReport, openReportArchive, REPORT_FORMATS } from '@floe/report';
import { flowFixture } from '@floe/store/contract';
import { harness, T0 } from './test-harness.js';

/** Two kept reports (the second also as PDF only) over flows stored in the harness's store. */
async function kept(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'floe-api-reports-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const h = await harness(t, { api: { reports: dir } });
  await h.store.insertFlows([flowFixture({ observedAt: T0 }), flowFixture({ observedAt: T0 + 1, ctId: '2' })]);
  const archive = openReportArchive(dir);
  const policy = compilePolicy(defaultPolicy());
  const a = await buildReport(h.store, { from: T0 - 3_600_000, to: T0 + 3_600_000, policy, now: () => T0 + 10 });
  const b = await buildReport(h.store, { from: T0 + 3_600_000, to: T0 + 7_200_000, policy, now: () => T0 + 20 });
  await archive.save(a, REPORT_FORMATS);
  await archive.save(b, ['pdf'], 'hourly');
  return { h, dir, a, b };
}

test('GET /v1/reports lists kept reports newest first, in pages with a cursor', async (t) => {
  const { h, a, b } = await kept(t);
  const all = await h.app.inject({ method: 'GET', url: '/v1/reports' });
  assert.equal(all.statusCode, 200);
  const body = all.json();
  assert.equal(body.total, 2);
  assert.deepEqual(
    body.items.map((k: { id: string }) => k.id),
    [b.id, a.id],
  );
  assert.equal(body.items[0].schedule, 'hourly');
  assert.equal(body.items[0].completeness, 'no-data');
  assert.equal(body.items[1].completeness, 'complete');
  const p1 = (await h.app.inject({ method: 'GET', url: '/v1/reports?limit=1' })).json();
  assert.deepEqual(
    p1.items.map((k: { id: string }) => k.id),
    [b.id],
  );
  const p2 = (await h.app.inject({ method: 'GET', url: `/v1/reports?limit=1&cursor=${p1.next}` })).json();
  assert.deepEqual(
    p2.items.map((k: { id: string }) => k.id),
    [a.id],
  );
  assert.equal(p2.next, undefined);
  for (const bad of ['?limit=0', '?cursor=xyz', '?other=1']) {
    const r = await h.app.inject({ method: 'GET', url: `/v1/reports${bad}` });
    assert.equal(r.statusCode, 400, bad);
    assert.equal(r.json().code, 'FLOE_API_BAD_REQUEST', bad);
  }
});

test('GET /v1/reports/:id[.format] serves the kept bytes with their media type; unknown ids and formats are 404, bad ids 400', async (t) => {
  const { h, dir, a, b } = await kept(t);
  const json = await h.app.inject({ method: 'GET', url: `/v1/reports/${a.id}` });
  assert.equal(json.statusCode, 200);
  assert.match(String(json.headers['content-type']), /^application\/json/);
  assert.equal(json.body, readFileSync(join(dir, `${a.id}.json`), 'utf8'));
  assert.equal(json.json().figures.find((f: { key: string }) => f.key === 'flows.total').value, 2);
  for (const [ext, type] of [
    ['json', /^application\/json/],
    ['csv', /^text\/csv/],
    ['html', /^text\/html/],
    ['pdf', /^application\/pdf/],
  ] as const) {
    const r = await h.app.inject({ method: 'GET', url: `/v1/reports/${a.id}.${ext}` });
    assert.equal(r.statusCode, 200, ext);
    assert.match(String(r.headers['content-type']), type, ext);
    assert.ok(r.rawPayload.equals(readFileSync(join(dir, `${a.id}.${ext}`))), `${ext}: the kept bytes`);
  }
  assert.match(String((await h.app.inject({ method: 'GET', url: `/v1/reports/${a.id}.pdf` })).headers['content-disposition']), /attachment/);
  const notKept = await h.app.inject({ method: 'GET', url: `/v1/reports/${b.id}.csv` });
  assert.equal(notKept.statusCode, 404);
  assert.equal(notKept.json().code, 'FLOE_REPORT_NOT_FOUND');
  const unknown = await h.app.inject({ method: 'GET', url: `/v1/reports/${a.id.slice(0, -8)}00000000` });
  assert.equal(unknown.statusCode, 404);
  for (const bad of ['..%2F..%2Fetc%2Fpasswd', `${a.id}.exe`, 'index.json', `${a.id}.pdf.pdf`]) {
    const r = await h.app.inject({ method: 'GET', url: `/v1/reports/${bad}` });
    assert.equal(r.statusCode, 400, bad);
    assert.equal(r.json().code, 'FLOE_API_BAD_REQUEST', bad);
  }
});

test('the authorize option guards every report route with the viewer role', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-api-reports-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const asked: string[] = [];
  const h = await harness(t, {
    api: {
      reports: {
        archive: openReportArchive(dir),
        authorize: (role) => {
          asked.push(role);
          return async (req) => {
            if (req.headers.authorization !== 'Bearer viewer') throw new ApiError('FLOE_API_UNAUTHORIZED', 'no');
          };
        },
      },
    },
  });
  assert.equal((await h.app.inject({ method: 'GET', url: '/v1/reports' })).statusCode, 401);
  assert.equal((await h.app.inject({ method: 'GET', url: '/v1/reports/rpt-20250301T110000Z-20250301T130000Z-0123abcd.pdf' })).statusCode, 401);
  assert.deepEqual(asked, ['viewer'], 'the routes ask for the viewer role');
  const ok = await h.app.inject({ method: 'GET', url: '/v1/reports', headers: { authorization: 'Bearer viewer' } });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { items: [], total: 0 });
});
