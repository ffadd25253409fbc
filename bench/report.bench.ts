// Compliance report cost (issue 8 part 5): buildReport over a DuckDB store of 100k and 1M flow
// records (a day, 2 000 sources, 50 destinations, 200 ports: about 60k distinct flow groups at
// 1M), and the four renderers. Prints the time of the store's aggregates + the policy's judging
// (buildReport), of each format, and the process's peak RSS. Counts run in SQL: the report never
// loads the flows, so its memory follows the number of groups, not of flows.
// Run: node --conditions=floe-source --import tsx bench/report.bench.ts [1m]
import { compilePolicy, parsePolicy } from '@floe/policy';
import { buildReport, renderReport, REPORT_FORMATS } from '@floe/report';
import { createDuckDbStore } from '@floe/store';
import type { FlowRecord } from '@floe/flow';

const sizes = [100_000, ...(process.argv.includes('1m') ? [1_000_000] : [])];
const H = 3_600_000;
const T = Date.parse('2026-11-30T00:00:00Z');
const policy = compilePolicy(parsePolicy('version: 1\nnetworks:\n  pods: [10.0.0.0/16]\negress:\n  allow:\n    - { to: [192.0.2.0/24], ports: [443] }\n', 'bench.yaml'));

function flow(i: number): FlowRecord {
  const src = i % 2000;
  const inbound = i % 3 === 0;
  return policy.classify({
    schema: 1,
    observedAt: T + Math.floor((i / sizes[sizes.length - 1]) * 24 * H),
    source: 'conntrack',
    event: 'destroy',
    family: 4,
    protocol: 6,
    srcAddr: inbound ? `198.51.${(src >> 8) & 255}.${src & 255}` : `10.0.${(src >> 8) & 255}.${src & 255}`,
    dstAddr: inbound ? `10.0.1.${i % 50}` : `192.0.2.${i % 50}`,
    srcPort: 1024 + (i % 60_000),
    dstPort: [443, 80, 22, 8080][i % 4] + (i % 50),
    bytesOrig: 100 + (i % 1000),
    bytesReply: 200,
    ctId: String(i),
  });
}

for (const n of sizes) {
  const store = createDuckDbStore({ path: ':memory:' });
  await store.start();
  for (let i = 0; i < n; i += 20_000) await store.insertFlows(Array.from({ length: Math.min(20_000, n - i) }, (_, j) => flow(i + j)));
  const t0 = performance.now();
  const r = await buildReport(store, { from: T, to: T + 24 * H, policy, groupLimit: 200_000 });
  const build = performance.now() - t0;
  const times: string[] = [];
  for (const f of REPORT_FORMATS) {
    const t = performance.now();
    const out = await renderReport(r, f);
    times.push(`${f} ${(performance.now() - t).toFixed(0)} ms (${(out.length / 1024).toFixed(0)} KiB)`);
  }
  console.log(
    `report over ${n} flow records (${r.traffic.flows} counted, ${r.evidence.inbound.groups + r.evidence.outbound.groups} groups judged): buildReport ${build.toFixed(0)} ms; ${times.join(', ')}; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
  );
  await store.stop();
}
