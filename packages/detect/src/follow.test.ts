// The detectors that follow the scan detectors' first-sighting gate under `createDetectors`
// (bruteforce.auth for kernel LOG lines, beacon.periodic, exfil.volume, lateral.newpeer for address
// entities; gate.ts `answerFor`) skip a source's held first attempt and count it on release: they
// must find exactly what they find alone, without a gate, on every real capture (testdata/,
// SOURCES.md), in order and reversed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFile, type Finding, type FlowRecord } from '@floe/flow';
import { createBeaconDetector, createBruteForceDetector, createDetectors, createExfilDetector, createLateralDetector } from './index.js';
import type { Detector } from './detector.js';
import { EXFIL_LOG, LATERAL_LOG, DNS_LOG, SLOW_LOG, SLOW_DUMP, labPolicy, lastForms, runFlush, testdata } from './test-lab.js';

const FOLLOWERS = new Set(['bruteforce.auth', 'beacon.periodic', 'exfil.volume', 'lateral.newpeer']);

// Thresholds low enough for every capture to raise what it shows (the brute-force ones as in
// bruteforce.test.ts for the Proxmox log: 3 in 4 hours).
const policy = labPolicy(
  '  exfil: { windowMs: 5000, minBytes: 100000 }\n  lateral: { learnMs: 5000, windowMs: 60000, manyPeers: 10 }\n  bruteforce: { minFailures: 3, windowMs: 14400000 }\n',
  { extra: 'namespaces:\n  allow: [{ from: frontend, to: [backend] }]\n' },
);
const deps = { namespaceAllowed: policy.namespaceAllowed };

const CAPTURES: Array<[string, 'conntrack' | 'kernel-log']> = [
  [EXFIL_LOG, 'conntrack'],
  [SLOW_LOG, 'conntrack'],
  [SLOW_DUMP, 'conntrack'],
  [LATERAL_LOG, 'conntrack'],
  [DNS_LOG, 'conntrack'],
  [testdata('captured-conntrack-E-extended-timestamp-beacon-2s.log'), 'conntrack'],
  [testdata('captured-conntrack-E-extended-timestamp-beacon-jitter.log'), 'conntrack'],
  [testdata('captured-conntrack-E-extended-timestamp-http-bursty.log'), 'conntrack'],
  [testdata('captured-conntrack-E-extended-timestamp-ssh-hydra.log'), 'conntrack'],
  [testdata('captured-conntrack-E-extended-timestamp-ssh-logins.log'), 'conntrack'],
  [testdata('captured-conntrack-E-extended-timestamp-syn-spoofed.log'), 'conntrack'],
  [testdata('crowdsec-hub-proxmox-pvefw.log'), 'kernel-log'],
];

async function load(path: string, format: 'conntrack' | 'kernel-log'): Promise<FlowRecord[]> {
  const r = await parseFile(path, { format, now: () => Date.UTC(2026, 11, 1) });
  assert.equal(r.stats.rejected, 0);
  return r.records.map((f) => policy.classify(f));
}

const byId = (a: Finding, b: Finding) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function followers(flows: FlowRecord[]): Finding[] {
  return lastForms(runFlush(createDetectors(policy.policy.detectors, deps), flows))
    .filter((f) => FOLLOWERS.has(f.detector))
    .sort(byId);
}

function alone(flows: FlowRecord[]): Finding[] {
  const d = policy.policy.detectors;
  const dets: Detector[] = [createBruteForceDetector(d.bruteforce), createBeaconDetector(d.beacon), createExfilDetector(d.exfil), createLateralDetector(d.lateral, deps)];
  return lastForms(runFlush(dets, flows)).sort(byId);
}

test('brute force, beacon, exfil and lateral find the same behind the gate as alone, on every capture, in order and reversed', async () => {
  const raised = new Set<string>();
  for (const [path, format] of CAPTURES) {
    const flows = await load(path, format);
    for (const order of [flows, [...flows].reverse()]) {
      const expected = alone(order);
      assert.deepEqual(followers(order), expected, `${path} ${order === flows ? 'in order' : 'reversed'}`);
      for (const f of expected) raised.add(f.detector);
    }
  }
  // Every follower raised on some capture: the comparison is not between two empty lists.
  assert.deepEqual([...raised].sort(), [...FOLLOWERS].sort());
});

test('a source seen once with its upload (a DESTROY-only view: one record of 30 MB out) raises exfil.volume behind the gate', async () => {
  const upload = (await load(EXFIL_LOG, 'conntrack')).filter((f) => (f.bytesOrig ?? 0) > 1_000_000);
  assert.equal(upload.length, 1);
  const found = followers(upload);
  assert.deepEqual(
    found.map((f) => [f.detector, f.entity.addr, f.evidence.bytesOut]),
    [['exfil.volume', '10.232.1.2', upload[0].bytesOrig]],
  );
  assert.deepEqual(found, alone(upload));
});
