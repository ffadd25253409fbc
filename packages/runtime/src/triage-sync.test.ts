// Issue 8: the triage sync carries never-block entries and suppression rules from the store into
// a process's protected set and suppressor — at once on refresh (this process's API changed
// them), and by its periodic re-read when another process wrote them (two ClickHouse store
// instances on one database stand for the API process and the enforcer/processor process).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { pollUntil as until } from '@floe/kube-config/testing';
import { findingFixture } from '@floe/store/contract';
import { createLiveProtectedSet, createSuppressor } from '@floe/respond';
import { createClickHouseStore, createDuckDbStore, type Store } from '@floe/store';
import { createTriageSync } from './triage-sync.js';

const T0 = Date.parse('2025-03-01T12:00:00Z');
const URL_ = process.env.FLOE_CLICKHOUSE_URL ?? 'http://127.0.0.1:18123';
const REQUIRED = process.env.FLOE_REQUIRE_CLICKHOUSE === '1' || process.env.CI === 'true';

async function reachable(): Promise<boolean> {
  try {
    const res = await fetch(new URL('/ping', URL_), { signal: AbortSignal.timeout(2000) });
    return res.ok && (await res.text()).startsWith('Ok.');
  } catch {
    return false;
  }
}

it('refresh: the never-block list reaches the guard and the enforcer hook before it resolves; unchanged lists call nothing; expired rules are left out', async (t) => {
  const store = createDuckDbStore({ path: ':memory:' });
  await store.start();
  t.after(() => store.stop());
  const guard = createLiveProtectedSet({ neverBlock: ['10.96.0.1/32'] });
  const suppressor = createSuppressor([], { now: () => T0 });
  let enforcerCalls = 0;
  const sync = createTriageSync({ store, guard, suppressor, now: () => T0, onNeverBlockChanged: async () => void enforcerCalls++ });
  await sync.start();
  t.after(() => sync.stop());
  assert.equal(enforcerCalls, 0, 'nothing stored: nothing changed');

  await store.putNeverBlock({ cidr: '10.20.0.5/32', reason: 'backup', createdBy: 'alice', createdAt: T0 });
  await store.putSuppression({ id: 'sup-a', port: 22, expiresAt: T0 + 1000, reason: 'ssh jump host', createdBy: 'alice', createdAt: T0 });
  await store.putSuppression({ id: 'sup-old', port: 53, expiresAt: T0, reason: 'expired', createdBy: 'alice', createdAt: T0 - 1 });
  await sync.refresh();
  assert.equal(enforcerCalls, 1);
  assert.equal(guard.admit('10.20.0.0/24').outcome, 'split');
  assert.deepEqual(guard.runtimeNeverBlock(), [{ cidr: '10.20.0.5/32', label: 'never-block list (added at run time by alice: backup)' }]);
  assert.deepEqual(
    suppressor.rules().map((r) => r.id),
    ['sup-a'],
  );
  const ssh = findingFixture({ id: 'bf', detector: 'bruteforce.auth', evidence: { flows: 40, ports: [22] } });
  assert.equal(suppressor.check(ssh)?.ruleId, 'sup-a');

  await sync.refresh();
  assert.equal(enforcerCalls, 1, 'same list: the enforcer is not asked again');
  await store.deleteNeverBlock('10.20.0.5/32');
  await sync.refresh();
  assert.equal(enforcerCalls, 2);
  assert.equal(guard.admit('10.20.0.0/24').outcome, 'ok');
});

const up = await reachable();
it('another process wrote them (ClickHouse): the periodic re-read applies never-block entries and rules', {
  skip: !up && !REQUIRED ? `no ClickHouse at ${URL_}` : false,
}, async (t) => {
  assert.ok(up, `no ClickHouse at ${URL_} (FLOE_REQUIRE_CLICKHOUSE=1)`);
  const database = `floe_test_sync_${randomBytes(4).toString('hex')}`;
  const apiSide: Store = createClickHouseStore({ url: URL_, database, retentionDays: 3650 });
  const enforcerSide: Store = createClickHouseStore({ url: URL_, database, retentionDays: 3650 });
  await apiSide.start();
  await enforcerSide.start();
  const guard = createLiveProtectedSet({});
  const suppressor = createSuppressor([]);
  let enforcerCalls = 0;
  const sync = createTriageSync({ store: enforcerSide, guard, suppressor, intervalMs: 200, onNeverBlockChanged: async () => void enforcerCalls++ });
  await sync.start();
  t.after(async () => {
    await sync.stop();
    await Promise.all([apiSide.stop(), enforcerSide.stop()]);
    await fetch(URL_, { method: 'POST', body: `DROP DATABASE IF EXISTS ${database}` });
  });

  await apiSide.putNeverBlock({ cidr: '2001:db8::7/128', reason: 'monitoring', createdBy: 'bob', createdAt: Date.now() });
  await apiSide.putSuppression({ id: 'sup-x', detector: 'portscan.vertical', expiresAt: Date.now() + 3_600_000, reason: 'scanner', createdBy: 'bob', createdAt: Date.now() });
  await until('the other process to see the entry and the rule', 10_000, () => guard.admit('2001:db8::/64').outcome === 'split' && suppressor.rules().length === 1);
  assert.equal(enforcerCalls, 1);
  await apiSide.deleteNeverBlock('2001:db8::7/128');
  await until('the entry to go', 10_000, () => guard.admit('2001:db8::/64').outcome === 'ok');
  assert.equal(enforcerCalls, 2);
});
