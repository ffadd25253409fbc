import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createNftDriver, nftAvailable } from './driver.js';
import { NftError } from './errors.js';
import { parseNftJson } from './parse.js';
import { reconcile } from './reconcile.js';
import { canUseNetns, createNetns, deleteNetns, nftIn } from './netns-testutil.js';

// Real nftables in a namespace per test. Skipped only off-root outside CI.
const skip = !canUseNetns() && !process.env.CI ? 'needs root, nft and ip netns' : false;

function setup(t: { after(fn: () => void): void }) {
  const ns = createNetns();
  t.after(() => deleteNetns(ns));
  return { ns, driver: createNftDriver({ netns: ns }) };
}

const HOUR = 3_600_000;

test('nftAvailable says ok as root, and names the missing binary', { skip }, async () => {
  assert.deepEqual(await nftAvailable(), { ok: true });
  assert.deepEqual(await nftAvailable({ nftPath: '/nonexistent/nft' }), { ok: false, reason: 'nft not found' });
});

test('ensure twice is idempotent: one table, one copy of each rule, elements kept', { skip }, async (t) => {
  const { ns, driver } = setup(t);
  await driver.ensure();
  driver.add([{ target: '198.51.100.9/32', expiresAt: Date.now() + HOUR }]);
  await driver.commit();
  const first = nftIn(ns, ['list', 'table', 'inet', 'floe']);
  await driver.ensure();
  const second = nftIn(ns, ['list', 'table', 'inet', 'floe']);
  const rules = (s: string) => s.split('\n').filter((l) => l.includes('saddr @blocked'));
  assert.equal(rules(second).length, 8, second); // 4 sets in input and forward
  assert.deepEqual(rules(second), rules(first));
  assert.match(second, /hook input priority mangle/); // -150 is printed by its standard name
  assert.match(second, /hook forward priority mangle/);
  assert.deepEqual(
    (await driver.list()).map((e) => e.target),
    ['198.51.100.9/32'],
  );
});

test('add/commit then list returns v4 and v6 hosts and prefixes with their expiry', { skip }, async (t) => {
  const { driver } = setup(t);
  await driver.ensure();
  const now = Date.now();
  driver.add([
    { target: '203.0.113.7/32', expiresAt: now + 600_000 },
    { target: '10.1.2.3/16', expiresAt: now + 60_000 }, // host bits are cleared
    { target: '2001:DB8:0::1', expiresAt: now + 600_000 },
    { target: '2001:db8:1::/48', expiresAt: now + 600_000 },
  ]);
  assert.deepEqual(await driver.commit(), { added: 4, deleted: 0 });
  const listed = await driver.list();
  assert.deepEqual(listed.map((e) => e.target).sort(), ['10.1.0.0/16', '2001:db8:1::/48', '2001:db8::1/128', '203.0.113.7/32']);
  const p16 = listed.find((e) => e.target === '10.1.0.0/16');
  assert.ok(p16?.expiresInMs !== undefined && p16.expiresInMs > 55_000 && p16.expiresInMs <= 60_000, JSON.stringify(p16));
});

test('re-adding an element refreshes its timeout, shorter or longer', { skip }, async (t) => {
  const { driver } = setup(t);
  await driver.ensure();
  driver.add([{ target: '192.0.2.1/32', expiresAt: Date.now() + 900_000 }]);
  await driver.commit();
  driver.add([{ target: '192.0.2.1/32', expiresAt: Date.now() + 30_000 }]);
  await driver.commit();
  const [e] = await driver.list();
  assert.ok(e.expiresInMs !== undefined && e.expiresInMs <= 30_000 && e.expiresInMs > 25_000, JSON.stringify(e));
});

test('a 2 s timeout expires in the kernel', { skip }, async (t) => {
  const { driver } = setup(t);
  await driver.ensure();
  driver.add([
    { target: '192.0.2.2/32', expiresAt: Date.now() + 1500 }, // rounds up to 2 s
    { target: '192.0.2.3/32', expiresAt: Date.now() + HOUR },
  ]);
  await driver.commit();
  assert.equal((await driver.list()).length, 2);
  await sleep(3000);
  assert.deepEqual(
    (await driver.list()).map((e) => e.target),
    ['192.0.2.3/32'],
  );
});

test('delete removes present elements and ignores absent ones', { skip }, async (t) => {
  const { driver } = setup(t);
  await driver.ensure();
  driver.add([
    { target: '192.0.2.4/32', expiresAt: Date.now() + HOUR },
    { target: '2001:db8::4/128', expiresAt: Date.now() + HOUR },
  ]);
  await driver.commit();
  driver.delete(['192.0.2.4/32', '2001:db8::4', '192.0.2.99/32']);
  assert.deepEqual(await driver.commit(), { added: 0, deleted: 2 });
  assert.deepEqual(await driver.list(), []);
});

test('reconcile removes a stray element added by hand and re-adds one deleted by hand', { skip }, async (t) => {
  const { ns, driver } = setup(t);
  await driver.ensure();
  const now = Date.now();
  const intended = [
    { target: '192.0.2.10/32', expiresAt: now + HOUR },
    { target: '2001:db8:a::/64', expiresAt: now + HOUR },
  ];
  driver.add(intended);
  await driver.commit();
  nftIn(ns, ['add', 'element', 'inet', 'floe', 'blocked4net', '{ 198.51.100.0/24 timeout 1h }']);
  nftIn(ns, ['delete', 'element', 'inet', 'floe', 'blocked6net', '{ 2001:db8:a::/64 }']);
  const plan = reconcile(intended, await driver.list(), Date.now());
  assert.deepEqual(plan.stray, ['198.51.100.0/24']);
  assert.deepEqual(plan.missing, ['2001:db8:a::/64']);
  driver.delete(plan.toDelete);
  driver.add(plan.toAdd);
  assert.deepEqual(await driver.commit(), { added: 1, deleted: 1 });
  assert.deepEqual((await driver.list()).map((e) => e.target).sort(), ['192.0.2.10/32', '2001:db8:a::/64']);
  const again = reconcile(intended, await driver.list(), Date.now());
  assert.deepEqual([again.toAdd, again.toDelete], [[], []]);
});

