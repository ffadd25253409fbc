/**
 * Property-based fuzzing of every parser, the line reader, format detection and escapeText
 * (fast-check). Shared by the bounded run in fuzz.test.ts (fixed seed, in every test run) and the
 * long run of `npm run fuzz` (scripts/fuzz.mjs: random seeds, a time budget).
 *
 * Inputs: real corpus lines (testdata/, per format) and mutations of them (hostile bytes
 * inserted, fields cut, duplicated, blown up to 100 KB, numbers out of range, lines joined and
 * split), lines of other formats, and random text (full Unicode, lone surrogates, C0/C1). Byte
 * inputs for the line reader are random bytes cut into random chunks.
 *
 * Invariants checked on every input:
 * - no parser throws (the raw format parsers are called directly, so the guard in createParser
 *   cannot hide a throw), and no line becomes a `parser-error`;
 * - every line is accounted for: a record, a skip, or a rejection with a kebab-case reason and a
 *   line number of the input (conntrack-xml: every flow is a record or a rejection);
 * - every record is well formed: schema 1, family 4|6 matching its addresses (normalised),
 *   protocol 0..255, ports 0..65535, finite times, interface names that isIfaceName accepts;
 * - the line reader gives the same lines whatever the chunking, never a line over its bound;
 * - detection and foreign-format identification never throw;
 * - escapeText leaves no control, bidi or separator character.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { normalizeAddr } from '../addr.js';
import { escapeText } from '../escape.js';
import type { FlowRecord } from '../record.js';
import { createConntrackXmlParser } from '../parse/conntrack-xml.js';
import { createConntrackParser } from '../parse/conntrack.js';
import { detectFormat } from '../parse/detect.js';
import { identifyBytes, identifyLines } from '../parse/foreign.js';
import { createKernelLogParser, isIfaceName } from '../parse/kernel-log.js';
import { LineSplitter, type InputLine } from '../parse/lines.js';
import { createParser } from '../parse/stream.js';
import { isParseError, type FormatName, type LineParser, type ParseError } from '../parse/types.js';
import { createUlogdJsonParser } from '../parse/ulogd-json.js';

const td = (rel: string): string => readFileSync(new URL(`../../testdata/${rel}`, import.meta.url), 'utf8');
const linesOf = (...files: string[]): string[] => files.flatMap((f) => td(f).split('\n')).filter((l) => l.trim() !== '');

/** Real lines per format (testdata/, sources in testdata/SOURCES.md). */
export const CORPUS: Record<FormatName, string[]> = {
  conntrack: linesOf(
    'conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log',
    'conntrack/threads-conntrack-L-plain.txt',
    'conntrack/threads-conntrack-E-events.txt',
    'conntrack/scope-conntrack-L-o-id-dump.txt',
    'conntrack/threads-proc-nf_conntrack-zone.txt',
  ).slice(0, 400),
  'conntrack-xml': linesOf('conntrack/tsuru-conntrack-L-o-xml.xml', 'conntrack/travis-nat-conntrack-E-o-xml-events.xml').slice(0, 400),
  'kernel-log': linesOf('iptables-log/elastic-iptables-raw-mixed.log', 'iptables-log/crowdsec-hub-proxmox-pvefw.log', 'iptables-log/crowdsec-hub-iptables-portscan.log'),
  'ulogd-json': linesOf(
    'ulogd-nflog/captured-ulogd2-nflog-json-nmap-scan-v4v6.json',
    'ulogd-nfct/captured-ulogd2-nfct-json-nmap-scan-v4v6.json',
    'ulogd-nflog/blog-ulogd2-json-nftables-ipv6-syn.json',
  ).slice(0, 400),
};

const HOSTILE = [
  '\0',
  '\x1b[2J',
  '\x1b]0;pwned\x07',
  '\r',
  '\n',
  '\t',
  '\x7f',
  '\u009b',
  '\u202e',
  '\u2066',
  '\ufeff',
  '\ufffd',
  '\ud800',
  '\udc00',
  '🙂',
  '=',
  '==',
  '<',
  '>',
  '</flow>',
  '<flow>',
  '"',
  '\\',
  '{',
  '}',
  '[',
  ']',
  ' ',
  '  ',
  ':',
  '/',
  '.',
  '-',
  '%s',
  '${x}',
  'IN=',
  'OUT=',
  'SRC=',
  'DST=',
  'src=',
  'dst=',
  '&amp;',
  '&#0;',
];
const NUMBERS = [
  '0',
  '-1',
  '65535',
  '65536',
  '255',
  '256',
  '4294967295',
  '4294967296',
  '18446744073709551616',
  '99999999999999999999999',
  '1e309',
  'NaN',
  'Infinity',
  '0x10',
  '08',
  '1.5',
  '-0',
  '',
  ' 1',
  '٣',
];

