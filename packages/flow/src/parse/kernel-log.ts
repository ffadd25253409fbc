import { addrFamily, normalizeAddrCodes } from '../addr.js';
import type { FlowRecord } from '../record.js';
import { parseUint } from './num.js';
import { cleanEnd, cleanStart, codePointName } from './clean.js';
import { controlInCodes, loadCodes, ownSlice, portAt, sameText, u32At, uintAt } from './codes.js';
import { parseError, type LineParser, type ParseError, type ParserOptions } from './types.js';
import { newRecordOf, setLogFieldsWith, setTimesPortsIcmp } from './build.js';
import { verdictFromPrefix } from './verdict.js';
import { MONTHS } from './months.js';

/**
 * Kernel LOG target lines (source 'kernel-log', event 'log'): the body written by the kernel's
 * nf_log_syslog.c (iptables `-j LOG`, nftables `log`), `IN=.. OUT=.. [MAC=..] SRC=.. DST=.. LEN=..
 * .. PROTO=.. [SPT=.. DPT=..|TYPE=.. CODE=..]`, behind an optional header:
 *
 * - `<PRI>` (RFC 3164/5424), then an RFC 3164 time `Mmm dd hh:mm:ss[.frac]` (no year: the
 *   year of now(), or the one before for a stamp more than a day ahead; local time zone), an RFC 3339 time `2021-03-12T14:10:18[.frac](Z|+hh:mm|+hhmm)` (observedAt from it),
 *   or RFC 5424 `1 TIME HOST APP PROCID MSGID SD`;
 * - a host name and/or the `kernel:` tag; a dmesg uptime `[  203.842973]`;
 * - Proxmox VE pvefw-logger lines `VMID LEVEL CHAIN dd/Mon/yyyy:hh:mm:ss +zzzz` (time used);
 *   these omit empty `IN=`/`OUT=`, so only there may `IN=` be missing.
 *
 * The text left between the header and `IN=` is the log prefix (`[wan-lan-default-D]`,
 * `policy DROP:`), trimmed; the verdict comes from its words (verdictFromPrefix). The quoted
 * packet of ICMP errors (`[SRC=... ]`) is ignored. LEN (IP total length) gives bytesOrig with
 * packetsOrig 1. Interface names follow the kernel's rules (isIfaceName: `br.lan`, `eth0.5000`,
 * `enp.1s0`, `veth@x` are names). Every header form may stand before every body form (iptables
 * and nftables LOG, UFW, firewalld, Ubiquiti prefixes glued to `IN=`, Proxmox pvefw fields):
 * journald `short`/`short-iso`/`short-iso-precise`/`short-monotonic`, dmesg and dmesg -T
 * brackets, program tags `kernel:`, `pvefw-logger[PID]:`.
 */
export function createKernelLogParser(opts: ParserOptions = {}): LineParser {
  const now = opts.now ?? Date.now;
  const node = opts.node;
  return {
    format: 'kernel-log',
    parseLine(line: string, lineNo: number): FlowRecord | ParseError | null {
      return parseKernelLogLine(line, lineNo, now, node);
    },
  };
}

const PROTO_NAMES: Record<string, number> = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPv6: 58,
  ICMPV6: 58,
  SCTP: 132,
  UDPLITE: 136,
};

/** Index of the `IN=` that starts the kernel body (followed by an `OUT=` token), or -1. */
export function findBodyStart(line: string): number {
  let from = 0;
  for (;;) {
    const k = line.indexOf('IN=', from);
    if (k < 0) return -1;
    const prev = k > 0 ? line.charCodeAt(k - 1) : 32;
    // PHYSIN= is not the start; anything else before IN= (space, ']', ':') may be.
    if (!(prev >= 65 && prev <= 90)) {
      const sp = line.indexOf(' ', k);
      if (sp > 0 && line.startsWith('OUT=', sp + 1)) return k;
    }
    from = k + 3;
  }
}

/**
 * True for a Linux interface name as the kernel accepts it (net/core/dev.c dev_valid_name):
 * 1 to 15 bytes (IFNAMSIZ - 1, counted in UTF-8), not `.` or `..`, no `/`, `:` or white space;
 * control characters never reach here (checkLine rejects the line). So `br.lan`, `eth0.5000`,
 * `enp.1s0`, `veth@x`, `wg-ü` are names. '' is valid: no interface (`OUT=` of an input packet).
 */
