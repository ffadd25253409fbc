/**
 * Distinct-count sliding windows in event time, per key, shared by the port-scan and host-sweep
 * detectors. A key (for example `src|dst`) collects items (ports, hosts); the window holds the
 * items seen within the last `windowMs` before the newest event of the key.
 *
 * Life of a key ("episode"):
 * - Before a finding, the window slides: an item last seen `windowMs` or more before the current
 *   event leaves it, and the window start becomes the oldest remaining item's time.
 * - When the distinct count reaches the threshold, ONE finding is emitted; its id hashes the
 *   detector id, the key and the window start, so a replay of the same flows in the same order
 *   yields the same id at any replay speed. The window then stops sliding: flows before
 *   `start + windowMs` add to the counts but emit nothing (except, with `updateOnDouble`, an
 *   update carrying the same id each time the distinct count doubles). The first flow at or after
 *   `start + windowMs` starts a fresh episode, so a scan lasting several windows gives one finding
 *   per window.
 *
 * Cost: observe is O(1) amortised (a few Map operations; each item leaves the window once);
 * expire is O(state dropped).
 * Memory: at most `maxKeys` keys (least recently seen evicted, counted in `evictedKeys`), each
 * holding at most `maxItemsPerKey` items; beyond that cap counts saturate and the evidence says
 * `capped: true`. Event order matters only for which flows land in the window; records that
 * arrive out of order keep the newest time seen for their item.
 */
import type { Finding, FlowRecord, VerdictCounts } from '@floe/flow';
import { SeenConnections, eventTime, isAttemptEvent } from './attempt.js';
import type { DetectorLimits } from './options.js';

/** A sample flow as kept in a finding's evidence. */
export type SampleFlow = NonNullable<Finding['evidence']['sample']>[number];

/** Per-item state: last event time (ms), attempts counted, of which logged accept (`a`) and drop (`d`). */
interface ItemEntry {
  t: number;
  n: number;
  a: number;
  d: number;
}

/** State of one key in its current window. */
export interface KeyState {
  /** Window start (ms since epoch, event time). */
  start: number;
  /** Newest event time seen for the key. */
  lastSeen: number;
  /** Items in the window, in order of last update (oldest first). */
  items: Map<string | number, ItemEntry>;
  /** Attempts counted in the window. */
  flows: number;
  /** The same attempts by logged verdict (FlowRecord.verdict; `none` without one). */
  verdicts: VerdictCounts;
  /** First attempts of the window (at most SAMPLE_SIZE). */
  sample: SampleFlow[];
  /** Distinct count at the last emission; 0 while no finding was emitted for this window. */
  emittedAt: number;
  /** True when items were dropped because of `maxItemsPerKey`. */
  capped: boolean;
}

/** Flows kept in `evidence.sample`. */
export const SAMPLE_SIZE = 5;

/** Counters of a windowed detector, for metrics and tests. */
export interface WindowStats {
  /** Keys tracked now. */
  keys: number;
  /** Keys evicted because `maxKeys` was reached. */
  evictedKeys: number;
  /** Connection identities evicted because `maxConnections` was reached. */
  evictedConnections: number;
  /** Flows that counted as a new connection attempt. */
  attempts: number;
  /** Findings emitted (updates included). */
  findings: number;
}

/** What a concrete detector supplies to the window engine. */
export interface WindowSpec {
  windowMs: number;
  threshold: number;
  updateOnDouble: boolean;
  /** Key of a flow, or undefined when the flow does not concern this detector. */
  keyOf(flow: FlowRecord): string | undefined;
  /** The item a flow adds to its key (a port, a host). */
  itemOf(flow: FlowRecord): string | number;
  /** Build the finding for a key whose window reached the threshold. */
  finding(key: string, state: KeyState, flow: FlowRecord): Finding;
}

/** The sliding-window distinct counter behind both scan detectors. */
export class DistinctWindows {
  private readonly keys = new Map<string, KeyState>();
  private readonly conns: SeenConnections;
  private evictedKeys = 0;
  private attempts = 0;
  private findings = 0;

  constructor(
    private readonly spec: WindowSpec,
    private readonly limits: DetectorLimits,
  ) {
    this.conns = new SeenConnections(spec.windowMs, limits.maxConnections);
  }

