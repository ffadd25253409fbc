/**
 * Error catalog of @floe/policy. Every error carries a stable `FLOE_POLICY_…` code; the codes are
 * listed in this package's README ("Errors") and a test keeps the two in step.
 */
import { escapeText, quoteExcerpt, readFailure } from '@floe/flow';
import type { PolicyIssue } from './types.js';

/** Stable error codes thrown by @floe/policy, with a one-line description each. */
export const POLICY_ERROR_CODES = {
  FLOE_POLICY_BAD_CIDR: 'a CIDR prefix or address is not valid IPv4/IPv6 text',
  FLOE_POLICY_INVALID: 'a policy file failed validation (YAML syntax, schema, CIDR, port, duration)',
  FLOE_POLICY_FILE_NOT_FOUND: 'a policy, inventory or blocklist file could not be read',
} as const;

/** One of the codes in {@link POLICY_ERROR_CODES}. */
export type PolicyErrorCode = keyof typeof POLICY_ERROR_CODES;

/**
 * Thrown when a policy or inventory file is invalid; `issues` lists every problem, the message one
 * per line as `file:line:col field: message` after `invalid policy (N issues):` or, for an
 * inventory file (`kind` 'inventory'), `invalid inventory (N issues):`.
 */
export class PolicyError extends Error {
  readonly code = 'FLOE_POLICY_INVALID' as const;
  readonly issues: PolicyIssue[];
  /** Which kind of file is invalid. */
  readonly kind: 'policy' | 'inventory';
  constructor(issues: PolicyIssue[], kind: 'policy' | 'inventory' = 'policy') {
    super(
      `invalid ${kind} (${issues.length} issue${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((i) => `  ${escapeText(i.file)}:${i.line}:${i.column} ${i.field || '(document)'}: ${i.message}`).join('\n'),
    );
    this.name = 'PolicyError';
    this.issues = issues;
    this.kind = kind;
  }
}

/** Thrown when a policy, inventory or blocklist file cannot be read (missing, unreadable). */
export class PolicyFileError extends Error {
  readonly code = 'FLOE_POLICY_FILE_NOT_FOUND' as const;
  readonly path: string;
  constructor(path: string, cause: unknown) {
    super(`cannot read ${escapeText(path)}: ${readFailure(cause)}`, { cause });
    this.name = 'PolicyFileError';
    this.path = path;
  }
}

/** Thrown by `CidrSet.add()` and `parseCidr()` for text that is not an IPv4/IPv6 address or CIDR prefix. */
export class CidrError extends Error {
  readonly code = 'FLOE_POLICY_BAD_CIDR' as const;
  /** The offending text, as given. */
  readonly input: string;
  constructor(input: string, reason: string) {
    super(`invalid CIDR ${quoteExcerpt(input)}: ${reason}`);
    this.name = 'CidrError';
    this.input = input;
  }
}
