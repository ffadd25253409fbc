/**
 * Warnings: policies that validate but are likely mistakes (`floe policy check` prints them and
 * still exits 0). Each warning has a stable code listed in WARNING_CODES and the README.
 */
import { parseCidr, type ParsedCidr } from './cidr.js';
import { parsePolicy } from './policy.js';
import { PolicyError } from './errors.js';
import { policySchema } from './schema.js';
import type { Policy, PolicyIssue } from './types.js';
import { formatPath, YamlSource, type DocPath } from './validate.js';

/** Warning codes (PolicyIssue.code with severity 'warning'), each documented in the README. */
export const WARNING_CODES = {
  FLOE_POLICY_WARN_NEVER_BLOCK_WIDE: 'a respond.neverBlock prefix is shorter than /8 (IPv4) or /16 (IPv6): nearly nothing can be blocked',
  FLOE_POLICY_WARN_BLOCKLIST_WIDE: 'a blocklist prefix is /0: every address is on the blocklist',
  FLOE_POLICY_WARN_BLOCKLIST_OWN_NETWORK: "a blocklist prefix covers or overlaps the policy's own node, pod, service or control-plane network",
  FLOE_POLICY_WARN_HOST_BITS: 'a CIDR has host bits set (10.1.2.3/8); it is read as its network (10.0.0.0/8)',
  FLOE_POLICY_WARN_LONG_ESCALATION: 'a respond.escalation step is longer than 30 days',
  FLOE_POLICY_WARN_MIN_PREFIX_SHORT: 'respond.minPrefixLength is below the default /16 (IPv4) or /32 (IPv6): one decision can block a very wide range',
} as const;

/** respond.minPrefixLength values below which a warning is given: the schema defaults (IPv4 /16, IPv6 /32). The schema's hard floor is /8 and /16. */
export const MIN_PREFIX_WARN_BITS = { ipv4: 16, ipv6: 32 } as const;

/** Shortest neverBlock prefix lengths that are not warned about (IPv4, IPv6). */
export const NEVER_BLOCK_MIN_BITS = { 4: 8, 6: 16 } as const;

/** Longest escalation step not warned about: 30 days in ms. */
export const MAX_ESCALATION_STEP_MS = 30 * 24 * 3600 * 1000;

/** The networks that are the cluster itself, in the order they are checked. */
const OWN_NETWORKS = ['nodes', 'pods', 'services', 'controlPlane'] as const;

/** Whether prefix `a` contains every address of prefix `b` (same family, a no longer than b). */
function contains(a: ParsedCidr, b: ParsedCidr): boolean {
  if (a.family !== b.family || a.bits > b.bits) return false;
  for (let i = 0, left = a.bits; left > 0; i++, left -= 32) {
    const mask = left >= 32 ? 0xffffffff : (0xffffffff << (32 - left)) >>> 0;
    if ((a.words[i] & mask) >>> 0 !== (b.words[i] & mask) >>> 0) return false;
  }
  return true;
}

/** Host bits set: the address part alone differs from the masked network. Bare addresses have none. */
function hasHostBits(text: string): boolean {
  const slash = text.indexOf('/');
  if (slash < 0) return false;
  try {
    return parseCidr(text).network !== parseCidr(text.slice(0, slash)).network;
  } catch {
    return false;
  }
}

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  floeCidr?: boolean;
}

/** Every string at a `floeCidr` place of the schema, with its document path. */
function cidrStrings(schema: SchemaNode, value: unknown, path: Array<string | number>, out: Array<[DocPath, string]>): void {
  if (schema.floeCidr && typeof value === 'string') {
    out.push([path, value]);
    return;
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((v, i) => cidrStrings(schema.items!, v, [...path, i], out));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    const sub = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (sub) cidrStrings(sub, v, [...path, k], out);
  }
}

/**
 * Warnings about a policy text that validates: `respond.neverBlock` prefixes shorter than /8
 * (IPv4) or /16 (IPv6); blocklist prefixes (inline, and lines of blocklist files) that are /0
 * or cover or overlap `networks.nodes`, `pods`, `services` or `controlPlane`; CIDRs written with
 * host bits set; `respond.escalation` steps longer than 30 days. Codes in {@link WARNING_CODES}.
 * @param text the policy YAML; `file` names it in the issues and anchors blocklist file paths.
 * @returns issues with `severity: 'warning'`, sorted by file, line and column (1-based); empty
 *   when the policy has errors (checkPolicy reports those) or nothing is risky.
 */
