// floe_detect_* metrics, read through a real prom-client registry after running the detectors on
// the real 101-port capture (testdata/SOURCES.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseFile, type FlowRecord } from '@floe/flow';
import { createRegistry } from '@floe/telemetry';
import { createDetectors, createPortScanDetector, defaultDetectorOptions } from './index.js';

const SCAN101_E = fileURLToPath(new URL('../testdata/captured-conntrack-E-extended-timestamp-nmap-101-ports.log', import.meta.url));

/** Parses the Prometheus text format into `name{labels}` -> value. */
async function scrape(registry: ReturnType<typeof createRegistry>): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

test('flows, findings by kind, tracked keys and open findings of both detectors', async () => {
  const { records } = await parseFile(SCAN101_E, { format: 'conntrack' });
  const registry = createRegistry({ defaultMetrics: false });
  const o = defaultDetectorOptions();
  const detectors = createDetectors({ ...o, portscan: { ...o.portscan, updateOnDouble: true } }, { metrics: registry });
  for (const f of records) for (const d of detectors) d.observe(f);
  let m = await scrape(registry);
  assert.equal(m.get('floe_detect_flows_total{detector="portscan.vertical"}'), 101);
  assert.equal(m.get('floe_detect_flows_total{detector="hostsweep.horizontal"}'), 101);
  assert.equal(m.get('floe_detect_findings_total{detector="portscan.vertical",kind="new"}'), 1);
  assert.equal(m.get('floe_detect_findings_total{detector="portscan.vertical",kind="update"}'), 2); // 30, 60
  assert.equal(m.get('floe_detect_findings_total{detector="portscan.vertical",kind="final"}'), undefined);
  assert.equal(m.get('floe_detect_tracked_keys{detector="portscan.vertical"}'), 1);
  assert.equal(m.get('floe_detect_tracked_keys{detector="hostsweep.horizontal"}'), 101); // one key per probed port
  assert.equal(m.get('floe_detect_open_findings{detector="portscan.vertical"}'), 1);
  for (const d of detectors) d.flush();
  m = await scrape(registry);
  assert.equal(m.get('floe_detect_findings_total{detector="portscan.vertical",kind="final"}'), 1);
  assert.equal(m.get('floe_detect_open_findings{detector="portscan.vertical"}'), 0);
  assert.equal(m.get('floe_detect_flows_total{detector="portscan.vertical"}'), 101, 'a second scrape adds nothing twice');
});

test('evictions by reason and late flows; two instances of one detector add up on one registry', async () => {
  const registry = createRegistry({ defaultMetrics: false });
  const limits = { maxKeys: 10, maxConnections: 20 };
  const a = createPortScanDetector(defaultDetectorOptions().portscan, { metrics: registry, limits });
  const b = createPortScanDetector(defaultDetectorOptions().portscan, { metrics: registry, limits });
  const t0 = 1_796_161_454_267;
  const flow = (i: number, t: number): FlowRecord => ({
    schema: 1,
    observedAt: t,
    source: 'conntrack',
    event: 'new',
    family: 4,
    protocol: 6,
    srcAddr: `10.9.0.${i}`,
    dstAddr: '10.231.1.1',
    srcPort: 40000 + i,
    dstPort: 80,
  });
  for (let i = 0; i < 25; i++) a.observe(flow(i, t0 + 60_000)); // 25 keys over a cap of 10; 25 connections over 20
  a.observe({ ...flow(24, t0), dstPort: 81 }); // 60 s older than its key's newest record: late
  for (let i = 0; i < 3; i++) b.observe(flow(i, t0));
  const m = await scrape(registry);
  assert.equal(m.get('floe_detect_evicted_keys_total{detector="portscan.vertical",reason="max_keys"}'), 15);
  assert.equal(m.get('floe_detect_evicted_keys_total{detector="portscan.vertical",reason="max_connections"}'), 6);
  assert.equal(m.get('floe_detect_flows_dropped_total{detector="portscan.vertical",cause="late"}'), 1);
  assert.equal(m.get('floe_detect_flows_total{detector="portscan.vertical"}'), 29);
  assert.equal(m.get('floe_detect_tracked_keys{detector="portscan.vertical"}'), 13);
});

test('evictions of the scan detectors: held one-shot sources (shared gate) and keys part-way to a threshold', async () => {
  const registry = createRegistry({ defaultMetrics: false });
  const t0 = 1_796_161_454_267;
  const flow = (src: string, port: number, i: number): FlowRecord => ({
    schema: 1,
    observedAt: t0 + i,
    source: 'kernel-log',
    event: 'log',
    family: 4,
    protocol: 6,
    srcAddr: src,
    dstAddr: '10.231.1.1',
    srcPort: 40000 + i,
    dstPort: port,
  });
  const dets = createDetectors(defaultDetectorOptions(), { metrics: registry, limits: { maxKeys: 10 } });
  // 25 one-shot sources: the gate holds 10, evicts 15.
  for (let i = 0; i < 25; i++) for (const d of dets) d.observe(flow(`198.18.0.${i}`, 80, i));
  // 12 sources with two ports each: each first attempt takes a gate entry (12 more evictions), each
  // second releases it; portscan's 12 keys reach two ports (promoted); 8 stay protected, the
  // demoted ones are probation's only keys, so its 2 evictions are part-way keys.
  for (let i = 0; i < 12; i++) for (const p of [22, 23]) for (const d of dets) d.observe(flow(`198.19.0.${i}`, p, 100 + 2 * i + p));
  const m = await scrape(registry);
  assert.equal(m.get('floe_detect_evicted_keys_total{detector="portscan.vertical",reason="max_sources_held"}'), 15 + 12);
  assert.equal(m.get('floe_detect_evicted_keys_total{detector="portscan.vertical",reason="max_keys_partway"}'), 2);
  assert.equal(m.get('floe_detect_evicted_keys_total{detector="hostsweep.horizontal",reason="max_sources_held"}'), undefined, 'reported once, under the first detector');
});
