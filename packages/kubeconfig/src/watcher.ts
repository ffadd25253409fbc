/**
 * Watches FloePolicy and FloeNeverBlock objects in one namespace (client-node informers: list,
 * then watch, re-listing after an error), validates each change with floe's own validator
 * (validate.ts), hands valid ones to the caller to apply, and writes each object's status
 * (merge patch on the status subresource). Events are handled one at a time, in order.
 */
import { CustomObjectsApi, type KubeConfig, type KubernetesObject, makeInformer, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Policy } from '@floe/policy';
import { type Logger, noopLogger } from '@floe/telemetry/lite';
import type { Registry } from 'prom-client';
import { FLOE_GROUP, FLOE_NEVER_BLOCK, FLOE_POLICY, FLOE_VERSION, type FloeResourcePhase, type FloeResourceStatus, type FloeStatusError } from './crd.js';
import { KubeConfigError } from './errors.js';
import { createWatcherMetrics } from './metrics.js';
import { checkNeverBlockSpec, checkPolicySpec } from './validate.js';

/** A FloePolicy or FloeNeverBlock object as read from the API. */
export interface FloeObject extends KubernetesObject {
  spec?: unknown;
  status?: Partial<FloeResourceStatus>;
}

/** One never-block entry handed to the responder: the CIDR and where it comes from (`FloeNeverBlock floe/office`). */
export interface NeverBlockEntry {
  cidr: string;
  label: string;
}

export interface FloeConfigWatcherOptions {
  /** Namespace watched. */
  namespace: string;
  /** The FloePolicy applied; others get status Ignored. */
  policyName: string;
  /** Wait after a watch error before listing again (ms, default 2000). */
  retryMs?: number;
}

export interface FloeConfigWatcherDeps {
  kubeConfig: KubeConfig;
  /**
   * Applies a validated policy to the running process (compile and swap); `undefined`: the
   * FloePolicy was deleted, go back to the configured policy.
   * @returns the version (12 hex) now active.
   * @throws to refuse it (the message lands in the status; the active policy stays).
   */
  applyPolicy(policy: Policy | undefined): string;
  /** Replaces the never-block entries that come from FloeNeverBlock objects (all of them, merged). */
  applyNeverBlock(entries: readonly NeverBlockEntry[]): void;
  logger?: Logger;
  metrics?: Registry;
  /** Clock for status times (ms since epoch; tests). */
  now?: () => number;
}

/** What the watcher has applied, for health and tests. */
export interface FloeConfigWatcherState {
  /** The FloePolicy applied now (absent: the configured policy file). */
  policy?: { name: string; generation: number; resourceVersion: string; version: string };
  /** Never-block entries from FloeNeverBlock objects in force now. */
  neverBlock: NeverBlockEntry[];
  /** Watch connected (initial list done, no error since). */
  connected: boolean;
}

export interface FloeConfigWatcher {
  /** Lists both kinds, applies what is valid, then watches. Resolves after the first lists. */
  start(): Promise<void>;
  stop(): Promise<void>;
  state(): FloeConfigWatcherState;
  /** Resolves when the events received so far are handled (tests). */
  idle(): Promise<void>;
}

interface Applied {
  uid: string;
  generation: number;
  resourceVersion: string;
}

/**
 * Creates the watcher (inert until start).
 * @throws KubeConfigError FLOE_KUBECONFIG_BAD_OPTIONS for an empty namespace or policy name.
 */
