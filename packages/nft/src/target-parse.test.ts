import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NftError, parsePrefix } from './index.js';

test('issue 6: only ::ffff:a.b.c.d is IPv4 in the kernel path; ::0.0.0.1 and ::1.2.3.4 stay IPv6', () => {
  assert.equal(parsePrefix('::0.0.0.1').cidr, '::1/128');
  assert.equal(parsePrefix('::1.2.3.4').cidr, '::102:304/128');
  assert.equal(parsePrefix('::1.2.3.4').family, 6);
  assert.equal(parsePrefix('::ffff:1.2.3.4').cidr, '1.2.3.4/32');
  assert.equal(parsePrefix('::ffff:1.2.3.0/120').cidr, '1.2.3.0/24');
  assert.equal(parsePrefix('10.1.2.3/16').cidr, '10.1.0.0/16', 'host bits are cleared (kernel read-back of ranges)');
  for (const t of ['01.2.3.4', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.4/ 8', '1.2.3.4/08', 'fe80::1%eth0', '::ffff:1.2.3.4/95', '1.2.3.4/33', '::/129', '']) {
    assert.throws(
      () => parsePrefix(t),
      (e: unknown) => e instanceof NftError && e.code === 'FLOE_NFT_BAD_TARGET',
      JSON.stringify(t),
    );
  }
});

test('property: parsePrefix reads every IPv6 text as the WHATWG URL parser does (dotted tails included)', () => {
  fc.assert(
    fc.property(fc.ipV6(), (addr) => {
      const host = new URL(`http://[${addr}]/`).hostname.slice(1, -1);
      const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
      const want = m ? `${parseInt(m[1], 16) >> 8}.${parseInt(m[1], 16) & 255}.${parseInt(m[2], 16) >> 8}.${parseInt(m[2], 16) & 255}/32` : `${host}/128`;
      assert.equal(parsePrefix(addr).cidr, want, addr);
    }),
    { seed: 6, numRuns: 2000 },
  );
});
