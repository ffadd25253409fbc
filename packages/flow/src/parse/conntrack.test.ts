import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { FlowRecord } from '../record.js';
import { createConntrackParser } from './conntrack.js';
import { isParseError, type ParseError } from './types.js';

const NOW = 1_700_000_000_000;
const testdata = (p: string) => readFileSync(new URL(`../../testdata/${p}`, import.meta.url), 'utf8');

/** Parse every line of a testdata file; returns records (with their line numbers), errors and skipped count. */
function parseAll(p: string) {
  const parser = createConntrackParser({ now: () => NOW, node: 'node-a' });
  const records: Array<FlowRecord & { lineNo: number }> = [];
  const errors: ParseError[] = [];
  let skipped = 0;
  const lines = testdata(p).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, k) => {
    const r = parser.parseLine(line, k + 1);
    if (r === null) skipped++;
    else if (isParseError(r)) errors.push(r);
    else records.push({ ...r, lineNo: k + 1 });
  });
  return { records, errors, skipped, lines };
}

function one(line: string): FlowRecord {
  const r = createConntrackParser({ now: () => NOW }).parseLine(line, 1);
  assert.ok(r !== null && !isParseError(r), `expected a record, got ${JSON.stringify(r)}`);
  return r;
}

function err(line: string): ParseError {
  const r = createConntrackParser({ now: () => NOW }).parseLine(line, 7);
  assert.ok(r !== null && isParseError(r), `expected an error, got ${JSON.stringify(r)}`);
  return r;
}

test('captured -E -o extended,timestamp,id: 722 events, summary line skipped, scan of 100 ports', () => {
  const { records, errors, skipped } = parseAll('conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log');
  assert.equal(errors.length, 0);
  assert.equal(records.length, 722);
  assert.equal(skipped, 1); // "conntrack v1.4.7 (conntrack-tools): 722 flow events have been shown."
  const count = (ev: string) => records.filter((r) => r.event === ev).length;
  assert.deepEqual([count('new'), count('update'), count('destroy')], [196, 413, 113]);
  const scan = records.filter((r) => r.event === 'new' && r.srcAddr === '10.50.0.2' && r.dstAddr === '10.60.0.14');
  assert.equal(new Set(scan.map((r) => r.dstPort)).size, 100);
  for (const r of records) {
    assert.equal(r.source, 'conntrack');
    assert.equal(r.node, 'node-a');
    assert.equal(r.family, 4);
    assert.ok(r.ctId !== undefined, 'every line has id=');
    assert.equal(r.replySrcAddr, undefined, 'no NAT on this router');
  }
});

test('captured: [epoch.usec] becomes observedAt in ms; first line fields', () => {
  const { records } = parseAll('conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log');
  // [1796040083.756920]	    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=10.70.0.2 dst=10.60.0.11 sport=58474 dport=8080 [UNREPLIED] ... id=1995299768
  const { lineNo, ...first } = records[0];
  assert.equal(lineNo, 1);
  assert.deepEqual(first, {
    schema: 1,
    observedAt: 1796040083756,
    node: 'node-a',
    source: 'conntrack',
    event: 'new',
    family: 4,
    protocol: 6,
    srcAddr: '10.70.0.2',
    dstAddr: '10.60.0.11',
    srcPort: 58474,
    dstPort: 8080,
    state: 'SYN_SENT',
    unreplied: true,
    ctId: '1995299768',
  });
});

