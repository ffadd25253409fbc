// The nft drivers' floe_nft_* metrics and child logger, one suite run on each driver: the
// dry-run driver always, the real driver on nftables in a fresh network namespace (root; skipped
// off-root outside CI, as driver.test.ts).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import { createLogger, createRegistry, readMetric, type Logger, type Registry } from '@floe/telemetry';
import { createNftDriver, type NftDeps } from './driver.js';
import { createDryRunDriver } from './dryrun.js';
import { NFT_METRICS } from './metrics.js';
import { canUseNetns, createNetns, deleteNetns } from './netns-testutil.js';
import type { NftDriver } from './types.js';

const HOUR = 3_600_000;
const realSkip = !canUseNetns() && !process.env.CI ? 'needs root, nft and ip netns' : false;

function capture(lines: Array<Record<string, unknown>>): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return createLogger({ level: 'info' }, sink);
}

const drivers: Array<{ mode: 'nft' | 'dry-run'; skip: string | false; make: (t: TestContext, deps: NftDeps) => NftDriver }> = [
  { mode: 'dry-run', skip: false, make: (_t, deps) => createDryRunDriver({}, deps) },
  {
    mode: 'nft',
    skip: realSkip,
    make: (t, deps) => {
      const ns = createNetns('floe-nft-metrics');
      t.after(() => deleteNetns(ns));
      return createNftDriver({ netns: ns }, deps);
    },
  },
];

for (const d of drivers) {
  describe(`${d.mode} driver metrics`, { skip: d.skip }, () => {
    const value = (r: Registry, name: string, labels: Record<string, string>) => readMetric(r, name, { mode: d.mode, ...labels });

    it('ensure and two commits count 3 transactions, 2 added and 1 deleted elements; logs carry component nft', async (t) => {
      const registry = createRegistry({ defaultMetrics: false });
      const lines: Array<Record<string, unknown>> = [];
      const driver = d.make(t, { metrics: registry, logger: capture(lines) });
      await driver.ensure();
      driver.add([
        { target: '192.0.2.7/32', expiresAt: Date.now() + HOUR },
        { target: '2001:db8::/64', expiresAt: Date.now() + HOUR },
      ]);
      await driver.commit();
      driver.delete(['192.0.2.7/32']);
      await driver.commit();
      assert.equal(await value(registry, NFT_METRICS.transactions, { op: 'ensure' }), 1);
      assert.equal(await value(registry, NFT_METRICS.transactions, { op: 'commit' }), 2);
      assert.equal(await value(registry, NFT_METRICS.elements, { change: 'added' }), 2);
      assert.equal(await value(registry, NFT_METRICS.elements, { change: 'deleted' }), 1);
      assert.equal(await value(registry, NFT_METRICS.errors, {}), undefined);
      assert.ok(lines.length > 0, 'the driver logged');
      for (const l of lines) assert.deepEqual([l.component, l.adapter], ['nft', d.mode]);
    });

    it('list before ensure and a refused (overlapping) commit count errors by op', async (t) => {
      const registry = createRegistry({ defaultMetrics: false });
      const driver = d.make(t, { metrics: registry });
      await assert.rejects(driver.list(), { code: 'FLOE_NFT_LIST_FAILED' });
      assert.equal(await value(registry, NFT_METRICS.errors, { op: 'list' }), 1);
      await driver.ensure();
      driver.add([{ target: '198.51.100.0/25', expiresAt: Date.now() + HOUR }]);
      await driver.commit();
      driver.add([{ target: '198.51.100.0/24', expiresAt: Date.now() + HOUR }]);
      await assert.rejects(driver.commit(), { code: 'FLOE_NFT_APPLY_FAILED' });
      // The real driver retries a failed commit once after a fresh read-back: two failed runs.
      assert.equal(await value(registry, NFT_METRICS.errors, { op: 'commit' }), d.mode === 'nft' ? 2 : 1);
      assert.equal(await value(registry, NFT_METRICS.transactions, { op: 'commit' }), 1, 'only the first commit applied');
    });
  });
}
