import { SEVERITIES } from '@floe/flow';
import type { Report } from './model.js';

/** One bar of a chart. */
export interface Bar {
  label: string;
  value: number;
  color: string;
}

/** A bar chart, drawn the same way in HTML (SVG) and PDF (pdfkit vectors). */
export interface ChartSpec {
  title: string;
  /** What one unit of a bar is. */
  unit: string;
  bars: Bar[];
  /** Text shown instead of bars when there are none. */
  empty: string;
}

/** Severity colours, info .. critical. */
export const SEVERITY_COLORS: Record<string, string> = { info: '#8da0b6', low: '#4f8fcf', medium: '#e0a526', high: '#e0662b', critical: '#b0192f' };

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Periods up to this many hours are charted per hour; longer ones per day (UTC). */
export const MAX_HOURLY_BARS = 14 * 24;

/**
 * A time series over the whole period, empty buckets as 0 (so the bars keep the time axis): per
 * hour for periods up to MAX_HOURLY_BARS hours, else per UTC day. Input: hourly counts (hour start, ms).
 */
export function timeBuckets(series: ReadonlyArray<{ hour: number; n: number }>, from: number, to: number): { size: 'hour' | 'day'; buckets: Array<{ at: number; n: number }> } {
  const size = (to - from) / HOUR <= MAX_HOURLY_BARS ? 'hour' : 'day';
  const step = size === 'hour' ? HOUR : DAY;
  const start = Math.floor(from / step) * step;
  const count = Math.max(1, Math.ceil((to - start) / step));
  const buckets = Array.from({ length: count }, (_, i) => ({ at: start + i * step, n: 0 }));
  for (const p of series) {
    const i = Math.floor((p.hour - start) / step);
    if (i >= 0 && i < count) buckets[i].n += p.n;
  }
  return { size, buckets };
}

const label = (t: number, size: 'hour' | 'day'): string =>
  size === 'hour' ? `${new Date(t).toISOString().slice(5, 13).replace('T', ' ')}h` : new Date(t).toISOString().slice(0, 10);

/** The report's charts: flows per hour (or day), findings by severity, blocks per hour (or day). */
export function reportCharts(r: Report): ChartSpec[] {
  const flows = timeBuckets(
    r.traffic.hourly.map((h) => ({ hour: h.hour, n: h.flows })),
    r.period.from,
    r.period.to,
  );
  const blocks = timeBuckets(
    r.blocks.hourly.map((h) => ({ hour: h.hour, n: h.blocks })),
    r.period.from,
    r.period.to,
  );
  return [
    {
      title: `Flow records per ${flows.size} (UTC)`,
      unit: 'flow records',
      bars: r.traffic.flows === 0 ? [] : flows.buckets.map((b) => ({ label: label(b.at, flows.size), value: b.n, color: '#3b6ea8' })),
      empty: 'no flow records in this period',
    },
    {
      title: 'Findings by severity',
      unit: 'findings',
      bars: [...SEVERITIES].reverse().map((s) => ({ label: s, value: r.findings.bySeverity[s], color: SEVERITY_COLORS[s] })),
      empty: 'no findings',
    },
    {
      title: `Blocks taken per ${blocks.size} (UTC)`,
      unit: 'block decisions',
      bars: r.blocks.total === 0 ? [] : blocks.buckets.map((b) => ({ label: label(b.at, blocks.size), value: b.n, color: '#7a4fb0' })),
      empty: 'no blocks taken in this period',
    },
  ];
}

/**
 * A "nice" axis maximum at or above `v` with four equal integer ticks: 4 × a step of 1, 2 or 5 ×
 * 10^n (at least 1), so every tick label is a whole number (722 -> 800, 5 -> 8, 1 -> 4).
 */
export function niceMax(v: number): number {
  const want = Math.max(1, v / 4);
  const p = 10 ** Math.floor(Math.log10(want));
  for (const m of [1, 2, 5, 10]) if (m * p >= want) return 4 * m * p;
  return 40 * p;
}
