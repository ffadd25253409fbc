import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOT_IPV4, ipv4Bits, ipv4Number, ipv4Text } from './v4.js';

test('ipv4Number and ipv4Bits: canonical dotted quads, edges included, and back to the same text', () => {
  const cases: Array<[string, number]> = [
    ['0.0.0.0', 0],
    ['255.255.255.255', 0xffffffff],
    ['1.2.3.4', 0x01020304],
    ['10.0.0.1', 0x0a000001],
    ['203.0.113.10', 0xcb00710a],
    ['128.0.0.0', 0x80000000],
    ['100.100.100.100', 0x64646464],
  ];
  for (const [s, n] of cases) {
    assert.equal(ipv4Number(s), n, s);
    assert.equal(ipv4Bits(s), n | 0, `${s} as int32`);
    assert.equal(ipv4Text(n), s, s);
    assert.equal(ipv4Text(n | 0), s, `${s} from its int32 bit pattern`);
  }
});

test('ipv4Number: -1 (ipv4Bits: NOT_IPV4) for anything that is not exactly a canonical dotted quad', () => {
  for (const s of [
    '',
    '1.2.3',
    '1.2.3.4.5',
    '01.2.3.4',
    '1.2.3.04',
    '1.2.3.00',
    '256.1.1.1',
    '1.2.3.256',
    '1.2.3.',
    '.1.2.3',
    '1..2.3',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1.2.3.a',
    '1.2.3.-4',
    '1.2.3.4/24',
    '1234.1.1.1',
    '::1',
    '::ffff:1.2.3.4',
    '2001:db8::1',
    'example.org',
  ]) {
    assert.equal(ipv4Number(s), -1, JSON.stringify(s));
    assert.equal(ipv4Bits(s), NOT_IPV4, JSON.stringify(s));
  }
});

test('ipv4Number and ipv4Text: inverse on 10,000 pseudo-random addresses', () => {
  let x = 12345;
  for (let i = 0; i < 10_000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const s = `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
    assert.equal(ipv4Number(s), x);
    assert.equal(ipv4Text(ipv4Number(s)), s);
  }
});
