// deploy/k8s against the real API server of deploy/dev/kube.sh: the kustomize base, rendered by
// kubectl's kustomize in an overlay that moves it to a fresh namespace (and suffixes the
// cluster-wide RBAC names), is applied server-side and every object is read back; RBAC is checked
// with SubjectAccessReview and `kubectl auth can-i --as`. Skipped when the dev server is not
// running, unless FLOE_REQUIRE_KUBE=1 (CI).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { AuthorizationV1Api, CoreV1Api, KubernetesObjectApi, type KubernetesObject, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { devKube, freshNamespace, KUBE_REQUIRED, kubectl } from '@floe/kube-config/testing';

const BASE = fileURLToPath(new URL('.', import.meta.url));
const kube = await devKube();
const skip = 'skip' in kube ? kube.skip : !existsSync(kube.kubectl) ? `no kubectl at ${kube.kubectl} (bash deploy/dev/kube.sh install)` : false;
if (KUBE_REQUIRED && skip) it('the dev API server and kubectl are there (FLOE_REQUIRE_KUBE=1)', () => assert.fail(String(skip)));

type Obj = KubernetesObject & Record<string, unknown>;

/** Every key of `want` is in `got` with an equal value (arrays element by element); server defaults may add keys. */
function assertSubset(want: unknown, got: unknown, at: string): void {
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), `${at}: an array`);
    assert.equal(got.length, want.length, `${at}: length`);
    want.forEach((w, i) => assertSubset(w, got[i], `${at}[${i}]`));
  } else if (typeof want === 'object' && want !== null) {
    assert.ok(typeof got === 'object' && got !== null, `${at}: an object`);
    for (const [k, v] of Object.entries(want)) assertSubset(v, (got as Record<string, unknown>)[k], `${at}.${k}`);
  } else {
    assert.equal(got, want, at);
  }
}

