import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { checkLine, controlIn, findControl } from './clean.js';

/** The definition controlIn must agree with: the first C0 (not TAB), DEL or C1 character, or -1. */
function reference(s: string, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c !== 9) || (c >= 0x7f && c <= 0x9f)) return c;
  }
  return -1;
}

// Characters at and around every edge of the four-bytes-at-a-time check: each C0 and C1 control,
// TAB, space, DEL, the edges of Latin-1, and characters above U+00FF whose low byte is a control
// (U+0100, U+011B, U+017F, U+0189) or printable (U+0141): the low byte alone must never decide.
const PROBES = [...Array.from({ length: 0xa2 }, (_, c) => c), 0xfe, 0xff, 0x100, 0x109, 0x11b, 0x120, 0x141, 0x17f, 0x189, 0x2028, 0xfeff, 0xd800];

test('controlIn: a probe character at every position of lines of 1 to 11 characters agrees with the character loop', () => {
  for (let len = 1; len <= 11; len++) {
    for (let at = 0; at < len; at++) {
      for (const c of PROBES) {
        const s = `${'a'.repeat(at)}${String.fromCharCode(c)}${'b'.repeat(len - at - 1)}`;
        assert.equal(controlIn(s, 0, len), reference(s, 0, len), `U+${c.toString(16)} at ${at} of ${len}`);
      }
    }
  }
});

test('controlIn: two probes in one line, the first control wins; TAB and non-ASCII before a control do not hide it', () => {
  const first = [0x09, 0x20, 0x41, 0xa0, 0x141, 0x100, 0x1b, 0x7f, 0x85];
  for (const a of first) {
    for (const b of [0x00, 0x0a, 0x1f, 0x7f, 0x80, 0x9f, 0x09, 0x41]) {
      for (let gap = 0; gap < 6; gap++) {
        const s = `x${String.fromCharCode(a)}${'-'.repeat(gap)}${String.fromCharCode(b)}yz`;
        assert.equal(controlIn(s, 0, s.length), reference(s, 0, s.length), JSON.stringify(s));
      }
    }
  }
});

test('controlIn: only s[start, end) counts (a CR past end, NULs before start)', () => {
  assert.equal(controlIn('abc\r', 0, 3), -1);
  assert.equal(controlIn('abc\r', 0, 4), 13);
  assert.equal(controlIn('\0\0abc', 2, 5), -1);
  assert.equal(controlIn('\0\0a\x1bc', 2, 5), 0x1b);
  assert.equal(controlIn('', 0, 0), -1);
});

test('controlIn: a line longer than the word scan is still checked to its end', () => {
  const long = `${'a'.repeat(5000)}\x07`;
  assert.equal(controlIn(long, 0, long.length), 7);
  assert.equal(findControl(long.slice(0, 5000)), -1);
  // After a long line, a short clean one is clean (nothing left over from the earlier line).
  assert.equal(controlIn('IN=eth0 OUT=', 0, 12), -1);
});

test('checkLine: strips a trailing CR, leading NULs and one BOM; rejects the first control', () => {
  assert.deepEqual(checkLine('\0\0\ufeffSRC=1.2.3.4\r'), { ok: true, text: 'SRC=1.2.3.4' });
  assert.deepEqual(checkLine('SRC=1.2.3.4'), { ok: true, text: 'SRC=1.2.3.4' });
  assert.deepEqual(checkLine('a\tb'), { ok: true, text: 'a\tb' });
  assert.deepEqual(checkLine('a\u009bb\x1b'), { ok: false, code: 0x9b });
  assert.deepEqual(checkLine('ab\r\r'), { ok: false, code: 13 });
});
