import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FlowRecord } from '../record.js';
import { LineReader, LineSplitter, MAX_LINE_BYTES_LIMIT, type InputLine } from './lines.js';
import { ParseStats } from './stats.js';
import { createParser, parseLines, parseStream } from './stream.js';
import { isParseError, type ParseError } from './types.js';

const td = (rel: string) => fileURLToPath(new URL(`../../testdata/${rel}`, import.meta.url));

async function readAll(chunks: Array<Buffer | string>, max?: number): Promise<InputLine[]> {
  const out: InputLine[] = [];
  for await (const l of new LineReader(Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))), { maxLineBytes: max })) out.push(l);
  return out;
}

test('line ends: LF, CRLF, lone CR, CRLF split across chunks, last line without an end', async () => {
  const lines = await readAll(['a\nb\r\nc\rd\r', '\ne', '\r', 'f']);
  assert.deepEqual(
    lines.map((l) => [l.no, l.text]),
    [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
      [5, 'e'],
      [6, 'f'],
    ],
  );
  assert.deepEqual(
    (await readAll(['\n\n'])).map((l) => l.text),
    ['', ''],
  );
  assert.deepEqual(await readAll([]), []);
});

test('a UTF-8 BOM is dropped at the start only; invalid UTF-8 becomes U+FFFD', async () => {
  const lines = await readAll([Buffer.from([0xef, 0xbb, 0xbf]), 'x\n', Buffer.from([0xef, 0xbb, 0xbf, 0x79, 0xff, 0x0a])]);
  assert.deepEqual(
    lines.map((l) => l.text),
    ['x', '\ufeffy\ufffd'],
  );
});

test('an over-long line is dropped while streaming: counted with its length and first bytes, the next line intact (boundary: max, max+1)', async () => {
  const max = 10;
  const lines = await readAll(['0123456789\n', '01234', '567890', 'abcdef'.repeat(100), '\nnext\n'], max);
  assert.deepEqual(
    lines.map((l) => [l.no, l.text.slice(0, 5), l.tooLong]),
    [
      [1, '01234', undefined],
      [2, '01234', 611],
      [3, 'next', undefined],
    ],
  );
  // one byte over the bound at the very end of input, without a line end
  const last = await readAll(['x'.repeat(11)], max);
  assert.deepEqual(
    last.map((l) => [l.no, l.tooLong]),
    [[1, 11]],
  );
});

test('the splitter never holds more than max + one chunk: 64 MiB fed in 64 KiB chunks', () => {
  const sp = new LineSplitter(1024);
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  let lines: InputLine[] = [];
  for (let i = 0; i < 1024; i++) lines = lines.concat(sp.push(chunk));
  lines = lines.concat(sp.push(Buffer.from('\nok\n')));
  assert.deepEqual(
    lines.map((l) => [l.no, l.tooLong, l.text.length]),
    [
      [1, 64 * 1024 * 1024, 256],
      [2, undefined, 2],
    ],
  );
});

test('parseLines: over-long lines are rejected as line-too-long with their line number, others parse (strings and bytes alike)', async () => {
  const good = 'tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=1 dport=22 src=10.0.0.2 dst=10.0.0.1 sport=22 dport=1 [ASSURED] mark=0 use=1';
  const input = [good, 'x'.repeat(5000), good];
  for (const source of ['strings', 'bytes'] as const) {
    const stats = new ParseStats();
    const out: FlowRecord[] = [];
    const lines =
      source === 'strings'
        ? parseLines(input, { format: 'auto', stats, maxLineBytes: 1000 })
        : parseStream(Readable.from([Buffer.from(input.join('\n'))]), { format: 'auto', stats, maxLineBytes: 1000 });
    for await (const r of lines) out.push(r);
    assert.equal(out.length, 2, source);
    assert.deepEqual(
      stats.errors.map((e) => [e.line, e.reason, e.bytes]),
      [[2, 'line-too-long', 5000]],
      source,
    );
  }
});

