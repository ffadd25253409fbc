/**
 * Issue 3, "What it must show" (3): an enforcer started after the decisions were made rebuilds
 * the same nftables set from the compacted floe.decisions.v1 topic.
 *
 * The api process (services/api/dist/main.js) takes manual blocks (POST /v1/decisions) and an
 * unblock (DELETE, a tombstone) while NO enforcer runs; its decision writer stores them in a
 * fresh ClickHouse database and publishes them to Kafka. Then an enforcer process with a fresh
 * consumer group (its node name is this run's) starts in a test network namespace. It is given
 * no ClickHouse store (store.kind duckdb: the enforcer opens a store only on ClickHouse), so the
 * topic alone is what it rebuilds from. Its set must equal the api's active decisions; a
 * tombstone and a new block published while it runs change the set.
 *
 * Skipped when not root, ip/nft missing, a main not built or a server not answering, unless
 * CI=true, FLOE_REQUIRE_KAFKA=1 or FLOE_REQUIRE_CLICKHOUSE=1 (then it fails with the reason).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from '../helpers/netns.js';
import { nftBlockedTargets, scaleOutBlocker, scaleOutRequired, ScaleOutRun, until } from '../helpers/scaleout-roles.js';

const blocker = await scaleOutBlocker(['ip', 'nft']);
const required = scaleOutRequired();

interface DecisionItem {
  target: string;
  dryRun: boolean;
  /** RFC 3339. */
  expiresAt: string;
}

test('scale-out: an enforcer started after the decisions rebuilds the nftables set from the compacted topic; a tombstone removes an element', {
  skip: required ? false : blocker,
  timeout: 120_000,
}, async (t) => {
  if (blocker) assert.fail(`the scale-out end-to-end test must run here (CI / FLOE_REQUIRE_KAFKA): ${blocker}`);
  const run = new ScaleOutRun((role, l) => {
    if (typeof l.level === 'number' && l.level >= 40) t.diagnostic(`${role}: ${JSON.stringify(l)}`);
  });
  const ns = `floe-rb-${run.id}`;
  t.after(async () => {
    await run.cleanup();
    try {
      sh('ip', ['netns', 'del', ns]);
    } catch {
      /* not created */
    }
  });
  sh('ip', ['netns', 'add', ns]);
  sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);

  const api = run.start('api', run.config({ enforcer: { netns: ns } }));
  await api.healthy();
  const apiLine = await until('the api to say where it listens', 10_000, () => api.find('api '));
  const base = /http:\/\/[^\s]+/.exec(apiLine.msg!)?.[0];
  assert.ok(base, `api address in ${apiLine.msg}`);

  const block = async (target: string, duration: string): Promise<DecisionItem> => {
    const res = await fetch(`${base}/v1/decisions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-floe-user': 'e2e' },
      body: JSON.stringify({ target, duration, reason: 'scale-out rebuild test' }),
    });
    const body = await res.text();
    assert.equal(res.status, 201, `POST /v1/decisions ${target}: ${body}`);
    return JSON.parse(body) as DecisionItem;
  };
  const unblock = async (target: string): Promise<void> => {
    const res = await fetch(`${base}/v1/decisions/${encodeURIComponent(target)}`, { method: 'DELETE', headers: { 'x-floe-user': 'e2e' } });
    assert.equal(res.status, 204, `DELETE /v1/decisions/${target}: ${await res.text()}`);
  };
  const active = async (): Promise<string[]> => {
    const res = await fetch(`${base}/v1/decisions?active=true&limit=1000`);
    assert.equal(res.status, 200);
    return ((await res.json()) as { items: DecisionItem[] }).items
      .filter((d) => !d.dryRun)
      .map((d) => d.target)
      .sort();
  };

  // While no enforcer runs: host and prefix blocks of both families, one block that is unblocked
  // again (its tombstone follows it on the topic) and one that expires before the enforcer starts.
  for (const target of ['198.51.100.7', '203.0.113.0/24', '2001:db8::7', '2001:db8:1::/64', '192.0.2.99']) await block(target, '1h');
  const short = await block('192.0.2.50', '1s');
  await unblock('192.0.2.99/32');
  const expected = ['198.51.100.7/32', '2001:db8:1::/64', '2001:db8::7/128', '203.0.113.0/24'];
  await until('the short block to expire', 5000, () => Date.now() > Date.parse(short.expiresAt) + 100 || undefined, 50);
  assert.deepEqual(await active(), expected, 'the api reports the four active blocks');
  assert.deepEqual(nftBlockedTargets(ns), [], 'nothing is enforced in the namespace before the enforcer starts');

  // The enforcer: its group floe-enforcer-<node> has never read the topic; no store.
  const spawnedAt = Date.now();
  const enforcer = run.start(
    'enforcer',
    run.config({
      enforcer: { netns: ns, reconcileIntervalMs: 1000 },
      store: { kind: 'duckdb', path: ':memory:' },
    }),
  );
  const rebuilt = await until(
    'the enforcer to rebuild the set from the topic',
    30_000,
    () => {
      if (enforcer.child.exitCode !== null) throw new Error(`enforcer exited ${enforcer.child.exitCode}:\n${enforcer.tail()}`);
      const got = nftBlockedTargets(ns);
      return got.length === expected.length ? got : undefined;
    },
    50,
  );
  const rebuildMs = Date.now() - spawnedAt;
  t.diagnostic(`enforcer process start -> nftables set rebuilt from the compacted topic: ${rebuildMs} ms`);
  process.stdout.write(`# e2e scale-out: enforcer spawn -> set rebuilt from floe.decisions.v1: ${rebuildMs} ms\n`);
  assert.deepEqual(rebuilt, await active(), 'the set holds exactly the active decisions (not the unblocked, not the expired)');
  assert.equal(enforcer.find('enforcer: rebuilt from the store'), undefined, 'the enforcer had no store to rebuild from');
  assert.ok(enforcer.find('enforcer nftables')?.msg?.includes(ns), `the enforcer applies nftables in ${ns}:\n${enforcer.tail()}`);
  await enforcer.healthy(10_000);

  // While it runs: a tombstone removes an element, a new block adds one.
  await unblock('198.51.100.7/32');
  await until('the tombstone to remove 198.51.100.7 from the set', 15_000, () => !nftBlockedTargets(ns).includes('198.51.100.7/32') || undefined, 50);
  await block('198.51.100.8', '1h');
  await until('the new block 198.51.100.8 in the set', 15_000, () => nftBlockedTargets(ns).includes('198.51.100.8/32') || undefined, 50);
  assert.deepEqual(nftBlockedTargets(ns), await active(), 'the set still equals the active decisions');
  assert.deepEqual(await active(), ['198.51.100.8/32', '2001:db8:1::/64', '2001:db8::7/128', '203.0.113.0/24']);

  for (const p of [enforcer, api]) {
    assert.equal(await p.healthStatus(), 200, `${p.role} /healthz while running:\n${p.tail()}`);
    const code = await p.stop(30_000);
    assert.equal(code, 0, `${p.role} exits 0 on SIGTERM:\n${p.tail()}`);
  }
});
