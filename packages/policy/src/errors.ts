/**
 * Error catalog of @floe/policy. Every error carries a stable `FLOE_POLICY_…` code; the codes are
 * listed in this package's README ("Errors") and a test keeps the two in step.
 */

/** Stable error codes thrown by @floe/policy, with a one-line description each. */
export const POLICY_ERROR_CODES = {
  FLOE_POLICY_BAD_CIDR: 'a CIDR prefix or address is not valid IPv4/IPv6 text',
  FLOE_POLICY_INVALID: 'a policy file failed validation (YAML syntax, schema, CIDR, port, duration)',
  FLOE_POLICY_FILE_NOT_FOUND: 'a policy, inventory or blocklist file could not be read',
  FLOE_POLICY_BAD_INVENTORY: 'an inventory file failed validation',
} as const;

/** One of the codes in {@link POLICY_ERROR_CODES}. */
export type PolicyErrorCode = keyof typeof POLICY_ERROR_CODES;

/** Thrown by `CidrSet.add()` and `parseCidr()` for text that is not an IPv4/IPv6 address or CIDR prefix. */
export class CidrError extends Error {
  readonly code = 'FLOE_POLICY_BAD_CIDR' as const;
  /** The offending text, as given. */
  readonly input: string;
  constructor(input: string, reason: string) {
    super(`invalid CIDR ${JSON.stringify(input)}: ${reason}`);
    this.name = 'CidrError';
    this.input = input;
  }
}
