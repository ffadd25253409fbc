/**
 * Flow records held in columns (typed arrays indexed by slot), for state that keeps one record per
 * source for a long time (the first-sighting gate, gate.ts: a million one-shot sources each hold
 * their first attempt). Held as objects, every such record is a copy that survives young-generation
 * collections and is promoted (V8 then copies it twice and marks it at every full collection:
 * measured, garbage collection was 30 % of the rules stage on internet background noise); held in
 * columns, holding a record allocates nothing, and the record is rebuilt (a new object, equal to
 * the one stored) only when it is read back, which for the gate is when the source comes back.
 *
 * Compact form: a record whose addresses (source, destination, reply tuple) are canonical IPv4
 * text ({@link ipv4Bits}), whose numbers fit their columns (ports 0..65535, ICMP type and code
 * 0..255, counters and mark 0..2^32-1, zone 0..65535, protocol 0..255, ctId a canonical u32
 * decimal), whose enumerations are those of FlowRecord v1, and whose short texts (node, state,
 * log prefix, interfaces) fit in a dictionary of at most {@link TEXTS_MAX} distinct strings,
 * shared by all slots and never shrunk. Enrichment objects (`srcMeta`, `dstMeta`) are held by
 * reference (they are not cut from input lines). Any other record (IPv6, a counter past 2^32, a
 * new text with the dictionary full) is held as an object: a copy with detached strings
 * (retain.ts detachRecord), as before.
 *
 * What comes back: a record with the same FlowRecord v1 fields and values, its strings fresh (they
 * pin no input line); fields whose value was `undefined` are absent, and properties that are not
 * FlowRecord v1 fields are not kept.
 */
import type { EndpointMeta, FlowDirection, FlowEvent, FlowRecord, FlowSource } from '@floe/flow';
import { NOT_IPV4, ipv4Bits, ipv4Text } from './v4.js';
import { detach, detachRecord } from './retain.js';

/** Distinct short texts (node, state, log prefix, interface names) the dictionary holds at most. */
export const TEXTS_MAX = 65_536;

const SOURCES: readonly FlowSource[] = ['conntrack', 'conntrack-xml', 'nflog', 'nfct', 'kernel-log', 'file'];
const EVENTS: readonly FlowEvent[] = ['new', 'update', 'destroy', 'snapshot', 'log'];
const DIRECTIONS: readonly FlowDirection[] = ['ingress', 'egress', 'internal', 'external'];

// Bits of `has`: which optional fields the record has (and the values of its booleans).
const H_START = 1 << 0;
const H_END = 1 << 1;
const H_UNTIMED = 1 << 2;
const H_NODE = 1 << 3;
const H_SRC_PORT = 1 << 4;
const H_DST_PORT = 1 << 5;
const H_ICMP_TYPE = 1 << 6;
const H_ICMP_CODE = 1 << 7;
const H_REPLY_SRC = 1 << 8;
const H_REPLY_DST = 1 << 9;
const H_REPLY_SRC_PORT = 1 << 10;
const H_REPLY_DST_PORT = 1 << 11;
const H_BYTES_ORIG = 1 << 12;
const H_PACKETS_ORIG = 1 << 13;
const H_BYTES_REPLY = 1 << 14;
const H_PACKETS_REPLY = 1 << 15;
const H_STATE = 1 << 16;
const H_ASSURED = 1 << 17;
const H_UNREPLIED = 1 << 18;
const H_ZONE = 1 << 19;
const H_MARK = 1 << 20;
const H_CT_ID = 1 << 21;
const H_LOG_PREFIX = 1 << 22;
const H_VERDICT = 1 << 23;
const H_IN_IFACE = 1 << 24;
const H_OUT_IFACE = 1 << 25;
const H_DIRECTION = 1 << 26;
const H_SRC_META = 1 << 27;
const H_DST_META = 1 << 28;
/** Values of `assured` and `unreplied` when present. */
const V_ASSURED = 1 << 29;
const V_UNREPLIED = 1 << 30;
/** The slot holds the record as an object (not in compact form). */
const H_OBJECT = 1 << 31;

