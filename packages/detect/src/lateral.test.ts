// lateral.newpeer on a real capture (testdata/capture-exfil-dns-lateral.sh): 10.232.1.2 (namespace
// frontend, workload web, in the tests' inventory) reaches 10.232.1.20:8080 (backend) and
// 10.232.1.3:8080 (frontend) three times in its first 3 s, then, 6 s later, those two again, a new
// frontend peer 10.232.1.5:8080, and then 23 new backend peers: .20-.31 on tcp/22, .21-.31 on tcp/8080.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLateralDetector, defaultLateralOptions, trustDomain, type LateralOptions } from './index.js';
import { LATERAL_LOG, labPolicy, lastForms, loadClassified, runFlush } from './test-lab.js';

const allowFrontendBackend = 'namespaces:\n  allow: [{ from: frontend, to: [backend] }]\n';
const policy = labPolicy('  lateral: { learnMs: 5000, windowMs: 60000, manyPeers: 10 }\n', { extra: allowFrontendBackend });
const opts = (o: Partial<LateralOptions> = {}): LateralOptions => ({ ...policy.policy.detectors.lateral, ...o });
const deps = { namespaceAllowed: policy.namespaceAllowed };
/** The 23 new backend peers of the second phase: tcp/22 on .20-.31 and anything on .21-.31. */
const isSweep = (f: { dstAddr: string; dstPort?: number }) => {
  const last = Number(f.dstAddr.split('.')[3]);
  return f.dstPort === 22 || (last >= 21 && last <= 31);
};

test('lateral: 23 new backend peers after the learning period: one finding, raised at the first, high from the 10th', async () => {
  const flows = await loadClassified(LATERAL_LOG, policy);
  const all = runFlush([createLateralDetector(opts(), deps)], flows);
  const found = lastForms(all);
  assert.equal(found.length, 1, JSON.stringify(found.map((f) => f.summary)));
  const [f] = found;
  assert.equal(f.detector, 'lateral.newpeer');
  assert.equal(f.mitre, 'T1021');
  assert.equal(f.severity, 'high');
  assert.deepEqual(f.entity, { addr: '10.232.1.2', namespace: 'frontend', workload: 'web' });
  assert.equal(f.evidence.newPeers, 23);
  assert.equal(f.evidence.distinctHosts, 12);
  assert.deepEqual(f.evidence.ports, [22, 8080]);
  assert.deepEqual(f.evidence.toDomains, ['ns:backend']);
  const peers = f.evidence.peerList as Array<{ addr: string; port: number; allowedByPolicy?: boolean }>;
  assert.ok(!peers.some((p) => p.addr === '10.232.1.20' && p.port === 8080), 'learnt in the learning period');
  assert.ok(!peers.some((p) => p.addr === '10.232.1.5' || p.addr === '10.232.1.3'), 'same namespace: no boundary');
  assert.ok(
    peers.every((p) => p.allowedByPolicy === true),
    'frontend -> backend is allowed, and still a boundary',
  );
  // Emissions: raised (medium) at the first new peer, updated (high) at the 10th and at the 20th, final with 23.
  const forms = all.filter((x) => x.id === f.id);
  assert.deepEqual(
    forms.map((x) => [x.severity, x.evidence.newPeers]),
    [
      ['medium', 1],
      ['high', 10],
      ['high', 20],
      ['high', 23],
    ],
  );
});

test('lateral: quiet on the same traffic without the sweep (known peer, same-namespace new peer)', async () => {
  const flows = (await loadClassified(LATERAL_LOG, policy)).filter((f) => !isSweep(f));
  assert.ok(
    flows.some((f) => f.dstAddr === '10.232.1.5'),
    'the new same-namespace peer is kept',
  );
  assert.ok(flows.some((f) => f.dstAddr === '10.232.1.20' && f.dstPort === 8080));
  assert.equal(runFlush([createLateralDetector(opts(), deps)], flows).length, 0);
});

test('lateral: quiet while the source is still learning, and without namespaces (no inventory, no boundary)', async () => {
  const flows = await loadClassified(LATERAL_LOG, policy);
  assert.equal(runFlush([createLateralDetector(opts({ learnMs: 3_600_000 }), deps)], flows).length, 0);
  const bare = labPolicy('  {}\n', { inventory: false });
  assert.equal(runFlush([createLateralDetector(opts())], await loadClassified(LATERAL_LOG, bare)).length, 0);
});

test('lateral: with manyPeers above the sweep the finding stays medium', async () => {
  const flows = await loadClassified(LATERAL_LOG, policy);
  const [f] = lastForms(runFlush([createLateralDetector(opts({ manyPeers: 50 }), deps)], flows));
  assert.equal(f.severity, 'medium');
  assert.equal(f.evidence.newPeers, 23);
});

test('lateral: trust domains are namespaces, else named zones; built-in zones are not domains', () => {
  assert.equal(trustDomain({ namespace: 'a', zone: 'pods' }), 'ns:a');
  assert.equal(trustDomain({ zone: 'dmz' }), 'zone:dmz');
  assert.equal(trustDomain({ zone: 'pods' }), undefined);
  assert.equal(trustDomain(undefined), undefined);
});

test('lateral: the defaults are the policy defaults', () => {
  assert.deepEqual(defaultLateralOptions(), labPolicy('  {}\n').policy.detectors.lateral);
});
