import { KubeConfig } from '@kubernetes/client-node';
import { createRegistry, type Logger, type Registry, silentLogger } from '@floe/telemetry';
import { ClusterIndex, type SelectorZone } from './cluster.js';
import { KubeEnricher } from './enrich.js';
import { KUBE_ERROR_CODES, KubeError } from './errors.js';
import { kubeGetJson, PARTIAL_METADATA_ACCEPT } from './http.js';
import { kubeMetrics } from './metrics.js';
import { NetworkPolicySet } from './netpol.js';
import type { EndpointSlice, KubeObject, Namespace, NetworkPolicy, Node, ObjectMeta, OwnerReference, Pod, Service } from './objects.js';
import { timeMs } from './objects.js';
import { OwnerResolver } from './owners.js';
import { Reflector, type ReflectorHandler } from './reflector.js';

/** The `kube` configuration section (packages/config). */
export interface KubeOptions {
  /** Turn Kubernetes enrichment and NetworkPolicy evaluation on. */
  enabled: boolean;
  /** Path of a kubeconfig file; absent: in-cluster (service account) when `inCluster`, else the default ($KUBECONFIG, ~/.kube/config). */
  kubeconfig?: string;
  /** Use the pod's service account (KUBERNETES_SERVICE_HOST, /var/run/secrets/kubernetes.io/serviceaccount). */
  inCluster?: boolean;
  /** How long (ms) a deleted pod's address still names it. */
  graceMs: number;
  /** Read NetworkPolicies and report flows they would deny. */
  networkPolicies: boolean;
  /** How long start() waits for the first lists (ms, default 30 000); then it goes on and the lists keep retrying. */
  syncTimeoutMs?: number;
}

/** How long start() waits (ms) for the first list of every resource before going on without it. */
const SYNC_TIMEOUT_MS = 30_000;
/** How long start() waits (ms) for the owner lookups of the pods listed at start. */
const OWNER_WAIT_MS = 10_000;

/** Defaults of the `kube` section. */
export const KUBE_DEFAULTS: Readonly<KubeOptions> = Object.freeze({ enabled: false, graceMs: 300_000, networkPolicies: true });

