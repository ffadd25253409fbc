import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryBus, TOPICS } from '@floe/bus';
import { createDryRunDriver, createNftDriver } from '@floe/nft';
import { createDuckDbStore } from '@floe/store';
import { Registry } from 'prom-client';
import { createEnforcer } from './enforcer.js';
import { decision, kernel, netns, nft, rootOk, skip } from './test-netns.js';

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await sleep(25);
  }
}

async function metric(reg: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return v?.value ?? NaN;
}

test('enforcer with real nft: publish → set holds; tombstone → removed; reconcile repairs; a later enforcer rebuilds', { skip }, async (t) => {
  const ns = netns(t);
  const bus = createMemoryBus();
  await bus.start();
  t.after(() => bus.stop());
  const reg = new Registry();
  const opts = { node: 'node-a', reconcileIntervalMs: 60_000, dryRun: false, nft: { netns: ns } };
  const enf = createEnforcer(opts, { bus, metrics: reg });
  t.after(() => enf.stop());
  await enf.start();
  assert.equal(enf.health().mode, 'nft');

  await bus.publish(TOPICS.decisions, [
    { key: '203.0.113.7/32', value: decision('203.0.113.7/32') },
    { key: '2001:db8:5::/48', value: decision('2001:db8:5::/48', { scope: ['node-a', 'node-b'] }) },
    { key: '198.51.100.1/32', value: decision('198.51.100.1/32', { dryRun: true }) },
    { key: '198.51.100.2/32', value: decision('198.51.100.2/32', { scope: ['node-b'] }) },
    { key: '198.51.100.3/32', value: decision('198.51.100.3/32', { expiresAt: Date.now() - 1 }) },
  ]);
  const want = ['2001:db8:5::/48', '203.0.113.7/32'];
  assert.deepEqual(
    await until(
      () => kernel(ns),
      (v) => v.length === 2,
    ),
    want,
  );

  await bus.publish(TOPICS.decisions, [{ key: '203.0.113.7/32', value: null }]);
  assert.deepEqual(
    await until(
      () => kernel(ns),
      (v) => v.length === 1,
    ),
    ['2001:db8:5::/48'],
  );
  await bus.publish(TOPICS.decisions, [{ key: '203.0.113.7/32', value: decision('203.0.113.7/32') }]);
  assert.deepEqual(
    await until(
      () => kernel(ns),
      (v) => v.length === 2,
    ),
    want,
  );

  // Hand edits: one block deleted, one stray added; the reconcile puts it right and counts.
  nft(ns, 'delete', 'element', 'inet', 'floe', 'blocked4', '{ 203.0.113.7 }');
  nft(ns, 'add', 'element', 'inet', 'floe', 'blocked4', '{ 192.0.2.66 timeout 1h }');
  await enf.reconcileNow();
  assert.deepEqual(await kernel(ns), want);
  assert.equal(await metric(reg, 'floe_enforcer_reconcile_fixes_total', { kind: 'missing' }), 1);
  assert.equal(await metric(reg, 'floe_enforcer_reconcile_fixes_total', { kind: 'stray' }), 1);
  assert.equal(await metric(reg, 'floe_enforcer_intended_entries'), 2);
  assert.equal(await metric(reg, 'floe_enforcer_enforced_ratio'), 1);
  const h = enf.health();
  assert.equal(h.ok, true);
  assert.equal(h.intended, 2);
  assert.equal(h.enforced, 2);
  assert.ok(h.lastReconcileAt !== undefined);

  // stop keeps the table; a new enforcer (other node, own group) rebuilds from the beginning.
  await enf.stop();
  await enf.stop();
  assert.deepEqual(await kernel(ns), want);
  await createNftDriver({ netns: ns }).destroy();
  const enf2 = createEnforcer({ ...opts, node: 'node-b' }, { bus });
  t.after(() => enf2.stop());
  await enf2.start();
  // node-b also enforces 198.51.100.2 (scoped to node-b); the tombstoned-then-republished /32 is back.
  assert.deepEqual(
    await until(
      () => kernel(ns),
      (v) => v.length === 3,
    ),
    ['198.51.100.2/32', ...want],
  );
});

