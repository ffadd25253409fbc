import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { importFile, importLines, ImportStats, type LabelledFormat, type LabelledRecord } from '../index.js';

const fx = (name: string): string => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));

async function all(name: string, format: LabelledFormat): Promise<{ rows: LabelledRecord[]; stats: ImportStats }> {
  const stats = new ImportStats();
  const rows: LabelledRecord[] = [];
  for await (const r of importFile(fx(name), format, { stats })) rows.push(r);
  return { rows, stats };
}

/** Import the fixture's text with line `lineNo` (1-based) replaced by `edit(line)`. */
async function damaged(name: string, format: LabelledFormat, lineNo: number, edit: (line: string) => string) {
  const lines = readFileSync(fx(name), 'utf8').split('\n');
  lines[lineNo - 1] = edit(lines[lineNo - 1]);
  const stats = new ImportStats();
  const rows: LabelledRecord[] = [];
  const seen: string[] = [];
  for await (const r of importLines(Readable.from([lines.join('\n')]), format, { file: name, stats, onError: (e) => seen.push(`${e.file}:${e.line}:${e.field}:${e.reason}`) }))
    rows.push(r);
  return { rows, stats, seen };
}

test('zeek-conn TSV (CTU-SME-11 labelled): fields, times, IP bytes, state, label and class', async () => {
  const { rows, stats } = await all('zeek-ctu-sme-11.sample.conn.log', 'zeek-conn');
  assert.equal(stats.parsed, 7);
  assert.equal(stats.rejected, 0);
  const r = rows[0];
  // 1677024003.714845 C6SgKom3WB2KEL2ae 192.168.1.107 65164 66.63.168.35 5888 tcp - 0.037629 0 0 REJ T F 0 Sr 2 104 2 80 - Malicious From_malicious-...
  assert.equal(r.line, 9);
  assert.deepEqual(
    { ...r.flow },
    {
      schema: 1,
      observedAt: 1677024003752,
      start: 1677024003714,
      end: 1677024003752,
      source: 'file',
      event: 'destroy',
      family: 4,
      protocol: 6,
      srcAddr: '192.168.1.107',
      dstAddr: '66.63.168.35',
      srcPort: 65164,
      dstPort: 5888,
      bytesOrig: 104,
      packetsOrig: 2,
      bytesReply: 80,
      packetsReply: 2,
      state: 'CLOSE',
    },
  );
  assert.deepEqual(r.label, { kind: 'attack', cls: 'From_malicious-To_malicious-Malware_data_exfiltration-RemcosRAT' });
  assert.deepEqual(
    rows.slice(-3).map((x) => x.label.kind),
    ['benign', 'benign', 'unknown'],
  );
});

test('zeek-conn JSON lines: typed values, REJ and RSTO; no label column means unknown', async () => {
  const { rows } = await all('zeek-portscan-vertical.sample.conn.json.log', 'zeek-conn');
  assert.equal(rows.length, 3);
  assert.equal(rows[0].flow.start, 1700828217314);
  assert.equal(rows[0].flow.end, 1700828217521);
  assert.equal(rows[0].flow.dstPort, 443);
  assert.equal(rows[0].flow.state, 'CLOSE');
  assert.equal(rows[0].flow.assured, undefined);
  assert.equal(rows[1].flow.state, 'CLOSE');
  assert.equal(rows[1].flow.assured, true);
  assert.equal(rows[0].label.kind, 'unknown');
});

test('zeek-conn TSV with a stray TAB before #separator and IPv6 addresses', async () => {
  const { rows, stats } = await all('zeek-test10-ipv6.sample.conn.log', 'zeek-conn');
  assert.equal(stats.rejected, 0);
  assert.ok(rows.length >= 3);
  assert.equal(rows[0].flow.family, 6);
  assert.equal(rows[0].flow.srcAddr, '2001:718:2:1663:dc58:6d9:ef13:51a5');
  assert.equal(rows[0].flow.protocol, 17);
});

