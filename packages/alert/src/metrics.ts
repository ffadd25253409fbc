import { Counter, Gauge, metric, type Registry } from '@floe/telemetry';

/** The floe_alert_* metrics (docs/metrics.md): per sink name, drops and dead letters with their cause. */
export interface AlertMetrics {
  /** Deliveries a receiver accepted. */
  sent: Counter<'sink'>;
  /** Delivery attempts that failed (each attempt, retried or not). */
  failed: Counter<'sink'>;
  /** Attempts after a failure. */
  retried: Counter<'sink'>;
  /** Deliveries given up (retry budget spent, a rejection, or the sink known down) and recorded as dead letters. */
  deadLettered: Counter<'sink' | 'cause'>;
  /** Dead letters delivered later, once the sink was back. */
  redelivered: Counter<'sink'>;
  /** Deliveries not queued or not kept: queue-full, expired (dead letter older than the window), stopped (left at shutdown). */
  dropped: Counter<'sink' | 'cause'>;
  /** Findings a route matched but that were not sent again: repeat (same detector and entity inside the group interval). */
  skipped: Counter<'route' | 'cause'>;
  /** Findings not routed because a suppression rule matched, by rule id. */
  suppressed: Counter<'rule'>;
  /** Deliveries waiting per sink. */
  queued: Gauge<'sink'>;
}

/** Registers (or reuses) the floe_alert_* metrics on `registry`. */
export function alertMetrics(registry: Registry): AlertMetrics {
  const c = <L extends string>(name: string, help: string, labelNames: L[]) =>
    metric(registry, name, () => new Counter<L>({ name, help, labelNames, registers: [registry] })) as Counter<L>;
  return {
    sent: c('floe_alert_sent_total', 'Alert deliveries a receiver accepted, by sink.', ['sink']),
    failed: c('floe_alert_failed_total', 'Alert delivery attempts that failed, by sink.', ['sink']),
    retried: c('floe_alert_retried_total', 'Alert delivery attempts after a failure, by sink.', ['sink']),
    deadLettered: c('floe_alert_dead_lettered_total', 'Alert deliveries given up and recorded as dead letters, by sink and cause.', ['sink', 'cause']),
    redelivered: c('floe_alert_redelivered_total', 'Dead-lettered alerts delivered once their sink was back, by sink.', ['sink']),
    dropped: c('floe_alert_dropped_total', 'Alert deliveries dropped, by sink and cause (queue-full, expired, stopped).', ['sink', 'cause']),
    skipped: c('floe_alert_skipped_total', 'Routed findings not sent again, by route and cause (repeat).', ['route', 'cause']),
    suppressed: c('floe_alert_suppressed_total', 'Findings not alerted because a suppression rule matched, by rule.', ['rule']),
    queued: metric(
      registry,
      'floe_alert_queued',
      () => new Gauge({ name: 'floe_alert_queued', help: 'Alert deliveries waiting, by sink.', labelNames: ['sink'], registers: [registry] }),
    ) as Gauge<'sink'>,
  };
}