test('a wider prefix replaces the narrower elements it covers in one commit', { skip }, async (t) => {
  const { driver } = setup(t);
  await driver.ensure();
  const now = Date.now();
  driver.add([
    { target: '192.0.2.5/32', expiresAt: now + HOUR },
    { target: '192.0.2.128/25', expiresAt: now + HOUR },
  ]);
  await driver.commit();
  // Adding the /24 alone fails: interval sets refuse overlaps; nft names the script line.
  driver.add([{ target: '192.0.2.0/24', expiresAt: now + HOUR }]);
  await assert.rejects(driver.commit(), (err: NftError) => {
    assert.equal(err.code, 'FLOE_NFT_APPLY_FAILED');
    assert.match(err.stderr ?? '', /overlaps/);
    assert.match(err.scriptLine ?? '', /^add element inet floe blocked4net \{ 192\.0\.2\.0\/24 timeout \d+s \}$/);
    assert.equal(err.line, 1);
    return true;
  });
  const intended = [
    { target: '192.0.2.5/32', expiresAt: now + HOUR },
    { target: '192.0.2.128/25', expiresAt: now + HOUR },
    { target: '192.0.2.0/24', expiresAt: now + HOUR },
  ];
  const plan = reconcile(intended, await driver.list(), Date.now());
  assert.deepEqual(plan.stray.sort(), ['192.0.2.128/25', '192.0.2.5/32']);
  driver.delete(plan.toDelete);
  driver.add(plan.toAdd);
  await driver.commit();
  assert.deepEqual(
    (await driver.list()).map((e) => e.target),
    ['192.0.2.0/24'],
  );
});

test('parses real nft -j output: plain, prefix, range and timeout-less elements', { skip }, async (t) => {
  const { ns, driver } = setup(t);
  await driver.ensure();
  nftIn(
    ns,
    ['-f', '-'],
    [
      'add element inet floe blocked4 { 10.0.0.1 }',
      'add element inet floe blocked4net { 10.2.0.0/16 timeout 1h, 10.3.0.1-10.3.0.5 }',
      'add element inet floe blocked6 { 2001:db8::1 timeout 10m }',
      'add element inet floe blocked6net { 2001:db8:1::/48 }',
    ].join('\n'),
  );
  const json = nftIn(ns, ['-j', 'list', 'table', 'inet', 'floe']);
  const els = parseNftJson(json);
  const byTarget = new Map(els.map((e) => [e.target, e]));
  assert.deepEqual([...byTarget.keys()].sort(), ['10.0.0.1/32', '10.2.0.0/16', '10.3.0.1-10.3.0.5', '2001:db8:1::/48', '2001:db8::1/128']);
  assert.equal(byTarget.get('10.2.0.0/16')?.timeoutMs, 3_600_000);
  assert.equal(byTarget.get('10.0.0.1/32')?.expiresInMs, undefined);
  assert.equal(byTarget.get('2001:db8::1/128')?.set, 'blocked6');
  // The range read back can be deleted by the driver.
  driver.delete(['10.3.0.1-10.3.0.5']);
  assert.deepEqual(await driver.commit(), { added: 0, deleted: 1 });
});

test('list before ensure fails with FLOE_NFT_LIST_FAILED; destroy is idempotent', { skip }, async (t) => {
  const { ns, driver } = setup(t);
  await assert.rejects(driver.list(), (err: NftError) => err.code === 'FLOE_NFT_LIST_FAILED');
  await driver.ensure();
  await driver.destroy();
  await driver.destroy();
  assert.doesNotMatch(nftIn(ns, ['list', 'tables']), /floe/);
});

test('a commit larger than chunkSize is split into transactions and all of it lands', { skip }, async (t) => {
  const ns = createNetns();
  t.after(() => deleteNetns(ns));
  const driver = createNftDriver({ netns: ns, chunkSize: 3000 });
  await driver.ensure();
  const host = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`;
  const entries = Array.from({ length: 10_000 }, (_, i) => ({ target: host(i), expiresAt: Date.now() + HOUR }));
  const t0 = performance.now();
  driver.add(entries);
  assert.deepEqual(await driver.commit(), { added: 10_000, deleted: 0 });
  const addMs = performance.now() - t0;
  const t1 = performance.now();
  const listed = await driver.list();
  const listMs = performance.now() - t1;
  assert.equal(listed.length, 10_000);
  // Refresh 1000 (delete+add) and delete 1000 in one commit.
  const t2 = performance.now();
  driver.add(entries.slice(0, 1000).map((e) => ({ ...e, expiresAt: Date.now() + 2 * HOUR })));
  driver.delete(entries.slice(1000, 2000).map((e) => e.target));
  assert.deepEqual(await driver.commit(), { added: 1000, deleted: 1000 });
  const churnMs = performance.now() - t2;
  const after = await driver.list();
  assert.equal(after.length, 9000);
  assert.ok(after.filter((e) => (e.expiresInMs ?? 0) > HOUR + 60_000).length === 1000);
  t.diagnostic(`10000 adds: ${addMs.toFixed(0)} ms; list: ${listMs.toFixed(0)} ms; 1000 refresh + 1000 delete: ${churnMs.toFixed(0)} ms`);
});
