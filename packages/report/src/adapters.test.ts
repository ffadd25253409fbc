/**
 * The same report from both store adapters: the flows, findings, decisions and gaps of
 * report.test.ts stored in DuckDB and in ClickHouse (the dev endpoint on FLOE_CLICKHOUSE_URL,
 * default http://127.0.0.1:18123; skipped when unreachable unless FLOE_REQUIRE_CLICKHOUSE=1) give
 * equal reports — every figure, evidence group, series and control.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { createClickHouseStore, createDuckDbStore, type Store } from '@floe/store';
import { buildReport } from './index.js';
import { H, POLICY, seed, T } from './test-fixtures.js';

const URL_ = process.env.FLOE_CLICKHOUSE_URL ?? 'http://127.0.0.1:18123';
const REQUIRED = process.env.FLOE_REQUIRE_CLICKHOUSE === '1';
const up = await fetch(new URL('/ping', URL_), { signal: AbortSignal.timeout(2000) })
  .then(async (r) => r.ok && (await r.text()).startsWith('Ok.'))
  .catch(() => false);
if (!up && REQUIRED) throw new Error(`no ClickHouse at ${URL_} (FLOE_REQUIRE_CLICKHOUSE=1); start it with deploy/dev/clickhouse.sh start`);

test('DuckDB and ClickHouse give the same report for the same data', { skip: !up && `no ClickHouse at ${URL_}` }, async () => {
  const database = `floe_report_test_${randomBytes(4).toString('hex')}`;
  after(async () => {
    const admin = createClient({ url: URL_ });
    await admin.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db: database } });
    await admin.close();
  });
  const stores: Store[] = [createDuckDbStore({ path: ':memory:' }), createClickHouseStore({ url: URL_, database, retentionDays: 3650 })];
  const reports = [];
  for (const s of stores) {
    await s.start();
    try {
      await seed(s);
      for (const scope of [{}, { namespaces: ['pay'] }, { zones: ['dmz'] }]) {
        const r = await buildReport(s, { from: T, to: T + 2 * H, policy: POLICY, scope, now: () => T + 3 * H });
        reports.push({ ...r, id: '' });
      }
    } finally {
      await s.stop();
    }
  }
  const [duck, ch] = [reports.slice(0, 3), reports.slice(3)];
  assert.equal(duck[0].traffic.flows, 40);
  assert.deepEqual(ch, duck);
});