export function isIfaceName(name: string): boolean {
  const n = name.length;
  if (n === 0) return true;
  if (n > 15 || name === '.' || name === '..') return false;
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c <= 32 || c === 47 || c === 58 || c === 127) return false;
    if (c > 127) {
      ascii = false;
      if (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000) return false;
    }
  }
  return ascii || Buffer.byteLength(name, 'utf8') <= 15;
}

/** The first three characters of `a` as one number (character codes below 128, eight bits each): fieldOf and monthAt compare keys so. */
function key3(a: string): number {
  return (a.charCodeAt(0) << 16) | (a.charCodeAt(1) << 8) | a.charCodeAt(2);
}

interface Header {
  /** ms since epoch, or -1 when the header has no usable absolute time. */
  time: number;
  /** Index where the log prefix begins. */
  prefixStart: number;
  pvefw: boolean;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** tokenEnd on the line's code units (n: the line's length): the first space at or after i, or n. */
function tokEnd(C: Uint16Array, n: number, i: number): number {
  while (i < n && C[i] !== 32) i++;
  return i;
}

/** Index of the first non-space at or after i in a line's code units (PAST_END stops it). */
function skipSp(C: Uint16Array, i: number): number {
  while (C[i] === 32) i++;
  return i;
}

function skipSpaces(s: string, i: number): number {
  while (i < s.length && s.charCodeAt(i) === 32) i++;
  return i;
}

/** Index of the first space at or after i, or s.length (native indexOf: a JS charCodeAt loop over
 * every token's characters was a quarter of the parse time). */
function tokenEnd(s: string, i: number): number {
  if (i >= s.length) return i;
  const k = s.indexOf(' ', i);
  return k < 0 ? s.length : k;
}

/** Parse an RFC 3339 time s[start, end) with a zone; -1 when not one (or without zone). */
export function parseRfc3339(s: string, start: number, end: number): number {
  if (end - start < 20) return -1;
  const y = parseUint(s, start, start + 4);
  const mo = parseUint(s, start + 5, start + 7);
  const d = parseUint(s, start + 8, start + 10);
  const h = parseUint(s, start + 11, start + 13);
  const mi = parseUint(s, start + 14, start + 16);
  const se = parseUint(s, start + 17, start + 19);
  if (
    s.charCodeAt(start + 4) !== 45 ||
    s.charCodeAt(start + 7) !== 45 ||
    (s.charCodeAt(start + 10) | 32) !== 116 /* T or t */ ||
    s.charCodeAt(start + 13) !== 58 ||
    s.charCodeAt(start + 16) !== 58
  )
    return -1;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || h < 0 || mi < 0 || se < 0) return -1;
  let i = start + 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    const fs = ++i;
    while (i < end && isDigit(s.charCodeAt(i))) i++;
    if (i === fs) return -1;
    ms = Math.floor(Number(`0.${s.slice(fs, i)}`) * 1000);
  }
  let offsetMin: number;
  const z = s.charCodeAt(i);
  if ((z | 32) === 122 /* Z */ && i + 1 === end) offsetMin = 0;
  else if (z === 43 || z === 45) {
    const oh = parseUint(s, i + 1, i + 3);
    const hasColon = s.charCodeAt(i + 3) === 58;
    const om = parseUint(s, i + (hasColon ? 4 : 3), i + (hasColon ? 6 : 5));
    if (oh < 0 || om < 0 || oh > 23 || om > 59 || i + (hasColon ? 6 : 5) !== end) return -1;
    offsetMin = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else return -1;
  return Date.UTC(y, mo - 1, d, h, mi, se, ms) - offsetMin * 60000;
}

/** Proxmox pvefw-logger time `20/Jun/2022:13:09:14 +0200` at s[i..]; returns [ms, end] or undefined. */
function parsePveTime(s: string, i: number): [number, number] | undefined {
  // dd/Mon/yyyy:hh:mm:ss +zzzz is 26 characters.
  if (s.length < i + 26 || s.charCodeAt(i + 2) !== 47 || s.charCodeAt(i + 6) !== 47 || s.charCodeAt(i + 11) !== 58) return undefined;
  const d = parseUint(s, i, i + 2);
  const mo = MONTHS[s.slice(i + 3, i + 6)];
  const y = parseUint(s, i + 7, i + 11);
  const h = parseUint(s, i + 12, i + 14);
  const mi = parseUint(s, i + 15, i + 17);
  const se = parseUint(s, i + 18, i + 20);
  const sign = s.charCodeAt(i + 21);
  const oh = parseUint(s, i + 22, i + 24);
  const om = parseUint(s, i + 24, i + 26);
  if (mo === undefined || d < 1 || y < 1970 || h < 0 || mi < 0 || se < 0 || oh < 0 || om < 0 || (sign !== 43 && sign !== 45)) return undefined;
  const off = (sign === 45 ? -1 : 1) * (oh * 60 + om);
  return [Date.UTC(y, mo, d, h, mi, se) - off * 60000, i + 26];
}

