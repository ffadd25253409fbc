/**
 * Finding: what a detector or a policy rule concludes about an entity (ARCHITECTURE.md,
 * "Findings and decisions"). Times are ms since epoch.
 */
export interface Finding {
  /** Stable id: deterministic from detector, entity and window start, so a replay yields the same id. */
  id: string;
  /** Schema version of this shape. */
  schema: 1;
  /** First and last flow time the finding covers (ms since epoch). */
  firstSeen: number;
  lastSeen: number;
  /** Detector id (`portscan.vertical`) or policy rule id (`policy.metadata-api`). */
  detector: string;
  /** `detector` for a detector, `policy` for a policy rule. */
  kind: 'detector' | 'policy';
  severity: Severity;
  /** Detector score in [0, 1]; 1 for rule hits. */
  score: number;
  /** The entity the finding is about (usually the source of the flows). */
  entity: FindingEntity;
  /** Peers involved (destination addresses), capped by the detector. */
  peers: string[];
  /** Human summary, one line. */
  summary: string;
  /** Evidence: counts, ports, bytes, sample flows. */
  evidence: FindingEvidence;
  /** MITRE ATT&CK technique id where one fits (T1046, T1110, ...). */
  mitre?: string;
  /** Policy or model version that produced the finding. */
  producedBy: string;
}

/** Severity scale, lowest first. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Rank of a severity in SEVERITIES (info = 0 .. critical = 4). */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export interface FindingEntity {
  addr: string;
  namespace?: string;
  pod?: string;
  workload?: string;
}

export interface FindingEvidence {
  /** Flows counted for this finding. */
  flows: number;
  /** Distinct destination ports seen (capped list) and their total count. */
  ports?: number[];
  distinctPorts?: number;
  /** Distinct destination hosts count. */
  distinctHosts?: number;
  bytes?: number;
  /**
   * The flows counted, by the verdict their source logged (FlowRecord.verdict: a packet-log
   * prefix such as `[UFW ALLOW]` or `DROP`); `none` for sources without one (conntrack, flow
   * files). Absent when the detector does not count verdicts. See {@link acceptedOnly}.
   */
  verdicts?: VerdictCounts;
  /** A few flows as they were seen, for the analyst. */
  sample?: Array<{ at: number; dst: string; dstPort?: number; protocol: number; state?: string }>;
  /**
   * True when firstSeen/lastSeen come from the records' own times; false when a record carried no
   * time (`FlowRecord.untimed`, a `conntrack -L` dump): the times are then when floe read the
   * records, and no duration is claimed. Absent for findings that do not say.
   */
  timesFromRecords?: boolean;
  /**
   * Who the entity is: `source` (the flows' origin, the default when absent) or `victim` (the
   * destination under attack, as for a SYN flood from spoofed or many sources): a victim-role
   * finding is never a block target (see {@link entityIsVictim}).
   */
  entityRole?: 'source' | 'victim';
  /** Free-form extra facts, detector-specific. */
  [extra: string]: unknown;
}

/** Flows by logged verdict (see FindingEvidence.verdicts). */
export interface VerdictCounts {
  accept: number;
  drop: number;
  none: number;
}

/**
 * True when every flow behind the finding was logged with an accept verdict (evidence.verdicts
 * has accepts and no drop or verdict-less flow): the packets were let through by a firewall
 * that only logged them, which the responder does not block on unless told to
 * (respond.blockOnAcceptedLogs).
 */
export function acceptedOnly(f: Pick<Finding, 'evidence'>): boolean {
  const v = f.evidence.verdicts;
  return v !== undefined && v.accept > 0 && v.drop === 0 && v.none === 0;
}

/**
 * True when the finding's entity is the victim of the flows, not their source
 * (`evidence.entityRole === 'victim'`): the responder never blocks it (a SYN flood from spoofed
 * sources names the destination; blocking it would finish the attacker's work).
 */
export function entityIsVictim(f: Pick<Finding, 'evidence'>): boolean {
  return f.evidence.entityRole === 'victim';
}
