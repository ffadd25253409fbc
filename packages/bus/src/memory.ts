import type { Bus, BusBatch, BusMessage, SubscribeOptions, Subscription as BusSubscription } from './bus.js';
import { TOPICS } from './bus.js';
import { noopLogger } from '@floe/telemetry/lite';
import { BUS_ERROR_CODES, BusError } from './errors.js';
import { createBusMetrics, type BusDeps } from './metrics.js';

/** Options of the in-process bus. Every field has a default (`MEMORY_BUS_DEFAULTS`). */
export interface MemoryBusOptions {
  /** Partitions per topic. Default 4. */
  partitions?: number;
  /** Most messages handed to one handler call, per partition. Default 500. */
  maxBatch?: number;
  /** Delay before the first redelivery of a rejected batch (ms); doubles per attempt. Default 50. */
  retryBackoffMs?: number;
  /** Upper bound of the redelivery delay (ms). Default 2000. */
  maxRetryBackoffMs?: number;
  /** Topics read compacted with `fromBeginning` (last value per key, tombstones drop the key). Default `[floe.decisions.v1]`. */
  compactedTopics?: string[];
  /**
   * Most messages kept per partition of a non-compacted topic. Older ones are evicted (and
   * counted in `stats().evicted`) even if a group has not read them, as Kafka retention would.
   * Default 100 000.
   */
  maxRetainedPerPartition?: number;
  /**
   * Deliveries of one batch before the subscription gives up: it stops and calls its `onDeath`
   * (the in-process equivalent of a Kafka consumer that crashed for good). Default 30 (with the
   * default backoff about 50 s of failures).
   */
  maxDeliveryAttempts?: number;
}

/** Defaults of MemoryBusOptions. */
export const MEMORY_BUS_DEFAULTS = Object.freeze({
  partitions: 4,
  maxBatch: 500,
  retryBackoffMs: 50,
  maxRetryBackoffMs: 2000,
  compactedTopics: Object.freeze([TOPICS.decisions]) as readonly string[],
  maxRetainedPerPartition: 100_000,
  maxDeliveryAttempts: 30,
});

/** Counters of an in-process bus (messages unless stated). */
export interface MemoryBusStats {
  /** Messages stored by publish. */
  published: number;
  /** Messages committed by a consumer group (a message read by two groups counts twice). */
  delivered: number;
  /** Batches delivered again after their handler rejected. */
  redeliveries: number;
  /** Messages evicted by retention before every group committed them. */
  evicted: number;
  /** Messages currently held in all partitions of all topics. */
  retained: number;
}

/** The in-process Bus, with counters for tests and metrics. */
export interface MemoryBus extends Bus {
  stats(): MemoryBusStats;
}

interface Entry {
  offset: number;
  key: string;
  value: unknown;
}

interface Partition {
  /** Stored messages, ascending offsets; may be sparse after compaction or trimming. */
  entries: Entry[];
  /** Offset the next published message gets. */
  next: number;
}

interface Topic {
  name: string;
  compacted: boolean;
  partitions: Partition[];
  subs: Subscription[];
  /** Entry count (per partition) at which a compacted topic's log is compacted again. */
  compactAt: number[];
}

interface PartState {
  /** Next offset this group reads: everything below is committed. */
  committed: number;
  /** Compacted view of the log below `snapEnd`, read first by a `fromBeginning` group. */
  snapshot: Entry[] | undefined;
  snapEnd: number;
  inflight: Promise<void> | undefined;
  /** The batch that failed, delivered again unchanged. */
  retry: Entry[] | undefined;
  attempts: number;
  timer: NodeJS.Timeout | undefined;
  scheduled: boolean;
}

