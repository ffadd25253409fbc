// Throughput of @floe/model on one core: window features (records/s through FeatureWindows),
// memory per tracked entity, and model scoring (windows/s through the autoencoder, in batches).
// Run: node --expose-gc --conditions=floe-source --import tsx bench/model.bench.ts [records=300000] [entities=100000] [windows=50000]
//
// Records: a seeded conntrack-like mix (NEW/UPDATE/DESTROY per connection): ~97 % 20 000 benign
// clients to 500 servers on 6 ports, ~3 % 20 scanners probing random ports; event time advances
// 1 ms per connection, so windows (60 s) close as the stream goes. Entities: that many distinct
// one-shot sources (internet background noise), each window open, for the memory per entity.
// Scoring: a model trained (20 epochs) on the benign windows scores `windows` windows.
import { performance } from 'node:perf_hooks';
import type { FlowRecord } from '@floe/flow';
import { ensureBackend, FeatureWindows, trainModel, type EntityWindow } from '@floe/model';

const N = Number(process.argv[2] ?? 300_000);
const ENTITIES = Number(process.argv[3] ?? 100_000);
const WINDOWS = Number(process.argv[4] ?? 50_000);
const gc = (globalThis as { gc?: () => void }).gc;

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
  const scanners = Array.from({ length: 20 }, (_, i) => ip(10, 50, 0, i + 1));
  const svc = [80, 443, 53, 5432, 6379, 8080];
  const out: FlowRecord[] = [];
  let t = Date.UTC(2026, 0, 1);
  const events = ['new', 'update', 'destroy'] as const;
  while (out.length < n) {
    const scan = rnd() >= 0.97;
    const src = scan ? scanners[pick(scanners.length)] : clients[pick(clients.length)];
    const dst = servers[pick(servers.length)];
    const dport = scan ? 1 + pick(65535) : svc[pick(svc.length)];
    t += 1;
    for (const event of events) {
      out.push({
        schema: 1,
        observedAt: t,
        start: t,
        source: 'conntrack',
        event,
        family: 4,
        protocol: 6,
        srcAddr: src,
        dstAddr: dst,
        srcPort: 30000 + pick(30000),
        dstPort: dport,
        bytesOrig: event === 'destroy' ? 60 + pick(2000) : undefined,
        bytesReply: event === 'destroy' && !scan ? 200 + pick(20000) : event === 'destroy' ? 0 : undefined,
        packetsOrig: event === 'destroy' ? 1 + pick(10) : undefined,
        packetsReply: event === 'destroy' ? (scan ? 0 : 1 + pick(10)) : undefined,
        state: event === 'destroy' ? (scan ? 'CLOSE' : 'TIME_WAIT') : 'SYN_SENT',
        assured: event === 'destroy' && !scan ? true : undefined,
        unreplied: scan ? true : undefined,
      });
    }
  }
  return out.slice(0, n);
}

/** JS heap plus ArrayBuffers (the slab chunks and tables live outside the heap). */
const heap = (): number => {
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

// 1. Memory per entity: ENTITIES distinct sources, each with one open window (first, on a clean heap).
{
  const before = heap();
  const many = new FeatureWindows({ maxEntities: ENTITIES, lateness: Number.POSITIVE_INFINITY });
  const one: FlowRecord = {
    schema: 1,
    observedAt: 1,
    start: 1,
    source: 'kernel-log',
    event: 'log',
    family: 4,
    protocol: 6,
    srcAddr: '',
    dstAddr: '10.60.0.1',
    srcPort: 40000,
    dstPort: 22,
  };
  const t = performance.now();
  for (let i = 0; i < ENTITIES; i++) {
    one.srcAddr = `198.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    many.observe(one);
  }
  const sec = (performance.now() - t) / 1000;
  const after = heap();
  console.log(
    `entities: ${ENTITIES.toLocaleString('en')} one-shot sources in ${sec.toFixed(2)} s (${Math.round(ENTITIES / sec).toLocaleString('en')}/s); ${gc ? `${Math.round((after - before - 4 * 2 ** 20) / ENTITIES)} bytes per entity (heap + slab), plus the 4 MiB never-seen table` : 'run with --expose-gc for memory per entity'} (${many.stats().entities} tracked)`,
  );
}

// 2. Features: records/s.
const recs = generate(N);
const fw = new FeatureWindows();
const windows: EntityWindow[] = [];
let t0 = performance.now();
for (const r of recs) fw.observe(r, windows);
for (const w of fw.flush()) windows.push(w);
let s = (performance.now() - t0) / 1000;
console.log(`features: ${N} records in ${s.toFixed(2)} s = ${Math.round(N / s).toLocaleString('en')} records/s; ${windows.length} windows, ${fw.stats().entities} entities`);

// 3. Scoring: windows/s.
const choice = await ensureBackend();
const benign = windows.filter((w) => !w.entity.startsWith('10.50.'));
t0 = performance.now();
const model = await trainModel(benign.slice(0, 5000), { epochs: 20, windowMs: 60_000 });
console.log(`train: ${Math.min(5000, benign.length)} windows × 20 epochs in ${((performance.now() - t0) / 1000).toFixed(2)} s (backend ${choice.name}: ${choice.reason})`);
const toScore: EntityWindow[] = [];
for (let i = 0; toScore.length < WINDOWS; i++) toScore.push(windows[i % windows.length]);
await model.score(toScore.slice(0, 1000)); // warm-up
t0 = performance.now();
const scores = await model.score(toScore);
s = (performance.now() - t0) / 1000;
const anomalous = scores.filter((x) => x.anomalous).length;
console.log(
  `score: ${WINDOWS} windows in ${s.toFixed(2)} s = ${Math.round(WINDOWS / s).toLocaleString('en')} windows/s (${anomalous} above the threshold of a model trained 20 epochs: a throughput figure, not a detection one)`,
);
model.dispose();