export function createFloeConfigWatcher(opts: FloeConfigWatcherOptions, deps: FloeConfigWatcherDeps): FloeConfigWatcher {
  if (!opts.namespace) throw new KubeConfigError('FLOE_KUBECONFIG_BAD_OPTIONS', 'namespace must not be empty');
  if (!opts.policyName) throw new KubeConfigError('FLOE_KUBECONFIG_BAD_OPTIONS', 'policyName must not be empty');
  const log = (deps.logger ?? noopLogger).child({ component: 'kubeconfig' });
  const metrics = createWatcherMetrics(deps.metrics);
  const now = deps.now ?? Date.now;
  const retryMs = opts.retryMs ?? 2000;
  const api = deps.kubeConfig.makeApiClient(CustomObjectsApi);
  const ns = opts.namespace;

  let applied: (Applied & { version: string }) | undefined;
  /** FloeNeverBlock name → its valid entries (a refused edit keeps the earlier valid ones). */
  const neverBlocks = new Map<string, Applied & { entries: NeverBlockEntry[] }>();
  let connected = 0;
  let stopped = false;
  let chain: Promise<void> = Promise.resolve();
  const timers = new Set<NodeJS.Timeout>();

  const enqueue = (what: string, fn: () => Promise<void>): void => {
    chain = chain.then(fn).catch((e: unknown) => log.error({ err: e, what }, 'handling a custom resource event failed'));
  };

  const meta = (o: FloeObject): Applied & { name: string } => ({
    name: o.metadata?.name ?? '',
    uid: o.metadata?.uid ?? '',
    generation: o.metadata?.generation ?? 0,
    resourceVersion: o.metadata?.resourceVersion ?? '',
  });

  async function writeStatus(plural: string, o: FloeObject, status: Omit<FloeResourceStatus, 'updatedAt'>): Promise<void> {
    const prev = o.status;
    // Several processors watch the same objects: an equal status is not written again.
    if (
      prev &&
      prev.observedGeneration === status.observedGeneration &&
      prev.phase === status.phase &&
      prev.message === status.message &&
      prev.activeVersion === status.activeVersion &&
      prev.activeResourceVersion === status.activeResourceVersion &&
      JSON.stringify(prev.errors ?? []) === JSON.stringify(status.errors)
    )
      return;
    const body = { status: { ...status, updatedAt: new Date(now()).toISOString() } };
    try {
      await api.patchNamespacedCustomObjectStatus(
        { group: FLOE_GROUP, version: FLOE_VERSION, namespace: ns, plural, name: meta(o).name, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      metrics.statusWrite('ok');
    } catch (e) {
      metrics.statusWrite('error');
      log.warn({ err: e, plural, name: meta(o).name }, 'writing the status failed');
    }
  }

  const describeErrors = (errors: FloeStatusError[]): string =>
    `refused: ${errors.length} error${errors.length === 1 ? '' : 's'}, first ${errors[0]?.field}: ${errors[0]?.message}`;

  async function onPolicy(o: FloeObject): Promise<void> {
    const m = meta(o);
    const base = { observedGeneration: m.generation };
    if (m.name !== opts.policyName) {
      await writeStatus(FLOE_POLICY.plural, o, {
        ...base,
        phase: 'Ignored',
        message: `not applied: the processor applies the FloePolicy named ${opts.policyName} (processor.crds.policyName)`,
        errors: [],
      });
      return;
    }
    const activeFields = () =>
      applied && applied.uid === m.uid ? { activeVersion: applied.version, activeResourceVersion: applied.resourceVersion, activeGeneration: applied.generation } : {};
    if (applied && applied.uid === m.uid && applied.generation === m.generation) {
      // a status or metadata update: nothing new to apply (the status is rewritten if someone changed it)
      await writeStatus(FLOE_POLICY.plural, o, { ...base, phase: 'Active', message: `active: policy version ${applied.version}`, errors: [], ...activeFields() });
      return;
    }
    const check = checkPolicySpec(o.spec, `floepolicy/${ns}/${m.name}`);
    let phase: FloeResourcePhase;
    let errors: FloeStatusError[] = [];
    if (check.ok) {
      try {
        const version = deps.applyPolicy(check.value);
        applied = { uid: m.uid, generation: m.generation, resourceVersion: m.resourceVersion, version };
        phase = 'Active';
        log.info({ name: m.name, generation: m.generation, version }, 'FloePolicy applied');
      } catch (e) {
        phase = 'Refused';
        errors = [{ field: 'spec', message: (e as Error).message.slice(0, 1000), code: (e as { code?: string }).code ?? 'FLOE_KUBECONFIG_APPLY_FAILED' }];
      }
    } else {
      phase = 'Refused';
      errors = check.errors;
    }
    metrics.change('FloePolicy', phase === 'Active' ? 'applied' : 'refused');
    if (phase === 'Refused') log.warn({ name: m.name, generation: m.generation, errors }, 'FloePolicy refused; the active policy stays');
    await writeStatus(FLOE_POLICY.plural, o, {
      ...base,
      phase,
      message:
        phase === 'Active'
          ? `active: policy version ${applied?.version}`
          : `${describeErrors(errors)}${applied ? `; generation ${applied.generation} stays active` : '; the configured policy stays active'}`,
      errors,
      ...activeFields(),
    });
  }

  function onPolicyDeleted(o: FloeObject): void {
    const m = meta(o);
    if (m.name !== opts.policyName || !applied || applied.uid !== m.uid) return;
    const version = deps.applyPolicy(undefined);
    applied = undefined;
    metrics.change('FloePolicy', 'deleted');
    log.info({ name: m.name, version }, 'FloePolicy deleted; back to the configured policy');
  }

  const mergedNeverBlock = (): NeverBlockEntry[] => [...neverBlocks.values()].flatMap((n) => n.entries);

  async function onNeverBlock(o: FloeObject): Promise<void> {
    const m = meta(o);
    const prev = neverBlocks.get(m.name);
    const check = checkNeverBlockSpec(o.spec, `floeneverblock/${ns}/${m.name}`);
    const label = `FloeNeverBlock ${ns}/${m.name}`;
    if (check.ok) {
      const changed = !prev || prev.uid !== m.uid || prev.generation !== m.generation;
      neverBlocks.set(m.name, { uid: m.uid, generation: m.generation, resourceVersion: m.resourceVersion, entries: check.value.cidrs.map((cidr) => ({ cidr, label })) });
      if (changed) {
        deps.applyNeverBlock(mergedNeverBlock());
        metrics.change('FloeNeverBlock', 'applied');
        log.info({ name: m.name, cidrs: check.value.cidrs.length }, 'FloeNeverBlock applied');
      }
      const a = neverBlocks.get(m.name)!;
      await writeStatus(FLOE_NEVER_BLOCK.plural, o, {
        observedGeneration: m.generation,
        phase: 'Active',
        message: `active: ${check.value.cidrs.length} CIDR${check.value.cidrs.length === 1 ? '' : 's'} never blocked`,
        errors: [],
        activeResourceVersion: a.resourceVersion,
        activeGeneration: a.generation,
      });
      return;
    }
    metrics.change('FloeNeverBlock', 'refused');
    log.warn({ name: m.name, errors: check.errors }, 'FloeNeverBlock refused');
    const kept = prev && prev.uid === m.uid ? prev : undefined;
    await writeStatus(FLOE_NEVER_BLOCK.plural, o, {
      observedGeneration: m.generation,
      phase: 'Refused',
      message: `${describeErrors(check.errors)}${kept ? `; generation ${kept.generation} stays active` : ''}`,
      errors: check.errors,
      ...(kept ? { activeResourceVersion: kept.resourceVersion, activeGeneration: kept.generation } : {}),
    });
  }

  function onNeverBlockDeleted(o: FloeObject): void {
    const m = meta(o);
    if (!neverBlocks.delete(m.name)) return;
    deps.applyNeverBlock(mergedNeverBlock());
    metrics.change('FloeNeverBlock', 'deleted');
    log.info({ name: m.name }, 'FloeNeverBlock deleted');
  }

  const informers = [
    {
      plural: FLOE_POLICY.plural,
      onChange: onPolicy,
      onDelete: onPolicyDeleted,
    },
    {
      plural: FLOE_NEVER_BLOCK.plural,
      onChange: onNeverBlock,
      onDelete: onNeverBlockDeleted,
    },
  ].map((k) => {
    const path = `/apis/${FLOE_GROUP}/${FLOE_VERSION}/namespaces/${ns}/${k.plural}`;
    const list = () =>
      api.listNamespacedCustomObject({ group: FLOE_GROUP, version: FLOE_VERSION, namespace: ns, plural: k.plural }) as Promise<{
        items: FloeObject[];
        metadata?: { resourceVersion?: string };
      }>;
    const inf = makeInformer<FloeObject>(deps.kubeConfig, path, list as never);
    inf.on('add', (o) => enqueue(`${k.plural} add`, () => k.onChange(o)));
    inf.on('update', (o) => enqueue(`${k.plural} update`, () => k.onChange(o)));
    inf.on('delete', (o) => enqueue(`${k.plural} delete`, async () => k.onDelete(o)));
    inf.on('connect', () => {
      connected++;
    });
    inf.on('error', (err) => {
      connected = Math.max(0, connected - 1);
      metrics.watchError(k.plural);
      if (stopped) return;
      log.warn({ err, plural: k.plural, retryMs }, 'watch failed; listing again');
      const t = setTimeout(() => {
        timers.delete(t);
        if (!stopped) inf.start().catch((e: unknown) => log.warn({ err: e, plural: k.plural }, 'restarting the watch failed'));
      }, retryMs);
      timers.add(t);
    });
    return inf;
  });

  return {
    async start() {
      stopped = false;
      await Promise.all(informers.map((i) => i.start()));
      await chain;
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.all(informers.map((i) => i.stop()));
      await chain;
    },
    state() {
      return {
        ...(applied ? { policy: { name: opts.policyName, generation: applied.generation, resourceVersion: applied.resourceVersion, version: applied.version } } : {}),
        neverBlock: mergedNeverBlock(),
        connected: connected >= informers.length,
      };
    },
    async idle() {
      await chain;
    },
  };
}
