import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { FlowRecord } from '../record.js';
import { createKernelLogParser, isIfaceName, parseRfc3339 } from './kernel-log.js';
import { checkLine, codePointName } from './clean.js';
import { createParser } from './stream.js';
import { isParseError, parseError, type ParseError } from './types.js';
import { verdictFromPrefix } from './verdict.js';

const NOW = 1_700_000_000_000;
const testdata = (p: string) => readFileSync(new URL(`../../testdata/${p}`, import.meta.url), 'utf8');

function parseAll(p: string) {
  const parser = createKernelLogParser({ now: () => NOW });
  const byLine = new Map<number, FlowRecord>();
  const errors: ParseError[] = [];
  const lines = testdata(p).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, k) => {
    const r = parser.parseLine(line, k + 1);
    if (r === null) return;
    if (isParseError(r)) errors.push(r);
    else byLine.set(k + 1, r);
  });
  const at = (n: number): FlowRecord => {
    const r = byLine.get(n);
    assert.ok(r, `line ${n} parsed`);
    return r;
  };
  return { records: [...byLine.values()], errors, at, lines };
}

test('crowdsec "malformed" file: line 2 (IN=enp.1s0, a name Linux accepts) parses, line 3 (XX= instead of IN=) is rejected (issue 6)', () => {
  const { records, errors, at } = parseAll('iptables-log/crowdsec-hub-iptables-logs-with-malformed.log');
  assert.equal(records.length, 3);
  assert.deepEqual(
    errors.map((e) => [e.line, e.reason, e.field]),
    [[3, 'missing-field', 'IN']],
  );
  assert.equal(at(2).inIface, 'enp.1s0');
  const l1 = at(1);
  assert.deepEqual(
    [l1.srcAddr, l1.dstAddr, l1.srcPort, l1.dstPort, l1.protocol, l1.inIface, l1.outIface, l1.logPrefix, l1.observedAt, l1.bytesOrig],
    // `Jun  8 14:34:33`: no year in RFC 3164, so the year of now (2023-11-14), local time
    ['195.54.160.107', '51.15.166.67', 8080, 8123, 6, 'enp1s0', undefined, undefined, new Date(2023, 5, 8, 14, 34, 33).getTime(), 40],
  );
  const l4 = at(4);
  assert.deepEqual([l4.logPrefix, l4.verdict, l4.inIface, l4.protocol, l4.dstPort], ['IPTABLES-DROP:', 'drop', 'lo', 17, 53]);
});

test('crowdsec port scan: 49 lines, 17 SYNs from 62.34.17.168 to 17 ports, UFW prefixes and verdicts', () => {
  const { records, errors } = parseAll('iptables-log/crowdsec-hub-iptables-portscan.log');
  assert.equal(errors.length, 0);
  assert.equal(records.length, 49);
  const scan = records.filter((r) => r.srcAddr === '62.34.17.168');
  assert.equal(scan.length, 17);
  assert.equal(new Set(scan.map((r) => r.dstPort)).size, 17);
  assert.ok(scan.every((r) => r.logPrefix === undefined && r.inIface === 'ens2' && r.dstAddr === '10.73.140.49'));
  const audit = records.filter((r) => r.logPrefix === '[UFW AUDIT]');
  const block = records.filter((r) => r.logPrefix === '[UFW BLOCK]');
  assert.deepEqual([audit.length, block.length], [16, 16]);
  assert.ok(audit.every((r) => r.verdict === undefined));
  assert.ok(block.every((r) => r.verdict === 'drop' && r.srcAddr === '127.0.0.2'));
});