// Layout of `misc`: protocol (bits 0-7), family 6 (bit 8), event (9-11), source (12-14), verdict drop (15), direction (16-17).
const M_FAMILY6 = 1 << 8;
const M_EVENT = 9;
const M_SOURCE = 12;
const M_DROP = 1 << 15;
const M_DIRECTION = 16;

const isU8 = (x: number): boolean => x === (x & 0xff);
const isU16 = (x: number): boolean => x === (x & 0xffff);
const isU32 = (x: number): boolean => x === x >>> 0;

/** Index of `x` in the short list `list` (its strings are the literals of FlowRecord v1: compared by identity first), or -1. */
function indexIn(list: readonly string[], x: unknown): number {
  for (let i = 0; i < list.length; i++) if (list[i] === x) return i;
  return -1;
}

/** A canonical decimal u32 (`0`, `4294967295`; no sign, no leading zero) as a number, else -1. */
function u32Decimal(s: string): number {
  const n = s.length;
  if (n === 0 || n > 10 || (n > 1 && s.charCodeAt(0) === 48)) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v <= 0xffffffff ? v : -1;
}

/** Slots per page of columns (2^PAGE_BITS). */
const PAGE_BITS = 10;
const PAGE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE - 1;

/** The columns of {@link PAGE} consecutive slots, views of one buffer (98 bytes a slot). */
class Page {
  readonly observedAt: Float64Array;
  readonly start: Float64Array;
  readonly end: Float64Array;
  readonly has: Uint32Array;
  readonly misc: Uint32Array;
  readonly src: Uint32Array;
  readonly dst: Uint32Array;
  readonly replySrc: Uint32Array;
  readonly replyDst: Uint32Array;
  readonly bytesOrig: Uint32Array;
  readonly packetsOrig: Uint32Array;
  readonly bytesReply: Uint32Array;
  readonly packetsReply: Uint32Array;
  readonly mark: Uint32Array;
  readonly ctId: Uint32Array;
  readonly srcPort: Uint16Array;
  readonly dstPort: Uint16Array;
  readonly replySrcPort: Uint16Array;
  readonly replyDstPort: Uint16Array;
  /** ICMP type (high byte) and code (low byte). */
  readonly icmp: Uint16Array;
  readonly zone: Uint16Array;
  /** Dictionary indices of node, state, logPrefix, inIface, outIface: five per slot. */
  readonly texts: Uint16Array;
  /** Enrichment objects and records held as objects, made at their first use. */
  srcMeta: Array<EndpointMeta | undefined> | undefined = undefined;
  dstMeta: Array<EndpointMeta | undefined> | undefined = undefined;
  objects: Array<FlowRecord | undefined> | undefined = undefined;

  constructor() {
    const buf = new ArrayBuffer(PAGE * (3 * 8 + 12 * 4 + 11 * 2));
    let at = 0;
    const f64 = () => {
      const a = new Float64Array(buf, at, PAGE);
      at += PAGE * 8;
      return a;
    };
    const u32 = () => {
      const a = new Uint32Array(buf, at, PAGE);
      at += PAGE * 4;
      return a;
    };
    const u16 = (n = 1) => {
      const a = new Uint16Array(buf, at, PAGE * n);
      at += PAGE * 2 * n;
      return a;
    };
    this.observedAt = f64();
    this.start = f64();
    this.end = f64();
    this.has = u32();
    this.misc = u32();
    this.src = u32();
    this.dst = u32();
    this.replySrc = u32();
    this.replyDst = u32();
    this.bytesOrig = u32();
    this.packetsOrig = u32();
    this.bytesReply = u32();
    this.packetsReply = u32();
    this.mark = u32();
    this.ctId = u32();
    this.srcPort = u16();
    this.dstPort = u16();
    this.replySrcPort = u16();
    this.replyDstPort = u16();
    this.icmp = u16();
    this.zone = u16();
    this.texts = u16(5);
  }
}

