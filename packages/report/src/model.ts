import type { Severity } from '@floe/flow';
import type { GapGroup, ReportFlowGroup } from '@floe/store';
import type { Framework } from './controls.js';

/**
 * The compliance report, schema 1: the canonical model every format (JSON, CSV, HTML, PDF) is
 * rendered from. Times are ms since epoch; byte counts are bytes; durations are ms.
 */
export interface Report {
  schema: 1;
  /** `rpt-<from>-<to>-<8 hex>` (ISO basic times, UTC), unique per generation. */
  id: string;
  title: string;
  generatedAt: number;
  /** [from, to). */
  period: { from: number; to: number };
  scope: ReportScope;
  policy: { name?: string; version: string; networksDefined: boolean; controlPlaneDefined: boolean; egressAllowList: boolean };
  completeness: Completeness;
  traffic: {
    flows: number;
    bytes: number;
    first?: number;
    last?: number;
    hourly: Array<{ hour: number; flows: number }>;
    byDirection: Record<string, number>;
  };
  /** Flow evidence per kind, judged by the policy (see build.ts). */
  evidence: Record<EvidenceKind, Evidence>;
  findings: {
    total: number;
    bySeverity: Record<Severity, number>;
    /** Per severity and detector; `blocked`: of them, findings a stored block decision names as its origin. */
    counts: Array<{ severity: Severity; detector: string; findings: number; blocked: number }>;
    /** Findings acted on with a block (any severity). */
    blocked: number;
    /** The findings by current triage state (never triaged = open) and how many a suppression rule marked. */
    triage: { open: number; acknowledged: number; resolved: number; falsePositive: number; suppressed: number };
  };
  blocks: {
    total: number;
    dryRun: number;
    enforced: number;
    totalDurationMs: number;
    minDurationMs: number;
    maxDurationMs: number;
    hourly: Array<{ hour: number; blocks: number }>;
  };
  /** Namespaces seen in the period's flows (sorted). */
  namespaces: string[];
  controls: ControlResult[];
  /** Every number the report states, by stable key: what each format prints and a test compares. */
  figures: Figure[];
}

/** The scope a report covers; empty lists mean everything. */
export interface ReportScope {
  /** A label for the cluster this store records (one store holds one cluster's flows). */
  cluster?: string;
  namespaces: string[];
  zones: string[];
}

/** How complete the data of the period is. `no-data` is never "compliant". */
export interface Completeness {
  /** `no-data`: no flow at all in scope; `incomplete`: gaps recorded or groups cut; `complete` otherwise. */
  status: 'no-data' | 'incomplete' | 'complete';
  /** One sentence saying so, printed first in every format. */
  statement: string;
  gaps: number;
  rejectedLines: number;
  /** Messages and records the processor dead-lettered in the period (lost to the data). */
  deadLetters: number;
  enobufsWarnings: number;
  silentMs: number;
  gapGroups: GapGroup[];
  /** True when the store returned fewer flow groups than exist: evidence counts are lower bounds. */
  groupsTruncated: boolean;
}

/** The kinds of flow evidence. */
export const EVIDENCE_KINDS = [
  'inbound',
  'inboundNotAllowed',
  'outbound',
  'egressNotAllowed',
  'namespaceBoundary',
  'zoneCrossings',
  'metadataApi',
  'metadataApiViolations',
  'controlPlanePortsOutside',
  'etcdOutside',
] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** Flows of one evidence kind: records, the groups (src, dst, protocol, port…) and the busiest of them. */
export interface Evidence {
  flows: number;
  groups: number;
  /** At most 10 groups, most flows first. */
  top: ReportFlowGroup[];
  /** Set when the policy cannot judge this kind (no networks, no egress allow-list…). */
  notEvaluable?: string;
}

/** The verdict on one control. */
export interface ControlResult {
  framework: Framework;
  id: string;
  title: string;
  source: string;
  /**
   * `no-data`: no flows in the period; `not-evaluable`: the policy cannot judge it (or flows cannot
   * show it); `exceptions`: flows the policy does not allow; `no-exceptions`: none seen in the data
   * there is (read with the completeness).
   */
  status: 'no-data' | 'not-evaluable' | 'exceptions' | 'no-exceptions';
  /** Figures (key = value) that are its evidence. */
  evidence: Array<{ key: string; value: number }>;
  limits: string;
}

/** One stated number. */
export interface Figure {
  key: string;
  label: string;
  value: number;
}
