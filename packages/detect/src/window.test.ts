// The window engine's truth rules (issue 6), on records built like conntrack -E NEW events:
// times from the records in any order, late records, when a window closes and what its final form
// says, and no duration claimed without record times. Boundaries named: just under, at, just over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding, FlowRecord } from '@floe/flow';
import { createPortScanDetector, createHostSweepDetector, defaultDetectorOptions, DetectError, spanPhrase, DEFAULT_LATENESS_MS, type Detector } from './index.js';

const T0 = 1_796_161_454_267; // ms since epoch, the time of the captured 101-port scan
const W = 60_000;
const opts = { ...defaultDetectorOptions().portscan, minPorts: 20 };

/** A TCP SYN attempt as conntrack -E reports it on NEW; override any field. */
function flow(over: Partial<FlowRecord> = {}): FlowRecord {
  return {
    schema: 1,
    observedAt: T0,
    source: 'conntrack',
    event: 'new',
    family: 4,
    protocol: 6,
    srcAddr: '10.231.1.2',
    dstAddr: '10.231.1.1',
    srcPort: 42853,
    dstPort: 80,
    state: 'SYN_SENT',
    ...over,
  };
}

/** `n` probes of distinct ports from `port0`, at T0 + at(i). */
function probes(n: number, at: (i: number) => number, over: Partial<FlowRecord> = {}, port0 = 1): FlowRecord[] {
  return Array.from({ length: n }, (_, i) => flow({ dstPort: port0 + i, observedAt: T0 + at(i), ...over }));
}

function run(d: Detector, flows: FlowRecord[]): Finding[] {
  return flows.flatMap((f) => d.observe(f));
}

test('out of order: first/last seen are the min/max of the record times, the same in any order', () => {
  const flows = probes(30, (i) => i * 100); // 0 .. 2.9 s
  const forward = createPortScanDetector(opts);
  run(forward, flows);
  const [f] = forward.flush();
  const backward = createPortScanDetector(opts);
  const raised = run(backward, flows.slice().reverse());
  const [b] = backward.flush();
  assert.deepEqual([f.firstSeen - T0, f.lastSeen - T0], [0, 2900]);
  assert.deepEqual([b.firstSeen - T0, b.lastSeen - T0], [0, 2900]);
  assert.ok(raised[0].lastSeen > raised[0].firstSeen, 'raised from the newest records first: a positive span');
  assert.equal(b.id, raised[0].id, 'the final form keeps the id it was raised with');
  assert.equal(b.summary, f.summary);
  assert.match(f.summary, /within 2\.9 s/);
  assert.deepEqual(b.evidence.sample, f.evidence.sample);
});

test('a connection whose DESTROY arrives before its NEW is counted at its NEW, as in order', () => {
  const forward: FlowRecord[] = [];
  for (let i = 0; i < 20; i++) {
    const c = { dstPort: 1 + i, ctId: String(9000 + i) };
    forward.push(flow({ ...c, observedAt: T0 + i }), flow({ ...c, event: 'destroy', state: 'CLOSE', observedAt: T0 + 30_000 + i }));
  }
  const last = (flows: FlowRecord[]): Finding => {
    const d = createPortScanDetector(opts);
    const out = [...run(d, flows), ...d.flush()];
    return out[out.length - 1];
  };
  const a = last(forward);
  const b = last(forward.slice().reverse());
  assert.deepEqual([b.firstSeen - T0, b.lastSeen - T0, b.evidence.flows], [0, 19, 20]);
  assert.deepEqual([a.firstSeen - T0, a.lastSeen - T0, a.evidence.flows], [0, 19, 20]);
  assert.deepEqual(b.evidence.sample, a.evidence.sample);
  assert.ok(b.evidence.sample?.every((x) => x.state === 'SYN_SENT'));
});

test("late records: just under windowMs older than the key's newest counts; at windowMs it is dropped and counted", () => {
  const d = createPortScanDetector(opts);
  run(
    d,
    probes(10, () => W),
  ); // ten ports at T0 + 60 s
  run(d, [flow({ dstPort: 500, observedAt: T0 + 1 })]); // 59.999 s older: counts
  assert.equal(d.stats().lateFlows, 0);
  assert.equal(d.stats().attempts, 11);
  run(d, [flow({ dstPort: 501, observedAt: T0 })]); // 60 s older: too old for this window
  assert.equal(d.stats().lateFlows, 1);
  assert.equal(d.stats().attempts, 11);
});

