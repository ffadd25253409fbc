import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { normalizeAddr, normalizeAddrCodes } from '../addr.js';
import { controlIn } from './clean.js';
import { CODES_PAD, controlInCodes, loadCodes, ownSlice, PAST_END, portAt, sameText, u32At, uintAt } from './codes.js';
import { parsePort, parseU32, parseUint } from './num.js';

test('loadCodes: every code unit (lone surrogates, U+FFFF-adjacent, non-Latin-1) then CODES_PAD units of PAST_END', () => {
  const line = 'a\ud800b\udc00\u0120\u0141\ufffe🙂 z';
  const c = loadCodes(line);
  for (let i = 0; i < line.length; i++) assert.equal(c[i], line.charCodeAt(i), `unit ${i}`);
  for (let i = line.length; i < line.length + CODES_PAD; i++) assert.equal(c[i], PAST_END);
  // A shorter line after a longer one: its own units, then the pad (nothing of the longer line).
  loadCodes('x'.repeat(100));
  const d = loadCodes('IN=');
  assert.deepEqual([...d.subarray(0, 3 + CODES_PAD)], [73, 78, 61, ...Array<number>(CODES_PAD).fill(PAST_END)]);
});

test('loadCodes: a line longer than the kept array (the array grows), and one longer than any array kept (its own)', () => {
  for (const n of [1023, 1024, 5000, 70_000, 10]) {
    const line = `${'ab'.repeat(n >> 1)}${n & 1 ? 'c' : ''}`;
    const c = loadCodes(line);
    assert.ok(c.length >= n + CODES_PAD);
    assert.equal(c[0], 97);
    assert.equal(c[n - 1], line.charCodeAt(n - 1));
    assert.equal(c[n], PAST_END);
    assert.equal(c[n + CODES_PAD - 1], PAST_END);
  }
});

const PROBES = [...Array.from({ length: 0xa2 }, (_, c) => c), 0xff, 0x100, 0x11b, 0x120, 0x141, 0x7f7f, 0x8000, 0x807f, 0xfeff, 0xd800, 0xffff];

test('controlInCodes: a probe at every position of lines of 1 to 9 characters agrees with clean.ts controlIn', () => {
  for (let len = 1; len <= 9; len++) {
    for (let at = 0; at < len; at++) {
      for (const p of PROBES) {
        const s = `${'a'.repeat(at)}${String.fromCharCode(p)}${'~'.repeat(len - at - 1)}`;
        const c = loadCodes(s);
        assert.equal(controlInCodes(c, 0, len), controlIn(s, 0, len), `U+${p.toString(16)} at ${at} of ${len}`);
      }
    }
  }
});

test('controlInCodes: two probes, the first control wins; an odd start or a range inside the line', () => {
  for (const a of [0x09, 0x41, 0x7e, 0xa0, 0x100, 0x8000, 0x1b, 0x85]) {
    for (const b of [0x00, 0x1f, 0x7f, 0x9f, 0x09, 0x20]) {
      for (let gap = 0; gap < 5; gap++) {
        const s = `q${String.fromCharCode(a)}${'.'.repeat(gap)}${String.fromCharCode(b)}!`;
        const c = loadCodes(s);
        assert.equal(controlInCodes(c, 0, s.length), controlIn(s, 0, s.length), JSON.stringify(s));
        assert.equal(controlInCodes(c, 1, s.length - 1), controlIn(s, 1, s.length - 1), JSON.stringify(s));
      }
    }
  }
  const long = `${'a'.repeat(80_000)}\x00`;
  assert.equal(controlInCodes(loadCodes(long), 0, long.length), 0);
});

test('uintAt, portAt, u32At agree with num.ts on their edge cases', () => {
  const cases = [
    '',
    '0',
    '7',
    '007',
    '65535',
    '65536',
    '000001',
    '4294967295',
    '4294967296',
    '0x0',
    '0x',
    '0xffffffff',
    '0XFFFFFFFF',
    '0x100000000',
    '0xg',
    '9007199254740991',
    '9007199254740992',
    '12345678901234567',
    '1a',
    '-1',
    '١٢',
  ];
  for (const t of cases) {
    const line = ` ${t} `;
    const c = loadCodes(line);
    assert.equal(uintAt(c, 1, 1 + t.length), parseUint(line, 1, 1 + t.length), `uint ${t}`);
    assert.equal(portAt(c, 1, 1 + t.length), parsePort(line, 1, 1 + t.length), `port ${t}`);
    assert.equal(u32At(c, 1, 1 + t.length), parseU32(line, 1, 1 + t.length), `u32 ${t}`);
  }
});

test('normalizeAddrCodes: what normalizeAddr gives for the range alone', () => {
  for (const a of [
    '1.2.3.4',
    '255.255.255.255',
    '256.0.0.1',
    '01.2.3.4',
    '1.2.3.4.',
    '1.2.3',
    '1.2.3.4.5',
    '1.22.333.4',
    '::ffff:1.2.3.4',
    '2001:DB8::1',
    'fe80::1%eth0',
    '1:2',
    '',
    '1.2.3.٤',
  ]) {
    const line = `SRC=${a} DST=`;
    const c = loadCodes(line);
    assert.equal(normalizeAddrCodes(line, c, 4, 4 + a.length), normalizeAddr(a)?.addr, JSON.stringify(a));
  }
});

test('ownSlice: equal to the slice for every length (copies past 12 units, a buffer copy past 1024); sameText compares units', () => {
  const line = `${'x'.repeat(5)}${'é🙂ab'.repeat(700)}`;
  const c = loadCodes(line);
  for (const [a, b] of [
    [0, 0],
    [0, 12],
    [0, 13],
    [3, 18],
    [5, 1029],
    [5, 1030],
    [1, line.length],
  ]) {
    const t = ownSlice(line, c, a, b);
    assert.equal(t, line.slice(a, b), `${a}..${b}`);
    assert.ok(sameText(c, a, b, t));
    if (b > a) assert.ok(!sameText(c, a, b, `${t.slice(0, -1)}?`));
    assert.ok(!sameText(c, a, b, `${t}x`));
  }
});
