import { normalizeAddr } from '../addr.js';
import type { FlowEvent, FlowRecord } from '../record.js';
import { newRecord, setConntrackState, setCounters, setReply, setTimesPortsIcmp } from './build.js';
import { parseEpochSecondsToMs, parseU32, parseUint } from './num.js';
import { parseError, type LineParser, type ParseError, type ParserOptions } from './types.js';
import { MONTHS } from './months.js';

/**
 * conntrack text lines (source 'conntrack'), as printed by conntrack-tools (conntrack(8)) and
 * libnetfilter_conntrack's snprintf_default.c:
 *
 *   [epoch.usec]\t        `-o timestamp` on events (optional)
 *   [NEW]|[UPDATE]|[DESTROY]   event tag, right-aligned (`-E`); absent for `-L` (event 'snapshot')
 *   ipv4 2 | ipv6 10      layer 3 name and number (`-o extended`, /proc/net/nf_conntrack)
 *   tcp 6 | unknown 47    layer 4 name and IANA number
 *   120                   timeout in seconds (absent on DESTROY events)
 *   SYN_SENT              TCP/SCTP/DCCP state (optional)
 *   src= dst= sport= dport= | type= code= id=  [packets= bytes=]   original tuple
 *   [UNREPLIED]           flag between the tuples
 *   src= dst= ...                                                  reply tuple
 *   [ASSURED] mark= secctx= zone= use= delta-time= id= [start=ctime] [stop=ctime] ...
 *
 * The first counter set belongs to the original direction, the second to the reply. `id=` after
 * an ICMP `code=` is the ICMP id, elsewhere it is the conntrack id (`-o id`). The trailing
 * summary line ("conntrack v1.4.7 (conntrack-tools): N flow events have been shown.") is skipped.
 * `[start=...]`/`[stop=...]` are ctime(3) strings in the producer's local time zone; they are
 * read in this process's time zone.
 */
export function createConntrackParser(opts: ParserOptions = {}): LineParser {
  const now = opts.now ?? Date.now;
  const node = opts.node;
  return {
    format: 'conntrack',
    parseLine(line: string, lineNo: number): FlowRecord | ParseError | null {
      return parseConntrackLine(line, lineNo, now, node);
    },
  };
}

const EVENTS: Record<string, FlowEvent> = { '[NEW]': 'new', '[UPDATE]': 'update', '[DESTROY]': 'destroy' };

// Token cursor over the line being parsed: [ts, te) is the current token. Module state, reset at
// the start of each parseConntrackLine call (parsing is synchronous, never re-entered).
let cur = '';
let curLen = 0;
let ts = 0;
let te = 0;

/** Advance to the next token (separated by spaces, tabs or CR); false at the end of the line. */
function nextToken(): boolean {
  let i = te;
  while (i < curLen) {
    const c = cur.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) break;
    i++;
  }
  if (i >= curLen) return false;
  ts = i;
  while (i < curLen) {
    const c = cur.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13) break;
    i++;
  }
  te = i;
  return true;
}

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** True when line[s, e) is all upper-case letters and underscores (a conntrack state name). */
function isStateName(line: string, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = line.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || c === 95)) return false;
  }
  return e > s;
}

/** Parse ctime(3) `Www Mmm dd hh:mm:ss yyyy` (local time) into ms, or -1. */
function parseCtime(parts: string[]): number {
  if (parts.length !== 5) return -1;
  const mon = MONTHS[parts[1]];
  const day = parseUint(parts[2]);
  const hms = parts[3];
  const year = parseUint(parts[4]);
  if (mon === undefined || day < 1 || day > 31 || year < 1970 || hms.length !== 8) return -1;
  const h = parseUint(hms, 0, 2);
  const m = parseUint(hms, 3, 5);
  const s = parseUint(hms, 6, 8);
  if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60) return -1;
  return new Date(year, mon, day, h, m, s).getTime();
}

function isSummaryLine(line: string): boolean {
  return line.startsWith('conntrack v') && line.includes('have been shown');
}

