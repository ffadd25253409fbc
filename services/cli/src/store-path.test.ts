/**
 * Issue 6: an unusable `--store` path printed a stack trace. Now `floe run` and `floe serve`
 * print one line naming the path and exit 2, whatever makes it unusable. Runs the real CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../samples/conntrack-nmap-top100-scan.log', import.meta.url));

function floe(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--conditions=floe-source', '--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, FLOE_LOG_LEVEL: 'warn', ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `floe run` on the bundled replay, dry-run, with `--store path`. */
const run = (path: string) => floe(['run', '--store', path, '--replay', SAMPLE, '--speed', 'max', '--exit-after-replay', '--api-port', '0', '--dry-run']);

function unusable(t: { after(fn: () => void): void }): Array<[string, string, RegExp]> {
  const dir = mkdtempSync(join(tmpdir(), 'floe-store-path-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'notes.txt'), 'not a database\n');
  writeFileSync(join(dir, 'empty.duckdb'), '');
  mkdirSync(join(dir, 'adir'));
  return [
    ['a file where its directory should be', join(dir, 'notes.txt', 'floe.duckdb'), /cannot be created: a file is in the way/],
    ['a directory', join(dir, 'adir'), /is a directory/],
    ['a non-DuckDB file', join(dir, 'notes.txt'), /is not a DuckDB database file/],
    ['an empty file', join(dir, 'empty.duckdb'), /is an empty file, not a DuckDB database/],
    // /sys refuses new files even to root: a directory that is not writable
    ['a directory that is not writable', '/sys/floe-test.duckdb', /its directory \/sys is not writable/],
  ];
}

test('floe run --store <unusable>: one line naming the path, exit 2, no stack trace (issue 6)', { timeout: 180_000 }, (t) => {
  for (const [what, path, why] of unusable(t)) {
    const r = run(path);
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
    assert.ok(lines[0].startsWith(`floe: store path ${path}: `), `${what}: ${lines[0]}`);
    assert.match(lines[0], why, what);
    assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: stack trace`);
  }
});

test('floe serve --role api with an unusable store.path: one line, exit 2', { timeout: 120_000 }, (t) => {
  for (const [what, path, why] of unusable(t).slice(1, 3)) {
    const r = floe(['serve', '--role', 'api'], { FLOE_STORE_PATH: path, FLOE_API_PORT: '0', FLOE_HEALTH_API_PORT: '0' });
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^floe-api: store path ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `), what);
    assert.match(r.stderr, why, what);
  }
});

test('floe run --store: a missing directory is created; a store locked by another floe is one line, exit 2', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-store-path-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'new', 'sub', 'floe.duckdb');
  const ok = run(path);
  assert.equal(ok.code, 0, ok.stderr);
  // a second floe holds the file while a run starts on it
  const holder = spawn(
    process.execPath,
    ['--conditions=floe-source', '--import', 'tsx', MAIN, 'run', '--store', path, '--replay', SAMPLE, '--speed', 'max', '--api-port', '0', '--dry-run'],
    {
      env: { ...process.env, FLOE_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  t.after(() => {
    holder.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    holder.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (/^api {6}http/m.test(out)) resolve();
    });
    holder.on('exit', (c) => reject(new Error(`holder exited ${c}`)));
  });
  const locked = run(path);
  assert.equal(locked.code, 2, locked.stderr);
  const last = locked.stderr.trim().split('\n').at(-1) ?? '';
  assert.match(last, new RegExp(`^floe: store: start failed: store path ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: DuckDB cannot open it: .*lock`));
  assert.doesNotMatch(locked.stderr, /^\s+at /m);
  holder.kill('SIGTERM');
});
