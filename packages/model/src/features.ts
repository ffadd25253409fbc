/**
 * Window features per source entity: tumbling windows (default 60 s, aligned to multiples of the
 * window since the epoch) and an EWMA baseline over the entity's past windows. Constant cost per
 * record and fixed memory per entity (sketch.ts); entities live in a BoundedKeys (least recently
 * seen evicted, its open window emitted first, counted).
 */
import { BoundedKeys, eventTime } from '@floe/detect';
import type { FlowRecord, FlowSource } from '@floe/flow';
import { ModelError } from './errors.js';
import { F, FEATURE_COUNT } from './names.js';
import { DISTINCT_WORDS, DistinctCounter, ENTROPY_WORDS, EntropyHistogram, SeenTable, SlabPool, hashString, mix32 } from './sketch.js';

/** Slab words of one entity: four distinct counters and two entropy histograms (536 bytes). */
export const ENTITY_WORDS = 4 * DISTINCT_WORDS + 2 * ENTROPY_WORDS;

/** One entity's features over one window. */
export interface EntityWindow {
  /** The source address the window is about. */
  entity: string;
  /** Window start and end (ms since epoch; end exclusive, start + windowMs). */
  start: number;
  end: number;
  /** Feature values, in the order of FEATURE_NAMES. */
  values: Float32Array;
  /** Connection attempts counted (the `flows` feature before scaling). */
  flows: number;
  /** Times (ms since epoch) of the first and last record counted in the window. */
  firstSeen: number;
  lastSeen: number;
  /** Kubernetes identity of the source, when enrichment gave one (the window's last record with srcMeta). */
  meta?: { namespace?: string; pod?: string; workload?: string };
}

/** Options of the feature extractor. */
export interface FeatureOptions {
  /** Window length (ms; default 60 000, the window of the scan rules: Zeek scan.zeek's 5 min is coarser, CrowdSec's multi-port scan uses 60 s leaky buckets). */
  windowMs?: number;
  /**
   * How long after its end a window waits for late records before the first record of another
   * entity closes it (ms; default 5 000, the detectors' DEFAULT_LATENESS_MS). `Infinity`: windows
   * close only when their own entity moves on, on `expire` and on `flush` (offline use).
   */
  lateness?: number;
  /** Entities tracked at most (default 100 000); the least recently seen is evicted, its window emitted. */
  maxEntities?: number;
  /** log2 of the slots of the never-seen-destination table (default 20: 1 Mi slots, 4 MiB, shared by all entities). */
  seenSlotsLog2?: number;
  /** EWMA weight of the newest window in the baseline (default 0.1: about the last 10 windows). */
  baselineAlpha?: number;
  /**
   * True when a flow leaves the cluster (the compiled policy's classification). Default
   * ({@link defaultLeavesCluster}): `direction` `egress`; not for `internal` or `ingress`; else
   * (`external` or unset) a destination outside the private, loopback, link-local, CGNAT and ULA ranges.
   */
  leavesCluster?: (flow: FlowRecord) => boolean;
}

/** Defaults of FeatureOptions (sources in FeatureOptions). */
export const FEATURE_DEFAULTS = Object.freeze({
  windowMs: 60_000,
  lateness: 5_000,
  maxEntities: 100_000,
  seenSlotsLog2: 20,
  baselineAlpha: 0.1,
});

/** Counters of the extractor (for metrics; read at scrape time). */
export interface FeatureStats {
  records: number;
  windows: number;
  entities: number;
  /** Entities evicted because maxEntities was reached (their open window was emitted early). */
  evicted: number;
}

/** Accumulators of one entity: reset at each window, reused (no allocation per window). */
class EntityState {
  windowStart = 0;
  open = false;
  firstT = 0;
  lastT = 0;
  flows = 0;
  readonly addrs: DistinctCounter;
  readonly ports: DistinctCounter;
  readonly prefixes: DistinctCounter;
  readonly pairs: DistinctCounter;
  readonly portH: EntropyHistogram;
  readonly addrH: EntropyHistogram;
  bytesOut = 0;
  bytesIn = 0;
  packetsOut = 0;
  packetsIn = 0;
  ended = 0;
  /** Ended flows whose reply counters are known (packet logs carry none). */
  replyKnown = 0;
  failed = 0;
  durN = 0;
  durSum = 0;
  durMax = 0;
  external = 0;
  newDst = 0;
  dns = 0;
  icmp = 0;
  lastAttempt = Number.NaN;
  gapN = 0;
  gapMean = 0;
  gapM2 = 0;
  meta: EntityWindow['meta'];
  // Baseline (EWMA of the log features over past windows).
  baseN = 0;
  baseEnd = 0;
  baseFlows = 0;
  baseAddrs = 0;
  baseBytes = 0;