test('captured: DESTROY counters go orig then reply; [USERSPACE] portid= progname= are tolerated', () => {
  const { records } = parseAll('conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log');
  // line 36: ... sport=37794 dport=23 packets=1 bytes=44 [UNREPLIED] src=10.60.0.14 ... packets=1 bytes=40 delta-time=0 id=343814910
  const r36 = records.find((r) => r.lineNo === 36);
  assert.ok(r36);
  assert.deepEqual(
    [r36.event, r36.state, r36.dstPort, r36.packetsOrig, r36.bytesOrig, r36.packetsReply, r36.bytesReply, r36.ctId, r36.observedAt],
    ['destroy', 'CLOSE', 23, 1, 44, 1, 40, '343814910', 1796040085711],
  );
  // line 275: a UDP DESTROY with [USERSPACE] portid=2177427159 progname=conntrack
  const r275 = records.find((r) => r.lineNo === 275);
  assert.ok(r275);
  assert.deepEqual([r275.protocol, r275.dstPort, r275.bytesOrig, r275.bytesReply, r275.unreplied], [17, 53, 29, 0, true]);
  const destroys = records.filter((r) => r.event === 'destroy');
  assert.ok(destroys.every((r) => r.bytesOrig !== undefined && r.packetsReply !== undefined));
});

test('-L dumps: ssh scan and http burst files, every line a snapshot record', () => {
  const ssh = parseAll('conntrack/iki-conntrack-L-ssh-scan.txt');
  assert.equal(ssh.errors.length, 0);
  assert.equal(ssh.records.length, 27);
  assert.ok(ssh.records.every((r) => r.event === 'snapshot' && r.srcAddr === '125.65.245.146' && r.dstPort === 22));
  assert.ok(ssh.records.every((r) => r.assured === true && r.mark === 0));
  // 26 TIME_WAIT and one ESTABLISHED (to 194.8.252.212)
  assert.deepEqual(
    ssh.records.filter((r) => r.state !== 'TIME_WAIT').map((r) => [r.state, r.dstAddr]),
    [['ESTABLISHED', '194.8.252.212']],
  );
  assert.ok(
    ssh.records.every((r) => r.observedAt === NOW),
    'no time in -L lines: now()',
  );
  const http = parseAll('conntrack/iki-conntrack-L-http-burst.txt');
  assert.equal(http.errors.length, 0);
  assert.equal(http.records.length, 26);
  assert.ok(http.records.every((r) => r.dstAddr === '194.8.253.85' && r.dstPort === 80));
});

test('NAT: reply tuple kept only when it differs from the swapped original', () => {
  const nat = parseAll('conntrack/iki-conntrack-L-udp-nat-oneline.txt').records[0];
  // udp 17 12 src=10.17.224.60 dst=194.8.253.11 sport=22 dport=53 src=194.8.253.12 dst=10.17.224.61 sport=54 dport=23
  assert.deepEqual([nat.replySrcAddr, nat.replyDstAddr, nat.replySrcPort, nat.replyDstPort], ['194.8.253.12', '10.17.224.61', 54, 23]);
  const plain = parseAll('conntrack/threads-conntrack-L-plain.txt').records;
  // line 1: kube-dns DNAT, the reply comes from the pod 10.240.244.119
  assert.equal(plain[0].replySrcAddr, '10.240.244.119');
  assert.equal(plain[0].replyDstAddr, '10.240.244.140');
  // line 2: DNAT + SNAT with a port change (reply dport 45815)
  assert.deepEqual([plain[1].replySrcAddr, plain[1].replyDstAddr, plain[1].replyDstPort], ['10.244.2.3', '172.18.0.2', 45815]);
  // line 10: plain ESTABLISHED flow, reply is the mirror: no reply fields
  assert.equal(plain[9].replySrcAddr, undefined);
  assert.equal(plain[9].replySrcPort, undefined);
  // /proc line 2 has an odd reply dport=477 (as posted): the reply tuple is kept
  const proc = parseAll('conntrack/threads-proc-nf_conntrack-zone.txt').records;
  assert.equal(proc[1].replyDstPort, 477);
  assert.equal(proc[3].replySrcAddr, undefined);
});

