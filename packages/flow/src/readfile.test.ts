import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { FileReadError, readBoundedText, readFailure } from './readfile.js';
import { quoteExcerpt } from './escape.js';

const dir = mkdtempSync(join(tmpdir(), 'floe-readfile-'));

test('readBoundedText: a regular file up to the cap is read; one byte over, a device, a FIFO or a directory is refused', () => {
  const p = join(dir, 'f');
  writeFileSync(p, 'x'.repeat(100));
  assert.equal(readBoundedText(p, 100), 'x'.repeat(100));
  assert.throws(
    () => readBoundedText(p, 99),
    (e: unknown) => e instanceof FileReadError && e.reason === 'too-large' && readFailure(e) === 'larger than 99 bytes',
  );
  const fifo = join(dir, 'fifo');
  spawnSync('mkfifo', [fifo]);
  for (const bad of ['/dev/zero', '/dev/urandom', fifo, dir]) {
    assert.throws(
      () => readBoundedText(bad),
      (e: unknown) => readFailure(e) === 'not a regular file',
      bad,
    );
  }
  assert.throws(
    () => readBoundedText(join(dir, 'missing')),
    (e: unknown) => readFailure(e) === 'no such file',
  );
});

test('quoteExcerpt: at most 40 characters, escaped, with the length when cut', () => {
  assert.equal(quoteExcerpt('10.0.0.0/8'), '"10.0.0.0/8"');
  assert.equal(quoteExcerpt('\u001b[31m\u202e'), '"\\x1b[31m\\u{202e}"');
  assert.equal(quoteExcerpt('a'.repeat(41)), `"${'a'.repeat(40)}"…(41 chars)`);
  assert.equal(quoteExcerpt('a'.repeat(40)), `"${'a'.repeat(40)}"`);
});