  /** @param slot this entity's ENTITY_WORDS words of the pool (zeroed). */
  constructor(readonly slot: [Uint32Array, number]) {
    const [a, o] = slot;
    this.addrs = new DistinctCounter(a, o);
    this.ports = new DistinctCounter(a, o + DISTINCT_WORDS);
    this.prefixes = new DistinctCounter(a, o + 2 * DISTINCT_WORDS);
    this.pairs = new DistinctCounter(a, o + 3 * DISTINCT_WORDS);
    this.portH = new EntropyHistogram(a, o + 4 * DISTINCT_WORDS);
    this.addrH = new EntropyHistogram(a, o + 4 * DISTINCT_WORDS + ENTROPY_WORDS);
  }

  reset(start: number): void {
    this.windowStart = start;
    this.open = true;
    this.firstT = Number.POSITIVE_INFINITY;
    this.lastT = Number.NEGATIVE_INFINITY;
    this.flows = 0;
    this.addrs.reset();
    this.ports.reset();
    this.prefixes.reset();
    this.pairs.reset();
    this.portH.reset();
    this.addrH.reset();
    this.bytesOut = this.bytesIn = this.packetsOut = this.packetsIn = 0;
    this.ended = this.replyKnown = this.failed = this.durN = this.durSum = this.durMax = 0;
    this.external = this.newDst = this.dns = this.icmp = 0;
    this.lastAttempt = Number.NaN;
    this.gapN = this.gapMean = this.gapM2 = 0;
    this.meta = undefined;
  }
}

/**
 * Which records count as a connection attempt: `new`, `log` and `snapshot` events, and `destroy`
 * events of a source that has sent no `new` event so far (ulogd2's NFCT stack writes only
 * DESTROY records). `update` events only carry counters. Outcomes (bytes, packets, failed,
 * durations) come from `destroy`, `snapshot` and `log` records, which carry a connection's
 * final or current counters.
 */
function isOutcome(flow: FlowRecord): boolean {
  return flow.event === 'destroy' || flow.event === 'snapshot' || flow.event === 'log';
}

/** True when an ended flow failed: unreplied, a logged drop, or TCP that was never assured (refused with RST, or half-open). */
function failedFlow(flow: FlowRecord): boolean {
  if (flow.verdict === 'drop' || flow.unreplied === true) return true;
  if (flow.protocol === 6 && flow.event !== 'log') {
    if (flow.assured === true) return false;
    // conntrack marks a flow ASSURED once it saw traffic both ways and more; a TCP flow that
    // ended without it was refused (RST) or never answered. ulogd's NFCT records carry no
    // status flags: a reply of at most one packet (a RST or SYN/ACK alone) means refused.
    if (flow.assured === undefined && flow.packetsReply !== undefined && flow.state === undefined) return flow.packetsReply <= 1;
    return flow.state !== 'ESTABLISHED';
  }
  return false;
}

const PRIVATE_V4: ReadonlyArray<[number, number]> = [
  [0x0a000000, 8], // 10/8 (RFC 1918)
  [0xac100000, 12], // 172.16/12
  [0xc0a80000, 16], // 192.168/16
  [0x7f000000, 8], // loopback
  [0xa9fe0000, 16], // link-local
  [0x64400000, 10], // 100.64/10 (RFC 6598 shared, used for pod networks)
];

/**
 * Default leavesCluster: the policy's direction when it knows one end is ours (`egress` leaves;
 * `internal`, `ingress` do not), else (`external`: neither end in the policy's networks, or no
 * direction) "the destination is not a private, loopback, link-local, CGNAT or ULA address".
 */
