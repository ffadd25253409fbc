import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createDuckDbStore } from '@floe/store';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../samples/conntrack-nmap-top100-scan.log', import.meta.url));
const EXAMPLE_POLICY = fileURLToPath(new URL('../../../packages/policy/policies/example.yaml', import.meta.url));

/** Runs the floe CLI from source (tsx), as a user would run the built one. */
function floe(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--conditions=floe-source', '--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, FLOE_LOG_LEVEL: 'warn', ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--help names every command and run --help the flags it has', () => {
  const top = floe(['--help']);
  assert.equal(top.code, 0);
  for (const c of ['run', 'analyze', 'policy', 'config']) assert.match(top.stdout, new RegExp(`\\n\\s+${c}\\b`));
  const run = floe(['run', '--help']);
  assert.equal(run.code, 0);
  for (const f of ['--replay', '--speed', '--enforce', '--netns', '--dry-run', '--api-port', '--exit-after-replay']) assert.ok(run.stdout.includes(f), f);
  const bad = floe(['run', '--speed', 'fast']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--speed.*a positive number or "max"/);
});

test('run --replay on the bundled capture: finding, dry-run block, summary, clean exit', () => {
  const r = floe(['run', '--replay', SAMPLE, '--speed', 'max', '--exit-after-replay', '--api-port', '0', '--store', ':memory:']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^source {3}replay .*conntrack-nmap-top100-scan\.log \(speed max\)$/m);
  assert.match(r.stdout, /^enforcer dry-run \(replaying a capture; pass --enforce to apply blocks\)$/m);
  assert.match(r.stdout, /^api {6}http:\/\/127\.0\.0\.1:\d+ /m);
  assert.match(r.stdout, /^finding {2}high {5}portscan\.vertical {6}10\.50\.0\.2 /m);
  // a replay without --enforce is a demonstration: its decision is stored as dry-run
  assert.match(r.stdout, /^decision block {4}10\.50\.0\.2\/32 +for 1h until \S+ {2}\(dry-run\)/m);
  assert.match(r.stdout, /^summary .*conntrack-nmap-top100-scan\.log: 722 flows, 0 rejected$/m);
  assert.match(r.stdout, /^summary {2}processed 722 flows, \d+ findings, 1 decisions$/m);
  assert.doesNotMatch(r.stdout, /decision block {4}10\.70\.0\.2/);
});

