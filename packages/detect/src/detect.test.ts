import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding, FlowRecord } from '@floe/flow';
import { createDetectors, createHostSweepDetector, createPortScanDetector, defaultDetectorOptions, DetectError, scanScore, type Detector } from './index.js';

const T0 = 1_796_040_085_711; // ms since epoch, the time of the captured nmap scan

/** A TCP SYN attempt as conntrack -E reports it on NEW; override any field. */
function flow(over: Partial<FlowRecord> = {}): FlowRecord {
  return {
    schema: 1,
    observedAt: T0,
    source: 'conntrack',
    event: 'new',
    family: 4,
    protocol: 6,
    srcAddr: '10.50.0.2',
    dstAddr: '10.60.0.14',
    srcPort: 37794,
    dstPort: 80,
    state: 'SYN_SENT',
    ...over,
  };
}

function run(d: Detector, flows: FlowRecord[]): Finding[] {
  return flows.flatMap((f) => d.observe(f));
}

/** The last form of each finding id, in order of first emission (what a store keeps after upserts). */
function lastForms(out: Finding[]): Map<string, Finding> {
  const m = new Map<string, Finding>();
  for (const f of out) m.set(f.id, f);
  return m;
}

// The tests pin the thresholds they reason about (20 ports, 16 hosts); the shipped default
// port threshold is 15 (asserted in the defaults test).
const opts = { ...defaultDetectorOptions(), portscan: { ...defaultDetectorOptions().portscan, minPorts: 20 } };

test('defaults: 60 s windows, 15 ports, 16 hosts, severity high; random scan 25 pairs over 6 hosts and 6 ports in 5 min; the other rules on, dns.resolver off (no resolver named)', () => {
  const d = defaultDetectorOptions();
  assert.deepEqual(d.portscan, { windowMs: 60_000, minPorts: 15, severity: 'high' });
  assert.deepEqual(d.hostsweep, { windowMs: 60_000, minHosts: 16, severity: 'high' });
  assert.deepEqual(d.randomScan, { windowMs: 300_000, minPairs: 25, minHosts: 6, minPorts: 6, severity: 'high' });
  assert.deepEqual(Object.keys(d).sort(), ['beacon', 'bruteforce', 'dns', 'exfil', 'hostsweep', 'lateral', 'portscan', 'randomScan', 'synflood']);
  // bruteforce, synflood and beacon defaults: rules.test.ts (equal to the policy's)
  assert.deepEqual([d.bruteforce?.enabled, d.synflood?.enabled, d.beacon?.enabled], [true, true, true]);
  assert.deepEqual(
    createDetectors(opts).map((x) => x.id),
    ['portscan.vertical', 'hostsweep.horizontal', 'scan.random', 'bruteforce.auth', 'dos.synflood', 'beacon.periodic', 'exfil.volume', 'dns.volume', 'lateral.newpeer'],
  );
});

test('portscan: minPorts-1 distinct ports gives no finding, minPorts gives exactly one', () => {
  const d = createPortScanDetector(opts.portscan);
  const under = Array.from({ length: 19 }, (_, i) => flow({ dstPort: 1000 + i, observedAt: T0 + i }));
  assert.equal(run(d, under).length, 0);
  const at = d.observe(flow({ dstPort: 2000, observedAt: T0 + 19 }));
  assert.equal(at.length, 1);
  const f = at[0];
  assert.equal(f.detector, 'portscan.vertical');
  assert.equal(f.entity.addr, '10.50.0.2');
  assert.deepEqual(f.peers, ['10.60.0.14']);
  assert.equal(f.evidence.distinctPorts, 20);
  assert.equal(f.evidence.flows, 20);
  assert.equal(f.evidence.ports?.length, 20);
  assert.deepEqual(f.evidence.ports?.slice(0, 3), [1000, 1001, 1002]);
  assert.equal(f.evidence.sample?.length, 5);
  assert.equal(f.mitre, 'T1046');
  assert.equal(f.severity, 'high');
  assert.equal(f.firstSeen, T0);
  assert.equal(f.lastSeen, T0 + 19);
  // Later flows in the same window add no new finding.
  const more = Array.from({ length: 50 }, (_, i) => flow({ dstPort: 3000 + i, observedAt: T0 + 100 + i }));
  assert.equal(run(d, more).length, 0);
});

