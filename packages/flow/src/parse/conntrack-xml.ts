import { normalizeAddr } from '../addr.js';
import type { FlowEvent, FlowRecord } from '../record.js';
import { newRecord, setConntrackState, setCounters, setReply, setTimesPortsIcmp } from './build.js';
import { parsePort, parseU32, parseUint } from './num.js';
import { parseError, type LineParser, type ParseError, type ParserOptions } from './types.js';

/**
 * `conntrack -o xml` streams (source 'conntrack-xml'), as written by libnetfilter_conntrack's
 * snprintf_xml.c: an XML prologue, `<conntrack>`, then one `<flow type="new|update|destroy">`
 * per event (`<flow>` without type for a `-L` dump: event 'snapshot'), each holding
 * `<meta direction="original|reply">` (layer3 src/dst, layer4 protonum with sport/dport, and
 * `<counters><packets/><bytes/></counters>` when accounting is on, `<zone>`), then
 * `<meta direction="independent">` (state, timeout, mark, secmark, zone, use, id, `<assured/>`,
 * `<unreplied/>`, `<timestamp><start>ns</start><stop>ns</stop></timestamp>`, deltatime), then an
 * optional `<when>` (local wall clock of the event: hour, min, sec, wday, day, month, year).
 *
 * conntrack-tools writes one flow per line; a flow split over several lines is buffered until
 * `</flow>` (the record or error then carries the line number where the flow began, and the
 * lines before are returned as null). A line may hold any number of flows (older conntrack
 * versions write a whole `-L` dump on one line): parseLine returns the first result and keeps
 * the others for drain(), which parseLines calls after every line; a LineReader cuts a line over
 * its bound after `</flow>` so such a line never needs to be held whole. Only the unfinished
 * flow at the end of a line is kept (at most MAX_FLOW_CHARS, else `unterminated-flow`); end()
 * reports an unterminated last flow. Text between flows other than the XML prologue and the
 * `<conntrack>` tags is ignored. No entity other than the five XML built-ins is expected.
 */
export function createConntrackXmlParser(opts: ParserOptions = {}): LineParser {
  const now = opts.now ?? Date.now;
  const node = opts.node;
  let pending = '';
  let pendingLine = 0;
  const queue: Array<FlowRecord | ParseError> = [];
  const parseLine = (line: string, lineNo: number): FlowRecord | ParseError | null => {
    const text = pending === '' ? line : pending + line;
    const first = pending === '' ? lineNo : pendingLine;
    const lineStart = text.length - line.length;
    pending = '';
    let pos = 0;
    let found = false;
    for (;;) {
      const open = text.indexOf('<flow', pos);
      if (open < 0) {
        if (!found && !isFrame(text.slice(pos))) queue.push(parseError(first, 'unknown-line', text));
        break;
      }
      found = true;
      const at = open >= lineStart ? lineNo : first;
      const close = text.indexOf('</flow>', open);
      if (close < 0) {
        if (text.length - open > MAX_FLOW_CHARS) queue.push(parseError(at, 'unterminated-flow', text.slice(open)));
        else {
          pending = text.slice(open);
          pendingLine = at;
        }
        break;
      }
      queue.push(parseFlowXml(text, open, close, at, now, node));
      pos = close + 7;
    }
    return queue.shift() ?? null;
  };
  return {
    format: 'conntrack-xml',
    parseLine,
    drain(): Array<FlowRecord | ParseError> {
      return queue.splice(0, queue.length);
    },
    end(): Array<FlowRecord | ParseError> {
      const out = queue.splice(0, queue.length);
      if (pending !== '') out.push(parseError(pendingLine, 'unterminated-flow', pending));
      pending = '';
      return out;
    },
  };
}

/** True for text between flows that carries nothing: blanks, the XML prologue, `<conntrack>` tags. */
function isFrame(t: string): boolean {
  const s = t
    .replace(/<\?xml[^>]*\?>/g, '')
    .replace(/<\/?conntrack>/g, '')
    .trim();
  return s === '';
}

/** A flow longer than this without `</flow>` is dropped as an error. */
const MAX_FLOW_CHARS = 64 * 1024;

function unescapeXml(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&apos;', "'").replaceAll('&amp;', '&');
}

