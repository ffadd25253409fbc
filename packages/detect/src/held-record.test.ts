// HeldRecords (held-record.ts) keeps flow records in columns: what comes back must equal what was
// stored, for every record the real parsers make from the captures in testdata, for every field
// and its edges, and for the records that do not fit (held as objects instead).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseFile, type EndpointMeta, type FlowRecord } from '@floe/flow';
import { compilePolicy, parsePolicy } from '@floe/policy';
import { HeldRecords, TEXTS_MAX } from './held-record.js';
import { ipv4Number } from './v4.js';

function rec(over: Partial<FlowRecord> = {}): FlowRecord {
  return {
    schema: 1,
    observedAt: 1_796_000_000_123,
    source: 'kernel-log',
    event: 'log',
    family: 4,
    protocol: 6,
    srcAddr: '198.51.100.7',
    dstAddr: '203.0.113.10',
    srcPort: 40000,
    dstPort: 22,
    ...over,
  };
}

/** Store `r` in `slot` of `h` and read it back. */
function roundTrip(h: HeldRecords, slot: number, r: FlowRecord): FlowRecord {
  h.store(slot, r);
  return h.load(slot);
}

test('HeldRecords: every field of FlowRecord v1 comes back equal, edges of each column included', () => {
  const h = new HeldRecords();
  const meta: EndpointMeta = { namespace: 'frontend', workload: 'web', zone: 'pods', labels: { app: 'web' } };
  const full: FlowRecord = {
    schema: 1,
    observedAt: 1_796_000_000_123.5,
    start: 1_796_000_000_000,
    end: 1_796_000_120_000,
    untimed: true,
    node: 'edge-1',
    source: 'conntrack',
    event: 'destroy',
    family: 4,
    protocol: 255,
    srcAddr: '0.0.0.0',
    dstAddr: '255.255.255.255',
    srcPort: 0,
    dstPort: 65535,
    icmpType: 255,
    icmpCode: 0,
    replySrcAddr: '10.0.0.1',
    replyDstAddr: '192.168.1.1',
    replySrcPort: 65535,
    replyDstPort: 0,
    bytesOrig: 0xffffffff,
    packetsOrig: 0,
    bytesReply: 123456789,
    packetsReply: 1,
    state: 'TIME_WAIT',
    assured: false,
    unreplied: true,
    zone: 65535,
    mark: 0xffffffff,
    ctId: '4294967295',
    logPrefix: '[UFW BLOCK]',
    verdict: 'drop',
    inIface: 'eth0',
    outIface: 'cni0',
    direction: 'external',
    srcMeta: meta,
    dstMeta: { zone: 'nodes' },
  };
  const back = roundTrip(h, 2, full);
  assert.deepEqual(back, full);
  assert.equal(back.srcMeta, meta, 'enrichment is held by reference');
  assert.ok(h.isCompact(2));
  for (const over of [
    { assured: true, unreplied: false, verdict: 'accept' as const, family: 6 as const, ctId: '0' },
    { direction: 'ingress' as const, event: 'new' as const, source: 'conntrack-xml' as const },
    { direction: 'egress' as const, event: 'update' as const, source: 'nflog' as const },
    { direction: 'internal' as const, event: 'snapshot' as const, source: 'nfct' as const },
    { source: 'file' as const, observedAt: Number.NaN, start: -5, end: Number.POSITIVE_INFINITY },
    { icmpType: 0, icmpCode: 255, replySrcPort: 0, replyDstPort: 65535, srcPort: 65535, dstPort: 0 },
    { icmpType: 128, icmpCode: 128, mark: 0x80000000, bytesOrig: 0x80000000, ctId: '2147483648' },
  ]) {
    const r = { ...full, ...over };
    assert.deepEqual(roundTrip(h, 3, r), r, JSON.stringify(over));
    assert.ok(h.isCompact(3));
  }
});

test('HeldRecords: absent fields stay absent; ICMP type and code each on their own', () => {
  const h = new HeldRecords();
  const bare: FlowRecord = { schema: 1, observedAt: 0, source: 'kernel-log', event: 'log', family: 4, protocol: 1, srcAddr: '1.2.3.4', dstAddr: '5.6.7.8' };
  assert.deepEqual(roundTrip(h, 0, bare), bare);
  assert.deepEqual(Object.keys(h.load(0)).sort(), Object.keys(bare).sort());
  for (const over of [{ icmpType: 8 }, { icmpCode: 3 }, { icmpType: 0, icmpCode: 0 }]) {
    const r = { ...bare, ...over };
    assert.deepEqual(roundTrip(h, 0, r), r);
  }
});

