import type { DataGap } from '@floe/flow';

/** Per-source state of a GapTracker. */
interface SourceGaps {
  source: string;
  live: boolean;
  enobufs?: { from: number; to: number; count: number };
  rejected?: { from: number; to: number; count: number; reasons: Record<string, number> };
  /** Wall time of the last line (any line: parsed, skipped or rejected), or of the start. */
  lastLine: number;
  /** Set while the source is silent: the time of its last line. */
  silentSince?: number;
  /** Time of the last flow in the source's own clock (observedAt), for rejected-line gaps. */
  lastFlowAt?: number;
}

/** What a GapTracker reports on tick(). */
export interface GapTick {
  /** Gaps to publish (closed ENOBUFS and rejected intervals, silences that ended). */
  gaps: DataGap[];
  /** Sources that went silent in this tick (for a log line and the metric). */
  wentSilent: string[];
}

/**
 * Collects the input a collector knows it missed, per source, and turns it into DataGap v1
 * records (see @floe/flow gap.ts) once per tick:
 * - ENOBUFS warnings of a live source, merged per tick (count = warnings, wall clock);
 * - rejected lines, merged per tick (count and reasons; times in the source's own clock: the
 *   observedAt of the last flow before each rejection, else the wall clock);
 * - silence of a live source: no line for `silentAfterMs` (0 = off) while it runs; reported as
 *   one gap [last line, next line] when it ends, or [last line, now] at finish().
 * Pure bookkeeping: the caller owns the timer, the clock, the bus and the metrics.
 */
export class GapTracker {
  private readonly sources = new Map<string, SourceGaps>();

  constructor(
    private readonly node: string,
    private readonly silentAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Register a source (`live`: one that should never be quiet for long, such as conntrack -E). */
  add(source: string, live: boolean): void {
    this.sources.set(source, { source, live, lastLine: this.now() });
  }

  private get(source: string): SourceGaps {
    let s = this.sources.get(source);
    if (s === undefined) {
      s = { source, live: false, lastLine: this.now() };
      this.sources.set(source, s);
    }
    return s;
  }

  /** A line arrived (returns a closed silence gap when the source had been silent). */
  line(source: string): DataGap | undefined {
    const s = this.get(source);
    const t = this.now();
    s.lastLine = t;
    if (s.silentSince === undefined) return undefined;
    const g = this.gap(s.source, 'silent', s.silentSince, t, 0);
    s.silentSince = undefined;
    return g;
  }

  /** A flow was parsed (its own time keeps the clock for rejected-line gaps). */
  flow(source: string, observedAt: number): void {
    this.get(source).lastFlowAt = observedAt;
  }

  /** A line was rejected with this reason. */
  rejected(source: string, reason: string): void {
    const s = this.get(source);
    const t = s.lastFlowAt ?? this.now();
    const r = (s.rejected ??= { from: t, to: t, count: 0, reasons: {} });
    r.to = Math.max(r.to, t);
    r.from = Math.min(r.from, t);
    r.count++;
    r.reasons[reason] = (r.reasons[reason] ?? 0) + 1;
  }

  /** conntrack said it hit ENOBUFS (events were lost). */
  enobufs(source: string): void {
    const s = this.get(source);
    const t = this.now();
    const e = (s.enobufs ??= { from: t, to: t, count: 0 });
    e.to = t;
    e.count++;
  }

  /** Gaps closed since the last tick, and live sources that just went silent. */
  tick(): GapTick {
    const t = this.now();
    const gaps: DataGap[] = [];
    const wentSilent: string[] = [];
    for (const s of this.sources.values()) {
      if (s.enobufs) gaps.push(this.gap(s.source, 'enobufs', s.enobufs.from, s.enobufs.to, s.enobufs.count));
      if (s.rejected) {
        const g = this.gap(s.source, 'rejected', s.rejected.from, s.rejected.to, s.rejected.count);
        g.reasons = s.rejected.reasons;
        gaps.push(g);
      }
      s.enobufs = undefined;
      s.rejected = undefined;
      if (s.live && this.silentAfterMs > 0 && s.silentSince === undefined && t - s.lastLine >= this.silentAfterMs) {
        s.silentSince = s.lastLine;
        wentSilent.push(s.source);
      }
    }
    return { gaps, wentSilent };
  }

  /** True while the source is silent. */
  isSilent(source: string): boolean {
    return this.sources.get(source)?.silentSince !== undefined;
  }

  /** Last tick at the end: open silences are closed at now. */
  finish(): DataGap[] {
    const { gaps } = this.tick();
    const t = this.now();
    for (const s of this.sources.values()) {
      if (s.silentSince !== undefined) {
        gaps.push(this.gap(s.source, 'silent', s.silentSince, t, 0));
        s.silentSince = undefined;
      }
    }
    return gaps;
  }

  private gap(source: string, kind: DataGap['kind'], from: number, to: number, count: number): DataGap {
    return { schema: 1, node: this.node, source, kind, from, to: Math.max(from, to), count };
  }
}
