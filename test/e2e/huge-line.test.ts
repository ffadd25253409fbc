/**
 * Issue 6: `floe analyze` and `floe run --replay` on a file with a 600 MB line (the built CLI,
 * services/cli/bin/floe.js; `npx tsc -b` first). The line is counted as rejected
 * (`line-too-long`, with its line number and length), the rest is processed (the nmap scan in
 * the real capture is still found), the process exits 0, and its peak RSS stays far below the
 * line's size (a resource bound: holding the line would take at least 600 MB).
 *
 * The file is written streaming (1 MiB at a time) in a temp dir and deleted after: the 600 MB
 * line first (the format is detected past it), then the capture with a 5 MB line in its middle
 * (rejected after detection).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Finding } from '@floe/flow';

const FLOE = fileURLToPath(new URL('../../services/cli/bin/floe.js', import.meta.url));
const PRELOAD = new URL('../helpers/maxrss-preload.mjs', import.meta.url).href;
const CAPTURE = fileURLToPath(new URL('../../packages/flow/testdata/conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log', import.meta.url));
const HUGE = 600 * 1024 * 1024;
const BIG = 5 * 1024 * 1024;
/** Peak RSS bound (KiB): well under the 600 MB line; the runs measured 150-190 MB. */
const MAX_RSS_KB = 400 * 1024;

function writeFile(dir: string): string {
  const file = join(dir, 'huge.log');
  const fd = openSync(file, 'w');
  try {
    const mib = Buffer.alloc(1024 * 1024, 'A');
    for (let n = 0; n < HUGE; n += mib.length) writeSync(fd, mib);
    writeSync(fd, '\n');
    const lines = readFileSync(CAPTURE, 'utf8').split('\n');
    writeSync(fd, lines.slice(0, 300).join('\n') + '\n');
    for (let n = 0; n < BIG; n += mib.length) writeSync(fd, mib);
    writeSync(fd, '\n' + lines.slice(300).join('\n'));
  } finally {
    closeSync(fd);
  }
  return file;
}

function floe(dir: string, args: string[], env: Record<string, string> = {}) {
  const rssFile = join(dir, `rss-${args[0]}`);
  const r = spawnSync(process.execPath, ['--import', PRELOAD, FLOE, ...args], {
    encoding: 'utf8',
    cwd: dir,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, FLOE_TEST_MAXRSS_FILE: rssFile, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, maxRssKb: Number(readFileSync(rssFile, 'utf8')) };
}

test('a 600 MB line: analyze and run --replay count it as rejected, process the rest, stay bounded in memory, exit 0 (issue 6)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-huge-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = writeFile(dir);

  await t.test('floe analyze --json', () => {
    const r = floe(dir, ['analyze', '--json', file]);
    assert.equal(r.code, 0, r.stderr.slice(0, 2000));
    assert.match(r.stderr, /huge\.log:1: rejected \(line-too-long, 629145600 bytes, starts\): A{80}\n/);
    assert.match(r.stderr, /huge\.log:302: rejected \(line-too-long, 5242880 bytes/);
    assert.match(r.stderr, /huge\.log \[conntrack\]: 722 records parsed, 1 lines skipped, 2 rejected \(line-too-long=2\)/);
    const findings = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Finding);
    assert.ok(
      findings.some((f) => f.detector === 'portscan.vertical' && f.entity.addr === '10.50.0.2'),
      'the scan behind the long lines is found',
    );
    assert.ok(r.maxRssKb > 0 && r.maxRssKb < MAX_RSS_KB, `peak RSS ${r.maxRssKb} KiB`);
    t.diagnostic(`analyze: peak RSS ${Math.round(r.maxRssKb / 1024)} MiB`);
  });

  await t.test('floe run --replay --speed max --exit-after-replay', () => {
    const r = floe(dir, ['run', '--replay', file, '--speed', 'max', '--exit-after-replay', '--store', ':memory:', '--api-port', '0', '--dry-run'], { FLOE_LOG_LEVEL: 'warn' });
    assert.equal(r.code, 0, r.stderr.slice(0, 2000));
    assert.match(r.stdout, /summary\s+\S*huge\.log: 722 flows, 2 rejected \(line-too-long=2\)/);
    assert.match(r.stdout, /^finding\s+high\s+portscan\.vertical\s+10\.50\.0\.2/m);
    // the collector's warning names line and length, with the start of the line only
    const logs = (r.stdout + r.stderr)
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; line?: number; bytes?: number; text?: string });
    const rejected = logs.filter((l) => l.msg === 'rejected input line');
    assert.deepEqual(
      rejected.map((l) => [l.line, l.bytes]),
      [
        [1, HUGE],
        [302, BIG],
      ],
    );
    assert.ok(rejected.every((l) => (l.text ?? '').length <= 256));
    assert.ok(r.maxRssKb > 0 && r.maxRssKb < MAX_RSS_KB, `peak RSS ${r.maxRssKb} KiB`);
    t.diagnostic(`run: peak RSS ${Math.round(r.maxRssKb / 1024)} MiB`);
  });
});
