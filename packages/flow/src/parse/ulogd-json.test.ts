import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { FlowRecord } from '../record.js';
import { isParseError, type ParseError } from './types.js';
import { createUlogdJsonParser } from './ulogd-json.js';

const NOW = 1_700_000_000_000;
const testdata = (p: string) => readFileSync(new URL(`../../testdata/${p}`, import.meta.url), 'utf8');

function parseAll(p: string) {
  const parser = createUlogdJsonParser({ now: () => NOW });
  const records: FlowRecord[] = [];
  const errors: ParseError[] = [];
  const lines = testdata(p).split('\n');
  lines.forEach((line, k) => {
    const r = parser.parseLine(line, k + 1);
    if (r === null) return;
    if (isParseError(r)) errors.push(r);
    else records.push(r);
  });
  return { records, errors, lines };
}

test('captured NFLOG stack: 444 packets, 300-port IPv4 SYN scan and 100 IPv6 packets from the attacker', () => {
  const { records, errors } = parseAll('ulogd-nflog/captured-ulogd2-nflog-json-nmap-scan-v4v6.json');
  assert.equal(errors.length, 0);
  assert.equal(records.length, 444);
  assert.ok(records.every((r) => r.source === 'nflog' && r.event === 'log' && r.logPrefix === 'floe-new:'));
  assert.ok(
    records.every((r) => r.verdict === undefined),
    '"floe-new:" names no verdict',
  );
  const v4scan = records.filter((r) => r.srcAddr === '10.50.0.2');
  assert.equal(v4scan.length, 300);
  assert.equal(new Set(v4scan.map((r) => r.dstPort)).size, 300);
  const v6 = records.filter((r) => r.family === 6);
  assert.equal(v6.length, 100);
  assert.ok(v6.every((r) => r.srcAddr === 'fd00:50::2' && r.dstAddr === 'fd00:60::10' && r.protocol === 6));
  // first line: oob.time.sec 1796039998, usec 536177; r-b -> r-v; 60 bytes; TCP 60980 -> 80
  const first = records[0];
  assert.deepEqual(
    [first.observedAt, first.inIface, first.outIface, first.bytesOrig, first.packetsOrig, first.srcPort, first.dstPort, first.mark],
    [1796039998536, 'r-b', 'r-v', 60, 1, 60980, 80, 0],
  );
  assert.deepEqual([records[1].protocol, records[1].dstPort, records[1].bytesOrig], [17, 53, 29]);
});

test('blog NFLOG line: IPv6 SYN, prefix with brackets and spaces, no output interface', () => {
  const { records, errors } = parseAll('ulogd-nflog/blog-ulogd2-json-nftables-ipv6-syn.json');
  assert.equal(errors.length, 0);
  assert.deepEqual(records, [
    {
      schema: 1,
      observedAt: 1684666445058,
      source: 'nflog',
      event: 'log',
      family: 6,
      protocol: 6,
      srcAddr: 'fde4:8dba:82e1:1006::1001',
      dstAddr: 'fde4:8dba:82e1:1006::1002',
      srcPort: 52938,
      dstPort: 80,
      bytesOrig: 80,
      packetsOrig: 1,
      mark: 0,
      logPrefix: '[NFTABLES HTTP PKT]',
      inIface: 'eth2',
    },
  ]);
});

