// Issue 6: "no consumer checks the schema version of what it reads". The enforcer ignores a
// decision with `schema: 99` (and other records it cannot read) on floe.decisions.v1, counts it
// with a reason, logs it escaped, and keeps applying the good ones behind it — in nftables in a
// network namespace (root) and with the dry-run driver (anywhere).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createMemoryBus, TOPICS, type BusMessage } from '@floe/bus';
import { createDryRunDriver, createNftDriver } from '@floe/nft';
import { Registry } from 'prom-client';
import { createLogger } from '@floe/telemetry';
import { checkDecision } from './check.js';
import { createEnforcer } from './enforcer.js';
import { decision, skip } from './test-netns.js';

async function metric(reg: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === name);
  return m?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l))?.value ?? 0;
}

async function until(what: string, pred: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Messages the enforcer must not act on, each with the reason it is counted under. */
const POISON: Array<[BusMessage<unknown>, string]> = [
  [{ key: '198.51.100.99/32', value: { ...decision('198.51.100.99/32'), schema: 99 } }, 'schema-version'],
  [{ key: '198.51.100.98/32', value: (({ schema: _s, ...rest }) => rest)(decision('198.51.100.98/32')) }, 'schema-version'],
  [{ key: '198.51.100.97/32', value: { ...decision('198.51.100.97/32'), expiresAt: '2099-01-01' } }, 'invalid-record'],
  [{ key: '198.51.100.96/32', value: { ...decision('198.51.100.96/32'), scope: [5] } }, 'invalid-record'],
  [{ key: '198.51.100.95/32', value: { ...decision('198.51.100.95/32'), action: 'allow' } }, 'invalid-record'],
  [{ key: '\u001b[2Jx', value: 'not a decision' }, 'invalid-record'],
  [{ key: 'x', value: [decision('198.51.100.94/32')] }, 'invalid-record'],
  [{ key: '\u001b]0;pwned\u0007', value: decision('\u001b[31mnot-an-address') }, 'bad-target'],
];

async function rig(t: { after(fn: () => unknown): void }, driverFor: () => ReturnType<typeof createDryRunDriver> | ReturnType<typeof createNftDriver>) {
  const bus = createMemoryBus({ partitions: 1 });
  await bus.start();
  t.after(() => bus.stop());
  const reg = new Registry();
  const lines: string[] = [];
  const logger = createLogger(
    { level: 'warn' },
    new Writable({
      write(c: Buffer, _e, cb) {
        lines.push(c.toString('utf8'));
        cb();
      },
    }),
  );
  const driver = driverFor();
  const enf = createEnforcer({ node: 'n', reconcileIntervalMs: 60_000, dryRun: false, nft: {} }, { bus, driver, metrics: reg, logger });
  t.after(() => enf.stop());
  await enf.start();
  return { bus, reg, lines, driver, enf };
}

async function poisonThenGood(r: Awaited<ReturnType<typeof rig>>): Promise<void> {
  const good = decision('203.0.113.50/32');
  // the poison first, in the same partition and the same batch as the good decision behind it
  await r.bus.publish(TOPICS.decisions, [...POISON.map(([m]) => m), { key: good.target, value: good }]);
  await until('the good decision applied', async () => (await r.driver.list()).some((e) => e.target === good.target));
  assert.deepEqual(
    (await r.driver.list()).map((e) => e.target),
    [good.target],
    'only the good decision reaches the set',
  );
  assert.equal(r.enf.health().intended, 1);
  assert.equal(r.enf.health().ok, true);
  for (const reason of ['schema-version', 'invalid-record', 'bad-target']) {
    assert.equal(await metric(r.reg, 'floe_enforcer_invalid_decisions_total', { reason }), POISON.filter(([, x]) => x === reason).length, reason);
  }
  assert.equal(await metric(r.reg, 'floe_enforcer_decisions_total', { outcome: 'invalid' }), POISON.length);
  assert.equal(await metric(r.reg, 'floe_enforcer_decisions_total', { outcome: 'block' }), 1);
  const entries = r.lines
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const ignored = entries.filter((e) => e.msg === 'enforcer: ignored a decision it cannot read');
  assert.equal(ignored.length, POISON.length);
  // JSON would only hide a control byte until the log is shown: the decoded values hold none
  // (the key and detail came from the bus and were escaped with escapeText before logging)
  for (const e of ignored) assert.doesNotMatch(`${e.key} ${e.detail}`, /[\u0000-\u001f\u007f-\u009f]/, JSON.stringify(e));
  assert.ok(
    ignored.some((e) => String(e.key).includes('\\x1b[2J')),
    'the escape shows as visible text',
  );
}

test('checkDecision: schema version first, then every field', () => {
  assert.equal(checkDecision(decision('203.0.113.1/32')), undefined);
  assert.equal(checkDecision(decision('203.0.113.1/32', { scope: ['a', 'b'] })), undefined);
  for (const [m, reason] of POISON) if (reason !== 'bad-target') assert.equal(checkDecision(m.value)?.reason, reason, JSON.stringify(m.value));
  assert.equal(checkDecision({ ...decision('203.0.113.1/32'), schema: '1' })?.reason, 'schema-version');
  assert.equal(checkDecision({ ...decision('203.0.113.1/32'), count: -1 })?.reason, 'invalid-record');
  assert.equal(checkDecision({ ...decision('203.0.113.1/32'), reason: 'x'.repeat(4097) })?.reason, 'invalid-record');
  assert.equal(checkDecision(null)?.reason, 'invalid-record');
});

test('enforcer (dry-run driver): a schema:99 decision and other unreadable ones are ignored, counted by reason and logged escaped; the good one behind them is applied', async (t) => {
  await poisonThenGood(await rig(t, () => createDryRunDriver()));
});

test('enforcer (real nft in a netns): the unreadable decisions never reach the kernel set, the good one does', { skip }, async (t) => {
  const ns = `floe-enf-chk-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  t.after(() => execFileSync('ip', ['netns', 'del', ns]));
  const r = await rig(t, () => createNftDriver({ netns: ns }));
  await poisonThenGood(r);
  const kernel = (await createNftDriver({ netns: ns }).list()).map((e) => e.target);
  assert.deepEqual(kernel, ['203.0.113.50/32']);
});