/**
 * Records held by slot (any integer >= 0), in compact form when they fit (see module comment).
 * Columns come in pages of 1024 slots, made when a slot of the page is first stored (so growing
 * never copies); a slot's record is replaced by {@link store} and read by {@link load} (a new
 * object each time); {@link drop} forgets it. About 100 bytes a slot.
 */
export class HeldRecords {
  private readonly pages: Page[] = [];
  private readonly textIndex = new Map<string, number>();
  private readonly textList: string[] = [];
  /** The last text looked up for each of the five text fields, and its index: consecutive records mostly repeat them. */
  private readonly lastText: Array<string | undefined> = [undefined, undefined, undefined, undefined, undefined];
  private readonly lastIndex: number[] = [0, 0, 0, 0, 0];
  /** The last destination address and its bits (not detached: it pins at most the one input line it was cut from). */
  private lastDst = '';
  private lastDstBits = NOT_IPV4;
  /** Records stored in compact form and as objects so far. */
  readonly stored = { compact: 0, object: 0 };

  /** Distinct texts in the dictionary. */
  get textCount(): number {
    return this.textList.length;
  }

  /**
   * Hold `r` in `slot` (replacing what the slot held): compact when it fits, else as a detached
   * copy. `srcBits`: `ipv4Bits(r.srcAddr)` when the caller has it already.
   */
  store(slot: number, r: FlowRecord, srcBits: number = ipv4Bits(r.srcAddr)): void {
    const pg = this.pageFor(slot);
    const i = slot & PAGE_MASK;
    if (!this.storeCompact(pg, i, r, srcBits)) {
      pg.has[i] = H_OBJECT;
      (pg.objects ??= filled(PAGE))[i] = detachRecord(r);
      clearMeta(pg, i);
      this.stored.object++;
    } else {
      this.stored.compact++;
      if (pg.objects !== undefined && pg.objects[i] !== undefined) pg.objects[i] = undefined;
    }
  }

  /** Forget the record in `slot` (drops the references it holds). */
  drop(slot: number): void {
    const pg = this.pages[slot >>> PAGE_BITS];
    if (pg === undefined) return;
    const i = slot & PAGE_MASK;
    pg.has[i] = 0;
    if (pg.objects !== undefined) pg.objects[i] = undefined;
    clearMeta(pg, i);
  }

  /** True when `slot` holds its record in compact form (for tests and benches). */
  isCompact(slot: number): boolean {
    return (this.pageFor(slot).has[slot & PAGE_MASK] & H_OBJECT) === 0;
  }