test('control bytes: leading NULs and a BOM are stripped, other C0/DEL/C1 reject the line as control-byte (issue 6)', () => {
  const p = createParser('kernel-log', { now: () => 0 });
  const body = 'IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=40 PROTO=TCP SPT=1 DPT=2';
  for (const ok of [`\0\0\0${body}`, `\ufeff${body}`, `${body}\r`, `DROP\t${body}`]) assert.ok(!isParseError(p.parseLine(ok, 1)), JSON.stringify(ok));
  for (const [bad, field] of [
    [`\x1b[31mDROP ${body}`, 'U+001B'],
    [`A\0B ${body}`, 'U+0000'],
    [`X\x7f ${body}`, 'U+007F'],
    [`X\u009b ${body}`, 'U+009B'],
  ]) {
    const r = p.parseLine(bad, 7) as ParseError;
    assert.deepEqual([r.line, r.reason, r.field], [7, 'control-byte', field]);
  }
});

test('conntrack-xml: a whole dump on one line gives every flow (was: all but one lost past 64 KiB)', async () => {
  const lines = readFileSync(td('conntrack/travis-nat-conntrack-E-o-xml-events.xml'), 'utf8').split('\n');
  const flows = lines.filter((l) => l.startsWith('<flow'));
  assert.ok(flows.length > 1000);
  const oneLine = `${lines[0]}${lines[1]}${flows.join('')}</conntrack>`;
  assert.ok(oneLine.length > 300 * 1024);
  // bytes through the LineReader (cut after </flow> past the bound), and the string as one line
  for (const how of ['reader', 'string'] as const) {
    const stats = new ParseStats();
    const out: FlowRecord[] = [];
    const src =
      how === 'reader'
        ? parseStream(Readable.from([Buffer.from(`${oneLine}\n`)]), { format: 'auto', stats, maxLineBytes: 64 * 1024 })
        : parseLines([oneLine], { format: 'conntrack-xml', stats, maxLineBytes: 1 << 20 });
    for await (const r of src) out.push(r);
    assert.equal(out.length, flows.length, how);
    assert.equal(stats.rejected, 0, how);
  }
});

test('conntrack-xml: several flows per line through createParser directly: first returned, the rest from drain()', () => {
  const flows = readFileSync(td('conntrack/tsuru-conntrack-L-o-xml.xml'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('<flow'));
  const p = createParser('conntrack-xml', { now: () => 0 });
  const first = p.parseLine(flows.slice(0, 5).join(''), 1);
  assert.ok(first !== null && !isParseError(first));
  assert.equal(p.drain?.().length, 4);
  // a flow split over lines, then an unterminated one at the end
  assert.equal(p.parseLine(flows[0].slice(0, 100), 2), null);
  assert.ok(!isParseError(p.parseLine(flows[0].slice(100), 3)));
  assert.equal(p.parseLine(flows[1].slice(0, 50), 4), null);
  const end = p.end?.() ?? [];
  assert.deepEqual(
    end.map((r) => (isParseError(r) ? [r.line, r.reason] : 'record')),
    [[4, 'unterminated-flow']],
  );
});

test('a bound past the longest string V8 can make is lowered to MAX_LINE_BYTES_LIMIT (a longer line is then rejected, not a crash)', async () => {
  // Before the limit, --max-line-bytes 1073741824 let a 600 MB line reach Buffer.toString and end
  // the process with "Cannot create a string longer than 0x1fffffe8 characters".
  assert.equal(MAX_LINE_BYTES_LIMIT, 256 * 1024 * 1024);
  for (const asked of [2 ** 30, 2 ** 31, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY]) {
    assert.equal(new LineReader(Readable.from([]), { maxLineBytes: asked }).maxLineBytes, MAX_LINE_BYTES_LIMIT, String(asked));
    assert.equal(new LineSplitter(asked).maxLineBytes, MAX_LINE_BYTES_LIMIT, String(asked));
  }
  assert.equal(new LineReader(Readable.from([]), { maxLineBytes: Number.NaN }).maxLineBytes, 1024 * 1024);
  assert.equal(new LineSplitter(0).maxLineBytes, 1);
  // Bounds below the limit are kept as given, and a line over one is still counted, not held.
  const lines = await readAll(['a'.repeat(5000), '\nok\n'], 4096);
  assert.equal(lines[0].tooLong, 5000);
  assert.equal(lines[1].text, 'ok');
});
