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
 * Cost: observe is O(1) (a few Map operations and list links; eviction included, never a walk
 * over deleted Map entries); a slide walks the key's items, which are fewer than the threshold
 * before a finding; a sweep walks the open findings and the stale keys.
 * Memory: at most `maxKeys` keys in a {@link BoundedKeys} (segmented LRU): a key enters probation
 * and is PROMOTED to the protected segment at its second distinct item, so a spray of one-shot
 * sources evicts only other one-shot keys (counted in `evictedKeys`), never a key part-way to its
 * threshold while probation holds any key. Each key holds at most `maxItemsPerKey` items; beyond
 * that cap the exact counts saturate, the evidence says `capped: true` and `distinctEstimate` goes
 * on counting distinct items approximately (HyperLogLog, 4 KiB per capped key).
 */
import type { Finding, FlowRecord, VerdictCounts } from '@floe/flow';
import { CONNECTION_MEMORY_MS, SeenConnections, eventTime, hasOwnTime, isAttemptEvent } from './attempt.js';
import { BoundedKeys, type Segment } from './keyed.js';
import { HOLD, RELEASE, type FirstSightGate } from './gate.js';
import { HyperLogLog } from './sketch/hll.js';
import { detach } from './retain.js';
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

/** Add `x` to an item's kept times below its newest (`m`, made when undefined), dropping the oldest beyond the cap; returns the list. */
function keepTime(m: number[] | undefined, x: number): number[] {
  if (m === undefined) return [x];
  let i = m.length;
  while (i > 0 && m[i - 1] > x) i--;
  m.splice(i, 0, x);
  if (m.length > ITEM_TIMES_KEPT - 1) m.shift();
  return m;
}

/** A window that reached its threshold: the finding's id and what was last emitted. */
interface Raised {
  /** The finding id. */
  id: string;
  /** The record that raised the finding (its entity, peer and service). */
  ref: FlowRecord;
  /** Distinct count at the last emission. */
  emittedAt: number;
  /** True when the window counted a record since the finding was last emitted. */
  dirty: boolean;
}

/**
 * State of one key in its current window, kept small because a million keys may be tracked
 * (bytes per key are measured by bench/memory.bench.ts): while the key has ONE distinct item (the
 * one-shot sources of background noise), that item is held inline (`item0`, its counts being the
 * key's own) and no item map exists; the map is made at the second distinct item, which is also
 * when the key is promoted (README: "Eviction"). The sample is one object until a second attempt,
 * the finding state (`raised`) exists only once a finding was raised, and times are ms relative
 * to the engine's first record (small integers, not boxed doubles). Internal to the engine; finding
 * builders see a {@link WindowView}.
 */
export class KeyState {
  /** Earliest record time counted in the window (ms of event time relative to the engine's base). */
  first: number;
  /** Latest record time counted in the window (relative, as `first`). */
  last: number;
  /** Attempts counted in the window. */
  flows = 0;
  /** Attempts counted whose record carried no time of its own (see `FlowRecord.untimed`). */
  untimed = 0;
  /** Attempts logged with an accept verdict. */
  accept = 0;
  /** Attempts logged with a drop verdict. */
  drop = 0;
  /** True when items were dropped because of `maxItemsPerKey`. */
  capped = false;
  /** The key's only item while it has one (the key's counts are its counts), else undefined. */
  item0: string | number | undefined = undefined;
  /** Kept attempt times of `item0` below its newest (as `ItemEntry.more`). */
  more0: number[] | undefined = undefined;
  /** Items in the window, from the second distinct item on. */
  items: Map<string | number, ItemEntry> | undefined = undefined;
  /** The earliest attempts of the window (at most SAMPLE_SIZE, by time): one object while there is one. */
  sample: SampleFlow | SampleFlow[] | undefined = undefined;
  /** Set once the window raised its finding. */
  raised: Raised | undefined = undefined;
  /** Once capped: every distinct item of the window, approximately (kept ones included). */
  sketch: HyperLogLog | undefined = undefined;

  constructor(t: number) {
    this.first = t;
    this.last = t;
  }

  /** Distinct items in the window. */
  get distinct(): number {
    return this.items !== undefined ? this.items.size : this.item0 === undefined ? 0 : 1;
  }