  /** The record held in `slot`, as a new object (the copy itself for a record held as an object). */
  load(slot: number): FlowRecord {
    const pg = this.pageFor(slot);
    slot &= PAGE_MASK;
    const h = pg.has[slot];
    if ((h & H_OBJECT) !== 0) return (pg.objects as FlowRecord[])[slot];
    const m = pg.misc[slot];
    const t = slot * 5;
    const r: FlowRecord = {
      schema: 1,
      observedAt: pg.observedAt[slot],
      source: SOURCES[(m >>> M_SOURCE) & 7],
      event: EVENTS[(m >>> M_EVENT) & 7],
      family: (m & M_FAMILY6) !== 0 ? 6 : 4,
      protocol: m & 0xff,
      srcAddr: ipv4Text(pg.src[slot]),
      dstAddr: ipv4Text(pg.dst[slot]),
    };
    if ((h & H_NODE) !== 0) r.node = this.textList[pg.texts[t]];
    if ((h & H_START) !== 0) r.start = pg.start[slot];
    if ((h & H_END) !== 0) r.end = pg.end[slot];
    if ((h & H_SRC_PORT) !== 0) r.srcPort = pg.srcPort[slot];
    if ((h & H_DST_PORT) !== 0) r.dstPort = pg.dstPort[slot];
    if ((h & H_ICMP_TYPE) !== 0) r.icmpType = pg.icmp[slot] >>> 8;
    if ((h & H_ICMP_CODE) !== 0) r.icmpCode = pg.icmp[slot] & 0xff;
    if ((h & H_REPLY_SRC) !== 0) r.replySrcAddr = ipv4Text(pg.replySrc[slot]);
    if ((h & H_REPLY_DST) !== 0) r.replyDstAddr = ipv4Text(pg.replyDst[slot]);
    if ((h & H_REPLY_SRC_PORT) !== 0) r.replySrcPort = pg.replySrcPort[slot];
    if ((h & H_REPLY_DST_PORT) !== 0) r.replyDstPort = pg.replyDstPort[slot];
    if ((h & H_BYTES_ORIG) !== 0) r.bytesOrig = pg.bytesOrig[slot];
    if ((h & H_PACKETS_ORIG) !== 0) r.packetsOrig = pg.packetsOrig[slot];
    if ((h & H_BYTES_REPLY) !== 0) r.bytesReply = pg.bytesReply[slot];
    if ((h & H_PACKETS_REPLY) !== 0) r.packetsReply = pg.packetsReply[slot];
    if ((h & H_STATE) !== 0) r.state = this.textList[pg.texts[t + 1]];
    if ((h & H_ASSURED) !== 0) r.assured = (h & V_ASSURED) !== 0;
    if ((h & H_UNREPLIED) !== 0) r.unreplied = (h & V_UNREPLIED) !== 0;
    if ((h & H_ZONE) !== 0) r.zone = pg.zone[slot];
    if ((h & H_MARK) !== 0) r.mark = pg.mark[slot];
    if ((h & H_CT_ID) !== 0) r.ctId = String(pg.ctId[slot]);
    if ((h & H_LOG_PREFIX) !== 0) r.logPrefix = this.textList[pg.texts[t + 2]];
    if ((h & H_VERDICT) !== 0) r.verdict = (m & M_DROP) !== 0 ? 'drop' : 'accept';
    if ((h & H_IN_IFACE) !== 0) r.inIface = this.textList[pg.texts[t + 3]];
    if ((h & H_OUT_IFACE) !== 0) r.outIface = this.textList[pg.texts[t + 4]];
    if ((h & H_UNTIMED) !== 0) r.untimed = true;
    if ((h & H_DIRECTION) !== 0) r.direction = DIRECTIONS[(m >>> M_DIRECTION) & 3];
    if ((h & H_SRC_META) !== 0) r.srcMeta = (pg.srcMeta as EndpointMeta[])[slot];
    if ((h & H_DST_META) !== 0) r.dstMeta = (pg.dstMeta as EndpointMeta[])[slot];
    return r;
  }

