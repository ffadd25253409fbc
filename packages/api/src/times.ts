/**
 * Times in answers: RFC 3339 (`2025-03-01T12:00:00.000Z`, UTC, ms precision) instead of the
 * store's ms since epoch. Inputs accept both (values.ts parseTime); answers are always RFC 3339.
 */
import type { DataGap, Decision, Finding } from '@floe/flow';
import type { ApiAuditEntry, ApiTokenRecord } from '@floe/store';

/** ms since epoch → RFC 3339 in UTC. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** A Finding with RFC 3339 times (firstSeen, lastSeen). */
export type FindingOut = Omit<Finding, 'firstSeen' | 'lastSeen'> & { firstSeen: string; lastSeen: string };
/** A Decision with RFC 3339 times (expiresAt, createdAt, updatedAt); durationMs stays ms. */
export type DecisionOut = Omit<Decision, 'expiresAt' | 'createdAt' | 'updatedAt'> & { expiresAt: string; createdAt: string; updatedAt: string };

export function findingOut(f: Finding): FindingOut {
  return { ...f, firstSeen: rfc3339(f.firstSeen), lastSeen: rfc3339(f.lastSeen) };
}

export function decisionOut(d: Decision): DecisionOut {
  return { ...d, expiresAt: rfc3339(d.expiresAt), createdAt: rfc3339(d.createdAt), updatedAt: rfc3339(d.updatedAt) };
}

export function gapOut(g: DataGap): Omit<DataGap, 'from' | 'to'> & { from: string; to: string } {
  return { ...g, from: rfc3339(g.from), to: rfc3339(g.to) };
}

/** A token as listed: never its hash. */
export function tokenOut(t: ApiTokenRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { id: t.id, name: t.name, role: t.role, createdAt: rfc3339(t.createdAt), createdBy: t.createdBy };
  if (t.expiresAt !== undefined) out.expiresAt = rfc3339(t.expiresAt);
  if (t.revokedAt !== undefined) out.revokedAt = rfc3339(t.revokedAt);
  return out;
}

export function auditOut(a: ApiAuditEntry): Omit<ApiAuditEntry, 'at'> & { at: string } {
  return { ...a, at: rfc3339(a.at) };
}
