import type { NftOptions } from '@floe/nft';

/** Options of the enforcer (defaults: {@link defaultEnforcerOptions}). */
export interface EnforcerOptions {
  /** This node's name: decisions whose scope lists other nodes only are not enforced here; also names the consumer group. */
  node: string;
  /** Period of the kernel-vs-intended reconcile (ms); default 10000. */
  reconcileIntervalMs: number;
  /** Never touch nftables: use the dry-run driver (logs and records calls). Default false. */
  dryRun: boolean;
  /** nftables driver options (table, set names, chain priority, netns). */
  nft: Partial<NftOptions>;
}

/** Defaults: node = host name given by the caller, 10 s reconcile, real nft. */
export function defaultEnforcerOptions(node: string): EnforcerOptions {
  return { node, reconcileIntervalMs: 10_000, dryRun: false, nft: {} };
}

/** Consumer group of an enforcer: one per node, so every node sees every decision. */
export function enforcerGroup(node: string): string {
  return `floe-enforcer-${node}`;
}
