import type { Bus } from './bus.js';
import { BUS_ERROR_CODES, BusError } from './errors.js';
import { createMemoryBus, type MemoryBusOptions } from './memory.js';
import { createKafkaBus, type KafkaBusOptions } from './kafka.js';
import type { BusDeps } from './metrics.js';

/** Configuration of the in-process bus (the embedded default). */
export interface MemoryBusConfig extends MemoryBusOptions {
  kind: 'memory';
}

/** Configuration of the Kafka bus (scale-out, kafkajs; see kafka.ts for every option). */
export interface KafkaBusConfig extends KafkaBusOptions {
  kind: 'kafka';
}

/** Any bus configuration, chosen by `kind`. */
export type BusConfig = MemoryBusConfig | KafkaBusConfig;

/**
 * Creates the bus adapter named by `config.kind` (STYLE.md pattern 5: one factory, unknown
 * names rejected). Construction is inert; call `start()` on the result. `deps` carries the
 * logger (the adapter logs through a child `{ component: 'bus', adapter }`) and the prom-client
 * registry of the `floe_bus_*` metrics (metrics.ts).
 *
 * @throws BusError FLOE_BUS_UNKNOWN_KIND for an unknown kind.
 */
export function createBus(config: BusConfig, deps: BusDeps = {}): Bus {
  const kind = (config as { kind?: unknown } | undefined)?.kind;
  switch (kind) {
    case 'memory': {
      const { kind: _kind, ...opts } = config as MemoryBusConfig;
      return createMemoryBus(opts, deps);
    }
    case 'kafka': {
      const { kind: _kind, ...opts } = config as KafkaBusConfig;
      return createKafkaBus(opts, deps);
    }
    default:
      throw new BusError(BUS_ERROR_CODES.UNKNOWN_KIND, `unknown bus kind ${JSON.stringify(kind)}; expected "memory" or "kafka"`);
  }
}