describe('deploy/k8s applied server-side to a real kube-apiserver', { skip }, () => {
  if ('skip' in kube || skip) return;
  const ns = freshNamespace('floe-k8s');
  const suffix = `-${ns.slice(-8)}`;
  const objects = kube.kubeConfig.makeApiClient(KubernetesObjectApi);
  const core = kube.kubeConfig.makeApiClient(CoreV1Api);
  const rendered: Obj[] = [];
  after(async () => {
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
    for (const o of rendered) if (o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding') await objects.delete(o).catch(() => undefined);
  });

  it('renders with kustomize, applies every object server-side, and reads each back as applied', async (t) => {
    const overlay = mkdtempSync(join(tmpdir(), 'floe-k8s-overlay-'));
    t.after(() => rmSync(overlay, { recursive: true, force: true }));
    writeFileSync(
      join(overlay, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${JSON.stringify(ns)}\nnameSuffix: ${JSON.stringify(suffix)}\nresources:\n  - ${relative(overlay, BASE)}\n`,
    );
    const yaml = await kubectl(kube, ['kustomize', overlay]);
    for (const d of parseAllDocuments(yaml)) rendered.push(d.toJS() as Obj);
    const kinds = rendered.map((o) => o.kind).sort();
    for (const k of [
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'CustomResourceDefinition',
      'DaemonSet',
      'Deployment',
      'Namespace',
      'NetworkPolicy',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]) {
      assert.ok(kinds.includes(k), `the base has a ${k}`);
    }
    // the overlay moved everything into the fresh namespace; CRD names are fixed by their group
    assert.deepEqual(
      rendered.filter((o) => o.kind === 'Namespace').map((o) => o.metadata?.name),
      [ns],
    );
    assert.deepEqual(
      rendered
        .filter((o) => o.kind === 'CustomResourceDefinition')
        .map((o) => o.metadata?.name)
        .sort(),
      ['floeneverblocks.floe.dev', 'floepolicies.floe.dev'],
    );

    // the same CRDs may be applied by other tests (and their create/replace): --force-conflicts
    const out = await kubectl(kube, ['apply', '--server-side', '--force-conflicts', '--field-manager=floe-k8s-test', '-f', '-'], yaml);
    assert.equal(out.trim().split('\n').length, rendered.length, `one line per object:\n${out}`);

    // read back as stored (kubectl's JSON, not client-node's typed models, which rename schema keys such as `enum`)
    const list = JSON.parse(await kubectl(kube, ['get', '-f', '-', '-o', 'json', '--show-managed-fields'], yaml)) as { items: Obj[] };
    assert.equal(list.items.length, rendered.length);
    for (const [i, o] of rendered.entries()) {
      const got = list.items[i];
      assert.equal(`${got.kind}/${got.metadata?.name}`, `${o.kind}/${o.metadata?.name}`);
      assert.ok(got.metadata?.uid, `${o.kind}/${o.metadata?.name} stored`);
      const managers = (got.metadata?.managedFields ?? []).map((m) => `${m.manager}:${m.operation}`);
      assert.ok(managers.includes('floe-k8s-test:Apply'), `${o.kind}/${o.metadata?.name} applied server-side (${managers.join(', ')})`);
      for (const key of ['spec', 'data', 'rules', 'roleRef', 'subjects', 'automountServiceAccountToken'] as const) {
        if (o[key] !== undefined) assertSubset(o[key], got[key], `${o.kind}/${o.metadata?.name}.${key}`);
      }
      assertSubset(o.metadata?.labels ?? {}, got.metadata?.labels ?? {}, `${o.kind}/${o.metadata?.name}.metadata.labels`);
    }
  });

  it("RBAC: the processor reads what enrichment needs and writes only the floe resources' status; the other roles get nothing", async () => {
    assert.ok(rendered.length > 0, 'applied by the test before');
    const authz = kube.kubeConfig.makeApiClient(AuthorizationV1Api);
    const sa = (name: string) => `system:serviceaccount:${ns}:${name}${suffix}`;
    const can = async (user: string, attrs: { verb: string; resource: string; group?: string; subresource?: string; namespace?: string }): Promise<boolean> => {
      const r = await authz.createSubjectAccessReview({
        body: {
          spec: {
            user,
            groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
            resourceAttributes: { verb: attrs.verb, resource: attrs.resource, group: attrs.group ?? '', subresource: attrs.subresource, namespace: attrs.namespace },
          },
        },
      });
      return r.status?.allowed === true;
    };
    const processor = sa('floe-processor');
    for (const [resource, group] of [
      ['pods', ''],
      ['services', ''],
      ['nodes', ''],
      ['namespaces', ''],
      ['endpointslices', 'discovery.k8s.io'],
      ['networkpolicies', 'networking.k8s.io'],
      ['replicasets', 'apps'],
      ['deployments', 'apps'],
      ['statefulsets', 'apps'],
      ['daemonsets', 'apps'],
      ['jobs', 'batch'],
      ['cronjobs', 'batch'],
    ]) {
      for (const verb of ['get', 'list', 'watch']) assert.equal(await can(processor, { verb, resource, group }), true, `processor may ${verb} ${resource}`);
    }
    for (const [verb, resource, group, namespace] of [
      ['get', 'secrets', '', ns],
      ['list', 'secrets', '', undefined],
      ['get', 'configmaps', '', ns],
      ['create', 'pods', '', ns],
      ['delete', 'pods', '', ns],
      ['patch', 'networkpolicies', 'networking.k8s.io', ns],
      ['create', 'pods/exec', '', ns],
    ] as const) {
      assert.equal(
        await can(processor, { verb, resource: resource.split('/')[0], subresource: resource.split('/')[1], group, namespace }),
        false,
        `processor may not ${verb} ${resource}`,
      );
    }
    // the floe resources of its own namespace: read, and write the status subresource only
    for (const plural of ['floepolicies', 'floeneverblocks']) {
      assert.equal(await can(processor, { verb: 'watch', resource: plural, group: 'floe.dev', namespace: ns }), true, `processor may watch ${plural}`);
      assert.equal(
        await can(processor, { verb: 'patch', resource: plural, group: 'floe.dev', subresource: 'status', namespace: ns }),
        true,
        `processor may patch ${plural}/status`,
      );
      assert.equal(await can(processor, { verb: 'patch', resource: plural, group: 'floe.dev', namespace: ns }), false, `processor may not patch ${plural} itself`);
      assert.equal(
        await can(processor, { verb: 'list', resource: plural, group: 'floe.dev', namespace: 'default' }),
        false,
        `processor may not list ${plural} of other namespaces`,
      );
    }
    for (const other of ['floe-api', 'floe-node']) {
      assert.equal(await can(sa(other), { verb: 'list', resource: 'pods' }), false, `${other} may not list pods`);
      assert.equal(await can(sa(other), { verb: 'get', resource: 'secrets', namespace: ns }), false, `${other} may not read secrets`);
    }
    // the same answers through kubectl's impersonation (the admin token may impersonate)
    // exit 0 and "yes", or exit 1 and "no"
    const canI = async (args: string[]) => (await kubectl(kube, ['auth', 'can-i', '--as', processor, ...args]).catch((e: { stdout?: string }) => e.stdout ?? '')).trim();
    assert.equal(await canI(['watch', 'pods', '--all-namespaces']), 'yes');
    assert.equal(await canI(['get', 'secrets', '-n', ns]), 'no');
    assert.equal(await canI(['patch', 'floepolicies.floe.dev', '--subresource=status', '-n', ns]), 'yes');
  });

  it('the RBAC objects name each other: bindings point at the suffixed roles and service accounts', async () => {
    const rbac = kube.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    const crb = await rbac.readClusterRoleBinding({ name: `floe-processor-enrichment${suffix}` });
    assert.equal(crb.roleRef.name, `floe-processor-enrichment${suffix}`);
    assert.deepEqual(
      crb.subjects?.map((x) => [x.kind, x.name, x.namespace]),
      [['ServiceAccount', `floe-processor${suffix}`, ns]],
    );
    const dep = (await objects.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `floe-processor${suffix}`, namespace: ns } })) as Obj & {
      spec: { template: { spec: { serviceAccountName: string } } };
    };
    assert.equal(dep.spec.template.spec.serviceAccountName, `floe-processor${suffix}`);
  });
});
