import { ParseStats, type FlowRecord, type ParseError } from '@floe/flow';
import type { Bus } from '@floe/bus';
import { createRegistry, silentLogger, type Logger, type Registry } from '@floe/telemetry';
import type { CollectorOptions, CollectorSource } from './config.js';
import { collectorMetrics } from './metrics.js';
import { FlowBatcher } from './batcher.js';
import { replayFile, startConntrack, type LiveReader } from './sources.js';

export * from './config.js';
export { conntrackAvailable, CONNTRACK_EVENT_ARGS } from './sources.js';

/** State of one source, for health and summaries. */
export interface SourceHealth {
  kind: CollectorSource['kind'];
  name: string;
  state: 'idle' | 'running' | 'done' | 'failed';
  flows: number;
  rejected: number;
  byReason: Record<string, number>;
  error?: string;
}

/** The collector role: sources -> parsers -> batches on `floe.flows.v1`. */
export interface Collector {
  start(): Promise<void>;
  /** Stops the sources, publishes what is pending. Safe twice and before start. */
  stop(): Promise<void>;
  /**
   * Resolves when every source is a replay and all are done and flushed, or after stop();
   * rejects when a source fails.
   */
  readonly finished: Promise<void>;
  health(): { ok: boolean; sources: SourceHealth[] };
}

export interface CollectorDeps {
  bus: Bus;
  logger?: Logger;
  metrics?: Registry;
  /** Called when a source fails after start (the service shuts down: no zombie collector). */
  onFailure?: (e: Error) => void;
}

/** Builds an inert collector; start() spawns and opens the sources. */
export function createCollector(opts: CollectorOptions, deps: CollectorDeps): Collector {
  const log = (deps.logger ?? silentLogger()).child({ component: 'collector' });
  const m = collectorMetrics(deps.metrics ?? createRegistry({ defaultMetrics: false }));
  const abort = new AbortController();
  const live: LiveReader[] = [];
  const replays: Promise<void>[] = [];
  const health: SourceHealth[] = opts.sources.map((s) => ({
    kind: s.kind, name: s.kind === 'replay' ? s.file : `conntrack${s.netns ? `@${s.netns}` : ''}`, state: 'idle', flows: 0, rejected: 0, byReason: {},
  }));
  let resolveFinished!: () => void;
  let rejectFinished!: (e: Error) => void;
  const finished = new Promise<void>((res, rej) => { resolveFinished = res; rejectFinished = rej; });
  finished.catch(() => undefined);
  let started = false;
  let stopped = false;

  /** `label`: the source kind (`conntrack` live, `replay`) for metric labels, never a file path. */
  const sinkFor = (h: SourceHealth, label: 'conntrack' | 'replay') => ({
    flow(flow: FlowRecord) {
      h.flows++;
      m.flows.inc({ source: flow.source });
      return batcher.add(flow);
    },
    rejected(e: ParseError) {
      h.rejected++;
      h.byReason[e.reason] = (h.byReason[e.reason] ?? 0) + 1;
      m.rejected.inc({ source: label, reason: e.reason });
      if (h.rejected <= 20) log.warn({ file: e.file, line: e.line, reason: e.reason, field: e.field, text: e.text }, 'rejected input line');
      else if (h.rejected === 21) log.warn({ source: h.name }, 'more rejected lines: counted in floe_collector_rejected_total, not logged');
    },
  });

  /** A source (or, with no source named, the publishing of batches) failed: the collector fails. */
  const fail = (h: SourceHealth | undefined, e: Error) => {
    for (const x of h ? [h] : health) { x.state = 'failed'; x.error = e.message; }
    log.error({ source: h?.name ?? 'publish', err: e.message }, h ? 'source failed' : 'publishing flows failed');
    rejectFinished(e);
    deps.onFailure?.(e);
  };
  const batcher = new FlowBatcher(deps.bus, opts.batchSize, opts.flushMs, (_flows, messages) => m.published.inc(messages), (e) => fail(undefined, e));

  return {
    finished,
    async start() {
      if (started) return;
      started = true;
      const finite: Promise<void>[] = [];
      opts.sources.forEach((src, i) => {
        const h = health[i];
        h.state = 'running';
        if (src.kind === 'conntrack') {
          const reader = startConntrack(src, opts.node, sinkFor(h, 'conntrack'), (line) => log.warn({ source: h.name, stderr: line }, 'conntrack says'));
          live.push(reader);
          reader.done.then(() => { h.state = 'done'; }, (e: Error) => { if (!stopped) fail(h, e); });
          log.info({ source: h.name, argv: reader.child.spawnargs.join(' ') }, 'reading live conntrack events');
        } else {
          const stats = new ParseStats();
          log.info({ source: h.name, format: src.format, speed: src.speed }, 'replaying capture');
          const run = replayFile(src, opts.node, sinkFor(h, 'replay'), stats, abort.signal).then(async () => {
            if (abort.signal.aborted) { h.state = 'done'; return; }
            await batcher.flush();
            h.state = 'done';
            log.info({ source: h.name, parsed: stats.parsed, rejected: stats.rejected, skipped: stats.skipped, byReason: Object.fromEntries(stats.byReason) }, 'replay done');
            m.skipped.inc({ source: 'replay' }, stats.skipped);
          }, (e: Error) => { fail(h, e); });
          replays.push(run);
          finite.push(run);
        }
      });
      if (finite.length > 0 && finite.length === opts.sources.length) {
        void Promise.all(finite).then(() => { if (health.every((h) => h.state !== 'failed')) resolveFinished(); });
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      abort.abort();
      for (const r of live) r.child.kill('SIGTERM');
      // wait until every source has stopped reading: nothing is published after stop()
      await Promise.allSettled([...live.map((r) => r.done), ...replays]);
      await batcher.flush().catch((e: Error) => log.error({ err: e.message }, 'final flush failed'));
      resolveFinished();
    },
    health() {
      return { ok: health.every((h) => h.state !== 'failed'), sources: health.map((h) => ({ ...h, byReason: { ...h.byReason } })) };
    },
  };
}
