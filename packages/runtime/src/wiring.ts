import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { FloeConfig } from '@floe/config';
import type { BusConfig } from '@floe/bus';
import type { StoreConfig } from '@floe/store';
import { compilePolicy, defaultPolicy, loadInventoryFile, loadPolicyFile, type CompiledPolicy } from '@floe/policy';
import { createDetectors } from '@floe/detect';
import { createResponder, type Responder, type ResponderOptions } from '@floe/respond';

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

/** Detectors with the policy's thresholds, findings tagged `policy:<version>`. */
export function detectorsFor(policy: CompiledPolicy) {
  return createDetectors(policy.policy.detectors, { producedBy: `policy:${policy.version}` });
}

/** Responder options from the policy's `respond` section, the node's addresses always never-block. */
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
    ...overrides,
  };
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
  const kafka = { kind: 'kafka' as const, brokers: [...cfg.bus.brokers], clientId, partitions: cfg.bus.partitions, topicPrefix: cfg.bus.topicPrefix, consumerRestarts: cfg.bus.consumerRestarts };
  return kafka;
}

/**
 * The store adapter configuration of `cfg.store`: DuckDB (its folder is created when the file
 * is not `:memory:`), or ClickHouse with URL, database and flow retention (days).
 */
export function storeConfigOf(cfg: Pick<FloeConfig, 'store'>): StoreConfig {
  const s = cfg.store;
  if (s.kind === 'duckdb') {
    if (s.path !== ':memory:') mkdirSync(dirname(resolve(s.path)), { recursive: true });
    return { kind: 'duckdb', path: s.path };
  }
  const clickhouse = { kind: 'clickhouse' as const, url: s.url, database: s.database, retentionDays: s.retentionDays };
  return clickhouse;
}
