// Throughput of the @floe/detect rule detectors (portscan.vertical + hostsweep.horizontal) on a
// synthetic, seeded flow mix; prints flows/second and state figures.
// Run: node --expose-gc --conditions=floe-source --import tsx bench/detect.bench.ts [flows=1000000]
//
// Mix (per connection: NEW, UPDATE, DESTROY events with one conntrack id, like `conntrack -E`):
//   ~97% benign: 20,000 clients to 500 servers on 6 service ports;
//   ~2% vertical scanners: 10 sources, each probing random ports 1..65535 of its own target server;
//   ~1% horizontal sweepers: 10 sources, each probing tcp/22 or tcp/445 across a /16.
// Event time advances 1 ms per connection (so 1M flows span ~5.5 min of event time: windows
// slide, findings repeat per window); expire() runs once per simulated second.
import { performance } from 'node:perf_hooks';
import type { FlowRecord } from '@floe/flow';
import { createDetectors, defaultDetectorOptions, type WindowDetector } from '@floe/detect';

const N = Number(process.argv[2] ?? 1_000_000);

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(n: number): FlowRecord[] {
  const rnd = mulberry32(42);
  const pick = (k: number) => Math.floor(rnd() * k);
  const ip = (a: number, b: number, c: number, d: number) => `${a}.${b}.${c}.${d}`;
  const clients = Array.from({ length: 20_000 }, (_, i) => ip(10, 70, i >> 8, i & 255));
  const servers = Array.from({ length: 500 }, (_, i) => ip(10, 60, i >> 8, i & 255));
  const scanners = Array.from({ length: 10 }, (_, i) => ip(10, 50, 0, i + 1));
  const sweepers = Array.from({ length: 10 }, (_, i) => ip(10, 51, 0, i + 1));
  const svc = [80, 443, 53, 5432, 6379, 8080];
  const out: FlowRecord[] = [];
  let t = Date.UTC(2026, 0, 1);
  let id = 1;
  const states = ['SYN_SENT', 'ESTABLISHED', 'CLOSE'] as const;
  const events = ['new', 'update', 'destroy'] as const;
  while (out.length < n) {
    const r = rnd();
    let src: string, dst: string, dport: number;
    if (r < 0.97) {
      src = clients[pick(clients.length)];
      dst = servers[pick(servers.length)];
      dport = svc[pick(svc.length)];
    } else if (r < 0.99) {
      const k = pick(scanners.length);
      src = scanners[k];
      dst = servers[k];
      dport = 1 + pick(65535);
    } else {
      src = sweepers[pick(sweepers.length)];
      dst = ip(10, 60, pick(256), pick(256));
      dport = rnd() < 0.5 ? 22 : 445;
    }
    const sport = 32768 + pick(28232);
    const ctId = String(id++);
    t += 1;
    for (let e = 0; e < 3 && out.length < n; e++) {
      out.push({
        schema: 1,
        observedAt: t + e,
        source: 'conntrack',
        event: events[e],
        family: 4,
        protocol: 6,
        srcAddr: src,
        dstAddr: dst,
        srcPort: sport,
        dstPort: dport,
        state: states[e],
        ctId,
      });
    }
  }
  return out;
}

function run(flows: FlowRecord[]): void {
  (globalThis as { gc?: () => void }).gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const detectors: WindowDetector[] = createDetectors(defaultDetectorOptions());
  let findings = 0;
  let nextExpire = flows[0].observedAt + 1000;
  const t0 = performance.now();
  for (let i = 0; i < flows.length; i++) {
    const f = flows[i];
    if (f.observedAt >= nextExpire) {
      for (const d of detectors) findings += d.expire(f.observedAt).length;
      nextExpire = f.observedAt + 1000;
    }
    for (const d of detectors) findings += d.observe(f).length;
  }
  const ms = performance.now() - t0;
  (globalThis as { gc?: () => void }).gc?.();
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1048576;
  const span = (flows[flows.length - 1].observedAt - flows[0].observedAt) / 1000;
  console.log(`detect.bench: ${flows.length} flows (${span.toFixed(0)} s of event time) through ${detectors.map((d) => d.id).join(' + ')}`);
  console.log(
    `  ${ms.toFixed(0)} ms, ${Math.round(flows.length / (ms / 1000)).toLocaleString('en')} flows/s, ${((ms * 1e6) / flows.length).toFixed(0)} ns/flow, ${findings} findings, detector state ${heapMb.toFixed(0)} MB of heap`,
  );
  for (const d of detectors) console.log(`  ${d.id}: ${JSON.stringify(d.stats())}`);
}

const flows = generate(N);
run(flows.slice(0, Math.min(flows.length, 100_000))); // warm-up
run(flows);
