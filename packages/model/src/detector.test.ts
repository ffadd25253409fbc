import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModelDetector, findingScore, MODEL_DETECTOR_ID } from './detector.js';
import { captureWindows, FIXTURE_WINDOW_MS } from './fixtures.js';
import { trainModel } from './model.js';
import { records } from './testdata.js';
import { createRegistry } from '@floe/telemetry';

const model = await trainModel((await captureWindows()).benign, { windowMs: FIXTURE_WINDOW_MS });

test('streaming the nmap capture: one ml.autoencoder finding for the scanner, none for the benign client; model version and driving features in evidence', async () => {
  const det = createModelDetector(model);
  for (const r of await records('captured-conntrack-E-extended-timestamp-nmap-top100-scan.log')) det.observe(r);
  det.flush();
  assert.ok(det.pending() > 0);
  const findings = await det.drain();
  assert.equal(det.pending(), 0);
  assert.deepEqual(
    findings.map((f) => f.entity.addr),
    ['10.50.0.2'],
  );
  const f = findings[0];
  assert.equal(f.detector, MODEL_DETECTOR_ID);
  assert.equal(f.producedBy, `floe-model/${model.version}`);
  assert.equal(f.evidence.model, model.version);
  assert.equal(f.evidence.threshold, model.threshold);
  assert.equal(f.evidence.flows, 100);
  const feats = f.evidence.features as Array<{ feature: string; value: number; error: number }>;
  assert.equal(feats.length, 5);
  const ports = feats.find((x) => x.feature === 'dst_ports');
  assert.ok(ports && ports.value > 85 && ports.value < 115, JSON.stringify(feats));
  assert.match(f.summary, /reconstruction error [0-9.]+ > threshold/);
  assert.ok(f.score > 0.5 && f.score <= 1);
  assert.ok(f.firstSeen <= f.lastSeen && f.lastSeen - f.firstSeen < FIXTURE_WINDOW_MS);
  assert.equal(det.stats().findings, 1);
});

test('metrics: windows scored, findings and the queue are exported as floe_model_*', async () => {
  const registry = createRegistry({ defaultMetrics: false });
  const det = createModelDetector(model, { minFlows: 2 }, { metrics: registry });
  for (const r of await records('captured-conntrack-E-extended-timestamp-nmap-top100-scan.log')) det.observe(r);
  det.flush();
  const queued = det.pending();
  assert.match(await registry.metrics(), new RegExp(`floe_model_queue_windows ${queued}\\b`));
  await det.drain();
  const text = await registry.metrics();
  assert.match(text, new RegExp(`floe_model_windows_total\\{outcome="scored"\\} ${queued}\\b`));
  assert.match(text, /floe_model_findings_total 1\b/);
  assert.match(text, /floe_model_tracked_entities 2\b/);
  assert.equal(det.stats().skipped + queued, det.stats().windows);
});

test('a full queue drops the oldest windows and counts them', async () => {
  const det = createModelDetector(model, { maxQueue: 2 });
  for (const r of await records('iki-conntrack-L-http-burst.txt')) det.observe(r);
  det.flush();
  assert.equal(det.pending(), 2);
  assert.equal(det.stats().dropped, det.stats().windows - 2);
});

test('findingScore: 0.5 at the threshold, towards 1 above it', () => {
  assert.equal(findingScore(1, 1), 0.5);
  assert.equal(findingScore(10, 1), 0.95);
  assert.equal(findingScore(0, 1), 0);
});
