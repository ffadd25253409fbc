/**
 * Record-building steps shared by the parsers (conntrack, conntrack-xml, kernel-log, ulogd-json).
 * Each sets the optional FlowRecord fields it is given, in one fixed order, so every parser
 * builds records of the same shape. Numbers use -1 for "absent" (the parsers' scanners return -1
 * for no value), so no allocation and no `undefined` checks on the hot path.
 */
import type { NormalizedAddr } from '../addr.js';
import type { FlowEvent, FlowRecord, FlowSource } from '../record.js';
import { verdictFromPrefix } from './verdict.js';

/**
 * A record with the fields every source has (schema 1), plus `node` when given.
 * @param observedAt ms since epoch.
 */
export function newRecord(
  source: FlowSource,
  event: FlowEvent,
  observedAt: number,
  protocol: number,
  src: NormalizedAddr,
  dst: NormalizedAddr,
  node: string | undefined,
): FlowRecord {
  return newRecordOf(source, event, observedAt, protocol, src.family, src.addr, dst.addr, node);
}

/**
 * newRecord from the addresses' texts (normalised: normalizeAddrIn) and their family.
 * @param observedAt ms since epoch.
 */
export function newRecordOf(
  source: FlowSource,
  event: FlowEvent,
  observedAt: number,
  protocol: number,
  family: 4 | 6,
  srcAddr: string,
  dstAddr: string,
  node: string | undefined,
): FlowRecord {
  const rec: FlowRecord = { schema: 1, observedAt, source, event, family, protocol, srcAddr, dstAddr };
  if (node !== undefined) rec.node = node;
  return rec;
}

/** Sets start/end (ms since epoch), srcPort/dstPort and icmpType/icmpCode, each when >= 0. */
export function setTimesPortsIcmp(rec: FlowRecord, start: number, end: number, srcPort: number, dstPort: number, icmpType: number, icmpCode: number): void {
  if (start >= 0) rec.start = start;
  if (end >= 0) rec.end = end;
  if (srcPort >= 0) rec.srcPort = srcPort;
  if (dstPort >= 0) rec.dstPort = dstPort;
  if (icmpType >= 0) rec.icmpType = icmpType;
  if (icmpCode >= 0) rec.icmpCode = icmpCode;
}

/**
 * Sets the reply tuple (NAT seen): both addresses, and each port when >= 0. The caller decides
 * that the reply is not the mirror of the original tuple.
 */
export function setReply(rec: FlowRecord, src: string, dst: string, srcPort: number, dstPort: number): void {
  rec.replySrcAddr = src;
  rec.replyDstAddr = dst;
  if (srcPort >= 0) rec.replySrcPort = srcPort;
  if (dstPort >= 0) rec.replyDstPort = dstPort;
}

/** Sets the byte and packet counters of both directions, each when >= 0. */
export function setCounters(rec: FlowRecord, bytesOrig: number, packetsOrig: number, bytesReply: number, packetsReply: number): void {
  if (bytesOrig >= 0) rec.bytesOrig = bytesOrig;
  if (packetsOrig >= 0) rec.packetsOrig = packetsOrig;
  if (bytesReply >= 0) rec.bytesReply = bytesReply;
  if (packetsReply >= 0) rec.packetsReply = packetsReply;
}

/**
 * Sets the conntrack entry fields: state when given, assured/unreplied when true, zone and mark
 * when >= 0, ctId when given.
 */
export function setConntrackState(rec: FlowRecord, state: string | undefined, assured: boolean, unreplied: boolean, zone: number, mark: number, ctId: string | undefined): void {
  if (state !== undefined) rec.state = state;
  if (assured) rec.assured = true;
  if (unreplied) rec.unreplied = true;
  if (zone >= 0) rec.zone = zone;
  if (mark >= 0) rec.mark = mark;
  if (ctId !== undefined) rec.ctId = ctId;
}

/**
 * Sets the packet-log fields: logPrefix (already trimmed) and the verdict it implies
 * (verdictFromPrefix) when not empty, inIface/outIface when not empty.
 */
export function setLogFields(rec: FlowRecord, prefix: string, inIface: string | undefined, outIface: string | undefined): void {
  setLogFieldsWith(rec, prefix, prefix === '' ? undefined : verdictFromPrefix(prefix), inIface, outIface);
}

/** setLogFields with the prefix's verdict already known (`verdictFromPrefix(prefix)`, for a prefix not empty). */
export function setLogFieldsWith(rec: FlowRecord, prefix: string, verdict: 'accept' | 'drop' | undefined, inIface: string | undefined, outIface: string | undefined): void {
  if (prefix !== '') {
    rec.logPrefix = prefix;
    if (verdict !== undefined) rec.verdict = verdict;
  }
  if (inIface) rec.inIface = inIface;
  if (outIface) rec.outIface = outIface;
}