export function defaultLeavesCluster(flow: FlowRecord): boolean {
  if (flow.direction === 'egress') return true;
  if (flow.direction === 'internal' || flow.direction === 'ingress') return false;
  const a = flow.dstAddr;
  if (flow.family === 6) {
    const l = a.toLowerCase();
    return !(l === '::1' || l.startsWith('fc') || l.startsWith('fd') || l.startsWith('fe8') || l.startsWith('fe9') || l.startsWith('fea') || l.startsWith('feb'));
  }
  let n = 0;
  let part = 0;
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    if (c === 46) {
      n = n * 256 + part;
      part = 0;
    } else part = part * 10 + (c - 48);
  }
  n = n * 256 + part;
  for (const [net, len] of PRIVATE_V4) if (Math.floor(n / 2 ** (32 - len)) === Math.floor(net / 2 ** (32 - len))) return false;
  return true;
}

/** Length of the /24 (IPv4) or /64 (IPv6: up to the 4th ':' or a '::') prefix of an address text. */
function prefixEnd(a: string, family: 4 | 6): number {
  if (family === 4) return a.lastIndexOf('.');
  let colons = 0;
  for (let i = 0; i < a.length; i++) {
    if (a.charCodeAt(i) === 58) {
      if (i + 1 < a.length && a.charCodeAt(i + 1) === 58) return i;
      if (++colons === 4) return i;
    }
  }
  return a.length;
}

function checkOptions(o: Required<Omit<FeatureOptions, 'leavesCluster'>>): void {
  const bad = (field: string, msg: string): never => {
    throw new ModelError('FLOE_MODEL_BAD_OPTIONS', field, msg);
  };
  if (!(Number.isInteger(o.windowMs) && o.windowMs >= 1000)) bad('windowMs', `must be an integer >= 1000 ms, got ${o.windowMs}`);
  if (!(o.lateness >= 0)) bad('lateness', `must be >= 0 ms or Infinity, got ${o.lateness}`);
  if (!(Number.isInteger(o.maxEntities) && o.maxEntities >= 1)) bad('maxEntities', `must be an integer >= 1, got ${o.maxEntities}`);
  if (!(Number.isInteger(o.seenSlotsLog2) && o.seenSlotsLog2 >= 4 && o.seenSlotsLog2 <= 28)) bad('seenSlotsLog2', `must be an integer in 4..28, got ${o.seenSlotsLog2}`);
  if (!(o.baselineAlpha > 0 && o.baselineAlpha <= 1)) bad('baselineAlpha', `must be in (0, 1], got ${o.baselineAlpha}`);
}

/**
 * Streaming window features. Feed records in (roughly) time order with `observe`; each call
 * returns the windows that closed (usually none). A record earlier than its entity's open window
 * is counted in it (small disorder tolerated); a record at or after the window's end closes it.
 * @throws ModelError FLOE_MODEL_BAD_OPTIONS when an option is out of range.
 */
export class FeatureWindows {
  readonly windowMs: number;
  private readonly lateness: number;
  private readonly alpha: number;
  private readonly leaves: (flow: FlowRecord) => boolean;
  private readonly entities: BoundedKeys<EntityState>;
  private readonly seen: SeenTable;
  private readonly pool = new SlabPool(ENTITY_WORDS);
  private readonly sawNew = new Set<FlowSource>();
  private maxT = Number.NEGATIVE_INFINITY;
  private nextSweep = Number.POSITIVE_INFINITY;
  private readonly counters = { records: 0, windows: 0, evicted: 0 };

  constructor(opts: FeatureOptions = {}) {
    const o = { ...FEATURE_DEFAULTS, ...stripUndefined(opts) };
    checkOptions(o);
    this.windowMs = o.windowMs;
    this.lateness = o.lateness;
    this.alpha = o.baselineAlpha;
    this.leaves = opts.leavesCluster ?? defaultLeavesCluster;
    this.entities = new BoundedKeys<EntityState>(o.maxEntities);
    this.seen = new SeenTable(o.seenSlotsLog2);
  }

