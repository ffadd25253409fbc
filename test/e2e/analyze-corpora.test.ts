/**
 * `floe analyze` (the built command) on the real conntrack and kernel-log files of the corpora
 * (copies in packages/flow/testdata, sources in packages/flow/testdata/SOURCES.md): findings as
 * NDJSON on stdout, a summary with records parsed and rejected by reason on stderr, exit 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { floeSync } from '../helpers/floe-run.js';
import type { Finding } from '@floe/flow';

const TESTDATA = fileURLToPath(new URL('../../packages/flow/testdata/', import.meta.url));
const filesOf = (dir: string) =>
  readdirSync(join(TESTDATA, dir))
    .sort()
    .map((f) => join(TESTDATA, dir, f));

const floe = (args: string[]) => floeSync(args);

test('analyze --json on every conntrack and kernel-log corpus file', () => {
  const files = [...filesOf('conntrack'), ...filesOf('iptables-log')];
  assert.ok(files.length >= 15);
  const r = floe(['analyze', '--json', ...files]);
  assert.equal(r.code, 0, r.stderr);
  const findings = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Finding);
  for (const f of findings) {
    assert.equal(f.schema, 1);
    assert.ok(f.id && f.detector && f.severity && f.entity.addr, `complete finding: ${JSON.stringify(f)}`);
  }
  const by = (det: string, addr: string) => findings.filter((f) => f.detector === det && f.entity.addr === addr);
  // nmap top-100 SYN scan of 10.60.0.14 by 10.50.0.2 (captured on this project's machine)
  assert.equal(by('portscan.vertical', '10.50.0.2').length, 1);
  assert.equal(findings.filter((f) => f.detector.startsWith('portscan') && f.entity.addr === '10.70.0.2').length, 0, 'benign client not flagged');
  // iki: one source sweeping port 22 across a /24
  assert.equal(by('hostsweep.horizontal', '125.65.245.146').length, 1);
  // CrowdSec hub multi-port scan: 62.34.17.168 SYNs 17 ports
  assert.equal(by('portscan.vertical', '62.34.17.168').length, 1);

  // one summary line per file, with parsed and rejected counts
  for (const f of files)
    assert.match(r.stderr, new RegExp(`summary: ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\[[a-z-]+\\]: \\d+ records parsed, \\d+ lines skipped, \\d+ rejected`));
  // of the two "malformed" CrowdSec lines, XX= is rejected with its line number; IN=enp.1s0 is a name Linux accepts (issue 6)
  assert.match(r.stderr, /crowdsec-hub-iptables-logs-with-malformed\.log \[kernel-log\]: 3 records parsed, 0 lines skipped, 1 rejected \(/);
  assert.match(r.stderr, /crowdsec-hub-iptables-logs-with-malformed\.log:\d+: rejected \(/);
  assert.match(r.stderr, /summary: \d+ findings \(.*portscan\.vertical=\d+/);
});

test('analyze without --json prints human lines and the summary on stdout', () => {
  const r = floe(['analyze', join(TESTDATA, 'conntrack', 'captured-conntrack-E-extended-timestamp-nmap-top100-scan.log')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^finding\s+high\s+portscan\.vertical\s+10\.50\.0\.2/m);
  assert.match(r.stdout, /summary: .*\[conntrack\]: 722 records parsed, 1 lines skipped, 0 rejected/);
});

test('analyze exits 2 with a clear error for unusable input', () => {
  const missing = floe(['analyze', '/nonexistent/flows.log']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /\/nonexistent\/flows\.log: no such file/);
  const unknown = floe(['analyze', join(TESTDATA, 'SOURCES.md')]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /cannot detect the format of \S*SOURCES\.md; floe reads conntrack, conntrack-xml, kernel-log, ulogd-json/);
  const badFormat = floe(['analyze', '--format', 'pcap', join(TESTDATA, 'SOURCES.md')]);
  assert.notEqual(badFormat.code, 0);
  assert.match(badFormat.stderr, /--format.*pcap.*is invalid/);
});