  /** The finding id, once raised ('' before). */
  get id(): string {
    return this.raised?.id ?? '';
  }

  /** The attempts by logged verdict (`none`: without one). */
  get verdicts(): VerdictCounts {
    return { accept: this.accept, drop: this.drop, none: this.flows - this.accept - this.drop };
  }

  /** The distinct items, in no particular order. */
  itemKeys(): Array<string | number> {
    if (this.items !== undefined) return [...this.items.keys()];
    return this.item0 === undefined ? [] : [this.item0];
  }

  /** The sample as a new list (times relative, as held). */
  sampleList(): SampleFlow[] {
    const s = this.sample;
    return s === undefined ? [] : Array.isArray(s) ? s.slice() : [s];
  }
}

/** A key's window as the finding builders see it (times in ms since epoch, event time). */
export interface WindowView {
  /** Earliest record time counted in the window. */
  first: number;
  /** Latest record time counted in the window. */
  last: number;
  /** Attempts counted in the window. */
  flows: number;
  /** Attempts counted whose record carried no time of its own (see `FlowRecord.untimed`). */
  untimed: number;
  /** The attempts by logged verdict. */
  verdicts: VerdictCounts;
  /** True when items were dropped because of `maxItemsPerKey`. */
  capped: boolean;
  /**
   * When capped: the estimated distinct count of the window, kept items and those past the cap
   * (HyperLogLog, sketch/hll.ts: 1.6 % standard error), never below the items kept.
   */
  distinctEstimate: number | undefined;
  /** The finding id ('' before it is raised). */
  id: string;
  /** The distinct items, in no particular order (O(items)). */
  itemKeys(): Array<string | number>;
  /** The sample (the earliest attempts, by time), as new objects. */
  samples(): SampleFlow[];
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
  /** Keys evicted because `maxKeys` was reached (both segments). */
  evictedKeys: number;
  /** Of those, keys with two or more distinct items (part-way to a threshold: promoted, then demoted as the least recently seen of a full protected segment). */
  evictedPartway: number;
  /** Keys promoted so far (they reached two distinct items). */
  promotedKeys: number;
  /** Keys in the protected segment now. */
  protectedKeys: number;
  /** Held first attempts of one-shot sources dropped to make room in the shared gate (gate.ts; reported by its first detector only). */
  evictedHeld: number;
  /** Sources in the shared gate now, held or released (its first detector only). */
  heldSources: number;
  /** Connection identities evicted because `maxConnections` was reached (a shared memory reports them under its first detector only). */
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
  /**
   * True when the detector counts `flow` (an attempt event) under some key. Asked before the
   * first-sighting gate, so it must be cheap and build nothing: the key itself is built only for
   * a record the gate lets through.
   */
  counts(flow: FlowRecord): boolean;
  /** Key of a flow the detector counts ({@link counts} true). */
  keyOf(flow: FlowRecord): string;
  /** The item a flow adds to its key (a port, a host). */
  itemOf(flow: FlowRecord): string | number;
  /**
   * Further condition to raise, besides `threshold` distinct items (for example "more than 5
   * distinct hosts and ports among the pairs"). It may walk the items: it is asked only when an
   * attempt adds a new item and the distinct count is a multiple of `threshold` (25, 50, 75...),
   * so it costs at most `maxItemsPerKey / threshold` item visits per new item, and a window that
   * becomes ready is raised at most `threshold - 1` items late. Absent: the threshold alone raises.
   */
  ready?(state: WindowView): boolean;
  /** Build the finding (id `state.id`) of a key whose window reached the threshold; `ref` is the record that raised it. */
  finding(state: WindowView, ref: FlowRecord): Finding;
}

/** The windowed distinct counter behind the scan detectors. */
export class DistinctWindows {
  /** Keys, in a segmented LRU: one-shot keys in probation, keys with 2+ distinct items protected. */
  private readonly keys: BoundedKeys<KeyState>;
  /** Keys whose window raised a finding that is not closed yet. */
  private readonly open = new Map<string, KeyState>();
  private readonly conns: SeenConnections;
  private readonly caller: number;
  private readonly gateCaller: number;
  private flows = 0;
  private attempts = 0;
  private lateFlows = 0;
  private raised = 0;
  private updates = 0;
  private finals = 0;
  private promoted = 0;
  private evictedPartway = 0;
  /** Newest event time seen (ms), and when the next record-driven sweep is due. */
  private highWater = -Infinity;
  private nextSweep = -Infinity;
  /** Earliest end (`first + windowMs`) of an open finding's window; Infinity when none. */
  private nextClose = Infinity;
  /** Key state holds times in ms relative to this (the first record's time), as small integers. */
  private base = Number.NaN;

