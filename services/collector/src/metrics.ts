import { Counter, metric, type Registry } from '@floe/telemetry';

/** Collector metrics: every flow that moves is counted, every rejected line has a reason. */
export function collectorMetrics(registry: Registry) {
  return {
    flows: metric(registry, 'floe_collector_flows_total', () => new Counter({
      name: 'floe_collector_flows_total', help: 'Flow records parsed and published, by source.', labelNames: ['source'], registers: [registry],
    })),
    rejected: metric(registry, 'floe_collector_rejected_total', () => new Counter({
      name: 'floe_collector_rejected_total', help: 'Input lines rejected by the parser, by source and reason.', labelNames: ['source', 'reason'], registers: [registry],
    })),
    skipped: metric(registry, 'floe_collector_skipped_lines_total', () => new Counter({
      name: 'floe_collector_skipped_lines_total', help: 'Input lines that carry no record (headers, summaries), by source.', labelNames: ['source'], registers: [registry],
    })),
    published: metric(registry, 'floe_collector_published_messages_total', () => new Counter({
      name: 'floe_collector_published_messages_total', help: 'Bus messages published to floe.flows.v1.', registers: [registry],
    })),
  };
}
export type CollectorMetrics = ReturnType<typeof collectorMetrics>;
