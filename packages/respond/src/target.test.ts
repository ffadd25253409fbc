import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { normalizeAddr } from '@floe/flow';
import { RespondError } from './errors.js';
import { normalizeTarget } from './target.js';

/** Fixed seed and a bounded budget: the run is reproducible in .ci/run. */
const FC = { seed: 6, numRuns: 2000 } as const;

const badTarget = (e: unknown) => e instanceof RespondError && e.code === 'FLOE_RESPOND_BAD_TARGET' && e.field === 'target';

test('issue 6: ::0.0.0.1 is the IPv6 address ::1, not IPv4 0.0.0.1; only ::ffff:a.b.c.d is IPv4-mapped', () => {
  assert.equal(normalizeTarget('::0.0.0.1').prefix, '::1/128');
  assert.equal(normalizeTarget('0::0.0.0.1').prefix, '::1/128');
  assert.equal(normalizeTarget('::1.2.3.4').prefix, '::102:304/128', 'IPv4-compatible (RFC 4291 2.5.5.1) stays IPv6');
  assert.equal(normalizeTarget('::0:1.2.3.4').prefix, '::102:304/128');
  assert.equal(normalizeTarget('::ffff:0:1.2.3.4').prefix, '::ffff:0:102:304/128', 'SIIT form (RFC 2765) is not mapped');
  assert.equal(normalizeTarget('64:ff9b::1.2.3.4').prefix, '64:ff9b::102:304/128', 'NAT64 (RFC 6052) stays IPv6');
  assert.equal(normalizeTarget('::ffff:1.2.3.4').prefix, '1.2.3.4/32');
  assert.equal(normalizeTarget('::FFFF:1.2.3.4').prefix, '1.2.3.4/32');
  assert.equal(normalizeTarget('0:0:0:0:0:ffff:102:304').prefix, '1.2.3.4/32');
  assert.equal(normalizeTarget('::ffff:1.2.3.0/120').prefix, '1.2.3.0/24');
  assert.equal(normalizeTarget('::ffff:0.0.0.0/96').prefix, '0.0.0.0/0');
});

test('strict: zone ids, spaces, leading zeros, signs, octal/hex IPv4, short forms and bad prefix lengths are refused', () => {
  for (const t of [
    '',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3.4/32 ',
    '1.2.3.4/ 32',
    '01.2.3.4',
    '1.2.3.04',
    '0x1.2.3.4',
    '1.2.3',
    '1.2.3.4.5',
    '16909060',
    '1.2.3.4/08',
    '1.2.3.4/+8',
    '1.2.3.4/-1',
    '1.2.3.4/',
    '1.2.3.4/33',
    '1.2.3.4//32',
    '1.2.3.4/32/32',
    '256.1.1.1',
    'fe80::1%eth0',
    'fe80::1%25eth0',
    '::/129',
    '2001:db8::/032',
    '2001:db8:::1',
    '1::2::3',
    '12345::',
    ':1',
    '1:',
    'g::1',
    '::ffff:1.2.3.4/95',
    '::ffff:0.0.0.0/0',
    '::1.2.3',
    '::1.2.3.04',
    '[::1]',
    '1.2.3.4\n',
    '1.2.3.4\u0000',
    `${'1'.repeat(60)}`,
  ]) {
    assert.throws(() => normalizeTarget(t), badTarget, JSON.stringify(t));
  }
  assert.throws(() => normalizeTarget(5 as unknown as string), badTarget, 'a number');
});

test('host bits are refused with the prefix meant; the field is named', () => {
  assert.throws(() => normalizeTarget('10.1.2.3/8'), /did you mean 10\.0\.0\.0\/8/);
  assert.throws(
    () => normalizeTarget('2001:db8::1/64', 'neverBlock[1]'),
    (e: unknown) => e instanceof RespondError && e.code === 'FLOE_RESPOND_BAD_TARGET' && e.field === 'neverBlock[1]' && /2001:db8::\/64/.test(e.message),
  );
  assert.throws(() => normalizeTarget('::ffff:1.2.3.4/120'), /did you mean 1\.2\.3\.0\/24/);
});

/**
 * An independent reading of an address: the WHATWG URL host parser (Node's URL) prints IPv6 in
 * the RFC 5952 form with any dotted tail as hex; `::ffff:x:y` is then read as IPv4.
 */
function oracle(addr: string): string | undefined {
  if (!addr.includes(':')) return addr; // fast-check writes canonical dotted quads
  let host: string;
  try {
    host = new URL(`http://[${addr}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (!m) return host;
  const hi = parseInt(m[1], 16);
  const lo = parseInt(m[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

test('property: every IPv4 and IPv6 address fast-check writes parses to what the WHATWG URL parser reads (and what @floe/flow reads)', () => {
  fc.assert(
    fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (addr) => {
      const want = oracle(addr);
      let p;
      try {
        p = normalizeTarget(addr);
      } catch (e) {
        assert.equal(want, undefined, `${addr} refused: ${(e as Error).message}`);
        return;
      }
      assert.equal(p.network, want, addr);
      assert.equal(p.network, normalizeAddr(addr)?.addr, addr);
      assert.equal(p.bits, p.family === 4 ? 32 : 128);
    }),
    FC,
  );
});

test('property: a prefix round-trips (canonical text parses to itself) and anything else never throws a foreign error', () => {
  fc.assert(
    fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.nat({ max: 128 }), (addr, len) => {
      let p;
      try {
        p = normalizeTarget(`${addr}/${len}`);
      } catch (e) {
        assert.ok(badTarget(e), `${addr}/${len}: ${String(e)}`);
        return;
      }
      assert.deepEqual(normalizeTarget(p.prefix), p);
    }),
    FC,
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 60, unit: 'binary' }), (s) => {
      try {
        normalizeTarget(s);
      } catch (e) {
        assert.ok(badTarget(e), `${JSON.stringify(s)}: ${String(e)}`);
      }
    }),
    FC,
  );
});
