import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CidrSet, parseAddress, parseCidr } from './cidr.js';
import { CidrError } from './errors.js';

test('parseCidr masks host bits and gives canonical text', () => {
  assert.deepEqual({ ...parseCidr('10.1.2.3/8'), words: undefined }, { family: 4, prefix: '10.0.0.0/8', bits: 8, network: '10.0.0.0', words: undefined });
  assert.equal(parseCidr('2001:DB8:0:0:1::/32').prefix, '2001:db8::/32');
  assert.equal(parseCidr('192.168.1.7').prefix, '192.168.1.7/32');
  assert.equal(parseCidr('fd00:ec2::254').prefix, 'fd00:ec2::254/128');
  assert.equal(parseCidr('0.0.0.0/0').prefix, '0.0.0.0/0');
  assert.equal(parseCidr('::/0').prefix, '::/0');
  assert.equal(parseCidr('10.0.0.0/31').prefix, '10.0.0.0/31');
});

test('parseCidr folds IPv4-mapped IPv6 (/96 and longer) to IPv4', () => {
  const p = parseCidr('::ffff:10.0.0.0/104');
  assert.equal(p.family, 4);
  assert.equal(p.prefix, '10.0.0.0/8');
  assert.equal(parseCidr('::ffff:192.0.2.1').prefix, '192.0.2.1/32');
  // Shorter than /96 stays IPv6: it covers more than the mapped range.
  assert.equal(parseCidr('::ffff:0:0/80').family, 6);
});

test('parseCidr rejects bad input with FLOE_POLICY_BAD_CIDR', () => {
  for (const bad of [
    '',
    '10.0.0.0/33',
    '2001:db8::/129',
    '10.0.0.256',
    '010.0.0.1',
    '10.1',
    '10.0.0.0/',
    '10.0.0.0/x',
    'fe80::1%eth0',
    'hello',
    '1:2:3:4:5:6:7:8:9',
    '10.0.0.0/8/8',
    '2001:db8:::1',
  ]) {
    assert.throws(
      () => parseCidr(bad),
      (e: unknown) => e instanceof CidrError && e.code === 'FLOE_POLICY_BAD_CIDR',
      bad,
    );
  }
});

test('parseAddress agrees with parseCidr on valid text and refuses invalid text', () => {
  const samples = [
    '0.0.0.0',
    '255.255.255.255',
    '10.244.1.17',
    '::',
    '::1',
    '1::',
    '2001:db8::1',
    'fe80::a:b:c:d',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:1.2.3.4',
    '::1.2.3.4',
    '64:ff9b::192.0.2.33',
    'FD00:EC2::254',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
  ];
  for (const s of samples) {
    const a = parseAddress(s);
    const c = parseCidr(s);
    assert.ok(a, s);
    assert.equal(a.family, c.family, s);
    const words = a.family === 4 ? [a.w0] : [a.w0, a.w1, a.w2, a.w3];
    assert.deepEqual(words, c.words, s);
  }
  for (const bad of [
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.1.1.1',
    ':::',
    '1:::2',
    '1::2::3',
    '12345::',
    'g::1',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    ':1:2:3:4:5:6:7',
    '1.2.3.4::',
    'x',
  ]) {
    assert.equal(parseAddress(bad), undefined, bad);
  }
});

test('CidrSet longest-prefix match picks the most specific prefix', () => {
  const s = new CidrSet<string>().add('10.0.0.0/8', 'eight').add('10.244.0.0/16', 'sixteen').add('10.244.1.0/24', 'twentyfour').add('10.244.1.17', 'host');
  assert.equal(s.lookup('10.244.1.17'), 'host');
  assert.equal(s.lookup('10.244.1.18'), 'twentyfour');
  assert.equal(s.lookup('10.244.2.1'), 'sixteen');
  assert.equal(s.lookup('10.9.9.9'), 'eight');
  assert.equal(s.lookup('11.0.0.0'), undefined);
  assert.equal(s.lookup('9.255.255.255'), undefined);
  assert.equal(s.lookup('not-an-ip'), undefined);
  assert.equal(s.size, 4);
});

