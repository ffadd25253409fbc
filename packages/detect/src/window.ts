/**
 * Distinct-count windows in event time, per key, shared by the port-scan and host-sweep
 * detectors. A key (for example `src|dst`) collects items (ports, hosts); its window holds the
 * records of the key whose times lie less than `windowMs` apart.
 *
 * Times. A record's time is {@link eventTime} (`start`, else `end`, else `observedAt`). The
 * window's first and last seen are the minimum and maximum of the times of the records it
 * counted, whatever order they came in, so the span `last - first` is never negative and never
 * depends on arrival order.
 *
 * Life of a key ("episode"):
 * - Before a finding, the window slides: when a record is `windowMs` or more after the window's
 *   first seen, items whose newest record is at or before `t - windowMs` leave it.
 * - When the distinct count reaches the threshold, the finding is RAISED (kind `new`); its id
 *   hashes the detector id, the key and the window's first seen at that moment, so a replay of
 *   the same records in the same order yields the same id at any speed. The window then stops
 *   sliding: records within `windowMs` of both its first and last seen add to the counts (with
 *   `updateOnDouble`, an `update` with the same id each time the distinct count doubles).
 * - The episode CLOSES when event time reaches `first + windowMs`: a record of the key at or after
 *   it (which starts a fresh episode), the first record of any kind or key at or after
 *   `first + windowMs + lateness` (off with `lateness: Infinity`),
 *   `expire(nowMs)`, `flush()`, or the key being evicted. On close, the finding is emitted once more (kind `final`, same id) with its
 *   final counts and evidence, when they changed since it was last emitted; so the last form of
 *   every finding id carries the real counts, never those of the last doubling.
 * - A record at or before `last - windowMs` is too old for the key's window (it arrived late):
 *   it is dropped and counted in `lateFlows`.
 *
 * Timing known or not: a record without its own time (`FlowRecord.untimed`: a `conntrack -L`
 * dump line; or any `snapshot` without start/end) is counted like any other, but the finding then
 * says `timesFromRecords: false` and its summary makes no claim about duration.
 *
 * Cost: observe is O(1) amortised (a few Map operations); a slide walks the key's items, which are
 * fewer than the threshold before a finding; a sweep walks the open findings and the stale keys.
 * Memory: at most `maxKeys` keys (least recently seen evicted, counted in `evictedKeys`), each
 * holding at most `maxItemsPerKey` items; beyond that cap counts saturate and the evidence says
 * `capped: true`.
 */
import type { Finding, FlowRecord, VerdictCounts } from '@floe/flow';
import { CONNECTION_MEMORY_MS, SeenConnections, eventTime, hasOwnTime, isAttemptEvent } from './attempt.js';
import { findingId } from './finding.js';
import { DEFAULT_LATENESS_MS, type DetectorLimits } from './options.js';

/** A sample flow as kept in a finding's evidence. */
export type SampleFlow = NonNullable<Finding['evidence']['sample']>[number];

/**
 * Per-item state: earliest (`f`) and newest (`t`) attempt time in the window (ms), attempts (`n`),
 * attempts without their own time (`u`), attempts logged with an accept (`a`) or drop (`d`) verdict, and, once the item has several attempts, the next newest
 * attempt times (`more`, ascending, at most {@link ITEM_TIMES_KEPT} - 1), so the newest time stays
 * exact when an attempt moves earlier (its events arriving out of order).
 */
interface ItemEntry {
  f: number;
  t: number;
  n: number;
  u: number;
  a: number;
  d: number;
  more: number[] | undefined;
}

/**
 * Attempt times kept per item (the newest ones). An item is a port or a host: scans give one
 * attempt per item; eight keeps first/last seen exact for a few repeated connections reordered.
 */
export const ITEM_TIMES_KEPT = 8;

/** Add `x` to the item's kept times below its newest, dropping the oldest beyond the cap. */
function keepTime(e: ItemEntry, x: number): void {
  const m = (e.more ??= []);
  let i = m.length;
  while (i > 0 && m[i - 1] > x) i--;
  m.splice(i, 0, x);
  if (m.length > ITEM_TIMES_KEPT - 1) m.shift();
}

