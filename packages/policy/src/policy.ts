/**
 * Loading and checking policy files (version 1): YAML -> schema with defaults -> semantic checks
 * -> blocklist files -> a deep-frozen Policy. See README.md for the format.
 */
import { createHash } from 'node:crypto';
import { escapeText, quoteExcerpt, readBoundedText, readFailure } from '@floe/flow';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { parseCidr } from './cidr.js';
import { CidrError, PolicyError, PolicyFileError } from './errors.js';
import { parseDuration } from './ports.js';
import { policySchema } from './schema.js';
import { BUILTIN_ZONES, type BlocklistFileEntry, type Policy, type PolicyIssue } from './types.js';
import { makeAjv, YamlSource } from './validate.js';

let compiled: ValidateFunction | undefined;
function policyValidator(): ValidateFunction {
  compiled ??= makeAjv().compile(policySchema);
  return compiled;
}

/** Shape after the schema filled defaults: as Policy, but durations still text and no loader fields. */
type RawPolicy = Omit<Policy, 'respond' | 'blocklists' | 'source'> & {
  respond: Omit<Policy['respond'], 'ttlMs' | 'escalationMs'> & { ttl: string; escalation: string[] };
  blocklists: Omit<Policy['blocklists'], 'fromFiles'>;
};

/** A blocklist file with at least this many bad lines, more bad than good, is reported once as "not a blocklist" (its lines are not echoed). */
export const NOT_A_BLOCKLIST_MIN_BAD = 3;
/** Most bad lines of one blocklist file listed one by one; the rest are counted in one issue. */
export const MAX_BLOCKLIST_LINE_ISSUES = 20;

interface Analysis {
  issues: PolicyIssue[];
  policy?: Policy;
}

function analyse(text: string, file: string): Analysis {
  const r = analyseUnsorted(text, file);
  r.issues.sort((a, b) => (a.file === b.file ? a.line - b.line || a.column - b.column : a.file === file ? -1 : b.file === file ? 1 : a.file < b.file ? -1 : 1));
  return r;
}