  /**
   * @param lateness ms of event time a window stays open after it ended, for late records, before
   *   a newer record closes it; `Infinity` turns the record-driven sweep off.
   * @param conns a connection memory shared with other detectors (see `SeenConnections.register`);
   *   a private one of `limits.maxConnections` when absent.
   * @param gate a first-sighting gate shared with the other scan detectors (gate.ts); none: every
   *   attempt is counted at once.
   */
  constructor(
    private readonly spec: WindowSpec,
    private readonly limits: DetectorLimits,
    private readonly lateness: number = DEFAULT_LATENESS_MS,
    conns?: SeenConnections,
    private readonly gate?: FirstSightGate,
  ) {
    const memoryMs = Math.max(spec.windowMs, CONNECTION_MEMORY_MS);
    this.conns = conns ?? new SeenConnections(memoryMs, limits.maxConnections);
    this.caller = this.conns.register(memoryMs, limits.maxConnections);
    this.keys = new BoundedKeys<KeyState>(limits.maxKeys, PROTECTED_SHARE);
    this.gateCaller = gate?.register() ?? 0;
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
    if (!isAttemptEvent(flow) || !this.spec.counts(flow)) return out;
    const gate = this.gate;
    if (gate !== undefined) {
      const g = gate.check(flow, this.gateCaller);
      if (g === HOLD) return out;
      if (g === RELEASE) {
        // The source's held first attempt counts first, as if it had come through.
        const first = gate.released as FlowRecord;
        if (this.spec.counts(first)) out = this.attempt(first, this.spec.keyOf(first), eventTime(first), out);
      }
    }
    return this.attempt(flow, this.spec.keyOf(flow), t, out);
  }

  /** An attempt event of `key` at `t` (absolute ms): checked against the connection memory, then counted. */
  private attempt(flow: FlowRecord, key: string, t: number, out: Finding[]): Finding[] {
    if (!Number.isFinite(t)) return out;
    const counted = this.conns.check(flow, t, this.caller);
    if (!Number.isNaN(counted)) {
      // An attempt is represented by its earliest event, on a tie by its NEW event.
      if (t < counted || (t === counted && flow.event === 'new')) this.retime(key, counted - this.base, t - this.base, flow);
      return out;
    }
    if (Number.isNaN(this.base)) this.base = Math.floor(t);
    return this.count(key, flow, t - this.base, out);
  }

