/**
 * floe's own validation of the custom resources' `spec`, beyond the CRD's OpenAPI schema: a
 * FloePolicy spec is a policy document checked by @floe/policy `parsePolicy` (the same checks as
 * a policy file: CIDRs, ports, durations, zone names, blocklist files, ...); a FloeNeverBlock's
 * CIDRs are checked as a policy's `respond.neverBlock` would be. Errors carry the field path
 * under `spec`.
 */
import { isAbsolute } from 'node:path';
import { parsePolicy, type Policy, PolicyError, type PolicyIssue } from '@floe/policy';
import type { FloeStatusError } from './crd.js';

/** Outcome of validating one spec. */
export type SpecCheck<T> = { ok: true; value: T } | { ok: false; errors: FloeStatusError[] };

/** Most errors kept in a status (the rest are counted in the last one). */
export const MAX_STATUS_ERRORS = 20;

function statusErrors(issues: readonly PolicyIssue[], rename: (field: string) => string = (f) => f): FloeStatusError[] {
  const errs = issues.filter((i) => i.severity !== 'warning').map((i) => ({ field: i.field === '' ? 'spec' : `spec.${rename(i.field)}`, message: i.message, code: i.code }));
  if (errs.length <= MAX_STATUS_ERRORS) return errs;
  const rest = errs.length - MAX_STATUS_ERRORS + 1;
  return [...errs.slice(0, MAX_STATUS_ERRORS - 1), { field: 'spec', message: `${rest} more errors`, code: errs[MAX_STATUS_ERRORS - 1].code }];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates a FloePolicy `spec` as a floe policy document. `source` names it in the policy's
 * `source.file` (e.g. `floepolicy/floe/default`). Paths (`blocklists.files`,
 * `detectors.model.dir`) must be absolute: a resource has no folder to be relative to.
 */
export function checkPolicySpec(spec: unknown, source: string): SpecCheck<Policy> {
  if (!isRecord(spec)) return { ok: false, errors: [{ field: 'spec', message: 'must be an object (a floe policy document)', code: 'FLOE_POLICY_SCHEMA' }] };
  const pathErrors: FloeStatusError[] = [];
  const blocklists = isRecord(spec.blocklists) ? spec.blocklists : undefined;
  if (blocklists && Array.isArray(blocklists.files)) {
    blocklists.files.forEach((f, i) => {
      if (typeof f === 'string' && !isAbsolute(f)) {
        pathErrors.push({
          field: `spec.blocklists.files[${i}]`,
          message: 'must be an absolute path in a FloePolicy (a file mounted into the processor)',
          code: 'FLOE_POLICY_SCHEMA',
        });
      }
    });
  }
  const detectors = isRecord(spec.detectors) ? spec.detectors : undefined;
  const model = detectors && isRecord(detectors.model) ? detectors.model : undefined;
  if (model && typeof model.dir === 'string' && !isAbsolute(model.dir)) {
    pathErrors.push({ field: 'spec.detectors.model.dir', message: 'must be an absolute path in a FloePolicy (a folder mounted into the processor)', code: 'FLOE_POLICY_SCHEMA' });
  }
  if (pathErrors.length > 0) return { ok: false, errors: pathErrors };
  try {
    // JSON is YAML: the policy loader reads it as it reads a file.
    return { ok: true, value: parsePolicy(JSON.stringify(spec), source) };
  } catch (e) {
    if (e instanceof PolicyError) return { ok: false, errors: statusErrors(e.issues) };
    throw e;
  }
}

/**
 * Validates a FloeNeverBlock `spec` (`cidrs`, optional `reason`): its CIDRs go through the policy
 * validator as `respond.neverBlock` (so the same CIDR rules apply), errors renamed to `spec.cidrs[i]`.
 * @returns the CIDRs as written.
 */
export function checkNeverBlockSpec(spec: unknown, source: string): SpecCheck<{ cidrs: string[]; reason?: string }> {
  if (!isRecord(spec) || !Array.isArray(spec.cidrs)) return { ok: false, errors: [{ field: 'spec.cidrs', message: 'must be a list of CIDRs', code: 'FLOE_POLICY_SCHEMA' }] };
  const reason = typeof spec.reason === 'string' ? spec.reason : undefined;
  try {
    parsePolicy(JSON.stringify({ version: 1, respond: { neverBlock: spec.cidrs } }), source);
  } catch (e) {
    if (e instanceof PolicyError) return { ok: false, errors: statusErrors(e.issues, (f) => f.replace(/^respond\.neverBlock/, 'cidrs')) };
    throw e;
  }
  return { ok: true, value: { cidrs: spec.cidrs.map(String), ...(reason === undefined ? {} : { reason }) } };
}