/** State of one key in its current window. */
export interface KeyState {
  /** Earliest record time counted in the window (ms since epoch, event time). */
  first: number;
  /** Latest record time counted in the window (ms since epoch, event time). */
  last: number;
  /** Items in the window. */
  items: Map<string | number, ItemEntry>;
  /** Attempts counted in the window. */
  flows: number;
  /** Attempts counted whose record carried no time of its own (see `FlowRecord.untimed`). */
  untimed: number;
  /** The same attempts by logged verdict (FlowRecord.verdict; `none` without one). */
  verdicts: VerdictCounts;
  /** The earliest attempts of the window (at most SAMPLE_SIZE), by time. */
  sample: SampleFlow[];
  /** Distinct count at the last emission; 0 while no finding was raised for this window. */
  emittedAt: number;
  /** True when the window counted a record since the finding was last emitted. */
  dirty: boolean;
  /** True when items were dropped because of `maxItemsPerKey`. */
  capped: boolean;
  /** The finding id, once raised. */
  id: string;
  /** The record that raised the finding (its entity, peer and service), once raised. */
  ref: FlowRecord | undefined;
}

/** Flows kept in `evidence.sample`. */
export const SAMPLE_SIZE = 5;

/**
 * Event-time step (ms) of the record-driven sweep of stale keys: when the newest record time seen
 * has moved this far since the last sweep, keys whose newest record is older than
 * `windowMs + lateness` are dropped. (Windows with a finding close exactly when a record reaches
 * their end plus lateness, not on this step.) One second spreads the sweep's cost over records.
 */
export const SWEEP_STEP_MS = 1000;

/** Counters of a windowed detector, for metrics and tests. */
export interface WindowStats {
  /** Flows passed to observe. */
  flows: number;
  /** Keys tracked now. */
  keys: number;
  /** Findings raised and not yet closed. */
  openFindings: number;
  /** Keys evicted because `maxKeys` was reached. */
  evictedKeys: number;
  /** Connection identities evicted because `maxConnections` was reached. */
  evictedConnections: number;
  /** Flows that counted as a new connection attempt. */
  attempts: number;
  /** Attempts dropped because they were `windowMs` or more older than their key's window. */
  lateFlows: number;
  /** Findings emitted, all kinds. */
  findings: number;
  /** Findings raised (kind `new`). */
  raised: number;
  /** Updates emitted on a doubling (kind `update`). */
  updates: number;
  /** Final forms emitted when a window closed (kind `final`). */
  finals: number;
}

/** What a concrete detector supplies to the window engine. */
export interface WindowSpec {
  windowMs: number;
  threshold: number;
  updateOnDouble: boolean;
  /** Detector id, hashed into finding ids. */
  detectorId: string;
  /** Key of a flow, or undefined when the flow does not concern this detector. */
  keyOf(flow: FlowRecord): string | undefined;
  /** The item a flow adds to its key (a port, a host). */
  itemOf(flow: FlowRecord): string | number;
  /** Build the finding (id `state.id`) of a key whose window reached the threshold; `ref` is the record that raised it. */
  finding(state: KeyState, ref: FlowRecord): Finding;
}

/** The windowed distinct counter behind both scan detectors. */
export class DistinctWindows {
  private readonly keys = new Map<string, KeyState>();
  /** Keys whose window raised a finding that is not closed yet. */
  private readonly open = new Map<string, KeyState>();
  private readonly conns: SeenConnections;
  private evictedKeys = 0;
  private flows = 0;
  private attempts = 0;
  private lateFlows = 0;
  private raised = 0;
  private updates = 0;
  private finals = 0;
  /** Newest event time seen (ms), and when the next record-driven sweep is due. */
  private highWater = -Infinity;
  private nextSweep = -Infinity;
  /** Earliest end (`first + windowMs`) of an open finding's window; Infinity when none. */
  private nextClose = Infinity;

