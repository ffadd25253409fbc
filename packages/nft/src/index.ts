/**
 * @floe/nft — nftables driver: render floe's table, apply staged changes in one `nft -f -`
 * transaction, read sets back (`nft -j`), reconcile intended blocks with the kernel.
 */
export * from './types.js';
export * from './errors.js';
export { canonicalTarget, parsePrefix, covers, coverKey, rangeToCidr, type Prefix } from './cidr.js';
export {
  renderRuleset,
  renderDestroy,
  renderAdds,
  renderDeletes,
  elementRef,
  timeoutSeconds,
  resolveNftOptions,
  FLOE_HOOKS,
  ELEMENTS_PER_LINE,
  type ElementRef,
} from './render.js';
export { parseNftJson, type ParsedElement } from './parse.js';
export { reconcile, effectiveEntries, guardEntries, EXPIRY_TOLERANCE_MS, type ReconcilePlan, type EffectiveSet } from './reconcile.js';
export { runNft, type NftRun, type NftExecOptions } from './exec.js';
export { createNftDriver, nftAvailable, type NftDeps } from './driver.js';
export { createDryRunDriver, type DryRunDriver, type DryRunCall } from './dryrun.js';
export { createNftMetrics, NFT_METRICS, type NftMetrics, type NftOp } from './metrics.js';
