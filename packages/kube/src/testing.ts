/**
 * Test fixtures shared by the package's tests (not exported from index.ts): the YAML Lists of
 * testdata/ and FlowRecords parsed from conntrack event lines by @floe/flow's real parser.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createParser, type FlowRecord, isParseError } from '@floe/flow';
import { parse } from 'yaml';
import { ClusterIndex, type SelectorZone } from './cluster.js';
import type { EndpointSlice, KubeObject, Namespace, Node, Pod, Service } from './objects.js';

/** The items of a testdata YAML List. */
export function fixtureItems<T extends KubeObject = KubeObject>(file: string, kind?: string): T[] {
  const text = readFileSync(fileURLToPath(new URL(`../testdata/${file}`, import.meta.url)), 'utf8');
  const items = (parse(text) as { items: T[] }).items;
  return kind === undefined ? items : items.filter((i) => i.kind === kind);
}

/** One FlowRecord from a `conntrack -E -o timestamp` line, through @floe/flow's conntrack parser. */
export function conntrackFlow(line: string): FlowRecord {
  const r = createParser('conntrack').parseLine(line, 1);
  if (r === null || isParseError(r)) throw new Error(`not a conntrack line: ${line} (${r === null ? 'skipped' : r.reason})`);
  return r;
}

/** `[epoch.usec]` prefix of a conntrack -o timestamp line for an ISO time. */
export function ts(iso: string): string {
  return `[${(Date.parse(iso) / 1000).toFixed(6)}]`;
}

/** A ClusterIndex loaded with testdata/cluster.yaml (events received at 2026-12-01T10:05:00Z). */
export function loaded(graceMs = 60_000, selectorZones: SelectorZone[] = []): ClusterIndex {
  const idx = new ClusterIndex({ graceMs, selectorZones });
  const at = Date.parse('2026-12-01T10:05:00Z');
  for (const n of fixtureItems<Namespace>('cluster.yaml', 'Namespace')) idx.upsertNamespace(n);
  for (const n of fixtureItems<Node>('cluster.yaml', 'Node')) idx.upsertNode(n, at);
  for (const p of fixtureItems<Pod>('cluster.yaml', 'Pod')) idx.upsertPod(p, at);
  for (const s of fixtureItems<Service>('cluster.yaml', 'Service')) idx.upsertService(s);
  for (const s of fixtureItems<EndpointSlice>('cluster.yaml', 'EndpointSlice')) idx.upsertEndpointSlice(s);
  return idx;
}