/** Parse one conntrack text line (see createConntrackParser). */
export function parseConntrackLine(line: string, lineNo: number, now: () => number, node: string | undefined): FlowRecord | ParseError | null {
  cur = line;
  curLen = line.length;
  ts = 0;
  te = 0;
  if (!nextToken()) return null;

  let observedAt = -1;
  let c0 = line.charCodeAt(ts);
  if (c0 === 91 /* [ */ && te - ts > 2 && isDigitCode(line.charCodeAt(ts + 1))) {
    if (line.charCodeAt(te - 1) !== 93) return parseError(lineNo, 'bad-timestamp', line, 'timestamp');
    observedAt = parseEpochSecondsToMs(line, ts + 1, te - 1);
    if (observedAt < 0) return parseError(lineNo, 'bad-timestamp', line, 'timestamp');
    if (!nextToken()) return parseError(lineNo, 'unknown-line', line);
    c0 = line.charCodeAt(ts);
  }
  let event: FlowEvent = 'snapshot';
  if (c0 === 91) {
    const ev = EVENTS[line.slice(ts, te)];
    if (ev === undefined) return parseError(lineNo, 'unknown-line', line, 'event');
    event = ev;
    if (!nextToken()) return parseError(lineNo, 'unknown-line', line);
    c0 = line.charCodeAt(ts);
  }
  let family: 4 | 6 | 0 = 0;
  if (te - ts === 4 && line.startsWith('ipv', ts) && (line.charCodeAt(ts + 3) === 52 || line.charCodeAt(ts + 3) === 54)) {
    family = line.charCodeAt(ts + 3) === 52 ? 4 : 6;
    if (!nextToken()) return parseError(lineNo, 'unknown-line', line);
    const l3 = parseUint(line, ts, te);
    if ((family === 4 && l3 !== 2) || (family === 6 && l3 !== 10)) return parseError(lineNo, 'bad-number', line, 'l3proto');
    if (!nextToken()) return parseError(lineNo, 'unknown-line', line);
    c0 = line.charCodeAt(ts);
  }
  // Layer 4: a lower-case name then the IANA number.
  if (!(c0 >= 97 && c0 <= 122) || !nextToken()) {
    if (isSummaryLine(line)) return null;
    return parseError(lineNo, 'unknown-line', line);
  }
  const protocol = parseUint(line, ts, te);
  if (protocol < 0 || protocol > 255) {
    if (isSummaryLine(line)) return null;
    return parseError(lineNo, protocol < 0 ? 'unknown-line' : 'bad-number', line, 'protocol');
  }
  let more = nextToken();
  // Optional timeout and state.
  if (more && isDigitCode(line.charCodeAt(ts))) {
    if (parseUint(line, ts, te) < 0) return parseError(lineNo, 'bad-number', line, 'timeout');
    more = nextToken();
  }
  let state: string | undefined;
  if (more && isStateName(line, ts, te)) {
    state = line.slice(ts, te);
    more = nextToken();
  }

  const isIcmp = protocol === 1 || protocol === 58;
  let tuple = -1; // 0 original, 1 reply
  let src = '';
  let dst = '';
  let rsrc = '';
  let rdst = '';
  let sport = -1;
  let dport = -1;
  let rsport = -1;
  let rdport = -1;
  let icmpType = -1;
  let icmpCode = -1;
  let bytesO = -1;
  let pktsO = -1;
  let bytesR = -1;
  let pktsR = -1;
  let assured = false;
  let unreplied = false;
  let zone = -1;
  let mark = -1;
  let ctId: string | undefined;
  let start = -1;
  let stop = -1;
  let prevCode = false;

  for (; more; more = nextToken()) {
    if (line.charCodeAt(ts) === 91 /* [ */) {
      prevCode = false;
      const isStart = line.startsWith('[start=', ts);
      if (isStart || line.startsWith('[stop=', ts)) {
        const field = isStart ? 'start' : 'stop';
        const from = ts + (isStart ? 7 : 6);
        const close = line.indexOf(']', from);
        if (close < 0) return parseError(lineNo, 'bad-timestamp', line, field);
        const ms = parseCtime(
          line
            .slice(from, close)
            .split(' ')
            .filter((x) => x !== ''),
        );
        if (ms < 0) return parseError(lineNo, 'bad-timestamp', line, field);
        if (isStart) start = ms;
        else stop = ms;
        te = close + 1;
      } else if (line.startsWith('[ASSURED]', ts) && te - ts === 9) assured = true;
      else if (line.startsWith('[UNREPLIED]', ts) && te - ts === 11) unreplied = true;
      // Other flags ([OFFLOAD], [HW_OFFLOAD], [USERSPACE], [DYING], ...) carry nothing for a FlowRecord.
      continue;
    }
    let eq = -1;
    for (let k = ts + 1; k < te; k++) {
      if (line.charCodeAt(k) === 61) {
        eq = k;
        break;
      }
    }
    if (eq < 0) {
      const tok = line.slice(ts, Math.min(te, ts + 40));
      return parseError(lineNo, 'unexpected-token', line, tok);
    }
    const v0 = eq + 1;
    const klen = eq - ts;
    const k0 = line.charCodeAt(ts);
    const wasCode = prevCode;
    prevCode = false;
    if (klen === 3 && k0 === 115 /* s */ && line.startsWith('src', ts)) {
      tuple++;
      if (tuple > 1) return parseError(lineNo, 'unexpected-token', line, 'src');
      if (tuple === 0) src = line.slice(v0, te);
      else rsrc = line.slice(v0, te);
    } else if (klen === 3 && k0 === 100 /* d */ && line.startsWith('dst', ts)) {
      if (tuple === 0) dst = line.slice(v0, te);
      else if (tuple === 1) rdst = line.slice(v0, te);
      else return parseError(lineNo, 'missing-field', line, 'src');
    } else if (klen === 5 && (k0 === 115 || k0 === 100) && line.startsWith('port', ts + 1)) {
      const p = parseUint(line, v0, te);
      const key = k0 === 115 ? 'sport' : 'dport';
      if (p < 0 || p > 65535) return parseError(lineNo, 'bad-port', line, key);
      if (tuple === 0) {
        if (k0 === 115) sport = p;
        else dport = p;
      } else if (tuple === 1) {
        if (k0 === 115) rsport = p;
        else rdport = p;
      }
    } else if ((klen === 7 && line.startsWith('packets', ts)) || (klen === 5 && line.startsWith('bytes', ts))) {
      const v = parseUint(line, v0, te);
      if (v < 0) return parseError(lineNo, 'bad-number', line, klen === 7 ? 'packets' : 'bytes');
      if (tuple === 0) {
        if (klen === 7) pktsO = v;
        else bytesO = v;
      } else if (tuple === 1) {
        if (klen === 7) pktsR = v;
        else bytesR = v;
      }
    } else if (klen === 2 && line.startsWith('id', ts)) {
      if (isIcmp && wasCode) {
        if (parseUint(line, v0, te) < 0) return parseError(lineNo, 'bad-number', line, 'icmp-id');
      } else {
        const val = line.slice(v0, te);
        if (parseU32(val) < 0) return parseError(lineNo, 'bad-number', line, 'id');
        ctId = val;
      }
    } else if (klen === 4 && line.startsWith('mark', ts)) {
      const v = parseU32(line.slice(v0, te));
      if (v < 0) return parseError(lineNo, 'bad-number', line, 'mark');
      mark = v;
    } else if (klen === 4 && line.startsWith('zone', ts)) {
      const v = parseUint(line, v0, te);
      if (v < 0 || v > 65535) return parseError(lineNo, 'bad-number', line, 'zone');
      zone = v;
    } else if ((klen === 4 && line.startsWith('type', ts)) || (klen === 4 && line.startsWith('code', ts))) {
      const isType = k0 === 116;
      const v = parseUint(line, v0, te);
      if (v < 0 || v > 255) return parseError(lineNo, 'bad-number', line, isType ? 'type' : 'code');
      if (tuple === 0) {
        if (isType) icmpType = v;
        else icmpCode = v;
      }
      prevCode = !isType;
    }
    // use=, secctx=, delta-time=, portid=, progname=, labels=, helper=...: not FlowRecord fields.
  }

  if (tuple < 0 || src === '') return parseError(lineNo, 'missing-field', line, 'src');
  if (dst === '') return parseError(lineNo, 'missing-field', line, 'dst');
  const s = normalizeAddr(src);
  if (s === undefined) return parseError(lineNo, 'bad-address', line, 'src');
  const d = normalizeAddr(dst);
  if (d === undefined || d.family !== s.family) return parseError(lineNo, 'bad-address', line, 'dst');
  if (family !== 0 && family !== s.family) return parseError(lineNo, 'bad-address', line, 'src');

  const rec = newRecord('conntrack', event, observedAt >= 0 ? observedAt : now(), protocol, s, d, node);
  if (observedAt < 0 && start < 0 && stop < 0) rec.untimed = true;
  setTimesPortsIcmp(rec, start, stop, sport, dport, icmpType, icmpCode);
  if (tuple === 1) {
    if (rsrc === '' || rdst === '') return parseError(lineNo, 'missing-field', line, rsrc === '' ? 'src' : 'dst');
    const rs = rsrc === dst ? d : normalizeAddr(rsrc);
    if (rs === undefined) return parseError(lineNo, 'bad-address', line, 'reply-src');
    const rd = rdst === src ? s : normalizeAddr(rdst);
    if (rd === undefined) return parseError(lineNo, 'bad-address', line, 'reply-dst');
    const portsDiffer = !isIcmp && (rsport !== dport || rdport !== sport);
    if (rs.addr !== d.addr || rd.addr !== s.addr || portsDiffer) setReply(rec, rs.addr, rd.addr, rsport, rdport);
  }
  setCounters(rec, bytesO, pktsO, bytesR, pktsR);
  setConntrackState(rec, state, assured, unreplied, zone, mark, ctId);
  return rec;
}
