import { severityRank, type Finding, type Severity } from '@floe/flow';
import type { GroupField, RouteConfig } from './config.js';

/** A route ready to match: globs compiled. */
export interface CompiledRoute {
  name: string;
  minRank: number;
  detectors?: RegExp;
  namespaces?: ReadonlySet<string>;
  sinks: readonly string[];
  groupBy: readonly GroupField[];
  groupWaitMs: number;
  groupIntervalMs: number;
}

/** A glob list as one anchored RegExp: `*` any run of characters, every other character literal. */
export function globsToRegExp(globs: readonly string[]): RegExp {
  const one = (g: string) =>
    g
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
  return new RegExp(`^(?:${globs.map(one).join('|')})$`);
}

/**
 * The namespaces a finding is known to concern: its entity's, and those of `srcMeta` / `dstMeta`
 * (enrichment, on the finding or in its evidence) when present.
 */
export function namespacesOf(f: Finding): string[] {
  const out: string[] = [];
  const add = (v: unknown) => {
    if (typeof v === 'string' && v !== '' && !out.includes(v)) out.push(v);
  };
  add(f.entity.namespace);
  const loose = f as unknown as Record<string, { namespace?: unknown } | undefined>;
  const ev = f.evidence as Record<string, unknown>;
  for (const m of [loose.srcMeta, loose.dstMeta, ev.srcMeta, ev.dstMeta]) if (m && typeof m === 'object') add((m as { namespace?: unknown }).namespace);
  return out;
}

/** Compiles a route; `defaults` are the section's group timings. */
export function compileRoute(r: RouteConfig, index: number, defaults: { groupWaitMs: number; groupIntervalMs: number }): CompiledRoute {
  return {
    name: r.name ?? `route${index}`,
    minRank: severityRank((r.minSeverity ?? 'info') as Severity),
    detectors: r.detectors?.length ? globsToRegExp(r.detectors) : undefined,
    namespaces: r.namespaces?.length ? new Set(r.namespaces) : undefined,
    sinks: [...r.sinks],
    groupBy: r.groupBy?.length ? [...r.groupBy] : ['detector', 'entity'],
    groupWaitMs: r.groupWaitMs ?? defaults.groupWaitMs,
    groupIntervalMs: r.groupIntervalMs ?? defaults.groupIntervalMs,
  };
}

/** Whether the route takes the finding: severity at least minSeverity, detector matching, a namespace listed (when the route lists any). */
export function routeMatches(r: CompiledRoute, f: Finding): boolean {
  if (severityRank(f.severity) < r.minRank) return false;
  if (r.detectors && !r.detectors.test(f.detector)) return false;
  if (r.namespaces) {
    const ns = r.namespaces;
    if (!namespacesOf(f).some((n) => ns.has(n))) return false;
  }
  return true;
}

/** The group key of a finding on a route: its groupBy values joined by `/` (`portscan.vertical/10.0.0.9`). */
export function groupKeyOf(r: CompiledRoute, f: Finding): string {
  return r.groupBy.map((g) => (g === 'detector' ? f.detector : g === 'entity' ? f.entity.addr : g === 'severity' ? f.severity : (namespacesOf(f)[0] ?? ''))).join('/');
}

/** What makes two findings the same alert (a repeat): detector and entity address, as Alertmanager's labels. */
export function repeatKeyOf(f: Finding): string {
  return `${f.detector}\n${f.entity.addr}`;
}
