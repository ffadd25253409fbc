/**
 * Test support (entry `@floe/kube-config/testing`; test/helpers/kube.ts re-exports it): the
 * development Kubernetes API server for tests (deploy/dev/kube.sh: kube-apiserver v1.37.2 +
 * etcd on 127.0.0.1:16443, admin token in its kubeconfig). Tests skip when it does not answer,
 * unless FLOE_REQUIRE_KUBE=1 (CI), which turns the skip into a failure.
 *
 * Environment: FLOE_KUBECONFIG (default `$FLOE_CACHE/kube/run/kubeconfig`), FLOE_KUBECTL (default
 * `$FLOE_CACHE/kube/current/kubectl`), FLOE_CACHE (default `${XDG_CACHE_HOME:-~/.cache}/floe`).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { fileURLToPath } from 'node:url';
import { crdFiles } from './crd-files.js';

/** The cache folder of deploy/dev (lib.sh's FLOE_CACHE). */
export function floeCache(): string {
  return process.env.FLOE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'floe');
}

/** Whether the dev API server is required (FLOE_REQUIRE_KUBE=1: a missing server fails the tests). */
export const KUBE_REQUIRED = process.env.FLOE_REQUIRE_KUBE === '1';

/** A reachable dev API server. */
export interface DevKube {
  /** Path of its kubeconfig (admin token, system:masters). */
  kubeconfigPath: string;
  /** Loaded from that file. */
  kubeConfig: KubeConfig;
  /** Path of the kubectl built with it (may not exist when only the server was started elsewhere). */
  kubectl: string;
}

/**
 * Finds the dev API server and checks it answers GET /readyz.
 * @returns the server, or `{ skip }` saying why not (for `describe(..., { skip })`).
 */
export async function devKube(): Promise<DevKube | { skip: string }> {
  const kubeconfigPath = process.env.FLOE_KUBECONFIG ?? join(floeCache(), 'kube', 'run', 'kubeconfig');
  const kubectl = process.env.FLOE_KUBECTL ?? join(floeCache(), 'kube', 'current', 'kubectl');
  const hint = '(bash deploy/dev/kube.sh start; FLOE_REQUIRE_KUBE=1 makes this fail)';
  if (!existsSync(kubeconfigPath)) return { skip: `no kubeconfig at ${kubeconfigPath} ${hint}` };
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  try {
    // GET /api/v1 (the core resource list) through the kubeconfig's CA and token.
    await kubeConfig.makeApiClient(CoreV1Api).getAPIResources();
  } catch (e) {
    return { skip: `the API server of ${kubeconfigPath} does not answer: ${(e as Error).message.slice(0, 200)} ${hint}` };
  }
  return { kubeconfigPath, kubeConfig, kubectl };
}

/** A fresh namespace name (`<prefix>-<8 hex>`), so tests never collide with each other or earlier runs. */
export function freshNamespace(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Runs kubectl against the dev server; resolves with stdout; rejects (non-zero exit) with stdout and stderr in the message and as properties. */
export function kubectl(kube: DevKube, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(kube.kubectl, ['--kubeconfig', kube.kubeconfigPath, ...args], { maxBuffer: 64 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(new Error(`kubectl ${args.join(' ')}: ${stdout}${stderr || err.message}`), { stdout, stderr }));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Polls `pred` every `everyMs` until it returns a value other than undefined/false; throws after `ms` naming `what`. */
export async function pollUntil<T>(what: string, ms: number, pred: () => T | undefined | false | Promise<T | undefined | false>, everyMs = 100): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Applies floe's CRDs (deploy/k8s/crd-*.yaml) with `kubectl apply --server-side` (idempotent, safe
 * beside other tests applying them) and waits until the API server reports them Established.
 * kubectl, not client-node's typed API: client-node's model serializer drops the schema keys its
 * models spell differently (`enum`, `x-kubernetes-int-or-string`).
 * @throws Error from kubectl, or after 30 s without Established.
 */
export async function applyFloeCrds(kube: DevKube): Promise<void> {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const files = crdFiles().flatMap((f) => ['-f', join(root, f.path)]);
  await kubectl(kube, ['apply', '--server-side', '--force-conflicts', '--field-manager=floe-tests', ...files]);
  const ext = kube.kubeConfig.makeApiClient(ApiextensionsV1Api);
  for (const f of crdFiles()) {
    await pollUntil(`CRD ${f.crd.metadata.name} established`, 30_000, async () =>
      (await ext.readCustomResourceDefinition({ name: f.crd.metadata.name })).status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'),
    );
  }
}
