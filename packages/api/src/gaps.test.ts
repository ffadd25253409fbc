// GET /v1/gaps over the real DuckDB store (issue 6: data gaps stored with the flows' time, so a
// report can state the completeness of its data).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataGap } from '@floe/flow';
import { gapFixture } from '@floe/store/contract';
import { harness, T0 } from './test-harness.js';
import { gapOut } from './times.js';

const silent: DataGap = { schema: 1, node: 'node-a', source: 'conntrack', kind: 'silent', from: T0 - 60_000, to: T0, count: 0 };
const enobufs: DataGap = { schema: 1, node: 'node-b', source: 'conntrack', kind: 'enobufs', from: T0 + 1000, to: T0 + 2000, count: 3 };
const rejected = gapFixture({ from: T0 + 5000, to: T0 + 5000, count: 2 });

interface GapsBody {
  items: DataGap[];
  next?: string;
  total: number;
  summary: { gaps: number; enobufsWarnings: number; rejectedLines: number; silentMs: number; groups: unknown[] };
}

describe('GET /v1/gaps', () => {
  it('returns the gaps overlapping the period (RFC 3339 or ms) and a summary of the whole period', async (t) => {
    const h = await harness(t);
    await h.store.insertGaps([silent, enobufs, rejected]);
    const get = async (qs: string): Promise<GapsBody> => {
      const r = await h.app.inject({ method: 'GET', url: `/v1/gaps${qs}` });
      assert.equal(r.statusCode, 200, r.body);
      return r.json() as GapsBody;
    };
    const all = await get('');
    assert.deepEqual(all.items, [rejected, enobufs, silent].map(gapOut), 'RFC 3339 times out');
    assert.deepEqual([all.total, all.summary.gaps, all.summary.enobufsWarnings, all.summary.rejectedLines, all.summary.silentMs], [3, 3, 3, 2, 60_000]);

    // the last 30 s of the silence and the ENOBUFS burst; RFC 3339 and ms alike
    const part = await get(`?from=${new Date(T0 - 30_000).toISOString()}&to=${T0 + 5000}`);
    assert.deepEqual(part.items, [enobufs, silent].map(gapOut));
    assert.equal(part.summary.silentMs, 30_000, 'silence clipped to the period');
    assert.deepEqual(part, await get(`?from=${T0 - 30_000}&to=${T0 + 5000}`));

    assert.deepEqual((await get('?kind=enobufs')).items, [gapOut(enobufs)]);
    assert.deepEqual((await get('?node=node-b&source=conntrack')).items, [gapOut(enobufs)]);

    // pages: the summary is of the whole period on every page
    const p1 = await get('?limit=2');
    assert.equal(p1.items.length, 2);
    assert.ok(p1.next);
    const p2 = await get(`?limit=2&cursor=${p1.next}`);
    assert.deepEqual(p2.items, [gapOut(silent)]);
    assert.equal(p2.next, undefined);
    assert.deepEqual(p2.summary, p1.summary);
  });

  it('refuses bad queries with catalogued 400s, never 5xx', async (t) => {
    const h = await harness(t);
    const cases: Array<[string, string]> = [
      ['?kind=lost', 'FLOE_API_BAD_REQUEST'],
      ['?from=yesterday', 'FLOE_API_BAD_REQUEST'],
      ['?from=2025-02-30T00:00:00Z', 'FLOE_API_BAD_REQUEST'],
      ['?limit=0', 'FLOE_API_BAD_REQUEST'],
      ['?limit=1001', 'FLOE_API_BAD_REQUEST'],
      ['?node=%1B%5B2J', 'FLOE_API_BAD_REQUEST'],
      ['?source=a%E2%80%AEb', 'FLOE_API_BAD_REQUEST'],
      ['?nodes=x', 'FLOE_API_BAD_REQUEST'],
      ['?node=a&node=b', 'FLOE_API_BAD_REQUEST'],
      [`?cursor=${Buffer.from(JSON.stringify({ t: 'f', s: 1, k: 'x' })).toString('base64url')}`, 'FLOE_STORE_BAD_CURSOR'],
      [`?cursor=${Buffer.from(JSON.stringify({ t: 'g', s: 1e300, k: 'x' })).toString('base64url')}`, 'FLOE_STORE_BAD_CURSOR'],
    ];
    for (const [qs, code] of cases) {
      const r = await h.app.inject({ method: 'GET', url: `/v1/gaps${qs}` });
      assert.equal(r.statusCode, 400, `${qs}: ${r.body}`);
      assert.equal((r.json() as { code: string }).code, code, qs);
    }
  });
});
