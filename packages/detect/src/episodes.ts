/**
 * Findings raised and not yet closed, shared by the exfil, DNS and lateral detectors: an episode
 * (a window with a finding) ends at `end` (ms of event time); it is closed, and its final form
 * emitted, by the first record at or after `end + lateness` (any key), by `expire(nowMs >= end)`, by
 * `flush()`, or by its detector (the key's next window, an eviction). The open set holds only
 * episodes with a finding, so a sweep walks few entries.
 */
import type { Finding } from '@floe/flow';
import type { WindowStats } from './window.js';
import type { WindowDetector } from './portscan.js';
import type { Registry } from 'prom-client';
import { trackDetectorMetrics } from './metrics.js';

/** An episode with a finding: its id and the end of its window (ms). */
export interface Episode {
  id: string;
  end: number;
}

/** Shared empty result: never mutated (callers copy on first push via {@link push}). */
export const NONE: Finding[] = [];

/** Append `f` to `out`, allocating only when `out` is the shared empty array. */
export function push(out: Finding[], f: Finding | undefined): Finding[] {
  if (f === undefined) return out;
  if (out === NONE) return [f];
  out.push(f);
  return out;
}

/** The open episodes of one detector, keyed like its state. */
export class OpenEpisodes<S extends Episode> {
  private readonly open = new Map<string, S>();
  private nextClose = Infinity;

  /**
   * @param lateness ms of event time an episode waits after its end for late records before a
   *   newer record closes it (`Infinity`: only expire/flush/the detector close it).
   * @param close builds the final form of an episode (undefined when nothing changed since it
   *   was last emitted) and resets the detector's state for it; called once per episode.
   */
  constructor(
    private readonly lateness: number,
    private readonly close: (key: string, s: S) => Finding | undefined,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** Track `s` (raised now) until its end. */
  add(key: string, s: S): void {
    this.open.set(key, s);
    if (s.end < this.nextClose) this.nextClose = s.end;
  }

  /** Close the episode of `key` now (its detector ended it: a new window, an eviction). */
  closeKey(key: string, out: Finding[]): Finding[] {
    const s = this.open.get(key);
    if (s === undefined) return out;
    this.open.delete(key);
    return push(out, this.close(key, s));
  }

  /** Event time reached `t` on a record: close the episodes that ended by `t - lateness`. */
  advance(t: number, out: Finding[]): Finding[] {
    if (this.lateness === Infinity || t - this.lateness < this.nextClose) return out;
    return this.closeUntil(t - this.lateness, out);
  }

  /** Close the episodes that ended by `nowMs`. */
  closeUntil(nowMs: number, out: Finding[]): Finding[] {
    let next = Infinity;
    for (const [k, s] of this.open) {
      if (s.end <= nowMs) {
        this.open.delete(k);
        out = push(out, this.close(k, s));
      } else if (s.end < next) next = s.end;
    }
    this.nextClose = next;
    return out;
  }

  /** Close every episode. */
  flush(): Finding[] {
    return this.closeUntil(Infinity, NONE);
  }
}

/** Mutable counters behind `stats()` (the `floe_detect_*` metrics read them). */
export function newStats(): WindowStats {
  return {
    flows: 0,
    keys: 0,
    openFindings: 0,
    evictedKeys: 0,
    evictedConnections: 0,
    attempts: 0,
    lateFlows: 0,
    findings: 0,
    raised: 0,
    updates: 0,
    finals: 0,
    evictedPartway: 0,
    promotedKeys: 0,
    protectedKeys: 0,
    evictedHeld: 0,
    heldSources: 0,
  };
}

/** Count one emitted finding of `kind` in `st`. */
export function countFinding(st: WindowStats, kind: 'new' | 'update' | 'final'): void {
  st.findings++;
  if (kind === 'new') st.raised++;
  else if (kind === 'update') st.updates++;
  else st.finals++;
}

/** State an episode's raised and updated forms are built from: `dirty` when counts changed since. */
export interface EmittingEpisode extends Episode {
  dirty: boolean;
}

/**
 * The raised and updated forms of one detector's episodes: `raise` opens the episode (until its
 * end), counts a `new` finding and appends it; `update` counts an `update` and appends it, clearing
 * `dirty`. The caller sets its own "count when last emitted" before either.
 */
export function episodeEmitter<S extends EmittingEpisode>(
  episodes: OpenEpisodes<S>,
  stats: WindowStats,
  build: (key: string, s: S) => Finding,
): { raise(key: string, s: S, out: Finding[]): Finding[]; update(key: string, s: S, out: Finding[]): Finding[] } {
  return {
    raise(key, s, out) {
      episodes.add(key, s);
      countFinding(stats, 'new');
      return push(out, build(key, s));
    },
    update(key, s, out) {
      s.dirty = false;
      countFinding(stats, 'update');
      return push(out, build(key, s));
    },
  };
}

/**
 * The detector of an episode-based rule: `observe` as given, `expire`/`flush` close episodes,
 * `stats()` is `stats` with the live key and open-episode counts and `extra()`; exported as
 * `floe_detect_*` on `metrics` when given.
 */
export function episodeDetector<S extends Episode>(
  id: string,
  observe: WindowDetector['observe'],
  episodes: OpenEpisodes<S>,
  stats: WindowStats,
  extra: () => Partial<WindowStats>,
  metrics: Registry | undefined,
): WindowDetector {
  const d: WindowDetector = {
    id,
    observe,
    expire: (nowMs) => episodes.closeUntil(nowMs, NONE),
    flush: () => episodes.flush(),
    stats: (): WindowStats => ({ ...stats, openFindings: episodes.size, ...extra() }),
  };
  if (metrics !== undefined) trackDetectorMetrics(metrics, d);
  return d;
}