/** A mutation of a corpus line (or of two joined lines). */
function mutated(corpus: string[]): fc.Arbitrary<string> {
  const line = fc.constantFrom(...corpus);
  const at = (s: string, k: number): number => (s.length === 0 ? 0 : k % (s.length + 1));
  return fc.oneof(
    line,
    fc.tuple(line, fc.nat(), fc.constantFrom(...HOSTILE)).map(([s, k, h]) => s.slice(0, at(s, k)) + h + s.slice(at(s, k))),
    fc.tuple(line, fc.nat(), fc.nat(40)).map(([s, k, n]) => s.slice(0, at(s, k)) + s.slice(at(s, k) + n)),
    fc.tuple(line, fc.nat()).map(([s, k]) => s.slice(0, at(s, k))),
    fc.tuple(line, fc.constantFrom(...NUMBERS)).map(([s, n]) => s.replace(/\d+/g, (m) => (m.length % 2 ? n : m))),
    fc.tuple(line, fc.integer({ min: 100, max: 20_000 })).map(([s, n]) => {
      const tokens = s.split(' ');
      const k = n % tokens.length;
      tokens[k] = tokens[k].repeat(Math.max(1, Math.floor(n / Math.max(1, tokens[k].length))));
      return tokens.join(' ');
    }),
    fc.tuple(line, line).map(([a, b]) => a + b),
    fc.tuple(line, fc.string({ unit: 'binary', maxLength: 30 }), fc.nat()).map(([s, r, k]) => s.slice(0, at(s, k)) + r + s.slice(at(s, k))),
    fc.tuple(line, fc.nat(), fc.nat()).map(([s, a, b]) => {
      const tokens = s.split(' ');
      const i = a % tokens.length;
      const j = b % tokens.length;
      [tokens[i], tokens[j]] = [tokens[j], tokens[i]];
      return tokens.join(' ');
    }),
  );
}

/** Lines for a format: mutated corpus lines, other formats' lines, random text. */
export function linesFor(format: FormatName): fc.Arbitrary<string[]> {
  const other = (Object.keys(CORPUS) as FormatName[]).filter((f) => f !== format).flatMap((f) => CORPUS[f].slice(0, 30));
  const one = fc.oneof(
    { weight: 6, arbitrary: mutated(CORPUS[format]) },
    { weight: 1, arbitrary: fc.constantFrom(...other) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...HOSTILE, ...NUMBERS, 'a', ' '), maxLength: 60 }) },
  );
  return fc.array(one, { minLength: 1, maxLength: 8 });
}

const RAW: Record<FormatName, () => LineParser> = {
  conntrack: () => createConntrackParser({ now: () => 1_700_000_000_000, node: 'fz' }),
  'conntrack-xml': () => createConntrackXmlParser({ now: () => 1_700_000_000_000, node: 'fz' }),
  'kernel-log': () => createKernelLogParser({ now: () => 1_700_000_000_000, node: 'fz' }),
  'ulogd-json': () => createUlogdJsonParser({ now: () => 1_700_000_000_000, node: 'fz' }),
};

const REASON = /^[a-z]+(?:-[a-z]+)*$/;

function checkRecord(r: FlowRecord): void {
  const fail = (why: string): never => {
    throw new Error(`bad record (${why}): ${JSON.stringify(r)}`);
  };
  if (r.schema !== 1) fail('schema');
  if (r.family !== 4 && r.family !== 6) fail('family');
  for (const a of [r.srcAddr, r.dstAddr]) {
    const n = normalizeAddr(a);
    if (n === undefined || n.addr !== a || n.family !== r.family) fail('address');
  }
  if (!Number.isInteger(r.protocol) || r.protocol < 0 || r.protocol > 255) fail('protocol');
  for (const p of [r.srcPort, r.dstPort]) if (p !== undefined && (!Number.isInteger(p) || p < 0 || p > 65535)) fail('port');
  for (const t of [r.observedAt, r.start, r.end]) if (t !== undefined && !Number.isFinite(t)) fail('time');
  for (const i of [r.inIface, r.outIface]) if (i !== undefined && !isIfaceName(i)) fail('interface');
}

function checkError(e: ParseError, lines: number): void {
  if (!REASON.test(e.reason)) throw new Error(`bad reason ${JSON.stringify(e.reason)}`);
  if (e.reason === 'parser-error') throw new Error(`a parser threw on line ${e.line}: ${JSON.stringify(e.text)}`);
  if (!Number.isInteger(e.line) || e.line < 1 || e.line > lines) throw new Error(`line number ${e.line} out of 1..${lines}`);
}

/**
 * Feed lines to the raw parser (throws propagate) and to createParser's guarded one, as
 * parseLines does; check the invariants above. Returns the counts.
 */
