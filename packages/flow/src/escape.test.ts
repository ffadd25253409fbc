import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { escapeText } from './escape.js';

test('escapeText: terminal controls, bidi overrides, separators, lone surrogates and the backslash become visible escapes', () => {
  assert.equal(escapeText('plain text, ü, 日本, 🙂'), 'plain text, ü, 日本, 🙂');
  assert.equal(escapeText('\x1b[31mred\x1b[0m'), '\\x1b[31mred\\x1b[0m');
  assert.equal(escapeText('a\nb\rc\td\0e\x7f'), 'a\\nb\\rc\\td\\x00e\\x7f');
  assert.equal(escapeText('\u009b31m'), '\\u{9b}31m');
  assert.equal(escapeText('abc\u202Eevil\u2066x\u2069'), 'abc\\u{202e}evil\\u{2066}x\\u{2069}');
  assert.equal(escapeText('\u2028\ufeff\u200f\u061c'), '\\u{2028}\\u{feff}\\u{200f}\\u{61c}');
  assert.equal(escapeText('x\ud800y\udc00'), 'x\\u{d800}y\\u{dc00}');
  assert.equal(escapeText('C:\\path'), 'C:\\\\path');
  // the output never holds a control character, whatever the input
  let all = '';
  for (let c = 0; c < 0x3000; c++) all += String.fromCharCode(c);
  assert.doesNotMatch(escapeText(all), /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
});