/**
 * RFC 3164 time `Mmm dd hh:mm:ss[.frac]` (month already read, 0-based) as ms since epoch, or -1
 * when a field is out of range. The stamp has no year and no zone (RFC 3164 4.1.2): it is read
 * in this process's local time zone, in the year of `nowMs`, or the year before when that would
 * put it more than a day after `nowMs` (a December line read in January), as syslog daemons do.
 */
function parseBsdTime(s: string, C: Uint16Array, mo: number, ds: number, de: number, ts: number, te: number, nowMs: number): number {
  const d = uintAt(C, ds, de);
  const hh = uintAt(C, ts, ts + 2);
  const mi = uintAt(C, ts + 3, ts + 5);
  const se = uintAt(C, ts + 6, ts + 8);
  if (d < 1 || d > 31 || hh < 0 || hh > 23 || mi < 0 || mi > 59 || se < 0 || se > 60) return -1;
  let ms = 0;
  if (te > ts + 8) {
    if (C[ts + 8] !== 46) return -1;
    const f = uintAt(C, ts + 9, te);
    if (f < 0) return -1;
    ms = Math.floor(Number(`0.${s.slice(ts + 9, te)}`) * 1000);
  }
  const year = localYear(nowMs);
  let t = localTime(year, mo, d, hh, mi, se, ms);
  if (t > nowMs + 86_400_000) t = localTime(year - 1, mo, d, hh, mi, se, ms);
  return t;
}

// Caches for parseBsdTime (lines come in time order: the year and the minute rarely change).
let yearFrom = 0;
let yearTo = -1;
let yearOf = 0;
let minuteKey = -1;
let minuteMs = 0;

/** The local year of `nowMs`: `new Date(nowMs).getFullYear()`, kept with its [start, end) in ms. */
function localYear(nowMs: number): number {
  if (nowMs >= yearFrom && nowMs < yearTo) return yearOf;
  const y = new Date(nowMs).getFullYear();
  const from = new Date(y, 0, 1).getTime();
  const to = new Date(y + 1, 0, 1).getTime();
  yearOf = y;
  // Only when nowMs lies in [from, to) as computed (it does unless the zone's rules are odd): else no cache.
  if (nowMs >= from && nowMs < to) {
    yearFrom = from;
    yearTo = to;
  } else {
    yearFrom = 0;
    yearTo = -1;
  }
  return y;
}

/**
 * `new Date(year, mo, d, hh, mi, se, ms).getTime()` (local time) for the parsed ranges, with the
 * start of the minute cached: zone offsets change on minute boundaries, so within a minute the
 * time is the minute's start plus se s and ms ms. A leap second (se 60) is not cached.
 */
function localTime(year: number, mo: number, d: number, hh: number, mi: number, se: number, ms: number): number {
  if (se >= 60) return new Date(year, mo, d, hh, mi, se, ms).getTime();
  const key = (((year * 12 + mo) * 32 + d) * 24 + hh) * 60 + mi;
  if (key !== minuteKey) {
    minuteMs = new Date(year, mo, d, hh, mi, 0, 0).getTime();
    minuteKey = key;
  }
  return minuteMs + se * 1000 + ms;
}

/**
 * True when s[a, b) is a syslog program tag before the kernel body: `kernel:`, `pvefw-logger:`,
 * `ulogd:`, or `NAME[PID]:` (NAME 1 to 64 of `A-Za-z0-9_./-`, PID 1 to 10 digits). Read in place.
 */
