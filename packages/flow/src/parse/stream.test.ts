import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { FlowFormatError } from '../errors.js';
import type { FlowRecord } from '../record.js';
import { ParseStats } from './stats.js';
import { createParser, parseFile, parseLines } from './stream.js';
import type { ParseError } from './types.js';

const td = (rel: string) => fileURLToPath(new URL(`../../testdata/${rel}`, import.meta.url));

test('parseFile auto-detects and counts: malformed crowdsec file gives 3 records (IN=enp.1s0 is a Linux name), 1 error with file and line', async () => {
  const { records, stats, format } = await parseFile(td('iptables-log/crowdsec-hub-iptables-logs-with-malformed.log'), { format: 'auto', node: 'n1' });
  assert.equal(format, 'kernel-log');
  assert.equal(records.length, 3);
  assert.ok(records.every((r) => r.node === 'n1'));
  assert.deepEqual(stats.toJSON().byReason, { 'missing-field': 1 });
  assert.deepEqual(
    stats.errors.map((e) => [e.line, e.file]),
    [[3, td('iptables-log/crowdsec-hub-iptables-logs-with-malformed.log')]],
  );
  assert.deepEqual([stats.parsed, stats.skipped, stats.rejected, stats.lines], [3, 0, 1, 4]);
});

test('parseFile on the captured conntrack file: 722 parsed, 1 skipped, no rejection; XML: 3 skipped', async () => {
  const ct = await parseFile(td('conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log'), { format: 'auto' });
  assert.deepEqual([ct.format, ct.stats.parsed, ct.stats.skipped, ct.stats.rejected], ['conntrack', 722, 1, 0]);
  const xml = await parseFile(td('conntrack/travis-nat-conntrack-E-o-xml-events.xml'), { format: 'conntrack-xml' });
  assert.deepEqual([xml.format, xml.stats.parsed, xml.stats.skipped, xml.records[0].event], ['conntrack-xml', 1279, 3, 'destroy']);
});

test('parseFile with a wrong explicit format rejects every line without stopping', async () => {
  const r = await parseFile(td('ulogd-nfct/captured-ulogd2-nfct-json-nmap-scan-v4v6.json'), { format: 'conntrack' });
  assert.equal(r.records.length, 0);
  assert.equal(r.stats.rejected, 444);
  assert.equal(r.stats.errors.length, 100, 'only the first 100 errors are kept');
  assert.equal(r.stats.errors[99].line, 100);
});

test('auto on an undetectable file throws FlowFormatError FLOE_FLOW_UNKNOWN_FORMAT naming the file', async () => {
  const file = td('negative/crowdsec-hub-mikrotik.log');
  await assert.rejects(parseFile(file, { format: 'auto' }), (e: unknown) => {
    assert.ok(e instanceof FlowFormatError);
    assert.equal(e.code, 'FLOE_FLOW_UNKNOWN_FORMAT');
    assert.equal(e.file, file);
    assert.ok(e.message.includes(file));
    return true;
  });
});

test('parseLines over a child process stdout (cat | readline), onError called for each rejected line', async () => {
  const child = spawn('cat', [td('iptables-log/crowdsec-hub-iptables-logs-with-malformed.log'), td('iptables-log/crowdsec-hub-proxmox-pvefw.log')]);
  const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
  const seen: ParseError[] = [];
  const stats = new ParseStats(1);
  const out: FlowRecord[] = [];
  for await (const r of parseLines(rl, { format: 'auto', stats, file: 'stdin', onError: (e) => seen.push(e) })) out.push(r);
  assert.equal(out.length, 13);
  assert.deepEqual(
    seen.map((e) => [e.line, e.reason, e.file]),
    [[3, 'missing-field', 'stdin']],
  );
  assert.equal(stats.errors.length, 1, 'keep=1');
  assert.equal(stats.rejected, 1);
});

test('parseLines: short inputs are detected at the end; empty input yields nothing; line numbers survive buffering', async () => {
  const lines = ['', 'tcp 6 1 CLOSE src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2', 'tcp 6 1 CLOSE src=10.0.0.1 dst=10.0.0.999 sport=1 dport=2'];
  const stats = new ParseStats();
  const out: FlowRecord[] = [];
  for await (const r of parseLines(lines, { format: 'auto', stats })) out.push(r);
  assert.equal(out.length, 1);
  assert.deepEqual([stats.skipped, stats.errors[0].line, stats.errors[0].field], [1, 3, 'dst']);
  const none: FlowRecord[] = [];
  for await (const r of parseLines([], { format: 'auto' })) none.push(r);
  assert.equal(none.length, 0);
  const long = Array.from({ length: 45 }, (_, k) => `tcp 6 1 CLOSE src=10.0.0.1 dst=10.0.0.2 sport=${k} dport=2`);
  long[30] = 'garbage';
  const s2 = new ParseStats();
  const ports: Array<number | undefined> = [];
  for await (const r of parseLines(long, { format: 'auto', stats: s2 })) ports.push(r.srcPort);
  assert.deepEqual(
    ports,
    Array.from({ length: 45 }, (_, k) => k).filter((k) => k !== 30),
  );
  assert.equal(s2.errors[0].line, 31);
});

test('createParser rejects an unknown format name; ParseStats.record counts the three outcomes', () => {
  assert.throws(
    () => createParser('netflow' as never),
    (e: unknown) => e instanceof FlowFormatError && e.code === 'FLOE_FLOW_BAD_FORMAT_NAME',
  );
  const p = createParser('conntrack');
  const s = new ParseStats();
  s.record(p.parseLine('', 1));
  s.record(p.parseLine('tcp 6 1 CLOSE src=10.0.0.1 dst=10.0.0.2', 2));
  s.record(p.parseLine('nope', 3));
  assert.deepEqual(s.toJSON(), { parsed: 1, skipped: 1, rejected: 1, byReason: { 'unknown-line': 1 }, errors: [{ line: 3, reason: 'unknown-line', text: 'nope' }] });
});