  /** Write `r` to `slot`'s columns; false (nothing valid written) when it does not fit the compact form. */
  private storeCompact(pg: Page, slot: number, r: FlowRecord, src: number): boolean {
    if (r.schema !== 1 || typeof r.observedAt !== 'number' || (r.family !== 4 && r.family !== 6)) return false;
    const protocol = r.protocol;
    if (!isU8(protocol)) return false;
    // Consecutive records mostly share their destination (the node a packet log runs on).
    const d = r.dstAddr;
    let dst = this.lastDstBits;
    if (d !== this.lastDst) {
      dst = ipv4Bits(d);
      if (dst !== NOT_IPV4) {
        this.lastDst = d;
        this.lastDstBits = dst;
      }
    }
    const source = indexIn(SOURCES, r.source);
    const event = indexIn(EVENTS, r.event);
    if (src === NOT_IPV4 || dst === NOT_IPV4 || source < 0 || event < 0) return false;
    let h = 0;
    let m = protocol | (r.family === 6 ? M_FAMILY6 : 0) | (event << M_EVENT) | (source << M_SOURCE);
    const t = slot * 5;
    let x: number | string | boolean | undefined = r.node;
    if (x !== undefined) {
      const i = this.text(x, 0);
      if (i < 0) return false;
      pg.texts[t] = i;
      h |= H_NODE;
    }
    x = r.start;
    if (x !== undefined) {
      if (typeof x !== 'number') return false;
      pg.start[slot] = x;
      h |= H_START;
    }
    x = r.end;
    if (x !== undefined) {
      if (typeof x !== 'number') return false;
      pg.end[slot] = x;
      h |= H_END;
    }
    x = r.srcPort;
    if (x !== undefined) {
      if (!isU16(x)) return false;
      pg.srcPort[slot] = x;
      h |= H_SRC_PORT;
    }
    x = r.dstPort;
    if (x !== undefined) {
      if (!isU16(x)) return false;
      pg.dstPort[slot] = x;
      h |= H_DST_PORT;
    }
    if (r.icmpType !== undefined || r.icmpCode !== undefined) {
      const ty = r.icmpType ?? 0;
      const co = r.icmpCode ?? 0;
      if (!isU8(ty) || !isU8(co)) return false;
      pg.icmp[slot] = (ty << 8) | co;
      if (r.icmpType !== undefined) h |= H_ICMP_TYPE;
      if (r.icmpCode !== undefined) h |= H_ICMP_CODE;
    }
    x = r.replySrcAddr;
    if (x !== undefined) {
      const v = ipv4Bits(x);
      if (v === NOT_IPV4) return false;
      pg.replySrc[slot] = v;
      h |= H_REPLY_SRC;
    }
    x = r.replyDstAddr;
    if (x !== undefined) {
      const v = ipv4Bits(x);
      if (v === NOT_IPV4) return false;
      pg.replyDst[slot] = v;
      h |= H_REPLY_DST;
    }
    x = r.replySrcPort;
    if (x !== undefined) {
      if (!isU16(x)) return false;
      pg.replySrcPort[slot] = x;
      h |= H_REPLY_SRC_PORT;
    }
    x = r.replyDstPort;
    if (x !== undefined) {
      if (!isU16(x)) return false;
      pg.replyDstPort[slot] = x;
      h |= H_REPLY_DST_PORT;
    }
    x = r.bytesOrig;
    if (x !== undefined) {
      if (!isU32(x)) return false;
      pg.bytesOrig[slot] = x;
      h |= H_BYTES_ORIG;
    }
    x = r.packetsOrig;
    if (x !== undefined) {
      if (!isU32(x)) return false;
      pg.packetsOrig[slot] = x;
      h |= H_PACKETS_ORIG;
    }
    x = r.bytesReply;
    if (x !== undefined) {
      if (!isU32(x)) return false;
      pg.bytesReply[slot] = x;
      h |= H_BYTES_REPLY;
    }
    x = r.packetsReply;
    if (x !== undefined) {
      if (!isU32(x)) return false;
      pg.packetsReply[slot] = x;
      h |= H_PACKETS_REPLY;
    }
    x = r.state;
    if (x !== undefined) {
      const i = this.text(x, 1);
      if (i < 0) return false;
      pg.texts[t + 1] = i;
      h |= H_STATE;
    }
    x = r.assured;
    if (x !== undefined) {
      if (typeof x !== 'boolean') return false;
      h |= H_ASSURED | (x ? V_ASSURED : 0);
    }
    x = r.unreplied;
    if (x !== undefined) {
      if (typeof x !== 'boolean') return false;
      h |= H_UNREPLIED | (x ? V_UNREPLIED : 0);
    }
    x = r.zone;
    if (x !== undefined) {
      if (!isU16(x)) return false;
      pg.zone[slot] = x;
      h |= H_ZONE;
    }
    x = r.mark;
    if (x !== undefined) {
      if (!isU32(x)) return false;
      pg.mark[slot] = x;
      h |= H_MARK;
    }
    x = r.ctId;
    if (x !== undefined) {
      const v = typeof x === 'string' ? u32Decimal(x) : -1;
      if (v < 0) return false;
      pg.ctId[slot] = v;
      h |= H_CT_ID;
    }
    x = r.logPrefix;
    if (x !== undefined) {
      const i = this.text(x, 2);
      if (i < 0) return false;
      pg.texts[t + 2] = i;
      h |= H_LOG_PREFIX;
    }
    x = r.verdict;
    if (x !== undefined) {
      if (x !== 'accept' && x !== 'drop') return false;
      if (x === 'drop') m |= M_DROP;
      h |= H_VERDICT;
    }
    x = r.inIface;
    if (x !== undefined) {
      const i = this.text(x, 3);
      if (i < 0) return false;
      pg.texts[t + 3] = i;
      h |= H_IN_IFACE;
    }
    x = r.outIface;
    if (x !== undefined) {
      const i = this.text(x, 4);
      if (i < 0) return false;
      pg.texts[t + 4] = i;
      h |= H_OUT_IFACE;
    }
    x = r.untimed;
    if (x !== undefined) {
      if (x !== true) return false;
      h |= H_UNTIMED;
    }
    x = r.direction;
    if (x !== undefined) {
      const d = indexIn(DIRECTIONS, x);
      if (d < 0) return false;
      m |= d << M_DIRECTION;
      h |= H_DIRECTION;
    }
    // Last: nothing can fail after the references are written.
    const sm = r.srcMeta;
    if (sm !== undefined) {
      (pg.srcMeta ??= filled(PAGE))[slot] = sm;
      h |= H_SRC_META;
    } else if (pg.srcMeta !== undefined && pg.srcMeta[slot] !== undefined) pg.srcMeta[slot] = undefined;
    const dm = r.dstMeta;
    if (dm !== undefined) {
      (pg.dstMeta ??= filled(PAGE))[slot] = dm;
      h |= H_DST_META;
    } else if (pg.dstMeta !== undefined && pg.dstMeta[slot] !== undefined) pg.dstMeta[slot] = undefined;
    pg.has[slot] = h;
    pg.misc[slot] = m;
    pg.observedAt[slot] = r.observedAt;
    pg.src[slot] = src;
    pg.dst[slot] = dst;
    return true;
  }