function isTagAt(s: string, C: Uint16Array, a: number, b: number): boolean {
  // Every tag ends with ':' (a host name does not).
  if (b <= a || C[b - 1] !== 58) return false;
  const n = b - a;
  if (n === 7 ? isKernelTag(C, a) : n === 13 ? s.startsWith('pvefw-logger:', a) : n === 6 && s.startsWith('ulogd:', a)) return true;
  // NAME[PID]:
  if (n < 5 || C[b - 2] !== 93 /* ] */) return false;
  let i = a;
  while (i < b && isTagNameChar(C[i])) i++;
  if (i === a || i - a > 64 || C[i] !== 91 /* [ */) return false;
  const d = ++i;
  while (i < b && isDigit(C[i])) i++;
  return i > d && i - d <= 10 && i === b - 2;
}

/** True when C[a, a + 7) is `kernel:` (read in place: nearly every syslog kernel LOG line has it). */
function isKernelTag(C: Uint16Array, a: number): boolean {
  return C[a] === 107 && C[a + 1] === 101 && C[a + 2] === 114 && C[a + 3] === 110 && C[a + 4] === 101 && C[a + 5] === 108 && C[a + 6] === 58;
}

/** `A-Za-z0-9_./-`: the characters of a program name in isTagAt. */
function isTagNameChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 45 && c <= 57) /* - . / 0-9 */ || c === 95;
}

/** The time of the bracket parseBracket read last (ms since epoch, or -1 for an uptime). */
let bracketTime = -1;

const WDAYS = new Set(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']);

/**
 * A bracket at s[i] (`[  203.842973]` dmesg/journald monotonic uptime, or dmesg -T
 * `[Fri Mar 12 14:10:18 2021]` local time): the index after it and its blanks, its time (or -1)
 * left in `bracketTime`; -1 when s[i] is not such a bracket. (No pair allocated per line.)
 */
function parseBracket(s: string, C: Uint16Array, i: number, limit: number): number {
  if (C[i] !== 91) return -1;
  let j = skipSp(C, i + 1);
  const st = j;
  while (j < limit && (isDigit(C[j]) || C[j] === 46)) j++;
  if (j > st && C[j] === 93) {
    bracketTime = -1;
    return skipSp(C, j + 1);
  }
  const m = /^\[([A-Z][a-z]{2}) ([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4})\]/.exec(s.slice(i, i + 32));
  if (m === null || !WDAYS.has(m[1]) || MONTHS[m[2]] === undefined) return -1;
  const [d, hh, mi, se, y] = [Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7])];
  if (d < 1 || d > 31 || hh > 23 || mi > 59 || se > 60 || y < 1970) return -1;
  bracketTime = new Date(y, MONTHS[m[2]], d, hh, mi, se).getTime();
  return skipSpaces(s, i + m[0].length);
}

/** Proxmox pvefw-logger fields `VMID LEVEL CHAIN TIME` at s[i..]: [time, index after] or undefined. */
function parsePve(line: string, i: number): [number, number] | undefined {
  let j = tokenEnd(line, i);
  if (j === i || parseUint(line, i, j) < 0) return undefined;
  j = skipSpaces(line, j);
  const k = tokenEnd(line, j);
  if (k === j || parseUint(line, j, k) < 0) return undefined;
  const chainEnd = tokenEnd(line, skipSpaces(line, k));
  const pt = parsePveTime(line, skipSpaces(line, chainEnd));
  return pt === undefined ? undefined : [pt[0], skipSpaces(line, pt[1])];
}

/** Proxmox pvefw fields at line[i..] (parsePve): when there, their time and end go into `h`; whether they were. */
function pveAt(line: string, C: Uint16Array, i: number, h: Header): boolean {
  if (!isDigit(C[i])) return false;
  const p = parsePve(line, i);
  if (p === undefined) return false;
  h.time = p[0];
  h.pvefw = true;
  h.prefixStart = p[1];
  return true;
}

/** Month abbreviations (MONTHS) by their three character codes, 8 bits each. */
const MONTH_BY_KEY = new Map<number, number>(Object.entries(MONTHS).map(([name, m]) => [key3(name), m]));

/** The month (0..11) whose abbreviation is C[i, i + 3) (`Jan`.. `Dec`, as MONTHS), or -1; reads in place. */
function monthAt(C: Uint16Array, i: number): number {
  const a = C[i];
  const b = C[i + 1];
  const c = C[i + 2];
  if ((a | b | c) > 127) return -1;
  return MONTH_BY_KEY.get((a << 16) | (b << 8) | c) ?? -1;
}

