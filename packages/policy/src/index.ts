/**
 * @floe/policy: the policy file (schema, validation with line numbers, defaults) and the
 * compiled per-flow matchers. See README.md for the file format.
 */
export { CidrSet, parseCidr, parseAddress } from './cidr.js';
export type { ParsedCidr, ParsedAddress } from './cidr.js';
export { CidrError, PolicyError, PolicyFileError, POLICY_ERROR_CODES } from './errors.js';
export type { PolicyErrorCode } from './errors.js';
export { checkPolicy, parsePolicy, loadPolicyFile, defaultPolicy, defaultPolicyPath } from './policy.js';
export { policyWarnings, WARNING_CODES, NEVER_BLOCK_MIN_BITS, MAX_ESCALATION_STEP_MS } from './warnings.js';
export { compilePolicy, POLICY_RULES } from './compile.js';
export type { CompiledPolicy, CompileOptions, PolicyRuleId } from './compile.js';
export { loadInventoryFile, parseInventory } from './inventory.js';
export type { Inventory, InventoryEntry } from './inventory.js';
export { parseDuration, parsePortSpec, PortMatcher } from './ports.js';
export { ISSUE_CODES, locateYamlPath } from './validate.js';
export type { DocPath } from './validate.js';
export { policySchema, inventorySchema, K8S_CONTROL_PLANE_PORTS } from './schema.js';
export { BUILTIN_ZONES, PORT_PROTOCOLS } from './types.js';
export type * from './types.js';
