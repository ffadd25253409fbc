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

const hourLabel = (t: number): string => new Date(t).toISOString().slice(5, 13).replace('T', ' ') + 'h';

/** The report's charts: flows per hour, findings by severity, blocks over time (per hour). */
export function reportCharts(r: Report): ChartSpec[] {
  return [
    {
      title: 'Flow records per hour (UTC)',
      unit: 'flow records',
      bars: r.traffic.hourly.map((h) => ({ label: hourLabel(h.hour), value: h.flows, color: '#3b6ea8' })),
      empty: 'no flow records in this period',
    },
    {
      title: 'Findings by severity',
      unit: 'findings',
      bars: [...SEVERITIES].reverse().map((s) => ({ label: s, value: r.findings.bySeverity[s], color: SEVERITY_COLORS[s] })),
      empty: 'no findings',
    },
    {
      title: 'Blocks taken per hour (UTC)',
      unit: 'block decisions',
      bars: r.blocks.hourly.map((h) => ({ label: hourLabel(h.hour), value: h.blocks, color: '#7a4fb0' })),
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
