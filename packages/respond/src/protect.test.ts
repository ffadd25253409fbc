import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseCidr } from '@floe/policy';
import { RespondError } from './errors.js';
import { createProtectedSet, MAX_SPLIT_PIECES, SPECIAL_RANGES } from './protect.js';
import { normalizeTarget } from './target.js';

const FC = { seed: 6, numRuns: 500 } as const;

const check = (s: ReturnType<typeof createProtectedSet>, t: string) => s.check(normalizeTarget(t));

test('width limit: /16 accepted, /15 refused (IPv4); /32 accepted, /31 refused (IPv6); configurable', () => {
  const s = createProtectedSet();
  assert.equal(check(s, '198.18.0.0/16'), undefined);
  assert.equal(check(s, '198.18.0.0/15')?.reason, 'too-wide');
  assert.equal(check(s, '2001:db8::/32'), undefined);
  assert.equal(check(s, '2001:db8::/31')?.reason, 'too-wide');
  for (const t of ['1.0.0.0/8', '2000::/3', '0.0.0.0/0', '::/0']) assert.equal(check(s, t)?.reason, 'too-wide', t);
  assert.match(check(s, '1.0.0.0/8')!.detail, /\/16 for IPv4; respond\.minPrefixLength/);
  const narrow = createProtectedSet({ minPrefixLength: { ipv4: 24, ipv6: 64 } });
  assert.equal(check(narrow, '198.51.100.0/24'), undefined);
  assert.equal(check(narrow, '198.51.100.0/23')?.reason, 'too-wide');
  assert.equal(check(narrow, '2001:db8:0:1::/64'), undefined);
  assert.equal(check(narrow, '2001:db8::/63')?.reason, 'too-wide');
  for (const bad of [{ ipv4: 33 }, { ipv4: -1 }, { ipv6: 129 }, { ipv6: 1.5 }, { ipv4: '16' as unknown as number }]) {
    assert.throws(
      () => createProtectedSet({ minPrefixLength: bad }),
      (e: unknown) => e instanceof RespondError && e.code === 'FLOE_RESPOND_BAD_OPTIONS' && e.field.startsWith('minPrefixLength.'),
      JSON.stringify(bad),
    );
  }
});

test('every special range is protected at its first and last address, and the neighbours just outside are not', () => {
  const s = createProtectedSet({ minPrefixLength: { ipv4: 0, ipv6: 0 } });
  for (const [cidr, label] of SPECIAL_RANGES) {
    const p = parseCidr(cidr);
    const w = p.family === 4 ? 32 : 128;
    let net = 0n;
    for (const x of p.words) net = (net << 32n) | BigInt(x);
    const size = 1n << BigInt(w - p.bits);
    const text = (v: bigint) => {
      if (p.family === 4) return [24n, 16n, 8n, 0n].map((k) => String((v >> k) & 255n)).join('.');
      const g: string[] = [];
      for (let k = 7n; k >= 0n; k--) g.push(((v >> (k * 16n)) & 0xffffn).toString(16));
      return g.join(':');
    };
    for (const v of [net, net + size - 1n]) {
      const h = s.check(normalizeTarget(text(v)));
      assert.equal(h?.reason, 'special', `${text(v)} in ${cidr}`);
      if (h?.reason === 'special') assert.equal(h.entry.label, label);
    }
    for (const v of [net - 1n, net + size]) {
      if (v < 0n || v >= 1n << BigInt(w)) continue;
      const h = s.check(normalizeTarget(text(v)));
      assert.ok(h === undefined || h.reason === 'too-wide' || h.entry.prefix !== p.prefix, `${text(v)} just outside ${cidr}: ${h?.detail}`);
    }
  }
  // the examples
  for (const t of ['255.255.255.255', '224.0.0.1', '239.255.255.250', 'ff02::1', '::0.0.0.1', '::', '0.0.0.0', '127.0.0.53', '169.254.169.254', 'fe80::1']) {
    assert.equal(check(s, t)?.reason, 'special', t);
  }
  assert.equal(check(s, '::ffff:127.0.0.1')?.reason, 'special', 'IPv4-mapped loopback');
  assert.equal(check(s, '::1.2.3.4'), undefined, 'IPv4-compatible ::102:304 is an ordinary IPv6 address');
});

