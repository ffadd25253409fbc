// Shared by exfil.test.ts, dns.test.ts and lateral.test.ts: the captures of
// testdata/capture-exfil-dns-lateral.sh, parsed with the real conntrack parser and classified by a
// real compiled policy (as the pipeline does before the detectors).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseFile, type Finding, type FlowRecord } from '@floe/flow';
import { compilePolicy, parseInventory, parsePolicy, type CompiledPolicy } from '@floe/policy';
import type { Detector } from './index.js';

export const testdata = (name: string) => fileURLToPath(new URL(`../testdata/${name}`, import.meta.url));
export const EXFIL_LOG = testdata('captured-conntrack-E-exfil-upload.log');
export const DNS_LOG = testdata('captured-conntrack-E-dns.log');
export const LATERAL_LOG = testdata('captured-conntrack-E-lateral.log');
export const RESOLVERS_LOG = testdata('captured-conntrack-E-dns-many-resolvers.log');
export const SLOW_LOG = testdata('captured-conntrack-E-slow-upload.log');
export const SLOW_DUMP = testdata('captured-conntrack-L-slow-upload-mid.txt');

/** The lab's inventory: 10.232.1.2/.3/.5 in namespace frontend (workloads web, api, cache), .20-.31 in backend. */
export const LAB_INVENTORY = `version: 1
endpoints:
  - { addr: 10.232.1.2, namespace: frontend, workload: web }
  - { addr: 10.232.1.3, namespace: frontend, workload: api }
  - { addr: 10.232.1.5, namespace: frontend, workload: cache }
  - { addr: 10.232.1.20/30, namespace: backend }
  - { addr: 10.232.1.24/29, namespace: backend }
`;

/** A policy whose cluster is the lab's 10.232.1.0/24 (198.51.100.0/24 is outside), with `detectors` YAML lines appended. */
export function labPolicy(detectors: string, opts: { networks?: boolean; inventory?: boolean; extra?: string } = {}): CompiledPolicy {
  const text = `version: 1\n${opts.networks === false ? '' : 'networks:\n  pods: [10.232.1.0/24]\n'}${opts.extra ?? ''}detectors:\n${detectors}`;
  const inventory = opts.inventory === false ? undefined : parseInventory(LAB_INVENTORY, 'inventory.yaml');
  return compilePolicy(parsePolicy(text, 'lab-policy.yaml'), { inventory });
}

/** Parse a capture (nothing rejected) and classify every record with `policy`; `now` stamps records without a time (a dump). */
export async function loadClassified(path: string, policy: CompiledPolicy, now?: number): Promise<FlowRecord[]> {
  const r = await parseFile(path, { format: 'conntrack', ...(now === undefined ? {} : { now: () => now }) });
  assert.equal(r.stats.rejected, 0);
  return r.records.map((f) => policy.classify(f));
}

/** Feed every flow, then flush; returns all findings emitted. */
export function runFlush(detectors: Detector[], flows: FlowRecord[]): Finding[] {
  const out: Finding[] = [];
  for (const f of flows) for (const d of detectors) out.push(...d.observe(f));
  for (const d of detectors) out.push(...d.flush());
  return out;
}

/** The last form of each finding id, in order of first emission. */
export function lastForms(findings: Finding[]): Finding[] {
  const m = new Map<string, Finding>();
  for (const f of findings) m.set(f.id, f);
  return [...m.values()];
}