  /** Counts one record; returns the windows it closed (its entity's previous one, others past their end + lateness, an evicted entity's). */
  observe(flow: FlowRecord, out: EntityWindow[] = []): EntityWindow[] {
    if (flow.event === 'update') return out;
    this.counters.records++;
    const t = eventTime(flow);
    if (flow.event === 'new') this.sawNew.add(flow.source);
    const key = flow.srcAddr;
    let st = this.entities.touch(key);
    if (st === undefined) {
      st = new EntityState(this.pool.alloc());
      const ev = this.entities.set(key, st);
      if (ev !== undefined) {
        this.counters.evicted++;
        if (ev.value.open) out.push(this.close(ev.key, ev.value));
        this.pool.release(ev.value.slot);
      }
    }
    const start = t - (t % this.windowMs);
    if (!st.open) st.reset(start);
    else if (t >= st.windowStart + this.windowMs) {
      out.push(this.close(key, st));
      st.reset(start);
    }
    this.add(st, flow, t);
    if (t > this.maxT) {
      this.maxT = t;
      if (this.nextSweep === Number.POSITIVE_INFINITY && this.lateness !== Number.POSITIVE_INFINITY) this.nextSweep = start + this.windowMs + this.lateness;
      if (t >= this.nextSweep) this.sweep(t - this.lateness, out);
    }
    return out;
  }

  /** Event time reached `nowMs` (ms) with no record saying so: closes every window that ended by then. */
  expire(nowMs: number): EntityWindow[] {
    const out: EntityWindow[] = [];
    this.sweep(nowMs, out);
    return out;
  }

  /** End of input: closes every open window. */
  flush(): EntityWindow[] {
    const out: EntityWindow[] = [];
    this.sweep(Number.POSITIVE_INFINITY, out);
    return out;
  }

  stats(): FeatureStats {
    return { ...this.counters, entities: this.entities.size };
  }

  /** Closes the open windows that ended at or before `limit`; O(entities), once a window length at most when record-driven. */
  private sweep(limit: number, out: EntityWindow[]): void {
    for (const [key, st] of this.entities.entries()) if (st.open && st.windowStart + this.windowMs <= limit) out.push(this.close(key, st));
    if (this.maxT !== Number.NEGATIVE_INFINITY && this.lateness !== Number.POSITIVE_INFINITY) {
      const m = this.maxT;
      this.nextSweep = m - (m % this.windowMs) + this.windowMs + this.lateness;
    }
  }

  private add(st: EntityState, flow: FlowRecord, t: number): void {
    if (t < st.firstT) st.firstT = t;
    if (t > st.lastT) st.lastT = t;
    const attempt = flow.event === 'new' || flow.event === 'log' || flow.event === 'snapshot' || (flow.event === 'destroy' && !this.sawNew.has(flow.source));
    if (attempt) {
      st.flows++;
      const dst = flow.dstAddr;
      const ha = hashString(dst);
      const port = flow.dstPort ?? (flow.icmpType !== undefined ? 65_536 + flow.icmpType : 131_072 + flow.protocol);
      const hp = mix32(port);
      st.addrs.add(ha);
      st.ports.add(hp);
      st.prefixes.add(hashString(dst, 0x811c9dc5, prefixEnd(dst, flow.family)));
      st.pairs.add(mix32(ha ^ Math.imul(hp, 0x9e3779b1)));
      st.addrH.add(ha);
      st.portH.add(hp);
      if (this.leaves(flow)) st.external++;
      if (!this.seen.checkAndAdd(hashString(dst, hashString(flow.srcAddr)))) st.newDst++;
      if (flow.dstPort === 53) st.dns++;
      if (flow.protocol === 1 || flow.protocol === 58) st.icmp++;
      if (!Number.isNaN(st.lastAttempt)) {
        const gap = Math.abs(t - st.lastAttempt);
        st.gapN++;
        const d = gap - st.gapMean;
        st.gapMean += d / st.gapN;
        st.gapM2 += d * (gap - st.gapMean);
      }
      st.lastAttempt = t;
    }
    if (isOutcome(flow)) {
      st.bytesOut += flow.bytesOrig ?? 0;
      st.bytesIn += flow.bytesReply ?? 0;
      st.packetsOut += flow.packetsOrig ?? 0;
      st.packetsIn += flow.packetsReply ?? 0;
      st.ended++;
      if (flow.bytesReply !== undefined) st.replyKnown++;
      if (failedFlow(flow)) st.failed++;
      if (flow.start !== undefined && flow.end !== undefined && flow.end >= flow.start) {
        const s = (flow.end - flow.start) / 1000;
        st.durN++;
        st.durSum += s;
        if (s > st.durMax) st.durMax = s;
      }
    }
    if (flow.srcMeta && (flow.srcMeta.pod || flow.srcMeta.workload)) {
      st.meta = { namespace: flow.srcMeta.namespace, pod: flow.srcMeta.pod, workload: flow.srcMeta.workload };
    }
  }

