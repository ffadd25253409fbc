/**
 * Issue 6 adversarial probe, CLI classes: inputs checked up front (an unreadable file is one line,
 * exit 2, as a nobody user), input text escaped in analyze's rejection lines, numeric options
 * accepted only as decimal numbers in range, the format name never leaking into a sentence, and a
 * busy port exiting 2 in `serve` as in `run`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../samples/conntrack-nmap-top100-scan.log', import.meta.url));

function floe(args: string[], env: NodeJS.ProcessEnv = {}, asUser?: string) {
  const argv = [process.execPath, '--conditions=floe-source', '--import', 'tsx', MAIN, ...args];
  const [cmd, ...rest] = asUser ? ['runuser', '-u', asUser, '--', ...argv] : argv;
  const r = spawnSync(cmd, rest, { encoding: 'utf8', env: { ...process.env, FLOE_LOG_LEVEL: 'warn', ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'floe-probe-cli-'));
chmodSync(dir, 0o755);
const file = (name: string, text: string, mode = 0o644) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
};
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

test('probe: an unreadable input, policy or inventory (as nobody) is one line `FILE: permission denied`, exit 2, before anything is read', {
  skip: process.getuid?.() !== 0 || spawnSync('runuser', ['--help']).status !== 0 ? 'needs root and runuser' : false,
}, () => {
  const ok = join(dir, 'ok.log');
  copyFileSync(SAMPLE, ok);
  chmodSync(ok, 0o644);
  const secret = file('unread.log', 'x\n', 0o600);
  for (const args of [
    [ok, secret],
    [secret, ok],
    [ok, '--policy', secret],
    [ok, '--inventory', secret],
  ]) {
    const r = floe(['analyze', ...args], {}, 'nobody');
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '', 'no partial results');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^floe: (cannot read )?${secret.replace(/[.]/g, '\\.')}: permission denied\\n$`));
  }
  const replay = floe(['run', '--replay', secret, '--speed', 'max', '--exit-after-replay', '--store', ':memory:', '--api-port', '0'], {}, 'nobody');
  assert.equal(replay.code, 2, replay.stderr);
  assert.equal(replay.stderr, `floe: replay ${secret}: permission denied\n`);
});

test('probe: analyze escapes input-derived labels (field, reason) and file names in rejection lines and the summary', () => {
  const line = spawnSync('head', ['-1', SAMPLE], { encoding: 'utf8' }).stdout.trim();
  const f = file('bidi\u202e.log', `${line}\n${line} \u202eevil\n${line} \u009b2J\n`);
  const r = floe(['analyze', f]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /rejected \(unexpected-token, field \\u\{202e\}evil\)/);
  assert.match(r.stderr, /rejected \(control-byte, field U\+009B\): .*\\u\{9b\}2J$/m);
  assert.match(r.stdout, /summary: .*bidi\\u\{202e\}\.log \[conntrack\]/);
  assert.doesNotMatch(r.stderr + r.stdout, RAW);
  // the same file replayed: the collector's log lines and the run summary escape it too
  const run = floe(['run', '--replay', f, '--speed', 'max', '--exit-after-replay', '--api-port', '0', '--store', ':memory:']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /rejected input line/);
  assert.match(run.stdout, /bidi\\u\{202e\}\.log/);
  assert.doesNotMatch(run.stderr + run.stdout, RAW);
});

test('probe: numeric options accept decimal numbers in range only; a file of one huge line does not name `auto` as a format', () => {
  for (const v of ['1e99', '0x400', '1e3', '-2048', '1024.5', '2048x', '99999999999', ' ', '268435457', '1073741824']) {
    const r = floe(['analyze', SAMPLE, '--max-line-bytes', v]);
    assert.equal(r.code, 2, v);
    assert.match(r.stderr, /--max-line-bytes.*a decimal integer number of bytes, 1024\.\.268435456/, v);
  }
  assert.equal(floe(['analyze', SAMPLE, '--max-line-bytes', '4096']).code, 0);
  for (const v of ['1e-300', '0', '0.001', '10001', '1e3', 'Infinity', '-1', '0x10']) {
    const r = floe(['run', '--speed', v]);
    assert.equal(r.code, 2, v);
    assert.match(r.stderr, /--speed.*a positive number or "max": a decimal number 0\.01\.\.10000/, v);
  }
  for (const v of ['1e3', '0x50', '80.0']) assert.equal(floe(['run', '--api-port', v]).code, 2, v);
  const big = file('one-line.log', `${'z'.repeat(2 * 1024 * 1024)}\n`);
  const r = floe(['analyze', big]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /one-line\.log: no line could be read \(1 rejected: line-too-long=1\)/);
  assert.doesNotMatch(r.stderr, /no line is auto/);
});

test('probe: serve with its port taken exits 2 (a configuration mistake, as in run)', async () => {
  const holder = createServer();
  await new Promise<void>((res) => holder.listen(0, '127.0.0.1', () => res()));
  const port = (holder.address() as { port: number }).port;
  try {
    const serve = floe(['serve', '--role', 'api'], { FLOE_API_PORT: String(port), FLOE_HEALTH_API_PORT: '0', FLOE_STORE_PATH: ':memory:' });
    assert.equal(serve.code, 2, serve.stderr);
    assert.match(serve.stderr, /EADDRINUSE/);
  } finally {
    holder.close();
  }
});

test('probe: arguments commander refuses are echoed escaped (unknown option, bad choice)', () => {
  const unknown = floe(['analyze', '--\u001b[31mx\u202e']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option '--\\x1b\[31mx\\u\{202e\}'/);
  const choice = floe(['analyze', SAMPLE, '--format', '\u009b2J']);
  assert.equal(choice.code, 2);
  assert.match(choice.stderr, /argument '\\u\{9b\}2J' is invalid/);
  for (const r of [unknown, choice]) assert.doesNotMatch(r.stderr, RAW);
});

test('probe: output paths are checked before the work (eval --roc, train --out, report --out): one line, exit 2, nothing computed first', () => {
  const nsl = fileURLToPath(new URL('../../../packages/eval/fixtures/nsl-kdd.sample.csv', import.meta.url));
  const cases: Array<[string[], RegExp]> = [
    [
      ['eval', '--input', nsl, '--format', 'nsl-kdd', '--train-split', '0', '--roc', join(dir, 'no-such-folder', 'roc.svg')],
      /^floe: --roc \S+roc\.svg: no such folder \S+no-such-folder\n$/,
    ],
    [['eval', '--input', nsl, '--format', 'nsl-kdd', '--train-split', '0', '--roc', dir], /^floe: --roc \S+: is a directory\n$/],
    // /proc refuses new entries with ENOENT: Node's recursive mkdir retried that without end.
    [['train', '--input', SAMPLE, '--out', '/proc/floe-model'], /^floe: --out \/proc\/floe-model: cannot create \/proc\/floe-model \(ENOENT\)\n$/],
    [['train', '--input', SAMPLE, '--out', '/dev/null'], /^floe: --out \/dev\/null: not a directory\n$/],
    [['train', '--input', SAMPLE, '--out', join(file('model-file', 'x'), 'sub')], /^floe: --out \S+model-file\/sub: not a directory \(\S+model-file is a file\)\n$/],
    // the store must exist (checked first); the folder is checked before the store is opened or the report built
    [['report', '--from', '7d', '--format', 'json', '--store', file('present.duckdb', ''), '--out', '/dev/null'], /^floe: --out \/dev\/null: not a directory\n$/],
  ];
  for (const [args, want] of cases) {
    const r = floe(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
  // A folder that does not exist yet is made, one level at a time, before the work starts.
  const made = join(dir, 'models', 'v1');
  const r = floe(['train', '--input', SAMPLE, '--out', made, '--epochs', '2']);
  assert.doesNotMatch(r.stderr, /--out /);
  assert.equal(statSync(made).isDirectory(), true);
});

test('probe: analyze reads standard input (-) and pipes (<(zcat …)), refuses devices, a terminal and - twice', () => {
  const argv = ['--conditions=floe-source', '--import', 'tsx', MAIN];
  const env = { ...process.env, FLOE_LOG_LEVEL: 'warn' };
  const piped = spawnSync(process.execPath, [...argv, 'analyze', '-'], { input: readFileSync(SAMPLE), encoding: 'utf8', env, timeout: 60_000 });
  assert.equal(piped.status, 0, piped.stderr);
  assert.match(piped.stdout + piped.stderr, /summary: stdin \[conntrack\]: 722 records parsed/);
  assert.match(piped.stdout, /portscan\.vertical/);
  // A pipe named by the shell (process substitution: /dev/fd/N), as `floe analyze <(zcat x.gz)`.
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const sub = spawnSync('bash', ['-c', `${[process.execPath, ...argv].map(q).join(' ')} analyze <(cat ${q(SAMPLE)})`], { encoding: 'utf8', env, timeout: 60_000 });
  assert.equal(sub.status, 0, sub.stderr);
  assert.match(sub.stdout + sub.stderr, /summary: \/dev\/fd\/\d+ \[conntrack\]: 722 records parsed/);
  const twice = spawnSync(process.execPath, [...argv, 'analyze', '-', '-'], { input: '', encoding: 'utf8', env, timeout: 60_000 });
  assert.equal(twice.status, 2);
  assert.equal(twice.stderr, 'floe: -: standard input given twice\n');
  const dev = floe(['analyze', '/dev/zero']);
  assert.equal(dev.code, 2);
  assert.equal(dev.stderr, 'floe: /dev/zero: not a regular file or pipe\n');
  const junk = spawnSync(process.execPath, [...argv, 'analyze', '-'], { input: Buffer.from([0, 1, 2, 0xff, 0xfe, 27, 91, 50, 74, 10]), encoding: 'utf8', env, timeout: 60_000 });
  assert.equal(junk.status, 2);
  assert.match(junk.stderr, /^floe: stdin /);
  assert.doesNotMatch(junk.stderr, RAW);
});
