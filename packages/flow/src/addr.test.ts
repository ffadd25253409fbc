import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { addrFamily, isIPv4, isIPv6, normalizeAddr, normalizeAddrIn } from './addr.js';

test('IPv4: valid dotted quads are returned unchanged, boundaries 0 and 255 included', () => {
  assert.deepEqual(normalizeAddr('10.60.0.14'), { addr: '10.60.0.14', family: 4 });
  assert.deepEqual(normalizeAddr('0.0.0.0'), { addr: '0.0.0.0', family: 4 });
  assert.deepEqual(normalizeAddr('255.255.255.255'), { addr: '255.255.255.255', family: 4 });
});

test('IPv4: refuses 256, leading zeros, missing or extra octets, signs and blanks', () => {
  for (const bad of [
    '256.1.1.1',
    '1.2.3.256',
    '010.0.0.1',
    '1.2.3',
    '1.2.3.4.5',
    '1..2.3',
    '1.2.3.',
    '.1.2.3',
    '+1.2.3.4',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3.4a',
    '',
    'a.b.c.d',
    '1234.1.1.1',
  ]) {
    assert.equal(normalizeAddr(bad), undefined, bad);
    assert.equal(isIPv4(bad), false, bad);
  }
});

test('IPv6: RFC 5952 canonical form (lowercase, no leading zeros, longest zero run compressed)', () => {
  const cases: Array<[string, string]> = [
    ['fe80:0000:0000:0000:0084:88ff:feae:790a', 'fe80::84:88ff:feae:790a'],
    ['ff02:0000:0000:0000:0000:0000:0000:0016', 'ff02::16'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // tie: the first run is compressed
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is never '::'
    ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
    ['2001:db8:0:0:0:1:0:0', '2001:db8::1:0:0'], // longest run wins over the later shorter one
    ['0:0:0:0:0:0:0:0', '::'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fd00:60::10', 'fd00:60::10'],
    ['2603:10b0:105:1065:0:3de0:f090:e3e0', '2603:10b0:105:1065:0:3de0:f090:e3e0'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::1.2.3.4', '::102:304'], // IPv4-compatible (deprecated): hexadecimal
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ];
  for (const [input, want] of cases) {
    assert.deepEqual(normalizeAddr(input), { addr: want, family: 6 }, input);
    assert.equal(isIPv6(input), true, input);
  }
});

test('IPv4-mapped IPv6, dotted or hex, becomes IPv4', () => {
  assert.deepEqual(normalizeAddr('::ffff:192.0.2.1'), { addr: '192.0.2.1', family: 4 });
  assert.deepEqual(normalizeAddr('::FFFF:c000:0201'), { addr: '192.0.2.1', family: 4 });
  assert.deepEqual(normalizeAddr('0:0:0:0:0:ffff:a3c:e'), { addr: '10.60.0.14', family: 4 });
  // ::ffff:0:a.b.c.d (IPv4-translated, RFC 2765) is not mapped: stays IPv6.
  assert.deepEqual(normalizeAddr('::ffff:0:192.0.2.1'), { addr: '::ffff:0:c000:201', family: 6 });
});

test('IPv6: refuses malformed text', () => {
  for (const bad of [
    ':',
    ':::',
    '1:::2',
    '1::2::3',
    ':1::2',
    '1::2:',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '12345::1',
    'g::1',
    '1:2:3:4:5:6:7:8::',
    '::ffff:1.2.3',
    '::ffff:1.2.3.4.5',
    '::ffff:256.1.1.1',
    '1.2.3.4::',
    'fe80::1%eth0',
    '1:2:3:4:5:6:7:1.2.3.4',
    ' ::1',
  ]) {
    assert.equal(normalizeAddr(bad), undefined, bad);
  }
});

test('IPv6: agrees with the WHATWG URL serializer on 5,000 random addresses with zero runs', () => {
  // The URL standard's IPv6 serializer compresses the first longest run of two or more zero
  // pieces and prints lowercase hex without leading zeros: the same rules as RFC 5952.
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let k = 0; k < 5000; k++) {
    const g: string[] = [];
    for (let j = 0; j < 8; j++) {
      const v = rnd(3) === 0 ? 0 : rnd(65536);
      g.push(v.toString(16).padStart(rnd(2) ? 4 : 1, '0'));
    }
    const text = g.join(':');
    const viaUrl = new URL(`http://[${text}]/`).hostname.slice(1, -1);
    const got = normalizeAddr(text);
    if (viaUrl.startsWith('::ffff:') && /^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(viaUrl)) {
      assert.equal(got?.family, 4, text);
    } else {
      assert.deepEqual(got, { addr: viaUrl, family: 6 }, text);
    }
  }
});

const IN_LINE = [
  '10.60.0.14',
  '0.0.0.0',
  '255.255.255.255',
  '203.0.113.10',
  '198.51.100.200',
  '256.1.1.1',
  '1.2.3.04',
  '010.0.0.1',
  '1.2.3',
  '1.2.3.4.5',
  '1.2.3.4 ',
  '1..2.3',
  '1.2.3.1000',
  '',
  '::ffff:198.51.100.7',
  '::FFFF:C633:6407',
  '2001:DB8:0:0:1:0:0:1',
  'fe80::1',
  '::',
  '1:2:3:4:5:6:7:8:9',
  'fe80::1%eth0',
  'a'.repeat(46),
];

test('normalizeAddrIn: a range of a longer text gives what normalizeAddr gives for the range alone; addrFamily its family', () => {
  for (const a of IN_LINE) {
    const line = `IN=eth0 OUT= SRC=${a} DST=x`;
    const start = line.indexOf('SRC=') + 4;
    const got = normalizeAddrIn(line, start, start + a.length);
    const want = normalizeAddr(a);
    assert.equal(got, want?.addr, JSON.stringify(a));
    if (got !== undefined) assert.equal(addrFamily(got), want?.family, a);
  }
});

test('normalizeAddrIn: addresses sharing a slot of its cache, and every address of a /16 twice, each come back as their own text', () => {
  // 2^16 addresses overflow the 1024 slots many times over (every slot evicted and reused).
  for (let round = 0; round < 2; round++) {
    for (let v = 0; v < 65536; v += 7) {
      const a = `198.51.${v >> 8}.${v & 255}`;
      const line = `SRC=${a} `;
      assert.equal(normalizeAddrIn(line, 4, 4 + a.length), a);
    }
  }
  // Two values that map to one slot (found by the cache's own hash), alternated.
  const slot = (v: number) => Math.imul(v | 0, 0x9e3779b1) >>> 22;
  const first = 0xc0000201; // 192.0.2.1
  let other = first + 1;
  while (slot(other) !== slot(first)) other++;
  const text = (v: number) => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  for (let k = 0; k < 4; k++) {
    for (const v of [first, other]) {
      const t = text(v);
      assert.equal(normalizeAddrIn(`DST=${t}`, 4, 4 + t.length), t);
    }
  }
});