  /**
   * @param lateness ms of event time a window stays open after it ended, for late records, before
   *   a newer record closes it; `Infinity` turns the record-driven sweep off.
   */
  constructor(
    private readonly spec: WindowSpec,
    private readonly limits: DetectorLimits,
    private readonly lateness: number = DEFAULT_LATENESS_MS,
  ) {
    this.conns = new SeenConnections(Math.max(spec.windowMs, CONNECTION_MEMORY_MS), limits.maxConnections);
  }

  /** Count one flow; returns the findings it triggers (usually none): raised, updated, or closed windows' final forms. */
  observe(flow: FlowRecord): Finding[] {
    this.flows++;
    const t = eventTime(flow);
    if (!Number.isFinite(t)) return NONE;
    let out: Finding[] = NONE;
    // Every record's time moves event time on, also those this detector does not count.
    if (t > this.highWater) {
      this.highWater = t;
      if ((t >= this.nextSweep || t - this.lateness >= this.nextClose) && this.lateness !== Infinity) out = this.sweep(t - this.lateness);
    }
    if (!isAttemptEvent(flow)) return out;
    const key = this.spec.keyOf(flow);
    if (key === undefined) return out;
    const counted = this.conns.check(flow, t);
    if (!Number.isNaN(counted)) {
      // An attempt is represented by its earliest event, on a tie by its NEW event.
      if (t < counted || (t === counted && flow.event === 'new')) this.retime(key, counted, t, flow);
      return out;
    }
    const windowMs = this.spec.windowMs;
    let st = this.keys.get(key);
    if (st === undefined) {
      st = newState(t);
      if (this.keys.size >= this.limits.maxKeys) {
        const oldest = this.keys.entries().next().value;
        if (oldest !== undefined) {
          this.keys.delete(oldest[0]);
          out = this.close(oldest[0], oldest[1], out);
        }
        this.evictedKeys++;
      }
      this.keys.set(key, st);
    } else {
      // Keep the key map in least-recently-seen order for eviction.
      this.keys.delete(key);
      this.keys.set(key, st);
      if (st.emittedAt > 0) {
        if (t >= st.first + windowMs) {
          out = this.close(key, st, out);
          st = newState(t);
          this.keys.set(key, st);
        } else if (t <= st.last - windowMs) {
          this.lateFlows++;
          return out;
        }
      } else if (t > st.last) {
        if (t - st.first >= windowMs) slide(st, t - windowMs, t);
      } else if (t <= st.last - windowMs) {
        this.lateFlows++;
        return out;
      }
    }
    this.attempts++;
    if (t < st.first) st.first = t;
    if (t > st.last) st.last = t;
    const u = hasOwnTime(flow) ? 0 : 1;
    const a = flow.verdict === 'accept' ? 1 : 0;
    const d = flow.verdict === 'drop' ? 1 : 0;
    const item = this.spec.itemOf(flow);
    const e = st.items.get(item);
    if (e !== undefined) {
      e.n++;
      e.u += u;
      e.a += a;
      e.d += d;
      if (t > e.t) {
        keepTime(e, e.t);
        e.t = t;
      } else {
        keepTime(e, t);
      }
      if (t < e.f) e.f = t;
    } else if (st.items.size < this.limits.maxItemsPerKey) {
      st.items.set(item, { f: t, t, n: 1, u, a, d, more: undefined });
    } else {
      st.capped = true;
    }
    st.flows++;
    st.untimed += u;
    st.verdicts.accept += a;
    st.verdicts.drop += d;
    st.verdicts.none += 1 - a - d;
    addSample(st.sample, sampleOf(flow, t));
    const distinct = st.items.size;
    if (st.emittedAt === 0) {
      if (distinct >= this.spec.threshold) {
        st.emittedAt = distinct;
        st.id = findingId(this.spec.detectorId, key, st.first);
        st.ref = flow;
        this.open.set(key, st);
        if (st.first + this.spec.windowMs < this.nextClose) this.nextClose = st.first + this.spec.windowMs;
        this.raised++;
        return append(out, this.spec.finding(st, flow));
      }
    } else if (this.spec.updateOnDouble && distinct >= 2 * st.emittedAt) {
      st.emittedAt = distinct;
      st.dirty = false;
      this.updates++;
      return append(out, this.spec.finding(st, st.ref as FlowRecord));
    } else {
      st.dirty = true;
    }
    return out;
  }