  /** Count one flow; returns the findings it triggers (usually none). */
  observe(flow: FlowRecord): Finding[] {
    if (!isAttemptEvent(flow)) return NONE;
    const key = this.spec.keyOf(flow);
    if (key === undefined) return NONE;
    const t = eventTime(flow);
    if (!this.conns.firstInWindow(flow, t)) return NONE;
    this.attempts++;
    const windowMs = this.spec.windowMs;
    let st = this.keys.get(key);
    if (st === undefined) {
      st = newState(t);
      if (this.keys.size >= this.limits.maxKeys) {
        const oldest = this.keys.keys().next().value;
        if (oldest !== undefined) this.keys.delete(oldest);
        this.evictedKeys++;
      }
      this.keys.set(key, st);
    } else {
      // Keep the key map in least-recently-seen order for eviction.
      this.keys.delete(key);
      this.keys.set(key, st);
      if (t - st.start >= windowMs) {
        if (st.emittedAt > 0) {
          st = newState(t);
          this.keys.set(key, st);
        } else {
          slide(st, t, windowMs);
        }
      }
    }
    if (t > st.lastSeen) st.lastSeen = t;
    const item = this.spec.itemOf(flow);
    const e = st.items.get(item);
    const a = flow.verdict === 'accept' ? 1 : 0;
    const d = flow.verdict === 'drop' ? 1 : 0;
    if (e !== undefined) {
      e.n++;
      e.a += a;
      e.d += d;
      if (t > e.t) {
        e.t = t;
        st.items.delete(item);
        st.items.set(item, e);
      }
    } else if (st.items.size < this.limits.maxItemsPerKey) {
      st.items.set(item, { t, n: 1, a, d });
    } else {
      st.capped = true;
    }
    st.flows++;
    st.verdicts.accept += a;
    st.verdicts.drop += d;
    st.verdicts.none += 1 - a - d;
    if (st.sample.length < SAMPLE_SIZE) st.sample.push(sampleOf(flow, t));
    const distinct = st.items.size;
    if (st.emittedAt === 0 ? distinct >= this.spec.threshold : this.spec.updateOnDouble && distinct >= 2 * st.emittedAt) {
      st.emittedAt = distinct;
      this.findings++;
      return [this.spec.finding(key, st, flow)];
    }
    return NONE;
  }

  /**
   * Drop keys and connection identities whose newest event is at or before `nowMs - windowMs`.
   * Walks from the least recently seen key and stops at the first one still live, so the cost is
   * O(keys dropped); with out-of-order input a stale key behind a live one waits for a later call.
   */
  expire(nowMs: number): void {
    const cutoff = nowMs - this.spec.windowMs;
    for (const [k, st] of this.keys) {
      if (st.lastSeen > cutoff) break;
      this.keys.delete(k);
    }
    this.conns.prune(nowMs);
  }

  /** Current counters. */
  stats(): WindowStats {
    return {
      keys: this.keys.size,
      evictedKeys: this.evictedKeys,
      evictedConnections: this.conns.evicted,
      attempts: this.attempts,
      findings: this.findings,
    };
  }
}

const NONE: Finding[] = [];
Object.freeze(NONE);

function newState(t: number): KeyState {
  return { start: t, lastSeen: t, items: new Map(), flows: 0, verdicts: { accept: 0, drop: 0, none: 0 }, sample: [], emittedAt: 0, capped: false };
}

/** Remove items last seen `windowMs` or more before `t`; the window start becomes the oldest remaining item's time. */
function slide(st: KeyState, t: number, windowMs: number): void {
  for (const [item, e] of st.items) {
    if (t - e.t < windowMs) break;
    st.items.delete(item);
    st.flows -= e.n;
    st.verdicts.accept -= e.a;
    st.verdicts.drop -= e.d;
    st.verdicts.none -= e.n - e.a - e.d;
  }
  const head = st.items.values().next();
  st.start = head.done === true ? t : Math.min(head.value.t, t);
  st.sample = st.sample.filter((s) => s.at >= st.start);
  st.capped = false;
}

function sampleOf(flow: FlowRecord, t: number): SampleFlow {
  const s: SampleFlow = { at: t, dst: flow.dstAddr, protocol: flow.protocol };
  if (flow.dstPort !== undefined) s.dstPort = flow.dstPort;
  if (flow.state !== undefined) s.state = flow.state;
  return s;
}