test('elastic mixed file: all 24 lines parse; syslog, RFC 3339 and PRI headers; glued prefixes', () => {
  const { records, errors, at } = parseAll('iptables-log/elastic-iptables-raw-mixed.log');
  assert.equal(errors.length, 0);
  assert.equal(records.length, 24);
  // 1: <161>Oct 10 07:25:12 Hostname kernel: [wan-lan-default-D]IN=eth0 OUT= ... (no year: now())
  const l1 = at(1);
  assert.deepEqual(
    [l1.observedAt, l1.logPrefix, l1.verdict, l1.inIface, l1.srcAddr, l1.dstAddr, l1.dstPort],
    [new Date(2023, 9, 10, 7, 25, 12).getTime(), '[wan-lan-default-D]', undefined, 'eth0', '67.43.156.15', '10.4.0.5', 443],
  );
  // 2 and 3: RFC 3339 time with and without <PRI>
  assert.equal(at(2).observedAt, Date.UTC(2021, 2, 12, 14, 10, 18));
  assert.equal(at(3).observedAt, Date.UTC(2021, 2, 12, 14, 10, 18));
  assert.equal(at(2).logPrefix, '[wan-lan-default-D]');
  // 4: ICMP port unreachable with the quoted packet [SRC=192.168.2.83 DST=192.168.173.191 ... ]
  const l4 = at(4);
  assert.deepEqual(
    [l4.logPrefix, l4.verdict, l4.protocol, l4.srcAddr, l4.dstAddr, l4.icmpType, l4.icmpCode, l4.srcPort, l4.dstPort, l4.bytesOrig],
    ['DENY:', 'drop', 1, '192.168.2.71', '192.168.2.83', 3, 3, undefined, undefined, 88],
  );
  assert.deepEqual([at(5).logPrefix, at(5).verdict, at(5).dstPort], ['iptables DROP_INPUT:', 'drop', 445]);
  // 15, 16: IPv6 ICMPv6, no input interface, canonical addresses, MARK=0xd4
  const l15 = at(15);
  assert.deepEqual([l15.family, l15.protocol, l15.icmpType, l15.inIface, l15.outIface, l15.srcAddr], [6, 58, 128, undefined, 'lo', '2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6']);
  const l16 = at(16);
  assert.deepEqual([l16.srcAddr, l16.dstAddr, l16.icmpType, l16.mark, l16.outIface], ['fe80::84:88ff:feae:790a', 'ff02::16', 143, 0xd4, 'enp0s3']);
  // 17: VLAN interface eth0.90; 22: ESP (protocol 50) without ports; 23: host without kernel: tag
  assert.deepEqual([at(17).inIface, at(17).logPrefix], ['eth0.90', '[LAN_LOCAL-default-A]']);
  assert.deepEqual([at(22).protocol, at(22).srcPort, at(22).logPrefix], [50, undefined, undefined]);
  assert.deepEqual([at(21).inIface, at(21).outIface, at(21).logPrefix], ['eth0', 'eth2', '[WAN_OUT-2000-A]']);
  assert.deepEqual([at(23).logPrefix, at(23).inIface, at(23).mark], ['[SOMETHING-1234-A]', 'abc.123', 0]);
  assert.deepEqual([at(24).icmpType, at(24).icmpCode], [8, 0]);
});

test('proxmox pvefw lines: header time with zone, verdict words, missing IN= or OUT= allowed there', () => {
  const { records, errors, at } = parseAll('iptables-log/crowdsec-hub-proxmox-pvefw.log');
  assert.equal(errors.length, 0);
  assert.equal(records.length, 10);
  const l1 = at(1);
  assert.deepEqual(
    [l1.observedAt, l1.logPrefix, l1.verdict, l1.inIface, l1.outIface, l1.protocol, l1.dstPort],
    [Date.UTC(2022, 5, 20, 11, 9, 14), 'policy DROP:', 'drop', 'vmbr0.94', undefined, 17, 3784],
  );
  assert.deepEqual([at(2).logPrefix, at(2).verdict], ['ACCEPT:', 'accept']);
  assert.deepEqual([at(6).family, at(6).srcAddr, at(6).logPrefix, at(6).verdict], [6, '2a0a:1580::a', 'PVEFW-reject:', 'drop']);
  assert.deepEqual([at(8).inIface, at(8).outIface, at(8).verdict], [undefined, 'vmbr0.94', 'drop']);
  assert.deepEqual([at(9).logPrefix, at(9).verdict], [undefined, undefined]);
});

