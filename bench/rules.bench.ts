// Throughput and state of bruteforce.auth, dos.synflood and beacon.periodic, each alone, on a
// synthetic, seeded conntrack-like mix; prints flows/second, ns/flow and heap per detector.
// Run: node --expose-gc --conditions=floe-source --import tsx bench/rules.bench.ts [flows=600000]
//
// Mix (per connection NEW SYN_SENT, UPDATE ESTABLISHED, DESTROY TIME_WAIT with counters, one ctId):
//   ~94% benign: 20,000 clients to 500 servers on ports 22, 80, 443, 5432 (a third are short);
//   ~5% spoofed SYN flood: NEW SYN_SENT only, a random source each, to one server's port 80;
//   ~1% one brute-forcing source against one server's port 22 (DESTROYs of short connections).
// Event time advances 1 ms per connection; expire() runs once per simulated second.
// Then memory per key: 100,000 one-shot NEW SYNs to port 22, each its own key in each detector
// (the limit, maxKeys, is 100,000 by default), heap measured after a gc.
import { performance } from 'node:perf_hooks';
import type { FlowRecord } from '@floe/flow';
import {
  createBeaconDetector,
  createBruteForceDetector,
  createSynFloodDetector,
  defaultBeaconOptions,
  defaultBruteForceOptions,
  defaultSynFloodOptions,
  type WindowDetector,
} from '@floe/detect';

const N = Number(process.argv[2] ?? 600_000);

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
  const rnd = mulberry32(7);
  const pick = (k: number) => Math.floor(rnd() * k);
  const ip = (a: number, b: number, c: number, d: number) => `${a}.${b}.${c}.${d}`;
  const clients = Array.from({ length: 20_000 }, (_, i) => ip(10, 70, i >> 8, i & 255));
  const servers = Array.from({ length: 500 }, (_, i) => ip(10, 60, i >> 8, i & 255));
  const svc = [22, 80, 443, 5432];
  const out: FlowRecord[] = [];
  let t = Date.UTC(2026, 0, 1);
  let id = 1;
  const base = { schema: 1 as const, source: 'conntrack' as const, family: 4 as const, protocol: 6 };
  while (out.length < n) {
    const r = rnd();
    const sport = 32768 + pick(28232);
    const ctId = String(id++);
    t += 1;
    if (r < 0.05) {
      out.push({
        ...base,
        observedAt: t,
        event: 'new',
        srcAddr: ip(100 + pick(100), pick(256), pick(256), pick(256)),
        dstAddr: servers[0],
        srcPort: sport,
        dstPort: 80,
        state: 'SYN_SENT',
        unreplied: true,
        ctId,
      });
      continue;
    }
    const brute = r < 0.06;
    const src = brute ? '10.50.0.9' : clients[pick(clients.length)];
    const dst = brute ? servers[1] : servers[pick(servers.length)];
    const dport = brute ? 22 : svc[pick(svc.length)];
    const pk = brute || rnd() < 0.33 ? 16 : 200;
    const tuple = { srcAddr: src, dstAddr: dst, srcPort: sport, dstPort: dport, ctId };
    out.push({ ...base, ...tuple, observedAt: t, event: 'new', state: 'SYN_SENT', unreplied: true });
    out.push({ ...base, ...tuple, observedAt: t + 1, event: 'update', state: 'ESTABLISHED', assured: true });
    out.push({
      ...base,
      ...tuple,
      observedAt: t + 2,
      event: 'destroy',
      state: 'TIME_WAIT',
      assured: true,
      packetsOrig: pk,
      packetsReply: pk,
      bytesOrig: pk * 150,
      bytesReply: pk * 180,
    });
  }
  return out.slice(0, n);
}

function run(make: () => WindowDetector, flows: FlowRecord[], quiet = false): void {
  (globalThis as { gc?: () => void }).gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const d = make();
  let findings = 0;
  let nextExpire = flows[0].observedAt + 1000;
  const t0 = performance.now();
  for (let i = 0; i < flows.length; i++) {
    const f = flows[i];
    if (f.observedAt >= nextExpire) {
      findings += d.expire(f.observedAt).length;
      nextExpire = f.observedAt + 1000;
    }
    findings += d.observe(f).length;
  }
  const ms = performance.now() - t0;
  (globalThis as { gc?: () => void }).gc?.();
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1048576;
  if (quiet) return;
  const s = d.stats();
  console.log(
    `  ${d.id}: ${Math.round(flows.length / (ms / 1000)).toLocaleString('en')} flows/s, ${((ms * 1e6) / flows.length).toFixed(0)} ns/flow, ${findings} findings, ${s.keys} keys (${s.evictedKeys} evicted), state ${heapMb.toFixed(1)} MB of heap`,
  );
}

const flows = generate(N);
const makers = [
  () => createBruteForceDetector(defaultBruteForceOptions()),
  () => createSynFloodDetector(defaultSynFloodOptions()),
  () => createBeaconDetector(defaultBeaconOptions()),
];
console.log(`rules.bench: ${flows.length} flows, ${((flows[flows.length - 1].observedAt - flows[0].observedAt) / 1000).toFixed(0)} s of event time`);
for (const m of makers) {
  run(m, flows.slice(0, 100_000), true); // warm-up
  run(m, flows);
}

/** Heap per key of each detector over 100,000 one-shot keys; every detector is kept alive so none is collected during another's measurement. */
function bytesPerKey(): void {
  const base = { schema: 1 as const, source: 'conntrack' as const, family: 4 as const, protocol: 6, event: 'new' as const, state: 'SYN_SENT', unreplied: true as const };
  const one: FlowRecord[] = [];
  for (let i = 0; i < 100_000; i++) {
    const a = `${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    one.push({ ...base, observedAt: 1e12 + i, srcAddr: `10.${a}`, dstAddr: `11.${a}`, srcPort: 40000, dstPort: 22, ctId: String(i) });
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  const kept: WindowDetector[] = [];
  console.log('memory per key (100,000 one-shot NEW SYNs to port 22; key strings and addresses included):');
  for (const make of makers) {
    gc?.();
    const h0 = process.memoryUsage().heapUsed;
    const d = make();
    for (const f of one) d.observe(f);
    gc?.();
    const per = (process.memoryUsage().heapUsed - h0) / d.stats().keys;
    kept.push(d);
    console.log(`  ${d.id}: ${d.stats().keys} keys, ${per.toFixed(0)} bytes per key${gc === undefined ? ' (run with --expose-gc for a real figure)' : ''}`);
  }
}

bytesPerKey();