test('CidrSet boundaries: /0, /32, /31 edges, /128', () => {
  const all4 = new CidrSet().add('0.0.0.0/0');
  assert.equal(all4.has('0.0.0.0'), true);
  assert.equal(all4.has('255.255.255.255'), true);
  assert.equal(all4.has('::1'), false, 'IPv4 /0 does not cover IPv6');
  assert.equal(all4.has('::ffff:8.8.8.8'), true, 'mapped IPv6 is IPv4');

  const all6 = new CidrSet().add('::/0');
  assert.equal(all6.has('2001:db8::1'), true);
  assert.equal(all6.has('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), true);
  assert.equal(all6.has('8.8.8.8'), false);

  const host = new CidrSet().add('192.0.2.1/32');
  assert.equal(host.has('192.0.2.1'), true);
  assert.equal(host.has('192.0.2.0'), false);
  assert.equal(host.has('192.0.2.2'), false);

  const pair = new CidrSet().add('192.0.2.0/31');
  assert.equal(pair.has('192.0.2.0'), true);
  assert.equal(pair.has('192.0.2.1'), true);
  assert.equal(pair.has('192.0.2.2'), false);
  assert.equal(pair.has('192.0.1.255'), false);

  const h6 = new CidrSet().add('2001:db8::ffff/128');
  assert.equal(h6.has('2001:db8::ffff'), true);
  assert.equal(h6.has('2001:db8::fffe'), false);
  assert.equal(h6.has('2001:db8::1:ffff'), false);
  const last = new CidrSet().add('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
  assert.equal(last.has('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), true);
  assert.equal(last.has('ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe'), false);
});

test('CidrSet IPv6 prefixes crossing 32-bit word boundaries', () => {
  const s = new CidrSet<number>().add('2001:db8::/32', 32).add('2001:db8:0:1::/64', 64).add('2001:db8:0:1:8000::/65', 65).add('2001:db8:0:1:8000::1/128', 128);
  assert.equal(s.lookup('2001:db8:ffff::1'), 32);
  assert.equal(s.lookup('2001:db8:0:1::1'), 64);
  assert.equal(s.lookup('2001:db8:0:1:7fff::1'), 64);
  assert.equal(s.lookup('2001:db8:0:1:8000::2'), 65);
  assert.equal(s.lookup('2001:db8:0:1:8000::1'), 128);
  assert.equal(s.lookup('2001:db9::1'), undefined);
  assert.equal(s.lookup('2001:DB8:0:1:8000:0:0:1%eth0'), 128, 'hex case and zone id ignored in lookup');
});

test('CidrSet treats IPv4-mapped IPv6 as IPv4 on both sides', () => {
  const s = new CidrSet<string>().add('::ffff:169.254.169.254', 'metadata').add('10.0.0.0/8', 'ten');
  assert.equal(s.lookup('169.254.169.254'), 'metadata');
  assert.equal(s.lookup('::ffff:169.254.169.254'), 'metadata');
  assert.equal(s.lookup('::ffff:a00:1'), 'ten');
  assert.deepEqual(s.entries(), [
    ['169.254.169.254/32', 'metadata'],
    ['10.0.0.0/8', 'ten'],
  ]);
});

test('CidrSet re-adding a prefix replaces its value; entries keep insertion order and masked text', () => {
  const s = new CidrSet<number>().add('10.1.2.3/16', 1).add('2001:db8::5/32', 2).add('10.1.0.0/16', 3);
  assert.equal(s.size, 2);
  assert.deepEqual(s.entries(), [
    ['10.1.0.0/16', 3],
    ['2001:db8::/32', 2],
  ]);
  assert.equal(s.lookup('10.1.200.200'), 3);
});

test('CidrSet default value is true and add() throws CidrError on bad text', () => {
  const s = new CidrSet();
  s.add('198.51.100.0/24');
  assert.equal(s.lookup('198.51.100.9'), true);
  assert.throws(() => s.add('198.51.100.0/40'), CidrError);
  assert.equal(s.size, 1);
});

test('CidrSet grows past its initial node pool and agrees with a linear scan', () => {
  const s = new CidrSet<number>();
  const prefixes: Array<[number, number]> = [];
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0);
  for (let i = 0; i < 2000; i++) {
    const bits = 8 + (rnd() % 25);
    const addr = rnd();
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    const net = (addr & mask) >>> 0;
    s.add(`${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${bits}`, i);
    prefixes.push([net, bits]);
  }
  for (let q = 0; q < 5000; q++) {
    // Half the queries inside a known prefix, half random.
    let a = rnd();
    if (q % 2 === 0) {
      const [net, bits] = prefixes[rnd() % prefixes.length];
      a = (net | (a & (bits === 32 ? 0 : 0xffffffff >>> bits))) >>> 0;
    }
    let bestBits = -1;
    let best: number | undefined;
    for (let i = 0; i < prefixes.length; i++) {
      const [net, bits] = prefixes[i];
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      // Later duplicates replace earlier values, so >= keeps the last one.
      if ((a & mask) >>> 0 === net && bits >= bestBits) {
        bestBits = bits;
        best = i;
      }
    }
    const text = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
    assert.equal(s.lookup(text), best, text);
  }
});