/** The one Header parseHeader fills (its caller reads it before the next line). */
const header: Header = { time: -1, prefixStart: 0, pvefw: false };

/**
 * Parse the header before the kernel body (see createKernelLogParser); never fails. In order:
 * `<PRI>`; RFC 5424 version; a time (RFC 3339, RFC 3164, or a dmesg/journald bracket); the RFC
 * 5424 fields, or a host name and/or a program tag; a dmesg uptime bracket; Proxmox pvefw fields
 * (their time wins over the syslog header's).
 */
function parseHeader(line: string, C: Uint16Array, bodyStart: number, nowMs: number): Header {
  const h = header;
  h.time = -1;
  h.prefixStart = 0;
  h.pvefw = false;
  let i = 0;
  // <PRI>
  if (C[0] === 60) {
    let j = 1;
    while (j < 5 && isDigit(C[j])) j++;
    if (j > 1 && C[j] === 62) i = j + 1;
  }
  let rfc5424 = false;
  if (C[i] === 49 && C[i + 1] === 32 && isDigit(C[i + 2])) {
    rfc5424 = true; // version "1 "
    i += 2;
  }
  let hadTime = false;
  let bracket = false;
  let month = -1;
  const c = C[i];
  if (isDigit(c) && C[i + 4] === 45) {
    const e = tokEnd(C, line.length, i);
    h.time = parseRfc3339(line, i, e);
    hadTime = true;
    i = skipSp(C, e);
  } else if (c >= 65 && c <= 90 && C[i + 3] === 32 && (month = monthAt(C, i)) >= 0) {
    // Mmm dd hh:mm:ss[.frac]
    const dayStart = skipSp(C, i + 4);
    let j = tokEnd(C, line.length, dayStart); // day
    const dayEnd = j;
    j = skipSp(C, j);
    const t = j;
    j = tokEnd(C, line.length, j);
    if (j - t >= 8 && C[t + 2] === 58 && C[t + 5] === 58) {
      hadTime = true;
      h.time = parseBsdTime(line, C, month, dayStart, dayEnd, t, j, nowMs);
      i = skipSp(C, j);
    }
  } else if (c === 91) {
    const b = parseBracket(line, C, i, bodyStart);
    if (b >= 0) {
      h.time = bracketTime;
      i = b;
      bracket = true;
    }
  }
  if (pveAt(line, C, i, h)) return h;
  if (rfc5424 && hadTime) {
    // HOST APP PROCID MSGID SD
    for (let k = 0; k < 4 && i < bodyStart; k++) i = skipSp(C, tokEnd(C, line.length, i));
    if (C[i] === 91) {
      const e = line.indexOf('] ', i);
      i = e < 0 || e > bodyStart ? i : skipSp(C, e + 2);
    } else if (C[i] === 45 /* - */) i = skipSp(C, i + 1);
  } else if (hadTime || bracket) {
    // [host] [tag:]
    const e1 = tokEnd(C, line.length, i);
    if (e1 < bodyStart) {
      // The first token s[i, e1) is read in place (no string per line).
      const n2 = skipSp(C, e1);
      const e2 = tokEnd(C, line.length, n2);
      const hostLike = e1 === i || (C[e1 - 1] !== 58 && C[i] !== 91);
      if (isTagAt(line, C, i, e1)) i = n2;
      else if (e2 <= bodyStart && hostLike && isTagAt(line, C, n2, e2)) i = skipSp(C, e2);
      else if (hadTime && hostLike) i = n2;
    }
  } else if (line.startsWith('kernel: ', i)) {
    i = skipSp(C, i + 8);
  }
  if (pveAt(line, C, i, h)) return h;
  // dmesg uptime [  203.842973] after the tag
  const b = parseBracket(line, C, i, bodyStart);
  if (b >= 0) {
    if (h.time < 0) h.time = bracketTime;
    i = b;
    if (pveAt(line, C, i, h)) return h;
  }
  h.prefixStart = i;
  return h;
}

const F_OTHER = 0;
const F_IN = 1;
const F_OUT = 2;
const F_SRC = 3;
const F_DST = 4;
const F_LEN = 5;
const F_PROTO = 6;
const F_SPT = 7;
const F_DPT = 8;
const F_TYPE = 9;
const F_CODE = 10;
const F_MARK = 11;
const F_MAC = 12;

