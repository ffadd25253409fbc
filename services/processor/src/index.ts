import type { Decision, Finding, FlowRecord } from '@floe/flow';
import { TOPICS, type Bus, type BusBatch } from '@floe/bus';
import type { Store } from '@floe/store';
import type { Responder } from '@floe/respond';
import { createRegistry, silentLogger, type Logger, type Registry } from '@floe/telemetry';
import type { Pipeline } from './pipeline.js';
import { processorMetrics } from './metrics.js';
import { createDecisionWriter, type DecisionWriter } from './decisions.js';

export * from './pipeline.js';
export * from './decisions.js';

/** Processor options (the `processor` configuration section). */
export interface ProcessorOptions {
  /** Consumer group on floe.flows.v1. */
  group: string;
  /** Write every flow to the store. */
  storeFlows: boolean;
  /** Retries of a failing output step before the batch is rejected (default 5: 0.1+0.2+...+1.6 s). */
  retries?: number;
}

export interface ProcessorDeps {
  bus: Bus;
  store: Store;
  pipeline: Pipeline;
  responder: Responder;
  logger?: Logger;
  metrics?: Registry;
  /** Wall clock for decision times (ms since epoch). */
  now?: () => number;
  /** Called with each decision made, after it is stored and published (for progress output). */
  onDecision?: (d: Decision, f: Finding) => void;
  onFinding?: (f: Finding) => void;
}

/** The processor role. Consumes flows, and commits a batch only after its outputs are safe. */
export interface Processor {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly decisions: DecisionWriter;
  /** Counts so far; `flows` lets a replay wait until everything it published was handled. */
  health(): { ok: boolean; flows: number; findings: number; decisions: number; lastBatchAt?: number };
}

/**
 * Steps per batch, timed by name: analyze (classify + policy + detectors), respond (findings ->
 * decisions), decide (store and publish decisions, first, so enforcers act at once), persist
 * (refusal audits, findings, flows), publish (findings topic). The handler resolves, and the bus
 * commits the batch, only after all of them succeeded (at-least-once; store writes are
 * idempotent by key). A step that keeps failing rejects the handler and the batch is redelivered.
 */
export function createProcessor(opts: ProcessorOptions, deps: ProcessorDeps): Processor {
  const log = (deps.logger ?? silentLogger()).child({ component: 'processor' });
  const m = processorMetrics(deps.metrics ?? createRegistry({ defaultMetrics: false }));
  const now = deps.now ?? Date.now;
  const writer = createDecisionWriter({ store: deps.store, bus: deps.bus, responder: deps.responder });
  const counts = { flows: 0, findings: 0, decisions: 0, lastBatchAt: undefined as number | undefined };
  let started = false;

  const timed = async <T>(step: string, fn: () => Promise<T> | T): Promise<T> => {
    const end = m.step.startTimer({ step });
    try { return await fn(); } finally { end(); }
  };

  /**
   * Runs an output step, retrying it (opts.retries times, backoff doubling from 100 ms) before
   * giving up. The analysis of a batch changes detector state, so a redelivered batch would not
   * raise its findings again: outputs are retried here, and only a step that keeps failing
   * rejects the batch (counted in floe_processor_batches_failed_total).
   */
  const retrying = async (step: string, fn: () => Promise<void>): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await timed(step, fn);
      } catch (e) {
        if (attempt >= (opts.retries ?? 5)) throw e;
        m.retries.inc({ step });
        log.warn({ step, attempt: attempt + 1, err: (e as Error).message }, 'output step failed; retrying');
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  };

  const handle = async (batch: BusBatch<FlowRecord[]>) => {
    try {
      const flows: FlowRecord[] = [];
      const findings: Finding[] = [];
      await timed('analyze', () => {
        for (const msg of batch.messages) {
          if (!msg.value) continue;
          for (const raw of msg.value) {
            const r = deps.pipeline.process(raw);
            flows.push(r.flow);
            for (const f of r.findings) findings.push(f);
          }
        }
      });
      const outcomes = await timed('respond', () => findings.map((f) => ({ f, o: deps.responder.respond(f, now()) })));
      const made: Array<{ d: Decision; f: Finding }> = [];
      // Decisions first: an enforcer must not wait for this batch's flows to be stored. An
      // outcome stored by a failed attempt is not stored (and audited) again by the retry.
      let stored = 0;
      await retrying('decide', async () => {
        for (; stored < outcomes.length; stored++) {
          const { f, o } = outcomes[stored];
          const d = await writer.store(o);
          if (d) made.push({ d, f });
        }
        await writer.publish(made.map(({ d }) => d));
      });
      await retrying('persist', async () => {
        if (findings.length) await deps.store.insertFindings(findings);
        if (opts.storeFlows && flows.length) await deps.store.insertFlows(flows);
      });
      await retrying('publish', async () => {
        if (findings.length) await deps.bus.publish(TOPICS.findings, findings.map((f) => ({ key: f.id, value: f })));
      });
      for (const { f, o } of outcomes) {
        m.outcomes.inc({ kind: o.kind, cause: o.kind === 'decision' ? o.audit.change : o.cause });
        if (o.kind === 'refused') log.warn({ target: o.audit.target, cause: o.cause, finding: f.id }, 'block refused');
      }
      counts.flows += flows.length;
      counts.findings += findings.length;
      counts.decisions += made.length;
      counts.lastBatchAt = now();
      m.flows.inc(flows.length);
      for (const f of findings) {
        m.findings.inc({ detector: f.detector, severity: f.severity });
        log.info({ finding: f.id, detector: f.detector, severity: f.severity, entity: f.entity.addr, summary: f.summary }, 'finding');
        deps.onFinding?.(f);
      }
      for (const { d, f } of made) {
        log.info({ target: d.target, expiresAt: new Date(d.expiresAt).toISOString(), dryRun: d.dryRun, finding: f.id }, 'block decision');
        deps.onDecision?.(d, f);
      }
    } catch (e) {
      m.failedBatches.inc();
      log.error({ err: (e as Error).message, partition: batch.partition }, 'batch failed; left uncommitted for redelivery');
      throw e;
    }
  };

  return {
    decisions: writer,
    async start() {
      if (started) return;
      started = true;
      await deps.bus.subscribe<FlowRecord[]>(TOPICS.flows, { group: opts.group }, handle);
      log.info({ group: opts.group }, 'processor consuming floe.flows.v1');
    },
    async stop() { /* the bus stops delivery and waits for in-flight handlers */ },
    health() {
      return { ok: true, ...counts };
    },
  };
}