test('a window closes at first + windowMs: a record of its key just under it counts, one at it emits the final form', () => {
  const d = createPortScanDetector(opts);
  const [raised] = run(
    d,
    probes(20, (i) => i),
  );
  assert.equal(raised.evidence.distinctPorts, 20);
  assert.deepEqual(run(d, [flow({ dstPort: 100, observedAt: T0 + W - 1 })]), []);
  const out = d.observe(flow({ dstPort: 101, observedAt: T0 + W }));
  assert.equal(out.length, 1);
  assert.equal(out[0].id, raised.id);
  assert.equal(out[0].evidence.distinctPorts, 21);
  assert.equal(out[0].lastSeen, T0 + W - 1);
  assert.equal(d.stats().finals, 1);
  assert.equal(d.stats().openFindings, 0);
});

test('record-driven close of another key: at windowMs + lateness after its first seen, not 1 ms before', () => {
  const d = createPortScanDetector(opts);
  run(
    d,
    probes(25, (i) => i),
  );
  const other = (t: number) => d.observe(flow({ srcAddr: '10.231.9.9', dstPort: 7, observedAt: T0 + t }));
  assert.deepEqual(other(W + DEFAULT_LATENESS_MS - 1), []);
  const out = other(W + DEFAULT_LATENESS_MS);
  assert.equal(out.length, 1);
  assert.equal(out[0].evidence.distinctPorts, 25);
  assert.equal(out[0].entity.addr, '10.231.1.2');
});

test("lateness: Infinity never closes on other keys' records; lateness 0 closes at windowMs", () => {
  const inf = createPortScanDetector(opts, { lateness: Infinity });
  run(
    inf,
    probes(25, (i) => i),
  );
  assert.deepEqual(inf.observe(flow({ srcAddr: '10.231.9.9', observedAt: T0 + 1e9 })), []);
  assert.equal(inf.flush()[0].evidence.distinctPorts, 25);
  const zero = createPortScanDetector(opts, { lateness: 0 });
  run(
    zero,
    probes(25, (i) => i),
  );
  assert.equal(zero.observe(flow({ srcAddr: '10.231.9.9', observedAt: T0 + W })).length, 1);
  for (const bad of [-1, Number.NaN]) {
    assert.throws(
      () => createPortScanDetector(opts, { lateness: bad }),
      (e: unknown) => e instanceof DetectError && e.field === 'lateness',
    );
  }
});

test('expire(now): nothing just under the window end, the final form at it; an unchanged finding is not emitted again', () => {
  const d = createPortScanDetector(opts);
  run(
    d,
    probes(25, (i) => i),
  );
  run(
    d,
    probes(20, (i) => i, { srcAddr: '10.231.1.3' }),
  ); // raised at its 20th port, unchanged since
  assert.deepEqual(d.expire(T0 + W - 1), []);
  assert.equal(d.stats().openFindings, 2);
  const out = d.expire(T0 + W);
  assert.deepEqual(
    out.map((f) => [f.entity.addr, f.evidence.distinctPorts]),
    [['10.231.1.2', 25]],
  );
  assert.equal(d.stats().openFindings, 0);
  assert.deepEqual(d.flush(), []);
});

test('flush: the final form of every open finding once; a second flush returns nothing', () => {
  const d = createHostSweepDetector(defaultDetectorOptions().hostsweep);
  const sweep = Array.from({ length: 40 }, (_, i) => flow({ dstAddr: `10.60.0.${i + 1}`, dstPort: 22, observedAt: T0 + i * 10 }));
  const raised = run(d, sweep);
  assert.deepEqual(
    raised.map((f) => f.evidence.distinctHosts),
    [16],
  );
  const fin = d.flush();
  assert.deepEqual(
    fin.map((f) => [f.id, f.evidence.distinctHosts, f.evidence.flows, f.lastSeen - f.firstSeen]),
    [[raised[0].id, 40, 40, 390]],
  );
  assert.match(fin[0].summary, /probed tcp\/22 on 40 distinct hosts within 390 ms/);
  assert.deepEqual(d.flush(), []);
});

test('a key evicted by maxKeys while its finding is open emits its final form first', () => {
  // maxKeys 2: the protected segment holds 1 key (PROTECTED_SHARE 0.8). The scanner is protected
  // until another key reaches two ports and demotes it; then it is probation's only key.
  const d = createPortScanDetector(opts, { limits: { maxKeys: 2 } });
  run(
    d,
    probes(22, (i) => i),
  );
  assert.deepEqual(d.observe(flow({ srcAddr: '10.231.1.3', observedAt: T0 + 30 })), [], 'a one-shot key evicts nothing yet');
  assert.deepEqual(d.observe(flow({ srcAddr: '10.231.1.3', dstPort: 81, observedAt: T0 + 31 })), []);
  const out = d.observe(flow({ srcAddr: '10.231.1.4', observedAt: T0 + 32 }));
  assert.deepEqual(
    out.map((f) => f.evidence.distinctPorts),
    [22],
  );
  assert.deepEqual([d.stats().evictedKeys, d.stats().evictedPartway, d.stats().protectedKeys], [1, 1, 1], 'the evicted scanner was part-way (demoted)');
});

