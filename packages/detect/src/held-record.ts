/**
 * Flow records held in typed arrays (a fixed-size row per slot), for state that keeps one record per
 * source for a long time (the first-sighting gate, gate.ts: a million one-shot sources each hold
 * their first attempt). Held as objects, every such record is a copy that survives young-generation
 * collections and is promoted (V8 then copies it twice and marks it at every full collection:
 * measured, garbage collection was 30 % of the rules stage on internet background noise); held in
 * rows, holding a record allocates nothing, and the record is rebuilt (a new object, equal to
 * the one stored) only when it is read back, which for the gate is when the source comes back.
 *
 * Compact form: a record whose addresses (source, destination, reply tuple) are canonical IPv4
 * text ({@link ipv4Bits}), whose numbers fit their fields (ports 0..65535, ICMP type and code
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

// A slot's HOT row: 16 u32 (64 bytes, one cache line), what nearly every record has. Offsets in u32.
const R_HAS = 0;
const R_MISC = 1;
/** observedAt, start, end: f64 at u32 offsets 2, 4, 6 (f64 offsets 1, 2, 3 of the row). */
const R_OBSERVED = 1;
const R_START = 2;
const R_END = 3;
const R_SRC = 8;
const R_DST = 9;
/** srcPort (low 16 bits), dstPort (high 16 bits). */
const R_PORTS = 10;
const R_BYTES_ORIG = 11;
const R_PACKETS_ORIG = 12;
/** Dictionary indices: node | state << 16, logPrefix | inIface << 16, outIface | icmpType << 16 | icmpCode << 24. */
const R_TEXT_A = 13;
const R_TEXT_B = 14;
const R_TEXT_C = 15;
const HOT = 16;
// A slot's COLD row: 8 u32 (32 bytes), made per page at the first record that needs it.
const C_REPLY_SRC = 0;
const C_REPLY_DST = 1;
/** replySrcPort (low 16 bits), replyDstPort (high 16 bits). */
const C_REPLY_PORTS = 2;
const C_BYTES_REPLY = 3;
const C_PACKETS_REPLY = 4;
const C_ZONE = 5;
const C_MARK = 6;
const C_CT_ID = 7;
const COLD = 8;

/**
 * The rows of {@link PAGE} consecutive slots: a record held in compact form writes one hot row (a
 * cache line; 64 bytes a slot) and, for conntrack's reply tuple, reply counters, zone, mark or id,
 * one cold row (32 bytes a slot, made for the page at its first use).
 */
class Page {
  readonly hot: Uint32Array;
  readonly hot64: Float64Array;
  cold: Uint32Array | undefined = undefined;
  /** Enrichment objects and records held as objects, made at their first use. */
  srcMeta: Array<EndpointMeta | undefined> | undefined = undefined;
  dstMeta: Array<EndpointMeta | undefined> | undefined = undefined;
  objects: Array<FlowRecord | undefined> | undefined = undefined;

  constructor() {
    const buf = new ArrayBuffer(PAGE * HOT * 4);
    this.hot = new Uint32Array(buf);
    this.hot64 = new Float64Array(buf);
  }
}

