/**
 * Which flow records count as a connection attempt, and a bounded memory of connections already
 * counted, so that one connection seen as NEW, several UPDATEs and a DESTROY counts once.
 *
 * Rule: `update` events never count (they only repeat a connection already announced by `new`).
 * `new`, `destroy`, `snapshot` (a `conntrack -L` line) and `log` (a packet log line) count, but
 * only once per connection identity within {@link CONNECTION_MEMORY_MS} (or the window, if
 * longer): the conntrack id with the destination (node, zone) when the record has an id, else the
 * 5-tuple (protocol, addresses, ports or ICMP type/code). So a collector that sees only DESTROY
 * events, only a periodic dump, or full NEW..DESTROY streams counts each connection once (the
 * DESTROY of an unanswered probe, two minutes after its NEW, included), and a packet log counts
 * each 5-tuple once in that time.
 */
import type { FlowRecord } from '@floe/flow';
import { BoundedKeys } from './keyed.js';

/**
 * Event time of a record (ms since epoch): `start` when the source gives it (when the flow began),
 * else `end` (a flow record that only says when it ended), else `observedAt` (the event's time
 * stamp, or the collector's clock; for an `untimed` record, when the line was read).
 */
export function eventTime(flow: FlowRecord): number {
  return flow.start ?? flow.end ?? flow.observedAt;
}

/**
 * True when the record's time is its own: it has `start` or `end`, or an `observedAt` that the
 * source stamped. False for `untimed` records (the parser used its clock) and for `snapshot`
 * records without start/end (a `conntrack -L` line: the dump's time, not the flow's).
 */
export function hasOwnTime(flow: FlowRecord): boolean {
  if (flow.start !== undefined || flow.end !== undefined) return true;
  return flow.untimed !== true && flow.event !== 'snapshot';
}

/** True for the event kinds that may count as a connection attempt (all but `update`). */
export function isAttemptEvent(flow: FlowRecord): boolean {
  return flow.event !== 'update';
}

/**
 * How long (ms of event time) a counted connection is remembered, so its later events never count
 * again: the DESTROY of an unanswered probe comes when conntrack's SYN_SENT timeout (120 s,
 * `nf_conntrack_tcp_timeout_syn_sent`; TIME_WAIT is 120 s too) expires, plus the delay of the
 * kernel's conntrack garbage collector (up to 60 s; 9 s in testdata's until-expiry capture), so a
 * scan is not reported a second time two minutes later. A detector uses the longer of this and its
 * window.
 */
export const CONNECTION_MEMORY_MS = 200_000;

/** Share of the connection memory that protected identities (see {@link SeenConnections.protectLast}) may hold. */
export const PROTECTED_CONNECTIONS = 0.5;

/**
 * Identity of the connection a record belongs to (see module comment): node, zone, conntrack id,
 * destination address and both ports (ICMP type/code) when the record has an id, else node and the
 * original 5-tuple (ICMP type/code for ports). The destination stays with the id because the kernel
 * reuses conntrack ids: a reused id must not merge two connections, or which one counts would
 * depend on the order of the records.
 */
export function connectionIdentity(flow: FlowRecord): string {
  if (flow.ctId !== undefined) {
    // The id with the destination and the ports: enough to tell a reused id apart (a new
    // connection to the same service has another source port), and short, as it is hashed for
    // every record.
    return `${flow.node ?? ''}#${flow.zone ?? ''}#${flow.ctId}#${flow.dstAddr}#${flow.dstPort ?? flow.icmpType ?? ''}#${flow.srcPort ?? flow.icmpCode ?? ''}`;
  }
  const sp = flow.srcPort ?? flow.icmpType ?? '';
  const dp = flow.dstPort ?? flow.icmpCode ?? '';
  return `${flow.node ?? ''}|${flow.protocol}|${flow.srcAddr}|${sp}|${flow.dstAddr}|${dp}`;
}

/** One remembered answer of `SeenConnections.check`. */
interface Memo {
  flow: FlowRecord | undefined;
  t: number;
  result: number;
  callers: number;
}

/**
 * Connections counted in the last `memoryMs` of event time and not yet ended by a DESTROY, at most
 * `max` of them, on a {@link BoundedKeys} (least recently seen evicted first, counted in
 * `evicted`): O(1) per check, eviction included, whatever the churn. Identities are never
 * promoted: losing one only lets a later event of that connection count again.
 *
 * One memory may serve several detectors (`createDetectors` shares one between the scan
 * detectors, so each record's identity is built and looked up once): each detector calls
 * {@link register} once and passes its caller bit to {@link check}; the answer for a record is
 * computed by the first detector that asks and replayed to the others for the same record object.
 */
