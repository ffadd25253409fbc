import { Counter, Gauge, Histogram, metric, type Registry } from '@floe/telemetry';

/** The floe_kube_* metrics (docs/metrics.md). */
export interface KubeMetrics {
  /** Address lookups of enrichment by side (src, dst, backend) and result (pod, node, service, miss). */
  lookups: Counter<'side' | 'result'>;
  /** Flows a NetworkPolicy would deny, by the side that denies (ingress, egress). */
  denied: Counter<'side'>;
  /** Informer events received by resource and type (add, update, delete). */
  events: Counter<'resource' | 'type'>;
  /** Watch delivery lag (s): when an add or delete event arrived minus the object's own creation / deletion time (whole seconds in the API). */
  eventLag: Histogram<'resource'>;
  /** How far (s) a flow's time was ahead of the cache's last event when it was enriched and missed (a pod the informer had not delivered yet). */
  missLag: Histogram;
  /** Objects held by resource. */
  objects: Gauge<'resource'>;
  /** Owner metadata GETs by result (ok, error). */
  owners: Counter<'result'>;
  /** Informer (re)connects and errors by resource. */
  watchErrors: Counter<'resource'>;
}

/** Registers (once per registry) and returns the floe_kube_* metrics. */
export function kubeMetrics(r: Registry): KubeMetrics {
  return {
    lookups: metric(
      r,
      'floe_kube_lookups_total',
      () =>
        new Counter({
          name: 'floe_kube_lookups_total',
          help: 'Address lookups of enrichment by side and result (pod, node, service, miss)',
          labelNames: ['side', 'result'],
          registers: [r],
        }),
    ),
    denied: metric(
      r,
      'floe_kube_netpol_denied_total',
      () => new Counter({ name: 'floe_kube_netpol_denied_total', help: 'Observed flows a NetworkPolicy would deny, by denying side', labelNames: ['side'], registers: [r] }),
    ),
    events: metric(
      r,
      'floe_kube_events_total',
      () => new Counter({ name: 'floe_kube_events_total', help: 'Informer events by resource and type', labelNames: ['resource', 'type'], registers: [r] }),
    ),
    eventLag: metric(
      r,
      'floe_kube_event_lag_seconds',
      () =>
        new Histogram({
          name: 'floe_kube_event_lag_seconds',
          help: 'Watch event arrival minus the object creation or deletion time (s)',
          labelNames: ['resource'],
          buckets: [0.5, 1, 2, 5, 10, 30, 60, 300],
          registers: [r],
        }),
    ),
    missLag: metric(
      r,
      'floe_kube_miss_lag_seconds',
      () =>
        new Histogram({
          name: 'floe_kube_miss_lag_seconds',
          help: 'Flow time minus the last informer event time, for flows whose address was not found (s)',
          buckets: [0, 1, 5, 30, 60, 300, 3600],
          registers: [r],
        }),
    ),
    objects: metric(
      r,
      'floe_kube_objects',
      () => new Gauge({ name: 'floe_kube_objects', help: 'Objects held by the enrichment cache by resource', labelNames: ['resource'], registers: [r] }),
    ),
    owners: metric(
      r,
      'floe_kube_owner_lookups_total',
      () => new Counter({ name: 'floe_kube_owner_lookups_total', help: 'Owner metadata GETs by result', labelNames: ['result'], registers: [r] }),
    ),
    watchErrors: metric(
      r,
      'floe_kube_watch_errors_total',
      () => new Counter({ name: 'floe_kube_watch_errors_total', help: 'Informer errors (the informer restarts) by resource', labelNames: ['resource'], registers: [r] }),
    ),
  };
}
