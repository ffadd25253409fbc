import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const FX = (name: string): string => fileURLToPath(new URL(`../../../packages/eval/fixtures/${name}`, import.meta.url));

function floe(args: string[]) {
  const r = spawnSync(process.execPath, ['--conditions=floe-source', '--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, FLOE_LOG_LEVEL: 'warn' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('floe eval --json: one object with input, split, policy and a report per predictor and class', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-eval-'));
  const roc = join(dir, 'roc.svg');
  const r = floe(['eval', '--input', FX('iot23-34-1.sample.csv'), '--format', 'zeek-conn', '--train-split', '0', '--json', '--roc', roc]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const o = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(o).sort(), ['input', 'policy', 'report', 'split', 'synthesized']);
  assert.equal(o.input.rows, 6);
  assert.deepEqual(o.input.byClass, { benign: 2, PartOfAHorizontalPortScan: 2, DDoS: 1, 'C&C': 1 });
  assert.deepEqual(o.split, { kind: 'time', fraction: 0, cutMs: o.split.cutMs, trainRows: 0, testRows: 6 });
  assert.match(o.policy, /^policy:/);
  // One source (192.168.1.195) in 4 windows: the two benign rows share a minute; the scan rows
  // (3 s apart), the DDoS row and the C&C row make three attack windows.
  assert.equal(o.report.windowMs, 60000);
  assert.deepEqual(o.report.windows, { positive: 3, negative: 1, unknown: 0 });
  assert.deepEqual(o.report.classes, { 'C&C': 1, DDoS: 1, PartOfAHorizontalPortScan: 1 });
  const names = o.report.predictors.map((p: { name: string }) => p.name);
  assert.ok(names.includes('portscan.vertical') && names.includes('hostsweep.horizontal') && names.includes('rules'), names.join());
  for (const p of o.report.predictors) {
    for (const k of ['tp', 'fp', 'fn', 'tn', 'precision', 'recall', 'f1', 'outside', 'perClass']) assert.ok(k in p, `${p.name}.${k}`);
    assert.equal(p.tp + p.fn, o.report.windows.positive);
    assert.equal(p.fp + p.tn, o.report.windows.negative);
  }
  assert.equal(o.report.model.available, false);
  assert.match(o.report.model.message, /^model not/);
  assert.match(readFileSync(roc, 'utf8'), /^<svg [^>]*>[\s\S]*no curve[\s\S]*<\/svg>\n$/);
});

test('floe eval human output names the split, the synthesized entities and the tables', () => {
  const r = floe(['eval', '--input', FX('nsl-kdd.sample.csv'), '--format', 'nsl-kdd']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^note {5}NSL-KDD has no addresses or times/m);
  assert.match(r.stdout, /^split {4}time-ordered: first 3 rows .* last 3 evaluated$/m);
  assert.match(r.stdout, /^predictor +findings +TP +FP +FN +TN +precision +recall +F1 +outside$/m);
  assert.match(r.stdout, /^rules +0 +0 +0 +2 +1 +- +0\.000 +0\.000 +0$/m);
  assert.match(r.stdout, /^per attack class/m);
});

test('floe eval: --help lists its options; a wrong format or header exits 2 with the file named', () => {
  const h = floe(['eval', '--help']);
  assert.equal(h.code, 0);
  for (const f of ['--input', '--format', '--model', '--train', '--train-format', '--train-split', '--policy', '--json', '--roc']) assert.ok(h.stdout.includes(f), f);
  const bad = floe(['eval', '--input', FX('nsl-kdd.sample.csv'), '--format', 'cic-ids']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /FLOE_EVAL_BAD_HEADER.*nsl-kdd\.sample\.csv.*line 1: no column Src IP/);
  const split = floe(['eval', '--input', FX('nsl-kdd.sample.csv'), '--format', 'nsl-kdd', '--train-split', '1']);
  assert.equal(split.code, 2);
  assert.match(split.stderr, /--train-split.*a decimal fraction/);
});

test('floe eval trains the model on another file (by-file split) and reports it with its ROC', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-eval-'));
  const roc = join(dir, 'roc.svg');
  const r = floe([
    'eval',
    '--input',
    FX('iot23-34-1.sample.csv'),
    '--format',
    'zeek-conn',
    '--train',
    FX('iot23-honeypot-4-1-benign.sample.csv'),
    '--epochs',
    '20',
    '--json',
    '--roc',
    roc,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /trained ae-[0-9a-f]{16} on 64 benign windows/);
  const o = JSON.parse(r.stdout);
  assert.equal(o.split.kind, 'file');
  assert.equal(o.split.trainRows, 120);
  assert.equal(o.split.testRows, 6);
  const m = o.report.model;
  assert.equal(m.available, true);
  assert.equal(m.id, 'ml.autoencoder');
  assert.match(m.version, /^ae-[0-9a-f]{16}$/);
  assert.equal(m.scored, 4);
  assert.equal(m.unscored, 0);
  assert.ok(m.auc >= 0 && m.auc <= 1, String(m.auc));
  assert.deepEqual(m.roc[0], { fpr: 0, tpr: 0, threshold: null }); // Infinity is null in JSON
  assert.deepEqual([m.roc.at(-1).fpr, m.roc.at(-1).tpr], [1, 1]);
  const names = o.report.predictors.map((p: { name: string }) => p.name);
  assert.deepEqual(names.slice(-3), ['rules', 'ml.autoencoder', 'rules+model']);
  const [rules, model, both] = o.report.predictors.slice(-3);
  // OR of rules and model: at least what each found, and never more false positives than both together.
  assert.ok(both.tp >= Math.max(rules.tp, model.tp) && both.fp <= rules.fp + model.fp);
  assert.match(readFileSync(roc, 'utf8'), /<polyline [^>]*points="60\.0,430\.0 [^"]*440\.0,50\.0"\/>/);
});

test('floe eval --model DIR scores every input row with a saved model (no split)', async () => {
  const { importFile } = await import('@floe/eval');
  const { extractFeatures, trainModel } = await import('@floe/model');
  const flows = [];
  for await (const r of importFile(FX('iot23-honeypot-4-1-benign.sample.csv'), 'zeek-conn')) flows.push(r.flow);
  const model = await trainModel(extractFeatures(flows), { epochs: 20 });
  const dir = mkdtempSync(join(tmpdir(), 'floe-eval-model-'));
  await model.save(dir);
  model.dispose();
  const r = floe(['eval', '--input', FX('iot23-34-1.sample.csv'), '--format', 'zeek-conn', '--model', dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.deepEqual(o.split, { kind: 'none', trainRows: 0, testRows: 6 });
  assert.equal(o.report.model.version, model.version);
  assert.equal(o.report.model.scored, 4);
  const bad = floe(['eval', '--input', FX('iot23-34-1.sample.csv'), '--format', 'zeek-conn', '--model', join(dir, 'nope')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--model .*nope.*\[FLOE_MODEL_/);
});
