import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
/** Real captures of packages/model/testdata (sources in its SOURCES.md). */
const T = (name: string) => fileURLToPath(new URL(`../../../packages/model/testdata/${name}`, import.meta.url));
const NMAP = T('captured-conntrack-E-extended-timestamp-nmap-top100-scan.log');
const TRAIN = [NMAP, T('travis-nat-conntrack-E-o-xml-events.xml'), T('iki-conntrack-L-http-burst.txt'), T('crowdsec-hub-iptables-portscan.log')];

function floe(args: string[]) {
  const r = spawnSync(process.execPath, ['--conditions=floe-source', '--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, FLOE_LOG_LEVEL: 'warn' },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'floe-train-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const modelDir = join(dir, 'model');

test('floe train on real captures leaves out the scanners, trains, saves, and prints a summary', () => {
  const r = floe(['train', '--input', ...TRAIN, '--window', '5s', '--out', modelDir]);
  assert.equal(r.code, 0, r.stderr);
  const m =
    /^trained model (ae-[0-9a-f]{16}): (\d+) windows used, (\d+) left out \((\d+) entities with findings\), threshold ([0-9.e-]+) for fpr 0\.01 .*5 s windows; saved to /m.exec(
      r.stdout,
    );
  assert.ok(m, r.stdout);
  // The nmap scanner and the CrowdSec test's scanning sources are named by the rule detectors.
  assert.ok(Number(m[4]) >= 2 && Number(m[3]) >= 2);
  assert.match(r.stderr, /TensorFlow\.js backend wasm \(@tensorflow\/tfjs-node is not installed; using the WebAssembly backend\)/);
  assert.match(r.stderr, /epoch 150\/150, loss/);
  const meta = JSON.parse(readFileSync(join(modelDir, 'floe-model.json'), 'utf8'));
  assert.equal(meta.version, m[1]);
  assert.equal(meta.trainingWindows, Number(m[2]));
  assert.equal(meta.windowMs, 5000);
});

test('floe analyze --model: an ml.autoencoder finding for the scanner with the model version; none for the benign client', () => {
  const r = floe(['analyze', '--json', '--model', modelDir, NMAP]);
  assert.equal(r.code, 0, r.stderr);
  const findings = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const ml = findings.filter((f) => f.detector === 'ml.autoencoder');
  const version = JSON.parse(readFileSync(join(modelDir, 'floe-model.json'), 'utf8')).version;
  assert.deepEqual(
    ml.map((f) => f.entity.addr),
    ['10.50.0.2'],
  );
  assert.equal(ml[0].evidence.model, version);
  assert.equal(ml[0].producedBy, `floe-model/${version}`);
  assert.ok(ml[0].evidence.features.some((x: { feature: string }) => x.feature === 'dst_ports' || x.feature === 'dst_pairs'));
  assert.ok(findings.some((f) => f.detector === 'portscan.vertical'));
  assert.match(r.stderr, /summary: \d+ findings \(.*ml\.autoencoder=1/);
});

test('a model with other feature names is refused: exit 2 with FLOE_MODEL_FEATURE_MISMATCH; a missing model FLOE_MODEL_NOT_FOUND', () => {
  const bad = join(dir, 'bad');
  floe(['train', '--input', ...TRAIN, '--window', '5s', '--epochs', '5', '--out', bad]);
  const metaPath = join(bad, 'floe-model.json');
  const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
  writeFileSync(metaPath, JSON.stringify({ ...meta, featureNames: meta.featureNames.map((n: string) => (n === 'flows' ? 'connections' : n)) }));
  const r = floe(['analyze', '--model', bad, NMAP]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /other features.*missing flows; unknown connections.*\[FLOE_MODEL_FEATURE_MISMATCH\]/);
  const none = floe(['analyze', '--model', join(dir, 'none'), NMAP]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /\[FLOE_MODEL_NOT_FOUND\]/);
});

test('floe train: --help tells its options; bad options and too few windows exit 2', () => {
  const h = floe(['train', '--help']);
  assert.equal(h.code, 0);
  for (const f of ['--input', '--out', '--fpr', '--window', '--epochs', '--policy', 'model.json', 'floe-model.json']) assert.ok(h.stdout.includes(f), f);
  assert.equal(floe(['train', '--input', NMAP, '--out', join(dir, 'x'), '--fpr', '2']).code, 2);
  const few = floe(['train', '--input', NMAP, '--out', join(dir, 'x')]);
  assert.equal(few.code, 2);
  assert.match(few.stderr, /at least 10 are needed \[FLOE_MODEL_TOO_FEW_WINDOWS\]/);
});
