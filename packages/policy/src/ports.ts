/**
 * Port and duration values of the policy file, and a port matcher built on 65536-bit bitsets
 * (one Uint32Array of 2048 words per protocol) so a per-flow check is one array read.
 */
import { PROTO, quoteExcerpt } from '@floe/flow';
import type { PortProtocol } from './types.js';
import { PORT_PROTOCOLS } from './types.js';

/** Inclusive port range. */
export interface PortRange {
  lo: number;
  hi: number;
}

/**
 * Parse a port item of the policy file: an integer 0..65535 or a string `"lo-hi"` (or `"n"`)
 * with lo <= hi. Returns the range or a reason text when invalid.
 */
export function parsePortSpec(v: unknown): PortRange | string {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 65535) return `port ${v} is outside 0..65535`;
    return { lo: v, hi: v };
  }
  if (typeof v !== 'string') return 'must be a port number or a "lo-hi" range';
  const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(v);
  if (!m) return `${quoteExcerpt(typeof v === 'string' ? v : String(JSON.stringify(v)))} is not a port or a "lo-hi" range`;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo > 65535 || hi > 65535) return `port ${lo > 65535 ? lo : hi} is outside 0..65535`;
  if (lo > hi) return `range ${v} is reversed (${lo} > ${hi})`;
  return { lo, hi };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parse a duration `<n><unit>` with unit ms, s, m, h or d (`90s`, `15m`, `1h`, `1d`) to ms; returns a reason text when invalid (a bare number is refused: its unit would be a guess). */
export function parseDuration(v: unknown): number | string {
  if (typeof v !== 'string') return 'must be a duration text like 90s, 15m, 1h or 1d';
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(v.trim());
  if (!m) return `${quoteExcerpt(typeof v === 'string' ? v : String(JSON.stringify(v)))} is not a duration like 90s, 15m, 1h or 1d`;
  const ms = Number(m[1]) * DURATION_UNITS[m[2]];
  if (ms <= 0) return 'duration must be positive';
  if (!Number.isSafeInteger(ms)) return 'duration is too large';
  return ms;
}

/** IANA protocol number of each port protocol name (from PROTO in @floe/flow). */
export const PORT_PROTOCOL_NUMBERS: Record<PortProtocol, number> = {
  tcp: PROTO.tcp,
  udp: PROTO.udp,
  sctp: PROTO.sctp,
  dccp: PROTO.dccp,
  udplite: PROTO.udplite,
};

/**
 * Which (protocol, port) pairs are allowed. Built from rules; `allows()` is O(1).
 * A protocol may be allowed entirely (any port, or no ports at all as for ICMP).
 */
export class PortMatcher {
  private anyProtocol = false;
  private readonly wholeProtocols = new Set<number>();
  private readonly bits = new Map<number, Uint32Array>();

  /** Allow every protocol and port. */
  allowAll(): this {
    this.anyProtocol = true;
    return this;
  }

  /** Allow every port of one protocol (IANA number), and the protocol's port-less flows. */
  allowProtocol(protocol: number): this {
    this.wholeProtocols.add(protocol);
    return this;
  }

  /** Allow ports `lo..hi` (inclusive) of a protocol (IANA number). */
  allowRange(protocol: number, lo: number, hi: number): this {
    let b = this.bits.get(protocol);
    if (!b) {
      b = new Uint32Array(2048);
      this.bits.set(protocol, b);
    }
    for (let p = lo; p <= hi; p++) b[p >>> 5] |= 1 << (p & 31);
    return this;
  }

  /** Allow the port items of a rule (validated specs) for `protocol`, or for every port protocol when it is undefined. */
  allowSpecs(protocol: PortProtocol | undefined, specs: ReadonlyArray<number | string>): this {
    const protos = protocol === undefined ? PORT_PROTOCOLS.map((p) => PORT_PROTOCOL_NUMBERS[p]) : [PORT_PROTOCOL_NUMBERS[protocol]];
    for (const s of specs) {
      const r = parsePortSpec(s);
      if (typeof r === 'string') throw new Error(`unvalidated port spec: ${r}`);
      for (const p of protos) this.allowRange(p, r.lo, r.hi);
    }
    return this;
  }

  /** Merge another matcher's allowances into this one. */
  merge(o: PortMatcher): this {
    if (o.anyProtocol) this.anyProtocol = true;
    for (const p of o.wholeProtocols) this.wholeProtocols.add(p);
    for (const [p, ob] of o.bits) {
      let b = this.bits.get(p);
      if (!b) {
        b = new Uint32Array(2048);
        this.bits.set(p, b);
      }
      for (let i = 0; i < 2048; i++) b[i] |= ob[i];
    }
    return this;
  }

  /** True when the protocol (IANA number) and destination port are allowed; a flow without a port matches only a whole-protocol or any-protocol allowance. */
  allows(protocol: number, port: number | undefined): boolean {
    if (this.anyProtocol || this.wholeProtocols.has(protocol)) return true;
    if (port === undefined) return false;
    const b = this.bits.get(protocol);
    return b !== undefined && (b[port >>> 5] & (1 << (port & 31))) !== 0;
  }

  /** True when some port of `protocol` is allowed (used to tell whether a protocol is governed at all). */
  mentions(protocol: number): boolean {
    return this.anyProtocol || this.wholeProtocols.has(protocol) || this.bits.has(protocol);
  }
}
