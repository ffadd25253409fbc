import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FlowRecord } from '@floe/flow';
import { FEATURE_NAMES, F } from './names.js';
import { FeatureWindows, extractFeatures, defaultLeavesCluster } from './features.js';
import { DistinctCounter, EntropyHistogram } from './sketch.js';
import { ModelError } from './errors.js';
import { records } from './testdata.js';

const val = (v: Float32Array, name: (typeof FEATURE_NAMES)[number]): number => v[F[name]];

test('the nmap capture: the scanner window has 100 ports, entropy and refused connections; the benign client few ports and DNS', async () => {
  const ws = extractFeatures(await records('captured-conntrack-E-extended-timestamp-nmap-top100-scan.log'));
  const scan = ws.filter((w) => w.entity === '10.50.0.2');
  const benign = ws.filter((w) => w.entity === '10.70.0.2');
  assert.ok(scan.length >= 1 && benign.length >= 1);
  for (const w of ws) assert.equal(w.values.length, FEATURE_NAMES.length);
  const s = scan.reduce((a, b) => (a.flows > b.flows ? a : b));
  // nmap --top-ports 100 against one host: 100 distinct ports (exact below 32, HLL above: within 15 %).
  const ports = Math.expm1(val(s.values, 'dst_ports'));
  assert.ok(ports > 85 && ports < 115, `ports ${ports}`);
  assert.equal(Math.round(Math.expm1(val(s.values, 'dst_addrs'))), 1);
  assert.ok(val(s.values, 'port_entropy') > 4.5, `port entropy ${val(s.values, 'port_entropy')}`);
  assert.ok(val(s.values, 'failed_share') > 0.9, `failed ${val(s.values, 'failed_share')}`);
  for (const w of benign) {
    assert.ok(Math.round(Math.expm1(val(w.values, 'dst_ports'))) <= 4);
    assert.ok(val(w.values, 'failed_share') < 0.5);
  }
  assert.ok(
    benign.some((w) => val(w.values, 'dns_share') > 0),
    'the benign client resolves names',
  );
});

test('windows tumble at multiples of windowMs; a later window of one entity carries a baseline delta', async () => {
  const recs = await records('captured-conntrack-E-extended-timestamp-nmap-top100-scan.log');
  const ws = extractFeatures(recs, { windowMs: 5000 });
  for (const w of ws) {
    assert.equal(w.start % 5000, 0);
    assert.equal(w.end - w.start, 5000);
  }
  const benign = ws.filter((w) => w.entity === '10.70.0.2').sort((a, b) => a.start - b.start);
  assert.ok(benign.length >= 4, `benign windows ${benign.length}`);
  assert.equal(val(benign[0].values, 'flows_vs_baseline'), 0);
  assert.ok(benign.slice(1).some((w) => val(w.values, 'flows_vs_baseline') !== 0));
  // Every attempt of the entity is in exactly one window (update events never count).
  const attempts = recs.filter((r) => r.srcAddr === '10.70.0.2' && r.event === 'new').length;
  assert.equal(
    benign.reduce((n, w) => n + w.flows, 0),
    attempts,
  );
});

test('DESTROY-only input (ulogd NFCT) counts each destroy as an attempt, with bytes and durations', async () => {
  const recs = await records('captured-ulogd2-nfct-json-nmap-scan-v4v6.json');
  const ws = extractFeatures(recs);
  const total = ws.reduce((n, w) => n + w.flows, 0);
  assert.equal(total, recs.length);
  const benign = ws.filter((w) => w.entity === '10.70.0.2');
  assert.ok(benign.every((w) => val(w.values, 'bytes_in') > 0));
  const scan6 = ws.find((w) => w.entity === 'fd00:50::2');
  assert.ok(scan6 && Math.expm1(val(scan6.values, 'dst_ports')) > 80);
});

test('streaming: a record of another entity past end + lateness closes a window; expire and flush close the rest', () => {
  const rec = (src: string, t: number, port: number): FlowRecord => ({
    schema: 1,
    observedAt: t,
    start: t,
    source: 'conntrack',
    event: 'new',
    family: 4,
    protocol: 6,
    srcAddr: src,
    dstAddr: '10.0.0.9',
    srcPort: 40000,
    dstPort: port,
  });
  const fw = new FeatureWindows({ windowMs: 10_000, lateness: 1000 });
  assert.deepEqual(fw.observe(rec('10.0.0.1', 1000, 22)), []);
  assert.deepEqual(fw.observe(rec('10.0.0.2', 10_500, 22)), [], 'within lateness: still open');
  const closed = fw.observe(rec('10.0.0.2', 11_000, 80));
  assert.deepEqual(
    closed.map((w) => [w.entity, w.start]),
    [['10.0.0.1', 0]],
  );
  assert.deepEqual(
    fw.expire(20_000).map((w) => [w.entity, w.start]),
    [['10.0.0.2', 10_000]],
  );
  assert.deepEqual(fw.flush(), []);
});

