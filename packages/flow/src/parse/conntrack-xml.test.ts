import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { FlowRecord } from '../record.js';
import { createConntrackXmlParser } from './conntrack-xml.js';
import { ParseStats } from './stats.js';
import { parseLines } from './stream.js';
import { isParseError, type ParseError } from './types.js';

const NOW = 1_700_000_000_000;
const testdata = (p: string) => readFileSync(new URL(`../../testdata/${p}`, import.meta.url), 'utf8');

function parseLinesOf(lines: string[]) {
  const parser = createConntrackXmlParser({ now: () => NOW });
  const records: Array<FlowRecord & { lineNo: number }> = [];
  const errors: ParseError[] = [];
  let skipped = 0;
  lines.forEach((line, k) => {
    const r = parser.parseLine(line, k + 1);
    if (r === null) skipped++;
    else if (isParseError(r)) errors.push(r);
    else records.push({ ...r, lineNo: k + 1 });
  });
  return { records, errors, skipped };
}

const fileLines = (p: string) =>
  testdata(p)
    .split('\n')
    .filter((l, k, a) => !(k === a.length - 1 && l === ''));

test('travis -E -o xml stream: 1,279 events (342 new, 593 update, 344 destroy), prologue and root skipped', () => {
  const { records, errors, skipped } = parseLinesOf(fileLines('conntrack/travis-nat-conntrack-E-o-xml-events.xml'));
  assert.equal(errors.length, 0);
  assert.equal(records.length, 1279);
  assert.equal(skipped, 3); // <?xml ...?>, <conntrack>, </conntrack>
  const count = (ev: string) => records.filter((r) => r.event === ev).length;
  assert.deepEqual([count('new'), count('update'), count('destroy')], [342, 593, 344]);
  assert.equal(records.filter((r) => r.assured).length, 311);
  assert.equal(records.filter((r) => r.unreplied).length, 342);
  assert.equal(records.filter((r) => r.protocol === 1).length, 170);
  assert.ok(records.every((r) => r.source === 'conntrack-xml' && r.family === 4 && r.ctId !== undefined));
  assert.ok(
    records.every((r) => r.bytesOrig === undefined),
    'no <counters> in this capture',
  );
  assert.ok(
    records.every((r) => r.replySrcAddr === undefined),
    'every reply mirrors its original here',
  );
});

test('travis: line 3 (ICMP destroy, empty layer4) and line 14 (TCP new to the metadata API)', () => {
  const { records } = parseLinesOf(fileLines('conntrack/travis-nat-conntrack-E-o-xml-events.xml'));
  const r3 = records.find((r) => r.lineNo === 3);
  assert.ok(r3);
  const { lineNo: _l3, ...icmp } = r3;
  assert.deepEqual(icmp, {
    schema: 1,
    observedAt: NOW,
    source: 'conntrack-xml',
    event: 'destroy',
    family: 4,
    protocol: 1,
    srcAddr: '10.10.0.7',
    dstAddr: '74.125.124.105',
    ctId: '921410048',
    untimed: true, // this capture has no <when>: observedAt is the reader's clock
  });
  const r14 = records.find((r) => r.lineNo === 14);
  assert.ok(r14);
  assert.deepEqual([r14.event, r14.dstAddr, r14.srcPort, r14.dstPort, r14.state, r14.unreplied, r14.ctId], ['new', '169.254.169.254', 34052, 80, 'SYN_SENT', true, '930199424']);
});

test('tsuru -L -o xml dump: 18 snapshot flows with mark, id and assured', () => {
  const { records, errors, skipped } = parseLinesOf(fileLines('conntrack/tsuru-conntrack-L-o-xml.xml'));
  assert.equal(errors.length, 0);
  assert.equal(records.length, 18);
  assert.equal(skipped, 3);
  assert.ok(records.every((r) => r.event === 'snapshot' && r.state === 'ESTABLISHED' && r.assured === true && r.mark === 0));
  assert.deepEqual([records[0].srcAddr, records[0].dstAddr, records[0].srcPort, records[0].dstPort, records[0].ctId], ['192.168.50.4', '192.168.50.4', 33404, 2375, '907489792']);
});

// Captured on this machine: `conntrack -L -o xml` (conntrack-tools 1.4.7) in a network namespace
// with nf_conntrack_acct=1, after a TCP exchange over 127.0.0.1 and UDP over ::1.
const LOCAL_TCP =
  '<flow><meta direction="original"><layer3 protonum="2" protoname="ipv4"><src>127.0.0.1</src><dst>127.0.0.1</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>37944</sport><dport>8080</dport></layer4><counters><packets>6</packets><bytes>420</bytes></counters></meta><meta direction="reply"><layer3 protonum="2" protoname="ipv4"><src>127.0.0.1</src><dst>127.0.0.1</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>8080</sport><dport>37944</dport></layer4><counters><packets>4</packets><bytes>226</bytes></counters></meta><meta direction="independent"><state>TIME_WAIT</state><timeout>119</timeout><mark>0</mark><use>1</use><id>806327818</id><assured/><deltatime>0</deltatime></meta></flow>';
