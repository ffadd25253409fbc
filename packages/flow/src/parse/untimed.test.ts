// `FlowRecord.untimed`: set exactly when the input carried no time for a record, so detectors
// never claim a duration from the reader's clock (issue 6, "within 0 s" for dumps). Real captures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createKernelLogParser, isParseError, parseFile, type FlowRecord } from '../index.js';
import type { FormatName } from './types.js';

const NOW = Date.UTC(2030, 0, 1);
const testdata = (name: string) => fileURLToPath(new URL(`../../testdata/${name}`, import.meta.url));

async function records(name: string, format: FormatName): Promise<FlowRecord[]> {
  const r = await parseFile(testdata(name), { format, now: () => NOW });
  assert.ok(r.records.length > 0, name);
  return r.records;
}

test('conntrack -L dumps carry no time: every record is untimed, observedAt is the reader clock', async () => {
  for (const name of ['conntrack/iki-conntrack-L-ssh-scan.txt', 'conntrack/scope-conntrack-L-o-id-dump.txt', 'conntrack/threads-conntrack-L-plain.txt']) {
    const rs = await records(name, 'conntrack');
    assert.ok(
      rs.every((r) => r.untimed === true && r.observedAt === NOW && r.start === undefined),
      name,
    );
  }
});

test('conntrack -E without -o timestamp is untimed; with [epoch.usec] stamps it is not', async () => {
  const plain = await records('conntrack/threads-conntrack-E-events.txt', 'conntrack');
  assert.ok(plain.every((r) => r.untimed === true));
  const stamped = await records('conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log', 'conntrack');
  assert.ok(stamped.every((r) => r.untimed === undefined && r.observedAt !== NOW));
});

test('conntrack XML: a flow with <when> is timed, one without is untimed', async () => {
  const rs = await records('conntrack/travis-nat-conntrack-E-o-xml-events.xml', 'conntrack-xml');
  assert.ok(rs.some((r) => r.untimed === true && r.observedAt === NOW));
  assert.ok(rs.every((r) => (r.untimed === true) === (r.observedAt === NOW)));
});

test('kernel LOG lines behind a syslog time and ulogd2 JSON with oob.time/flow.start are timed', async () => {
  const kl = await records('iptables-log/crowdsec-hub-iptables-portscan.log', 'kernel-log');
  assert.ok(kl.every((r) => r.untimed === undefined && r.observedAt !== NOW));
  const nflog = await records('ulogd-nflog/captured-ulogd2-nflog-json-nmap-scan-v4v6.json', 'ulogd-json');
  assert.ok(nflog.every((r) => r.untimed === undefined && r.observedAt !== NOW));
  const nfct = await records('ulogd-nfct/captured-ulogd2-nfct-json-nmap-scan-v4v6.json', 'ulogd-json');
  assert.ok(nfct.every((r) => r.untimed === undefined && (r.start !== undefined || r.end !== undefined)));
});

test('a kernel LOG line without any time stamp is untimed', () => {
  const p = createKernelLogParser({ now: () => NOW });
  const r = p.parseLine(
    'IN=eth0 OUT= MAC=00:00:00:00:00:00:00:00:00:00:00:00:08:00 SRC=192.0.2.1 DST=192.0.2.2 LEN=44 TOS=0x00 PREC=0x00 TTL=43 ID=1 PROTO=TCP SPT=1000 DPT=22 WINDOW=1024 RES=0x00 SYN URGP=0',
    1,
  );
  assert.ok(r !== null && !isParseError(r), JSON.stringify(r));
  assert.equal(r.untimed, true);
  assert.equal(r.observedAt, NOW);
});
