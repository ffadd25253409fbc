// `floe analyze` prints each finding once, in its final form (issue 6): the real count of a
// 101-port scan, first/last seen from the records whatever their order, and no duration for a
// dump without time stamps. Runs the real CLI on real captures (packages/detect/testdata).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Finding } from '@floe/flow';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const testdata = (name: string) => fileURLToPath(new URL(`../../../packages/detect/testdata/${name}`, import.meta.url));
const SCAN101_E = testdata('captured-conntrack-E-extended-timestamp-nmap-101-ports.log');
const SCAN101_L = testdata('captured-conntrack-L-nmap-101-ports.txt');
const SAMPLE = fileURLToPath(new URL('../samples/conntrack-nmap-top100-scan.log', import.meta.url));

function floe(args: string[]) {
  const r = spawnSync(process.execPath, ['--conditions=floe-source', '--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, FLOE_LOG_LEVEL: 'warn' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const findingLines = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('finding '));

test('analyze: a 101-port scan prints one finding with 101 ports; the bundled top-100 sample 100 (not the last doubling, 60)', () => {
  const r = floe(['analyze', SCAN101_E, SAMPLE]);
  assert.equal(r.code, 0, r.stderr);
  const lines = findingLines(r.stdout);
  assert.equal(lines.length, 2, r.stdout);
  assert.match(lines[0], /portscan\.vertical +10\.50\.0\.2 +10\.50\.0\.2 probed 100 distinct ports of 10\.60\.0\.14 within 2 ms \(threshold 15 in 60 s\) {2}\[T1046\]$/);
  assert.match(lines[1], /portscan\.vertical +10\.231\.1\.2 +10\.231\.1\.2 probed 101 distinct ports of 10\.231\.1\.1 within 1\.0 s \(threshold 15 in 60 s\) {2}\[T1046\]$/);
  assert.match(r.stdout, /^summary: 2 findings \(portscan\.vertical=2\)$/m);
});

test('analyze: a conntrack -L dump (no time stamps) says "timing unknown" and never "within"', () => {
  const r = floe(['analyze', SCAN101_L]);
  assert.equal(r.code, 0, r.stderr);
  const lines = findingLines(r.stdout);
  assert.equal(lines.length, 1, r.stdout);
  assert.match(lines[0], /10\.231\.1\.2 probed 101 distinct ports of 10\.231\.1\.1 \(timing unknown: the records carry no time; threshold 15 in 60 s\)/);
  assert.doesNotMatch(r.stdout, /within/);
});

test('analyze --json: the capture with its lines shuffled gives the same final finding (times, counts, ports)', () => {
  const lines = readFileSync(SCAN101_E, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  // A fixed permutation (reversed, then every third line moved to the end): out of time order.
  const rev = lines.slice().reverse();
  const shuffled = [...rev.filter((_, i) => i % 3 !== 0), ...rev.filter((_, i) => i % 3 === 0)];
  const dir = mkdtempSync(join(tmpdir(), 'floe-analyze-'));
  const file = join(dir, 'shuffled.log');
  writeFileSync(file, shuffled.join('\n') + '\n');
  const parse = (stdout: string): Finding[] =>
    stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Finding);
  const a = floe(['analyze', '--json', SCAN101_E]);
  const b = floe(['analyze', '--json', file]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const [fa] = parse(a.stdout);
  const fb = parse(b.stdout);
  assert.equal(fb.length, 1);
  const view = (f: Finding) => [f.firstSeen, f.lastSeen, f.summary, f.evidence.distinctPorts, f.evidence.flows, f.evidence.ports, f.evidence.sample, f.evidence.timesFromRecords];
  assert.deepEqual(view(fb[0]), view(fa));
  assert.equal(fa.evidence.distinctPorts, 101);
  assert.ok(fa.lastSeen > fa.firstSeen);
});