test('records without their own time: counted, but no duration claimed and timesFromRecords false', () => {
  // A dump line (snapshot) or a record the parser marked untimed, read while the reader clock ticks.
  for (const over of [{ event: 'snapshot' as const }, { untimed: true as const }]) {
    const d = createPortScanDetector(opts);
    const [f] = run(
      d,
      probes(20, (i) => i * 3, over),
    );
    assert.equal(f.evidence.timesFromRecords, false);
    assert.equal(f.summary, '10.231.1.2 probed 20 distinct ports of 10.231.1.1 (timing unknown: the records carry no time; threshold 20 in 60 s)');
  }
  // A snapshot with the flow's own start time (conntrack -L with [start=...]) is timed.
  const s = createPortScanDetector(opts);
  const [g] = run(
    s,
    probes(20, (i) => i * 3, { event: 'snapshot' }).map((x) => ({ ...x, start: x.observedAt })),
  );
  assert.equal(g.evidence.timesFromRecords, true);
  assert.match(g.summary, /within 57 ms/);
  // One untimed record in a timed window takes the claim away.
  const m = createPortScanDetector(opts);
  const [h] = run(m, [...probes(19, (i) => i), flow({ dstPort: 999, untimed: true, observedAt: T0 + 5 })]);
  assert.equal(h.evidence.timesFromRecords, false);
  assert.doesNotMatch(h.summary, /within/);
});

test('records sharing one time stamp: "all at one recorded time", never "within 0 s"', () => {
  const d = createPortScanDetector(opts);
  const [f] = run(
    d,
    probes(20, () => 0),
  );
  assert.equal(f.evidence.timesFromRecords, true);
  assert.match(f.summary, /of 10\.231\.1\.1 all at one recorded time \(threshold 20 in 60 s\)$/);
});

test('spanPhrase boundaries: 0 ms, 999 ms, 1000 ms, 9949 ms, 10000 ms', () => {
  assert.equal(spanPhrase(T0, T0), 'all at one recorded time');
  assert.equal(spanPhrase(T0, T0 + 1), 'within 1 ms');
  assert.equal(spanPhrase(T0, T0 + 999), 'within 999 ms');
  assert.equal(spanPhrase(T0, T0 + 1000), 'within 1.0 s');
  assert.equal(spanPhrase(T0, T0 + 9949), 'within 9.9 s');
  assert.equal(spanPhrase(T0, T0 + 10_000), 'within 10 s');
  assert.equal(spanPhrase(T0 + 5, T0), 'all at one recorded time', 'never a negative span');
});

test('records with a time that is not a finite number are ignored, not counted', () => {
  const d = createPortScanDetector(opts);
  run(d, [flow({ observedAt: Number.NaN }), flow({ observedAt: Number.POSITIVE_INFINITY, dstPort: 2 }), flow({ start: Number.NaN, dstPort: 3 })]);
  assert.equal(d.stats().attempts, 0);
  assert.equal(d.stats().keys, 0);
});

test('connection memory: a DESTROY just under CONNECTION_MEMORY_MS after its NEW does not count again; at it, it counts', async () => {
  const { CONNECTION_MEMORY_MS } = await import('./index.js');
  const d = createPortScanDetector(opts);
  const conn = { ctId: '77', dstPort: 5 };
  d.observe(flow({ ...conn }));
  d.observe(flow({ ...conn, event: 'destroy', observedAt: T0 + CONNECTION_MEMORY_MS - 1 }));
  assert.equal(d.stats().attempts, 1);
  d.observe(flow({ ...conn, event: 'destroy', observedAt: T0 + CONNECTION_MEMORY_MS }));
  assert.equal(d.stats().attempts, 2);
});

test('records the detector does not count (an UPDATE, ICMP for the port scan) still move event time on and close windows', () => {
  const d = createPortScanDetector(opts);
  run(
    d,
    probes(25, (i) => i),
  );
  const icmp = { protocol: 1, srcPort: undefined, dstPort: undefined, icmpType: 8, icmpCode: 0 };
  assert.deepEqual(d.observe(flow({ ...icmp, observedAt: T0 + W + DEFAULT_LATENESS_MS - 1 })), []);
  assert.deepEqual(
    d.observe(flow({ event: 'update', observedAt: T0 + W + DEFAULT_LATENESS_MS })).map((f) => f.evidence.distinctPorts),
    [25],
  );
});
