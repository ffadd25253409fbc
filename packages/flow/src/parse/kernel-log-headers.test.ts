import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { FlowRecord } from '../record.js';
import { createParser } from './stream.js';
import { isParseError } from './types.js';

// Issue 6: every syslog/journald/dmesg header in front of every kernel LOG body form.
const NOW = Date.UTC(2023, 10, 14, 12, 0, 0);

const BODIES: Array<{ name: string; body: string; prefix: string; inIface: string; verdict?: string }> = [
  {
    name: 'iptables LOG',
    body: 'IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=192.0.2.7 DST=198.51.100.2 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0',
    prefix: '',
    inIface: 'eth0',
  },
  { name: 'UFW', body: '[UFW BLOCK] IN=br.lan OUT= SRC=192.0.2.7 DST=198.51.100.2 LEN=40 PROTO=TCP SPT=1 DPT=23', prefix: '[UFW BLOCK]', inIface: 'br.lan', verdict: 'drop' },
  {
    name: 'nftables log with VLAN',
    body: 'nft drop: IN=eth0.5000 OUT= SRC=192.0.2.7 DST=198.51.100.2 LEN=40 PROTO=UDP SPT=1 DPT=53',
    prefix: 'nft drop:',
    inIface: 'eth0.5000',
    verdict: 'drop',
  },
  { name: 'odd Linux names', body: 'DROP IN=veth@x OUT=enp.1s0 SRC=192.0.2.7 DST=198.51.100.2 LEN=40 PROTO=TCP SPT=1 DPT=80', prefix: 'DROP', inIface: 'veth@x', verdict: 'drop' },
  {
    name: 'Proxmox pvefw',
    body: '100 6 tap100i0-IN 14/Nov/2023:12:00:00 +0000 policy DROP: IN=fwbr100i0 PHYSIN=tap100i0 SRC=192.0.2.7 DST=198.51.100.2 LEN=60 PROTO=TCP SPT=40000 DPT=3306 SYN',
    prefix: 'policy DROP:',
    inIface: 'fwbr100i0',
    verdict: 'drop',
  },
];

const HEADERS: Array<{ name: string; header: string; time?: number }> = [
  { name: 'none', header: '' },
  { name: 'RFC 3164', header: 'Nov 14 12:00:00 host kernel: ' },
  { name: 'RFC 3164 with PRI', header: '<4>Nov 14 12:00:00 host kernel: ' },
  { name: 'RFC 3164 with tag[pid]', header: 'Nov 14 12:00:00 pve1 pvefw-logger[1234]: ' },
  { name: 'RFC 3339 (rsyslog)', header: '2023-11-14T12:00:00.250+00:00 host kernel: ', time: NOW + 250 },
  { name: 'RFC 3339 with tag[pid]', header: '2023-11-14T12:00:00Z pve1 pvefw-logger[880]: ', time: NOW },
  { name: 'RFC 5424', header: '<4>1 2023-11-14T12:00:00Z host kernel - - - ', time: NOW },
  { name: 'RFC 5424 with SD', header: '<4>1 2023-11-14T12:00:00Z host kernel - - [meta x="1"] ', time: NOW },
  { name: 'journald short-iso', header: '2023-11-14T12:00:00+0000 host kernel: ', time: NOW },
  { name: 'journald short-iso-precise', header: '2023-11-14T12:00:00.123456+00:00 host kernel: ', time: NOW + 123 },
  { name: 'journald short-monotonic', header: '[  123.456789] host kernel: ' },
  { name: 'dmesg', header: '[  203.842973] ' },
  { name: 'kernel: dmesg', header: 'kernel: [  203.842973] ' },
  { name: 'syslog + dmesg uptime', header: 'Nov 14 12:00:00 host kernel: [  203.842973] ' },
];

for (const b of BODIES) {
  for (const h of HEADERS) {
    test(`kernel-log: ${b.name} behind ${h.name}`, () => {
      const p = createParser('kernel-log', { now: () => NOW });
      const r = p.parseLine(h.header + b.body, 1);
      assert.ok(r !== null && !isParseError(r), `parsed: ${JSON.stringify(r)}`);
      const rec = r as FlowRecord;
      assert.equal(rec.srcAddr, '192.0.2.7');
      assert.equal(rec.dstAddr, '198.51.100.2');
      assert.equal(rec.inIface, b.inIface);
      assert.equal(rec.logPrefix ?? '', b.prefix);
      if (b.verdict) assert.equal(rec.verdict, b.verdict);
      // Proxmox lines carry their own time (zone given), which wins.
      const want = b.name === 'Proxmox pvefw' ? NOW : h.time;
      if (want !== undefined) assert.equal(rec.observedAt, want);
    });
  }
}

test('dmesg -T bracket gives a local time; a tag-less host line keeps its prefix words', () => {
  const p = createParser('kernel-log', { now: () => NOW });
  const r = p.parseLine('[Tue Nov 14 12:00:00 2023] [UFW BLOCK] IN=eth0 OUT= SRC=192.0.2.7 DST=198.51.100.2 LEN=40 PROTO=TCP SPT=1 DPT=23', 1) as FlowRecord;
  assert.equal(r.observedAt, new Date(2023, 10, 14, 12, 0, 0).getTime());
  assert.equal(r.logPrefix, '[UFW BLOCK]');
  const q = p.parseLine('Nov 14 12:00:00 fw DROP: IN=eth0 OUT= SRC=192.0.2.7 DST=198.51.100.2 LEN=40 PROTO=TCP SPT=1 DPT=23', 2) as FlowRecord;
  assert.equal(q.logPrefix, 'DROP:');
});

test('interface names Linux refuses are still rejected: 16 bytes, "/", ":"', () => {
  const p = createParser('kernel-log', { now: () => NOW });
  for (const name of ['a'.repeat(16), 'eth0/1', 'eth0:1', '..']) {
    const r = p.parseLine(`IN=${name} OUT= SRC=192.0.2.7 DST=198.51.100.2 LEN=40 PROTO=TCP SPT=1 DPT=23`, 1);
    assert.ok(isParseError(r) && r.reason === 'bad-interface', name);
  }
});
