import { Counter, Histogram, metric, type Registry } from '@floe/telemetry';

/** Processor metrics (STYLE.md 13): what moves is counted, each step is timed and counted by outcome. */
export function processorMetrics(registry: Registry) {
  return {
    flows: metric(
      registry,
      'floe_processor_flows_received_total',
      () =>
        new Counter({
          name: 'floe_processor_flows_received_total',
          help: 'Flow records received from floe.flows.v1 and handled (stored or dead-lettered).',
          registers: [registry],
        }),
    ),
    findings: metric(
      registry,
      'floe_processor_findings_total',
      () =>
        new Counter({
          name: 'floe_processor_findings_total',
          help: 'Findings emitted, by detector or policy rule.',
          labelNames: ['detector', 'severity'],
          registers: [registry],
        }),
    ),
    outcomes: metric(
      registry,
      'floe_processor_response_outcomes_total',
      () =>
        new Counter({
          name: 'floe_processor_response_outcomes_total',
          help: 'Responder outcomes for findings, by kind and cause.',
          labelNames: ['kind', 'cause'],
          registers: [registry],
        }),
    ),
    gaps: metric(
      registry,
      'floe_processor_gaps_stored_total',
      () =>
        new Counter({
          name: 'floe_processor_gaps_stored_total',
          help: 'DataGap records read from floe.gaps.v1 and stored (data_gaps), by kind (enobufs, silent, rejected).',
          labelNames: ['kind'],
          registers: [registry],
        }),
    ),
    failedBatches: metric(
      registry,
      'floe_processor_batches_failed_total',
      () =>
        new Counter({
          name: 'floe_processor_batches_failed_total',
          help: 'Batches whose outputs could not be made safe (left uncommitted, redelivered).',
          registers: [registry],
        }),
    ),
    retries: metric(
      registry,
      'floe_processor_step_retries_total',
      () =>
        new Counter({
          name: 'floe_processor_step_retries_total',
          help: 'Output steps retried after a retriable error, by step.',
          labelNames: ['step'],
          registers: [registry],
        }),
    ),
    stepOutcomes: metric(
      registry,
      'floe_processor_step_outcomes_total',
      () =>
        new Counter({
          name: 'floe_processor_step_outcomes_total',
          help: 'Step runs by step and outcome (ok, retry, dead-letter).',
          labelNames: ['step', 'outcome'],
          registers: [registry],
        }),
    ),
    stalls: metric(
      registry,
      'floe_processor_step_stalls_total',
      () =>
        new Counter({
          name: 'floe_processor_step_stalls_total',
          help: 'Step runs that outlasted the stall threshold, by step.',
          labelNames: ['step'],
          registers: [registry],
        }),
    ),
    deadLetters: metric(
      registry,
      'floe_deadletter_total',
      () =>
        new Counter({
          name: 'floe_deadletter_total',
          help: 'Messages and records sent to floe.deadletter.v1 and the dead_letters table, by reason.',
          labelNames: ['reason'],
          registers: [registry],
        }),
    ),
    step: metric(
      registry,
      'floe_processor_step_seconds',
      () =>
        new Histogram({
          name: 'floe_processor_step_seconds',
          help: 'Time per batch in each processor step.',
          labelNames: ['step'],
          buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
          registers: [registry],
        }),
    ),
  };
}

/** The metric handles of one processor. */
export type ProcessorMetrics = ReturnType<typeof processorMetrics>;