/**
 * Records held by slot (any integer >= 0), in compact form when they fit (see module comment).
 * Columns come in pages of 1024 slots, made when a slot of the page is first stored (so growing
 * never copies); a slot's record is replaced by {@link store} and read by {@link load} (a new
 * object each time); {@link drop} forgets it. 64 bytes a slot (96 with a cold row).
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
      pg.hot[i * HOT + R_HAS] = H_OBJECT;
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
    pg.hot[i * HOT + R_HAS] = 0;
    if (pg.objects !== undefined) pg.objects[i] = undefined;
    clearMeta(pg, i);
  }

  /** True when `slot` holds its record in compact form (for tests and benches). */
  isCompact(slot: number): boolean {
    return (this.pageFor(slot).hot[(slot & PAGE_MASK) * HOT + R_HAS] & H_OBJECT) === 0;
  }

  /** The record held in `slot`, as a new object (the copy itself for a record held as an object). */
  load(slot: number): FlowRecord {
    const pg = this.pageFor(slot);
    slot &= PAGE_MASK;
    const row = slot * HOT;
    const hot = pg.hot;
    const f64 = pg.hot64;
    const h = hot[row + R_HAS];
    if ((h & H_OBJECT) !== 0) return (pg.objects as FlowRecord[])[slot];
    const m = hot[row + R_MISC];
    const ta = hot[row + R_TEXT_A];
    const tb = hot[row + R_TEXT_B];
    const tc = hot[row + R_TEXT_C];
    const ports = hot[row + R_PORTS];
    const r: FlowRecord = {
      schema: 1,
      observedAt: f64[row / 2 + R_OBSERVED],
      source: SOURCES[(m >>> M_SOURCE) & 7],
      event: EVENTS[(m >>> M_EVENT) & 7],
      family: (m & M_FAMILY6) !== 0 ? 6 : 4,
      protocol: m & 0xff,
      srcAddr: ipv4Text(hot[row + R_SRC]),
      dstAddr: ipv4Text(hot[row + R_DST]),
    };
    if ((h & H_NODE) !== 0) r.node = this.textList[ta & 0xffff];
    if ((h & H_START) !== 0) r.start = f64[row / 2 + R_START];
    if ((h & H_END) !== 0) r.end = f64[row / 2 + R_END];
    if ((h & H_SRC_PORT) !== 0) r.srcPort = ports & 0xffff;
    if ((h & H_DST_PORT) !== 0) r.dstPort = ports >>> 16;
    if ((h & H_ICMP_TYPE) !== 0) r.icmpType = (tc >>> 16) & 0xff;
    if ((h & H_ICMP_CODE) !== 0) r.icmpCode = tc >>> 24;
    const cold = pg.cold;
    const c = slot * COLD;
    if (cold !== undefined) {
      if ((h & H_REPLY_SRC) !== 0) r.replySrcAddr = ipv4Text(cold[c + C_REPLY_SRC]);
      if ((h & H_REPLY_DST) !== 0) r.replyDstAddr = ipv4Text(cold[c + C_REPLY_DST]);
      if ((h & H_REPLY_SRC_PORT) !== 0) r.replySrcPort = cold[c + C_REPLY_PORTS] & 0xffff;
      if ((h & H_REPLY_DST_PORT) !== 0) r.replyDstPort = cold[c + C_REPLY_PORTS] >>> 16;
    }
    if ((h & H_BYTES_ORIG) !== 0) r.bytesOrig = hot[row + R_BYTES_ORIG];
    if ((h & H_PACKETS_ORIG) !== 0) r.packetsOrig = hot[row + R_PACKETS_ORIG];
    if (cold !== undefined) {
      if ((h & H_BYTES_REPLY) !== 0) r.bytesReply = cold[c + C_BYTES_REPLY];
      if ((h & H_PACKETS_REPLY) !== 0) r.packetsReply = cold[c + C_PACKETS_REPLY];
    }
    if ((h & H_STATE) !== 0) r.state = this.textList[ta >>> 16];
    if ((h & H_ASSURED) !== 0) r.assured = (h & V_ASSURED) !== 0;
    if ((h & H_UNREPLIED) !== 0) r.unreplied = (h & V_UNREPLIED) !== 0;
    if (cold !== undefined) {
      if ((h & H_ZONE) !== 0) r.zone = cold[c + C_ZONE];
      if ((h & H_MARK) !== 0) r.mark = cold[c + C_MARK];
      if ((h & H_CT_ID) !== 0) r.ctId = String(cold[c + C_CT_ID]);
    }
    if ((h & H_LOG_PREFIX) !== 0) r.logPrefix = this.textList[tb & 0xffff];
    if ((h & H_VERDICT) !== 0) r.verdict = (m & M_DROP) !== 0 ? 'drop' : 'accept';
    if ((h & H_IN_IFACE) !== 0) r.inIface = this.textList[tb >>> 16];
    if ((h & H_OUT_IFACE) !== 0) r.outIface = this.textList[tc & 0xffff];
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
    const row = slot * HOT;
    const f64 = pg.hot64;
    let ta = 0;
    let tb = 0;
    let tc = 0;
    let ports = 0;
    let x: number | string | boolean | undefined = r.node;
    if (x !== undefined) {
      const i = this.text(x, 0);
      if (i < 0) return false;
      ta = i;
      h |= H_NODE;
    }
    x = r.start;
    if (x !== undefined) {
      if (typeof x !== 'number') return false;
      f64[row / 2 + R_START] = x;
      h |= H_START;
    }
    x = r.end;
    if (x !== undefined) {
      if (typeof x !== 'number') return false;
      f64[row / 2 + R_END] = x;
      h |= H_END;
    }
    x = r.srcPort;
    if (x !== undefined) {
      if (!isU16(x)) return false;
      ports = x;
      h |= H_SRC_PORT;
    }
    x = r.dstPort;
    if (x !== undefined) {
      if (!isU16(x)) return false;
      ports |= x << 16;
      h |= H_DST_PORT;
    }
    x = r.icmpType;
    if (x !== undefined) {
      if (!isU8(x)) return false;
      tc |= x << 16;
      h |= H_ICMP_TYPE;
    }
    x = r.icmpCode;
    if (x !== undefined) {
      if (!isU8(x)) return false;
      tc |= x << 24;
      h |= H_ICMP_CODE;
    }
    const hot = pg.hot;
    x = r.bytesOrig;
    if (x !== undefined) {
      if (!isU32(x)) return false;
      hot[row + R_BYTES_ORIG] = x;
      h |= H_BYTES_ORIG;
    }
    x = r.packetsOrig;
    if (x !== undefined) {
      if (!isU32(x)) return false;
      hot[row + R_PACKETS_ORIG] = x;
      h |= H_PACKETS_ORIG;
    }
    x = r.state;
    if (x !== undefined) {
      const i = this.text(x, 1);
      if (i < 0) return false;
      ta |= i << 16;
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
    x = r.logPrefix;
    if (x !== undefined) {
      const i = this.text(x, 2);
      if (i < 0) return false;
      tb = i;
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
      tb |= i << 16;
      h |= H_IN_IFACE;
    }
    x = r.outIface;
    if (x !== undefined) {
      const i = this.text(x, 4);
      if (i < 0) return false;
      tc |= i;
      h |= H_OUT_IFACE;
    }
    x = r.untimed;
    if (x !== undefined) {
      if (x !== true) return false;
      h |= H_UNTIMED;
    }
    x = r.direction;
    if (x !== undefined) {
      const i = indexIn(DIRECTIONS, x);
      if (i < 0) return false;
      m |= i << M_DIRECTION;
      h |= H_DIRECTION;
    }
    // The cold row: conntrack's reply tuple and counters, zone, mark, id.
    if (
      r.replySrcAddr !== undefined ||
      r.replyDstAddr !== undefined ||
      r.replySrcPort !== undefined ||
      r.replyDstPort !== undefined ||
      r.bytesReply !== undefined ||
      r.packetsReply !== undefined ||
      r.zone !== undefined ||
      r.mark !== undefined ||
      r.ctId !== undefined
    ) {
      const c = this.coldRow(pg, slot, r);
      if (c < 0) return false;
      h |= c;
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
    hot[row + R_HAS] = h;
    hot[row + R_MISC] = m;
    f64[row / 2 + R_OBSERVED] = r.observedAt;
    hot[row + R_SRC] = src;
    hot[row + R_DST] = dst;
    hot[row + R_PORTS] = ports;
    hot[row + R_TEXT_A] = ta;
    hot[row + R_TEXT_B] = tb;
    hot[row + R_TEXT_C] = tc;
    return true;
  }

  /** Write `r`'s cold fields to `slot`'s cold row (made for the page when first needed); their `has` bits, or -1 when one does not fit. */
  private coldRow(pg: Page, slot: number, r: FlowRecord): number {
    const cold = (pg.cold ??= new Uint32Array(PAGE * COLD));
    const c = slot * COLD;
    let h = 0;
    let x: number | string | undefined = r.replySrcAddr;
    if (x !== undefined) {
      const v = ipv4Bits(x);
      if (v === NOT_IPV4) return -1;
      cold[c + C_REPLY_SRC] = v;
      h |= H_REPLY_SRC;
    }
    x = r.replyDstAddr;
    if (x !== undefined) {
      const v = ipv4Bits(x);
      if (v === NOT_IPV4) return -1;
      cold[c + C_REPLY_DST] = v;
      h |= H_REPLY_DST;
    }
    let ports = 0;
    x = r.replySrcPort;
    if (x !== undefined) {
      if (!isU16(x)) return -1;
      ports = x;
      h |= H_REPLY_SRC_PORT;
    }
    x = r.replyDstPort;
    if (x !== undefined) {
      if (!isU16(x)) return -1;
      ports |= x << 16;
      h |= H_REPLY_DST_PORT;
    }
    cold[c + C_REPLY_PORTS] = ports;
    x = r.bytesReply;
    if (x !== undefined) {
      if (!isU32(x)) return -1;
      cold[c + C_BYTES_REPLY] = x;
      h |= H_BYTES_REPLY;
    }
    x = r.packetsReply;
    if (x !== undefined) {
      if (!isU32(x)) return -1;
      cold[c + C_PACKETS_REPLY] = x;
      h |= H_PACKETS_REPLY;
    }
    x = r.zone;
    if (x !== undefined) {
      if (!isU16(x)) return -1;
      cold[c + C_ZONE] = x;
      h |= H_ZONE;
    }
    x = r.mark;
    if (x !== undefined) {
      if (!isU32(x)) return -1;
      cold[c + C_MARK] = x;
      h |= H_MARK;
    }
    x = r.ctId;
    if (x !== undefined) {
      const v = typeof x === 'string' ? u32Decimal(x) : -1;
      if (v < 0) return -1;
      cold[c + C_CT_ID] = v;
      h |= H_CT_ID;
    }
    return h;
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