test('portscan: repeated ports and UPDATE/DESTROY of the same connection count once', () => {
  const d = createPortScanDetector(opts.portscan);
  const flows: FlowRecord[] = [];
  for (let i = 0; i < 19; i++) {
    const base = { dstPort: 1000 + i, observedAt: T0 + i, ctId: String(500 + i) };
    flows.push(flow({ ...base }), flow({ ...base, event: 'update', state: 'SYN_RECV' }), flow({ ...base, event: 'destroy', state: 'CLOSE' }));
  }
  // Same port again, new connection: still 19 distinct ports.
  flows.push(flow({ dstPort: 1000, srcPort: 40000, observedAt: T0 + 30, ctId: '999' }));
  assert.equal(run(d, flows).length, 0);
  const [f] = d.observe(flow({ dstPort: 5000, observedAt: T0 + 40, ctId: '1000' }));
  assert.equal(f.evidence.distinctPorts, 20);
  assert.equal(f.evidence.flows, 21); // 19 NEW + the second connection to port 1000 + port 5000
});

test('portscan: DESTROY-only streams count (no NEW seen), keyed by 5-tuple without ctId', () => {
  const d = createPortScanDetector(opts.portscan);
  const flows = Array.from({ length: 20 }, (_, i) => flow({ event: 'destroy', dstPort: 1 + i, observedAt: T0 + i }));
  assert.equal(run(d, flows).length, 1);
});

test('portscan: flows further apart than the window do not add up; the window slides', () => {
  const d = createPortScanDetector(opts.portscan);
  // 10 ports at T0, 10 more at T0 + 60 s: the first 10 left the window (>= windowMs old).
  const a = Array.from({ length: 10 }, (_, i) => flow({ dstPort: 1 + i, observedAt: T0 }));
  const b = Array.from({ length: 10 }, (_, i) => flow({ dstPort: 101 + i, observedAt: T0 + 60_000 }));
  assert.equal(run(d, [...a, ...b]).length, 0);
  // 9 more 59.999 s after the second batch: 19 in the window, still nothing; one more port makes 20.
  const c = Array.from({ length: 9 }, (_, i) => flow({ dstPort: 201 + i, observedAt: T0 + 119_999 }));
  assert.equal(run(d, c).length, 0);
  const [f] = d.observe(flow({ dstPort: 300, observedAt: T0 + 119_999 }));
  assert.ok(f);
  assert.equal(f.firstSeen, T0 + 60_000);
  assert.equal(f.evidence.distinctPorts, 20);
});

test('portscan: event time, not arrival order of wall clock; start wins over observedAt', () => {
  const d = createPortScanDetector(opts.portscan);
  // observedAt far apart, but the flows started within one second.
  const flows = Array.from({ length: 20 }, (_, i) => flow({ dstPort: 1 + i, start: T0 + i * 50, observedAt: T0 + i * 3_600_000 }));
  const out = run(d, flows);
  assert.equal(out.length, 1);
  assert.equal(out[0].firstSeen, T0);
});

test('portscan: a slow scan lasting several windows gives one finding per window, each with its own id', () => {
  const d = createPortScanDetector(opts.portscan);
  // One new port a second for 200 s: windows start at 0, 60, 120, 180 s; each reaches 20 ports.
  // Each window is raised at its 20th port and closed (final form, same id, 60 ports) when the
  // next window's first port arrives; the last one is still open until flush.
  const flows = Array.from({ length: 200 }, (_, i) => flow({ dstPort: 1 + i, observedAt: T0 + i * 1000 }));
  const out = [...run(d, flows), ...d.flush()];
  const raised = out.filter((f) => f.evidence.distinctPorts === 20);
  assert.deepEqual(
    raised.map((f) => f.firstSeen - T0),
    [0, 60_000, 120_000, 180_000],
  );
  assert.equal(new Set(raised.map((f) => f.id)).size, 4);
  const last = lastForms(out);
  assert.deepEqual(
    [...last.values()].map((f) => [f.firstSeen - T0, f.lastSeen - T0, f.evidence.distinctPorts]),
    [
      [0, 59_000, 60],
      [60_000, 119_000, 60],
      [120_000, 179_000, 60],
      [180_000, 199_000, 20],
    ],
  );
  assert.deepEqual(
    out.map((f) => f.id),
    [...last.keys()].flatMap((id, i) => (i < 3 ? [id, id] : [id])),
  );
});

