import { spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import type { FloeConfig } from '@floe/config';
import type { BusConfig } from '@floe/bus';
import type { StoreConfig } from '@floe/store';
import { compilePolicy, defaultPolicy, loadInventoryFile, loadPolicyFile, type CompiledPolicy } from '@floe/policy';
import { createDetectors, type DetectorDeps } from '@floe/detect';
import { createLiveProtectedSet, createProtectedSet, createResponder, type LiveProtectedSet, type ProtectedSet, type Responder, type ResponderOptions } from '@floe/respond';
import type { Logger, Registry } from '@floe/telemetry';

/**
 * Addresses of this node's interfaces (never blocked by its own enforcer): the process's own
 * network namespace, or `netns` read with `ip -j -n NS addr show` (iproute2 JSON output).
 * @throws Error when `ip` fails for the namespace (it does not exist, not root).
 */
export function nodeAddresses(netns?: string): string[] {
  const out: string[] = [];
  if (netns) {
    const r = spawnSync('ip', ['-j', '-n', netns, 'addr', 'show'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cannot read the addresses of network namespace ${netns}: ${(r.stderr || r.error?.message || '').trim()}`);
    for (const link of JSON.parse(r.stdout) as Array<{ addr_info?: Array<{ local?: string }> }>) {
      for (const a of link.addr_info ?? []) if (a.local) out.push(a.local);
    }
    return out;
  }
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.push(a.address.split('%')[0]);
  return out;
}

/**
 * Loads and compiles the policy of the configuration (the embedded default when none is set).
 * `nodeAddrs`: this node's addresses (zone `nodes`), for live runs only — an offline analysis
 * of another host's files must not treat the analysing machine's addresses as that host's.
 * @throws the policy package's errors (code FLOE_POLICY_…, with file:line) for a bad file.
 */
export async function loadCompiledPolicy(cfg: Pick<FloeConfig, 'policyFile' | 'inventoryFile'>, nodeAddrs: string[] = []): Promise<CompiledPolicy> {
  const policy = cfg.policyFile ? await loadPolicyFile(cfg.policyFile) : defaultPolicy();
  const inventory = cfg.inventoryFile ? await loadInventoryFile(cfg.inventoryFile) : undefined;
  return compilePolicy(policy, { inventory, nodeAddrs });
}

/**
 * Detectors with the policy's thresholds, findings tagged `policy:<version>`, and the policy's
 * namespace trust for lateral-movement evidence; `deps` adds a metrics registry, limits, or
 * `lateness: Infinity` for an offline analysis (input in any order).
 */
export function detectorsFor(policy: CompiledPolicy, deps: Omit<DetectorDeps, 'producedBy'> = {}) {
  return createDetectors(policy.policy.detectors, { ...deps, producedBy: `policy:${policy.version}`, namespaceAllowed: policy.namespaceAllowed });
}

/** Responder options from the policy's `respond` section and its node and control-plane networks; the host's addresses always protected. */
export function responderOptions(policy: CompiledPolicy, nodeAddrs: string[], overrides: Partial<ResponderOptions> = {}): ResponderOptions {
  const r = policy.policy.respond;
  return {
    minSeverity: r.minSeverity,
    ttlMs: r.ttlMs,
    escalationMs: [...r.escalationMs],
    maxNewBlocksPerMinute: r.maxNewBlocksPerMinute,
    dryRun: r.dryRun,
    neverBlock: [...r.neverBlock],
    nodeAddrs,
    nodes: [...policy.policy.networks.nodes],
    controlPlane: [...policy.policy.networks.controlPlane],
    minPrefixLength: { ...r.minPrefixLength },
    blockOnAcceptedLogs: r.blockOnAcceptedLogs,
    ...overrides,
  };
}

/**
 * The protected set of a policy and this host (packages/respond): never-block list, node and
 * control-plane networks, `nodeAddrs`, special ranges, and the shortest prefix allowed. The
 * responder builds the same set from {@link responderOptions}; the enforcer gets this one.
 * @throws RespondError (FLOE_RESPOND_BAD_OPTIONS) for a bad entry (the policy validated them already).
 */
export function protectedSetFor(policy: CompiledPolicy, nodeAddrs: string[]): ProtectedSet {
  const r = policy.policy.respond;
  return createProtectedSet({
    neverBlock: r.neverBlock,
    nodes: policy.policy.networks.nodes,
    controlPlane: policy.policy.networks.controlPlane,
    hostAddrs: nodeAddrs,
    minPrefixLength: r.minPrefixLength,
  });
}

/**
 * The protected set of {@link protectedSetFor} whose run-time never-block entries (the API's
 * `/v1/never-block`, stored) can change: one per process, shared by the responder and the
 * enforcer so an entry added at run time wins on every path at once (issue 8).
 */
export function liveProtectedSetFor(policy: CompiledPolicy, nodeAddrs: string[]): LiveProtectedSet {
  const r = policy.policy.respond;
  return createLiveProtectedSet({
    neverBlock: r.neverBlock,
    nodes: policy.policy.networks.nodes,
    controlPlane: policy.policy.networks.controlPlane,
    hostAddrs: nodeAddrs,
    minPrefixLength: r.minPrefixLength,
  });
}

/** A responder built from {@link responderOptions}. */
export function responderFor(policy: CompiledPolicy, nodeAddrs: string[], overrides: Partial<ResponderOptions> = {}, deps: Parameters<typeof createResponder>[1] = {}): Responder {
  return createResponder(responderOptions(policy, nodeAddrs, overrides), deps);
}

/**
 * The bus adapter configuration of `cfg.bus`: the in-process bus, or Kafka with the brokers,
 * partitions per topic, the topic name prefix, the consumer restart budget and a client id naming
 * the role (`floe-processor`).
 */
export function busConfigOf(cfg: Pick<FloeConfig, 'bus'>, clientId = 'floe'): BusConfig {
  if (cfg.bus.kind === 'memory') return { kind: 'memory', partitions: cfg.bus.partitions };
  const kafka = {
    kind: 'kafka' as const,
    brokers: [...cfg.bus.brokers],
    clientId,
    partitions: cfg.bus.partitions,
    topicPrefix: cfg.bus.topicPrefix,
    consumerRestarts: cfg.bus.consumerRestarts,
  };
  return kafka;
}

/**
 * The store adapter configuration of `cfg.store`: DuckDB (createStore checks the path and
 * creates its folder), or ClickHouse with URL, database and flow retention (days).
 */
export function storeConfigOf(cfg: Pick<FloeConfig, 'store'>): StoreConfig {
  const s = cfg.store;
  if (s.kind === 'duckdb') {
    return { kind: 'duckdb', path: s.path, threads: s.threads };
  }
  const clickhouse = { kind: 'clickhouse' as const, url: s.url, database: s.database, retentionDays: s.retentionDays };
  return clickhouse;
}

/**
 * The dependencies every adapter factory takes (`createBus(config, deps)`, `createStore(config,
 * deps)`, the nft drivers): the process's logger, of which the adapter makes a child with its
 * `component` and `adapter` bindings, and the registry its `floe_<component>_*` metrics go to.
 */
export function adapterDeps(ctx: { logger: Logger; registry: Registry }): { logger: Logger; metrics: Registry } {
  return { logger: ctx.logger, metrics: ctx.registry };
}
