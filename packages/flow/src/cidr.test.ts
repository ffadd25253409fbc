import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeAddr } from './addr.js';
import { normalizeCidr } from './cidr.js';

test('normalizeCidr: bare addresses get /32 or /128; IPv6 in RFC 5952 form; IPv4-mapped prefixes become IPv4', () => {
  const cases: Array<[string, string]> = [
    ['203.0.113.7', '203.0.113.7/32'],
    ['198.51.100.0/24', '198.51.100.0/24'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:DB8:0:0::/64', '2001:db8::/64'],
    ['2001:db8:0000:0:0:0:0:1', '2001:db8::1/128'],
    ['::ffff:198.51.100.0/120', '198.51.100.0/24'],
    ['::ffff:c633:6407', '198.51.100.7/32'],
    ['::ffff:0:0/96', '0.0.0.0/0'],
    ['::/0', '::/0'],
    // only ::ffff:a.b.c.d is IPv4-mapped: ::0.0.0.1 is the IPv6 address ::1 (issue 6)
    ['::0.0.0.1', '::1/128'],
  ];
  for (const [input, want] of cases) assert.equal(normalizeCidr(input), want, input);
});

test('normalizeCidr: refuses host bits, bad lengths, zone ids, leading zeros and anything not an address', () => {
  for (const bad of [
    '10.0.0.5/24',
    '2001:db8::1/64',
    '::ffff:198.51.100.1/120',
    '::ffff:0:0/95',
    '10.0.0.0/33',
    '::/129',
    '10.0.0.0/',
    '10.0.0.0/024',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    'fe80::1%eth0',
    '010.0.0.1',
    '300.1.1.1',
    '',
    '/',
    'example.org',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1.2.3.4/+8',
  ]) {
    assert.equal(normalizeCidr(bad), undefined, bad);
  }
});

test('normalizeCidr: the address part agrees with normalizeAddr on every address it accepts', () => {
  for (const a of ['1.2.3.4', '::1', '2001:db8::abcd:0:0:1', '::ffff:1.2.3.4', 'FE80::A']) {
    assert.equal(normalizeCidr(a)?.split('/')[0], normalizeAddr(a)?.addr, a);
  }
});