export function runParser(format: FormatName, lines: string[]): { parsed: number; skipped: number; rejected: number } {
  const n = lines.length;
  // 1. the raw parser: nothing may throw
  const raw = RAW[format]();
  lines.forEach((l, k) => {
    raw.parseLine(l, k + 1);
    raw.drain?.();
  });
  raw.end?.();
  // 2. the guarded parser, with accounting
  const p = createParser(format, { now: () => 1_700_000_000_000, node: 'fz' });
  let parsed = 0;
  let skipped = 0;
  let rejected = 0;
  const take = (r: FlowRecord | ParseError | null): void => {
    if (r === null) skipped++;
    else if (isParseError(r)) {
      checkError(r, n);
      rejected++;
    } else {
      checkRecord(r);
      parsed++;
    }
  };
  lines.forEach((l, k) => {
    take(p.parseLine(l, k + 1));
    for (const x of p.drain?.() ?? []) take(x);
  });
  for (const x of p.end?.() ?? []) take(x);
  if (format !== 'conntrack-xml' && parsed + skipped + rejected !== n) throw new Error(`${n} lines but ${parsed} parsed + ${skipped} skipped + ${rejected} rejected`);
  return { parsed, skipped, rejected };
}

/** Reference split of a whole buffer (BOM, LF/CRLF/CR, bound) to compare the chunked reader with. */
function referenceLines(all: Buffer, max: number): Array<[number, number | string]> {
  let b = all;
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
  const out: Array<[number, number | string]> = [];
  let s = 0;
  let no = 0;
  for (let i = 0; i <= b.length; i++) {
    if (i === b.length ? i > s : b[i] === 10 || b[i] === 13) {
      const line = b.subarray(s, i);
      out.push([++no, line.length > max ? line.length : line.toString('utf8')]);
      if (i < b.length && b[i] === 13 && b[i + 1] === 10) i++;
      s = i + 1;
    }
  }
  return out;
}

/** The line reader on random bytes in random chunks: same lines as the reference split, bound kept. */
export const lineReaderProperty = fc.property(
  fc.array(
    fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...['\n', '\r', '\r\n', '\ufeff', 'a'.repeat(40), 'é', '</flow>'].map((s) => Uint8Array.from(Buffer.from(s))))),
    { maxLength: 30 },
  ),
  fc.integer({ min: 1, max: 64 }),
  fc.array(fc.nat(40), { maxLength: 10 }),
  (parts, max, cuts) => {
    const all = Buffer.concat(parts.map((p) => Buffer.from(p)));
    const sp = new LineSplitter(max);
    const got: InputLine[] = [];
    let pos = 0;
    for (const c of cuts) {
      const e = Math.min(all.length, pos + c);
      got.push(...sp.push(Buffer.from(all.subarray(pos, e))));
      pos = e;
    }
    got.push(...sp.push(Buffer.from(all.subarray(pos))));
    got.push(...sp.finish());
    const want = referenceLines(all, max);
    const have = got.map((l): [number, number | string] => [l.no, l.tooLong ?? l.text]);
    if (JSON.stringify(have) !== JSON.stringify(want)) throw new Error(`chunked ${JSON.stringify(have)} != whole ${JSON.stringify(want)}`);
    for (const l of got) if (l.tooLong === undefined && l.text.length > max) throw new Error('line over the bound');
  },
);

/** Detection and foreign identification never throw, on lines of any format and random bytes. */
export const detectProperty = fc.property(
  fc.array(fc.oneof(...(Object.keys(CORPUS) as FormatName[]).map((f) => mutated(CORPUS[f])), fc.string({ unit: 'binary', maxLength: 100 })), { maxLength: 25 }),
  fc.uint8Array({ maxLength: 64 }),
  (lines, bytes) => {
    const f = detectFormat(lines);
    if (f !== undefined && !(f in CORPUS)) throw new Error(`detected ${f}`);
    identifyLines(lines);
    identifyBytes(bytes);
  },
);

/** escapeText output holds no character a terminal or viewer acts on. */
export const escapeProperty = fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
  const e = escapeText(s);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]/.test(e)) throw new Error(`unescaped: ${JSON.stringify(e)}`);
  if (/(?:^|[^\ud800-\udbff])[\udc00-\udfff]|[\ud800-\udbff](?![\udc00-\udfff])/.test(e)) throw new Error('lone surrogate left');
});

/** One fuzz target: a name and its property. */
export interface FuzzTarget {
  name: string;
  property: fc.IPropertyWithHooks<unknown[]> | fc.IProperty<unknown[]>;
}

/** Every target, in the order reports list them. */
export const TARGETS: FuzzTarget[] = [
  ...(Object.keys(CORPUS) as FormatName[]).map((f) => ({
    name: f,
    property: fc.property(linesFor(f), (lines) => {
      runParser(f, lines);
    }) as fc.IProperty<unknown[]>,
  })),
  { name: 'line-reader', property: lineReaderProperty as unknown as fc.IProperty<unknown[]> },
  { name: 'format-detection', property: detectProperty as unknown as fc.IProperty<unknown[]> },
  { name: 'escape', property: escapeProperty as unknown as fc.IProperty<unknown[]> },
];