/** Loads the KubeConfig the options name. @throws KubeError FLOE_KUBE_CONFIG. */
export function loadKubeConfig(o: Pick<KubeOptions, 'kubeconfig' | 'inCluster'>): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
    else if (o.inCluster) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (err) {
    throw new KubeError(KUBE_ERROR_CODES.CONFIG, `cannot load the kubeconfig${o.kubeconfig ? ` ${o.kubeconfig}` : ''}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!kc.getCurrentCluster()) throw new KubeError(KUBE_ERROR_CODES.CONFIG, 'the kubeconfig has no current cluster');
  return kc;
}

/** Collection path of an owner kind's object (apiVersion `apps/v1` -> `/apis/apps/v1`). */
function ownerPath(ref: OwnerReference, namespace: string): string | undefined {
  const plural: Record<string, string> = {
    ReplicaSet: 'replicasets',
    Deployment: 'deployments',
    StatefulSet: 'statefulsets',
    DaemonSet: 'daemonsets',
    Job: 'jobs',
    CronJob: 'cronjobs',
  };
  const p = plural[ref.kind];
  if (!p) return undefined;
  const base = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${p}/${encodeURIComponent(ref.name)}`;
}

/** Keeps only the metadata fields floe reads (drops managedFields, annotations). */
function trimMeta(m: ObjectMeta | undefined): ObjectMeta | undefined {
  if (!m) return m;
  const out: ObjectMeta = { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion };
  if (m.labels) out.labels = m.labels;
  if (m.ownerReferences) out.ownerReferences = m.ownerReferences.map((r) => ({ apiVersion: r.apiVersion, kind: r.kind, name: r.name, uid: r.uid, controller: r.controller }));
  if (m.creationTimestamp) out.creationTimestamp = m.creationTimestamp;
  if (m.deletionTimestamp) out.deletionTimestamp = m.deletionTimestamp;
  return out;
}

/** A pod with only what enrichment reads. */
export function trimPod(p: Pod): Pod {
  const containers = p.spec?.containers
    ?.filter((c) => c.ports?.some((x) => x.name))
    .map((c) => ({ ports: c.ports?.filter((x) => x.name).map((x) => ({ name: x.name, containerPort: x.containerPort, protocol: x.protocol })) }));
  return {
    metadata: trimMeta(p.metadata),
    spec: { nodeName: p.spec?.nodeName, hostNetwork: p.spec?.hostNetwork, ...(containers && containers.length > 0 ? { containers } : {}) },
    status: { podIP: p.status?.podIP, podIPs: p.status?.podIPs, startTime: p.status?.startTime },
  };
}

/** What a running kube source offers. */
export interface KubeSource {
  readonly enricher: KubeEnricher;
  /**
   * Starts every informer (lists, then watches); resolves once each listed once (and the owners
   * of the listed pods were looked up, 10 s at most), or after `syncTimeoutMs` without them (a
   * warning; the lists keep retrying with backoff, flows meanwhile miss). Owner lookups of later
   * pods go on in the background.
   * @throws KubeError FLOE_KUBE_CONFIG when the kubeconfig cannot be loaded.
   */
  start(): Promise<void>;
  /** Stops the watches. Safe twice. */
  stop(): void;
  /** Resolves when the owner lookups started so far have finished (tests, `floe policy suggest`). */
  settled(): Promise<void>;
}

/**
 * Kubernetes enrichment from the API server: reflectors (list + watch) on Pods, Services,
 * EndpointSlices, Nodes, Namespaces and NetworkPolicies feed one ClusterIndex and one
 * NetworkPolicySet; pods' workloads are resolved through their owners' metadata
 * (PartialObjectMetadata GETs, cached). Inert until `start()`.
 */
export function createKubeSource(
  o: KubeOptions & { selectorZones?: readonly SelectorZone[] },
  deps: { logger?: Logger; metrics?: Registry; now?: () => number; kubeConfig?: KubeConfig } = {},
): KubeSource {
  const log = (deps.logger ?? silentLogger()).child({ component: 'kube' });
  const m = kubeMetrics(deps.metrics ?? createRegistry({ defaultMetrics: false }));
  const now = deps.now ?? Date.now;
  const index = new ClusterIndex({ graceMs: o.graceMs, selectorZones: o.selectorZones });
  const policies = new NetworkPolicySet();
  const enricher = new KubeEnricher(index, policies, m);
  let kc: KubeConfig | undefined = deps.kubeConfig;
  const pending = new Set<Promise<void>>();
  const reflectors: Array<Reflector<KubeObject>> = [];
  let pruneTimer: NodeJS.Timeout | undefined;

  const owners = new OwnerResolver(async (ref, ns) => {
    const path = ownerPath(ref, ns);
    if (!path || !kc) return undefined;
    try {
      const got = await kubeGetJson<{ metadata?: ObjectMeta }>(kc, path, PARTIAL_METADATA_ACCEPT);
      m.owners.inc({ result: got ? 'ok' : 'missing' });
      return got?.metadata;
    } catch (err) {
      m.owners.inc({ result: 'error' });
      throw err;
    }
  });

  const gauge = () => {
    const c = index.counts();
    m.objects.set({ resource: 'pods' }, c.pods);
    m.objects.set({ resource: 'nodes' }, c.nodes);
    m.objects.set({ resource: 'services' }, c.services);
    m.objects.set({ resource: 'namespaces' }, c.namespaces);
    m.objects.set({ resource: 'addresses' }, c.addresses);
    m.objects.set({ resource: 'networkpolicies' }, policies.size);
  };

  const podHandler: ReflectorHandler<Pod> = {
    upsert(p, t) {
      const e = index.upsertPod(p, t);
      if (!e) return;
      const refs = p.metadata?.ownerReferences;
      if (!refs || refs.length === 0 || e.workload) return;
      const job = owners.resolve(refs, e.namespace).then(
        (w) => index.setWorkload(e.uid, w),
        (err: unknown) => log.warn({ pod: `${e.namespace}/${e.name}`, err: err instanceof Error ? err.message : String(err) }, 'owner lookup failed'),
      );
      pending.add(job);
      void job.finally(() => pending.delete(job));
    },
    remove: (p, t) => index.deletePod(p, t),
  };

  function reflector<T extends KubeObject>(resource: string, path: string, handler: ReflectorHandler<T>, trim?: (x: T) => T): void {
    const r = new Reflector<T>(kc as KubeConfig, {
      resource,
      path,
      handler,
      logger: log,
      now,
      trim,
      onError: () => m.watchErrors.inc({ resource }),
      onEvent: (type, obj, t, listed) => {
        enricher.lastEventAt = Math.max(enricher.lastEventAt, t);
        m.events.inc({ resource, type });
        // Delivery lag of watch events only: a list hands over objects made any time before.
        const at = listed ? undefined : type === 'delete' ? timeMs(obj.metadata?.deletionTimestamp) : type === 'add' ? timeMs(obj.metadata?.creationTimestamp) : undefined;
        if (at !== undefined) m.eventLag.observe({ resource }, Math.max(0, (t - at) / 1000));
        gauge();
      },
    });
    reflectors.push(r as unknown as Reflector<KubeObject>);
  }

  const settled = async (): Promise<void> => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };

  return {
    enricher,
    async start() {
      if (reflectors.length > 0) return;
      kc ??= loadKubeConfig(o);
      reflector<Namespace>('namespaces', '/api/v1/namespaces', { upsert: (n) => index.upsertNamespace(n), remove: (n) => index.deleteNamespace(n) }, (n) => ({
        metadata: trimMeta(n.metadata),
      }));
      reflector<Node>('nodes', '/api/v1/nodes', { upsert: (n, t) => index.upsertNode(n, t), remove: (n, t) => index.deleteNode(n, t) }, (n) => ({
        metadata: trimMeta(n.metadata),
        status: { addresses: n.status?.addresses },
      }));
      reflector<Pod>('pods', '/api/v1/pods', podHandler, trimPod);
      reflector<Service>('services', '/api/v1/services', { upsert: (s) => index.upsertService(s), remove: (s) => index.deleteService(s) }, (s) => ({
        metadata: trimMeta(s.metadata),
        spec: s.spec,
      }));
      reflector<EndpointSlice>(
        'endpointslices',
        '/apis/discovery.k8s.io/v1/endpointslices',
        { upsert: (s) => index.upsertEndpointSlice(s), remove: (s) => index.deleteEndpointSlice(s) },
        (s) => ({ metadata: trimMeta(s.metadata), addressType: s.addressType, endpoints: s.endpoints?.map((e) => ({ addresses: e.addresses })) }),
      );
      if (o.networkPolicies) {
        reflector<NetworkPolicy>(
          'networkpolicies',
          '/apis/networking.k8s.io/v1/networkpolicies',
          { upsert: (p) => policies.upsert(p), remove: (p) => policies.delete(p) },
          (p) => ({ metadata: trimMeta(p.metadata), spec: p.spec }),
        );
      }
      for (const r of reflectors) r.start();
      pruneTimer = setInterval(() => index.prune(now()), Math.max(1000, Math.min(60_000, o.graceMs)));
      pruneTimer.unref();
      let timer: NodeJS.Timeout | undefined;
      const synced = await Promise.race([
        Promise.all(reflectors.map((r) => r.hasSynced())).then(() => true),
        new Promise<false>((r) => {
          timer = setTimeout(() => r(false), o.syncTimeoutMs ?? SYNC_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (!synced) {
        // Flows keep moving without the cluster (their lookups miss, counted); the reflectors go on retrying.
        log.warn({ timeoutMs: o.syncTimeoutMs ?? SYNC_TIMEOUT_MS }, 'kube caches not synced in time; enriching with what arrives');
        return;
      }
      // The first flows should find the workloads of pods listed at start: wait a little for their owners.
      let ownerTimer: NodeJS.Timeout | undefined;
      await Promise.race([settled(), new Promise((r) => (ownerTimer = setTimeout(r, OWNER_WAIT_MS)))]);
      clearTimeout(ownerTimer);
      log.info({ ...index.counts(), networkPolicies: policies.size }, 'kube cache synced');
    },
    stop() {
      for (const r of reflectors) r.stop();
      if (pruneTimer) clearInterval(pruneTimer);
      pruneTimer = undefined;
    },
    settled,
  };
}

/**
 * The processor's Kubernetes enrichment from the configuration (`kube` section) and the policy's
 * `networks.selectorZones`: undefined when `kube.enabled` is false; otherwise an inert source
 * whose `start()` syncs the caches (the runtime starts it before the processor).
 * @throws KubeError FLOE_KUBE_CONFIG from start() when the kubeconfig cannot be loaded.
 */
export function kubeEnricherFor(
  cfg: { kube: KubeOptions },
  policy: { policy: { networks: { selectorZones?: Record<string, Omit<SelectorZone, 'name'>> } } },
  deps: { logger?: Logger; metrics?: Registry },
): { enricher: KubeEnricher; start(): Promise<void>; stop(): void } | undefined {
  if (!cfg.kube.enabled) return undefined;
  const selectorZones = Object.entries(policy.policy.networks.selectorZones ?? {}).map(([name, z]) => ({ name, ...z }));
  const src = createKubeSource({ ...cfg.kube, selectorZones }, deps);
  return { enricher: src.enricher, start: () => src.start(), stop: () => src.stop() };
}