const K_SRC = key3('SRC');
const K_DST = key3('DST');
const K_SPT = key3('SPT');
const K_DPT = key3('DPT');
const K_LEN = key3('LEN');
const K_OUT = key3('OUT');
const K_MAC = key3('MAC');

/**
 * The body field whose key is s[i, i + n) (F_*), F_OTHER for any other key; reads in place, by
 * character codes (a chain of `startsWith` calls per token was a tenth of the parse time). A key
 * with a character code above 127 is none of them.
 */
function fieldOf(C: Uint16Array, i: number, n: number): number {
  const c0 = C[i];
  const c1 = C[i + 1];
  switch (n) {
    case 2:
      return c0 === 73 /* I */ && c1 === 78 /* N */ ? F_IN : F_OTHER;
    case 3: {
      const c2 = C[i + 2];
      if ((c0 | c1 | c2) > 127) return F_OTHER;
      switch ((c0 << 16) | (c1 << 8) | c2) {
        case K_SRC:
          return F_SRC;
        case K_DST:
          return F_DST;
        case K_SPT:
          return F_SPT;
        case K_DPT:
          return F_DPT;
        case K_LEN:
          return F_LEN;
        case K_OUT:
          return F_OUT;
        case K_MAC:
          return F_MAC;
        default:
          return F_OTHER;
      }
    }
    case 4:
      if (c0 === 84 /* T */) return c1 === 89 && C[i + 2] === 80 && C[i + 3] === 69 /* YPE */ ? F_TYPE : F_OTHER;
      if (c0 === 67 /* C */) return c1 === 79 && C[i + 2] === 68 && C[i + 3] === 69 /* ODE */ ? F_CODE : F_OTHER;
      return c0 === 77 /* M */ && c1 === 65 && C[i + 2] === 82 && C[i + 3] === 75 /* ARK */ ? F_MARK : F_OTHER;
    case 5:
      return c0 === 80 /* P */ && c1 === 82 && C[i + 2] === 79 && C[i + 3] === 84 && C[i + 4] === 79 /* ROTO */ ? F_PROTO : F_OTHER;
    default:
      return F_OTHER;
  }
}

/** PROTO=s[v0, e): a name of PROTO_NAMES or a decimal number; -1 when neither (range not checked). */
function protoNumber(s: string, C: Uint16Array, v0: number, e: number): number {
  // A number never names PROTO_NAMES, so digits go straight to uintAt; TCP and UDP without a slice.
  if (isDigit(C[v0])) return uintAt(C, v0, e);
  if (e - v0 === 3) {
    if (s.startsWith('TCP', v0)) return 6;
    if (s.startsWith('UDP', v0)) return 17;
  }
  const val = s.slice(v0, e);
  // own names only: an inherited property (`PROTO=constructor`, `__proto__`) is not a protocol
  return Object.hasOwn(PROTO_NAMES, val) ? PROTO_NAMES[val] : parseUint(val);
}

// The texts of the last line's IN=, OUT= and log prefix, reused while the next lines repeat them
// (a log holds few interfaces and prefixes): equal strings that reference no line (ownSlice).
// Only accepted texts are kept (an IN= value isIfaceName refused is never reused unchecked).
let lastIn = '';
let lastOut = '';
/** The prefix text as cut from the line, its trimmed text, and that text's verdict (verdictFromPrefix). */
let lastPrefixRaw = '';
let lastPrefix = '';
let lastVerdict: 'accept' | 'drop' | undefined;

/** Parse one kernel LOG line (see createKernelLogParser). */
export function parseKernelLogLine(line: string, lineNo: number, now: () => number, node: string | undefined): FlowRecord | ParseError | null {
  return parseCodes(line, loadCodes(line), lineNo, now, node);
}

/**
 * What createParser's guard and parseKernelLogLine do together, the line's code units loaded
 * once for both: strip a trailing CR, leading NULs and a BOM (clean.ts), reject the line as
 * `control-byte` (field `U+XXXX`, text the line as given) when a control character is left, else
 * parse the cleaned line.
 */
export function parseKernelLogChecked(line: string, lineNo: number, now: () => number, node: string | undefined): FlowRecord | ParseError | null {
  const e = cleanEnd(line);
  const s = cleanStart(line, e);
  const text = s === 0 && e === line.length ? line : line.slice(s, e);
  const C = loadCodes(text);
  const c = controlInCodes(C, 0, text.length);
  if (c >= 0) return parseError(lineNo, 'control-byte', line, codePointName(c));
  return parseCodes(text, C, lineNo, now, node);
}

