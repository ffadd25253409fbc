import type { Decision, Finding, FlowRecord } from '@floe/flow';
import { TOPICS, undecodableDeadLetter, type Bus, type BusBatch, type Subscription } from '@floe/bus';
import type { Store } from '@floe/store';
import { createDecisionWriter, type DecisionWriter, type Responder } from '@floe/respond';
import { createRegistry, silentLogger, type Logger, type Registry } from '@floe/telemetry';
import type { Pipeline } from './analysis.js';
import { createDeadLetterSink, deadLetterOf, type DeadLetterOrigin } from './deadletter.js';
import { createGapHandler } from './gaps.js';
import { PIPELINE_ERROR_CODES, PipelineError, messageOf } from './errors.js';
import { processorMetrics } from './metrics.js';
import { createRunner, RUNNER_DEFAULTS } from './runner.js';
import { createWindowCloser, type WindowCloserOptions } from './closer.js';
import type { BatchState } from './step.js';
import { decodeStep } from './steps/decode.js';
import { enrichStep } from './steps/enrich.js';
import { policyStep } from './steps/policy.js';
import { detectStep } from './steps/detect.js';
import { scoreStep } from './steps/score.js';
import { decideStep } from './steps/decide.js';
import { persistStep } from './steps/persist.js';
import { publishStep } from './steps/publish.js';

/** Processor options (the `processor` configuration section). */
export interface ProcessorOptions {
  /** Consumer group on floe.flows.v1; floe.gaps.v1 is read by `<group>-gaps` (gapsGroup). */
  group: string;
  /** Write every flow to the store. */
  storeFlows: boolean;
  /** Retries of a failing output step before the batch is rejected (default 5: 0.1+0.2+...+1.6 s). */
  retries?: number;
  /** A step running longer than this (ms) is logged as stalled (default 10 000). */
  stallMs?: number;
  /**
   * Most records per chunk of a batch (default 50 000): a larger batch (the in-process bus hands up
   * to 500 messages at once) is analysed chunk by chunk, and the outputs of a chunk (decide,
   * persist, publish, dead letters; in chunk order) run while the next chunk is analysed. The
   * batch is committed once every chunk's outputs succeeded. Chunks shrink towards the batch's
   * end (`tailChunkRecords`). Smaller chunks cost more per flow (measured: 2 000 records per chunk
   * took about 25 % more CPU in bench/pipeline.bench.ts), so only the last few are small.
   */
  chunkRecords?: number;
  /**
   * Records of a batch's last chunk (default 2 000); each earlier chunk holds twice as many as the
   * next, up to `chunkRecords`. Analysis costs about three times what storing a flow costs
   * (bench/pipeline.bench.ts), so a chunk's outputs finish while the next, half as large, is
   * analysed, and only the small last chunk's outputs wait with nothing to overlap them.
   */
  tailChunkRecords?: number;
  /** When the detectors' windows are closed on an idle stream (closer.ts). */
  closer?: WindowCloserOptions;
}

/** What the processor is built on. */
export interface ProcessorDeps {
  bus: Bus;
  store: Store;
  pipeline: Pipeline;
  responder: Responder;
  logger?: Logger;
  metrics?: Registry;
  /** Wall clock for decision and dead-letter times (ms since epoch). */
  now?: () => number;
  /** Called with each decision made, after it is stored and published (for progress output). */
  onDecision?: (d: Decision, f: Finding) => void;
  onFinding?: (f: Finding) => void;
  /**
   * Called once when the consumer died (FLOE_PIPELINE_CONSUMER_DIED): health is false from then
   * on; the service should stop and exit non-zero (runtime: ServiceContext.fail).
   */
  onFailure?: (err: Error) => void;
}

/** Health of the processor: `ok` is false once its consumer died. */
export interface ProcessorHealth {
  ok: boolean;
  /** Records received and handled (stored or dead-lettered). */
  flows: number;
  findings: number;
  decisions: number;
  /** Messages and records dead-lettered. */
  deadLetters: number;
  /** DataGap records read from floe.gaps.v1 and stored. */
  gaps: number;
  lastBatchAt?: number;
  /** Why the consumer died. */
  error?: string;
}

/** The consumer group of floe.gaps.v1 for a processor of `group`: its own group, so the flows' consumers are not rebalanced by it. */
export function gapsGroup(group: string): string {
  return `${group}-gaps`;
}

/** The processor role. Consumes flows, and commits a batch only after its outputs are safe. */
export interface Processor {
  /** Subscribes to floe.flows.v1 and floe.gaps.v1. Safe twice. */
  start(): Promise<void>;
  /**
   * Stops consuming: waits for the in-flight batches, their outputs and their commits, then
   * writes the final form of every open detector finding (end of input). Safe twice.
   */
  stop(): Promise<void>;
  /**
   * End of input without stopping (a replay that was fully processed): the final form of every
   * open detector finding goes through the output steps (stored, published, decided on).
   */
  flush(): Promise<void>;
  readonly decisions: DecisionWriter;
  health(): ProcessorHealth;
}