  /**
   * Count a new attempt of `key` at `t` (ms relative to {@link base}: key state holds times as
   * small integers, not boxed doubles).
   */
  private count(key: string, flow: FlowRecord, t: number, out: Finding[]): Finding[] {
    const windowMs = this.spec.windowMs;
    let st = this.keys.touch(key);
    if (st === undefined) {
      st = new KeyState(t);
      const ev = this.keys.add(detach(key), st);
      if (ev !== undefined) {
        if (ev.value.items !== undefined) this.evictedPartway++;
        out = this.close(ev.key, ev.value, out);
      }
    } else if (st.raised !== undefined) {
      if (t >= st.first + windowMs) {
        out = this.close(key, st, out);
        st = new KeyState(t);
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
    this.attempts++;
    const u = hasOwnTime(flow) ? 0 : 1;
    const a = flow.verdict === 'accept' ? 1 : 0;
    const d = flow.verdict === 'drop' ? 1 : 0;
    const item = this.spec.itemOf(flow);
    // The item first (its entry takes the key's counts before this attempt when the map is made).
    const items = st.items;
    let added = true;
    if (items === undefined) {
      if (st.item0 === undefined) {
        st.item0 = typeof item === 'string' ? detach(item) : item;
      } else if (st.item0 === item) {
        // The sole item again: its newest time so far is the key's last.
        added = false;
        st.more0 = keepTime(st.more0, Math.min(t, st.last));
      } else {
        // A second distinct item: the key is part-way to a threshold (promoted, see README).
        const m = new Map<string | number, ItemEntry>();
        m.set(st.item0, { f: st.first, t: st.last, n: st.flows, u: st.untimed, a: st.accept, d: st.drop, more: st.more0 });
        m.set(typeof item === 'string' ? detach(item) : item, { f: t, t, n: 1, u, a, d, more: undefined });
        st.items = m;
        st.item0 = undefined;
        st.more0 = undefined;
        this.keys.promote(key);
        this.promoted++;
      }
    } else {
      const e = items.get(item);
      if (e !== undefined) {
        added = false;
        e.n++;
        e.u += u;
        e.a += a;
        e.d += d;
        if (t > e.t) {
          e.more = keepTime(e.more, e.t);
          e.t = t;
        } else {
          e.more = keepTime(e.more, t);
        }
        if (t < e.f) e.f = t;
      } else if (items.size < this.limits.maxItemsPerKey) {
        items.set(typeof item === 'string' ? detach(item) : item, { f: t, t, n: 1, u, a, d, more: undefined });
      } else {
        added = false;
        if (!st.capped) {
          // Past maxItemsPerKey the distinct count goes on approximately (HyperLogLog, seeded with the items kept).
          st.capped = true;
          st.sketch = new HyperLogLog();
          for (const k of items.keys()) st.sketch.add(k);
        }
        (st.sketch as HyperLogLog).add(item);
      }
    }
    if (st.items !== undefined) this.conns.protectLast();
    if (t < st.first) st.first = t;
    if (t > st.last) st.last = t;
    st.flows++;
    st.untimed += u;
    st.accept += a;
    st.drop += d;
    addSample(st, flow, t);
    const distinct = st.distinct;
    const r = st.raised;
    if (r === undefined) {
      if (distinct >= this.spec.threshold && (this.spec.ready === undefined || (added && this.readyAt(st, distinct)))) {
        const first = st.first + this.base;
        st.raised = { id: findingId(this.spec.detectorId, key, first), ref: flow, emittedAt: distinct, dirty: false };
        this.open.set(key, st);
        if (first + this.spec.windowMs < this.nextClose) this.nextClose = first + this.spec.windowMs;
        this.raised++;
        return append(out, this.spec.finding(this.view(st), flow));
      }
    } else if (this.spec.updateOnDouble && distinct >= 2 * r.emittedAt) {
      r.emittedAt = distinct;
      r.dirty = false;
      this.updates++;
      return append(out, this.spec.finding(this.view(st), r.ref));
    } else {
      r.dirty = true;
    }
    return out;
  }

  /** Asks `spec.ready` when `distinct` is a multiple of the threshold (see WindowSpec.ready). */
  private readyAt(st: KeyState, distinct: number): boolean {
    return distinct % this.spec.threshold === 0 && (this.spec.ready as (s: WindowView) => boolean)(this.view(st));
  }

  /**
   * Event time has reached `nowMs` (ms since epoch): close every window with a finding that ended
   * by then (`first + windowMs <= nowMs`) and return their final forms (those that changed since
   * last emitted); drop keys and connection identities whose newest event is at or before
   * `nowMs - windowMs`. Keys are walked from the least recently seen of each segment and the walk
   * stops at the first live one, so the cost is O(open findings + keys dropped); with out-of-order
   * input a stale key behind a live one waits for a later call (or eviction).
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
    const item = this.spec.itemOf(flow);
    const inline = st.items === undefined;
    let e: ItemEntry | undefined;
    if (st.items !== undefined) e = st.items.get(item);
    else if (st.item0 === item) e = { f: st.first, t: st.last, n: st.flows, u: st.untimed, a: st.accept, d: st.drop, more: st.more0 };
    if (e === undefined || e.f > prev || e.t < prev) return;
    if (t < e.f) e.f = t;
    if (e.n === 1) {
      e.t = t;
    } else if (prev === e.t) {
      // The newest attempt moves earlier: the next newest (or this one) becomes the newest.
      if (e.more !== undefined && e.more.length > 0) {
        e.more = keepTime(e.more, t);
        e.t = e.more.pop() as number;
      }
    } else if (e.more !== undefined) {
      const i = e.more.indexOf(prev);
      if (i >= 0) {
        e.more.splice(i, 1);
        e.more = keepTime(e.more, t);
      }
    }
    if (inline) {
      // The sole item's times are the key's.
      st.first = e.f;
      st.last = e.t;
      st.more0 = e.more;
    } else {
      if (t < st.first) st.first = t;
      if (prev === st.last && e.t === t) {
        let last = st.first;
        for (const x of (st.items as Map<string | number, ItemEntry>).values()) if (x.t > last) last = x.t;
        st.last = last;
      }
    }
    if (st.raised !== undefined && t + this.base + this.spec.windowMs < this.nextClose) this.nextClose = t + this.base + this.spec.windowMs;
    const list = st.sampleList();
    const i = list.findIndex((s) => s.at === prev && s.dst === flow.dstAddr && s.dstPort === flow.dstPort);
    if (i >= 0) {
      list.splice(i, 1);
      st.sample = list.length === 0 ? undefined : list.length === 1 ? list[0] : list;
    }
    addSample(st, flow, t);
    if (st.raised !== undefined) st.raised.dirty = true;
  }

  /** Current counters. */
  stats(): WindowStats {
    return {
      flows: this.flows,
      keys: this.keys.size,
      openFindings: this.open.size,
      evictedKeys: this.keys.evicted.probation + this.keys.evicted.protected,
      evictedPartway: this.evictedPartway,
      promotedKeys: this.promoted,
      protectedKeys: this.keys.sizeOf('protected'),
      evictedConnections: this.caller === 1 ? this.conns.evicted : 0,
      evictedHeld: this.gateCaller === 1 ? (this.gate as FirstSightGate).evicted : 0,
      heldSources: this.gateCaller === 1 ? (this.gate as FirstSightGate).size : 0,
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
      const end = st.first + this.base + windowMs;
      if (end > nowMs) {
        if (end < nextClose) nextClose = end;
        continue;
      }
      this.keys.delete(key);
      out = this.close(key, st, out);
    }
    this.nextClose = nextClose;
    const cutoff = nowMs - windowMs - this.base;
    for (const seg of SEGMENTS) {
      for (;;) {
        const o = this.keys.oldest(seg);
        if (o === undefined || o.value.last > cutoff) break;
        this.keys.delete(o.key);
        if (o.value.raised !== undefined) out = this.close(o.key, o.value, out);
      }
    }
    this.conns.prune(nowMs);
    return out;
  }

  /** The window as the finding builders see it: absolute times (ms since epoch), copies. */
  private view(st: KeyState): WindowView {
    const base = this.base;
    return {
      first: st.first + base,
      last: st.last + base,
      flows: st.flows,
      untimed: st.untimed,
      verdicts: st.verdicts,
      capped: st.capped,
      distinctEstimate: st.sketch === undefined ? undefined : Math.max(st.sketch.estimate(), st.distinct),
      id: st.id,
      itemKeys: () => st.itemKeys(),
      samples: () => st.sampleList().map((x) => sampleOut(x, base)),
    };
  }

  /** Close a key's window (the caller removed or replaces the key): its final form when it changed since last emitted. */
  private close(key: string, st: KeyState, out: Finding[]): Finding[] {
    const r = st.raised;
    if (r === undefined) return out;
    this.open.delete(key);
    if (!r.dirty) return out;
    r.dirty = false;
    this.finals++;
    return append(out, this.spec.finding(this.view(st), r.ref));
  }
}

/**
 * Share of `maxKeys` the protected segment (keys with two or more distinct items) may hold before
 * its least recently seen key is demoted to probation: 0.8, so one-shot keys always keep at least a
 * fifth of the capacity to churn in.
 */
export const PROTECTED_SHARE = 0.8;

const SEGMENTS: readonly Segment[] = ['probation', 'protected'];

const NONE: Finding[] = [];
Object.freeze(NONE);

function append(out: Finding[], f: Finding): Finding[] {
  if (out === NONE) return [f];
  out.push(f);
  return out;
}

/**
 * Remove items whose newest record is at or before `cutoff`; an item that stays but was first seen
 * at or before `cutoff` keeps only the attempts whose kept times are after it. First seen becomes the
 * earliest remaining record (or `t` when none remains). O(items), fewer than the threshold here.
 */
function slide(st: KeyState, cutoff: number, t: number): void {
  if (st.items === undefined) {
    if (st.item0 !== undefined && st.last > cutoff) {
      if (st.first <= cutoff) {
        const e = { f: st.first, t: st.last, n: st.flows, u: st.untimed, a: st.accept, d: st.drop, more: st.more0 };
        trimItem(e, cutoff);
        st.first = e.f;
        st.more0 = e.more;
        st.flows = e.n;
        st.untimed = e.u;
        st.accept = e.a;
        st.drop = e.d;
      }
    } else {
      st.item0 = undefined;
      st.more0 = undefined;
      st.first = t;
      st.last = t;
      st.flows = 0;
      st.untimed = 0;
      st.accept = 0;
      st.drop = 0;
    }
  } else {
    let first = t;
    let untimed = 0;
    let flows = 0;
    let accept = 0;
    let drop = 0;
    for (const [item, e] of st.items) {
      if (e.t <= cutoff) {
        st.items.delete(item);
        continue;
      }
      if (e.f <= cutoff) trimItem(e, cutoff);
      if (e.f < first) first = e.f;
      flows += e.n;
      untimed += e.u;
      accept += e.a;
      drop += e.d;
    }
    st.first = first;
    if (st.items.size === 0) st.last = t;
    st.flows = flows;
    st.untimed = untimed;
    st.accept = accept;
    st.drop = drop;
  }
  const s = st.sampleList().filter((x) => x.at > cutoff);
  st.sample = s.length === 0 ? undefined : s.length === 1 ? s[0] : s;
  st.capped = false;
  st.sketch = undefined;
}

/** Some attempts of an item left the window: keep those whose times are known to be in it. */
function trimItem(e: ItemEntry, cutoff: number): void {
  const more = e.more?.filter((x) => x > cutoff) ?? [];
  e.more = more.length > 0 ? more : undefined;
  e.f = more.length > 0 ? more[0] : e.t;
  e.n = 1 + more.length;
  e.u = Math.min(e.u, e.n);
  e.a = Math.min(e.a, e.n);
  e.d = Math.min(e.d, e.n - e.a);
}

/**
 * Keep the SAMPLE_SIZE earliest samples, by time, then destination, then port (so any arrival
 * order gives the same sample). Allocates a sample only when it is kept.
 */
function addSample(st: KeyState, flow: FlowRecord, t: number): void {
  const cur = st.sample;
  if (cur === undefined) {
    st.sample = sampleOf(flow, t);
    return;
  }
  if (!Array.isArray(cur)) {
    const s = sampleOf(flow, t);
    st.sample = compareSample(s, cur) < 0 ? [s, cur] : [cur, s];
    return;
  }
  if (cur.length === SAMPLE_SIZE && compareFlow(t, flow, cur[SAMPLE_SIZE - 1]) >= 0) return;
  const s = sampleOf(flow, t);
  let i = cur.length;
  while (i > 0 && compareSample(s, cur[i - 1]) < 0) i--;
  cur.splice(i, 0, s);
  if (cur.length > SAMPLE_SIZE) cur.pop();
}

function compareSample(a: SampleFlow, b: SampleFlow): number {
  if (a.at !== b.at) return a.at - b.at;
  if (a.dst !== b.dst) return a.dst < b.dst ? -1 : 1;
  return (a.dstPort ?? -1) - (b.dstPort ?? -1);
}

/** compareSample of the sample `flow` at `t` would give, without building it. */
function compareFlow(t: number, flow: FlowRecord, b: SampleFlow): number {
  if (t !== b.at) return t - b.at;
  if (flow.dstAddr !== b.dst) return flow.dstAddr < b.dst ? -1 : 1;
  return (flow.dstPort ?? -1) - (b.dstPort ?? -1);
}

/** A sample as held: every field present (one object shape, no property backing store), `at` relative. */
function sampleOf(flow: FlowRecord, t: number): SampleFlow {
  return { at: t, dst: detach(flow.dstAddr), protocol: flow.protocol, dstPort: flow.dstPort, state: flow.state === undefined ? undefined : detach(flow.state) };
}

/** A held sample as evidence: absolute time, absent fields left out. */
function sampleOut(x: SampleFlow, base: number): SampleFlow {
  const s: SampleFlow = { at: x.at + base, dst: x.dst, protocol: x.protocol };
  if (x.dstPort !== undefined) s.dstPort = x.dstPort;
  if (x.state !== undefined) s.state = x.state;
  return s;
}
