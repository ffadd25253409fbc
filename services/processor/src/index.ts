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
 * decisions), persist (store flows, findings, decisions), publish (findings, decisions topics).
 * A failure in any step rejects the handler, so the bus redelivers the batch (at-least-once;
 * store writes are idempotent by key).
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
      await timed('persist', async () => {
        if (opts.storeFlows && flows.length) await deps.store.insertFlows(flows);
        if (findings.length) await deps.store.insertFindings(findings);
        for (const { f, o } of outcomes) {
          m.outcomes.inc({ kind: o.kind, cause: o.kind === 'decision' ? o.audit.change : o.cause });
          if (o.kind === 'decision') {
            await deps.store.upsertDecision(o.decision, o.audit);
            made.push({ d: o.decision, f });
          } else if (o.kind === 'refused') {
            await deps.store.appendAudit(o.audit);
            log.warn({ target: o.audit.target, cause: o.cause, finding: f.id }, 'block refused');
          }
        }
      });
      await timed('publish', async () => {
        if (findings.length) await deps.bus.publish(TOPICS.findings, findings.map((f) => ({ key: f.id, value: f })));
        if (made.length) await deps.bus.publish(TOPICS.decisions, made.map(({ d }) => ({ key: d.target, value: d })));
      });
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