  /**
   * Event time has reached `nowMs` (ms since epoch): close every window with a finding that ended
   * by then (`first + windowMs <= nowMs`) and return their final forms (those that changed since
   * last emitted); drop keys and connection identities whose newest event is at or before
   * `nowMs - windowMs`. Keys are walked from the least recently seen and the walk stops at the
   * first live one, so the cost is O(open findings + keys dropped); with out-of-order input a
   * stale key behind a live one waits for a later call (or eviction).
   */
  expire(nowMs: number): Finding[] {
    if (!Number.isFinite(nowMs)) return NONE;
    if (nowMs > this.highWater) this.highWater = nowMs;
    return this.sweep(nowMs);
  }

  /**
   * End of input: close every window that raised a finding, returning the final forms that changed
   * since last emitted, and forget those windows. Windows below the threshold are kept.
   */
  flush(): Finding[] {
    let out: Finding[] = NONE;
    for (const [key, st] of this.open) {
      this.keys.delete(key);
      out = this.close(key, st, out);
    }
    this.nextClose = Infinity;
    return out;
  }

  /**
   * An attempt counted at `prev` has an earlier event at `t`, or its NEW event at the same time
   * (its events arrived out of order): move the attempt to `t` and its sample to this event, so
   * first/last seen and the sample do not depend on which event came first. An item with several attempts keeps its newest time (the others are not kept). Ignored
   * when `t` would stretch the window past `windowMs`. O(1), or O(items) when the attempt was the
   * window's newest.
   */
  private retime(key: string, prev: number, t: number, flow: FlowRecord): void {
    const st = this.keys.get(key);
    if (st === undefined || st.last - t >= this.spec.windowMs) return;
    const e = st.items.get(this.spec.itemOf(flow));
    if (e === undefined || e.f > prev || e.t < prev) return;
    if (t < e.f) e.f = t;
    if (e.n === 1) {
      e.t = t;
    } else if (prev === e.t) {
      // The newest attempt moves earlier: the next newest (or this one) becomes the newest.
      if (e.more !== undefined && e.more.length > 0) {
        keepTime(e, t);
        e.t = e.more.pop() as number;
      }
    } else if (e.more !== undefined) {
      const i = e.more.indexOf(prev);
      if (i >= 0) {
        e.more.splice(i, 1);
        keepTime(e, t);
      }
    }
    if (t < st.first) st.first = t;
    if (st.emittedAt > 0 && t + this.spec.windowMs < this.nextClose) this.nextClose = t + this.spec.windowMs;
    if (prev === st.last && e.t === t) {
      let last = st.first;
      for (const x of st.items.values()) if (x.t > last) last = x.t;
      st.last = last;
    }
    const i = st.sample.findIndex((s) => s.at === prev && s.dst === flow.dstAddr && s.dstPort === flow.dstPort);
    if (i >= 0) st.sample.splice(i, 1);
    addSample(st.sample, sampleOf(flow, t));
    if (st.emittedAt > 0) st.dirty = true;
  }

  /** Current counters. */
  stats(): WindowStats {
    return {
      flows: this.flows,
      keys: this.keys.size,
      openFindings: this.open.size,
      evictedKeys: this.evictedKeys,
      evictedConnections: this.conns.evicted,
      attempts: this.attempts,
      lateFlows: this.lateFlows,
      findings: this.raised + this.updates + this.finals,
      raised: this.raised,
      updates: this.updates,
      finals: this.finals,
    };
  }

  private sweep(nowMs: number): Finding[] {
    this.nextSweep = this.highWater + Math.min(SWEEP_STEP_MS, this.spec.windowMs);
    let out: Finding[] = NONE;
    const windowMs = this.spec.windowMs;
    let nextClose = Infinity;
    for (const [key, st] of this.open) {
      if (st.first + windowMs > nowMs) {
        if (st.first + windowMs < nextClose) nextClose = st.first + windowMs;
        continue;
      }
      this.keys.delete(key);
      out = this.close(key, st, out);
    }
    this.nextClose = nextClose;
    const cutoff = nowMs - windowMs;
    for (const [k, st] of this.keys) {
      if (st.last > cutoff) break;
      this.keys.delete(k);
      if (st.emittedAt > 0) out = this.close(k, st, out);
    }
    this.conns.prune(nowMs);
    return out;
  }

