// Memory per tracked entity of the rule detectors at a million active sources (issue 7 part 6).
// Run: node --expose-gc --conditions=floe-source --import tsx bench/memory.bench.ts [sources=1000000]
//
// Internet background noise as a packet log sees it: every record is one SYN (event `log`) from a
// distinct source to one of a few ports of one node, 1 ms apart, fed to the detectors with
// `lateness: Infinity` (as `floe analyze` runs them: nothing expires, so every source stays
// tracked). Heap is measured with `process.memoryUsage().heapUsed` after a full GC before and after
// feeding, plus ArrayBuffer memory (`arrayBuffers`: the gate's typed-array columns); the records
// are built one at a time and dropped, so the difference is detector state.
// Prints bytes per source for each detector alone (its keys and its own connection memory), then
// for all of `createDetectors` together: with one SYN per source (each source's attempt held once
// by their shared first-sighting gate) and with two (other connections, one service: every source
// passes the gate and is tracked by all three scan detectors and their shared connection memory).
import type { FlowRecord } from '@floe/flow';
import { createDetectors, createHostSweepDetector, createPortScanDetector, defaultDetectorLimits, defaultDetectorOptions, type Detector, type WindowDetector } from '@floe/detect';
import { mulberry32 } from './random.js';

const N = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with node --expose-gc');
  process.exit(2);
}

const PORTS = [22, 23, 80, 443, 445, 3389, 8080, 5900];
const T0 = Date.UTC(2026, 0, 1);

/** Record `i` of the spray: source i (spread over 1.0.0.0 .. 223.255.255.255, distinct for i < 2^24), one SYN. */
function record(i: number, rnd: () => number): FlowRecord {
  const a = 1 + (i % 222);
  const rest = Math.floor(i / 222);
  return {
    schema: 1,
    observedAt: T0 + i,
    source: 'kernel-log',
    event: 'log',
    family: 4,
    protocol: 6,
    srcAddr: `${a}.${(rest >> 16) & 255}.${(rest >> 8) & 255}.${rest & 255}`,
    dstAddr: '203.0.113.10',
    srcPort: 1024 + Math.floor(rnd() * 64000),
    dstPort: PORTS[Math.floor(rnd() * PORTS.length)],
  };
}

/** Heap in use plus ArrayBuffer backing stores (typed-array columns live outside the V8 heap: heapUsed alone misses them). */
function heap(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const limits = { ...defaultDetectorLimits(), maxKeys: Math.max(N, defaultDetectorLimits().maxKeys), maxConnections: Math.max(N, defaultDetectorLimits().maxConnections) };

/** `shots` SYNs per source (other source ports: other connections, one service). */
function measure(name: string, make: () => Array<Detector & WindowDetector>, shots = 1): void {
  const before = heap();
  let dets: Array<Detector & WindowDetector> | undefined = make();
  const rnd = mulberry32(7);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const f = record(i, rnd);
    for (const d of dets) d.observe(f);
    for (let s = 1; s < shots; s++) {
      const g = { ...f, srcPort: ((f.srcPort as number) + s) & 65535, observedAt: f.observedAt + s };
      for (const d of dets) d.observe(g);
    }
  }
  const secs = (performance.now() - t0) / 1000;
  const after = heap();
  const keys = dets.map((d) => d.stats().keys);
  const evicted = dets.reduce((s, d) => s + d.stats().evictedKeys, 0);
  const bytes = after - before;
  console.log(
    `${name.padEnd(44)} sources ${N}  keys ${keys.join('+')}  evicted ${evicted}  heap ${(bytes / 2 ** 20).toFixed(0)} MiB  = ${(bytes / N).toFixed(0)} bytes/source  (${Math.round((N * 1) / secs)} sources/s)`,
  );
  dets = undefined;
}

const opts = defaultDetectorOptions();
const deps = { lateness: Number.POSITIVE_INFINITY, limits };
console.log(`limits: maxKeys ${limits.maxKeys}, maxConnections ${limits.maxConnections}; node ${process.version}`);
measure('portscan.vertical', () => [createPortScanDetector(opts.portscan, deps)]);
measure('hostsweep.horizontal', () => [createHostSweepDetector(opts.hostsweep, deps)]);
measure('createDetectors, 1 SYN per source (held)', () => createDetectors(opts, deps));
measure('createDetectors, 2 SYNs per source (tracked)', () => createDetectors(opts, deps), 2);
console.log(`rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