function isDigits(s: string, max: number): boolean {
  if (s.length === 0 || s.length > max) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function attr(tag: string, name: string): string | undefined {
  const k = tag.indexOf(` ${name}="`);
  if (k < 0) return undefined;
  const s = k + name.length + 3;
  const e = tag.indexOf('"', s);
  return e < 0 ? undefined : tag.slice(s, e);
}

const FLOW_EVENTS: Record<string, FlowEvent> = { new: 'new', update: 'update', destroy: 'destroy' };

/** Parse text[open .. close+7) as one <flow> element. */
function parseFlowXml(text: string, open: number, close: number, lineNo: number, now: () => number, node: string | undefined): FlowRecord | ParseError {
  const headEnd = text.indexOf('>', open);
  const head = text.slice(open, headEnd + 1);
  let event: FlowEvent = 'snapshot';
  const type = attr(head, 'type');
  if (type !== undefined) {
    const ev = FLOW_EVENTS[type];
    if (ev === undefined) return parseError(lineNo, 'bad-value', text, 'type');
    event = ev;
  }
  // dir: 0 original, 1 reply, 2 independent, 3 when
  let dir = -1;
  const addr: string[] = ['', '', '', ''];
  const port = [-1, -1, -1, -1];
  const counters = [-1, -1, -1, -1]; // packets O, bytes O, packets R, bytes R
  let l3 = -1;
  let protocol = -1;
  let icmpType = -1;
  let icmpCode = -1;
  let state: string | undefined;
  let mark = -1;
  let zone = -1;
  let ctId: string | undefined;
  let assured = false;
  let unreplied = false;
  let tsStart = -1;
  let tsStop = -1;
  let inTimestamp = false;
  const when: Record<string, number> = {};

  let i = headEnd + 1;
  while (i < close) {
    const lt = text.indexOf('<', i);
    if (lt < 0 || lt >= close) break;
    const gt = text.indexOf('>', lt);
    if (gt < 0 || gt > close) return parseError(lineNo, 'bad-xml', text);
    const tag = text.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.charCodeAt(0) === 47 /* / */) {
      if (tag === '/meta') dir = -1;
      else if (tag === '/timestamp') inTimestamp = false;
      else if (tag === '/when') dir = -1;
      continue;
    }
    const sp = tag.indexOf(' ');
    const selfClosing = tag.charCodeAt(tag.length - 1) === 47;
    const name = sp < 0 ? (selfClosing ? tag.slice(0, -1) : tag) : tag.slice(0, sp);
    if (name === 'meta') {
      const d = attr(tag, 'direction');
      dir = d === 'original' ? 0 : d === 'reply' ? 1 : d === 'independent' ? 2 : -1;
      if (dir < 0) return parseError(lineNo, 'bad-value', text, 'direction');
      continue;
    }
    if (name === 'when') {
      dir = 3;
      continue;
    }
    if (name === 'layer3') {
      if (dir === 0) l3 = parseUint(attr(tag, 'protonum') ?? '');
      continue;
    }
    if (name === 'layer4') {
      const p = parseUint(attr(tag, 'protonum') ?? '');
      if (p < 0 || p > 255) return parseError(lineNo, 'bad-number', text, 'protonum');
      if (dir === 0) protocol = p;
      continue;
    }
    if (name === 'assured' && selfClosing) {
      assured = true;
      continue;
    }
    if (name === 'unreplied' && selfClosing) {
      unreplied = true;
      continue;
    }
    if (name === 'timestamp') {
      inTimestamp = true;
      continue;
    }
    if (name === 'counters' || selfClosing) continue;
    // A leaf element: read its text up to the next '<'.
    const end = text.indexOf('<', i);
    if (end < 0 || end > close) return parseError(lineNo, 'bad-xml', text, name);
    const value = unescapeXml(text.slice(i, end));
    i = end;
    switch (name) {
      case 'src':
      case 'dst':
        if (dir === 0 || dir === 1) addr[dir * 2 + (name === 'src' ? 0 : 1)] = value;
        break;
      case 'sport':
      case 'dport': {
        const p = parsePort(value);
        if (p < 0) return parseError(lineNo, 'bad-port', text, name);
        if (dir === 0 || dir === 1) port[dir * 2 + (name === 'sport' ? 0 : 1)] = p;
        break;
      }
      case 'type':
      case 'code': {
        const v = parseUint(value);
        if (v < 0 || v > 255) return parseError(lineNo, 'bad-number', text, name);
        if (dir === 0) {
          if (name === 'type') icmpType = v;
          else icmpCode = v;
        }
        break;
      }
      case 'packets':
      case 'bytes': {
        const v = parseUint(value);
        if (v < 0) return parseError(lineNo, 'bad-number', text, name);
        if (dir === 0 || dir === 1) counters[dir * 2 + (name === 'packets' ? 0 : 1)] = v;
        break;
      }
      case 'state':
        if (dir === 2) state = value;
        break;
      case 'mark': {
        const v = parseU32(value);
        if (v < 0) return parseError(lineNo, 'bad-number', text, name);
        mark = v;
        break;
      }
      case 'zone': {
        const v = parseUint(value);
        if (v < 0 || v > 65535) return parseError(lineNo, 'bad-number', text, name);
        if (dir === 2 || zone < 0) zone = v;
        break;
      }
      case 'id':
        if (dir === 2) {
          if (parseU32(value) < 0) return parseError(lineNo, 'bad-number', text, name);
          ctId = value;
        }
        break;
      case 'start':
      case 'stop': {
        if (!inTimestamp) break;
        // Nanoseconds since epoch exceed 2^53: read them as a BigInt.
        if (!isDigits(value, 20)) return parseError(lineNo, 'bad-number', text, name);
        const ms = Number(BigInt(value) / 1000000n);
        if (name === 'start') tsStart = ms;
        else tsStop = ms;
        break;
      }
      default:
        if (dir === 3) {
          const v = parseUint(value);
          if (v < 0) return parseError(lineNo, 'bad-number', text, name);
          when[name] = v;
        }
        // timeout, use, secmark, secctx, deltatime, helper, label: not FlowRecord fields.
        break;
    }
  }

  if (addr[0] === '') return parseError(lineNo, 'missing-field', text, 'src');
  if (addr[1] === '') return parseError(lineNo, 'missing-field', text, 'dst');
  if (protocol < 0) return parseError(lineNo, 'missing-field', text, 'layer4');
  const s = normalizeAddr(addr[0]);
  if (s === undefined) return parseError(lineNo, 'bad-address', text, 'src');
  const d = normalizeAddr(addr[1]);
  if (d === undefined || d.family !== s.family) return parseError(lineNo, 'bad-address', text, 'dst');
  // layer3 protonum is the address family: AF_INET 2, AF_INET6 10.
  if ((l3 === 2 && s.family !== 4) || (l3 === 10 && s.family !== 6)) {
    return parseError(lineNo, 'bad-address', text, 'src');
  }
  let observedAt = -1;
  if (when.year !== undefined && when.month !== undefined && when.day !== undefined) {
    observedAt = new Date(when.year, when.month - 1, when.day, when.hour ?? 0, when.min ?? 0, when.sec ?? 0).getTime();
  }
  const rec = newRecord('conntrack-xml', event, observedAt >= 0 ? observedAt : now(), protocol, s, d, node);
  if (observedAt < 0 && tsStart < 0 && tsStop < 0) rec.untimed = true;
  setTimesPortsIcmp(rec, tsStart, tsStop, port[0], port[1], icmpType, icmpCode);
  if (addr[2] !== '' && addr[3] !== '') {
    const rs = normalizeAddr(addr[2]);
    if (rs === undefined) return parseError(lineNo, 'bad-address', text, 'reply-src');
    const rd = normalizeAddr(addr[3]);
    if (rd === undefined) return parseError(lineNo, 'bad-address', text, 'reply-dst');
    if (rs.addr !== d.addr || rd.addr !== s.addr || port[2] !== port[1] || port[3] !== port[0]) {
      setReply(rec, rs.addr, rd.addr, port[2], port[3]);
    }
  }
  setCounters(rec, counters[1], counters[0], counters[3], counters[2]);
  setConntrackState(rec, state, assured, unreplied, zone, mark, ctId);
  return rec;
}
