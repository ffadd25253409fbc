/**
 * The processor's custom-resource configuration (processor.crds, packages/kubeconfig): a
 * swappable policy slot the pipeline reads through, and the component that watches FloePolicy
 * and FloeNeverBlock objects and swaps what they say into the running pipeline and responder.
 */
import { compilePolicy, type CompiledPolicy, type Inventory, type Policy } from '@floe/policy';
import type { Detector } from '@floe/detect';
import type { LiveProtectedSet, RuntimeNeverBlock } from '@floe/respond';
import type { Logger, Registry } from '@floe/telemetry';
import type { Component } from './lifecycle.js';
import { detectorsFor } from './wiring.js';

/** A CompiledPolicy whose implementation can be replaced while the pipeline runs. */
export interface PolicySlot {
  /** Hand this to the pipeline: every call goes to the policy in the slot at that moment. */
  readonly view: CompiledPolicy;
  current(): CompiledPolicy;
  set(next: CompiledPolicy): void;
}

/** A slot holding `initial`. */
export function createPolicySlot(initial: CompiledPolicy): PolicySlot {
  let cur = initial;
  const view: CompiledPolicy = {
    get version() {
      return cur.version;
    },
    get policy() {
      return cur.policy;
    },
    classify: (flow) => cur.classify(flow),
    evaluate: (flow) => cur.evaluate(flow),
    namespaceAllowed: (from, to) => cur.namespaceAllowed(from, to),
  };
  return {
    view,
    current: () => cur,
    set(next) {
      cur = next;
    },
  };
}

/** What the CRD component swaps. */
export interface CrdTargets {
  /** The pipeline's policy (its `view` is what the pipeline was built with). */
  slot: PolicySlot;
  /** The configured policy (policyFile or the default): active again when the FloePolicy is deleted. */
  base: CompiledPolicy;
  /** The array the pipeline was built with: replaced in place when the detectors section changes. */
  detectors: Detector[];
  /**
   * Replaces the run-time never-block entries that come from floe's custom resources (the
   * FloeNeverBlock CIDRs and the FloePolicy's respond.neverBlock), on top of the configured
   * protected set (roles.ts: `splitRuntimeNeverBlock(guard).setCrd`, beside the API's list).
   */
  setNeverBlock(entries: ReadonlyArray<{ cidr: string; label: string }>): void;
  inventory?: Inventory;
  nodeAddrs: string[];
  metrics?: Registry;
}

/**
 * Swaps `policy` (undefined: back to `base`) into the running pipeline: classification and
 * policy rules at once; the detectors are rebuilt (their open windows start over) only when the
 * `detectors` section differs; the new policy's `respond.neverBlock` joins the responder's
 * protected set (together with the FloeNeverBlock entries). Other `respond` keys apply at the
 * next start.
 * @returns the version now active.
 */
export function swapPolicy(t: CrdTargets, policy: Policy | undefined, neverBlock: ReadonlyArray<{ cidr: string; label: string }>, name: string): string {
  const next = policy === undefined ? t.base : compilePolicy(policy, { inventory: t.inventory, nodeAddrs: t.nodeAddrs });
  const prev = t.slot.current();
  const fresh = canonical(prev.policy.detectors) === canonical(next.policy.detectors) ? undefined : detectorsFor(next, { metrics: t.metrics });
  t.setNeverBlock([...policyNeverBlock(next, name), ...neverBlock]);
  t.slot.set(next);
  if (fresh) t.detectors.splice(0, t.detectors.length, ...fresh);
  return next.version;
}

/** JSON with object keys sorted (a policy file's key order does not matter). */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'object' && x !== null && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}

function policyNeverBlock(p: CompiledPolicy, name: string): Array<{ cidr: string; label: string }> {
  return p.policy.respond.neverBlock.map((cidr, i) => ({ cidr, label: `FloePolicy ${name} respond.neverBlock[${i}]` }));
}

/**
 * The lifecycle component of processor.crds: starts the watcher (loaded on demand, so processes
 * without it never load the Kubernetes client), stops it, and reports its state as health.
 */
export function crdComponent(
  crds: { kubeconfig?: string; namespace: string; policyName: string },
  t: CrdTargets,
  deps: { logger: Logger; out?: (line: string) => void },
): Component & { state(): unknown } {
  let watcher: import('@floe/kube-config').FloeConfigWatcher | undefined;
  let extra: ReadonlyArray<{ cidr: string; label: string }> = [];
  let policyRef = `${crds.namespace}/${crds.policyName}`;
  return {
    name: 'crds',
    async start() {
      const { KubeConfig } = await import('@kubernetes/client-node');
      const { createFloeConfigWatcher } = await import('@floe/kube-config');
      const kc = new KubeConfig();
      if (crds.kubeconfig) kc.loadFromFile(crds.kubeconfig);
      else kc.loadFromCluster();
      policyRef = `${crds.namespace}/${crds.policyName}`;
      watcher = createFloeConfigWatcher(
        { namespace: crds.namespace, policyName: crds.policyName },
        {
          kubeConfig: kc,
          logger: deps.logger,
          metrics: t.metrics,
          applyPolicy: (p) => swapPolicy(t, p, extra, policyRef),
          applyNeverBlock: (entries) => {
            extra = entries;
            t.setNeverBlock([...policyNeverBlock(t.slot.current(), policyRef), ...entries]);
          },
        },
      );
      await watcher.start();
      deps.out?.(`crds     watching FloePolicy ${policyRef} and FloeNeverBlock in namespace ${crds.namespace} (policy version ${t.slot.current().version})`);
    },
    async stop() {
      await watcher?.stop();
    },
    health() {
      const s = watcher?.state();
      // a watch that reconnects does not make the processor unhealthy (the last applied config stays in force)
      return { ok: watcher !== undefined, connected: s?.connected ?? false, policy: s?.policy, neverBlock: s?.neverBlock.length ?? 0 };
    },
    state: () => watcher?.state(),
  };
}

/**
 * Two writers of one LiveProtectedSet's run-time never-block entries: the triage sync (the API's
 * list, from the store) and the custom resources (FloeNeverBlock, the FloePolicy's
 * respond.neverBlock). `api` is the guard as the triage sync should see it (its
 * setRuntimeNeverBlock / runtimeNeverBlock touch only the API part); `setCrd` replaces the other
 * part. The guard always holds both.
 */
export function splitRuntimeNeverBlock(guard: LiveProtectedSet): { api: LiveProtectedSet; setCrd(entries: readonly RuntimeNeverBlock[]): void } {
  let api: readonly RuntimeNeverBlock[] = guard.runtimeNeverBlock();
  let crd: readonly RuntimeNeverBlock[] = [];
  const view = new Proxy(guard, {
    get(target, key) {
      if (key === 'setRuntimeNeverBlock')
        return (entries: readonly RuntimeNeverBlock[]) => {
          target.setRuntimeNeverBlock([...entries, ...crd]);
          api = [...entries];
        };
      if (key === 'runtimeNeverBlock') return () => api;
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return {
    api: view,
    setCrd(entries) {
      guard.setRuntimeNeverBlock([...api, ...entries]);
      crd = [...entries];
    },
  };
}
