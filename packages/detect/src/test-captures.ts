/**
 * Helpers of the detector tests that replay real captures (testdata/, SOURCES.md). Not exported by
 * index.ts.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseFile, type Finding, type FlowRecord } from '@floe/flow';
import type { WindowDetector } from './portscan.js';

/** Absolute path of `name` in packages/detect/testdata. */
export const testdata = (name: string): string => fileURLToPath(new URL(`../testdata/${name}`, import.meta.url));

/** The records of a `conntrack -E` capture; asserts that no line was rejected. */
export async function loadCapture(path: string): Promise<FlowRecord[]> {
  const r = await parseFile(path, { format: 'conntrack' });
  assert.equal(r.stats.rejected, 0);
  return r.records;
}

/** Every finding `d` emits for `flows` (observe, then flush), and the last form of each id. */
export function runDetector(d: WindowDetector, flows: Iterable<FlowRecord>): { all: Finding[]; last: Finding[] } {
  const all: Finding[] = [];
  for (const f of flows) all.push(...d.observe(f));
  all.push(...d.flush());
  const byId = new Map<string, Finding>();
  for (const f of all) byId.set(f.id, f);
  return { all, last: [...byId.values()] };
}