test('zeek-conn CSV (IoT-23): label and detailed-label classes, unset counters stay absent', async () => {
  const { rows } = await all('iot23-34-1.sample.csv', 'zeek-conn');
  assert.deepEqual(
    rows.map((r) => r.label.cls),
    ['benign', 'benign', 'PartOfAHorizontalPortScan', 'PartOfAHorizontalPortScan', 'DDoS', 'C&C'],
  );
  // 1545403824.181240,...,tcp,,,,,S0,,,0,S,1,60,0,0,,Benign,-  (no duration)
  assert.equal(rows[1].flow.end, undefined);
  assert.equal(rows[1].flow.bytesOrig, 60);
  assert.equal(rows[1].flow.state, 'SYN_SENT');
  assert.equal(rows[1].flow.unreplied, true);
  assert.equal(rows[2].flow.packetsOrig, 3069);
});

test('ctu binetflow TSV (Slips test5): management and link-layer rows skipped and counted, Argus states, labels', async () => {
  const { rows, stats } = await all('ctu-test5.sample.tsv', 'ctu');
  assert.deepEqual(Object.fromEntries(stats.skippedByReason), { 'management-record': 1, 'not-ip': 3 });
  assert.equal(stats.rejected, 0);
  assert.equal(stats.parsed, 9);
  const bg = rows[0];
  assert.equal(bg.flow.srcAddr, '0.0.0.0');
  assert.equal(bg.flow.start, Date.UTC(1970, 0, 1, 1, 0, 8, 140));
  assert.equal(bg.flow.unreplied, true);
  assert.deepEqual(bg.label, { kind: 'unknown', cls: 'unknown', detail: 'flow=Background-UDP-Attempt' });
  const icmp6 = rows.find((r) => r.flow.protocol === 58)!;
  assert.equal(icmp6.flow.icmpType, 135);
  const m = rows[rows.length - 1];
  // 10.0.2.15 49164 -> 23.253.126.58 80 FSPA_FSPA TotPkts 10 TotBytes 1023 SrcBytes 550 SrcPkts 5
  assert.deepEqual([m.flow.bytesOrig, m.flow.bytesReply, m.flow.packetsOrig, m.flow.packetsReply, m.flow.state, m.flow.assured], [550, 473, 5, 5, 'TIME_WAIT', true]);
  assert.deepEqual(m.label, { kind: 'attack', cls: 'Malware-TCP', detail: 'flow=Malware-TCP' });
});

test('ctu binetflow without SrcPkts: reply packets stay absent', async () => {
  const { rows } = await all('ctu-test4-no-srcpkts.sample.csv', 'ctu');
  assert.equal(rows[0].flow.packetsOrig, undefined);
  assert.equal(rows[0].flow.packetsReply, undefined);
  assert.equal(rows[0].flow.bytesOrig, 1224);
  assert.equal(rows[0].flow.bytesReply, 3766 - 1224);
});

test('cic-ids (improved CIC-IDS2017): µs durations, payload + header bytes, classes', async () => {
  const { rows } = await all('cic-ids2017.sample.csv', 'cic-ids');
  assert.deepEqual(
    rows.map((r) => r.label.cls),
    ['benign', 'Portscan', 'SSH-Patator', 'DDoS', 'Botnet'],
  );
  const scan = rows[1].flow;
  assert.equal(scan.srcAddr, '172.16.0.1');
  assert.equal(scan.dstPort, 1600);
  assert.equal(scan.start, Date.UTC(2017, 6, 7, 17, 52, 33, 462));
  assert.equal(scan.packetsOrig, 1);
  assert.equal(scan.packetsReply, 1);
  assert.equal(scan.state, 'CLOSE');
});

