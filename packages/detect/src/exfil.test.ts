// exfil.volume on a real capture (testdata/capture-exfil-dns-lateral.sh): 10.232.1.2, inside the
// policy's cluster, makes 8 rounds of a 20 kB upload and a 50 kB download to 198.51.100.10 (outside),
// then a 20 MB download, then a 30 MB upload; conntrack reports each connection's bytes in its DESTROY.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createExfilDetector, defaultExfilOptions, type ExfilOptions } from './index.js';
import { EXFIL_LOG, SLOW_DUMP, SLOW_LOG, labPolicy, lastForms, loadClassified, runFlush } from './test-lab.js';

const policy = labPolicy('  exfil: { windowMs: 5000, minBytes: 100000 }\n');
const opts = (o: Partial<ExfilOptions> = {}): ExfilOptions => ({ ...policy.policy.detectors.exfil, ...o });
/** The upload: its connection's bytes out are 30 MB. */
const isUpload = (f: { bytesOrig?: number }) => (f.bytesOrig ?? 0) > 1_000_000;

test('exfil: the 30 MB upload raises one high finding with its real bytes; the small rounds and the 20 MB download form the baseline', async () => {
  const flows = await loadClassified(EXFIL_LOG, policy);
  assert.ok(flows.some((f) => f.direction === 'egress'));
  const found = lastForms(runFlush([createExfilDetector(opts())], flows));
  assert.equal(found.length, 1, JSON.stringify(found.map((f) => f.summary)));
  const [f] = found;
  assert.equal(f.detector, 'exfil.volume');
  assert.equal(f.severity, 'high');
  assert.equal(f.mitre, 'T1048');
  assert.equal(f.entity.addr, '10.232.1.2');
  assert.equal(f.entity.namespace, 'frontend', 'the inventory reached the entity through classify');
  assert.deepEqual(f.peers, ['198.51.100.10']);
  const upload = flows.find(isUpload)!;
  assert.equal(f.evidence.bytesOut, upload.bytesOrig, 'counted once: exactly the DESTROY counters of the upload');
  assert.equal(f.evidence.bytesIn, upload.bytesReply);
  assert.ok((f.evidence.pcr as number) > 0.99);
  assert.equal(f.evidence.baselineLearnt, true);
  // 8 rounds and the download window, each in its own 5 s window, entered the baseline.
  assert.equal(f.evidence.baselineWindows, 9);
  assert.ok((f.evidence.baselineMean as number) > 10_000 && (f.evidence.baselineMean as number) < 30_000);
  assert.equal(f.firstSeen, upload.observedAt);
  assert.match(f.summary, /^10\.232\.1\.2 sent 30\.0 MB out of the cluster/);
});

test('exfil: benign traffic alone (small uploads, the 20 MB download) raises nothing', async () => {
  const flows = (await loadClassified(EXFIL_LOG, policy)).filter((f) => !isUpload(f));
  assert.ok(
    flows.some((f) => (f.bytesReply ?? 0) > 20_000_000),
    'the download is there',
  );
  assert.equal(runFlush([createExfilDetector(opts())], flows).length, 0);
  // The download is far above the baseline in bytes, but in, not out: with a floor just above one
  // round (25 kB) and the baseline learnt after one window, its window (8 kB out) stays quiet.
  assert.equal(runFlush([createExfilDetector(opts({ learnWindows: 1, minBytes: 25_000 }))], flows).length, 0);
});

test('exfil: minBytes is a floor: 40 MB lets the 30 MB upload pass; minPcr 1 (pure push only) too', async () => {
  const flows = await loadClassified(EXFIL_LOG, policy);
  assert.equal(runFlush([createExfilDetector(opts({ minBytes: 40_000_000 }))], flows).length, 0);
  assert.equal(runFlush([createExfilDetector(opts({ minPcr: 1 }))], flows).length, 0);
});

test('exfil: flows that stay inside the cluster never count (the same capture with 198.51.100.0/24 inside)', async () => {
  const p = labPolicy('  exfil: { windowMs: 5000, minBytes: 100000 }\n', { networks: false, extra: 'networks:\n  pods: [10.232.1.0/24]\n  zones: { lab: [198.51.100.0/24] }\n' });
  const flows = await loadClassified(EXFIL_LOG, p);
  assert.ok(flows.every((f) => f.direction === 'internal'));
  assert.equal(runFlush([createExfilDetector(opts())], flows).length, 0);
});

test('exfil: with a policy that names no networks, a public destination counts as outside', async () => {
  const p = labPolicy('  exfil: { windowMs: 5000, minBytes: 100000 }\n', { networks: false });
  const flows = await loadClassified(EXFIL_LOG, p);
  assert.ok(flows.every((f) => f.direction === undefined));
  const found = lastForms(runFlush([createExfilDetector(opts())], flows));
  assert.equal(found.length, 1);
  assert.equal(found[0].entity.addr, '10.232.1.2');
});

test('exfil: a connection seen in a dump and then in its DESTROY counts its bytes once (the difference), each part in its own window', async () => {
  const p = labPolicy('  exfil: { windowMs: 1000, minBytes: 1000000, learnWindows: 100 }\n');
  const events = await loadClassified(SLOW_LOG, p);
  const [created] = events.filter((f) => f.event === 'new');
  const destroy = events.find((f) => f.event === 'destroy')!;
  // The script took the dump 2 s after starting the upload; the parser stamps it with that time.
  const [mid] = await loadClassified(SLOW_DUMP, p, created.observedAt + 2000);
  assert.equal(mid.event, 'snapshot');
  assert.equal(mid.ctId, destroy.ctId);
  assert.ok(mid.bytesOrig! > 1_000_000 && mid.bytesOrig! < destroy.bytesOrig!);
  const flows = [created, mid, ...events.filter((f) => f !== created)];
  const found = lastForms(runFlush([createExfilDetector(p.policy.detectors.exfil)], flows));
  assert.deepEqual(
    found.map((f) => f.evidence.bytesOut),
    [mid.bytesOrig, destroy.bytesOrig! - mid.bytesOrig!],
  );
  // Without the dump: one window, the whole upload.
  const once = lastForms(runFlush([createExfilDetector(p.policy.detectors.exfil)], events));
  assert.deepEqual(
    once.map((f) => f.evidence.bytesOut),
    [destroy.bytesOrig],
  );
});

test('exfil: the defaults are the policy defaults', () => {
  assert.deepEqual(defaultExfilOptions(), labPolicy('  {}\n').policy.detectors.exfil);
});
