import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from './backend.js';
import { ModelError } from './errors.js';
import { loadModel, MODEL_FILES } from './io.js';
import { trainModel, rankQuantile, type FloeModel } from './model.js';
import { FEATURE_NAMES } from './names.js';
import { captureWindows, FIXTURE_WINDOW_MS } from './fixtures.js';

const data = await captureWindows();
let model: FloeModel;

/**
 * Features a port scan changes: how many attempts, to how many addresses and ports, how spread,
 * how they ended and how long they lasted (unanswered probes linger), their timing (bursts), and
 * how far from the entity's own past. Not: byte volumes and ratios, DNS/ICMP shares, prefixes.
 */
const SCAN_FEATURES = new Set([
  'flows',
  'dst_addrs',
  'dst_ports',
  'dst_pairs',
  'port_entropy',
  'addr_entropy',
  'failed_share',
  'interval_cv',
  'duration_mean',
  'duration_max',
  'new_dst_share',
  'flows_vs_baseline',
  'dst_addrs_vs_baseline',
]);

test('trained on benign windows of real captures, the threshold is the (1 - fpr) quantile of the training errors', async () => {
  assert.ok(data.benign.length >= 40, `benign windows ${data.benign.length}`);
  model = await trainModel(data.benign, { windowMs: FIXTURE_WINDOW_MS, fpr: 0.01 });
  assert.deepEqual(model.featureNames, FEATURE_NAMES);
  assert.match(model.version, /^ae-[0-9a-f]{16}$/);
  const train = (await model.score(data.benign)).map((s) => s.score).sort((a, b) => a - b);
  assert.ok(Math.abs(model.threshold - rankQuantile(train, 0.99)) < 1e-6 * Math.max(1, model.threshold));
  // Fewer than 100 windows: a 1 % rate cannot be resolved, the threshold is the largest training error.
  assert.ok(Math.abs(model.threshold - train[train.length - 1]) < 1e-6 * Math.max(1, model.threshold));
  assert.equal(train.filter((s) => s > model.threshold * (1 + 1e-6)).length, 0);
});

test('the nmap scanners of the captures score above the threshold, and the features that drove it are those a scan changes', async () => {
  const scans = data.flagged.filter((w) => w.entity === '10.50.0.2' || w.entity === 'fd00:50::2');
  assert.ok(scans.length >= 3, `scan windows ${scans.length}`);
  const big = scans.filter((w) => w.flows >= 50);
  assert.ok(big.length >= 2);
  const scores = await model.score(big);
  for (const [i, s] of scores.entries()) {
    assert.equal(s.anomalous, true, `${big[i].file} ${big[i].entity}: ${s.score} <= ${model.threshold}`);
    assert.ok(s.score > 3 * model.threshold, `${s.score} vs threshold ${model.threshold}`);
    const top = s.contributions.slice(0, 3).map((c) => c.feature);
    const top5 = s.contributions.slice(0, 5).map((c) => c.feature);
    assert.ok(top5.includes('dst_ports') || top5.includes('dst_pairs'), `top features ${top5.join(', ')}`);
    assert.ok(top.filter((f) => SCAN_FEATURES.has(f)).length >= 2, `top features ${top.join(', ')}`);
    for (let k = 1; k < s.contributions.length; k++) assert.ok(s.contributions[k - 1].error >= s.contributions[k].error, 'sorted, largest first');
    assert.equal(s.contributions.length, FEATURE_NAMES.length);
  }
});

test('scoring leaks no tensor', async () => {
  await model.score(data.benign.slice(0, 3));
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await model.score([...data.benign, ...data.flagged]);
  assert.equal(tf.memory().numTensors, before);
});

