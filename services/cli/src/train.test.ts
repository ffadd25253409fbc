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

test('floe train --from-store: the store flows are read, and sources its findings name are left out', async () => {
  const { createDuckDbStore } = await import('@floe/store');
  const { parseFile } = await import('@floe/flow');
  const file = join(dir, 'floe.duckdb');
  const store = createDuckDbStore({ path: file });
  await store.start();
  let n = 0;
  for (const f of TRAIN) {
    const { records } = await parseFile(f, { format: 'auto' });
    await store.insertFlows(records);
    n += records.length;
  }
  const stored = (await store.countFlows()).flows;
  // A finding stored earlier about the benign client: it must be left out of training.
  const T0 = Date.parse('2026-11-30T00:00:00Z');
  await store.insertFindings([
    {
      id: 'x:1',
      schema: 1,
      firstSeen: T0,
      lastSeen: T0,
      detector: 'portscan.vertical',
      kind: 'detector',
      severity: 'high',
      score: 1,
      entity: { addr: '10.70.0.2' },
      peers: [],
      summary: 's',
      evidence: { flows: 1 },
      producedBy: 't',
    },
  ]);
  await store.stop();
  assert.ok(stored > 0 && stored <= n);
  const out = join(dir, 'from-store');
  const r = floe(['train', '--from-store', '--store', file, '--since', '2026-01-01T00:00:00Z', '--window', '5s', '--epochs', '10', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /the store's findings since 2026-01-01T00:00:00\.000Z: 1, naming 1 entities/);
  assert.match(r.stderr, new RegExp(`the store's flows: ${stored} records`));
  const meta = JSON.parse(readFileSync(join(out, 'floe-model.json'), 'utf8'));
  const m = /(\d+) windows used, (\d+) left out \((\d+) entities with findings\)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.equal(meta.trainingWindows, Number(m[1]));
  // 10.70.0.2's windows are left out with the scanners': more left out than by the rules alone.
  const rulesOnly = floe(['train', '--input', ...TRAIN, '--window', '5s', '--epochs', '10', '--out', join(dir, 'rules-only')]);
  const m2 = /(\d+) windows used, (\d+) left out \((\d+) entities with findings\)/.exec(rulesOnly.stdout);
  assert.ok(m2);
  assert.equal(Number(m[3]), Number(m2[3]) + 1);
  assert.ok(Number(m[2]) > Number(m2[2]));
  assert.equal(floe(['train', '--out', join(dir, 'y')]).code, 2);
});

test('floe run with a policy naming the model (detectors.model.dir, relative to the policy file): the replayed scanner gets an ml.autoencoder finding', () => {
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'version: 1\ndetectors:\n  model: { dir: model }\n');
  const r = floe(['run', '--replay', NMAP, '--speed', 'max', '--exit-after-replay', '--api-port', '0', '--store', ':memory:', '--policy', policy]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^finding\s+medium\s+ml\.autoencoder\s+10\.50\.0\.2 .*driven by .*\(model ae-[0-9a-f]{16}\)$/m);
  assert.doesNotMatch(r.stdout, /ml\.autoencoder\s+10\.70\.0\.2/);
  const bad = join(dir, 'policy-bad.yaml');
  writeFileSync(bad, 'version: 1\ndetectors:\n  model: { dir: no-such-model }\n');
  const b = floe(['run', '--replay', NMAP, '--speed', 'max', '--exit-after-replay', '--api-port', '0', '--store', ':memory:', '--policy', bad]);
  assert.equal(b.code, 2, b.stderr);
  assert.match(b.stderr, /FLOE_MODEL_NOT_FOUND|no such file/);
});