test('HeldRecords: records that do not fit the columns are held as copies, equal and with their own strings', () => {
  const h = new HeldRecords();
  const cases: Array<Partial<FlowRecord>> = [
    { family: 6, srcAddr: '2001:db8::1', dstAddr: '2001:db8::2' },
    { dstAddr: '2001:db8::2' },
    { srcAddr: '010.0.0.1' },
    { replySrcAddr: '2001:db8::9', replyDstAddr: '10.0.0.1' },
    { bytesOrig: 2 ** 32 },
    { packetsReply: 1.5 },
    { srcPort: 65536 },
    { dstPort: -1 },
    { icmpType: 256 },
    { zone: 70000 },
    { mark: -1 },
    { ctId: '007' },
    { ctId: '4294967296' },
    { ctId: 'abc' },
    { protocol: 256 },
  ];
  for (const over of cases) {
    const r = rec(over);
    assert.deepEqual(roundTrip(h, 5, r), r, JSON.stringify(over));
    assert.equal(h.isCompact(5), false, JSON.stringify(over));
  }
  assert.deepEqual(h.stored, { compact: 0, object: cases.length });
});

test('HeldRecords: a slot replaced keeps nothing of its former record (form, enrichment, fields)', () => {
  const h = new HeldRecords();
  const withMeta = rec({ srcMeta: { namespace: 'a' }, dstMeta: { zone: 'pods' }, state: 'SYN_SENT', ctId: '17' });
  const v6 = rec({ family: 6, srcAddr: '2001:db8::1', dstAddr: '2001:db8::2' });
  const plain = rec();
  assert.deepEqual(roundTrip(h, 9, withMeta), withMeta);
  assert.deepEqual(roundTrip(h, 9, v6), v6);
  assert.deepEqual(roundTrip(h, 9, plain), plain);
  assert.deepEqual(roundTrip(h, 9, withMeta), withMeta);
  assert.deepEqual(roundTrip(h, 9, plain), plain);
  h.drop(9);
  h.drop(1_000_000);
});

test('HeldRecords: slots in different pages are independent, far slots included', () => {
  const h = new HeldRecords();
  const slots = [0, 1, 1023, 1024, 1025, 5000, 70_000];
  for (const s of slots) h.store(s, rec({ srcPort: s % 65536, observedAt: s }));
  for (const s of slots) assert.deepEqual(h.load(s), rec({ srcPort: s % 65536, observedAt: s }));
});

test(`HeldRecords: the text dictionary holds ${TEXTS_MAX} distinct texts; a new one past that is held as a copy`, () => {
  const h = new HeldRecords();
  for (let i = 0; i < TEXTS_MAX; i++) h.store(2, rec({ node: `node-${i}` }));
  assert.equal(h.textCount, TEXTS_MAX);
  const known = rec({ node: 'node-7', state: 'node-8' });
  assert.deepEqual(roundTrip(h, 2, known), known);
  assert.ok(h.isCompact(2));
  const unknown = rec({ node: 'node-7', inIface: 'eth9' });
  assert.deepEqual(roundTrip(h, 2, unknown), unknown);
  assert.equal(h.isCompact(2), false);
  assert.equal(h.textCount, TEXTS_MAX);
});

/** Every capture under testdata that the parsers read (auto-detected format). */
function captures(): string[] {
  const out: string[] = [];
  for (const rel of [
    '../testdata/',
    '../../flow/testdata/conntrack/',
    '../../flow/testdata/iptables-log/',
    '../../flow/testdata/ulogd-nfct/',
    '../../flow/testdata/ulogd-nflog/',
  ]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    for (const f of readdirSync(dir)) if (/\.(log|txt|json|xml)$/.test(f)) out.push(dir + f);
  }
  return out;
}

test('HeldRecords: every record the parsers make from the captures in testdata comes back equal, classified or not', async () => {
  const policy = compilePolicy(parsePolicy('version: 1\nnetworks:\n  pods: [10.0.0.0/8]\n  nodes: [192.168.0.0/16]\n', 'p.yaml'));
  const h = new HeldRecords();
  let compact = 0;
  let object = 0;
  for (const path of captures()) {
    const { records } = await parseFile(path, { format: 'auto', now: () => Date.UTC(2015, 0, 1) });
    for (const [i, r] of records.entries()) {
      for (const x of [r, policy.classify(r)]) {
        const slot = i % 3000;
        h.store(slot, x);
        const v4 = [x.srcAddr, x.dstAddr, x.replySrcAddr ?? '0.0.0.0', x.replyDstAddr ?? '0.0.0.0'].every((a) => ipv4Number(a) >= 0);
        assert.equal(h.isCompact(slot), v4, `${path} record ${i}: in columns exactly when its addresses are IPv4`);
        if (v4) compact++;
        else object++;
        assert.deepEqual(h.load(slot), x, `${path} record ${i}`);
      }
    }
  }
  assert.ok(compact > 1000, `compact ${compact}`);
  assert.ok(object > 10, `object ${object}`);
});
