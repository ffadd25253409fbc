/**
 * @floe/policy: the policy file (schema, validation with line numbers, defaults) and the
 * compiled per-flow matchers. See README.md for the file format.
 */
export { CidrSet, parseCidr, parseAddress } from './cidr.js';
export type { ParsedCidr, ParsedAddress } from './cidr.js';
export { CidrError, POLICY_ERROR_CODES } from './errors.js';
export type { PolicyErrorCode } from './errors.js';
