/** Metrics of the bus adapters (prom-client), registered on the registry passed in the adapter's deps. */
import { Counter, Gauge, Registry, metric, type Logger } from '@floe/telemetry/lite';

/** Metric names of the bus, one table (STYLE.md pattern 13; docs/metrics.md). */
export const BUS_METRICS = {
  published: 'floe_bus_messages_published_total',
  consumed: 'floe_bus_messages_consumed_total',
  undecodable: 'floe_bus_undecodable_total',
  handlerErrors: 'floe_bus_handler_errors_total',
  evicted: 'floe_bus_evicted_messages_total',
  lag: 'floe_bus_consumer_lag',
} as const;

/** Dependencies of a bus adapter: where it logs and where its metrics go. Both optional. */
export interface BusDeps {
  /** Parent logger; the adapter logs through a child `{ component: 'bus', adapter }`. Default: none. */
  logger?: Logger;
  /** prom-client registry for the `floe_bus_*` metrics; shared by every bus of a process. Default: a private one. */
  metrics?: Registry;
}

/** The bus metrics; label `topic` is the logical topic name (without `topicPrefix`). */
export interface BusMetrics {
  published: Counter<'topic'>;
  consumed: Counter<'topic'>;
  undecodable: Counter<'topic'>;
  handlerErrors: Counter<'topic'>;
  evicted: Counter<'topic'>;
  lag: Gauge<'topic' | 'partition' | 'group'>;
}

/**
 * Registers the bus metrics on `registry`, or returns the ones another bus of the process
 * registered there already (`metric`). Without a registry they go to a private one.
 */
export function createBusMetrics(registry: Registry = new Registry()): BusMetrics {
  const registers = [registry];
  const counter = (name: string, help: string): Counter<'topic'> => metric(registry, name, () => new Counter({ name, help, labelNames: ['topic'] as const, registers }));
  return {
    published: counter(BUS_METRICS.published, 'Messages the bus accepted from publishers (Kafka: acknowledged by the broker), by topic'),
    consumed: counter(BUS_METRICS.consumed, 'Messages whose batch handler resolved and whose offset was committed, by topic'),
    undecodable: counter(BUS_METRICS.undecodable, 'Messages read whose value could not be decoded (Kafka: not JSON), by topic'),
    handlerErrors: counter(BUS_METRICS.handlerErrors, 'Batch handler rejections (each leads to a redelivery of the batch), by topic'),
    evicted: counter(BUS_METRICS.evicted, 'Messages the in-process bus dropped by retention (maxRetainedPerPartition) before every consumer group read them, by topic'),
    lag: metric(
      registry,
      BUS_METRICS.lag,
      () =>
        new Gauge({
          name: BUS_METRICS.lag,
          help: 'Messages of a partition a consumer group has not committed yet (end offset minus committed offset), by topic, partition and group',
          labelNames: ['topic', 'partition', 'group'] as const,
          registers,
        }),
    ),
  };
}
