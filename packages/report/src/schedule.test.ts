import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compilePolicy, defaultPolicy } from '@floe/policy';
import { createDuckDbStore } from '@floe/store';
import { flowFixture } from '@floe/store/contract';
import { readMetric, Registry } from '@floe/telemetry';
import { checkSchedules, createReportScheduler, openReportArchive, type ReportSchedule } from './index.js';

const NOW = Date.parse('2026-11-30T12:34:56Z');
const base: ReportSchedule = { name: 'hourly', everyMs: 3_600_000, rangeMs: 3_600_000, formats: ['json', 'csv'], namespaces: [], zones: [] };

test('schedules are checked: one of cron and everyMs, a valid 5-field cron, ranges, names, formats', () => {
  checkSchedules([base, { ...base, name: 'daily', everyMs: undefined, cron: '0 6 * * *' }]);
  for (const [s, msg] of [
    [{ ...base, cron: '0 6 * * *' }, /exactly one of cron and everyMs/],
    [{ ...base, everyMs: undefined }, /exactly one of cron and everyMs/],
    [{ ...base, everyMs: undefined, cron: '61 * * * *' }, /cron "61 \* \* \* \*"/],
    [{ ...base, everyMs: undefined, cron: '0 0 6 * * *' }, /5 fields/],
    [{ ...base, everyMs: 59_999 }, /everyMs/],
    [{ ...base, rangeMs: 0 }, /rangeMs/],
    [{ ...base, name: '../x' }, /name/],
    [{ ...base, formats: [] }, /formats/],
  ] as const) {
    assert.throws(() => checkSchedules([s as ReportSchedule]), { code: 'FLOE_REPORT_BAD_SCHEDULE', message: msg });
  }
  assert.throws(() => checkSchedules([base, base]), { code: 'FLOE_REPORT_BAD_SCHEDULE', message: /twice/ });
});

test('an interval schedule keeps a report of the period before each run, named by the schedule; runs are counted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-schedule-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = createDuckDbStore({ path: ':memory:' });
  await store.start();
  t.after(() => store.stop());
  await store.insertFlows([flowFixture({ observedAt: NOW - 60_000 }), flowFixture({ observedAt: NOW - 2 * 3_600_000, ctId: 'old' })]);
  const archive = openReportArchive(dir);
  const metrics = new Registry();
  t.mock.timers.enable({ apis: ['setInterval'] });
  const s = createReportScheduler([base], { store, policy: compilePolicy(defaultPolicy()), archive, metrics, cluster: 'prod', now: () => NOW });
  s.start();
  t.mock.timers.tick(3_600_000);
  await s.stop();
  const kept = await archive.list();
  assert.equal(kept.length, 1);
  assert.equal(kept[0].schedule, 'hourly');
  assert.deepEqual(kept[0].formats, ['json', 'csv']);
  assert.equal(kept[0].to, Date.parse('2026-11-30T12:34:00Z'), 'the period ends at the run, rounded down to the minute');
  assert.equal(kept[0].from, kept[0].to - 3_600_000);
  assert.equal(kept[0].scope.cluster, 'prod');
  const report = JSON.parse((await archive.read(kept[0].id, 'json')).toString());
  assert.equal(report.traffic.flows, 1, 'only the flow of the last hour');
  assert.equal(await readMetric(metrics, 'floe_report_runs_total', { schedule: 'hourly', result: 'ok' }), 1);
  await assert.rejects(s.runNow('nope'), { code: 'FLOE_REPORT_BAD_SCHEDULE' });
  await s.stop(); // twice is safe
});