function analyseUnsorted(text: string, file: string): Analysis {
  const src = new YamlSource(text, file);
  if (!src.wellFormed) return { issues: src.issues };
  const data = src.validate(policyValidator()) as RawPolicy;
  if (src.issues.length > 0) return { issues: src.issues };

  // Zone names: user zones may not shadow built-in ones; ingress may only name known zones.
  const zoneNames = new Set<string>(BUILTIN_ZONES);
  for (const name of Object.keys(data.networks.zones)) {
    if ((BUILTIN_ZONES as readonly string[]).includes(name)) {
      src.report(['networks', 'zones', name], 'FLOE_POLICY_ZONE_NAME', `zone name ${quoteExcerpt(name)} is built in; list these CIDRs under networks.${name}`, true);
    }
    zoneNames.add(name);
  }
  for (const name of Object.keys(data.networks.selectorZones)) {
    if ((BUILTIN_ZONES as readonly string[]).includes(name)) {
      src.report(['networks', 'selectorZones', name], 'FLOE_POLICY_ZONE_NAME', `zone name ${quoteExcerpt(name)} is built in; choose another name`, true);
    }
    zoneNames.add(name);
  }
  for (const name of Object.keys(data.ingress.zones)) {
    if (!zoneNames.has(name)) {
      src.report(
        ['ingress', 'zones', name],
        'FLOE_POLICY_UNKNOWN_ZONE',
        `zone ${quoteExcerpt(name)} is not defined (known: ${[...zoneNames].map((z) => escapeText(z.slice(0, 40))).join(', ')})`,
        true,
      );
    }
  }

  // beacon.periodic judges the check-ins it keeps: it must keep at least minConnections of them.
  const beacon = data.detectors.beacon;
  if (beacon.historySize < beacon.minConnections) {
    src.report(['detectors', 'beacon', 'historySize'], 'FLOE_POLICY_BAD_VALUE', `must be >= detectors.beacon.minConnections (${beacon.minConnections}), got ${beacon.historySize}`);
  }

  // Blocklist files: one CIDR per line, `#` starts a comment.
  const hash = createHash('sha256').update(text);
  const fromFiles: BlocklistFileEntry[] = [];
  data.blocklists.files.forEach((f, i) => {
    const path = isAbsolute(f) ? f : resolve(dirname(resolve(file)), f);
    let body: string;
    try {
      body = readBoundedText(path);
    } catch (e) {
      src.report(['blocklists', 'files', i], 'FLOE_POLICY_BLOCKLIST_FILE', `cannot read blocklist ${escapeText(path)}: ${readFailure(e)}`);
      return;
    }
    hash.update('\0').update(body);
    const bad: PolicyIssue[] = [];
    let good = 0;
    body.split(/\r?\n/).forEach((raw, n) => {
      const hashAt = raw.indexOf('#');
      const content = hashAt >= 0 ? raw.slice(0, hashAt) : raw;
      const token = content.trim();
      if (token === '') return;
      try {
        fromFiles.push({ cidr: parseCidr(token).prefix, file: path, line: n + 1 });
        good++;
      } catch (e) {
        bad.push({
          file: path,
          line: n + 1,
          column: content.indexOf(token) + 1,
          field: `blocklists.files[${i}]`,
          message: e instanceof CidrError ? e.message : String(e),
          code: 'FLOE_POLICY_BAD_CIDR',
        });
      }
    });
    if (bad.length >= NOT_A_BLOCKLIST_MIN_BAD && bad.length > good) {
      // Most lines are not CIDRs: the wrong file (/etc/shadow…). Say so once, echo none of it.
      src.issues.push({
        file: path,
        line: bad[0].line,
        column: 1,
        field: `blocklists.files[${i}]`,
        code: 'FLOE_POLICY_BLOCKLIST_FILE',
        message: `not a blocklist: ${bad.length} of ${bad.length + good} lines are not a CIDR (expected one CIDR per line, # for comments)`,
      });
      return;
    }
    src.issues.push(...bad.slice(0, MAX_BLOCKLIST_LINE_ISSUES));
    if (bad.length > MAX_BLOCKLIST_LINE_ISSUES) {
      src.issues.push({
        file: path,
        line: bad[MAX_BLOCKLIST_LINE_ISSUES].line,
        column: 1,
        field: `blocklists.files[${i}]`,
        code: 'FLOE_POLICY_BAD_CIDR',
        message: `${bad.length - MAX_BLOCKLIST_LINE_ISSUES} more lines are not a CIDR`,
      });
    }
  });
  if (src.issues.length > 0) return { issues: src.issues };

  const policy: Policy = {
    ...data,
    blocklists: { ...data.blocklists, fromFiles },
    respond: {
      minSeverity: data.respond.minSeverity,
      ttlMs: parseDuration(data.respond.ttl) as number,
      escalationMs: data.respond.escalation.map((d) => parseDuration(d) as number),
      maxNewBlocksPerMinute: data.respond.maxNewBlocksPerMinute,
      dryRun: data.respond.dryRun,
      neverBlock: data.respond.neverBlock,
      minPrefixLength: data.respond.minPrefixLength,
      blockOnAcceptedLogs: data.respond.blockOnAcceptedLogs,
    },
    source: { file, digest: hash.digest('hex').slice(0, 12) },
  };
  return { issues: [], policy: deepFreeze(policy) };
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

/**
 * Every problem of a policy text, without throwing: YAML syntax, schema (unknown keys, types,
 * ranges), CIDRs, ports, durations, zone names, blocklist files (relative to `file`'s folder).
 * Positions are 1-based; issues of a blocklist file name that file and its line.
 */
export function checkPolicy(text: string, file: string): PolicyIssue[] {
  return analyse(text, file).issues;
}

/**
 * Parse and validate a policy text, filling defaults. `file` names the text in issues and anchors
 * relative blocklist paths. Reads blocklist files synchronously.
 * @throws PolicyError (FLOE_POLICY_INVALID) listing every issue.
 */
export function parsePolicy(text: string, file: string): Policy {
  const r = analyse(text, file);
  if (!r.policy) throw new PolicyError(r.issues);
  return r.policy;
}

/**
 * Read and validate a policy file.
 * @throws PolicyFileError (FLOE_POLICY_FILE_NOT_FOUND) when it cannot be read; PolicyError (FLOE_POLICY_INVALID) when invalid.
 */
export async function loadPolicyFile(path: string): Promise<Policy> {
  let text: string;
  try {
    text = readBoundedText(path);
  } catch (e) {
    throw new PolicyFileError(path, e);
  }
  return parsePolicy(text, path);
}

/** Path of the default policy shipped with the package (policies/default.yaml). */
export function defaultPolicyPath(): string {
  return fileURLToPath(new URL('../policies/default.yaml', import.meta.url));
}

/** The embedded default policy (policies/default.yaml in this package), validated and frozen. */
export function defaultPolicy(): Policy {
  const path = defaultPolicyPath();
  return parsePolicy(readBoundedText(path), path);
}