test('save then load gives the same version and identical scores; the directory holds the TF.js files and floe-model.json', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'floe-model-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await model.save(dir);
  for (const f of Object.values(MODEL_FILES)) await access(join(dir, f));
  const topo = JSON.parse(await readFile(join(dir, MODEL_FILES.topology), 'utf8'));
  assert.equal(topo.format, 'layers-model');
  assert.deepEqual(topo.weightsManifest[0].paths, ['weights.bin']);
  const meta = JSON.parse(await readFile(join(dir, MODEL_FILES.meta), 'utf8'));
  assert.equal(meta.version, model.version);
  assert.equal(meta.trainingWindows, data.benign.length);
  assert.equal(meta.fpr, 0.01);
  const loaded = await loadModel(dir);
  t.after(() => loaded.dispose());
  assert.equal(loaded.version, model.version);
  assert.equal(loaded.threshold, model.threshold);
  assert.equal(loaded.windowMs, FIXTURE_WINDOW_MS);
  const all = [...data.benign, ...data.flagged];
  assert.deepEqual(await loaded.score(all), await model.score(all));
});

test('a model whose feature names differ is refused (FLOE_MODEL_FEATURE_MISMATCH); edited scaling is refused (FLOE_MODEL_VERSION_MISMATCH); a missing dir FLOE_MODEL_NOT_FOUND', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'floe-model-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await model.save(dir);
  const metaPath = join(dir, MODEL_FILES.meta);
  const meta = JSON.parse(await readFile(metaPath, 'utf8'));
  const is = (code: string) => (e: unknown) => e instanceof ModelError && e.code === code;

  await writeFile(metaPath, JSON.stringify({ ...meta, featureNames: meta.featureNames.map((n: string) => (n === 'dst_ports' ? 'dst_port_count' : n)) }));
  await assert.rejects(loadModel(dir), (e: unknown) => is('FLOE_MODEL_FEATURE_MISMATCH')(e) && /missing dst_ports; unknown dst_port_count/.test((e as Error).message));
  await writeFile(metaPath, JSON.stringify({ ...meta, featureNames: meta.featureNames.slice(0, -1), means: meta.means.slice(0, -1), stds: meta.stds.slice(0, -1) }));
  await assert.rejects(loadModel(dir), is('FLOE_MODEL_FEATURE_MISMATCH'));
  await writeFile(metaPath, JSON.stringify({ ...meta, means: meta.means.map((m: number, i: number) => (i === 0 ? m + 1 : m)) }));
  await assert.rejects(loadModel(dir), is('FLOE_MODEL_VERSION_MISMATCH'));
  await writeFile(metaPath, '{"format":');
  await assert.rejects(loadModel(dir), is('FLOE_MODEL_BAD_FORMAT'));
  await assert.rejects(loadModel(join(dir, 'nope')), is('FLOE_MODEL_NOT_FOUND'));
});

test('rankQuantile: at most a share 1 - q of the values exceed it', () => {
  const v = Array.from({ length: 200 }, (_, i) => i + 1);
  assert.equal(rankQuantile(v, 0.99), 198);
  assert.equal(v.filter((x) => x > rankQuantile(v, 0.99)).length, 2);
  assert.equal(rankQuantile(v.slice(0, 10), 0.99), 10);
});

test('too few windows and a bad fpr are refused', async () => {
  await assert.rejects(trainModel(data.benign.slice(0, 3)), (e: unknown) => e instanceof ModelError && e.code === 'FLOE_MODEL_TOO_FEW_WINDOWS');
  await assert.rejects(trainModel(data.benign, { fpr: 1 }), (e: unknown) => e instanceof ModelError && e.code === 'FLOE_MODEL_BAD_OPTIONS' && e.detail === 'fpr');
});

test('training is deterministic for a seed', async () => {
  const a = await trainModel(data.benign, { windowMs: FIXTURE_WINDOW_MS, epochs: 20 });
  const b = await trainModel(data.benign, { windowMs: FIXTURE_WINDOW_MS, epochs: 20 });
  assert.equal(a.version, b.version);
  a.dispose();
  b.dispose();
});
