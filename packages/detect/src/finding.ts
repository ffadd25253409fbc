/**
 * Helpers shared by the detectors to build findings: deterministic ids, scores, sorted evidence.
 */
import { createHash } from 'node:crypto';

/** MITRE ATT&CK technique "Network Service Discovery" (https://attack.mitre.org/techniques/T1046/). */
export const MITRE_NETWORK_SERVICE_DISCOVERY = 'T1046';

/** Default `producedBy` of findings from this package. */
export const DEFAULT_PRODUCED_BY = 'floe-detect/0.1.0';

/** Ports and hosts listed in evidence, at most. */
export const EVIDENCE_LIST_MAX = 50;

/**
 * Deterministic finding id: `<detectorId>:<first 24 hex digits of SHA-256(detectorId \n key \n windowStartMs)>`.
 * The same detector, key and window start always give the same id.
 */
export function findingId(detectorId: string, key: string, windowStartMs: number): string {
  const h = createHash('sha256').update(`${detectorId}\n${key}\n${windowStartMs}`).digest('hex');
  return `${detectorId}:${h.slice(0, 24)}`;
}

/**
 * Score in [0, 1] of a distinct count against its threshold, also weighing how fast it was reached:
 * `1 - 0.5 * (threshold / count) * (0.5 + 0.5 * spanMs / windowMs)`.
 * At the threshold it is 0.5 (reached at the end of the window) to 0.75 (reached at once); it
 * rises towards 1 as the count grows past the threshold. A floe heuristic, not a probability.
 */
export function scanScore(count: number, threshold: number, spanMs: number, windowMs: number): number {
  if (count <= 0) return 0;
  const speed = 0.5 + 0.5 * Math.min(1, Math.max(0, spanMs / windowMs));
  const s = 1 - 0.5 * Math.min(1, threshold / count) * speed;
  return Math.round(Math.min(1, Math.max(0, s)) * 1000) / 1000;
}

/**
 * How a summary states the time a finding covers, from its first and last seen (ms), for records
 * with their own times: a span of 0 ms is "all at one recorded time" (records sharing one time
 * stamp); under 1 s "within 430 ms"; under 10 s "within 3.2 s"; else whole seconds "within 42 s".
 */
export function spanPhrase(firstSeen: number, lastSeen: number): string {
  const ms = Math.max(0, lastSeen - firstSeen);
  if (ms === 0) return 'all at one recorded time';
  if (ms < 1000) return `within ${Math.round(ms)} ms`;
  if (ms < 10_000) return `within ${(ms / 1000).toFixed(1)} s`;
  return `within ${Math.round(ms / 1000)} s`;
}

/**
 * The end of a scan finding's summary: ` within 1.0 s (threshold 15 in 60 s)` when the times are
 * the records' own (`timed`), else ` (timing unknown: the records carry no time; threshold 15 in
 * 60 s)`, which makes no claim about duration.
 */
export function timingAndThreshold(firstSeen: number, lastSeen: number, timed: boolean, threshold: number, windowMs: number): string {
  const rule = `threshold ${threshold} in ${windowMs / 1000} s`;
  return timed ? ` ${spanPhrase(firstSeen, lastSeen)} (${rule})` : ` (timing unknown: the records carry no time; ${rule})`;
}

/** Compare two addresses: IPv4 numerically before IPv6, IPv6 as text. */
export function compareAddr(a: string, b: string): number {
  const na = v4Number(a);
  const nb = v4Number(b);
  if (na >= 0 && nb >= 0) return na - nb;
  if (na >= 0) return -1;
  if (nb >= 0) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function v4Number(s: string): number {
  const p = s.split('.');
  if (p.length !== 4) return -1;
  let n = 0;
  for (const x of p) {
    const v = Number(x);
    if (!Number.isInteger(v) || v < 0 || v > 255 || x === '') return -1;
    n = n * 256 + v;
  }
  return n;
}