test('header forms: RFC 5424, journald short-iso (+hhmm), dmesg only, bare body', () => {
  const p = createKernelLogParser({ now: () => NOW });
  const body = 'IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=60 PROTO=TCP SPT=1 DPT=22';
  const rec = (line: string) => {
    const r = p.parseLine(line, 1);
    assert.ok(r !== null && !isParseError(r), line);
    return r;
  };
  const r5424 = rec(`<4>1 2024-05-01T10:00:00.250+02:00 fw kernel - - - nft-drop: ${body}`);
  assert.deepEqual([r5424.observedAt, r5424.logPrefix, r5424.verdict], [Date.UTC(2024, 4, 1, 8, 0, 0, 250), 'nft-drop:', 'drop']);
  const sd = rec(`<4>1 2024-05-01T10:00:00Z fw kernel - - [meta x="1"] ${body}`);
  assert.equal(sd.logPrefix, undefined);
  const iso = rec(`2024-05-01T10:00:00+0100 fw kernel: [ 12.5] ACCEPT-SSH ${body}`);
  assert.deepEqual([iso.observedAt, iso.logPrefix, iso.verdict], [Date.UTC(2024, 4, 1, 9), 'ACCEPT-SSH', 'accept']);
  const dmesg = rec(`[  203.842973] ${body}`);
  assert.deepEqual([dmesg.observedAt, dmesg.logPrefix], [NOW, undefined]);
  assert.equal(rec(body).dstPort, 22);
  assert.equal(rec(`kernel: ${body}`).logPrefix, undefined);
  assert.equal(p.parseLine('   ', 1), null);
});

test('kernel-log errors: bad address, bad port, missing PROTO, not a LOG line', () => {
  const p = createKernelLogParser();
  const e = (line: string) => {
    const r = p.parseLine(line, 9);
    assert.ok(r !== null && isParseError(r), line);
    return [r.reason, r.field];
  };
  assert.deepEqual(e('IN=eth0 OUT= SRC=192.0.2.999 DST=192.0.2.2 PROTO=TCP'), ['bad-address', 'SRC']);
  assert.deepEqual(e('IN=eth0 OUT= SRC=192.0.2.1 DST=2001:db8::1 PROTO=TCP'), ['bad-address', 'DST']);
  assert.deepEqual(e('IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 PROTO=TCP SPT=70000 DPT=1'), ['bad-port', 'SPT']);
  assert.deepEqual(e('IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=60'), ['missing-field', 'PROTO']);
  assert.deepEqual(e('IN=eth0 OUT= DST=192.0.2.2 PROTO=UDP'), ['missing-field', 'SRC']);
  assert.deepEqual(e('IN=eth0/1 OUT= SRC=192.0.2.1 DST=192.0.2.2 PROTO=UDP'), ['bad-interface', 'IN']);
  assert.deepEqual(e('Jun  8 14:34:33 host sshd[1]: Accepted password for root'), ['unknown-line', undefined]);
});

test('interface names, RFC 3339 times and prefix verdicts at their boundaries', () => {
  assert.equal(isIfaceName(''), true);
  assert.equal(isIfaceName('a'.repeat(15)), true);
  assert.equal(isIfaceName('a'.repeat(16)), false);
  assert.equal(isIfaceName('eth0.4095'), true);
  assert.equal(isIfaceName('eth0.4096'), true);
  assert.equal(isIfaceName('enp.1s0'), true);
  assert.equal(isIfaceName('eth0.'), true);
  assert.equal(isIfaceName('.'), false);
  assert.equal(isIfaceName('..'), false);
  assert.equal(isIfaceName('a:b'), false);
  assert.equal(isIfaceName('a/b'), false);
  assert.equal(isIfaceName('üüüüüüü'), true, '14 bytes');
  assert.equal(isIfaceName('üüüüüüüü'), false, '16 bytes');
  assert.equal(isIfaceName('r-b'), true);
  const t = '2021-03-12T14:10:18.5-01:30';
  assert.equal(parseRfc3339(t, 0, t.length), Date.UTC(2021, 2, 12, 15, 40, 18, 500));
  const noZone = '2021-03-12T14:10:18';
  assert.equal(parseRfc3339(noZone, 0, noZone.length), -1);
  assert.equal(verdictFromPrefix('DROP_INPUT'), 'drop');
  assert.equal(verdictFromPrefix('[UFW ALLOW]'), 'accept');
  assert.equal(verdictFromPrefix('ACCEPT then DROP'), undefined);
  assert.equal(verdictFromPrefix('DROPPED'), undefined);
  assert.equal(verdictFromPrefix('[wan-lan-default-D]'), undefined);
});