  /** Close a key's window (the caller removed or replaces the key): its final form when it changed since last emitted. */
  private close(key: string, st: KeyState, out: Finding[]): Finding[] {
    if (st.emittedAt === 0) return out;
    this.open.delete(key);
    if (!st.dirty) return out;
    st.dirty = false;
    this.finals++;
    return append(out, this.spec.finding(st, st.ref as FlowRecord));
  }
}

const NONE: Finding[] = [];
Object.freeze(NONE);

function append(out: Finding[], f: Finding): Finding[] {
  if (out === NONE) return [f];
  out.push(f);
  return out;
}

function newState(t: number): KeyState {
  return {
    first: t,
    last: t,
    items: new Map(),
    flows: 0,
    untimed: 0,
    verdicts: { accept: 0, drop: 0, none: 0 },
    sample: [],
    emittedAt: 0,
    dirty: false,
    capped: false,
    id: '',
    ref: undefined,
  };
}

/**
 * Remove items whose newest record is at or before `cutoff`; an item that stays but was first seen
 * at or before `cutoff` keeps only the attempts whose kept times are after it. First seen becomes the
 * earliest remaining record (or `t` when none remains). O(items), fewer than the threshold here.
 */
function slide(st: KeyState, cutoff: number, t: number): void {
  let first = t;
  let untimed = 0;
  let flows = 0;
  const verdicts: VerdictCounts = { accept: 0, drop: 0, none: 0 };
  for (const [item, e] of st.items) {
    if (e.t <= cutoff) {
      st.items.delete(item);
      continue;
    }
    if (e.f <= cutoff) {
      // Some attempts left the window: keep those whose times are known to be in it.
      const more = e.more?.filter((x) => x > cutoff) ?? [];
      e.more = more.length > 0 ? more : undefined;
      e.f = more.length > 0 ? more[0] : e.t;
      e.n = 1 + more.length;
      e.u = Math.min(e.u, e.n);
      e.a = Math.min(e.a, e.n);
      e.d = Math.min(e.d, e.n - e.a);
    }
    if (e.f < first) first = e.f;
    flows += e.n;
    untimed += e.u;
    verdicts.accept += e.a;
    verdicts.drop += e.d;
    verdicts.none += e.n - e.a - e.d;
  }
  st.first = first;
  if (st.items.size === 0) st.last = t;
  st.flows = flows;
  st.untimed = untimed;
  st.verdicts = verdicts;
  st.sample = st.sample.filter((s) => s.at > cutoff);
  st.capped = false;
}

/** Keep the SAMPLE_SIZE earliest samples, by time, then destination, then port (so any arrival order gives the same sample). */
function addSample(sample: SampleFlow[], s: SampleFlow): void {
  if (sample.length === SAMPLE_SIZE && compareSample(s, sample[SAMPLE_SIZE - 1]) >= 0) return;
  let i = sample.length;
  while (i > 0 && compareSample(s, sample[i - 1]) < 0) i--;
  sample.splice(i, 0, s);
  if (sample.length > SAMPLE_SIZE) sample.pop();
}

function compareSample(a: SampleFlow, b: SampleFlow): number {
  if (a.at !== b.at) return a.at - b.at;
  if (a.dst !== b.dst) return a.dst < b.dst ? -1 : 1;
  return (a.dstPort ?? -1) - (b.dstPort ?? -1);
}

function sampleOf(flow: FlowRecord, t: number): SampleFlow {
  const s: SampleFlow = { at: t, dst: flow.dstAddr, protocol: flow.protocol };
  if (flow.dstPort !== undefined) s.dstPort = flow.dstPort;
  if (flow.state !== undefined) s.state = flow.state;
  return s;
}