test('portscan: replaying the same flows in a new detector gives the same finding ids', () => {
  const flows = [
    ...Array.from({ length: 30 }, (_, i) => flow({ dstPort: 1 + i, observedAt: T0 + i * 10 })),
    ...Array.from({ length: 25 }, (_, i) => flow({ srcAddr: '10.50.0.3', dstPort: 1 + i, observedAt: T0 + 5_000 + i })),
  ];
  const a = run(createPortScanDetector(opts.portscan), flows);
  const b = run(createPortScanDetector(opts.portscan), flows);
  assert.equal(a.length, 2);
  assert.deepEqual(
    b.map((f) => f.id),
    a.map((f) => f.id),
  );
  assert.deepEqual(b, a);
  // A different window start gives a different id.
  const c = run(
    createPortScanDetector(opts.portscan),
    flows.map((f) => ({ ...f, observedAt: f.observedAt + 1 })),
  );
  assert.notEqual(c[0].id, a[0].id);
});

test('portscan: updateOnDouble re-emits the same id when the count doubles', () => {
  const d = createPortScanDetector({ ...opts.portscan, updateOnDouble: true });
  const out = run(
    d,
    Array.from({ length: 100 }, (_, i) => flow({ dstPort: 1 + i, observedAt: T0 + i })),
  );
  assert.deepEqual(
    out.map((f) => f.evidence.distinctPorts),
    [20, 40, 80],
  );
  assert.equal(new Set(out.map((f) => f.id)).size, 1);
  assert.ok(out[0].score < out[1].score && out[1].score < out[2].score);
});

test('portscan: ICMP and other portless flows are ignored', () => {
  const d = createPortScanDetector(opts.portscan);
  const icmp = Array.from({ length: 40 }, (_, i) => flow({ protocol: 1, srcPort: undefined, dstPort: undefined, icmpType: 8, icmpCode: 0, observedAt: T0 + i }));
  assert.equal(run(d, icmp).length, 0);
  assert.equal(d.stats().keys, 0);
});

test('hostsweep: minHosts-1 hosts gives no finding, minHosts gives one; other ports kept apart', () => {
  const d = createHostSweepDetector(opts.hostsweep);
  const ssh = (i: number) => flow({ srcAddr: '203.0.113.9', dstAddr: `198.51.100.${i + 1}`, dstPort: 22, observedAt: T0 + i });
  assert.equal(
    run(
      d,
      Array.from({ length: 15 }, (_, i) => ssh(i)),
    ).length,
    0,
  );
  // Port 23 to a 16th host is another service: no finding.
  assert.equal(d.observe(flow({ srcAddr: '203.0.113.9', dstAddr: '198.51.100.200', dstPort: 23, observedAt: T0 + 20 })).length, 0);
  const [f] = d.observe(ssh(15));
  assert.ok(f);
  assert.equal(f.detector, 'hostsweep.horizontal');
  assert.equal(f.entity.addr, '203.0.113.9');
  assert.equal(f.evidence.distinctHosts, 16);
  assert.deepEqual(f.evidence.ports, [22]);
  assert.equal(f.peers[0], '198.51.100.1');
  assert.equal(f.peers[15], '198.51.100.16');
  assert.match(f.summary, /tcp\/22 on 16 distinct hosts/);
});