// Regression (newcomer test): lines with RFC 3164 stamps were all timed "now", so twenty days of
// single probes looked like a port scan within 0 s.
test('RFC 3164 stamps give the time of the line; a stamp ahead of now is last year', () => {
  const jan = new Date(2024, 0, 2, 12, 0, 0).getTime();
  const p = createKernelLogParser({ now: () => jan });
  const body = 'kernel: IN=eth0 OUT= SRC=198.51.100.7 DST=10.0.0.1 LEN=40 PROTO=TCP SPT=1 DPT=22';
  const may = p.parseLine(`May  1 10:00:00 host ${body}`, 1) as FlowRecord;
  assert.equal(may.observedAt, new Date(2023, 4, 1, 10, 0, 0).getTime(), 'May is after 2 Jan 2024: last year');
  const jan1 = p.parseLine(`Jan  1 23:59:59.250 host ${body}`, 2) as FlowRecord;
  assert.equal(jan1.observedAt, new Date(2024, 0, 1, 23, 59, 59, 250).getTime());
  const bad = p.parseLine(`Jan 41 10:00:00 host ${body}`, 3) as FlowRecord;
  assert.equal(bad.observedAt, jan, 'an impossible day falls back to now');
});

test('PROTO= names only the protocols of its table: an inherited object property (constructor, __proto__, toString) is rejected, not a protocol', () => {
  const parser = createKernelLogParser({ now: () => NOW });
  const line = (proto: string) =>
    `Dec  1 10:00:00 host kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:00:00:00:00:00:00:00:00:00:00:00:08:00 SRC=10.0.0.1 DST=10.0.0.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=${proto} SPT=1234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0`;
  const ok = parser.parseLine(line('TCP'), 1);
  assert.ok(ok && !isParseError(ok) && ok.protocol === 6);
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    const r = parser.parseLine(line(name), 2);
    assert.ok(r !== null && isParseError(r), `PROTO=${name} is rejected`);
  }
});

test('createParser(kernel-log) (one copy of the characters for the check and the parse) gives what checkLine then the raw parser give', () => {
  const raw = createKernelLogParser({ now: () => NOW, node: 'n1' });
  const guarded = createParser('kernel-log', { now: () => NOW, node: 'n1' });
  const lines = ['iptables-log/elastic-iptables-raw-mixed.log', 'iptables-log/crowdsec-hub-proxmox-pvefw.log', 'iptables-log/crowdsec-hub-iptables-logs-with-malformed.log']
    .flatMap((f) => testdata(f).split('\n'))
    .filter((l) => l !== '');
  const hostile = ['\0\0', '\ufeff', '\x1b', '\t', '\u0085', '\u0120', '\ud800', '\r', ' \r'];
  let k = 0;
  for (const line of lines) {
    const h = hostile[k++ % hostile.length];
    for (const l of [line, `${h}${line}`, `${line}${h}`, `${line.slice(0, 40)}${h}${line.slice(40)}`]) {
      const c = checkLine(l);
      const want = c.ok ? raw.parseLine(c.text, k) : parseError(k, 'control-byte', l, codePointName(c.code));
      assert.deepEqual(guarded.parseLine(l, k), want, JSON.stringify(l));
    }
  }
});

test('kernel LOG records keep no line alive: addresses, interfaces and prefix of 13+ characters are copies, not slices of the line', async () => {
  // V8 makes a substring of 13+ characters a sliced string that holds its parent: a record kept by a
  // detector (one-shot sources) would hold its whole line. Lines of 256 KiB, each a new address,
  // interface and prefix of 13+ characters; only the records are kept.
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const p = createParser('kernel-log', { now: () => NOW });
  const pad = 'x'.repeat(256 * 1024);
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept: FlowRecord[] = [];
  for (let k = 0; k < 200; k++) {
    const a = `198.51.${100 + (k >> 7)}.${100 + (k & 127)}`;
    const line = `Nov 30 10:00:00 h kernel: [drop-${k}-long-prefix] IN=eth0.${1000 + k}.vxy OUT=br-${1000 + k}.lan.x MAC=00 SRC=${a} DST=203.0.113.100 LEN=40 PROTO=TCP SPT=1 DPT=2 ${pad} ${pad}`;
    const r = p.parseLine(line.slice(0), k + 1);
    assert.ok(!isParseError(r) && r !== null);
    assert.deepEqual([r.srcAddr.length >= 13, r.inIface?.length, r.outIface?.length, r.logPrefix], [true, 13, 13, `[drop-${k}-long-prefix]`]);
    kept.push(r);
  }
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  // 200 lines of 512 KiB (100 MiB) if pinned; the records alone are a few hundred KiB.
  assert.ok(grown < 20 * 1024 * 1024, `heap grew ${grown} bytes for 200 records`);
  assert.equal(kept.length, 200);
});