test('policy lists and host addresses: kind and field in the cause; a prefix containing one is refused', () => {
  const s = createProtectedSet({
    neverBlock: ['10.96.0.10'],
    nodes: ['192.168.122.0/24', '2001:db8:1::/64'],
    controlPlane: ['192.168.121.10'],
    hostAddrs: ['198.51.100.7', 'fd00::7'],
  });
  const hit = (t: string) => check(s, t);
  assert.equal(hit('10.96.0.10')?.reason, 'never-block');
  assert.equal(hit('192.168.122.55')?.reason, 'node');
  assert.equal(hit('2001:db8:1::9')?.reason, 'node');
  assert.equal(hit('192.168.121.10')?.reason, 'control-plane');
  assert.equal(hit('198.51.100.7')?.reason, 'host');
  assert.equal(hit('fd00::7')?.reason, 'host');
  assert.match(hit('192.168.120.0/22')!.detail, /192\.168\.122\.0\/24 \(networks\.nodes\[0\]\)|192\.168\.121\.10\/32 \(networks\.controlPlane\[0\]\)/);
  assert.match(hit('10.96.0.0/16')!.detail, /10\.96\.0\.10\/32 \(respond\.neverBlock\[0\]\)/);
  assert.equal(hit('192.168.123.1'), undefined);
  assert.equal(hit('198.51.100.8'), undefined);
  assert.equal(hit('192.168.121.11'), undefined);
  assert.throws(
    () => createProtectedSet({ nodes: ['10.0.0.0/8', 'nope'] }),
    (e: unknown) => e instanceof RespondError && e.code === 'FLOE_RESPOND_BAD_OPTIONS' && e.field === 'nodes[1]',
  );
});

test('admit: ok unchanged; split around a protected address; held inside a protected prefix, too wide, or bad text', () => {
  const s = createProtectedSet({ neverBlock: ['203.0.113.5', '2001:db8::/126'], nodes: ['198.51.100.0/25'] });
  assert.deepEqual(s.admit('192.0.2.0/24'), { target: '192.0.2.0/24', outcome: 'ok', pieces: ['192.0.2.0/24'] });
  const a = s.admit('203.0.113.0/24');
  assert.equal(a.outcome, 'split');
  assert.equal(a.reason, 'never-block');
  assert.deepEqual(a.pieces, ['203.0.113.0/30', '203.0.113.4/32', '203.0.113.6/31', '203.0.113.8/29', '203.0.113.16/28', '203.0.113.32/27', '203.0.113.64/26', '203.0.113.128/25']);
  assert.deepEqual(s.admit('198.51.100.0/24').pieces, ['198.51.100.128/25']);
  assert.deepEqual(s.admit('198.51.100.0/26'), {
    target: '198.51.100.0/26',
    outcome: 'held',
    pieces: [],
    reason: 'node',
    detail: '198.51.100.0/26 overlaps 198.51.100.0/25 (networks.nodes[0])',
  });
  assert.deepEqual(s.admit('2001:db8::/125').pieces, ['2001:db8::4/126']);
  assert.equal(s.admit('203.0.113.5').outcome, 'held');
  assert.equal(s.admit('1.0.0.0/8').reason, 'too-wide');
  assert.equal(s.admit('1.0.0.0/8').outcome, 'held');
  assert.equal(s.admit('10.1.2.3/8').reason, 'bad-target');
  assert.equal(s.admit('::0.0.0.1').reason, 'special');
  // one protected /128 inside a /32 splits into 96 pieces; a thousand scattered hosts exceed the cap
  assert.equal(createProtectedSet({ neverBlock: ['2001:db8::1'] }).admit('2001:db8::/32').pieces.length, 96);
  const many = Array.from({ length: 300 }, (_, i) => `10.9.${i >> 2}.${(i & 3) * 64 + 1}`);
  const capped = createProtectedSet({ neverBlock: many }).admit('10.9.0.0/16');
  assert.equal(capped.outcome, 'held');
  assert.equal(capped.reason, 'too-many-pieces');
  assert.match(capped.detail!, new RegExp(`more than ${MAX_SPLIT_PIECES} pieces`));
});

/** An IPv4 prefix inside 10.0.0.0/8 as [network, bits]. */
const v4prefix = (minBits: number) =>
  fc.tuple(fc.integer({ min: 0, max: 0xffffff }), fc.integer({ min: minBits, max: 32 })).map(([host, bits]) => {
    const v = (0x0a000000 | host) >>> 0;
    const net = bits === 0 ? 0 : (v & (0xffffffff << (32 - bits))) >>> 0;
    return `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${bits}`;
  });

