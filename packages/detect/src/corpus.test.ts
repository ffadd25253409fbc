// Detectors on real captures, parsed with the real @floe/flow parser (testdata/SOURCES.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseFile, type Finding, type FlowRecord } from '@floe/flow';
import { createDetectors, createHostSweepDetector, createPortScanDetector, defaultDetectorOptions, type Detector } from './index.js';

const testdata = (name: string) => fileURLToPath(new URL(`../testdata/${name}`, import.meta.url));
const NMAP = testdata('captured-conntrack-E-extended-timestamp-nmap-top100-scan.log');
const IKI = testdata('iki-conntrack-L-ssh-scan.txt');
/** `conntrack -L` lines carry no time; the parser stamps them with this clock. */
const DUMP_TIME = Date.UTC(2015, 0, 1);

async function load(path: string): Promise<FlowRecord[]> {
  const r = await parseFile(path, { format: 'conntrack', now: () => DUMP_TIME });
  assert.equal(r.stats.rejected, 0);
  return r.records;
}

function run(detectors: Detector[], flows: FlowRecord[]): Finding[] {
  const out: Finding[] = [];
  for (const f of flows) for (const d of detectors) out.push(...d.observe(f));
  return out;
}

// The tests pin the thresholds they reason about (20 ports, 16 hosts); the shipped default
// port threshold is 15 (asserted in the defaults test).
const opts = { ...defaultDetectorOptions(), portscan: { ...defaultDetectorOptions().portscan, minPorts: 20 } };

test('nmap top-100 SYN scan: exactly one vertical port-scan finding, 10.50.0.2 -> 10.60.0.14; none for the benign client', async () => {
  const flows = await load(NMAP);
  assert.equal(flows.length, 722);
  const findings = run(createDetectors(opts), flows);
  assert.equal(findings.length, 1, JSON.stringify(findings.map((f) => f.summary)));
  const [f] = findings;
  assert.equal(f.detector, 'portscan.vertical');
  assert.equal(f.entity.addr, '10.50.0.2');
  assert.deepEqual(f.peers, ['10.60.0.14']);
  assert.equal(f.evidence.distinctPorts, 20);
  assert.equal(f.mitre, 'T1046');
  // Every port in the evidence is one the scanner really probed, and the sample is its flows.
  const probed = new Set(flows.filter((x) => x.srcAddr === '10.50.0.2' && x.event === 'new').map((x) => x.dstPort));
  for (const p of f.evidence.ports ?? []) assert.ok(probed.has(p), `port ${p}`);
  for (const s of f.evidence.sample ?? []) assert.equal(s.dst, '10.60.0.14');
  assert.ok(f.firstSeen >= flows[0].observedAt && f.lastSeen <= flows[flows.length - 1].observedAt);
  assert.equal(findings.filter((x) => x.entity.addr === '10.70.0.2').length, 0);
});

test('nmap top-100 SYN scan: counts each probed connection once (NEW + UPDATE + DESTROY), so exactly 100 distinct ports', async () => {
  const flows = await load(NMAP);
  const at100 = run([createPortScanDetector({ ...opts.portscan, minPorts: 100 })], flows);
  assert.equal(at100.length, 1);
  assert.equal(at100[0].evidence.distinctPorts, 100);
  assert.equal(at100[0].evidence.flows, 100);
  assert.equal(run([createPortScanDetector({ ...opts.portscan, minPorts: 101 })], flows).length, 0);
});

test('iki conntrack -L dump: horizontal SSH sweep finding for 125.65.245.146 (20 distinct hosts on tcp/22)', async () => {
  const flows = await load(IKI);
  const findings = run(createDetectors(opts), flows);
  assert.equal(findings.length, 1, JSON.stringify(findings.map((f) => f.summary)));
  const [f] = findings;
  assert.equal(f.detector, 'hostsweep.horizontal');
  assert.equal(f.entity.addr, '125.65.245.146');
  assert.deepEqual(f.evidence.ports, [22]);
  assert.equal(f.evidence.distinctHosts, 16);
  // The dump holds 20 distinct hosts: a threshold of 20 still fires, 21 does not.
  assert.equal(run([createHostSweepDetector({ ...opts.hostsweep, minHosts: 20 })], flows)[0]?.evidence.distinctHosts, 20);
  assert.equal(run([createHostSweepDetector({ ...opts.hostsweep, minHosts: 21 })], flows).length, 0);
});

test('replaying the real captures through new detectors yields the same finding ids', async () => {
  const flows = [...(await load(NMAP)), ...(await load(IKI))];
  const a = run(createDetectors(opts), flows);
  const b = run(createDetectors(opts), await Promise.all([load(NMAP), load(IKI)]).then(([x, y]) => [...x, ...y]));
  assert.equal(a.length, 2);
  assert.deepEqual(
    b.map((f) => f.id),
    a.map((f) => f.id),
  );
});
