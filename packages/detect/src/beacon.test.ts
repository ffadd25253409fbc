// beacon.periodic on real captures (testdata/capture-rules.sh, SOURCES.md): curl against a python3
// http.server every 2 s, every 1.5-2.5 s, with exponential gaps (not periodic), and in one burst.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type FlowRecord } from '@floe/flow';
import { BEACON_ID, createBeaconDetector, DetectError, defaultBeaconOptions, intervalStats } from './index.js';
import { loadCapture as load, runDetector as run, testdata } from './test-captures.js';

const BEACON = testdata('captured-conntrack-E-extended-timestamp-beacon-2s.log');
const JITTER = testdata('captured-conntrack-E-extended-timestamp-beacon-jitter.log');
const BURSTY = testdata('captured-conntrack-E-extended-timestamp-http-bursty.log');
const BURST = testdata('captured-conntrack-E-extended-timestamp-http-burst.log');

/** Interval statistics of the NEW events of a capture, as the detector computes them. */
function newStats(flows: FlowRecord[]) {
  const times = flows.filter((f) => f.event === 'new').map((f) => f.observedAt);
  return intervalStats(times, Math.max(...times), 3_600_000, 3, new Float64Array(times.length), new Float64Array(times.length));
}

test('curl every 2 s (20 requests): one beacon finding for the source, interval 2 s, reported at medium', async () => {
  const flows = await load(BEACON);
  const { all, last } = run(createBeaconDetector(defaultBeaconOptions()), flows);
  assert.equal(last.length, 1);
  const [f] = last;
  assert.equal(f.detector, BEACON_ID);
  assert.equal(f.mitre, 'T1071');
  assert.equal(f.severity, 'medium');
  assert.deepEqual([f.entity.addr, f.peers, f.evidence.dstPort, f.evidence.protocol], ['10.231.1.2', ['10.231.1.1'], 8080, 6]);
  assert.equal(f.evidence.checkins, 20);
  const interval = f.evidence.intervalMs as number;
  assert.ok(interval > 1900 && interval < 2300, `median interval ${interval} ms`);
  assert.ok((f.evidence.jitter as number) < 0.05);
  assert.match(f.summary, /^10\.231\.1\.2 connected to 10\.231\.1\.1:8080 every 2\.\d s \(median; MAD [\d.]+ % of it\) 20 times within \d+ s/);
  // Raised at the 10th check-in, updated at 20; one id.
  assert.deepEqual(
    all.map((x) => x.evidence.checkins),
    [10, 20],
  );
});

test('curl every 1.5-2.5 s (uniform jitter): still a beacon, with the jitter measured', async () => {
  const flows = await load(JITTER);
  const { last } = run(createBeaconDetector(defaultBeaconOptions()), flows);
  assert.equal(last.length, 1);
  const jitter = last[0].evidence.jitter as number;
  assert.ok(jitter > 0.05 && jitter <= 0.2, `MAD/median ${jitter}`);
  // Judged once, on all 20 check-ins (minConnections 20): just inside and just outside the tolerance.
  const s = newStats(flows);
  assert.ok(s !== undefined && s.checkins === 20);
  const all20 = { ...defaultBeaconOptions(), minConnections: 20 };
  assert.equal(run(createBeaconDetector({ ...all20, maxJitter: s.jitter }), flows).last.length, 1);
  assert.equal(run(createBeaconDetector({ ...all20, maxJitter: s.jitter * 0.99 }), flows).last.length, 0);
});

test('20 requests with exponential gaps between the same hosts: judged, not periodic, no finding', async () => {
  const flows = await load(BURSTY);
  const d = createBeaconDetector(defaultBeaconOptions());
  assert.deepEqual(run(d, flows).all, []);
  const s = newStats(flows);
  assert.ok(s !== undefined && s.jitter > 0.3, `MAD/median ${s?.jitter}`);
});

test('a burst of 30 requests: one check-in, no finding; with minIntervalMs 0 the burst itself is not judged a beacon below 1 s apart either', async () => {
  const flows = await load(BURST);
  assert.deepEqual(run(createBeaconDetector(defaultBeaconOptions()), flows).all, []);
  // Without merging, the 30 back-to-back requests are 30 check-ins; whatever their regularity, the
  // median interval is below 1 s, far from a C2 sleep.
  const s = newStats(flows);
  assert.ok(s !== undefined && s.medianMs < 1000, `median ${s?.medianMs} ms`);
});

test('egressOnly: the same beacon marked internal or ingress by the policy is ignored, marked egress or external (neither end in its networks) it is found', async () => {
  const flows = await load(BEACON);
  const as = (direction: 'internal' | 'ingress' | 'egress' | 'external') => flows.map((f) => ({ ...f, direction }));
  assert.equal(run(createBeaconDetector(defaultBeaconOptions()), as('internal')).last.length, 0);
  assert.equal(run(createBeaconDetector(defaultBeaconOptions()), as('ingress')).last.length, 0);
  assert.equal(run(createBeaconDetector(defaultBeaconOptions()), as('egress')).last.length, 1);
  assert.equal(run(createBeaconDetector(defaultBeaconOptions()), as('external')).last.length, 1);
  assert.equal(run(createBeaconDetector({ ...defaultBeaconOptions(), egressOnly: false }), as('internal')).last.length, 1);
});

test('the same finding id streaming (default lateness) and offline (lateness Infinity)', async () => {
  const flows = await load(JITTER);
  const a = run(createBeaconDetector(defaultBeaconOptions()), flows).last;
  const b = run(createBeaconDetector(defaultBeaconOptions(), { lateness: Infinity }), flows).last;
  assert.deepEqual(
    a.map((f) => f.id),
    b.map((f) => f.id),
  );
});

test('bad options: FLOE_DETECT_BAD_OPTIONS naming the field', () => {
  for (const [over, field] of [
    [{ minConnections: 2 }, 'beacon.minConnections'],
    [{ historySize: 5 }, 'beacon.historySize'],
    [{ maxJitter: -1 }, 'beacon.maxJitter'],
    [{ egressOnly: 'yes' }, 'beacon.egressOnly'],
  ] as const) {
    assert.throws(
      () => createBeaconDetector({ ...defaultBeaconOptions(), ...(over as object) }),
      (e: unknown) => e instanceof DetectError && e.code === 'FLOE_DETECT_BAD_OPTIONS' && e.field === field,
    );
  }
});
