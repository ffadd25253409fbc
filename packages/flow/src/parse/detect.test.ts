import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { detectFormat } from './detect.js';
import type { FormatName } from './types.js';

const dir = new URL('../../testdata/', import.meta.url);
const firstLines = (rel: string, n = 40) => readFileSync(new URL(rel, dir), 'utf8').split('\n').slice(0, n);

const EXPECTED: Record<string, FormatName> = {
  conntrack: 'conntrack',
  'iptables-log': 'kernel-log',
  'ulogd-nflog': 'ulogd-json',
  'ulogd-nfct': 'ulogd-json',
};

test('every testdata file of the four formats is detected as its format (XML files as conntrack-xml)', () => {
  let files = 0;
  for (const [folder, format] of Object.entries(EXPECTED)) {
    for (const f of readdirSync(new URL(`${folder}/`, dir))) {
      const want = f.endsWith('.xml') ? 'conntrack-xml' : format;
      assert.equal(detectFormat(firstLines(`${folder}/${f}`)), want, `${folder}/${f}`);
      files++;
    }
  }
  assert.equal(files, 18);
});

test('other real formats (Suricata eve, Zeek JSON, Calico felix syslog, MikroTik, Argus CSV, AWS VPC) are not detected', () => {
  const files = readdirSync(new URL('negative/', dir));
  assert.equal(files.length, 6);
  for (const f of files) assert.equal(detectFormat(firstLines(`negative/${f}`)), undefined, f);
});

test('random text, empty input and near misses give undefined', () => {
  assert.equal(detectFormat([]), undefined);
  assert.equal(detectFormat(['', '   ', '']), undefined);
  assert.equal(detectFormat(['hello world', 'lorem ipsum dolor sit amet', '42']), undefined);
  assert.equal(detectFormat(['{"src_ip": "10.0.0.1", "dest_ip": "10.0.0.2"}']), undefined);
  assert.equal(detectFormat(['{"oob.prefix": "x", broken']), undefined);
  assert.equal(detectFormat(['src=10.0.0.1 dst=10.0.0.2']), undefined);
  assert.equal(detectFormat(['<html><body>SRC=1 DST=2</body></html>']), undefined);
  let seed = 7;
  const junk = Array.from({ length: 30 }, () => {
    let s = '';
    for (let k = 0; k < 80; k++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      s += String.fromCharCode(32 + (seed % 95));
    }
    return s;
  });
  assert.equal(detectFormat(junk), undefined);
});

test('majority vote over the first 20 non-empty lines; lines after the 20th are not read', () => {
  const ct =
    'tcp      6 431999 ESTABLISHED src=192.168.123.1 dst=192.168.123.10 sport=51654 dport=22 src=192.168.123.10 dst=192.168.123.1 sport=22 dport=51654 [ASSURED] mark=0 use=1';
  const klog = 'IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=60 PROTO=TCP SPT=1 DPT=22';
  assert.equal(detectFormat(['garbage', ct, ct, klog]), 'conntrack');
  assert.equal(detectFormat([...Array(20).fill('junk'), ct]), undefined);
  assert.equal(detectFormat([...Array(19).fill('junk'), '', ct]), 'conntrack');
});
