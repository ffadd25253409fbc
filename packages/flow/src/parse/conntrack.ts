import { normalizeAddr } from '../addr.js';
import type { FlowEvent, FlowRecord } from '../record.js';
import { parseEpochSecondsToMs, parsePort, parseU32, parseUint } from './num.js';
import { parseError, type LineParser, type ParseError, type ParserOptions } from './types.js';

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

const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

/** Split on spaces and tabs; no empty tokens. */
function tokenize(line: string): string[] {
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    let c = line.charCodeAt(i);
    while (c === 32 || c === 9) {
      if (++i >= n) return out;
      c = line.charCodeAt(i);
    }
    const s = i;
    while (i < n) {
      c = line.charCodeAt(i);
      if (c === 32 || c === 9 || c === 13) break;
      i++;
    }
    if (i > s) out.push(line.slice(s, i));
    if (c === 13) i++;
  }
  return out;
}

/** True when tok is all upper-case letters and underscores (a conntrack state name). */
function isStateName(tok: string): boolean {
  for (let i = 0; i < tok.length; i++) {
    const c = tok.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || c === 95)) return false;
  }
  return tok.length > 0;
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
export function parseConntrackLine(
  line: string,
  lineNo: number,
  now: () => number,
  node: string | undefined,
): FlowRecord | ParseError | null {
  const tok = tokenize(line);
  const n = tok.length;
  if (n === 0) return null;
  let i = 0;
  let observedAt = -1;
  let t = tok[0];
  if (t.charCodeAt(0) === 91 /* [ */ && t.length > 2 && t.charCodeAt(1) >= 48 && t.charCodeAt(1) <= 57) {
    if (t.charCodeAt(t.length - 1) !== 93) return parseError(lineNo, 'bad-timestamp', line, 'timestamp');
    observedAt = parseEpochSecondsToMs(t, 1, t.length - 1);
    if (observedAt < 0) return parseError(lineNo, 'bad-timestamp', line, 'timestamp');
    if (++i >= n) return parseError(lineNo, 'unknown-line', line);
    t = tok[i];
  }
  let event: FlowEvent = 'snapshot';
  if (t.charCodeAt(0) === 91) {
    const ev = EVENTS[t];
    if (ev === undefined) return parseError(lineNo, 'unknown-line', line, 'event');
    event = ev;
    if (++i >= n) return parseError(lineNo, 'unknown-line', line);
    t = tok[i];
  }
  let family: 4 | 6 | 0 = 0;
  if (t === 'ipv4' || t === 'ipv6') {
    const l3 = parseUint(tok[i + 1] ?? '');
    if ((t === 'ipv4' && l3 !== 2) || (t === 'ipv6' && l3 !== 10)) {
      return parseError(lineNo, 'bad-number', line, 'l3proto');
    }
    family = t === 'ipv4' ? 4 : 6;
    i += 2;
    if (i >= n) return parseError(lineNo, 'unknown-line', line);
  }
  // Layer 4: a lower-case name then the IANA number.
  const pname = tok[i];
  const c0 = pname.charCodeAt(0);
  if (!(c0 >= 97 && c0 <= 122) || i + 1 >= n) {
    if (isSummaryLine(line)) return null;
    return parseError(lineNo, 'unknown-line', line);
  }
  const protocol = parseUint(tok[i + 1]);
  if (protocol < 0 || protocol > 255) {
    if (isSummaryLine(line)) return null;
    return parseError(lineNo, protocol < 0 ? 'unknown-line' : 'bad-number', line, 'protocol');
  }
  i += 2;
  // Optional timeout and state.
  if (i < n) {
    const c = tok[i].charCodeAt(0);
    if (c >= 48 && c <= 57) {
      if (parseUint(tok[i]) < 0) return parseError(lineNo, 'bad-number', line, 'timeout');
      i++;
    }
  }
  let state: string | undefined;
  if (i < n && isStateName(tok[i])) state = tok[i++];

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
  let prevKey = '';

  for (; i < n; i++) {
    t = tok[i];
    if (t.charCodeAt(0) === 91 /* [ */) {
      if (t.startsWith('[start=') || t.startsWith('[stop=')) {
        const isStart = t.startsWith('[start=');
        const parts = [t.slice(isStart ? 7 : 6)];
        while (!tok[i].endsWith(']') && i + 1 < n) parts.push(tok[++i]);
        const last = parts.length - 1;
        if (!parts[last].endsWith(']')) return parseError(lineNo, 'bad-timestamp', line, isStart ? 'start' : 'stop');
        parts[last] = parts[last].slice(0, -1);
        const ms = parseCtime(parts);
        if (ms < 0) return parseError(lineNo, 'bad-timestamp', line, isStart ? 'start' : 'stop');
        if (isStart) start = ms;
        else stop = ms;
      } else if (t === '[ASSURED]') assured = true;
      else if (t === '[UNREPLIED]') unreplied = true;
      // Other flags ([OFFLOAD], [HW_OFFLOAD], [USERSPACE], [DYING], ...) carry nothing for a FlowRecord.
      prevKey = '';
      continue;
    }
    const eq = t.indexOf('=');
    if (eq <= 0) return parseError(lineNo, 'unexpected-token', line, t.length > 40 ? t.slice(0, 40) : t);
    const key = t.slice(0, eq);
    const val = t.slice(eq + 1);
    switch (key) {
      case 'src':
        tuple++;
        if (tuple > 1) return parseError(lineNo, 'unexpected-token', line, 'src');
        if (tuple === 0) src = val;
        else rsrc = val;
        break;
      case 'dst':
        if (tuple === 0) dst = val;
        else if (tuple === 1) rdst = val;
        else return parseError(lineNo, 'missing-field', line, 'src');
        break;
      case 'sport':
      case 'dport': {
        const p = parsePort(val);
        if (p < 0) return parseError(lineNo, 'bad-port', line, key);
        if (tuple === 0) {
          if (key === 'sport') sport = p;
          else dport = p;
        } else if (tuple === 1) {
          if (key === 'sport') rsport = p;
          else rdport = p;
        }
        break;
      }
      case 'type':
      case 'code': {
        const v = parseUint(val);
        if (v < 0 || v > 255) return parseError(lineNo, 'bad-number', line, key);
        if (tuple === 0) {
          if (key === 'type') icmpType = v;
          else icmpCode = v;
        }
        break;
      }
      case 'packets':
      case 'bytes': {
        const v = parseUint(val);
        if (v < 0) return parseError(lineNo, 'bad-number', line, key);
        if (tuple === 0) {
          if (key === 'packets') pktsO = v;
          else bytesO = v;
        } else if (tuple === 1) {
          if (key === 'packets') pktsR = v;
          else bytesR = v;
        }
        break;
      }
      case 'id':
        if (isIcmp && prevKey === 'code') {
          if (parseUint(val) < 0) return parseError(lineNo, 'bad-number', line, 'icmp-id');
        } else {
          if (parseU32(val) < 0) return parseError(lineNo, 'bad-number', line, 'id');
          ctId = val;
        }
        break;
      case 'mark': {
        const v = parseU32(val);
        if (v < 0) return parseError(lineNo, 'bad-number', line, 'mark');
        mark = v;
        break;
      }
      case 'zone': {
        const v = parseUint(val);
        if (v < 0 || v > 65535) return parseError(lineNo, 'bad-number', line, 'zone');
        zone = v;
        break;
      }
      default:
        // use=, secctx=, delta-time=, portid=, progname=, labels=, helper=...: not FlowRecord fields.
        break;
    }
    prevKey = key;
  }

  if (tuple < 0 || src === '') return parseError(lineNo, 'missing-field', line, 'src');
  if (dst === '') return parseError(lineNo, 'missing-field', line, 'dst');
  const s = normalizeAddr(src);
  if (s === undefined) return parseError(lineNo, 'bad-address', line, 'src');
  const d = normalizeAddr(dst);
  if (d === undefined || d.family !== s.family) return parseError(lineNo, 'bad-address', line, 'dst');
  if (family !== 0 && family !== s.family) return parseError(lineNo, 'bad-address', line, 'src');

  const rec: FlowRecord = {
    schema: 1,
    observedAt: observedAt >= 0 ? observedAt : now(),
    source: 'conntrack',
    event,
    family: s.family,
    protocol,
    srcAddr: s.addr,
    dstAddr: d.addr,
  };
  if (node !== undefined) rec.node = node;
  if (start >= 0) rec.start = start;
  if (stop >= 0) rec.end = stop;
  if (sport >= 0) rec.srcPort = sport;
  if (dport >= 0) rec.dstPort = dport;
  if (icmpType >= 0) rec.icmpType = icmpType;
  if (icmpCode >= 0) rec.icmpCode = icmpCode;
  if (tuple === 1) {
    if (rsrc === '' || rdst === '') return parseError(lineNo, 'missing-field', line, rsrc === '' ? 'src' : 'dst');
    const rs = rsrc === dst ? d : normalizeAddr(rsrc);
    if (rs === undefined) return parseError(lineNo, 'bad-address', line, 'reply-src');
    const rd = rdst === src ? s : normalizeAddr(rdst);
    if (rd === undefined) return parseError(lineNo, 'bad-address', line, 'reply-dst');
    const portsDiffer = !isIcmp && (rsport !== dport || rdport !== sport);
    if (rs.addr !== d.addr || rd.addr !== s.addr || portsDiffer) {
      rec.replySrcAddr = rs.addr;
      rec.replyDstAddr = rd.addr;
      if (rsport >= 0) rec.replySrcPort = rsport;
      if (rdport >= 0) rec.replyDstPort = rdport;
    }
  }
  if (bytesO >= 0) rec.bytesOrig = bytesO;
  if (pktsO >= 0) rec.packetsOrig = pktsO;
  if (bytesR >= 0) rec.bytesReply = bytesR;
  if (pktsR >= 0) rec.packetsReply = pktsR;
  if (state !== undefined) rec.state = state;
  if (assured) rec.assured = true;
  if (unreplied) rec.unreplied = true;
  if (zone >= 0) rec.zone = zone;
  if (mark >= 0) rec.mark = mark;
  if (ctId !== undefined) rec.ctId = ctId;
  return rec;
}
