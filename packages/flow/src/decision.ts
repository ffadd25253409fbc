/**
 * Decision: what the responder orders enforcers to do (block an address or prefix for a
 * time) and why (ARCHITECTURE.md, "Findings and decisions"). Times are ms since epoch.
 */
export interface Decision {
  schema: 1;
  /** Target in CIDR form, always with a prefix length: `203.0.113.7/32`, `2001:db8::/64`. */
  target: string;
  action: 'block';
  /** `all` nodes, or a list of node names. */
  scope: 'all' | string[];
  /** Duration in ms. */
  durationMs: number;
  /** Expiry (ms since epoch) = updatedAt + durationMs. */
  expiresAt: number;
  /** Finding id, or `api:<user>` for a manual block. */
  origin: string;
  reason: string;
  /** How many times this target was blocked (escalation step, 1-based). */
  count: number;
  /** True when produced in dry-run: stored and audited, never enforced. */
  dryRun: boolean;
  createdAt: number;
  updatedAt: number;
}

/** An audited change to a decision: created, extended, deleted, refused (never-block, rate cap). */
export interface DecisionAudit {
  at: number;
  target: string;
  change: 'create' | 'extend' | 'delete' | 'refuse' | 'expire';
  origin: string;
  reason: string;
  /** The decision as it stood after the change (absent for delete/refuse). */
  decision?: Decision;
}
