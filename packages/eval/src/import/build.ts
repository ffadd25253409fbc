/** Builds the FlowRecord of one imported row, the same way for every data set. */
import { normalizeAddr, parseError, PROTO, type FlowRecord, type ParseError } from '@floe/flow';
import type { ConnFlags } from './state.js';

/** What an importer read from a row, before it becomes a FlowRecord. Times in ms since epoch, counters in bytes / packets. */
export interface FlowParts {
  start: number;
  /** Duration (ms), when the row has one; end = start + duration. */
  durationMs?: number;
  protocol: number;
  srcAddr: string;
  dstAddr: string;
  /** Ports; for ICMP/ICMPv6 the type and code (Zeek and Argus put them in the port columns). */
  srcPort?: number;
  dstPort?: number;
  bytesOrig?: number;
  bytesReply?: number;
  packetsOrig?: number;
  packetsReply?: number;
  flags: ConnFlags;
}

/**
 * A FlowRecord as a flow-log file gives it (`source: 'file'`, `event: 'destroy'`: one record
 * per finished flow with its counters, like a conntrack DESTROY event); `observedAt` = end (or
 * start). Addresses are normalised like every parser's (`normalizeAddr`); a bad one rejects the
 * row naming the column `srcField` / `dstField`.
 */
export function buildFlow(p: FlowParts, lineNo: number, line: string, srcField: string, dstField: string): FlowRecord | ParseError {
  const src = normalizeAddr(p.srcAddr);
  if (!src) return parseError(lineNo, 'bad-address', line, srcField);
  const dst = normalizeAddr(p.dstAddr);
  if (!dst) return parseError(lineNo, 'bad-address', line, dstField);
  // Whole ms, floored, as @floe/flow's parsers store times.
  const start = Math.floor(p.start);
  const end = p.durationMs !== undefined ? Math.floor(p.start + p.durationMs) : undefined;
  const f: FlowRecord = {
    schema: 1,
    observedAt: end ?? start,
    start,
    source: 'file',
    event: 'destroy',
    family: src.family,
    protocol: p.protocol,
    srcAddr: src.addr,
    dstAddr: dst.addr,
  };
  if (end !== undefined) f.end = end;
  if (p.protocol === PROTO.icmp || p.protocol === PROTO.icmpv6) {
    if (p.srcPort !== undefined && p.srcPort <= 255) f.icmpType = p.srcPort;
    if (p.dstPort !== undefined && p.dstPort <= 255) f.icmpCode = p.dstPort;
  } else {
    if (p.srcPort !== undefined) f.srcPort = p.srcPort;
    if (p.dstPort !== undefined) f.dstPort = p.dstPort;
  }
  if (p.bytesOrig !== undefined) f.bytesOrig = p.bytesOrig;
  if (p.packetsOrig !== undefined) f.packetsOrig = p.packetsOrig;
  if (p.bytesReply !== undefined) f.bytesReply = p.bytesReply;
  if (p.packetsReply !== undefined) f.packetsReply = p.packetsReply;
  if (p.flags.state !== undefined) f.state = p.flags.state;
  if (p.flags.assured) f.assured = true;
  if (p.flags.unreplied) f.unreplied = true;
  return f;
}

/** Column positions of a header line, looked up by name (first match of several spellings). */
export class Columns {
  private readonly index = new Map<string, number>();
  constructor(readonly names: readonly string[]) {
    names.forEach((n, i) => {
      const k = n.trim().replace(/^'|'$/g, '');
      if (!this.index.has(k)) this.index.set(k, i);
    });
  }
  /** Position of the first of `names` present, or -1. */
  find(...names: string[]): number {
    for (const n of names) {
      const i = this.index.get(n);
      if (i !== undefined) return i;
    }
    return -1;
  }
}

/**
 * Synthetic source address of row `n` (0-based) for the data sets without addresses: 198.18.0.0/15
 * (RFC 2544 benchmarking range, never a real host), cycling after 131,072 rows.
 */
export function syntheticSource(n: number): string {
  const k = n % 131072;
  return `198.${18 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;
}

/** Synthetic destination for rows without addresses: 192.0.2.1 (RFC 5737 TEST-NET-1). */
export const SYNTHETIC_DESTINATION = '192.0.2.1';