test('captured NFCT stack: 444 destroy events, bytes from orig.raw.pktlen, flow.start/end in ms', () => {
  const { records, errors } = parseAll('ulogd-nfct/captured-ulogd2-nfct-json-nmap-scan-v4v6.json');
  assert.equal(errors.length, 0);
  assert.equal(records.length, 444);
  assert.ok(records.every((r) => r.source === 'nfct' && r.event === 'destroy' && r.replySrcAddr === undefined));
  assert.equal(records.filter((r) => r.family === 6).length, 100);
  assert.equal(
    records.reduce((s, r) => s + (r.bytesOrig ?? 0), 0),
    24452,
  );
  assert.equal(
    records.reduce((s, r) => s + (r.bytesReply ?? 0), 0),
    24432,
  );
  // line 1: 10.50.0.2:44266 -> 10.60.0.10:21, 44/40 bytes, ct.id 2132267502, start .490947 end .490950
  const r = records[0];
  assert.deepEqual(r, {
    schema: 1,
    observedAt: 1796040001490,
    start: 1796040001490,
    end: 1796040001490,
    source: 'nfct',
    event: 'destroy',
    family: 4,
    protocol: 6,
    srcAddr: '10.50.0.2',
    dstAddr: '10.60.0.10',
    srcPort: 44266,
    dstPort: 21,
    bytesOrig: 44,
    packetsOrig: 1,
    bytesReply: 40,
    packetsReply: 1,
    mark: 0,
    ctId: '2132267502',
  });
  assert.equal(records.filter((x) => x.srcAddr === '10.70.0.2').length, 44);
});

test('NFCT events, NAT reply tuple and bad lines', () => {
  const p = createUlogdJsonParser({ now: () => NOW });
  const base = {
    'orig.ip.protocol': 17,
    'orig.l4.sport': 5000,
    'orig.l4.dport': 53,
    src_ip: '10.0.0.1',
    dest_ip: '10.0.0.2',
    'reply.ip.saddr.str': '10.0.0.2',
    'reply.ip.daddr.str': '10.0.0.1',
    'reply.l4.sport': 53,
    'reply.l4.dport': 5000,
  };
  const rec = (o: object) => {
    const r = p.parseLine(JSON.stringify(o), 1);
    assert.ok(r !== null && !isParseError(r));
    return r;
  };
  assert.deepEqual([rec({ ...base, 'ct.event': 1 }).event, rec({ ...base, 'ct.event': 2 }).event, rec({ ...base, 'ct.event': 4 }).event], ['new', 'update', 'destroy']);
  assert.equal(rec({ ...base, 'ct.event': 2 }).observedAt, NOW);
  const nat = rec({ ...base, 'ct.event': 4, 'reply.ip.saddr.str': '192.0.2.9', 'reply.l4.sport': 5353 });
  assert.deepEqual([nat.replySrcAddr, nat.replyDstAddr, nat.replySrcPort, nat.replyDstPort], ['192.0.2.9', '10.0.0.1', 5353, 5000]);
  const e = (line: string) => {
    const r = p.parseLine(line, 4);
    assert.ok(r !== null && isParseError(r), line);
    return [r.reason, r.field];
  };
  assert.deepEqual(e('{"ct.event": 4, "orig.ip.protocol": 6, "src_ip": "10.0.0.1"'), ['bad-json', undefined]);
  assert.deepEqual(e(JSON.stringify({ ...base, 'orig.l4.dport': 65536 })), ['bad-port', 'orig.l4.dport']);
  assert.deepEqual(e(JSON.stringify({ ...base, 'orig.raw.pktlen': -1 })), ['bad-number', 'orig.raw.pktlen']);
  assert.deepEqual(e(JSON.stringify({ ...base, src_ip: '10.0.0.256' })), ['bad-address', 'src_ip']);
  assert.deepEqual(e(JSON.stringify({ ...base, dest_ip: undefined })), ['missing-field', 'dest_ip']);
  assert.deepEqual(e(JSON.stringify({ ...base, 'oob.family': 10 })), ['bad-address', 'oob.family']);
  assert.deepEqual(e(JSON.stringify({ 'oob.prefix': 'x', src_ip: '10.0.0.1', dest_ip: '10.0.0.2' })), ['missing-field', 'ip.protocol']);
  assert.deepEqual(e('{"hello": "world"}'), ['unknown-line', undefined]);
  assert.deepEqual(e('[1,2]'), ['bad-json', undefined]);
  assert.equal(p.parseLine('', 5), null);
});
