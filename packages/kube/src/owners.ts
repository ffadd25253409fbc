import type { ObjectMeta, OwnerReference } from './objects.js';

/** The workload a pod belongs to: the top controller of its owner chain. */
export interface Workload {
  kind: string;
  name: string;
}

/**
 * Reads one owner's metadata (a PartialObjectMetadata GET of `apiVersion`/`kind` `name` in
 * `namespace`); undefined when it does not exist.
 */
export type OwnerMetaFetch = (ref: OwnerReference, namespace: string) => Promise<ObjectMeta | undefined>;

/** Kinds whose own controller is followed: a ReplicaSet's Deployment, a Job's CronJob (Kubernetes "Workload Management"). */
const FOLLOWED = new Set(['ReplicaSet', 'Job']);
/** Longest owner chain followed (Pod → ReplicaSet → Deployment is 2). */
const MAX_DEPTH = 4;

/** The controller reference (`controller: true`) of an object, or undefined. */
export function controllerOf(refs: readonly OwnerReference[] | undefined): OwnerReference | undefined {
  return refs?.find((r) => r.controller === true);
}

/**
 * Resolves a pod's workload through metadata only: the pod's controller reference, then, for a
 * ReplicaSet or a Job, that owner's own controller (Deployment, CronJob) read with `fetch`
 * (PartialObjectMetadata). Owners are cached by namespace, kind and name for `ttlMs` (owner
 * references of a ReplicaSet do not change; the cache bounds memory at `maxEntries`).
 */
export class OwnerResolver {
  private readonly cache = new Map<string, { at: number; p: Promise<OwnerReference | null> }>();
  /** Owner GETs made and failed (for metrics). */
  fetched = 0;
  failed = 0;

  constructor(
    private readonly fetch: OwnerMetaFetch,
    private readonly opts: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {}

  /** The controller of owner `ref` in `namespace` (cached), null when it has none or is gone. */
  private ownerOf(ref: OwnerReference, namespace: string): Promise<OwnerReference | null> {
    const now = (this.opts.now ?? Date.now)();
    const key = `${namespace}/${ref.kind}/${ref.name}`;
    const hit = this.cache.get(key);
    if (hit && now - hit.at < (this.opts.ttlMs ?? 600_000)) return hit.p;
    this.fetched++;
    const p = this.fetch(ref, namespace).then(
      (m) => (m && (ref.uid === undefined || m.uid === undefined || m.uid === ref.uid) ? (controllerOf(m.ownerReferences) ?? null) : null),
      () => {
        this.failed++;
        this.cache.delete(key);
        return null;
      },
    );
    if (this.cache.size >= (this.opts.maxEntries ?? 50_000)) {
      const first = this.cache.keys().next();
      if (!first.done) this.cache.delete(first.value);
    }
    this.cache.set(key, { at: now, p });
    return p;
  }

  /** The workload of a pod with these owner references in `namespace`; undefined for a bare pod. */
  async resolve(refs: readonly OwnerReference[] | undefined, namespace: string): Promise<Workload | undefined> {
    let ref = controllerOf(refs);
    if (!ref) return undefined;
    for (let depth = 0; depth < MAX_DEPTH && FOLLOWED.has(ref.kind); depth++) {
      const up = await this.ownerOf(ref, namespace);
      if (!up) break;
      ref = up;
    }
    return { kind: ref.kind, name: ref.name };
  }

  /** Owner entries cached. */
  get size(): number {
    return this.cache.size;
  }
}
