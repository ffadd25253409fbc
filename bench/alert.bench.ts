// Alerting on the processor's path (issue 8 part 4): the cost of `notify(finding)` — routing,
// grouping, repeat check — while every sink is down (a webhook to a closed loopback port), so the
// queues fill and overflow. Shows that a dead receiver does not slow the hot path: notify stays a
// few microseconds and the overflow is counted (floe_alert_dropped_total), not waited on.
// Run: node --conditions=floe-source --import tsx bench/alert.bench.ts
import { createServer } from 'node:net';
import { createAlertDispatcher } from '@floe/alert';
import type { Finding } from '@floe/flow';
import { createRegistry, readMetric } from '@floe/telemetry';

const FINDINGS = 200_000;
const ENTITIES = 20_000;

const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});
const url = `http://127.0.0.1:${port}/down`;
const registry = createRegistry({ defaultMetrics: false });
const d = createAlertDispatcher(
  {
    groupWaitMs: 0,
    groupIntervalMs: 300_000,
    queueSize: 1000,
    drainTimeoutMs: 100,
    retry: { retries: 3, minDelayMs: 200, maxDelayMs: 1000, factor: 2 },
    sinks: Object.fromEntries(['a', 'b', 'c', 'd'].map((n) => [n, { type: 'webhook' as const, url, secret: 'bench-secret-0123456789' }])),
    routes: [
      { name: 'high', minSeverity: 'high', sinks: ['a', 'b'] },
      { name: 'scans', detectors: ['portscan.*', 'hostsweep.*'], sinks: ['c'] },
      { name: 'ns', namespaces: ['payments', 'kube-system'], sinks: ['d'] },
      { name: 'all', sinks: ['d'], groupBy: ['detector'] },
    ],
  },
  { metrics: registry },
);
await d.start();
const detectors = ['portscan.vertical', 'hostsweep.icmp', 'bruteforce.ssh', 'beacon.periodic'];
const severities = ['medium', 'high', 'critical'] as const;
const findings: Finding[] = [];
for (let i = 0; i < FINDINGS; i++) {
  const e = i % ENTITIES;
  findings.push({
    id: `${detectors[i % 4]}:${e}`,
    schema: 1,
    firstSeen: i,
    lastSeen: i + 1,
    detector: detectors[i % 4],
    kind: 'detector',
    severity: severities[i % 3],
    score: 0.9,
    entity: { addr: `10.${(e >> 16) & 255}.${(e >> 8) & 255}.${e & 255}`, namespace: i % 7 === 0 ? 'payments' : undefined },
    peers: [],
    summary: 'bench',
    evidence: { flows: 1 },
    producedBy: 'bench',
  });
}
// in slices, yielding between them so the group timers fire and the queues fill as in a processor
const t0 = process.hrtime.bigint();
let inNotify = 0n;
let cpuNotify = 0;
for (let i = 0; i < FINDINGS; i += 10_000) {
  const s = process.hrtime.bigint();
  const c = process.cpuUsage();
  for (let j = i; j < i + 10_000; j++) d.notify(findings[j]);
  const u = process.cpuUsage(c);
  cpuNotify += u.user + u.system;
  inNotify += process.hrtime.bigint() - s;
  await new Promise((r) => setImmediate(r));
}
const wall = Number(process.hrtime.bigint() - t0) / 1e6;
await new Promise((r) => setTimeout(r, 300));
const dropped = (await readMetric(registry, 'floe_alert_dropped_total', { cause: 'queue-full' })) ?? 0;
const repeats = (await readMetric(registry, 'floe_alert_skipped_total', { cause: 'repeat' })) ?? 0;
await d.stop();
console.log(`notify: ${FINDINGS} findings (${ENTITIES} entities, 4 routes, 4 sinks all down)`);
console.log(
  `  ${(cpuNotify / FINDINGS).toFixed(2)} µs CPU per notify (${(cpuNotify / 1000).toFixed(0)} ms CPU, ${(Number(inNotify) / 1e6).toFixed(0)} ms elapsed in notify on a shared machine, ${wall.toFixed(0)} ms wall in all)`,
);
console.log(`  repeats not re-sent: ${repeats}; deliveries dropped at full queues (counted): ${dropped}`);
