/**
 * Count each connection once, for the DNS detectors: a bounded LRU (BoundedKeys, O(1) eviction
 * whatever the churn) of connection identities (`connectionIdentity`, as the scan detectors) and
 * the time each was counted at. NEW, UPDATE-free streams, dumps and DESTROY-only streams then count
 * every connection once: a NEW is remembered until its DESTROY (which it then absorbs) or for
 * `memoryMs`; a DESTROY never seen before counts and is not remembered (nothing of its connection
 * follows). At most `max` identities; the least recently seen is forgotten first (its later events
 * may then count again), counted in `evicted`.
 */
import type { FlowRecord } from '@floe/flow';
import { connectionIdentity } from './attempt.js';
import { BoundedKeys } from './keyed.js';

/** Connections counted recently (see module comment). */
export class CountedOnce {
  private readonly seen: BoundedKeys<number>;
  /** Identities forgotten because `max` was reached. */
  evicted = 0;

  /**
   * @param memoryMs ms of event time an identity counts as the same connection.
   * @param max identities remembered at most (>= 1).
   */
  constructor(
    private readonly memoryMs: number,
    max: number,
  ) {
    this.seen = new BoundedKeys<number>(max, 0);
  }

  /** True when `flow` (at time `t`, ms) is the first event of its connection counted within `memoryMs`; remembers it. O(1). */
  first(flow: FlowRecord, t: number): boolean {
    const id = connectionIdentity(flow);
    const prev = this.seen.get(id);
    if (prev !== undefined && Math.abs(t - prev) < this.memoryMs) {
      if (flow.event === 'destroy') this.seen.delete(id);
      return false;
    }
    if (flow.event === 'destroy') {
      if (prev !== undefined) this.seen.delete(id);
      return true;
    }
    if (this.seen.set(id, t) !== undefined) this.evicted++;
    return true;
  }

  /** Identities remembered now. */
  get size(): number {
    return this.seen.size;
  }
}
