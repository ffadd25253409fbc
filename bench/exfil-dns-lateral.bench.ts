// Throughput and state of the exfil.volume, dns.resolver, dns.volume and lateral.newpeer detectors,
// each alone, on a synthetic, seeded mix of flows already classified (direction, namespaces), as the
// pipeline feeds them. Prints flows/second, keys held, evictions and heap per tracked key.
// Run: node --expose-gc --conditions=floe-source --import tsx bench/exfil-dns-lateral.bench.ts [flows=1000000] [sources=200000]
// Each detector runs in a child process of its own (the fourth argument names it), so its heap
// figure holds only its own state.
//
// Mix (event time advances 1 ms per record):
//   50% internal NEW events: `sources` pods in 20 namespaces, each to one of its own 3 endpoints
//       (of 2,000 in 20 namespaces, most across a namespace boundary), 1 in 10,000 to a random one;
//   25% DNS NEW events (udp/53): to the named resolver 10.96.0.10, 1 in 1,000 to 8.8.8.8;
//   25% egress DESTROY events with byte counters to 5,000 public addresses.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { FlowRecord } from '@floe/flow';
import {
  createDnsResolverDetector,
  createDnsVolumeDetector,
  createExfilDetector,
  createLateralDetector,
  defaultDnsOptions,
  defaultExfilOptions,
  defaultLateralOptions,
  type WindowDetector,
} from '@floe/detect';

const N = Number(process.argv[2] ?? 1_000_000);
const SOURCES = Number(process.argv[3] ?? 200_000);
const ONLY = process.argv[4];

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
  const pods = Array.from({ length: SOURCES }, (_, i) => ({ addr: `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, meta: { zone: 'pods', namespace: `ns${i % 20}` } }));
  const endpoints = Array.from({ length: 2000 }, (_, i) => ({ addr: `10.250.${i >> 8}.${i & 255}`, meta: { zone: 'pods', namespace: `ns${i % 20}` } }));
  const publics = Array.from({ length: 5000 }, (_, i) => `203.0.${(i >> 8) & 255}.${i & 255}`);
  const ports = [80, 443, 5432, 6379];
  const out: FlowRecord[] = [];
  let t = Date.UTC(2026, 0, 1);
  let id = 1;
  while (out.length < n) {
    const r = rnd();
    const si = pick(pods.length);
    const src = pods[si];
    const base = {
      schema: 1 as const,
      source: 'conntrack' as const,
      family: 4 as const,
      observedAt: t++,
      srcAddr: src.addr,
      srcPort: 32768 + pick(28000),
      ctId: String(id++),
      srcMeta: src.meta,
    };
    if (r < 0.5) {
      const dst = rnd() < 0.0001 ? endpoints[pick(endpoints.length)] : endpoints[(si * 7 + pick(3)) % endpoints.length];
      out.push({ ...base, event: 'new', protocol: 6, dstAddr: dst.addr, dstPort: ports[pick(ports.length)], direction: 'internal', dstMeta: dst.meta });
    } else if (r < 0.75) {
      const odd = rnd() < 0.001;
      out.push({ ...base, event: 'new', protocol: 17, dstAddr: odd ? '8.8.8.8' : '10.96.0.10', dstPort: 53, direction: odd ? 'egress' : 'internal' });
    } else {
      out.push({
        ...base,
        event: 'destroy',
        protocol: 6,
        dstAddr: publics[pick(publics.length)],
        dstPort: 443,
        direction: 'egress',
        bytesOrig: 500 + pick(20_000),
        bytesReply: 2000 + pick(200_000),
      });
    }
  }
  return out;
}

const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};

const dns = { ...defaultDnsOptions(), resolvers: ['10.96.0.10/32'] };
const makers: Record<string, () => WindowDetector> = {
  'exfil.volume': () => createExfilDetector(defaultExfilOptions()),
  'dns.resolver': () => createDnsResolverDetector(dns),
  'dns.volume': () => createDnsVolumeDetector(dns),
  'lateral.newpeer': () => createLateralDetector(defaultLateralOptions()),
};

if (ONLY === undefined) {
  console.log(`${N} flows, ${SOURCES} sources, ${N / 1000} s of event time; each detector alone, one pass (JIT warm-up and entity creation included)`);
  for (const name of Object.keys(makers)) {
    spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), String(N), String(SOURCES), name], { stdio: 'inherit' });
  }
} else {
  const flows = generate(N);
  const before = heap();
  const d = makers[ONLY]();
  let findings = 0;
  const t0 = performance.now();
  for (const f of flows) findings += d.observe(f).length;
  const ms = performance.now() - t0;
  const after = heap();
  // Keep the input alive past the measurement (V8 would collect it once no longer used).
  if (flows.length !== N) throw new Error('input changed');
  const s = d.stats();
  const perKey = s.keys > 0 ? (after - before) / s.keys : 0;
  console.log(
    `${ONLY.padEnd(16)} ${Math.round(N / (ms / 1000))
      .toLocaleString('en-US')
      .padStart(
        10,
      )} flows/s  keys ${s.keys}  evicted ${s.evictedKeys}  findings ${findings}  heap ${((after - before) / 1e6).toFixed(1)} MB${gc ? ` (~${Math.round(perKey)} B per key)` : ' (run with --expose-gc for heap figures)'}`,
  );
  d.flush();
}
