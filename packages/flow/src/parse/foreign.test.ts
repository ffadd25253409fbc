import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { FlowFormatError } from '../errors.js';
import { detectFile } from './detect-file.js';
import { unreadableFormatMessage } from './foreign.js';
import { parseFile } from './stream.js';

const td = (rel: string) => fileURLToPath(new URL(`../../testdata/${rel}`, import.meta.url));

// Real samples (testdata/foreign, sources in testdata/SOURCES.md) and what each must be called.
const CASES: Array<[string, string]> = [
  ['foreign/zeek-conn-tsv.log', 'Zeek conn.log (TSV)'],
  ['foreign/zeek-conn.json.log', 'Zeek conn.log (JSON)'],
  ['foreign/aws-vpc-v2.log', 'AWS VPC flow logs (version 2)'],
  ['foreign/aws-vpc-v3-header.log', 'AWS VPC flow logs (version 3)'],
  ['foreign/aws-vpc-v5.log', 'AWS VPC flow logs (version 5)'],
  ['foreign/gcp-vpc-flow.ndjson', 'Google Cloud VPC flow logs (JSON)'],
  ['foreign/azure-nsg-v2.json', 'Azure NSG flow logs (JSON)'],
  ['foreign/azure-nsg-v2-pretty.json', 'Azure NSG flow logs (JSON)'],
  ['foreign/hubble-flows.jsonl', 'Cilium Hubble flows (JSON)'],
  ['foreign/calico-flows.log', 'Calico flow logs (JSON)'],
  ['foreign/suricata-eve.json', 'Suricata EVE JSON'],
  ['foreign/nfcapd-head.nfdump', 'an nfdump (nfcapd) binary flow file'],
  ['foreign/nfdump.csv', 'nfdump CSV output'],
  ['foreign/icmp-portscan.pcap', 'a pcap packet capture'],
  ['foreign/netflow5-payload.dat', 'a NetFlow v5 export packet'],
  ['foreign/ipfix-payload.dat', 'an IPFIX export packet'],
  ['foreign/ctu-binetflow.csv', 'CTU/Argus binetflow (CSV)'],
  ['negative/slips-test11-portscan.binetflow.csv', 'CTU/Argus binetflow (CSV)'],
];

for (const [file, name] of CASES) {
  test(`${file} looks like ${name}: detectFile and parseFile say so`, async () => {
    const d = detectFile(td(file));
    assert.equal(d.format, undefined);
    assert.equal(d.foreign?.name, name);
    await assert.rejects(parseFile(td(file), { format: 'auto' }), (e: FlowFormatError) => {
      assert.equal(e.code, 'FLOE_FLOW_UNKNOWN_FORMAT');
      assert.equal(e.foreign?.name, name);
      return true;
    });
  });
}

test('compressed inputs (gzip made here; zstd, bzip2, xz by their magic numbers) say "decompress it first"', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-foreign-'));
  try {
    const files: Array<[string, Buffer, string]> = [
      ['a.gz', gzipSync(readFileSync(td('iptables-log/crowdsec-hub-proxmox-pvefw.log'))), 'gzip-compressed data'],
      ['a.zst', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x05, 0x29, 0x00]), 'zstd-compressed data'],
      ['a.bz2', Buffer.from('BZh91AY&SY\u0000\u0001', 'latin1'), 'bzip2-compressed data'],
      ['a.xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04]), 'xz-compressed data'],
      ['a.pcapng', Buffer.from([0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a]), 'a pcapng packet capture'],
      ['a.u16', Buffer.from('\ufeffIN=eth0 OUT=', 'utf16le'), 'UTF-16 text'],
    ];
    for (const [name, bytes, want] of files) {
      writeFileSync(join(dir, name), bytes);
      const d = detectFile(join(dir, name));
      assert.equal(d.foreign?.name, want, name);
      const msg = unreadableFormatMessage(name, d.foreign);
      assert.match(msg, new RegExp(`^${name.replace('.', '\\.')} looks like .+, which floe does not read; floe reads conntrack, conntrack-xml, kernel-log, ulogd-json`));
      if (want.endsWith('compressed data')) assert.match(msg, /decompress it first/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('files floe reads are detected by detectFile; the message for the unknown names the formats floe reads', () => {
  assert.equal(detectFile(td('conntrack/tsuru-conntrack-L-o-xml.xml')).format, 'conntrack-xml');
  assert.equal(detectFile(td('iptables-log/crowdsec-hub-proxmox-pvefw.log')).format, 'kernel-log');
  assert.equal(detectFile(td('ulogd-nflog/blog-ulogd2-json-nftables-ipv6-syn.json')).format, 'ulogd-json');
  assert.equal(
    unreadableFormatMessage('x.log', undefined),
    'cannot detect the format of x.log; floe reads conntrack, conntrack-xml, kernel-log, ulogd-json (pass --format to force one)',
  );
  assert.equal(
    unreadableFormatMessage('f.log', { name: 'AWS VPC flow logs (version 2)' }),
    'f.log looks like AWS VPC flow logs (version 2), which floe does not read; floe reads conntrack, conntrack-xml, kernel-log, ulogd-json',
  );
});
