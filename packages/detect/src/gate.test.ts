// The first-sighting gate (gate.ts) holds a source's first attempt once for all scan detectors and
// releases it on the source's second connection: findings must be exactly those without the gate,
// on every real capture, in order and reversed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseFile, type Finding, type FlowRecord } from '@floe/flow';
import {
  CONNECTION_MEMORY_MS,
  FirstSightGate,
  SeenConnections,
  createDetectors,
  createHostSweepDetector,
  createPortScanDetector,
  createRandomScanDetector,
  defaultDetectorOptions,
  type DetectorDeps,
  type RandomScanOptions,
  type WindowDetector,
} from './index.js';
import { GateFollower } from './gate.js';

const here = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
const CAPTURES: Array<[string, 'conntrack' | 'kernel-log']> = [
  [here('../testdata/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log'), 'conntrack'],
  [here('../testdata/captured-conntrack-E-extended-timestamp-nmap-101-ports-until-expiry.log'), 'conntrack'],
  [here('../testdata/captured-conntrack-E-extended-timestamp-nmap-random-pairs.log'), 'conntrack'],
  [here('../testdata/iki-conntrack-L-ssh-scan.txt'), 'conntrack'],
  [here('../../flow/testdata/iptables-log/crowdsec-hub-iptables-portscan.log'), 'kernel-log'],
];
const opts = defaultDetectorOptions();

function ungated(deps: DetectorDeps): WindowDetector[] {
  const d = { ...deps, connections: new SeenConnections(CONNECTION_MEMORY_MS, 1) };
  return [createPortScanDetector(opts.portscan, d), createHostSweepDetector(opts.hostsweep, d), createRandomScanDetector(opts.randomScan as RandomScanOptions, d)];
}

function all(dets: WindowDetector[], flows: FlowRecord[]): Finding[] {
  const out: Finding[] = [];
  for (const f of flows) for (const d of dets) out.push(...d.observe(f));
  for (const d of dets) out.push(...d.flush());
  return out;
}

for (const [path, format] of CAPTURES) {
  test(`gated and ungated detectors emit the same findings: ${path.split('/').pop()}`, async () => {
    const { records } = await parseFile(path, { format, now: () => Date.UTC(2015, 0, 1) });
    assert.ok(records.length > 0);
    for (const order of [records, records.slice().reverse()]) {
      for (const lateness of [Number.POSITIVE_INFINITY, 5000]) {
        const gated = createDetectors(opts, { lateness });
        assert.deepEqual(all(gated, order), all(ungated({ lateness }), order));
      }
    }
  });
}

function rec(over: Partial<FlowRecord>): FlowRecord {
  return {
    schema: 1,
    observedAt: 1_796_000_000_000,
    source: 'conntrack',
    event: 'new',
    family: 4,
    protocol: 6,
    srcAddr: '198.51.100.1',
    dstAddr: '10.0.0.1',
    srcPort: 40000,
    dstPort: 22,
    ctId: '1',
    ...over,
  };
}

test('gate: a first attempt is held; its own later events keep it held (earliest kept); another connection releases it', () => {
  const g = new FirstSightGate(10);
  const a = g.register();
  const b = g.register();
  const destroy = rec({ event: 'destroy', observedAt: 1_796_000_120_000 });
  const first = rec({});
  assert.equal(g.check(destroy, a), 0, 'HOLD');
  assert.equal(g.check(destroy, b), 0, 'the same answer for the second caller');
  assert.equal(g.check(first, a), 0, 'its NEW, earlier: still held, and kept instead');
  const other = rec({ ctId: '2', srcPort: 40001, dstPort: 23, observedAt: 1_796_000_000_500 });
  assert.equal(g.check(other, a), 2, 'RELEASE');
  assert.deepEqual(g.released, first, 'a copy of the held record (detached strings)');
  assert.equal(g.check(other, b), 2);
  assert.equal(g.check(rec({ ctId: '3', srcPort: 40002 }), a), 1, 'PASS from then on');
  assert.deepEqual([g.held, g.releasedCount, g.size], [1, 1, 1]);
});

