import { networkInterfaces } from 'node:os';
import type { FloeConfig } from '@floe/config';
import { compilePolicy, defaultPolicy, loadInventoryFile, loadPolicyFile, type CompiledPolicy } from '@floe/policy';
import { createDetectors } from '@floe/detect';
import { createResponder, type Responder, type ResponderOptions } from '@floe/respond';

/** Addresses of this host's interfaces (never blocked by its own enforcer). */
export function nodeAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.push(a.address.split('%')[0]);
  return out;
}

/** Loads and compiles the policy of the configuration (the embedded default when none is set). */
export async function loadCompiledPolicy(cfg: Pick<FloeConfig, 'policyFile' | 'inventoryFile'>): Promise<CompiledPolicy> {
  const policy = cfg.policyFile ? await loadPolicyFile(cfg.policyFile) : defaultPolicy();
  const inventory = cfg.inventoryFile ? await loadInventoryFile(cfg.inventoryFile) : undefined;
  return compilePolicy(policy, { inventory, nodeAddrs: nodeAddresses() });
}

/** Detectors with the policy's thresholds. */
export function detectorsFor(policy: CompiledPolicy) {
  return createDetectors(policy.policy.detectors, { producedBy: `policy:${policy.version}` });
}

/** Responder options from the policy's `respond` section, the node's addresses always never-block. */
export function responderOptions(policy: CompiledPolicy, overrides: Partial<ResponderOptions> = {}): ResponderOptions {
  const r = policy.policy.respond;
  return {
    minSeverity: r.minSeverity,
    ttlMs: r.ttlMs,
    escalationMs: [...r.escalationMs],
    maxNewBlocksPerMinute: r.maxNewBlocksPerMinute,
    dryRun: r.dryRun,
    neverBlock: [...r.neverBlock],
    nodeAddrs: nodeAddresses(),
    ...overrides,
  };
}

export function responderFor(policy: CompiledPolicy, overrides: Partial<ResponderOptions> = {}, deps: Parameters<typeof createResponder>[1] = {}): Responder {
  return createResponder(responderOptions(policy, overrides), deps);
}