const LOCAL_UDP6 =
  '<flow><meta direction="original"><layer3 protonum="10" protoname="ipv6"><src>::1</src><dst>::1</dst></layer3><layer4 protonum="17" protoname="udp"><sport>42001</sport><dport>5354</dport></layer4><counters><packets>1</packets><bytes>54</bytes></counters></meta><meta direction="reply"><layer3 protonum="10" protoname="ipv6"><src>::1</src><dst>::1</dst></layer3><layer4 protonum="17" protoname="udp"><sport>5354</sport><dport>42001</dport></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="independent"><timeout>29</timeout><mark>0</mark><use>1</use><id>1930063236</id><unreplied/><deltatime>0</deltatime></meta></flow>';

test('counters: first <counters> is the original direction, second the reply; IPv6 flows', () => {
  const { records } = parseLinesOf([LOCAL_TCP, LOCAL_UDP6]);
  assert.deepEqual([records[0].packetsOrig, records[0].bytesOrig, records[0].packetsReply, records[0].bytesReply, records[0].state], [6, 420, 4, 226, 'TIME_WAIT']);
  assert.deepEqual([records[1].family, records[1].srcAddr, records[1].bytesOrig, records[1].bytesReply, records[1].unreplied], [6, '::1', 54, 0, true]);
});

test('a flow split over lines is buffered and reported at its first line; <when> and <timestamp> are read', () => {
  const split = LOCAL_TCP.replace('<meta direction="reply">', '\n<meta direction="reply">').replace('<id>', '\n<id>').split('\n');
  assert.equal(split.length, 3);
  const { records, skipped } = parseLinesOf(['<conntrack>', ...split]);
  assert.equal(records.length, 1);
  assert.equal(records[0].lineNo, 4); // returned when its last line arrives
  assert.equal(skipped, 3);
  const parser = createConntrackXmlParser({ now: () => NOW });
  assert.equal(parser.parseLine(split[0], 10), null);
  assert.equal(parser.parseLine(split[1], 11), null);
  const done = parser.parseLine(split[2], 12);
  assert.ok(done !== null && !isParseError(done));
  assert.equal(done.ctId, '806327818');
  const err = createConntrackXmlParser().parseLine(LOCAL_TCP.replace('<dport>8080', '<dport>80800'), 5);
  assert.ok(err !== null && isParseError(err));
  assert.deepEqual([err.line, err.reason, err.field], [5, 'bad-port', 'dport']);

  const when = LOCAL_TCP.replace(
    '<deltatime>0</deltatime></meta>',
    '<timestamp><start>1796040001490947000</start><stop>1796040003490950000</stop></timestamp></meta><when><hour>12</hour><min>00</min><sec>03</sec><wday>2</wday><day>30</day><month>11</month><year>2026</year></when>',
  );
  const r = createConntrackXmlParser().parseLine(when, 1);
  assert.ok(r !== null && !isParseError(r));
  assert.deepEqual([r.start, r.end, r.observedAt], [1796040001490, 1796040003490, new Date(2026, 10, 30, 12, 0, 3).getTime()]);
});

test('XML errors: missing src, family mismatch, unknown type, unterminated flow at end of a huge buffer', () => {
  const p = createConntrackXmlParser();
  const noSrc = p.parseLine(LOCAL_TCP.replace('<src>127.0.0.1</src>', ''), 2);
  assert.ok(isParseError(noSrc));
  assert.deepEqual([noSrc.reason, noSrc.field], ['missing-field', 'src']);
  const fam = p.parseLine(LOCAL_TCP.replace('protonum="2" protoname="ipv4"><src>127.0.0.1', 'protonum="10" protoname="ipv6"><src>127.0.0.1'), 3);
  assert.ok(isParseError(fam));
  assert.equal(fam.reason, 'bad-address');
  const type = p.parseLine(LOCAL_TCP.replace('<flow>', '<flow type="bogus">'), 4);
  assert.ok(isParseError(type));
  assert.equal(type.field, 'type');
  assert.ok(isParseError(p.parseLine('garbage', 5)));
  const q = createConntrackXmlParser();
  assert.equal(q.parseLine('<flow type="new"><meta direction="original">', 1), null);
  let last: unknown = null;
  for (let k = 2; k < 3000 && last === null; k++) last = q.parseLine('<x>'.repeat(20), k);
  assert.ok(isParseError(last));
  assert.deepEqual([last.line, last.reason], [1, 'unterminated-flow']);
});

test('several flows on one line are all returned; an unterminated last flow is reported by end()', async () => {
  const stats = new ParseStats();
  const out: FlowRecord[] = [];
  const input = ['<conntrack>', LOCAL_TCP + LOCAL_UDP6 + LOCAL_TCP, '</conntrack>', LOCAL_UDP6.slice(0, 200)];
  for await (const r of parseLines(input, { format: 'conntrack-xml', stats })) out.push(r);
  assert.deepEqual(
    out.map((r) => r.protocol),
    [6, 17, 6],
  );
  assert.deepEqual([stats.parsed, stats.rejected, stats.errors[0].line, stats.errors[0].reason], [3, 1, 4, 'unterminated-flow']);
});
