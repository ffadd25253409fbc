import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject, ObjectMeta, OwnerReference, Pod } from './objects.js';
import { OwnerResolver } from './owners.js';
import { fixtureItems } from './testing.js';

/** The owners of testdata/owners.yaml, served as the API server's PartialObjectMetadata GETs would. */
function api() {
  const byKey = new Map<string, ObjectMeta>();
  for (const o of fixtureItems<KubeObject>('owners.yaml')) byKey.set(`${o.metadata?.namespace}/${o.metadata?.name}`, o.metadata as ObjectMeta);
  const calls: string[] = [];
  const fetch = async (ref: OwnerReference, ns: string) => {
    calls.push(`${ref.kind}/${ns}/${ref.name}`);
    return byKey.get(`${ns}/${ref.name}`);
  };
  return { fetch, calls };
}

describe('owner resolution through metadata', () => {
  it('Pod -> ReplicaSet -> Deployment, with one GET per ReplicaSet (cached)', async () => {
    const { fetch, calls } = api();
    const r = new OwnerResolver(fetch);
    const [web] = fixtureItems<Pod>('cluster.yaml', 'Pod');
    assert.deepEqual(await r.resolve(web.metadata?.ownerReferences, 'shop'), { kind: 'Deployment', name: 'web' });
    assert.deepEqual(await r.resolve(web.metadata?.ownerReferences, 'shop'), { kind: 'Deployment', name: 'web' });
    assert.deepEqual(calls, ['ReplicaSet/shop/web-5d8f7c6b9']);
  });
  it('StatefulSet and DaemonSet pods name their controller without a GET', async () => {
    const { fetch, calls } = api();
    const r = new OwnerResolver(fetch);
    const [, api0, exporter] = fixtureItems<Pod>('cluster.yaml', 'Pod');
    assert.deepEqual(await r.resolve(api0.metadata?.ownerReferences, 'payments'), { kind: 'StatefulSet', name: 'api' });
    assert.deepEqual(await r.resolve(exporter.metadata?.ownerReferences, 'shop'), { kind: 'DaemonSet', name: 'node-exporter' });
    assert.deepEqual(calls, []);
  });
  it('Job -> CronJob', async () => {
    const { fetch } = api();
    const refs: OwnerReference[] = [{ apiVersion: 'batch/v1', kind: 'Job', name: 'backup-29400000', uid: '3f1e0c55-2222-4a4b-9a7e-000000000009', controller: true }];
    assert.deepEqual(await new OwnerResolver(fetch).resolve(refs, 'shop'), { kind: 'CronJob', name: 'backup' });
  });
  it('a ReplicaSet that is gone, or another object under the same name (uid differs), is the workload itself', async () => {
    const { fetch } = api();
    const r = new OwnerResolver(fetch);
    assert.deepEqual(await r.resolve([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone-1', controller: true }], 'shop'), { kind: 'ReplicaSet', name: 'gone-1' });
    assert.deepEqual(await r.resolve([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f7c6b9', uid: 'other', controller: true }], 'shop'), {
      kind: 'ReplicaSet',
      name: 'web-5d8f7c6b9',
    });
  });
  it('a bare pod (no controller reference) has no workload; a failed GET is counted and not cached', async () => {
    let n = 0;
    const r = new OwnerResolver(async () => {
      n++;
      throw new Error('connection refused');
    });
    assert.equal(await r.resolve([{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x' }], 'shop'), undefined);
    const refs: OwnerReference[] = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs-1', controller: true }];
    assert.deepEqual(await r.resolve(refs, 'shop'), { kind: 'ReplicaSet', name: 'rs-1' });
    await r.resolve(refs, 'shop');
    assert.equal(n, 2);
    assert.equal(r.failed, 2);
  });
});
