import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReportTime } from './report.js';

const NOW = Date.parse('2026-12-02T03:00:00Z');

test('report times: RFC 3339, a date (UTC midnight), ms since epoch, now, and 90m/24h/7d back from now', () => {
  assert.equal(parseReportTime('--from', '2026-11-30T10:00:00Z', NOW), Date.parse('2026-11-30T10:00:00Z'));
  assert.equal(parseReportTime('--from', '2026-11-30T10:00:00.250+01:00', NOW), Date.parse('2026-11-30T09:00:00.250Z'));
  assert.equal(parseReportTime('--from', '2026-11-30', NOW), Date.parse('2026-11-30T00:00:00Z'));
  assert.equal(parseReportTime('--to', '1796040083756', NOW), 1796040083756);
  assert.equal(parseReportTime('--to', 'now', NOW), NOW);
  assert.equal(parseReportTime('--from', '90m', NOW), NOW - 90 * 60_000);
  assert.equal(parseReportTime('--from', '24h', NOW), NOW - 86_400_000);
  assert.equal(parseReportTime('--from', '7d', NOW), NOW - 7 * 86_400_000);
});

test('report times that are not times are usage errors naming the option (a local time without zone is refused)', () => {
  for (const bad of ['2026-13-01', '2026-11-30T10:00:00', 'yesterday', '', '-5h', '1e12', '2026-11-30 10:00Z', '\u001b[31m']) {
    assert.throws(() => parseReportTime('--from', bad, NOW), { code: 'FLOE_CLI_USAGE', message: /^report: --from .* is not a time/ }, JSON.stringify(bad));
  }
  assert.throws(
    () => parseReportTime('--to', '\u001b[31m', NOW),
    (e: Error) => !e.message.includes('\u001b'),
    'input is escaped in the message',
  );
});
