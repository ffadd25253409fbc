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

/**
 * Connections counted in the last `memoryMs` of event time and not yet ended by a DESTROY, at most
 * `max` of them (oldest inserted evicted first, counted in `evicted`). O(1) per check.
 */
export class SeenConnections {
  private readonly seen = new Map<string, number>();
  /** Identities dropped because the memory was full (they may then be counted twice). */
  evicted = 0;

  constructor(
    private readonly memoryMs: number,
    private readonly max: number,
  ) {}

  /**
   * Checks `flow` (at time `t`) against the attempts counted: returns NaN when it is an attempt not
   * yet counted within the window (and records it), else the time its connection was counted at.
   * When `t` is earlier than that time (events of one connection arriving out of order: a DESTROY
   * before its NEW), the connection's time becomes `t`, so it is counted at its earliest event
   * whatever the order; the caller moves the attempt to `t` too.
   */
  check(flow: FlowRecord, t: number): number {
    const id = connectionIdentity(flow);
    const prev = this.seen.get(id);
    if (prev !== undefined) {
      if (Math.abs(t - prev) < this.memoryMs) {
        if (t < prev) this.seen.set(id, t);
        // A DESTROY after the counted event ends the connection: no event of it comes later, so
        // the identity is forgotten at once (the memory then holds only open connections).
        else if (flow.event === 'destroy') this.seen.delete(id);
        return prev;
      }
      this.seen.delete(id);
    } else if (this.seen.size >= this.max) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
      this.evicted++;
    }
    this.seen.set(id, t);
    return NaN;
  }

  /** Forget identities counted at or before `nowMs - memoryMs`, oldest first, stopping at the first live one: O(identities dropped). */
  prune(nowMs: number): void {
    const cutoff = nowMs - this.memoryMs;
    for (const [id, t] of this.seen) {
      if (t > cutoff) break;
      this.seen.delete(id);
    }
  }

  /** Identities currently remembered. */
  get size(): number {
    return this.seen.size;
  }
}
