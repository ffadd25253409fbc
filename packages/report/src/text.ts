import type { Report } from './model.js';
/** Text helpers shared by the renderers. */

/** Escapes text for HTML element content and attribute values. */
export function html(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** An integer with thousands separators (`1,234,567`). */
export function num(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A duration in ms as text: `1 h 30 min`, `45 s`, `0 s`. */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const h = Math.floor(m / 60);
  return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

/** Protocol number as a name where common. */
export function protoName(p: number): string {
  return ({ 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'ipv6-icmp', 132: 'sctp' } as Record<number, string>)[p] ?? String(p);
}

/** Human wording of a control status. */
export const STATUS_TEXT: Record<string, string> = {
  'no-data': 'NO DATA',
  'not-evaluable': 'not evaluable',
  exceptions: 'EXCEPTIONS',
  'no-exceptions': 'none seen',
};

/**
 * The findings' handling in one sentence (HTML and PDF state the same numbers as the figures
 * findings.open … findings.suppressed): counts by current triage state and suppression.
 */
export function triageLine(r: Report): string {
  const t = r.findings.triage;
  return `Handling (triage state now): ${num(t.open)} open, ${num(t.acknowledged)} acknowledged, ${num(t.resolved)} resolved, ${num(t.falsePositive)} false positive; ${num(t.suppressed)} suppressed by a rule (no alert, no block).`;
}