test('unsw-nb15 without addresses: one synthetic source per row, real times, binary label', async () => {
  const { rows, stats } = await all('unsw-nb15.sample.csv', 'unsw-nb15');
  assert.equal(stats.synthesized.addresses, true);
  assert.equal(stats.synthesized.times, false);
  assert.equal(new Set(rows.map((r) => r.flow.srcAddr)).size, rows.length);
  assert.deepEqual(
    rows.map((r) => r.label.kind),
    ['attack', 'attack', 'attack', 'attack', 'benign', 'benign', 'benign', 'benign'],
  );
  // tcp,FIN,0.298669,866,268,...,http,...,Spkts 10,Dpkts 6 — service http gives port 80
  const r = rows[0].flow;
  assert.deepEqual([r.protocol, r.bytesOrig, r.bytesReply, r.packetsOrig, r.packetsReply, r.dstPort, r.state], [6, 866, 268, 10, 6, 80, 'TIME_WAIT']);
  assert.equal((r.end ?? 0) - (r.start ?? 0), 298);
});

test('nsl-kdd: synthetic entities and times, KDD flags as Zeek states, attack categories', async () => {
  const { rows, stats } = await all('nsl-kdd.sample.csv', 'nsl-kdd');
  assert.deepEqual(stats.synthesized.addresses && stats.synthesized.times, true);
  assert.match(stats.synthesized.note ?? '', /no addresses or times/);
  assert.deepEqual(
    rows.map((r) => `${r.label.cls}/${r.label.detail ?? ''}`),
    ['DoS/neptune', 'Probe/saint', 'Probe/mscan', 'R2L/guess_passwd', 'DoS/neptune', 'benign/'].slice(0, rows.length),
  );
  assert.deepEqual(
    rows.map((r) => r.flow.start),
    [0, 60_000, 120_000, 180_000, 240_000, 300_000].slice(0, rows.length),
  );
  assert.equal(rows[0].flow.state, 'CLOSE'); // REJ
  assert.equal(rows[2].flow.dstPort, 23); // telnet
});

test('bad rows are counted with file, line and field, and the import goes on', async () => {
  const z = await damaged('zeek-ctu-sme-11.sample.conn.log', 'zeek-conn', 10, (l) => l.replace('192.168.1.107', '192.168.1.999'));
  assert.deepEqual(z.seen, ['zeek-ctu-sme-11.sample.conn.log:10:id.orig_h:bad-address']);
  assert.equal(z.stats.rejected, 1);
  assert.equal(z.rows.length, 6);
  const c = await damaged('ctu-test5.sample.tsv', 'ctu', 13, (l) => l.replace('20.250914', 'x'));
  assert.deepEqual(c.seen, ['ctu-test5.sample.tsv:13:Dur:bad-number']);
  const i = await damaged('cic-ids2017.sample.csv', 'cic-ids', 3, (l) => l.replace('2017-07-07 17:52:33.462002', '2017-13-07 17:52'));
  assert.deepEqual(i.seen, ['cic-ids2017.sample.csv:3:Timestamp:bad-timestamp']);
  const u = await damaged('unsw-nb15.sample.csv', 'unsw-nb15', 2, (l) => l.replace(',866,', ',-866,'));
  assert.deepEqual(u.seen, ['unsw-nb15.sample.csv:2:sbytes:bad-number']);
  const n = await damaged('nsl-kdd.sample.csv', 'nsl-kdd', 4, (l) => l.slice(0, l.lastIndexOf(',')));
  assert.equal(n.seen.length, 1);
  assert.match(n.seen[0], /^nsl-kdd\.sample\.csv:4:42 of 43 columns:bad-column-count$/);
  assert.equal(n.rows.length, 5);
  const j = await damaged('zeek-portscan-vertical.sample.conn.json.log', 'zeek-conn', 2, (l) => l.replace('"id.resp_p":80', '"id.resp_p":80000'));
  assert.deepEqual(j.seen, ['zeek-portscan-vertical.sample.conn.json.log:2:id.resp_p:bad-port']);
});

test('a header without the columns of the format is one error naming the file', async () => {
  await assert.rejects(
    all('nsl-kdd.sample.csv', 'cic-ids'),
    (e: Error & { code?: string }) => e.code === 'FLOE_EVAL_BAD_HEADER' && e.message.includes('nsl-kdd.sample.csv') && e.message.includes('Src IP'),
  );
});
