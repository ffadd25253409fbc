// scan.random on a real capture (testdata/capture-random-scan.sh: nmap, one SYN per random
// (host, port) pair, 40 pairs over 18 hosts of 10.232.2.0/24 and 40 ports, conntrack -E in the
// victim namespace), and its boundaries on records built like those NEW events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseFile, type Finding, type FlowRecord } from '@floe/flow';
import { createDetectors, createRandomScanDetector, defaultDetectorOptions, DetectError, type Detector, type RandomScanOptions } from './index.js';

const CAPTURE = fileURLToPath(new URL('../testdata/captured-conntrack-E-extended-timestamp-nmap-random-pairs.log', import.meta.url));
const defaults = defaultDetectorOptions().randomScan as RandomScanOptions;
const T0 = 1_796_170_215_446;

function run(dets: Detector[], flows: FlowRecord[]): Finding[] {
  const last = new Map<string, Finding>();
  for (const f of flows) for (const d of dets) for (const x of d.observe(f)) last.set(x.id, x);
  for (const d of dets) for (const x of d.flush()) last.set(x.id, x);
  return [...last.values()];
}

function probe(host: number, port: number, i: number, over: Partial<FlowRecord> = {}): FlowRecord {
  return {
    schema: 1,
    observedAt: T0 + i * 100,
    source: 'conntrack',
    event: 'new',
    family: 4,
    protocol: 6,
    srcAddr: '10.232.1.2',
    dstAddr: `10.232.2.${host}`,
    srcPort: 40000 + i,
    dstPort: port,
    state: 'SYN_SENT',
    ctId: String(1000 + i),
    ...over,
  };
}

test('real random scan (nmap, 40 random host:port pairs): scan.random fires with its real counts; vertical and horizontal do not', async () => {
  const { records, stats } = await parseFile(CAPTURE, { format: 'conntrack' });
  assert.equal(stats.rejected, 0);
  assert.equal(records.length, 40);
  const findings = run(createDetectors(defaultDetectorOptions()), records);
  assert.deepEqual(
    findings.map((f) => f.detector),
    ['scan.random'],
  );
  const [f] = findings;
  assert.equal(f.entity.addr, '10.232.1.2');
  assert.equal(f.mitre, 'T1046');
  assert.equal(f.severity, 'high');
  const e = f.evidence;
  assert.deepEqual([e.flows, e.distinctPairs, e.distinctHosts, e.distinctPorts], [40, 40, 18, 40]);
  const pairs = e.pairs as string[];
  assert.equal(pairs.length, 40);
  assert.ok(pairs.includes('10.232.2.12:611/tcp'), 'the first probe of the capture');
  assert.equal(f.firstSeen, 1_796_170_215_446);
  assert.equal(f.lastSeen, 1_796_170_260_540);
  assert.match(f.summary, /^10\.232\.1\.2 probed 40 distinct host:port pairs \(18 hosts, 40 ports\) within 45 s \(threshold 25 in 300 s\)$/);
});

test('minPairs - 1 pairs: no finding; minPairs pairs over 6 hosts and 6 ports: one', () => {
  const pairs = Array.from({ length: 25 }, (_, i) => probe(1 + (i % 6), 100 + i, i));
  const d = createRandomScanDetector(defaults);
  assert.equal(run([d], pairs.slice(0, 24)).length, 0);
  const d2 = createRandomScanDetector(defaults);
  const out = run([d2], pairs);
  assert.equal(out.length, 1);
  assert.deepEqual([out[0].evidence.distinctPairs, out[0].evidence.distinctHosts, out[0].evidence.distinctPorts], [25, 6, 25]);
});

test('25 pairs on only 5 hosts (a multi-host port scan) or on only 5 ports (a multi-port sweep) raise no random scan', () => {
  const fiveHosts = Array.from({ length: 25 }, (_, i) => probe(1 + (i % 5), 100 + i, i));
  assert.equal(run([createRandomScanDetector(defaults)], fiveHosts).length, 0);
  const fivePorts = Array.from({ length: 25 }, (_, i) => probe(1 + i, [22, 80, 443, 3389, 8080][i % 5], i));
  assert.equal(run([createRandomScanDetector(defaults)], fivePorts).length, 0);
  // Broadening later raises it when the pair count reaches the next multiple of minPairs (50).
  const broader = [...fiveHosts, ...Array.from({ length: 25 }, (_, i) => probe(6 + (i % 5), 2000 + i, 25 + i))];
  const d = createRandomScanDetector(defaults);
  const raisedAt: number[] = [];
  for (const f of broader) for (const x of d.observe(f)) if (x.evidence.distinctPairs !== undefined) raisedAt.push(x.evidence.distinctPairs as number);
  assert.deepEqual(raisedAt, [50]);
});

test('repeated pairs and UPDATE events count once; ICMP is ignored', () => {
  const flows: FlowRecord[] = [];
  for (let i = 0; i < 24; i++) {
    const p = probe(1 + (i % 8), 100 + i, i);
    flows.push(p, { ...p, event: 'update', state: 'SYN_RECV' }, { ...p, ctId: String(5000 + i), srcPort: 50000 + i });
  }
  flows.push(probe(1, 0, 99, { protocol: 1, dstPort: undefined, srcPort: undefined, icmpType: 8, icmpCode: 0 }));
  assert.equal(run([createRandomScanDetector(defaults)], flows).length, 0, '24 distinct pairs');
});

test('bad randomScan options throw DetectError naming the field', () => {
  assert.throws(
    () => createRandomScanDetector({ ...defaults, minPairs: 1 }),
    (e: unknown) => e instanceof DetectError && e.field === 'randomScan.minPairs',
  );
  assert.throws(
    () => createRandomScanDetector({ ...defaults, minHosts: 30 }),
    (e: unknown) => e instanceof DetectError && e.field === 'randomScan.minHosts',
  );
});
