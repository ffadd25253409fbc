import type { Bus } from './bus.js';
import { BUS_ERROR_CODES, BusError } from './errors.js';
import { createMemoryBus, type MemoryBusOptions } from './memory.js';

/** Configuration of the in-process bus (the embedded default). */
export interface MemoryBusConfig extends MemoryBusOptions {
  kind: 'memory';
}

/** Configuration of the Kafka bus (scale-out; the adapter lands in a later issue). */
export interface KafkaBusConfig {
  kind: 'kafka';
  /** `host:port` of the bootstrap brokers. */
  brokers: string[];
  clientId?: string;
}

/** Any bus configuration, chosen by `kind`. */
export type BusConfig = MemoryBusConfig | KafkaBusConfig;

/**
 * Creates the bus adapter named by `config.kind` (STYLE.md pattern 5: one factory, unknown
 * names rejected). Construction is inert; call `start()` on the result.
 *
 * @throws BusError FLOE_BUS_UNKNOWN_KIND for an unknown kind, and for `kafka`, which is not
 *   available yet.
 */
export function createBus(config: BusConfig): Bus {
  const kind = (config as { kind?: unknown } | undefined)?.kind;
  switch (kind) {
    case 'memory': {
      const { kind: _kind, ...opts } = config as MemoryBusConfig;
      return createMemoryBus(opts);
    }
    case 'kafka':
      throw new BusError(BUS_ERROR_CODES.UNKNOWN_KIND, 'bus kind "kafka" is not available yet (the Kafka adapter comes in a later release); use kind "memory"');
    default:
      throw new BusError(BUS_ERROR_CODES.UNKNOWN_KIND, `unknown bus kind ${JSON.stringify(kind)}; expected "memory" or "kafka"`);
  }
}
