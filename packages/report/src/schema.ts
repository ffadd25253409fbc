/**
 * JSON Schema (draft 2020-12 / OpenAPI 3.1 compatible) of Report schema 1 (model.ts) and of the
 * index of kept reports (archive.ts), for the API's response schemas and for checking a report.
 */
import { SEVERITIES } from '@floe/flow';
import { EVIDENCE_KINDS } from './model.js';

const int = { type: 'integer' } as const;
const str = { type: 'string' } as const;
const strings = { type: 'array', items: str } as const;
const time = { type: 'integer', description: 'ms since epoch' } as const;
const hourly = (key: string) => ({
  type: 'array',
  items: { type: 'object', additionalProperties: false, required: ['hour', key], properties: { hour: time, [key]: int } },
});
const scope = {
  type: 'object',
  additionalProperties: false,
  required: ['namespaces', 'zones'],
  properties: { cluster: str, namespaces: strings, zones: strings },
} as const;
const group = {
  type: 'object',
  additionalProperties: false,
  required: ['srcAddr', 'dstAddr', 'protocol', 'flows', 'bytes'],
  properties: {
    srcAddr: str,
    dstAddr: str,
    protocol: int,
    dstPort: int,
    direction: { enum: ['ingress', 'egress', 'internal', 'external'] },
    srcNamespace: str,
    dstNamespace: str,
    srcZone: str,
    dstZone: str,
    flows: int,
    bytes: int,
  },
} as const;
const evidence = {
  type: 'object',
  additionalProperties: false,
  required: ['flows', 'groups', 'top'],
  properties: { flows: int, groups: int, top: { type: 'array', items: group }, notEvaluable: str },
} as const;
const severityCounts = { type: 'object', additionalProperties: false, required: [...SEVERITIES], properties: Object.fromEntries(SEVERITIES.map((s) => [s, int])) };

/** Schema of a Report (schema 1). */
export const reportJsonSchema = {
  $id: 'floe-report-v1',
  type: 'object',
  additionalProperties: false,
  required: ['schema', 'id', 'title', 'generatedAt', 'period', 'scope', 'policy', 'completeness', 'traffic', 'evidence', 'findings', 'blocks', 'namespaces', 'controls', 'figures'],
  properties: {
    schema: { const: 1 },
    id: str,
    title: str,
    generatedAt: time,
    period: { type: 'object', additionalProperties: false, required: ['from', 'to'], properties: { from: time, to: time } },
    scope,
    policy: {
      type: 'object',
      additionalProperties: false,
      required: ['version', 'networksDefined', 'controlPlaneDefined', 'egressAllowList'],
      properties: { name: str, version: str, networksDefined: { type: 'boolean' }, controlPlaneDefined: { type: 'boolean' }, egressAllowList: { type: 'boolean' } },
    },
    completeness: {
      type: 'object',
      additionalProperties: false,
      required: ['status', 'statement', 'gaps', 'rejectedLines', 'deadLetters', 'enobufsWarnings', 'silentMs', 'gapGroups', 'groupsTruncated'],
      properties: {
        status: { enum: ['no-data', 'incomplete', 'complete'] },
        statement: str,
        gaps: int,
        rejectedLines: int,
        deadLetters: int,
        enobufsWarnings: int,
        silentMs: int,
        gapGroups: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['node', 'source', 'kind', 'gaps', 'count', 'ms'],
            properties: { node: str, source: str, kind: str, gaps: int, count: int, ms: int },
          },
        },
        groupsTruncated: { type: 'boolean' },
      },
    },
    traffic: {
      type: 'object',
      additionalProperties: false,
      required: ['flows', 'bytes', 'hourly', 'byDirection'],
      properties: { flows: int, bytes: int, first: time, last: time, hourly: hourly('flows'), byDirection: { type: 'object', additionalProperties: int } },
    },
    evidence: { type: 'object', additionalProperties: false, required: [...EVIDENCE_KINDS], properties: Object.fromEntries(EVIDENCE_KINDS.map((k) => [k, evidence])) },
    findings: {
      type: 'object',
      additionalProperties: false,
      required: ['total', 'bySeverity', 'counts', 'blocked', 'triage'],
      properties: {
        total: int,
        bySeverity: severityCounts,
        counts: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['severity', 'detector', 'findings', 'blocked'],
            properties: { severity: { enum: [...SEVERITIES] }, detector: str, findings: int, blocked: int },
          },
        },
        blocked: int,
        triage: {
          type: 'object',
          additionalProperties: false,
          required: ['open', 'acknowledged', 'resolved', 'falsePositive', 'suppressed'],
          properties: { open: int, acknowledged: int, resolved: int, falsePositive: int, suppressed: int },
        },
      },
    },
    blocks: {
      type: 'object',
      additionalProperties: false,
      required: ['total', 'dryRun', 'enforced', 'totalDurationMs', 'minDurationMs', 'maxDurationMs', 'hourly'],
      properties: { total: int, dryRun: int, enforced: int, totalDurationMs: int, minDurationMs: int, maxDurationMs: int, hourly: hourly('blocks') },
    },
    namespaces: strings,
    controls: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['framework', 'id', 'title', 'source', 'status', 'evidence', 'limits'],
        properties: {
          framework: str,
          id: str,
          title: str,
          source: str,
          status: { enum: ['no-data', 'not-evaluable', 'exceptions', 'no-exceptions'] },
          evidence: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['key', 'value'], properties: { key: str, value: int } } },
          limits: str,
        },
      },
    },
    figures: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['key', 'label', 'value'], properties: { key: str, label: str, value: int } } },
  },
} as const;

/** Schema of one entry of the index of kept reports (KeptReport). */
export const keptReportJsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'title', 'generatedAt', 'from', 'to', 'scope', 'completeness', 'formats'],
  properties: {
    id: str,
    title: str,
    generatedAt: time,
    from: time,
    to: time,
    scope,
    completeness: { enum: ['no-data', 'incomplete', 'complete'] },
    formats: { type: 'array', items: { enum: ['json', 'csv', 'html', 'pdf'] } },
    schedule: str,
  },
} as const;