  private close(key: string, st: EntityState): EntityWindow {
    const v = new Float32Array(FEATURE_COUNT);
    const n = st.flows;
    const share = (x: number): number => (n > 0 ? x / n : 0);
    v[F.flows] = Math.log1p(n);
    v[F.dst_addrs] = Math.log1p(st.addrs.count());
    v[F.dst_ports] = Math.log1p(st.ports.count());
    v[F.dst_prefixes] = Math.log1p(st.prefixes.count());
    v[F.dst_pairs] = Math.log1p(st.pairs.count());
    v[F.bytes_out] = Math.log1p(st.bytesOut);
    v[F.bytes_in] = Math.log1p(st.bytesIn);
    v[F.packets_out] = Math.log1p(st.packetsOut);
    v[F.packets_in] = Math.log1p(st.packetsIn);
    v[F.bytes_ratio] = st.replyKnown > 0 ? Math.log2((st.bytesOut + 1) / (st.bytesIn + 1)) : 0;
    v[F.failed_share] = st.ended > 0 ? st.failed / st.ended : 0;
    v[F.duration_mean] = st.durN > 0 ? Math.log1p(st.durSum / st.durN) : 0;
    v[F.duration_max] = Math.log1p(st.durMax);
    v[F.external_share] = share(st.external);
    v[F.new_dst_share] = share(st.newDst);
    v[F.port_entropy] = st.portH.entropy();
    v[F.addr_entropy] = st.addrH.entropy();
    v[F.interval_cv] = Math.log1p(st.gapN >= 2 && st.gapMean > 0 ? Math.sqrt(st.gapM2 / st.gapN) / st.gapMean : 1);
    v[F.dns_share] = share(st.dns);
    v[F.icmp_share] = share(st.icmp);
    // Baseline: decay the EWMA over the windows the entity was silent, compare, then update.
    const a = this.alpha;
    if (st.baseN > 0) {
      const missed = Math.max(0, Math.round((st.windowStart - st.baseEnd) / this.windowMs));
      const keep = (1 - a) ** missed;
      st.baseFlows *= keep;
      st.baseAddrs *= keep;
      st.baseBytes *= keep;
      v[F.flows_vs_baseline] = v[F.flows] - st.baseFlows;
      v[F.dst_addrs_vs_baseline] = v[F.dst_addrs] - st.baseAddrs;
      v[F.bytes_out_vs_baseline] = v[F.bytes_out] - st.baseBytes;
      st.baseFlows += a * (v[F.flows] - st.baseFlows);
      st.baseAddrs += a * (v[F.dst_addrs] - st.baseAddrs);
      st.baseBytes += a * (v[F.bytes_out] - st.baseBytes);
    } else {
      st.baseFlows = v[F.flows];
      st.baseAddrs = v[F.dst_addrs];
      st.baseBytes = v[F.bytes_out];
    }
    st.baseN++;
    st.baseEnd = st.windowStart + this.windowMs;
    st.open = false;
    this.counters.windows++;
    const w: EntityWindow = { entity: key, start: st.windowStart, end: st.windowStart + this.windowMs, values: v, flows: n, firstSeen: st.firstT, lastSeen: st.lastT };
    if (st.meta) w.meta = st.meta;
    return w;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The windows of a finite set of records (offline: `lateness` Infinity unless given, every window
 * flushed at the end), in the order they closed.
 */
export function extractFeatures(flows: Iterable<FlowRecord>, opts: FeatureOptions = {}): EntityWindow[] {
  const fw = new FeatureWindows({ lateness: Number.POSITIVE_INFINITY, ...stripUndefined(opts) });
  const out: EntityWindow[] = [];
  for (const f of flows) fw.observe(f, out);
  for (const w of fw.flush()) out.push(w);
  return out;
}
