import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FlowRecord } from '@floe/flow';
import { createRegistry, readMetric } from '@floe/telemetry';
import { createDetectors, defaultDetectorOptions, DETECT_METRICS } from './index.js';

const T0 = 1_796_040_085_711;

/** A TCP SYN attempt as conntrack -E reports it on NEW. */
function syn(srcAddr: string, dstPort: number, i: number): FlowRecord {
  return {
    schema: 1, observedAt: T0 + i, source: 'conntrack', event: 'new', family: 4, protocol: 6,
    srcAddr, dstAddr: '10.60.0.14', srcPort: 40_000 + i, dstPort, state: 'SYN_SENT',
  };
}

const portscan = { detector: 'portscan.vertical' };

test('a scan of 20 ports: 20 attempts and 1 finding of portscan.vertical, 1 key tracked, read at scrape time', async () => {
  const registry = createRegistry({ defaultMetrics: false });
  const opts = defaultDetectorOptions();
  const detectors = createDetectors({ ...opts, portscan: { ...opts.portscan, minPorts: 20 } }, { metrics: registry });
  for (let i = 0; i < 20; i++) for (const d of detectors) d.observe(syn('10.50.0.2', 1000 + i, i));
  assert.equal(await readMetric(registry, DETECT_METRICS.attempts, portscan), 20);
  assert.equal(await readMetric(registry, DETECT_METRICS.findings, portscan), 1);
  assert.equal(await readMetric(registry, DETECT_METRICS.findings, { detector: 'hostsweep.horizontal' }), undefined);
  assert.equal(await readMetric(registry, DETECT_METRICS.trackedKeys, portscan), 1);
  // A second scrape reports the same totals (counters add the change since the last scrape).
  assert.equal(await readMetric(registry, DETECT_METRICS.attempts, portscan), 20);
});

test('keys beyond maxKeys 2 (5 sources) count 3 evicted keys; two sets of detectors on one registry add up', async () => {
  const registry = createRegistry({ defaultMetrics: false });
  const opts = defaultDetectorOptions();
  const a = createDetectors(opts, { metrics: registry, limits: { maxKeys: 2 } });
  const b = createDetectors(opts, { metrics: registry, limits: { maxKeys: 2 } });
  for (const set of [a, b]) for (let s = 0; s < 5; s++) for (const d of set) d.observe(syn(`10.50.0.${s + 1}`, 22, s));
  assert.equal(await readMetric(registry, DETECT_METRICS.evictedKeys, portscan), 6);
  assert.equal(await readMetric(registry, DETECT_METRICS.trackedKeys, portscan), 4);
  assert.equal(await readMetric(registry, DETECT_METRICS.attempts, portscan), 10);
});
