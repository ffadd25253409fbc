/**
 * The development Kubernetes API server for end-to-end tests (deploy/dev/kube.sh: a real
 * kube-apiserver and etcd on 127.0.0.1, no controller manager, scheduler or kubelet), and the
 * objects a test makes there through kubectl: namespaces (with their default ServiceAccount,
 * which no controller creates here), Deployments, ReplicaSets owned by them, pods owned by the
 * ReplicaSets and bound to a node, `pods/status` patches that give pods their addresses (what a
 * kubelet would do), nodes. Every name a test makes carries its random id; `cleanup()` deletes
 * the namespaces and nodes it made, nothing else.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const KUBE_SH = fileURLToPath(new URL('../../deploy/dev/kube.sh', import.meta.url));

/** Where the dev API server is (FLOE_KUBECONFIG and FLOE_KUBECTL, else `deploy/dev/kube.sh env`): its kubeconfig and a kubectl, or why there is none. */
export function kubeServer(): { kubeconfig: string; kubectl: string } | { blocker: string } {
  let kubeconfig = process.env.FLOE_KUBECONFIG;
  let kubectl = process.env.FLOE_KUBECTL ?? process.env.KUBECTL;
  if (!kubeconfig && existsSync(KUBE_SH)) {
    try {
      const env = execFileSync('bash', [KUBE_SH, 'env'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 });
      // `export FLOE_KUBECONFIG='…' FLOE_KUBECTL='…'`
      kubeconfig = /FLOE_KUBECONFIG=(['"]?)([^'"\s]+)\1/.exec(env)?.[2];
      kubectl ??= /FLOE_KUBECTL=(['"]?)([^'"\s]+)\1/.exec(env)?.[2];
    } catch {
      /* not running */
    }
  }
  if (!kubeconfig || !existsSync(kubeconfig)) return { blocker: 'no Kubernetes API server: start it with `bash deploy/dev/kube.sh start` (or set FLOE_KUBECONFIG)' };
  const cached = join(process.env.FLOE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'floe'), 'kube', 'current', 'kubectl');
  kubectl ??= existsSync(cached) ? cached : 'kubectl';
  try {
    execFileSync(kubectl, ['--kubeconfig', kubeconfig, 'get', '--raw', '/readyz'], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    return { blocker: `the Kubernetes API server of ${kubeconfig} is not ready (kubectl ${kubectl})` };
  }
  return { kubeconfig, kubectl };
}

/** Why the kube end-to-end tests cannot run, or undefined; under FLOE_REQUIRE_KUBE=1 a missing server throws instead. */
export function kubeBlocker(): string | undefined {
  const s = kubeServer();
  if (!('blocker' in s)) return undefined;
  if (process.env.FLOE_REQUIRE_KUBE === '1') throw new Error(`FLOE_REQUIRE_KUBE=1: ${s.blocker}`);
  return s.blocker;
}

/** A test's objects on the API server, made through kubectl. */
export class KubeLab {
  private readonly namespaces: string[] = [];
  private readonly nodes: string[] = [];

  constructor(
    readonly kubeconfig: string,
    readonly kubectlPath: string,
  ) {}

  /** Runs kubectl (optionally with stdin) and returns stdout; throws with stderr. */
  kubectl(args: string[], input?: string): string {
    try {
      return execFileSync(this.kubectlPath, ['--kubeconfig', this.kubeconfig, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`kubectl ${args.join(' ')}: ${err.stderr ? err.stderr : err.message}`);
    }
  }

  /** Creates (server-side applies) objects given as JSON. */
  apply(...objects: object[]): void {
    this.kubectl(['apply', '--server-side', '--field-manager=floe-e2e', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n'));
  }

  uid(kind: string, name: string, ns?: string): string {
    return this.kubectl(['get', kind, name, ...(ns ? ['-n', ns] : []), '-o', 'jsonpath={.metadata.uid}']).trim();
  }

  /** A namespace with labels, and its `default` ServiceAccount. */
  namespace(name: string, labels: Record<string, string> = {}): void {
    this.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
    this.namespaces.push(name);
    this.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } });
  }

  /** A node with an InternalIP and a topology zone (status set on create, as a kubelet registers it). */
  node(name: string, addr: string, zone: string): void {
    this.nodes.push(name);
    this.kubectl(
      ['create', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': zone } } }),
    );
    this.kubectl(['patch', 'node', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: addr }] } })]);
  }

  /** A Deployment and a ReplicaSet it owns (no controller runs here: both are made by hand); returns the ReplicaSet's name and uid. */
  workload(ns: string, name: string, labels: Record<string, string>): { rs: string; rsUid: string } {
    const template = { metadata: { labels }, spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] } };
    this.apply({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns, labels }, spec: { replicas: 1, selector: { matchLabels: labels }, template } });
    const depUid = this.uid('deployment', name, ns);
    const rs = `${name}-6d4b5c7f9`;
    const rsLabels = { ...labels, 'pod-template-hash': '6d4b5c7f9' };
    this.apply({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: rs,
        namespace: ns,
        labels: rsLabels,
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: depUid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { replicas: 1, selector: { matchLabels: rsLabels }, template: { ...template, metadata: { labels: rsLabels } } },
    });
    return { rs, rsUid: this.uid('replicaset', rs, ns) };
  }

  /** A pod of ReplicaSet `rs`, bound to `node`, then given `ip` through pods/status (Running, startTime now). */
  pod(
    ns: string,
    name: string,
    owner: { rs: string; rsUid: string },
    labels: Record<string, string>,
    node: string,
    ip: string,
    ports: Array<{ name: string; containerPort: number }> = [],
  ): void {
    this.kubectl(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          namespace: ns,
          labels: { ...labels, 'pod-template-hash': '6d4b5c7f9' },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner.rs, uid: owner.rsUid, controller: true, blockOwnerDeletion: true }],
        },
        spec: { nodeName: node, containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10', ports: ports.map((p) => ({ ...p, protocol: 'TCP' })) }] },
      }),
    );
    this.kubectl([
      'patch',
      'pod',
      name,
      '-n',
      ns,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: undefined, startTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } }),
    ]);
  }

  /** Deletes a pod at once (no kubelet would confirm a graceful deletion). */
  deletePod(ns: string, name: string): void {
    this.kubectl(['delete', 'pod', name, '-n', ns, '--grace-period=0', '--force', '--wait=false']);
  }

  /**
   * Deletes what the test made: the objects in its namespaces (every kind a test makes: no
   * namespace controller runs here, so a namespace finalized by hand would leave them in etcd,
   * where later tests' informers see them), then the namespaces (finalized by hand), then its nodes.
   */
  cleanup(): void {
    for (const ns of this.namespaces) {
      try {
        this.kubectl([
          'delete',
          'pods,replicasets,deployments,jobs,cronjobs,networkpolicies,services,endpointslices,serviceaccounts,configmaps',
          '--all',
          '-n',
          ns,
          '--grace-period=0',
          '--force',
          '--wait=false',
        ]);
        this.kubectl(['delete', 'namespace', ns, '--wait=false']);
        const obj = JSON.parse(this.kubectl(['get', 'namespace', ns, '-o', 'json'])) as { spec?: { finalizers?: string[] } };
        obj.spec = { ...obj.spec, finalizers: [] };
        this.kubectl(['replace', '--raw', `/api/v1/namespaces/${ns}/finalize`, '-f', '-'], JSON.stringify(obj));
      } catch {
        /* gone */
      }
    }
    for (const n of this.nodes) {
      try {
        this.kubectl(['delete', 'node', n, '--wait=false']);
      } catch {
        /* gone */
      }
    }
  }
}