test('eviction at maxEntities emits the evicted window and counts it', () => {
  const fw = new FeatureWindows({ maxEntities: 2, lateness: Number.POSITIVE_INFINITY });
  const rec = (src: string): FlowRecord => ({
    schema: 1,
    observedAt: 5,
    source: 'kernel-log',
    event: 'log',
    family: 4,
    protocol: 17,
    srcAddr: src,
    dstAddr: '8.8.8.8',
    srcPort: 1,
    dstPort: 53,
  });
  fw.observe(rec('10.0.0.1'));
  fw.observe(rec('10.0.0.2'));
  const out = fw.observe(rec('10.0.0.3'));
  assert.deepEqual(
    out.map((w) => w.entity),
    ['10.0.0.1'],
  );
  assert.equal(fw.stats().evicted, 1);
  assert.equal(val(out[0].values, 'dns_share'), 1);
  assert.equal(val(out[0].values, 'external_share'), 1);
});

test('never-seen destinations: the second window to the same peers has a lower new_dst_share', async () => {
  const ws = extractFeatures(await records('captured-conntrack-E-extended-timestamp-nmap-top100-scan.log'), { windowMs: 5000 });
  const benign = ws.filter((w) => w.entity === '10.70.0.2').sort((a, b) => a.start - b.start);
  assert.equal(val(benign[0].values, 'new_dst_share') > 0, true);
  assert.ok(val(benign.at(-1)!.values, 'new_dst_share') < val(benign[0].values, 'new_dst_share'));
});

test('defaultLeavesCluster: private, loopback and ULA stay inside; egress/internal/ingress from the policy win, external falls back to the address', () => {
  const f = (dst: string, family: 4 | 6 = 4, direction?: FlowRecord['direction']): FlowRecord => ({
    schema: 1,
    observedAt: 0,
    source: 'file',
    event: 'log',
    family,
    protocol: 6,
    srcAddr: '10.0.0.1',
    dstAddr: dst,
    direction,
  });
  assert.equal(defaultLeavesCluster(f('10.1.2.3')), false);
  assert.equal(defaultLeavesCluster(f('172.31.0.1')), false);
  assert.equal(defaultLeavesCluster(f('172.32.0.1')), true);
  assert.equal(defaultLeavesCluster(f('192.168.1.1')), false);
  assert.equal(defaultLeavesCluster(f('8.8.8.8')), true);
  assert.equal(defaultLeavesCluster(f('fd00:60::1', 6)), false);
  assert.equal(defaultLeavesCluster(f('2001:db8::1', 6)), true);
  assert.equal(defaultLeavesCluster(f('8.8.8.8', 4, 'internal')), false);
  assert.equal(defaultLeavesCluster(f('10.1.2.3', 4, 'egress')), true);
  // external: neither end is in the policy's networks: the address decides.
  assert.equal(defaultLeavesCluster(f('10.1.2.3', 4, 'external')), false);
  assert.equal(defaultLeavesCluster(f('8.8.8.8', 4, 'external')), true);
});

test('DistinctCounter: exact to 16, then within 15 % of the truth at 1 000 and 100 000', () => {
  const c = DistinctCounter.standalone();
  for (let i = 0; i < 16; i++) c.add(i * 7919);
  c.add(0);
  assert.equal(c.count(), 16);
  for (const n of [1000, 100_000]) {
    c.reset();
    for (let i = 0; i < n; i++) c.add(i);
    assert.ok(Math.abs(c.count() - n) / n < 0.15, `${n}: ${c.count()}`);
  }
});

test('EntropyHistogram: 0 for one item, log2(n) for n distinct items spread over the buckets', () => {
  const h = EntropyHistogram.standalone();
  for (let i = 0; i < 10; i++) h.add(42);
  assert.equal(h.entropy(), 0);
  h.reset();
  h.add(1);
  h.add(2);
  assert.ok(Math.abs(h.entropy() - 1) < 1e-9);
});

test('bad options are refused with FLOE_MODEL_BAD_OPTIONS naming the option', () => {
  assert.throws(
    () => new FeatureWindows({ windowMs: 10 }),
    (e: unknown) => e instanceof ModelError && e.code === 'FLOE_MODEL_BAD_OPTIONS' && e.detail === 'windowMs',
  );
  assert.throws(
    () => new FeatureWindows({ maxEntities: 0 }),
    (e: unknown) => e instanceof ModelError && e.detail === 'maxEntities',
  );
});