/**
 * The stream processor: each batch of floe.flows.v1 goes through the named steps decode → enrich →
 * policy → detect → score → decide → persist → publish (steps/, one file each), run by the runner
 * (runner.ts), then its dead letters go to the `dead_letters` table and floe.deadletter.v1. The
 * handler resolves, and the bus commits the batch, only after all of them succeeded
 * (at-least-once; store writes are idempotent by key). Messages that are not JSON reach the
 * dead-letter path through the bus's onUndecodable. A record the processor cannot handle is
 * dead-lettered and the partition moves on; an outage (retriable) leaves the batch uncommitted
 * and it is redelivered. When the bus gives up on a consumer, health turns false and
 * `onFailure` is called.
 *
 * It also reads floe.gaps.v1 (group `<group>-gaps`): each DataGap's schema version and shape are
 * checked, bad ones dead-lettered, good ones stored in `data_gaps` (gaps.ts); committed after stored.
 */
export function createProcessor(opts: ProcessorOptions, deps: ProcessorDeps): Processor {
  const log = (deps.logger ?? silentLogger()).child({ component: 'processor' });
  const m = processorMetrics(deps.metrics ?? createRegistry({ defaultMetrics: false }));
  const now = deps.now ?? Date.now;
  const writer = createDecisionWriter({ store: deps.store, bus: deps.bus, responder: deps.responder });
  const runnerOpts = { ...RUNNER_DEFAULTS, retries: opts.retries ?? RUNNER_DEFAULTS.retries, stallMs: opts.stallMs ?? RUNNER_DEFAULTS.stallMs };
  const runner = createRunner(
    [
      decodeStep,
      enrichStep(deps.pipeline),
      policyStep(deps.pipeline),
      detectStep(deps.pipeline),
      scoreStep(deps.pipeline, (err) => log.error({ err: messageOf(err) }, 'scoring windows failed; their model findings are lost, the batch goes on')),
      decideStep({ responder: deps.responder, writer, now, store: deps.store }),
      persistStep({ store: deps.store, storeFlows: opts.storeFlows }),
      publishStep({ bus: deps.bus }),
    ],
    { metrics: m, logger: log, sink: createDeadLetterSink({ store: deps.store, bus: deps.bus }) },
    runnerOpts,
  );
  const counts = { flows: 0, findings: 0, decisions: 0, deadLetters: 0, gaps: 0, lastBatchAt: undefined as number | undefined };
  const handleGaps = createGapHandler({ store: deps.store, runner, metrics: m, logger: log, group: gapsGroup(opts.group), now, opts: runnerOpts });
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  let sub: Subscription | undefined;
  let gapSub: Subscription | undefined;
  let died: Error | undefined;
  /** Batches being handled: the window closer waits for none. */
  let inFlight = 0;

  const stateOf = (batch: BusBatch<unknown>): BatchState => {
    const origin: DeadLetterOrigin = { topic: batch.topic, partition: batch.partition, group: opts.group, at: now() };
    const state: BatchState = {
      batch,
      received: 0,
      items: [],
      flows: [],
      flowItems: [],
      findings: [],
      stored: 0,
      made: [],
      deadLetters: [],
      deadLetter(target, reason, step, err) {
        if ('item' in target) {
          target.item.dead = true;
          state.deadLetters.push(deadLetterOf(origin, target.item.msg, reason, step, err, { index: target.item.index, value: target.item.raw }));
        } else {
          state.deadLetters.push(deadLetterOf(origin, target.msg, reason, step, err));
        }
      },
    };
    return state;
  };

  const chunkRecords = opts.chunkRecords ?? 50_000;
  const tailChunkRecords = Math.min(opts.tailChunkRecords ?? 2000, chunkRecords);
  /**
   * The batch's messages in chunks of whole messages, cut from the end: the last holds about
   * `tailChunkRecords` records, each earlier one about twice the next, at most `chunkRecords`.
   */
  const chunksOf = (batch: BusBatch<unknown>): BusBatch<unknown>[] => {
    const msgs = batch.messages;
    const out: BusBatch<unknown>[] = [];
    let end = msgs.length;
    let want = tailChunkRecords;
    let n = 0;
    for (let i = msgs.length - 1; i >= 0; i--) {
      const v = msgs[i].value;
      n += Array.isArray(v) ? v.length : 1;
      if (n >= want || i === 0) {
        out.push({ ...batch, messages: msgs.slice(i, end) });
        end = i;
        n = 0;
        want = Math.min(want * 2, chunkRecords);
      }
    }
    return out.reverse();
  };

  /**
   * One batch's analysis at a time, across partitions: analyses share the one JavaScript thread
   * anyway, and interleaved they would all end together and queue every output at the end; in
   * turn, one batch's outputs (store I/O) run while the next batch is analysed.
   */
  let analysing: Promise<void> = Promise.resolve();
  const analyzeInTurn = (state: BatchState): Promise<void> => {
    const run = analysing.then(() => runner.analyze(state));
    analysing = run.catch(() => undefined);
    return run;
  };

  const handle = async (batch: BusBatch<unknown>): Promise<void> => {
    inFlight++;
    try {
      await handleBatch(batch);
    } finally {
      inFlight--;
    }
  };

  const handleBatch = async (batch: BusBatch<unknown>): Promise<void> => {
    const states: BatchState[] = [];
    // Outputs of chunk k run (in order) while chunk k+1 is analysed: store I/O overlaps analysis.
    let outputs: Promise<void> = Promise.resolve();
    try {
      const chunks = chunksOf(batch);
      for (const [i, chunk] of chunks.entries()) {
        const state = stateOf(chunk);
        states.push(state);
        await analyzeInTurn(state);
        closer.observed(state.flows);
        outputs = outputs.then(() => runner.output(state));
        outputs.catch(() => undefined); // awaited below; a failure skips the later chunks' outputs
        if (i < chunks.length - 1) await new Promise((r) => setImmediate(r));
      }
      await outputs;
    } catch (e) {
      await outputs.catch(() => undefined); // nothing of this batch still writing when the bus redelivers it
      m.failedBatches.inc();
      log.error({ err: messageOf(e), topic: batch.topic, partition: batch.partition }, 'batch failed; left uncommitted for redelivery');
      throw e;
    }
    for (const state of states) account(state);
  };

  /** Counts, metrics, logs and callbacks of one chunk whose outputs are safe. */
  const account = (state: BatchState): void => {
    const received = state.received;
    for (const { f, o } of state.outcomes ?? []) {
      m.outcomes.inc({ kind: o.kind, cause: o.kind === 'decision' ? o.audit.change : o.cause });
      if (o.kind === 'refused') log.warn({ target: o.audit.target, cause: o.cause, finding: f.id }, 'block refused');
    }
    counts.flows += received;
    counts.findings += state.findings.length;
    counts.decisions += state.made.length;
    counts.deadLetters += state.deadLetters.length;
    counts.lastBatchAt = now();
    m.flows.inc(received);
    for (const f of state.findings) {
      m.findings.inc({ detector: f.detector, severity: f.severity });
      log.info({ finding: f.id, detector: f.detector, severity: f.severity, entity: f.entity.addr, summary: f.summary }, 'finding');
      deps.onFinding?.(f);
    }
    for (const { d, f } of state.made) {
      log.info({ target: d.target, expiresAt: new Date(d.expiresAt).toISOString(), dryRun: d.dryRun, finding: f.id }, 'block decision');
      deps.onDecision?.(d, f);
    }
  };

  /** Final forms of findings whose windows closed without a record (idle stream, end of input): through the output steps. */
  const closer = createWindowCloser(
    {
      pipeline: deps.pipeline,
      busy: () => inFlight > 0,
      async write(findings) {
        const state = stateOf({ topic: TOPICS.flows, partition: -1, messages: [] });
        state.findings = findings;
        await runner.output(state);
        account(state);
      },
      onError: (err) => log.error({ err: messageOf(err) }, 'final findings of closed windows not written (their earlier forms are stored)'),
    },
    opts.closer,
  );

  const onDeathOf =
    (topic: string, group: string) =>
    (err: Error): void => {
      if (died || stopping) return;
      died = new PipelineError(PIPELINE_ERROR_CODES.CONSUMER_DIED, `the consumer of ${topic} (group ${group}) died: ${err.message}`, { cause: err });
      log.error({ err: err.message, topic, group }, 'consumer died; the processor is unhealthy');
      deps.onFailure?.(died);
    };

  return {
    decisions: writer,
    start() {
      starting ??= (async () => {
        sub = await deps.bus.subscribe<FlowRecord[]>(
          TOPICS.flows,
          {
            group: opts.group,
            onUndecodable: async (u) => {
              await runner.writeDeadLetters([undecodableDeadLetter(u, opts.group, 'decode', now())]);
              counts.deadLetters++;
            },
            onDeath: onDeathOf(TOPICS.flows, opts.group),
          },
          handle,
        );
        closer.start();
        const gg = gapsGroup(opts.group);
        gapSub = await deps.bus.subscribe<unknown>(
          TOPICS.gaps,
          {
            group: gg,
            onUndecodable: async (u) => {
              await runner.writeDeadLetters([undecodableDeadLetter(u, gg, 'decode-gaps', now())]);
              counts.deadLetters++;
            },
            onDeath: onDeathOf(TOPICS.gaps, gg),
          },
          async (batch) => {
            const r = await handleGaps(batch);
            counts.gaps += r.stored;
            counts.deadLetters += r.deadLetters;
          },
        );
        log.info({ group: opts.group, gapsGroup: gg }, 'processor consuming floe.flows.v1 and floe.gaps.v1');
      })();
      return starting;
    },
    stop() {
      stopping ??= (async () => {
        if (starting) await starting.catch(() => undefined);
        await Promise.all([sub?.close(), gapSub?.close()]);
        await closer.stop();
        if (!died) await closer.flush();
        log.info({ group: opts.group, ...counts }, 'processor stopped; in-flight batches committed');
      })();
      return stopping;
    },
    flush: () => closer.flush(),
    health() {
      const h: ProcessorHealth = { ok: died === undefined, ...counts };
      if (died) h.error = died.message;
      return h;
    },
  };
}
