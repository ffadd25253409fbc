import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { acceptedOnly, createKernelLogParser, type Finding, type FlowRecord } from '@floe/flow';
import { createPortScanDetector } from './index.js';

// A real nmap SYN scan logged by iptables (CrowdSec hub sample, packages/flow/testdata/SOURCES.md).
const CAPTURE = readFileSync(new URL('../../flow/testdata/iptables-log/crowdsec-hub-iptables-portscan.log', import.meta.url), 'utf8')
  .trim()
  .split('\n');

/** The capture as if logged with `prefix` (`[UFW ALLOW] `…), parsed by the real kernel-log parser. */
function flows(prefix: string): FlowRecord[] {
  const p = createKernelLogParser();
  return CAPTURE.map((l, i) => p.parseLine(l.replace(/\] IN=/, `] ${prefix}IN=`), i + 1)).filter((r): r is FlowRecord => r !== null && 'srcAddr' in r);
}

function scan(fs: FlowRecord[]): Finding {
  const d = createPortScanDetector({ windowMs: 60_000, minPorts: 15, severity: 'high' });
  const out = fs.flatMap((f) => d.observe(f));
  assert.ok(out.length > 0, 'the capture is a port scan');
  return out[0];
}

test('issue 6: a finding counts its flows by logged verdict ([UFW ALLOW] accept, [UFW BLOCK] drop, no prefix none)', () => {
  const allow = scan(flows('[UFW ALLOW] '));
  assert.deepEqual(allow.evidence.verdicts, { accept: allow.evidence.flows, drop: 0, none: 0 });
  assert.equal(acceptedOnly(allow), true);
  const block = scan(flows('[UFW BLOCK] '));
  assert.deepEqual(block.evidence.verdicts, { accept: 0, drop: block.evidence.flows, none: 0 });
  assert.equal(acceptedOnly(block), false);
  const bare = scan(flows(''));
  assert.deepEqual(bare.evidence.verdicts, { accept: 0, drop: 0, none: bare.evidence.flows });
  assert.equal(acceptedOnly(bare), false);
  const mixed = flows('[UFW ALLOW] ');
  mixed[3] = flows('ACCEPT DROP ')[3]; // a prefix of both kinds has no verdict
  assert.equal(acceptedOnly(scan(mixed)), false);
});

test('issue 6: verdict counts follow the sliding window (dropped flows that left it no longer count)', () => {
  const T0 = 1_796_040_000_000;
  const f = (port: number, t: number, verdict: 'accept' | 'drop'): FlowRecord => ({
    schema: 1,
    observedAt: t,
    source: 'kernel-log',
    event: 'log',
    family: 4,
    protocol: 6,
    srcAddr: '203.0.113.40',
    dstAddr: '10.0.0.5',
    srcPort: 40000 + port,
    dstPort: port,
    verdict,
  });
  const d = createPortScanDetector({ windowMs: 60_000, minPorts: 15, severity: 'high' });
  const early = [1, 2, 3, 4, 5].map((p) => f(p, T0, 'drop'));
  const late = Array.from({ length: 15 }, (_, i) => f(100 + i, T0 + 61_000 + i, 'accept'));
  const out = [...early, ...late].flatMap((x) => d.observe(x));
  assert.equal(out.length, 1);
  assert.deepEqual(out[0].evidence.verdicts, { accept: 15, drop: 0, none: 0 });
  assert.equal(out[0].evidence.flows, 15);
});