export function policyWarnings(text: string, file: string): PolicyIssue[] {
  let policy: Policy;
  try {
    policy = parsePolicy(text, file);
  } catch (e) {
    if (e instanceof PolicyError) return [];
    throw e;
  }
  const src = new YamlSource(text, file);
  const out: PolicyIssue[] = [];
  const warn = (path: DocPath, code: keyof typeof WARNING_CODES, message: string) => {
    const { line, column } = src.locate(path);
    out.push({ file, line, column, field: formatPath(path), message, code, severity: 'warning' });
  };

  policy.respond.neverBlock.forEach((text, i) => {
    const c = parseCidr(text);
    if (c.bits < NEVER_BLOCK_MIN_BITS[c.family]) {
      warn(
        ['respond', 'neverBlock', i],
        'FLOE_POLICY_WARN_NEVER_BLOCK_WIDE',
        `${c.prefix} is shorter than /${NEVER_BLOCK_MIN_BITS[c.family]}: it exempts ${c.bits === 0 ? 'every' : 'nearly every'} IPv${c.family} address from blocking`,
      );
    }
  });

  const own: Array<[string, ParsedCidr]> = [];
  for (const name of OWN_NETWORKS) for (const t of policy.networks[name]) own.push([name, parseCidr(t)]);
  const blockIssue = (b: ParsedCidr): [keyof typeof WARNING_CODES, string] | undefined => {
    if (b.bits === 0) return ['FLOE_POLICY_WARN_BLOCKLIST_WIDE', `${b.prefix} puts every IPv${b.family} address on the blocklist, the cluster's own included`];
    for (const [name, n] of own) {
      if (contains(b, n)) return ['FLOE_POLICY_WARN_BLOCKLIST_OWN_NETWORK', `${b.prefix} covers networks.${name} ${n.prefix}: the cluster would block itself`];
      if (contains(n, b)) return ['FLOE_POLICY_WARN_BLOCKLIST_OWN_NETWORK', `${b.prefix} lies inside networks.${name} ${n.prefix}: the cluster would block its own addresses`];
    }
    return undefined;
  };
  policy.blocklists.cidrs.forEach((t, i) => {
    const w = blockIssue(parseCidr(t));
    if (w) warn(['blocklists', 'cidrs', i], w[0], w[1]);
  });
  for (const e of policy.blocklists.fromFiles) {
    const w = blockIssue(parseCidr(e.cidr));
    if (!w) continue;
    out.push({ file: e.file, line: e.line, column: 1, field: 'blocklists.files', message: w[1], code: w[0], severity: 'warning' });
  }

  const cidrs: Array<[DocPath, string]> = [];
  cidrStrings(policySchema as unknown as SchemaNode, src.doc.toJS({ maxAliasCount: 100 }), [], cidrs);
  for (const [path, t] of cidrs) {
    if (hasHostBits(t)) warn(path, 'FLOE_POLICY_WARN_HOST_BITS', `${t.trim()} has host bits set; it is read as ${parseCidr(t).prefix}`);
  }

  for (const fam of ['ipv4', 'ipv6'] as const) {
    const bits = policy.respond.minPrefixLength[fam];
    if (bits < MIN_PREFIX_WARN_BITS[fam]) {
      warn(
        ['respond', 'minPrefixLength', fam],
        'FLOE_POLICY_WARN_MIN_PREFIX_SHORT',
        `${fam} ${bits} is below the default ${MIN_PREFIX_WARN_BITS[fam]}: one decision may block a /${bits} (${fam === 'ipv4' ? 2 ** (32 - bits) : `2^${128 - bits}`} addresses)`,
      );
    }
  }

  policy.respond.escalationMs.forEach((ms, i) => {
    if (ms > MAX_ESCALATION_STEP_MS) {
      warn(
        ['respond', 'escalation', i],
        'FLOE_POLICY_WARN_LONG_ESCALATION',
        `step ${i + 1} blocks for ${(ms / 86_400_000).toFixed(1).replace(/\.0$/, '')} days, longer than 30 days: a mistaken block outlives anyone noticing it`,
      );
    }
  });

  out.sort((a, b) => (a.file === b.file ? a.line - b.line || a.column - b.column : a.file === file ? -1 : b.file === file ? 1 : a.file < b.file ? -1 : 1));
  return out;
}