/** Parse one kernel LOG line whose code units `C` holds (loadCodes). */
function parseCodes(line: string, C: Uint16Array, lineNo: number, now: () => number, node: string | undefined): FlowRecord | ParseError | null {
  let end = line.length;
  while (end > 0 && (C[end - 1] === 13 || C[end - 1] === 32)) end--;
  if (end === 0) return null;
  let body = findBodyStart(line);
  let hdr: Header;
  if (body < 0) {
    hdr = parseHeader(line, C, line.length, now());
    if (hdr.pvefw) {
      for (const key of ['IN=', 'OUT=', 'PHYSIN=', 'MAC=', 'SRC=']) {
        const k = line.indexOf(key, hdr.prefixStart);
        if (k >= 0 && (k === 0 || C[k - 1] === 32 || C[k - 1] === 58)) {
          body = k;
          break;
        }
      }
    }
    if (body < 0) {
      if (line.includes('SRC=') && line.includes('DST=')) return parseError(lineNo, 'missing-field', line, 'IN');
      return parseError(lineNo, 'unknown-line', line);
    }
  } else {
    hdr = parseHeader(line, C, body, now());
  }

  let inIface: string | undefined;
  let outIface: string | undefined;
  // SRC and DST as ranges of the line, read in place once the body is read.
  let srcStart = 0;
  let srcEnd = 0;
  let dstStart = 0;
  let dstEnd = 0;
  let len = -1;
  let protocol = -1;
  let sport = -1;
  let dport = -1;
  let icmpType = -1;
  let icmpCode = -1;
  let mark = -1;
  // A space after the body (C is this parser's copy; past `end` are only trailing blanks and the
  // pad): every scan of a token below stops at a space, with no bound check of its own.
  C[end] = 32;
  let i = body;
  while (i < end) {
    const c = C[i];
    if (c === 32) {
      i++;
      continue;
    }
    if (c === 91) break; // quoted packet of an ICMP error: not this packet's fields
    // The first '=' of the token: the keys read are 2 to 5 characters, so a token without '='
    // in its first 6 is none of them.
    let eq = i + 1;
    while (eq < i + 6) {
      const x = C[eq];
      if (x === 61 || x === 32) break;
      eq++;
    }
    let e: number;
    if (eq < i + 6 && C[eq] === 61) {
      // The key is read in place (fieldOf) and a value sliced only when it is kept: no string per token.
      const v0 = eq + 1;
      const field = fieldOf(C, i, eq - i);
      if (field === F_MAC) {
        // 14 to 40 bytes in hex and colons, never read: the native search skips them.
        e = line.indexOf(' ', v0);
        if (e < 0 || e > end) e = end;
      } else {
        e = v0;
        while (C[e] !== 32) e++;
      }
      switch (field) {
        case F_IN:
          if (inIface === undefined) {
            if (sameText(C, v0, e, lastIn)) inIface = lastIn;
            else {
              const val = ownSlice(line, C, v0, e);
              if (!isIfaceName(val)) return parseError(lineNo, 'bad-interface', line, 'IN');
              inIface = lastIn = val;
            }
          }
          break;
        case F_OUT:
          if (outIface === undefined) {
            if (sameText(C, v0, e, lastOut)) outIface = lastOut;
            else {
              const val = ownSlice(line, C, v0, e);
              if (!isIfaceName(val)) return parseError(lineNo, 'bad-interface', line, 'OUT');
              outIface = lastOut = val;
            }
          }
          break;
        case F_SRC:
          if (srcEnd === srcStart) {
            srcStart = v0;
            srcEnd = e;
          }
          break;
        case F_DST:
          if (dstEnd === dstStart) {
            dstStart = v0;
            dstEnd = e;
          }
          break;
        case F_LEN:
          if (len < 0) {
            len = uintAt(C, v0, e);
            if (len < 0 || len > 65535 + 40) return parseError(lineNo, 'bad-number', line, 'LEN');
          }
          break;
        case F_PROTO:
          if (protocol < 0) {
            const p = protoNumber(line, C, v0, e);
            if (p < 0 || p > 255) return parseError(lineNo, 'bad-value', line, 'PROTO');
            protocol = p;
          }
          break;
        case F_SPT:
        case F_DPT: {
          const p = portAt(C, v0, e);
          const spt = C[i] === 83; /* S */
          if (p < 0) return parseError(lineNo, 'bad-port', line, spt ? 'SPT' : 'DPT');
          if (spt) sport = p;
          else dport = p;
          break;
        }
        case F_TYPE:
        case F_CODE: {
          const v = uintAt(C, v0, e);
          const type = C[i] === 84; /* T */
          if (v < 0 || v > 255) return parseError(lineNo, 'bad-number', line, type ? 'TYPE' : 'CODE');
          if (type) icmpType = v;
          else icmpCode = v;
          break;
        }
        case F_MARK: {
          const v = u32At(C, v0, e);
          if (v < 0) return parseError(lineNo, 'bad-number', line, 'MARK');
          mark = v;
          break;
        }
        default:
          break;
      }
    } else {
      e = eq;
      while (C[e] !== 32) e++;
    }
    i = e;
  }
  if (srcEnd === srcStart) return parseError(lineNo, 'missing-field', line, 'SRC');
  if (dstEnd === dstStart) return parseError(lineNo, 'missing-field', line, 'DST');
  if (protocol < 0) return parseError(lineNo, 'missing-field', line, 'PROTO');
  const srcAddr = normalizeAddrCodes(line, C, srcStart, srcEnd);
  if (srcAddr === undefined) return parseError(lineNo, 'bad-address', line, 'SRC');
  const dstAddr = normalizeAddrCodes(line, C, dstStart, dstEnd);
  const family = addrFamily(srcAddr);
  if (dstAddr === undefined || addrFamily(dstAddr) !== family) return parseError(lineNo, 'bad-address', line, 'DST');

  let prefix = '';
  if (hdr.prefixStart < body) {
    if (!sameText(C, hdr.prefixStart, body, lastPrefixRaw)) {
      lastPrefixRaw = ownSlice(line, C, hdr.prefixStart, body);
      lastPrefix = lastPrefixRaw.trim();
      lastVerdict = verdictFromPrefix(lastPrefix);
    }
    prefix = lastPrefix;
  }
  const isIcmp = protocol === 1 || protocol === 58;
  if (hdr.time >= 0 && len >= 0 && mark < 0 && prefix === '' && inIface && !outIface && (!isIcmp || (icmpType < 0 && icmpCode < 0))) {
    // The common shapes (a timed line with both ports or none, LEN, IN only; with or without the
    // node) each in one object literal: the fields and order the steps below would give.
    const observedAt = hdr.time;
    if (sport >= 0 && dport >= 0) {
      if (node === undefined)
        return {
          schema: 1,
          observedAt,
          source: 'kernel-log',
          event: 'log',
          family,
          protocol,
          srcAddr,
          dstAddr,
          srcPort: sport,
          dstPort: dport,
          bytesOrig: len,
          packetsOrig: 1,
          inIface,
        };
      return {
        schema: 1,
        observedAt,
        source: 'kernel-log',
        event: 'log',
        family,
        protocol,
        srcAddr,
        dstAddr,
        node,
        srcPort: sport,
        dstPort: dport,
        bytesOrig: len,
        packetsOrig: 1,
        inIface,
      };
    }
    if (sport < 0 && dport < 0) {
      if (node === undefined) return { schema: 1, observedAt, source: 'kernel-log', event: 'log', family, protocol, srcAddr, dstAddr, bytesOrig: len, packetsOrig: 1, inIface };
      return { schema: 1, observedAt, source: 'kernel-log', event: 'log', family, protocol, srcAddr, dstAddr, node, bytesOrig: len, packetsOrig: 1, inIface };
    }
  }
  const rec = newRecordOf('kernel-log', 'log', hdr.time >= 0 ? hdr.time : now(), protocol, family, srcAddr, dstAddr, node);
  if (hdr.time < 0) rec.untimed = true;
  setTimesPortsIcmp(rec, -1, -1, sport, dport, isIcmp ? icmpType : -1, isIcmp ? icmpCode : -1);
  if (len >= 0) {
    rec.bytesOrig = len;
    rec.packetsOrig = 1;
  }
  if (mark >= 0) rec.mark = mark;
  setLogFieldsWith(rec, prefix, prefix === '' ? undefined : lastVerdict, inIface, outIface);
  return rec;
}