function range(cidr: string): [bigint, bigint] {
  const p = parseCidr(cidr);
  let v = 0n;
  for (const x of p.words) v = (v << 32n) | BigInt(x);
  const w = p.family === 4 ? 32 : 128;
  return [v, v + (1n << BigInt(w - p.bits)) - 1n];
}

test('property: split pieces lie in the target, are disjoint, never touch a protected entry, and cover target − protected', () => {
  const outcomes = { ok: 0, split: 0, held: 0 };
  fc.assert(
    fc.property(
      v4prefix(16),
      // protected entries near the target: at a random offset in it, from 1 bit wider to 16 bits narrower
      fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: -1, max: 16 })), { maxLength: 6 }),
      fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 20, maxLength: 20 }),
      (target, near, probes) => {
        const [tlo, thi] = range(target);
        const tbits = Number(target.split('/')[1]);
        const prot = near.map(([off, extra]) => {
          const bits = Math.max(16, Math.min(32, tbits + extra));
          const v = Number(tlo + (BigInt(off) % (thi - tlo + 1n)));
          const net = (v & (0xffffffff << (32 - bits))) >>> 0;
          return `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${bits}`;
        });
        const s = createProtectedSet({ neverBlock: prot });
        const a = s.admit(target);
        const [lo, hi] = range(target);
        const holes = prot.map(range);
        const pieces = a.pieces.map(range).sort((x, y) => (x[0] < y[0] ? -1 : 1));
        for (let i = 0; i < pieces.length; i++) {
          const [pl, ph] = pieces[i];
          assert.ok(pl >= lo && ph <= hi, 'inside the target');
          if (i > 0) assert.ok(pieces[i - 1][1] < pl, 'disjoint');
          for (const [hl, hh] of holes) assert.ok(ph < hl || pl > hh, `${a.pieces[i]} touches a protected entry`);
        }
        // every address of the target is in a piece exactly when no protected entry holds it
        const size = hi - lo + 1n;
        const covered = pieces.reduce((n, [pl, ph]) => n + (ph - pl + 1n), 0n);
        let unprotected = 0n;
        // count exactly by sweeping the sorted hole boundaries inside the target
        const cut = holes
          .map(([hl, hh]) => [hl < lo ? lo : hl, hh > hi ? hi : hh] as const)
          .filter(([x, y]) => x <= y)
          .sort((x, y) => (x[0] < y[0] ? -1 : 1));
        let at = lo;
        for (const [x, y] of cut) {
          if (x > at) unprotected += x - at;
          if (y + 1n > at) at = y + 1n;
        }
        if (hi + 1n > at) unprotected += hi + 1n - at;
        assert.equal(covered, unprotected, `${target} minus ${prot.join(' ')} → ${a.pieces.join(' ')}`);
        assert.equal(a.outcome, cut.length === 0 ? 'ok' : covered === 0n ? 'held' : 'split');
        for (const off of probes) {
          const addr = lo + (BigInt(off) % size);
          const inPiece = pieces.some(([pl, ph]) => addr >= pl && addr <= ph);
          const inHole = holes.some(([hl, hh]) => addr >= hl && addr <= hh);
          assert.equal(inPiece, !inHole);
        }
        outcomes[a.outcome]++;
      },
    ),
    FC,
  );
  // the generator reaches every outcome (a property that never splits would prove nothing)
  for (const [k, n] of Object.entries(outcomes)) assert.ok(n >= 25, `${k}: ${n} of ${FC.numRuns}`);
});

test('property: admit never throws and check agrees with admit on what is blocked whole', () => {
  const s = createProtectedSet({ neverBlock: ['10.1.0.0/24', '2001:db8::5'], nodes: ['10.2.3.4'] });
  fc.assert(
    fc.property(fc.oneof(v4prefix(8), fc.ipV6(), fc.string({ maxLength: 50 })), (t) => {
      const a = s.admit(t);
      let parsed;
      try {
        parsed = normalizeTarget(t);
      } catch {
        assert.equal(a.reason, 'bad-target');
        return;
      }
      assert.equal(a.outcome === 'ok', s.check(parsed) === undefined, t);
    }),
    FC,
  );
});
