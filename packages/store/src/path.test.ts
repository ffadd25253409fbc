import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore } from './factory.js';
import { checkDuckDbPath } from './path.js';

test('checkDuckDbPath: :memory:, a new file in a missing directory (created) and a real DuckDB file pass, leaving no probe behind', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-path-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  checkDuckDbPath(':memory:');
  const file = join(dir, 'a', 'b', 'floe.duckdb');
  checkDuckDbPath(file);
  assert.deepEqual(readdirSync(join(dir, 'a', 'b')), [], 'the directory is created, the probe removed, no file yet');
  const s = createStore({ kind: 'duckdb', path: file });
  await s.start();
  await s.stop();
  checkDuckDbPath(file);
  assert.doesNotThrow(() => createStore({ kind: 'duckdb', path: file }));
});

test('checkDuckDbPath / createStore: FLOE_STORE_BAD_PATH naming the path for each way it is unusable', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-path-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'text'), 'hello, not a database, but long enough\n');
  writeFileSync(join(dir, 'short'), 'DUCK');
  writeFileSync(join(dir, 'empty'), '');
  mkdirSync(join(dir, 'adir'));
  const cases: Array<[string, RegExp]> = [
    [join(dir, 'text', 'x.duckdb'), /a file is in the way/],
    [join(dir, 'adir'), /is a directory/],
    [join(dir, 'text'), /is not a DuckDB database file/],
    [join(dir, 'short'), /is not a DuckDB database file/],
    [join(dir, 'empty'), /is an empty file/],
    ['/sys/floe-path-test.duckdb', /is not writable/],
    ['/dev/null', /is not a regular file/],
  ];
  for (const [path, why] of cases) {
    for (const f of [() => checkDuckDbPath(path), () => createStore({ kind: 'duckdb', path })]) {
      assert.throws(
        f,
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'FLOE_STORE_BAD_PATH', path);
          assert.ok(e.message.startsWith(`store path ${path}: `), e.message);
          assert.match(e.message, why);
          assert.doesNotMatch(e.message, /\n/);
          return true;
        },
        path,
      );
    }
  }
});