test('ICMPv6 dump lines: type/code instead of ports, icmp id= not taken for the conntrack id', () => {
  const plain = parseAll('conntrack/threads-conntrack-L-plain.txt').records;
  const icmp = plain.filter((r) => r.protocol === 58);
  assert.equal(icmp.length, 3);
  for (const r of icmp) {
    assert.equal(r.family, 6);
    assert.equal(r.icmpType, 128);
    assert.equal(r.icmpCode, 0);
    assert.equal(r.srcPort, undefined);
    assert.equal(r.ctId, undefined);
    assert.equal(r.srcAddr, '2603:10b0:105:1065::1');
    assert.equal(r.replySrcAddr, undefined);
  }
  assert.equal(icmp[0].dstAddr, '2603:10b0:105:1065:0:3de0:f090:e3e0');
});

test('/proc/net/nf_conntrack lines: ipv4 2 prefix, zone=0, mark=0', () => {
  const { records, errors } = parseAll('conntrack/threads-proc-nf_conntrack-zone.txt');
  assert.equal(errors.length, 0);
  assert.equal(records.length, 5);
  assert.ok(records.every((r) => r.zone === 0 && r.mark === 0 && r.protocol === 17 && r.event === 'snapshot'));
  assert.deepEqual([records[0].srcAddr, records[0].dstAddr, records[0].assured], ['10.242.249.78', '169.254.1.2', true]);
});