export class SeenConnections {
  private seen: BoundedKeys<number>;
  private readonly memo: Memo[] = [
    { flow: undefined, t: 0, result: Number.NaN, callers: 0 },
    { flow: undefined, t: 0, result: Number.NaN, callers: 0 },
  ];
  private lastId = '';
  private callers = 0;
  /** Times are held in ms relative to this (the first record's time): small integers, not boxed doubles. */
  private base = Number.NaN;

  /**
   * @param memoryMs ms of event time a counted connection is remembered.
   * @param max identities remembered at most (>= 1).
   */
  constructor(
    private memoryMs: number,
    private max: number,
  ) {
    this.seen = new BoundedKeys<number>(max, PROTECTED_CONNECTIONS);
  }

  /** Identities dropped because the memory was full (they may then be counted twice). */
  get evicted(): number {
    return this.seen.evicted.probation + this.seen.evicted.protected;
  }

  /**
   * Join a detector to this memory: remembers at least `memoryMs` and `max` identities from now on
   * (a larger `max` is applied only while the memory is still empty). Returns the caller bit to pass
   * to {@link check}. At most 30 detectors share one memory.
   * @throws RangeError beyond 30 callers.
   */
  register(memoryMs: number, max: number): number {
    if (this.callers >= 30) throw new RangeError('at most 30 detectors share one connection memory');
    if (memoryMs > this.memoryMs) this.memoryMs = memoryMs;
    if (max > this.max && this.seen.size === 0) {
      this.max = max;
      this.seen = new BoundedKeys<number>(max, PROTECTED_CONNECTIONS);
    }
    return 1 << this.callers++;
  }

  /**
   * Checks `flow` (at time `t`) against the attempts counted: returns NaN when it is an attempt not
   * yet counted within the window (and records it), else the time its connection was counted at.
   * When `t` is earlier than that time (events of one connection arriving out of order: a DESTROY
   * before its NEW), the connection's time becomes `t`, so it is counted at its earliest event
   * whatever the order; the caller moves the attempt to `t` too. `caller` (from {@link register})
   * lets several detectors ask about one record: the first computes, the others get the same answer.
   */
  check(flow: FlowRecord, t: number, caller = 0): number {
    if (caller !== 0) {
      // Two answers are remembered: a detector may ask about a released first attempt and then
      // the record that released it (gate.ts) before the next detector asks about both.
      const m = this.memo;
      for (let i = 0; i < 2; i++) {
        if (flow === m[i].flow && t === m[i].t && (m[i].callers & caller) === 0) {
          m[i].callers |= caller;
          return m[i].result;
        }
      }
      const r = this.compute(flow, t);
      const old = m[1];
      m[1] = m[0];
      old.flow = flow;
      old.t = t;
      old.result = r;
      old.callers = caller;
      m[0] = old;
      return r;
    }
    return this.compute(flow, t);
  }

  /**
   * Protect the identity of the record last checked (a detector counted it for a key part-way to a
   * threshold): one-shot records sprayed around cannot then evict it, so the later events of a real
   * scan's connections are not counted again (evidence `flows` stays exact under churn).
   */
  protectLast(): void {
    this.seen.promote(this.lastId);
  }

  private compute(flow: FlowRecord, at: number): number {
    const id = connectionIdentity(flow);
    this.lastId = id;
    if (Number.isNaN(this.base)) this.base = Math.floor(at);
    const t = at - this.base;
    const prev = this.seen.get(id);
    if (prev !== undefined) {
      if (Math.abs(t - prev) < this.memoryMs) {
        if (t < prev) this.seen.set(id, t);
        // A DESTROY after the counted event ends the connection: no event of it comes later, so
        // the identity is forgotten at once (the memory then holds only open connections).
        else if (flow.event === 'destroy') this.seen.delete(id);
        return prev + this.base;
      }
      this.seen.delete(id);
    }
    this.seen.set(id, t);
    return Number.NaN;
  }

  /**
   * Forget identities counted at or before `nowMs - memoryMs`, least recently seen first, stopping
   * at the first live one: O(identities dropped).
   */
  prune(nowMs: number): void {
    const cutoff = nowMs - this.memoryMs - this.base;
    for (const seg of ['probation', 'protected'] as const) {
      for (;;) {
        const o = this.seen.oldest(seg);
        if (o === undefined || o.value > cutoff) break;
        this.seen.delete(o.key);
      }
    }
  }

  /** Identities currently remembered. */
  get size(): number {
    return this.seen.size;
  }
}
