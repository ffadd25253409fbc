/** Metrics of the nftables drivers (prom-client), registered on the registry passed in the driver's deps. */
import { Counter, Registry, metric } from '@floe/telemetry/lite';

/** Metric names of the nft drivers, one table (STYLE.md pattern 13; docs/metrics.md). */
export const NFT_METRICS = {
  transactions: 'floe_nft_transactions_total',
  errors: 'floe_nft_errors_total',
  elements: 'floe_nft_elements_total',
} as const;

/** The driver operations the metrics name (`op` label). */
export type NftOp = 'ensure' | 'commit' | 'list' | 'destroy';

/** The nft driver metrics; `mode` is `nft` (the kernel) or `dry-run`. */
export interface NftMetrics {
  /** Transactions applied (`nft -f -` runs that succeeded; a dry-run ensure, destroy or commit that changed something), by mode and op. */
  transactions: Counter<'mode' | 'op'>;
  /** Failed driver operations (an nft run that failed, a refused dry-run commit), by mode and op. */
  errors: Counter<'mode' | 'op'>;
  /** Set elements a commit added or deleted, by mode and change (`added`, `deleted`). */
  elements: Counter<'mode' | 'change'>;
}

/**
 * Registers the nft metrics on `registry`, or returns the ones another driver of the process
 * registered there already (`metric`). Without a registry they go to a private one.
 */
export function createNftMetrics(registry: Registry = new Registry()): NftMetrics {
  const registers = [registry];
  const { transactions, errors, elements } = NFT_METRICS;
  return {
    transactions: metric(
      registry,
      transactions,
      () =>
        new Counter({
          name: transactions,
          help: 'nftables transactions applied, by mode (nft, dry-run) and op (ensure, commit, destroy)',
          labelNames: ['mode', 'op'] as const,
          registers,
        }),
    ),
    errors: metric(
      registry,
      errors,
      () =>
        new Counter({
          name: errors,
          help: 'Failed nftables driver operations, by mode (nft, dry-run) and op (ensure, commit, list, destroy)',
          labelNames: ['mode', 'op'] as const,
          registers,
        }),
    ),
    elements: metric(
      registry,
      elements,
      () => new Counter({ name: elements, help: 'Set elements committed, by mode (nft, dry-run) and change (added, deleted)', labelNames: ['mode', 'change'] as const, registers }),
    ),
  };
}
