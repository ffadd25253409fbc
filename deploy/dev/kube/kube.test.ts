// The development API server of deploy/dev/kube.sh: it answers as kube-apiserver v1.37.2 and
// stores objects in its etcd. Skipped when it is not running, unless FLOE_REQUIRE_KUBE=1 (CI).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoreV1Api, VersionApi } from '@kubernetes/client-node';
import { devKube, freshNamespace, KUBE_REQUIRED, kubectl } from '@floe/kube-config/testing';

const kube = await devKube();
const skip = 'skip' in kube ? kube.skip : false;

if (KUBE_REQUIRED && 'skip' in kube) {
  it('the dev API server answers (FLOE_REQUIRE_KUBE=1)', () => assert.fail(kube.skip));
}

describe('deploy/dev/kube.sh API server', { skip }, () => {
  if ('skip' in kube) return;
  const core = kube.kubeConfig.makeApiClient(CoreV1Api);

  it('reports the version it was built as (component-base ldflags)', async () => {
    const v = await kube.kubeConfig.makeApiClient(VersionApi).getCode();
    assert.equal(v.gitVersion, 'v1.37.2');
    assert.equal(v.major, '1');
    assert.equal(v.minor, '37');
  });

  it('creates a namespace, reads it back from etcd, and deletes it', async (t) => {
    const name = freshNamespace('floe-devkube');
    const created = await core.createNamespace({ body: { metadata: { name, labels: { 'floe.dev/test': 'kube-sh' } } } });
    t.after(() =>
      core.deleteNamespace({ name }).then(
        () => undefined,
        () => undefined,
      ),
    );
    assert.equal(created.metadata?.name, name);
    assert.ok(created.metadata?.uid, 'the server assigns a uid');
    const read = await core.readNamespace({ name });
    assert.equal(read.metadata?.uid, created.metadata?.uid);
    assert.equal(read.metadata?.labels?.['floe.dev/test'], 'kube-sh');
    const listed = await core.listNamespace({ labelSelector: 'floe.dev/test=kube-sh' });
    assert.ok(listed.items.some((n) => n.metadata?.name === name));
    await assert.rejects(core.createNamespace({ body: { metadata: { name } } }), /409|AlreadyExists|already exists/);
  });

  it('kubectl built from the same module talks to it', async () => {
    const out = JSON.parse(await kubectl(kube, ['version', '-o', 'json'])) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
    assert.equal(out.clientVersion.gitVersion, 'v1.37.2');
    assert.equal(out.serverVersion.gitVersion, 'v1.37.2');
  });
});
