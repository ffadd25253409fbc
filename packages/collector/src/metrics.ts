import { Counter, Gauge, metric, type Registry } from '@floe/telemetry';

/** Collector metrics: every flow that moves is counted, every rejected line has a reason. */
export function collectorMetrics(registry: Registry) {
  return {
    flows: metric(
      registry,
      'floe_collector_flows_total',
      () =>
        new Counter({
          name: 'floe_collector_flows_total',
          help: 'Flow records parsed and published, by source.',
          labelNames: ['source'],
          registers: [registry],
        }),
    ),
    rejected: metric(
      registry,
      'floe_collector_rejected_total',
      () =>
        new Counter({
          name: 'floe_collector_rejected_total',
          help: 'Input lines rejected by the parser, by source and reason.',
          labelNames: ['source', 'reason'],
          registers: [registry],
        }),
    ),
    skipped: metric(
      registry,
      'floe_collector_skipped_lines_total',
      () =>
        new Counter({
          name: 'floe_collector_skipped_lines_total',
          help: 'Input lines that carry no record (headers, summaries), by source.',
          labelNames: ['source'],
          registers: [registry],
        }),
    ),
    eventsLost: metric(
      registry,
      'floe_collector_events_lost_total',
      () =>
        new Counter({
          name: 'floe_collector_events_lost_total',
          help: 'Kernel event loss reports of a live source (conntrack -E "We have hit ENOBUFS! We are losing events.": each means one or more events lost), by source and node.',
          labelNames: ['source', 'node'],
          registers: [registry],
        }),
    ),
    silent: metric(
      registry,
      'floe_collector_source_silent',
      () =>
        new Gauge({
          name: 'floe_collector_source_silent',
          help: '1 while a live source has given no line for collector.silentAfterMs, else 0; by source and node.',
          labelNames: ['source', 'node'],
          registers: [registry],
        }),
    ),
    silences: metric(
      registry,
      'floe_collector_source_silent_total',
      () =>
        new Counter({
          name: 'floe_collector_source_silent_total',
          help: 'Times a live source went silent (no line for collector.silentAfterMs), by source and node.',
          labelNames: ['source', 'node'],
          registers: [registry],
        }),
    ),
    gaps: metric(
      registry,
      'floe_collector_gaps_published_total',
      () =>
        new Counter({
          name: 'floe_collector_gaps_published_total',
          help: 'DataGap records published to floe.gaps.v1, by kind (enobufs, silent, rejected).',
          labelNames: ['kind'],
          registers: [registry],
        }),
    ),
    published: metric(
      registry,
      'floe_collector_published_messages_total',
      () =>
        new Counter({
          name: 'floe_collector_published_messages_total',
          help: 'Bus messages published to floe.flows.v1.',
          registers: [registry],
        }),
    ),
  };
}
export type CollectorMetrics = ReturnType<typeof collectorMetrics>;