  /**
   * The dictionary index of `s`, the value of text field `field` (0 node .. 4 outIface), added
   * (detached) when new; -1 when it is not a string or the dictionary is full.
   */
  private text(s: unknown, field: number): number {
    if (typeof s !== 'string') return -1;
    if (s === this.lastText[field]) return this.lastIndex[field];
    const i = this.textIndex.get(s) ?? this.added(s);
    if (i >= 0) {
      this.lastText[field] = this.textList[i];
      this.lastIndex[field] = i;
    }
    return i;
  }

  /** Add `s` (not in the dictionary yet) and return its index, or -1 when the dictionary is full. */
  private added(s: string): number {
    const n = this.textList.length;
    if (n >= TEXTS_MAX) return -1;
    const d = detach(s);
    this.textIndex.set(d, n);
    this.textList.push(d);
    return n;
  }

  private pageFor(slot: number): Page {
    const p = slot >>> PAGE_BITS;
    let pg = this.pages[p];
    if (pg === undefined) {
      while (this.pages.length < p) this.pages.push(new Page());
      pg = new Page();
      this.pages[p] = pg;
    }
    return pg;
  }
}

function clearMeta(pg: Page, i: number): void {
  if (pg.srcMeta !== undefined && pg.srcMeta[i] !== undefined) pg.srcMeta[i] = undefined;
  if (pg.dstMeta !== undefined && pg.dstMeta[i] !== undefined) pg.dstMeta[i] = undefined;
}

/** A packed array of `n` undefined. */
function filled<T>(n: number): Array<T | undefined> {
  return new Array<T | undefined>(n).fill(undefined);
}