test('gate: one-shot sources beyond capacity evict held ones only, never a released source', () => {
  const g = new FirstSightGate(10);
  const c = g.register();
  g.check(rec({ srcAddr: '203.0.113.1' }), c);
  g.check(rec({ srcAddr: '203.0.113.1', ctId: '9', srcPort: 1 }), c);
  for (let i = 0; i < 100; i++) g.check(rec({ srcAddr: `198.18.0.${i}`, ctId: String(100 + i) }), c);
  assert.equal(g.evicted, 91);
  assert.equal(g.check(rec({ srcAddr: '203.0.113.1', ctId: '10', srcPort: 2 }), c), 1, 'still released: PASS');
});

test('gate: IPv6 sources (held as copies, keyed by text) are held and released as IPv4 ones are', () => {
  const g = new FirstSightGate(10);
  const a = g.register();
  const v6 = (over: Partial<FlowRecord>) => rec({ family: 6, srcAddr: '2001:db8::7', dstAddr: '2001:db8::1', ...over });
  const first = v6({});
  assert.equal(g.check(v6({ event: 'destroy', observedAt: 1_796_000_120_000 }), a), 0, 'HOLD');
  assert.equal(g.check(first, a), 0, 'its NEW, earlier: still held, and kept instead');
  assert.equal(g.check(v6({ ctId: '2', srcPort: 40001 }), a), 2, 'RELEASE');
  assert.deepEqual(g.released, first);
  assert.equal(g.check(v6({ ctId: '3', srcPort: 40002 }), a), 1, 'PASS');
  assert.deepEqual(g.storedForms, { compact: 0, object: 2 });
});

test('gate: a spray of IPv4 and IPv6 one-shot sources evicts held sources only; released ones of both kinds stay', () => {
  const g = new FirstSightGate(20);
  const c = g.register();
  for (const src of ['203.0.113.1', '2001:db8::1']) {
    g.check(rec({ srcAddr: src }), c);
    assert.equal(g.check(rec({ srcAddr: src, ctId: '9', srcPort: 1 }), c), 2);
  }
  for (let i = 0; i < 500; i++) g.check(rec({ srcAddr: i % 2 === 0 ? `198.18.${i >> 8}.${i & 255}` : `2001:db8:1::${i.toString(16)}`, ctId: String(100 + i) }), c);
  assert.equal(g.size, 20);
  for (const src of ['203.0.113.1', '2001:db8::1']) assert.equal(g.check(rec({ srcAddr: src, ctId: '10', srcPort: 2 }), c), 1, `${src} still released: PASS`);
});

test('gate: at most 8 followers', () => {
  const g = new FirstSightGate(10);
  for (let i = 0; i < 8; i++) new GateFollower(g);
  assert.throws(() => new GateFollower(g), RangeError);
});

test('gate: a released source gives its record slot back; new sources and evictions reuse slots, so record columns follow the sources held now', () => {
  const g = new FirstSightGate(100);
  const c = g.register();
  for (let i = 0; i < 50; i++) g.check(rec({ srcAddr: `198.51.100.${i}`, ctId: String(i) }), c);
  assert.deepEqual(g.recordSlots, { used: 50, made: 50 });
  for (let i = 0; i < 50; i++) assert.equal(g.check(rec({ srcAddr: `198.51.100.${i}`, ctId: String(1000 + i), srcPort: 1 }), c), 2);
  assert.deepEqual(g.recordSlots, { used: 0, made: 50 });
  // 500 one-shot sources: 50 slots freed by the releases are reused first, then the 50 free places
  // of the source table fill, then each eviction of a held source hands its record slot on.
  for (let i = 0; i < 500; i++) g.check(rec({ srcAddr: `203.0.${i >> 8}.${i & 255}`, ctId: String(2000 + i) }), c);
  assert.equal(g.size, 100);
  assert.deepEqual(g.recordSlots, { used: 50, made: 50 });
  for (let i = 0; i < 50; i++) assert.equal(g.check(rec({ srcAddr: `198.51.100.${i}`, ctId: String(3000 + i), srcPort: 2 }), c), 1, 'released sources still PASS');
});
