// The brute-force, SYN-flood and beacon detectors as createDetectors builds them: defaults equal to
// the policy's, `enabled: false`, and their counters in the floe_detect_* metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseFile, type FlowRecord } from '@floe/flow';
import { defaultPolicy } from '@floe/policy';
import { createRegistry } from '@floe/telemetry';
import { createDetectors, createSynFloodDetector, defaultDetectorOptions, defaultSynFloodOptions } from './index.js';

const SPOOFED = fileURLToPath(new URL('../testdata/captured-conntrack-E-extended-timestamp-syn-spoofed.log', import.meta.url));

test('the detectors default to the policy defaults (one source of truth for each threshold)', () => {
  const d = defaultDetectorOptions();
  const p = defaultPolicy().detectors;
  assert.deepEqual({ ...d.bruteforce }, { ...p.bruteforce });
  assert.deepEqual({ ...d.synflood }, { ...p.synflood });
  assert.deepEqual({ ...d.beacon }, { ...p.beacon });
});

test('createDetectors: the three rule detectors by default, left out with enabled: false or without their section', () => {
  const { exfil: _e, dns: _d, lateral: _l, ...d } = defaultDetectorOptions();
  assert.deepEqual(
    createDetectors(d).map((x) => x.id),
    ['portscan.vertical', 'hostsweep.horizontal', 'scan.random', 'bruteforce.auth', 'dos.synflood', 'beacon.periodic'],
  );
  const off = { ...d, bruteforce: { ...d.bruteforce!, enabled: false }, synflood: { ...d.synflood!, enabled: false }, beacon: { ...d.beacon!, enabled: false } };
  assert.deepEqual(
    createDetectors(off).map((x) => x.id),
    ['portscan.vertical', 'hostsweep.horizontal', 'scan.random'],
  );
  assert.equal(createDetectors({ portscan: d.portscan, hostsweep: d.hostsweep }).length, 3, 'the scan detectors (scan.random with its defaults)');
});

async function scrape(registry: ReturnType<typeof createRegistry>): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    const i = line.lastIndexOf(' ');
    if (line.startsWith('floe_detect_') && i > 0) m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

test('metrics: the spoofed flood counted as one finding; destinations evicted over maxKeys counted', async () => {
  const { records } = await parseFile(SPOOFED, { format: 'conntrack' });
  const registry = createRegistry({ defaultMetrics: false });
  const d = createSynFloodDetector(defaultSynFloodOptions(), { metrics: registry, limits: { maxKeys: 8 } });
  for (const r of records) d.observe(r);
  // 40 SYNs to 40 other destinations: one-shot keys cycle through probation; the flood's key is protected.
  const t = records[records.length - 1].observedAt;
  const one = (i: number): FlowRecord => ({ ...records[0], dstAddr: `10.231.9.${i}`, observedAt: t });
  for (let i = 0; i < 40; i++) d.observe(one(i));
  d.flush();
  const m = await scrape(registry);
  assert.equal(m.get('floe_detect_findings_total{detector="dos.synflood",kind="new"}'), 1);
  assert.equal(m.get('floe_detect_evicted_keys_total{detector="dos.synflood",reason="max_keys"}'), 33);
  assert.equal(m.get('floe_detect_flows_total{detector="dos.synflood"}'), records.length + 40);
});