test('-E -o id events: [DESTROY] without timeout or state, right-aligned tags, id=', () => {
  const { records, errors } = parseAll('conntrack/scope-conntrack-E-o-id-events.txt');
  assert.equal(errors.length, 0);
  assert.deepEqual(
    records.map((r) => r.event),
    ['destroy', 'new', 'update', 'update'],
  );
  assert.deepEqual(
    records.map((r) => r.state),
    [undefined, 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED'],
  );
  assert.ok(records.every((r) => r.ctId === '347275904'));
  // 10.0.0.1 -> 127.0.0.1, reply from 10.0.0.2 to 127.0.0.2: NAT both ways
  assert.deepEqual([records[0].replySrcAddr, records[0].replyDstAddr, records[0].replySrcPort], ['10.0.0.2', '127.0.0.2', 28107]);
});

test('-L -o id dump: secctx= tolerated, counters on both directions', () => {
  const { records, errors } = parseAll('conntrack/scope-conntrack-L-o-id-dump.txt');
  assert.equal(errors.length, 0);
  assert.deepEqual(
    records.map((r) => r.ctId),
    ['2993966208', '4001098880', '943643840'],
  );
  assert.deepEqual([records[2].packetsOrig, records[2].bytesOrig, records[2].packetsReply, records[2].bytesReply], [11, 1337, 8, 716]);
  assert.equal(records[0].bytesOrig, undefined);
});

test('-E events from threads: UDP [UNREPLIED] then [ASSURED], DNAT reply', () => {
  const { records, errors } = parseAll('conntrack/threads-conntrack-E-events.txt');
  assert.equal(errors.length, 0);
  assert.equal(records.length, 13);
  assert.equal(records.filter((r) => r.event === 'destroy').length, 8);
  // line 11: [NEW] 192.168.9.13 -> 192.168.9.12:25000, reply from 192.168.9.11
  assert.deepEqual([records[10].event, records[10].unreplied, records[10].replySrcAddr], ['new', true, '192.168.9.11']);
  assert.equal(records[12].assured, true);
  assert.equal(records[12].unreplied, undefined);
});

test('conntrack -L of this machine (conntrack-tools 1.4.7 in a network namespace): icmp type/code/id and ipv6', () => {
  // Captured here with `conntrack -L -o extended,timestamp,id` after a raw ICMP echo and UDP over ::1.
  const icmp = one(
    'ipv4     2 icmp     1 29 src=127.0.0.1 dst=127.0.0.1 type=8 code=0 id=1 packets=1 bytes=28 src=127.0.0.1 dst=127.0.0.1 type=0 code=0 id=1 packets=1 bytes=28 mark=0 delta-time=0 use=1 id=1000814074',
  );
  assert.deepEqual([icmp.protocol, icmp.icmpType, icmp.icmpCode, icmp.ctId, icmp.bytesReply], [1, 8, 0, '1000814074', 28]);
  assert.equal(icmp.replySrcAddr, undefined);
  const v6 = one(
    'ipv6     10 udp      17 29 src=::1 dst=::1 sport=42001 dport=5354 packets=1 bytes=54 [UNREPLIED] src=::1 dst=::1 sport=5354 dport=42001 packets=0 bytes=0 mark=0 delta-time=0 use=1 id=1930063236',
  );
  assert.deepEqual([v6.family, v6.srcAddr, v6.bytesOrig, v6.unreplied], [6, '::1', 54, true]);
});

test('unknown protocols, [start=]/[stop=] ctime stamps, IPv6 canonicalised', () => {
  const gre = one('unknown  47 599 src=192.0.2.1 dst=198.51.100.2 src=198.51.100.2 dst=192.0.2.1 mark=0 use=1');
  assert.deepEqual([gre.protocol, gre.srcPort, gre.replySrcAddr], [47, undefined, undefined]);
  const ts = one(
    'tcp      6 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 [start=Mon Nov 30 12:26:04 2026] [stop=Mon Nov 30 12:27:05 2026] id=5',
  );
  assert.equal(ts.start, new Date(2026, 10, 30, 12, 26, 4).getTime());
  assert.equal((ts.end ?? 0) - (ts.start ?? 0), 61_000);
  assert.equal(ts.ctId, '5');
  const v6 = one('tcp      6 10 ESTABLISHED src=2001:DB8:0:0:0:0:0:1 dst=2001:db8:0000::0002 sport=1 dport=2');
  assert.deepEqual([v6.family, v6.srcAddr, v6.dstAddr], [6, '2001:db8::1', '2001:db8::2']);
  const mapped = one('tcp      6 10 ESTABLISHED src=::ffff:192.0.2.1 dst=192.0.2.2 sport=1 dport=2');
  assert.deepEqual([mapped.family, mapped.srcAddr], [4, '192.0.2.1']);
  assert.equal(err('tcp      6 10 ESTABLISHED src=2001:DB8::1 dst=192.0.2.1 sport=1 dport=2').reason, 'bad-address');
});

test('bad lines become errors with reason, field and line number; blank lines are skipped', () => {
  assert.deepEqual(err('tcp      6 10 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=65536 dport=2'), {
    line: 7,
    reason: 'bad-port',
    field: 'sport',
    text: 'tcp      6 10 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=65536 dport=2',
  });
  assert.equal(err('tcp      6 10 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=65535 dport=2 packets=x').field, 'packets');
  assert.equal(err('tcp      6 10 ESTABLISHED src=10.0.0.300 dst=10.0.0.2').reason, 'bad-address');
  assert.deepEqual([err('tcp      6 10 ESTABLISHED dst=10.0.0.2').field, err('tcp 6 10 src=10.0.0.1').field], ['src', 'dst']);
  assert.equal(err('hello world, this is not conntrack').reason, 'unknown-line');
  assert.equal(err('[FOO] tcp 6 src=1.1.1.1 dst=2.2.2.2').reason, 'unknown-line');
  assert.equal(err('tcp 300 src=1.1.1.1 dst=2.2.2.2').field, 'protocol');
  assert.equal(err('ipv4 10 tcp 6 src=1.1.1.1 dst=2.2.2.2').field, 'l3proto');
  assert.equal(err('ipv6 10 tcp 6 src=1.1.1.1 dst=2.2.2.2').reason, 'bad-address');
  assert.equal(err('x'.repeat(500)).text.length, 200);
  const p = createConntrackParser();
  assert.equal(p.parseLine('', 1), null);
  assert.equal(p.parseLine('   \t ', 2), null);
  assert.equal(one('tcp 6 1 CLOSE src=10.0.0.1 dst=10.0.0.2 sport=0 dport=65535').dstPort, 65535);
});
