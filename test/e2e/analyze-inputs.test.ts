/**
 * Issue 6, the CLI on odd and hostile inputs (the built command, services/cli/bin/floe.js):
 * files of formats floe does not read are named (analyze and run --replay), input text never
 * reaches the terminal raw, and BOM/CRLF/CR/NUL-damaged files of a format floe reads are read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { floeSync } from '../helpers/floe-run.js';
import { gzipSync } from 'node:zlib';

const TESTDATA = fileURLToPath(new URL('../../packages/flow/testdata/', import.meta.url));

const floe = (args: string[], cwd?: string) => floeSync(args, { cwd, env: { FLOE_LOG_LEVEL: 'warn' } });

const READS = 'which floe does not read; floe reads conntrack, conntrack-xml, kernel-log, ulogd-json';

test('analyze names the format of a file floe does not read (real samples), exit 2, no stack trace', () => {
  for (const [f, name] of [
    ['foreign/aws-vpc-v2.log', 'AWS VPC flow logs \\(version 2\\)'],
    ['foreign/zeek-conn-tsv.log', 'Zeek conn\\.log \\(TSV\\)'],
    ['foreign/hubble-flows.jsonl', 'Cilium Hubble flows \\(JSON\\)'],
    ['foreign/nfcapd-head.nfdump', 'an nfdump \\(nfcapd\\) binary flow file'],
  ]) {
    const r = floe(['analyze', join(TESTDATA, f)]);
    assert.equal(r.code, 2, f);
    assert.match(r.stderr, new RegExp(`^floe: \\S+${f.split('/')[1].replace('.', '\\.')} looks like ${name}, ${READS}`), f);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('analyze and run --replay on a gzip file say to decompress it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-inputs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const gz = join(dir, 'scan.log.gz');
  writeFileSync(gz, gzipSync(readFileSync(join(TESTDATA, 'conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log'))));
  const a = floe(['analyze', gz]);
  assert.equal(a.code, 2);
  assert.match(a.stderr, new RegExp(`scan\\.log\\.gz looks like gzip-compressed data, ${READS}; decompress it first \\(gunzip -k FILE\\)`));
  const r = floe(['run', '--replay', gz, '--speed', 'max', '--exit-after-replay', '--store', ':memory:', '--api-port', '0', '--dry-run'], dir);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`^floe: replay \\S*scan\\.log\\.gz looks like gzip-compressed data, ${READS}`));
});

test('terminal escapes and control bytes in input lines and file names reach the terminal escaped; BOM, CRLF, CR and NUL-led lines are read', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-inputs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines = readFileSync(join(TESTDATA, 'iptables-log/crowdsec-hub-iptables-portscan.log'), 'utf8').split('\n').filter(Boolean);
  const hostile = [
    '\x1b]0;owned\x07\x1b[2J IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=40 PROTO=TCP SPT=1 DPT=2',
    'IN=eth0 OUT= SRC=192.0.2.1\u009b31m DST=192.0.2.2 LEN=40 PROTO=TCP SPT=1 DPT=2',
    'Nov 14 12:00:00 host kernel: [\u202eKCOLB WFU] IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=40 PROTO=TCP SPT=1 DPT=bad',
  ];
  // a BOM, CRLF and lone CR line ends, NULs before a line (a syslog file after a crash)
  const body = `\ufeff${lines.slice(0, 20).join('\r\n')}\r\n${hostile.join('\n')}\n\0\0\0${lines.slice(20).join('\r')}\n`;
  const file = join(dir, 'evil\x1b[31m.log');
  writeFileSync(file, body);
  const r = floe(['analyze', file]);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout + r.stderr;
  assert.doesNotMatch(out, /[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202a-\u202e]/, 'no raw control, C1 or bidi character on the terminal');
  assert.match(r.stderr, /evil\\x1b\[31m\.log:21: rejected \(control-byte, field U\+001B\): \\x1b\]0;owned\\x07\\x1b\[2J IN=eth0/);
  assert.match(r.stderr, /:22: rejected \(control-byte, field U\+009B\)/);
  assert.match(r.stderr, /:23: rejected \(bad-port, field DPT\): .*\[\\u\{202e\}KCOLB WFU\]/);
  // every real line was read: 49 in the file, the first behind the BOM, one behind the NULs
  assert.match(r.stdout, new RegExp(`summary: \\S+ \\[kernel-log\\]: ${lines.length} records parsed, 0 lines skipped, 3 rejected`));
  assert.match(r.stdout, /^finding\s+\S+\s+portscan\.vertical\s+62\.34\.17\.168/m);
});