test('overlapping decisions: the wider prefix is enforced, the narrower one returns when it expires', { skip }, async (t) => {
  const ns = netns(t);
  const bus = createMemoryBus();
  await bus.start();
  t.after(() => bus.stop());
  const enf = createEnforcer({ node: 'n', reconcileIntervalMs: 60_000, dryRun: false, nft: { netns: ns } }, { bus });
  t.after(() => enf.stop());
  await enf.start();
  await bus.publish(TOPICS.decisions, [
    { key: '10.9.0.0/24', value: decision('10.9.0.0/24') },
    { key: '10.9.0.0/16', value: decision('10.9.0.0/16', { expiresAt: Date.now() + 1500 }) },
  ]);
  assert.deepEqual(
    await until(
      () => kernel(ns),
      (v) => v.includes('10.9.0.0/16'),
    ),
    ['10.9.0.0/16'],
  );
  // The /16 expires (kernel timeout 2 s); the wake-up timer re-adds the /24.
  assert.deepEqual(
    await until(
      () => kernel(ns),
      (v) => v.includes('10.9.0.0/24'),
      6000,
    ),
    ['10.9.0.0/24'],
  );
});

test('rebuilds from the store before the bus delivers anything', { skip }, async (t) => {
  const ns = netns(t);
  const bus = createMemoryBus();
  await bus.start();
  t.after(() => bus.stop());
  const store = createDuckDbStore({ path: ':memory:' });
  await store.start();
  t.after(() => store.stop());
  const d = decision('192.0.2.77/32');
  await store.upsertDecision(d, { at: d.createdAt, target: d.target, change: 'create', origin: d.origin, reason: d.reason, decision: d });
  const enf = createEnforcer({ node: 'n', reconcileIntervalMs: 60_000, dryRun: false, nft: { netns: ns } }, { bus, store });
  t.after(() => enf.stop());
  await enf.start();
  assert.deepEqual(await kernel(ns), ['192.0.2.77/32']);
});

test('dryRun: true uses the dry-run driver and never touches nftables', async (t) => {
  const bus = createMemoryBus();
  await bus.start();
  t.after(() => bus.stop());
  const enf = createEnforcer({ node: 'n', reconcileIntervalMs: 60_000, dryRun: true, nft: { table: 'floe_dry_never' } }, { bus });
  t.after(() => enf.stop());
  assert.equal(enf.health().mode, 'dry-run');
  await enf.start();
  await bus.publish(TOPICS.decisions, [{ key: '203.0.113.9/32', value: decision('203.0.113.9/32') }]);
  await until(
    async () => enf.health().intended,
    (n) => n === 1,
  );
  await enf.reconcileNow();
  // nothing reaches the kernel in dry-run: enforced is 0, the driver's view is dryRunHeld
  assert.deepEqual(enf.health(), { ok: true, enforced: 0, intended: 1, dryRunHeld: 1, lastReconcileAt: enf.health().lastReconcileAt, mode: 'dry-run' });
  if (rootOk) assert.doesNotMatch(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }), /floe_dry_never/);
});

test('dry-run driver given in deps records one commit per bus batch', async (t) => {
  const bus = createMemoryBus({ partitions: 1 });
  await bus.start();
  t.after(() => bus.stop());
  const driver = createDryRunDriver();
  const enf = createEnforcer({ node: 'n', reconcileIntervalMs: 60_000, dryRun: false, nft: {} }, { bus, driver });
  t.after(() => enf.stop());
  await enf.start();
  await bus.publish(TOPICS.decisions, [
    { key: '203.0.113.1/32', value: decision('203.0.113.1/32') },
    { key: '203.0.113.2/32', value: decision('203.0.113.2/32') },
    { key: '203.0.113.3/32', value: decision('203.0.113.3/32') },
  ]);
  await until(
    async () => (await driver.list()).length,
    (n) => n === 3,
  );
  const commits = driver.calls.filter((c) => c.op === 'commit' && (c.result?.added ?? 0) > 0);
  assert.equal(commits.length, 1);
  assert.deepEqual(commits[0].result, { added: 3, deleted: 0 });
});

test('stop before start and twice is safe; start after stop does nothing', async () => {
  const bus = createMemoryBus();
  const enf = createEnforcer({ node: 'n', reconcileIntervalMs: 10, dryRun: true, nft: {} }, { bus });
  await enf.stop();
  await enf.stop();
  await enf.start();
  assert.equal(enf.health().ok, false);
});
