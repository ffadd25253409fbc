/**
 * The keyed state and finding life cycle shared by the rule detectors that are not distinct
 * counts (`bruteforce.auth`, `dos.synflood`, `beacon.periodic`): per-key state in a
 * {@link BoundedKeys} (bounded, O(1), spraying one-shot keys cannot evict a key the detector
 * promoted), and "episodes": a key's finding is RAISED (kind `new`) once, re-emitted with the same id
 * when the detector says (`update`), and CLOSED (kind `final`, when it changed since last emitted)
 * when its key has been quiet for the detector's `quietMs`, on `expire`, `flush`, or when the key
 * is evicted. Finding ids hash the detector id, the key and the episode's first seen
 * ({@link findingId}), so a replay at any speed gives the same ids.
 *
 * Record-driven close: at most every {@link SWEEP_STEP_MS} of event time, a record at or after an
 * open episode's `last + quietMs + lateness` closes it; keys at the probation end of the LRU whose
 * state the detector calls stale are dropped (not counted as evictions). `lateness: Infinity`
 * (offline analysis) turns this off: episodes then close by their own key, `expire` or `flush`.
 */
import type { Finding, FlowRecord } from '@floe/flow';
import { BoundedKeys, type Segment } from './keyed.js';
import { findingId } from './finding.js';
import { newStats } from './episodes.js';
import { SWEEP_STEP_MS, type WindowStats } from './window.js';

/** An open finding of one key. Times are ms since epoch (event time). */
export interface Episode {
  /** Finding id. */
  id: string;
  /** First and last event time the finding covers. */
  first: number;
  last: number;
  /** True when the episode counted something since it was last emitted. */
  dirty: boolean;
  /** The record that raised it. */
  ref: FlowRecord;
}

/** Per-key state of a rule detector: whatever it counts, plus its open episode. */
export interface RuleState {
  /** The open finding of this key, if raised. */
  episode: Episode | undefined;
}

/** What a rule detector supplies to {@link RuleKeys}. */
export interface RuleSpec<S extends RuleState> {
  detectorId: string;
  /** An open episode closes when its key has had nothing to add for this long (ms of event time). */
  quietMs: number;
  /** Newest event time of the key's state (ms): the key is stale once this is `staleMs` in the past. */
  lastActivity(state: S): number;
  /** How long (ms) after its last activity a key without an open episode is useless (its window). */
  staleMs: number;
  /** The finding of `state`'s episode, as it stands now. */
  finding(key: string, state: S): Finding;
}

const NONE: Finding[] = [];

/** Append `f` to `out`, allocating only when `out` is the shared empty array. */
function push(out: Finding[], f: Finding): Finding[] {
  if (out === NONE) return [f];
  out.push(f);
  return out;
}

/** Keyed state with bounded memory and the episode life cycle of the rule detectors (see module comment). */
export class RuleKeys<S extends RuleState> {
  private readonly keys: BoundedKeys<S>;
  private readonly open = new Map<string, S>();
  private readonly counters = newStats();
  private highWater = -Infinity;
  private nextSweep = -Infinity;

  /**
   * @param maxKeys keys held at once (>= 1); the least recently seen probation key is evicted first.
   * @param lateness ms of event time to wait for late records before a record of another key closes an episode; `Infinity`: never.
   */
  constructor(
    private readonly spec: RuleSpec<S>,
    maxKeys: number,
    private readonly lateness: number,
  ) {
    this.keys = new BoundedKeys<S>(maxKeys);
  }

  /** Count a flow seen by the detector and move event time to `t`; returns finals of episodes the move closed. */
  tick(t: number): Finding[] {
    this.counters.flows++;
    if (!(t > this.highWater)) return NONE;
    this.highWater = t;
    if (t < this.nextSweep || this.lateness === Infinity) return NONE;
    this.nextSweep = t + SWEEP_STEP_MS;
    return this.sweep(t - this.lateness, NONE);
  }

  /** The state of `key`, marked recently used. */
  touch(key: string): S | undefined {
    return this.keys.touch(key);
  }

  /** Insert a new key (absent: its touch just missed); an evicted key's open episode is closed into `out`. */
  insert(key: string, state: S, out: Finding[]): Finding[] {
    const ev = this.keys.add(key, state);
    if (ev === undefined) return out;
    this.counters.evictedKeys++;
    return this.close(ev.key, ev.value, out);
  }

  /** Protect `key` from eviction by one-shot keys (it is part-way to a threshold). */
  promote(key: string): void {
    this.keys.promote(key);
  }

  /** Count one attempt the detector accepted. */
  attempt(): void {
    this.counters.attempts++;
  }

  /** Count one record dropped as too old for its key. */
  late(): void {
    this.counters.lateFlows++;
  }

  /** Raise `state`'s finding: its episode starts at `first`. */
  raise(key: string, state: S, first: number, last: number, ref: FlowRecord, out: Finding[]): Finding[] {
    state.episode = { id: findingId(this.spec.detectorId, key, first), first, last, dirty: false, ref };
    this.open.set(key, state);
    this.keys.promote(key);
    this.counters.raised++;
    this.counters.findings++;
    return push(out, this.spec.finding(key, state));
  }

  /** Re-emit `state`'s open finding (same id) now. */
  update(key: string, state: S, out: Finding[]): Finding[] {
    if (state.episode === undefined) return out;
    state.episode.dirty = false;
    this.counters.updates++;
    this.counters.findings++;
    return push(out, this.spec.finding(key, state));
  }

  /** Close `state`'s episode: its final form when it changed since last emitted. The caller resets its counts. */
  close(key: string, state: S, out: Finding[]): Finding[] {
    const ep = state.episode;
    if (ep === undefined) return out;
    this.open.delete(key);
    if (ep.dirty) {
      ep.dirty = false;
      this.counters.finals++;
      this.counters.findings++;
      out = push(out, this.spec.finding(key, state));
    }
    state.episode = undefined;
    return out;
  }

  /** Close open episodes quiet since `nowMs - quietMs`; drop stale keys from the LRU ends. */
  private sweep(nowMs: number, out: Finding[]): Finding[] {
    for (const [key, st] of this.open) {
      const ep = st.episode as Episode;
      if (ep.last + this.spec.quietMs <= nowMs) out = this.close(key, st, out);
    }
    for (const seg of ['probation', 'protected'] as Segment[]) {
      for (;;) {
        const o = this.keys.oldest(seg);
        if (o === undefined || o.value.episode !== undefined || this.spec.lastActivity(o.value) + this.spec.staleMs > nowMs) break;
        this.keys.delete(o.key);
      }
    }
    return out;
  }

  /** Event time reached `nowMs` with no record: close quiet episodes, drop stale keys. */
  expire(nowMs: number): Finding[] {
    if (!Number.isFinite(nowMs)) return NONE;
    if (nowMs > this.highWater) this.highWater = nowMs;
    return this.sweep(nowMs, NONE);
  }

  /** End of input: close every open episode (their keys are forgotten). */
  flush(): Finding[] {
    let out = NONE;
    for (const [key, st] of this.open) {
      out = this.close(key, st, out);
      this.keys.delete(key);
    }
    return out;
  }

  /** Counters, for metrics and tests. */
  stats(): WindowStats {
    return { ...this.counters, keys: this.keys.size, openFindings: this.open.size };
  }
}