test('policy check: ok for a valid file, file:line:column and field for a broken one', () => {
  const ok = floe(['policy', 'check', EXAMPLE_POLICY]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /example\.yaml: ok/);
  const dir = mkdtempSync(join(tmpdir(), 'floe-cli-'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'version: 1\nnetworks:\n  pods: [10.0.0.0/33]\ningress:\n  bogus: true\n');
  const r = floe(['policy', 'check', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:\\d+ networks\\.pods\\[0\\]: `));
  assert.match(r.stderr, /:5:\d+ ingress\.bogus: /);
  const missing = floe(['policy', 'check', join(dir, 'none.yaml')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /none\.yaml: cannot read/);
});

test('policy check: a valid but risky policy prints file:line:col warnings and still exits 0', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-cli-'));
  const risky = join(dir, 'risky.yaml');
  writeFileSync(
    risky,
    [
      'version: 1',
      'networks:',
      '  pods: [10.244.0.0/16]',
      'blocklists:',
      '  cidrs: [10.0.0.0/8]',
      'respond:',
      '  escalation: [1h, 90d]',
      '  neverBlock: [0.0.0.0/0, 192.0.2.7/24]',
    ].join('\n'),
  );
  const r = floe(['policy', 'check', risky]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /risky\.yaml: ok \(4 warnings\)/);
  const at = risky.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  assert.match(r.stderr, new RegExp(`${at}:5:11 blocklists\\.cidrs\\[0\\]: warning: 10\\.0\\.0\\.0/8 covers networks\\.pods .*\\[FLOE_POLICY_WARN_BLOCKLIST_OWN_NETWORK\\]`));
  assert.match(r.stderr, new RegExp(`${at}:7:20 respond\\.escalation\\[1\\]: warning: .*\\[FLOE_POLICY_WARN_LONG_ESCALATION\\]`));
  assert.match(r.stderr, new RegExp(`${at}:8:16 respond\\.neverBlock\\[0\\]: warning: .*\\[FLOE_POLICY_WARN_NEVER_BLOCK_WIDE\\]`));
  assert.match(r.stderr, new RegExp(`${at}:8:27 respond\\.neverBlock\\[1\\]: warning: 192\\.0\\.2\\.7/24 has host bits set.*\\[FLOE_POLICY_WARN_HOST_BITS\\]`));
});

test('config: --describe lists keys with defaults; a bad environment value exits 2 naming it', () => {
  const d = floe(['config', '--describe']);
  assert.equal(d.code, 0);
  assert.match(d.stdout, /^api\.port\s+8080\s+FLOE_API_PORT\s+Listen port/m);
  assert.match(d.stdout, /^enforcer\.dryRun\s+false\s+FLOE_ENFORCER_DRY_RUN\s+/m);
  const p = floe(['config', '--print'], { FLOE_API_PORT: '9999' });
  assert.equal(p.code, 0);
  assert.equal(JSON.parse(p.stdout).api.port, 9999);
  const bad = floe(['config', '--print'], { FLOE_API_PORT: 'abc' });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /FLOE_API_PORT="abc": not a valid integer/);
});

// Regressions from the newcomer test: a misspelt safety variable was ignored in silence, and a
// wrong --format rejected every line yet exited 0.
test('a misspelt FLOE_* variable is named with the real one', () => {
  const r = floe(['config', '--print'], { FLOE_ENFORCER_DRYRUN: 'true' });
  assert.equal(r.code, 0);
  assert.match(r.stderr, /environment FLOE_ENFORCER_DRYRUN is not a configuration key and is ignored; did you mean FLOE_ENFORCER_DRY_RUN\?/);
});

test('analyze with a format that fits no line exits 2', () => {
  const file = fileURLToPath(new URL('../../../packages/flow/testdata/iptables-log/crowdsec-hub-iptables-portscan.log', import.meta.url));
  const r = floe(['analyze', '--format', 'conntrack', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /crowdsec-hub-iptables-portscan\.log: no line is valid conntrack \(49 rejected: /);
});

// Regression (newcomer test): Ctrl-C during a paced replay crashed with "publish after stop()".
test('SIGINT during a paced replay stops cleanly with exit 0', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    ['--conditions=floe-source', '--import', 'tsx', MAIN, 'run', '--replay', SAMPLE, '--speed', '1', '--api-port', '0', '--store', ':memory:'],
    {
      env: { ...process.env, FLOE_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const end = Date.now() + 30_000;
  while (!stdout.includes('api ') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1500)); // mid-replay: the capture spans 39 s
  child.kill('SIGINT');
  assert.equal(await exited, 0, stderr);
  assert.doesNotMatch(stderr, /publish after stop|Error/);
  assert.doesNotMatch(stdout, /^ready /m, 'an interrupted replay is not reported as done');
});

test('config --print redacts a webhook sink secret (alert.sinks.<name>.secret)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-cli-'));
  const file = join(dir, 'floe.yaml');
  writeFileSync(file, 'alert:\n  sinks:\n    soc: { type: webhook, url: "http://127.0.0.1:1/h", secret: "do-not-print-this-secret" }\n');
  const r = floe(['config', '--print', '-c', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes('do-not-print-this-secret'));
  assert.equal(JSON.parse(r.stdout).alert.sinks.soc.secret, '<redacted>');
});

test('policy suggest (issue 9): bad options exit 2; a missing store is an error and stays missing; a store without enriched flows prints no policy and says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-suggest-'));
  try {
    const store = join(dir, 'floe.duckdb');
    // a read-only command never creates the store it is pointed at (a mistyped --store is not "no data")
    for (const args of [
      ['policy', 'suggest', '--store', join(dir, 'typo', 'floe.duckdb'), '--from', '24h'],
      ['report', '--store', join(dir, 'typo', 'floe.duckdb'), '--from', '24h', '--out', join(dir, 'out')],
    ]) {
      const missing = floe(args);
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(missing.stderr, /typo\/floe\.duckdb: no such file/);
      assert.equal(existsSync(join(dir, 'typo')), false, `${args[0]} created nothing`);
    }
    // an empty store, as a first floe run leaves it
    const s = createDuckDbStore({ path: store });
    await s.start();
    await s.stop();
    const bad = floe(['policy', 'suggest', '--store', store, '--namespace', 'Not_A_Namespace']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /DNS-1123/);
    assert.equal(floe(['policy', 'suggest', '--store', store, '--from', '2026-12-02T00:00:00Z', '--to', '2026-12-01T00:00:00Z']).code, 2);
    const none = floe(['policy', 'suggest', '--store', store, '--from', '24h']);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /0 flows read.*0 NetworkPolicies/);
    assert.match(none.stderr, /no stored flow names a pod/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
