import { escapeText, ParseStats, type DataGap, type FlowRecord, type ParseError } from '@floe/flow';
import { TOPICS, type Bus } from '@floe/bus';
import { createRegistry, silentLogger, type Logger, type Registry } from '@floe/telemetry';
import type { CollectorOptions, CollectorSource } from './config.js';
import { collectorMetrics } from './metrics.js';
import { FlowBatcher } from './batcher.js';
import { GapTracker } from './gaps.js';
import { DEFAULT_GAP_INTERVAL_MS, DEFAULT_SILENT_AFTER_MS } from './config.js';
import { replayFile, startConntrack, type LiveReader } from './sources.js';

export * from './config.js';
export { conntrackAvailable, conntrackEventArgs, CONNTRACK_EVENT_ARGS } from './sources.js';
export { GapTracker } from './gaps.js';

/** State of one source, for health and summaries. */
export interface SourceHealth {
  kind: CollectorSource['kind'];
  name: string;
  state: 'idle' | 'running' | 'done' | 'failed';
  flows: number;
  rejected: number;
  byReason: Record<string, number>;
  /** conntrack ENOBUFS warnings seen (events lost). */
  eventsLost: number;
  /** True while a live source is silent (no line for silentAfterMs). */
  silent: boolean;
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
    kind: s.kind,
    name: s.kind === 'replay' ? s.file : `conntrack${s.netns ? `@${s.netns}` : ''}`,
    state: 'idle',
    flows: 0,
    rejected: 0,
    byReason: {},
    eventsLost: 0,
    silent: false,
  }));
  // Gap and metric labels name a source kind (`conntrack`, `conntrack@NETNS`, `replay`), never a file path.
  const gapSource = (h: SourceHealth): string => (h.kind === 'replay' ? 'replay' : h.name);
  const gaps = new GapTracker(opts.node, opts.silentAfterMs ?? DEFAULT_SILENT_AFTER_MS);
  const publishGaps = async (list: DataGap[]): Promise<void> => {
    if (list.length === 0) return;
    for (const g of list) {
      m.gaps.inc({ kind: g.kind });
      log.warn(
        { source: g.source, kind: g.kind, from: new Date(g.from).toISOString(), to: new Date(g.to).toISOString(), count: g.count },
        'input gap: data from this source is incomplete',
      );
    }
    await deps.bus.publish(
      TOPICS.gaps,
      list.map((g) => ({ key: `${g.node}/${g.source}`, value: g })),
    );
  };
  let gapTimer: NodeJS.Timeout | undefined;
  const gapTick = () => {
    const t = gaps.tick();
    for (const src of t.wentSilent) {
      const h = health.find((x) => gapSource(x) === src);
      if (h) h.silent = true;
      m.silent.set({ source: src, node: opts.node }, 1);
      m.silences.inc({ source: src, node: opts.node });
      log.warn({ source: src, silentAfterMs: opts.silentAfterMs ?? DEFAULT_SILENT_AFTER_MS }, 'live source is silent: no line read; findings over this time may miss data');
    }
    publishGaps(t.gaps).catch((e: Error) => log.error({ err: e.message }, 'publishing input gaps failed'));
  };
  let resolveFinished!: () => void;
  let rejectFinished!: (e: Error) => void;
  const finished = new Promise<void>((res, rej) => {
    resolveFinished = res;
    rejectFinished = rej;
  });
  finished.catch(() => undefined);
  let started = false;
  let stopped = false;

  /** `label`: the source kind (`conntrack` live, `replay`) for metric labels, never a file path. */
  const sinkFor = (h: SourceHealth, label: 'conntrack' | 'replay') => {
    const src = gapSource(h);
    return {
      flow(flow: FlowRecord) {
        h.flows++;
        m.flows.inc({ source: flow.source });
        gaps.flow(src, flow.observedAt);
        return batcher.add(flow);
      },
      rejected(e: ParseError) {
        h.rejected++;
        h.byReason[e.reason] = (h.byReason[e.reason] ?? 0) + 1;
        m.rejected.inc({ source: label, reason: e.reason });
        gaps.rejected(src, e.reason);
        // Input text is escaped before it reaches a log (terminal escapes, bidi overrides).
        if (h.rejected <= 20)
          log.warn(
            {
              file: e.file === undefined ? undefined : escapeText(e.file),
              line: e.line,
              reason: escapeText(e.reason),
              field: e.field === undefined ? undefined : escapeText(e.field),
              bytes: e.bytes,
              text: escapeText(e.text.slice(0, 200)),
            },
            'rejected input line',
          );
        else if (h.rejected === 21) log.warn({ source: escapeText(h.name) }, 'more rejected lines: counted in floe_collector_rejected_total, not logged');
      },
      line() {
        const closed = gaps.line(src);
        if (closed !== undefined) {
          h.silent = false;
          m.silent.set({ source: src, node: opts.node }, 0);
          publishGaps([closed]).catch((e: Error) => log.error({ err: e.message }, 'publishing input gaps failed'));
        }
      },
      enobufs() {
        h.eventsLost++;
        m.eventsLost.inc({ source: src, node: opts.node });
        gaps.enobufs(src);
      },
    };
  };

  /** A source (or, with no source named, the publishing of batches) failed: the collector fails. */
  const fail = (h: SourceHealth | undefined, e: Error) => {
    for (const x of h ? [h] : health) {
      x.state = 'failed';
      x.error = e.message;
    }
    log.error({ source: h?.name ?? 'publish', err: e.message }, h ? 'source failed' : 'publishing flows failed');
    rejectFinished(e);
    deps.onFailure?.(e);
  };
  const batcher = new FlowBatcher(
    deps.bus,
    opts.batchSize,
    opts.flushMs,
    (_flows, messages) => m.published.inc(messages),
    (e) => fail(undefined, e),
  );

  return {
    finished,
    async start() {
      if (started) return;
      started = true;
      const finite: Promise<void>[] = [];
      opts.sources.forEach((src, i) => {
        const h = health[i];
        h.state = 'running';
        gaps.add(gapSource(h), src.kind === 'conntrack');
        if (src.kind === 'conntrack') {
          let said = 0;
          const reader = startConntrack(
            src,
            opts.node,
            sinkFor(h, 'conntrack'),
            (line) => {
              if (++said <= 50) log.warn({ source: h.name, stderr: escapeText(line) }, 'conntrack says');
              else if (said === 51) log.warn({ source: h.name }, 'more conntrack stderr lines: not logged (ENOBUFS counted in floe_collector_events_lost_total)');
            },
            opts.maxLineBytes,
          );
          live.push(reader);
          reader.done.then(
            () => {
              h.state = 'done';
            },
            (e: Error) => {
              if (!stopped) fail(h, e);
            },
          );
          log.info({ source: h.name, argv: reader.child.spawnargs.join(' ') }, 'reading live conntrack events');
        } else {
          const stats = new ParseStats();
          log.info({ source: h.name, format: src.format, speed: src.speed }, 'replaying capture');
          const run = replayFile(src, opts.node, sinkFor(h, 'replay'), stats, abort.signal, opts.maxLineBytes).then(
            async () => {
              if (abort.signal.aborted) {
                h.state = 'done';
                return;
              }
              await batcher.flush();
              await publishGaps(gaps.tick().gaps).catch((e: Error) => log.error({ err: e.message }, 'publishing input gaps failed'));
              h.state = 'done';
              log.info({ source: h.name, parsed: stats.parsed, rejected: stats.rejected, skipped: stats.skipped, byReason: Object.fromEntries(stats.byReason) }, 'replay done');
              m.skipped.inc({ source: 'replay' }, stats.skipped);
            },
            (e: Error) => {
              fail(h, e);
            },
          );
          replays.push(run);
          finite.push(run);
        }
      });
      gapTimer = setInterval(gapTick, opts.gapIntervalMs ?? DEFAULT_GAP_INTERVAL_MS);
      gapTimer.unref();
      if (finite.length > 0 && finite.length === opts.sources.length) {
        void Promise.all(finite).then(() => {
          if (health.every((h) => h.state !== 'failed')) resolveFinished();
        });
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      abort.abort();
      for (const r of live) r.child.kill('SIGTERM');
      // wait until every source has stopped reading: nothing is published after stop()
      await Promise.allSettled([...live.map((r) => r.done), ...replays]);
      if (gapTimer) clearInterval(gapTimer);
      await batcher.flush().catch((e: Error) => log.error({ err: e.message }, 'final flush failed'));
      if (started) await publishGaps(gaps.finish()).catch((e: Error) => log.error({ err: e.message }, 'publishing input gaps failed'));
      resolveFinished();
    },
    health() {
      return { ok: health.every((h) => h.state !== 'failed'), sources: health.map((h) => ({ ...h, byReason: { ...h.byReason } })) };
    },
  };
}