interface Subscription {
  topic: Topic;
  group: string;
  handler: (batch: BusBatch<unknown>) => Promise<void>;
  parts: PartState[];
  onDeath?: (err: Error) => void;
  /** Closed by close() or dead after maxDeliveryAttempts: nothing more is delivered. */
  ended: boolean;
}

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * Partition of a key: 32-bit FNV-1a (Fowler/Noll/Vo, draft-eastlake-fnv) over the key's
 * UTF-16 code units, modulo `partitions`. Every message of one key lands in one partition.
 * (Kafka's own partitioner is murmur2; partitions of the two adapters are not comparable.)
 */
export function partitionFor(key: string, partitions: number): number {
  return fnv1a32(key) % partitions;
}

/** 32-bit FNV-1a of a string's UTF-16 code units (equals the byte-wise hash for ASCII keys). */
export function fnv1a32(s: string): number {
  let h = FNV_OFFSET_BASIS;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Index of the first entry whose offset is >= `offset` (entries ascend by offset). */
function lowerBound(entries: Entry[], offset: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid].offset < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Last entry per key among `entries`, tombstones dropped, ascending offsets. */
function compact(entries: Entry[]): Entry[] {
  const last = new Map<string, Entry>();
  for (const e of entries) last.set(e.key, e);
  const out: Entry[] = [];
  for (const e of last.values()) if (e.value !== null) out.push(e);
  return out.sort((a, b) => a.offset - b.offset);
}

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) {
    throw new BusError(BUS_ERROR_CODES.BAD_ARGUMENT, `memory bus: ${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/**
 * Creates the in-process bus (the embedded default; ARCHITECTURE.md "Two deployments").
 *
 * - Topics are created on first use with `partitions` partitions; a message goes to
 *   `partitionFor(key)`. Order is kept per partition, hence per key.
 * - Each consumer group has its own committed offset per partition. A batch (up to `maxBatch`
 *   messages of one partition) is committed only when its handler resolves; a rejected handler
 *   gets the same batch again after a backoff (`retryBackoffMs`, doubling up to
 *   `maxRetryBackoffMs`), counted in `stats().redeliveries`. One handler call per partition and
 *   group runs at a time; partitions run concurrently.
 * - A new group starts at the end of each partition, or at its beginning with `fromBeginning`.
 *   On a compacted topic `fromBeginning` first reads the compacted log (last value per key;
 *   keys whose last value is a tombstone are left out), then every later message, tombstones
 *   included.
 * - Values are handed over by reference: publishers must not mutate them after publishing.
 * - Construction is inert; `publish`/`subscribe` need `start()` (else FLOE_BUS_NOT_STARTED);
 *   `stop()` stops delivery, waits for in-flight handlers, and is final (later calls throw
 *   FLOE_BUS_STOPPED). A group may subscribe to a topic once per bus (FLOE_BUS_DUPLICATE_GROUP).
 *
 * - Logs through a child of `deps.logger` (`{ component: 'bus', adapter: 'memory' }`); counts in
 *   the `floe_bus_*` metrics on `deps.metrics` (metrics.ts); `floe_bus_consumer_lag` is the
 *   partition's end offset minus the group's committed offset, updated on publish and commit.
 *
 * @throws BusError FLOE_BUS_BAD_ARGUMENT for a non-positive `partitions`, `maxBatch`, ...
 */
export function createMemoryBus(opts: MemoryBusOptions = {}, deps: BusDeps = {}): MemoryBus {
  const partitions = positiveInt('partitions', opts.partitions, MEMORY_BUS_DEFAULTS.partitions);
  const maxBatch = positiveInt('maxBatch', opts.maxBatch, MEMORY_BUS_DEFAULTS.maxBatch);
  const retryBackoffMs = positiveInt('retryBackoffMs', opts.retryBackoffMs, MEMORY_BUS_DEFAULTS.retryBackoffMs);
  const maxRetryBackoffMs = positiveInt('maxRetryBackoffMs', opts.maxRetryBackoffMs, MEMORY_BUS_DEFAULTS.maxRetryBackoffMs);
  const maxRetained = positiveInt('maxRetainedPerPartition', opts.maxRetainedPerPartition, MEMORY_BUS_DEFAULTS.maxRetainedPerPartition);
  const maxAttempts = positiveInt('maxDeliveryAttempts', opts.maxDeliveryAttempts, MEMORY_BUS_DEFAULTS.maxDeliveryAttempts);
  const compactedTopics = new Set(opts.compactedTopics ?? MEMORY_BUS_DEFAULTS.compactedTopics);
  const log = (deps.logger ?? noopLogger).child({ component: 'bus', adapter: 'memory' });
  const m = createBusMetrics(deps.metrics);

  let state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  const topics = new Map<string, Topic>();
  const counters = { published: 0, delivered: 0, redeliveries: 0, evicted: 0 };

  function assertRunning(op: string): void {
    if (state === 'new') throw new BusError(BUS_ERROR_CODES.NOT_STARTED, `memory bus: ${op} before start()`);
    if (state !== 'running') throw new BusError(BUS_ERROR_CODES.STOPPED, `memory bus: ${op} after stop()`);
  }

  function topicOf(name: string): Topic {
    if (typeof name !== 'string' || name.length === 0) {
      throw new BusError(BUS_ERROR_CODES.BAD_ARGUMENT, 'memory bus: topic must be a non-empty string');
    }
    let t = topics.get(name);
    if (!t) {
      t = {
        name,
        compacted: compactedTopics.has(name),
        partitions: Array.from({ length: partitions }, () => ({ entries: [], next: 0 })),
        subs: [],
        compactAt: Array.from({ length: partitions }, () => 1024),
      };
      topics.set(name, t);
    }
    return t;
  }

  /** Lowest committed offset of any group on one partition (the partition's end when none). */
  function minCommitted(t: Topic, p: number): number {
    let min = t.partitions[p].next;
    for (const s of t.subs) min = Math.min(min, s.parts[p].committed);
    return min;
  }

  /** Frees memory: drops fully-read messages, compacts a compacted log, applies retention. */
  function trim(t: Topic, p: number): void {
    const part = t.partitions[p];
    if (t.compacted) {
      if (part.entries.length < t.compactAt[p]) return;
      // Entries every group has read are reduced to the last value per key (tombstones
      // dropped: a new fromBeginning reader leaves them out anyway); the rest stay as they are.
      const cut = lowerBound(part.entries, minCommitted(t, p));
      const head = part.entries.slice(0, cut);
      const tail = part.entries.slice(cut);
      const tailKeys = new Set(tail.map((e) => e.key));
      part.entries = compact(head)
        .filter((e) => !tailKeys.has(e.key))
        .concat(tail);
      t.compactAt[p] = Math.max(1024, part.entries.length * 2);
      return;
    }
    if (t.subs.length > 0) {
      const cut = lowerBound(part.entries, minCommitted(t, p));
      if (cut > 0) part.entries.splice(0, cut);
    }
    const over = part.entries.length - maxRetained;
    if (over > 0) {
      const lost = part.entries.splice(0, over);
      const minC = minCommitted(t, p);
      for (const e of lost) {
        if (e.offset < minC) continue;
        counters.evicted++;
        m.evicted.inc({ topic: t.name });
      }
    }
  }

  /** The next batch for a group on a partition, or undefined when it has read everything. */
  function read(sub: Subscription, p: number): Entry[] | undefined {
    const ps = sub.parts[p];
    if (ps.snapshot) {
      if (ps.committed < ps.snapEnd) {
        const i = lowerBound(ps.snapshot, ps.committed);
        if (i < ps.snapshot.length) return ps.snapshot.slice(i, i + maxBatch);
        ps.committed = ps.snapEnd; // the rest of the compacted prefix holds nothing to deliver
      }
      ps.snapshot = undefined;
    }
    const entries = sub.topic.partitions[p].entries;
    const i = lowerBound(entries, ps.committed);
    if (i >= entries.length) return undefined;
    return entries.slice(i, i + maxBatch);
  }

  /** Sets floe_bus_consumer_lag of a group on a partition: end offset minus committed offset. */
  function setLag(sub: Subscription, p: number): void {
    m.lag.set({ topic: sub.topic.name, partition: String(p), group: sub.group }, sub.topic.partitions[p].next - sub.parts[p].committed);
  }

  function schedule(sub: Subscription, p: number): void {
    const ps = sub.parts[p];
    if (ps.scheduled) return;
    ps.scheduled = true;
    setImmediate(() => {
      ps.scheduled = false;
      pump(sub, p);
    });
  }

  function pump(sub: Subscription, p: number): void {
    const ps = sub.parts[p];
    if (state !== 'running' || sub.ended || ps.inflight || ps.timer) return;
    const batch = ps.retry ?? read(sub, p);
    if (!batch || batch.length === 0) return;
    ps.inflight = deliver(sub, p, batch);
  }

  async function deliver(sub: Subscription, p: number, batch: Entry[]): Promise<void> {
    const ps = sub.parts[p];
    let ok = false;
    try {
      const messages: BusMessage<unknown>[] = batch.map((e) => ({ key: e.key, value: e.value, offset: String(e.offset) }));
      await sub.handler({ topic: sub.topic.name, partition: p, messages });
      ok = true;
    } catch (err) {
      ps.retry = batch;
      ps.attempts++;
      if (ps.attempts >= maxAttempts) {
        sub.ended = true;
        const why = new Error(
          `memory bus: group ${sub.group} gave up on ${sub.topic.name}/${p} after ${ps.attempts} failed deliveries: ${(err as Error)?.message ?? String(err)}`,
          { cause: err },
        );
        log.error({ err, topic: sub.topic.name, partition: p, group: sub.group, attempts: ps.attempts }, 'bus handler keeps failing; the subscription stops');
        ps.inflight = undefined;
        sub.onDeath?.(why);
        return;
      }
      counters.redeliveries++;
      m.handlerErrors.inc({ topic: sub.topic.name });
      const delay = Math.min(maxRetryBackoffMs, retryBackoffMs * 2 ** (ps.attempts - 1));
      log.warn({ err, topic: sub.topic.name, partition: p, group: sub.group, attempts: ps.attempts, delayMs: delay }, 'bus handler rejected; batch will be redelivered');
      if (state === 'running') {
        ps.timer = setTimeout(() => {
          ps.timer = undefined;
          pump(sub, p);
        }, delay);
      }
    } finally {
      ps.inflight = undefined;
    }
    if (ok) {
      ps.committed = batch[batch.length - 1].offset + 1;
      ps.retry = undefined;
      ps.attempts = 0;
      counters.delivered += batch.length;
      m.consumed.inc({ topic: sub.topic.name }, batch.length);
      setLag(sub, p);
      trim(sub.topic, p);
      schedule(sub, p);
    }
  }

  return {
    name: 'memory',

    async start(): Promise<void> {
      if (state === 'new') state = 'running';
      else if (state !== 'running') throw new BusError(BUS_ERROR_CODES.STOPPED, 'memory bus: start() after stop()');
    },

    async stop(): Promise<void> {
      if (state === 'new') {
        state = 'stopped';
        return;
      }
      if (state !== 'running') {
        while (state === 'stopping') await new Promise((r) => setImmediate(r));
        return;
      }
      state = 'stopping';
      for (const t of topics.values()) {
        for (const s of t.subs) {
          for (const ps of s.parts) {
            if (ps.timer) clearTimeout(ps.timer);
            ps.timer = undefined;
          }
        }
      }
      const inflight: Promise<void>[] = [];
      for (const t of topics.values()) for (const s of t.subs) for (const ps of s.parts) if (ps.inflight) inflight.push(ps.inflight);
      await Promise.allSettled(inflight);
      // A stopped bus reports no lag (its groups no longer read here).
      for (const t of topics.values()) for (const s of t.subs) for (let p = 0; p < partitions; p++) m.lag.remove({ topic: t.name, partition: String(p), group: s.group });
      state = 'stopped';
    },

    async publish<T>(topic: string, messages: BusMessage<T>[]): Promise<void> {
      assertRunning('publish');
      const t = topicOf(topic);
      if (!Array.isArray(messages)) throw new BusError(BUS_ERROR_CODES.BAD_ARGUMENT, 'memory bus: messages must be an array');
      for (const m of messages) {
        if (typeof m?.key !== 'string') throw new BusError(BUS_ERROR_CODES.BAD_ARGUMENT, `memory bus: message key must be a string (topic ${topic})`);
      }
      const touched = new Set<number>();
      for (const m of messages) {
        const p = partitionFor(m.key, partitions);
        const part = t.partitions[p];
        part.entries.push({ offset: part.next++, key: m.key, value: m.value ?? null });
        touched.add(p);
      }
      counters.published += messages.length;
      m.published.inc({ topic }, messages.length);
      for (const p of touched) {
        trim(t, p);
        for (const s of t.subs) {
          setLag(s, p);
          schedule(s, p);
        }
      }
    },

    async subscribe<T>(topic: string, o: SubscribeOptions, handler: (batch: BusBatch<T>) => Promise<void>): Promise<BusSubscription> {
      assertRunning('subscribe');
      if (typeof o?.group !== 'string' || o.group.length === 0) {
        throw new BusError(BUS_ERROR_CODES.BAD_ARGUMENT, 'memory bus: subscribe needs a non-empty group');
      }
      const t = topicOf(topic);
      if (t.subs.some((s) => s.group === o.group)) {
        throw new BusError(BUS_ERROR_CODES.DUPLICATE_GROUP, `memory bus: group ${o.group} already subscribes to ${topic}`);
      }
      const sub: Subscription = {
        topic: t,
        group: o.group,
        onDeath: o.onDeath,
        ended: false,
        handler: handler as (batch: BusBatch<unknown>) => Promise<void>,
        parts: t.partitions.map((part) => {
          const fromStart = o.fromBeginning === true;
          const first = part.entries.length > 0 ? part.entries[0].offset : part.next;
          return {
            committed: fromStart ? first : part.next,
            snapshot: fromStart && t.compacted ? compact(part.entries) : undefined,
            snapEnd: part.next,
            inflight: undefined,
            retry: undefined,
            attempts: 0,
            timer: undefined,
            scheduled: false,
          };
        }),
      };
      t.subs.push(sub);
      for (let p = 0; p < partitions; p++) {
        setLag(sub, p);
        schedule(sub, p);
      }
      return {
        async close(): Promise<void> {
          sub.ended = true;
          for (const ps of sub.parts) {
            if (ps.timer) clearTimeout(ps.timer);
            ps.timer = undefined;
          }
          await Promise.allSettled(sub.parts.map((ps) => ps.inflight));
          const i = t.subs.indexOf(sub);
          if (i >= 0) t.subs.splice(i, 1);
        },
      };
    },

    stats(): MemoryBusStats {
      let retained = 0;
      for (const t of topics.values()) for (const p of t.partitions) retained += p.entries.length;
      return { ...counters, retained };
    },
  };
}
