/**
 * Session 6 defects of the built CLI (services/cli/bin/floe.js) on bad input: each is one line
 * naming the file and key (or variable), exit 2, no stack trace, no secret echoed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { floeSync } from '../helpers/floe-run.js';

const SAMPLE = fileURLToPath(new URL('../../services/cli/samples/conntrack-nmap-top100-scan.log', import.meta.url));

const floe = (args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) => floeSync(args, { cwd, env: { FLOE_LOG_LEVEL: 'warn', ...env }, timeoutMs: 60_000 });

const STACK = /\n\s+at |TypeError/;

test('a configuration section given as a scalar: config --print, run and serve --check exit 2 with file:line and key, no stack trace', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-cli-errors-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'c.yaml');
  writeFileSync(file, 'api: foo\n');
  for (const args of [
    ['config', '--print', '-c', file],
    ['run', '-c', file, '--store', ':memory:', '--api-port', '0'],
    ['serve', '--role', 'api', '--check', '-c', file],
  ]) {
    const r = floe(args);
    assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, STACK, args[0]);
    const issues = r.stderr.split('\n').filter((l) => l.startsWith('  '));
    assert.deepEqual(issues, [`  ${file}:1 api: must be an object`], args[0]);
  }
});

test('an invalid API token in the environment is not echoed: `(value hidden)`, exit 2', () => {
  const r = floe(['config', '--print'], { FLOE_API_TOKEN: 'my secret token with spaces 123' });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^ {2}environment FLOE_API_TOKEN \(value hidden\): api\.token: must match pattern /m);
  assert.doesNotMatch(r.stderr, /secret token|with spaces/);
});

test('an invalid inventory file is reported as `invalid inventory` by every command that reads one (analyze, train, run -c inventoryFile, serve --check)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-cli-errors-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const inv = join(dir, 'inv.yaml');
  writeFileSync(inv, 'foo: [\n');
  const cfg = join(dir, 'c.yaml');
  writeFileSync(cfg, `inventoryFile: ${inv}\n`);
  for (const args of [
    ['analyze', '--inventory', inv, SAMPLE],
    ['train', '--input', SAMPLE, '--inventory', inv, '--out', join(dir, 'model')],
    ['run', '-c', cfg, '--replay', SAMPLE, '--speed', 'max', '--exit-after-replay', '--store', ':memory:', '--api-port', '0'],
    ['serve', '--role', 'processor', '--check', '-c', cfg],
  ]) {
    const r = floe(args);
    assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^floe(-processor)?: invalid inventory \\(1 issue\\):\\n {2}${inv.replace(/[.]/g, '\\.')}:2:1 \\(document\\): `, 'm'), args[0]);
    assert.doesNotMatch(r.stderr, /policy|\n\s+at /, args[0]);
  }
});

test('policy check loads the model detectors.model.dir names, as analyze does: missing or not a directory is exit 2, one line naming the file and the key; a trained model is ok', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-cli-errors-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const policy = join(dir, 'p.yaml');
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  // relative to the policy file, as analyze resolves it
  writeFileSync(policy, 'version: 1\ndetectors:\n  model:\n    dir: ./no-such-model\n');
  const r = floe(['policy', 'check', policy]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(
    r.stderr,
    new RegExp(`^floe: ${esc(policy)}:4:10 detectors\\.model\\.dir: ${esc(join(dir, 'no-such-model', 'floe-model.json'))}: no such file .*\\[FLOE_MODEL_NOT_FOUND\\]\\n$`),
  );
  const a = floe(['analyze', '--policy', policy, SAMPLE]);
  assert.equal(a.code, 2, a.stderr);
  assert.match(a.stderr, /\[FLOE_MODEL_NOT_FOUND\]/);
  // a file where the directory should be
  writeFileSync(join(dir, 'plain'), 'x\n');
  writeFileSync(policy, 'version: 1\ndetectors:\n  model: { dir: plain }\n');
  const f = floe(['policy', 'check', policy]);
  assert.equal(f.code, 2, f.stderr);
  assert.match(f.stderr, new RegExp(`^floe: ${esc(policy)}:3:17 detectors\\.model\\.dir: .*\\[FLOE_MODEL_NOT_FOUND\\]\\n$`));
  // a model floe train wrote: ok
  const T = (name: string) => fileURLToPath(new URL(`../../packages/model/testdata/${name}`, import.meta.url));
  const inputs = [
    'captured-conntrack-E-extended-timestamp-nmap-top100-scan.log',
    'travis-nat-conntrack-E-o-xml-events.xml',
    'iki-conntrack-L-http-burst.txt',
    'crowdsec-hub-iptables-portscan.log',
  ].map(T);
  const tr = floe(['train', '--input', ...inputs, '--window', '5s', '--epochs', '5', '--out', join(dir, 'model')]);
  assert.equal(tr.code, 0, tr.stderr);
  writeFileSync(policy, 'version: 1\ndetectors:\n  model: { dir: model }\n');
  const ok = floe(['policy', 'check', policy]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, `${policy}: ok\n`);
});

test('token list and token revoke refuse a DuckDB store that does not exist (exit 2) instead of creating an empty one; token create still makes it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-cli-errors-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { FLOE_STORE_PATH: '' };
  for (const args of [
    ['token', 'list'],
    ['token', 'revoke', '0123456789ab'],
  ]) {
    const r = floe(args, env, dir);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      `floe: ${args.slice(0, 2).join(' ')}: store path data/floe.duckdb: no such file; pass -c CONFIG naming an existing store (store.path, FLOE_STORE_PATH)\n`,
    );
    assert.equal(r.stdout, '');
    assert.ok(!existsSync(join(dir, 'data')), `${args[1]} created no store`);
  }
  const c = floe(['token', 'create', '--role', 'viewer', '--name', 'first'], env, dir);
  assert.equal(c.code, 0, c.stderr);
  assert.ok(existsSync(join(dir, 'data', 'floe.duckdb')));
  const l = floe(['token', 'list'], env, dir);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /^[0-9a-f]{12} +viewer +active .* first$/m);
});