test('hostsweep: ICMP echo sweep keyed by ICMP type', () => {
  const d = createHostSweepDetector(opts.hostsweep);
  const ping = Array.from({ length: 16 }, (_, i) =>
    flow({ protocol: 1, srcPort: undefined, dstPort: undefined, icmpType: 8, icmpCode: 0, dstAddr: `10.60.0.${i + 1}`, observedAt: T0 + i }),
  );
  const out = run(d, ping);
  assert.equal(out.length, 1);
  assert.equal(out[0].evidence.icmpType, 8);
});

test('memory: keys beyond maxKeys are evicted least recently seen first and counted', () => {
  const d = createPortScanDetector(opts.portscan, { limits: { maxKeys: 100 } });
  for (let i = 0; i < 250; i++) d.observe(flow({ srcAddr: `10.1.${i >> 8}.${i & 255}`, observedAt: T0 + i }));
  assert.equal(d.stats().keys, 100);
  assert.equal(d.stats().evictedKeys, 150);
});

test('memory: items per key stop at maxItemsPerKey once over the threshold', () => {
  const d = createPortScanDetector({ ...opts.portscan, updateOnDouble: true }, { limits: { maxItemsPerKey: 30 } });
  const out = run(
    d,
    Array.from({ length: 100 }, (_, i) => flow({ dstPort: 1 + i, observedAt: T0 + i })),
  );
  assert.equal(out.length, 1); // 40 (a doubling) can never be reached with 30 items
  assert.throws(() => createPortScanDetector(opts.portscan, { limits: { maxItemsPerKey: 19 } }), DetectError);
});

test('expire drops keys whose newest event is older than the window', () => {
  const d = createPortScanDetector(opts.portscan);
  run(
    d,
    Array.from({ length: 5 }, (_, i) => flow({ dstPort: 1 + i, observedAt: T0 })),
  );
  d.observe(flow({ srcAddr: '10.50.0.9', observedAt: T0 + 30_000 }));
  d.expire(T0 + 59_999);
  assert.equal(d.stats().keys, 2);
  d.expire(T0 + 60_000);
  assert.equal(d.stats().keys, 1);
  d.expire(T0 + 90_000);
  assert.equal(d.stats().keys, 0);
});

test('bad options throw DetectError with code and field', () => {
  assert.throws(
    () => createPortScanDetector({ ...opts.portscan, minPorts: 0 }),
    (e: unknown) => e instanceof DetectError && e.code === 'FLOE_DETECT_BAD_OPTIONS' && e.field === 'portscan.minPorts',
  );
  assert.throws(
    () => createHostSweepDetector({ ...opts.hostsweep, severity: 'urgent' as never }),
    (e: unknown) => e instanceof DetectError && e.field === 'hostsweep.severity',
  );
});

test('scanScore: 0.5..0.75 at the threshold, rising with the count, within [0, 1]', () => {
  assert.equal(scanScore(20, 20, 60_000, 60_000), 0.5);
  assert.equal(scanScore(20, 20, 0, 60_000), 0.75);
  assert.ok(scanScore(40, 20, 0, 60_000) > scanScore(20, 20, 0, 60_000));
  assert.ok(scanScore(65535, 20, 0, 60_000) <= 1);
});

test('memory: a key past maxItemsPerKey keeps an approximate distinct count (HyperLogLog) in evidence.distinctEstimate', () => {
  const d = createPortScanDetector(opts.portscan, { limits: { maxItemsPerKey: 30 } });
  run(
    d,
    Array.from({ length: 2000 }, (_, i) => flow({ dstPort: 1 + i, observedAt: T0 + i })),
  );
  const [f] = d.flush();
  assert.deepEqual([f.evidence.distinctPorts, f.evidence.capped, f.evidence.flows], [30, true, 2000]);
  const est = f.evidence.distinctEstimate as number;
  assert.ok(Math.abs(est - 2000) / 2000 <= 3 * (1.04 / 64), `estimate ${est} for 2000 ports`);
  const exact = createPortScanDetector(opts.portscan);
  run(
    exact,
    Array.from({ length: 200 }, (_, i) => flow({ dstPort: 1 + i, observedAt: T0 + i })),
  );
  assert.equal(exact.flush()[0].evidence.distinctEstimate, undefined, 'absent while the counts are exact');
});
