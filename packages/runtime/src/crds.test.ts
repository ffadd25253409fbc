// processor.crds against the real API server of deploy/dev/kube.sh: FloePolicy and FloeNeverBlock
// objects edited through the API change the running pipeline and responder within seconds, and
// their status says what is active or why a change was refused. Skipped when the dev server is not
// running, unless FLOE_REQUIRE_KUBE=1 (CI).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parseFile, type FlowRecord } from '@floe/flow';
import { createPipeline } from '@floe/pipeline';
import { compilePolicy, defaultPolicy, parseCidr, parsePolicy } from '@floe/policy';
import { createResponder } from '@floe/respond';
import { noopLogger } from '@floe/telemetry';
import { FLOE_GROUP, FLOE_VERSION, type FloeResourceStatus } from '@floe/kube-config';
import { applyFloeCrds, devKube, freshNamespace, KUBE_REQUIRED, pollUntil as until } from '@floe/kube-config/testing';
import { type CrdTargets, crdComponent, createPolicySlot, splitRuntimeNeverBlock, swapPolicy } from './crds.js';
import { detectorsFor, liveProtectedSetFor, responderOptions } from './wiring.js';

const kube = await devKube();
const skip = 'skip' in kube ? kube.skip : false;
if (KUBE_REQUIRED && 'skip' in kube) it('the dev API server answers (FLOE_REQUIRE_KUBE=1)', () => assert.fail(kube.skip));

// A real capture (packages/policy/testdata/SOURCES.md): nmap SYN scan of 10.60.0.14's top 100 ports by 10.50.0.2.
const CAPTURE = fileURLToPath(new URL('../../policy/testdata/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log', import.meta.url));
const GENEROUS_MS = 30_000;

describe('processor.crds: FloePolicy and FloeNeverBlock through the API server', { skip }, () => {
  if ('skip' in kube) return;
  const core = kube.kubeConfig.makeApiClient(CoreV1Api);
  const custom = kube.kubeConfig.makeApiClient(CustomObjectsApi);

  it('applies an edited FloePolicy, refuses an invalid one with its field in status, and merges FloeNeverBlock into the protected set', async (t) => {
    await applyFloeCrds(kube);
    const ns = freshNamespace('floe-crds');
    await core.createNamespace({ body: { metadata: { name: ns } } });
    t.after(() =>
      core.deleteNamespace({ name: ns }).then(
        () => undefined,
        () => undefined,
      ),
    );

    // The processor's parts as roles.ts wires them: the pipeline reads the policy through the slot.
    const base = compilePolicy(defaultPolicy());
    const slot = createPolicySlot(base);
    const detectors = detectorsFor(base);
    const guard = liveProtectedSetFor(base, []);
    const responder = createResponder(responderOptions(base, []), { guard });
    const pipeline = createPipeline({ policy: slot.view, detectors });
    const component = crdComponent(
      { kubeconfig: kube.kubeconfigPath, namespace: ns, policyName: 'default' },
      { slot, base, detectors, setNeverBlock: (e) => guard.setRuntimeNeverBlock(e), nodeAddrs: [] },
      { logger: noopLogger },
    );
    await component.start();
    t.after(() => component.stop());

    // Flows of the scan, one new port each time: a policy.blocklist finding id is new for each.
    const { records } = await parseFile(CAPTURE, { format: 'conntrack' });
    // one flow per port: nmap probes a port again when unanswered, and a repeated id is not emitted again
    const byPort = new Map<number | undefined, FlowRecord>();
    for (const r of records) if (r.srcAddr === '10.50.0.2' && r.dstAddr === '10.60.0.14' && r.event === 'new' && !byPort.has(r.dstPort)) byPort.set(r.dstPort, r);
    const scan = [...byPort.values()];
    assert.ok(scan.length >= 50, `the capture holds the scan (${scan.length} NEW flows)`);
    let next = 0;
    const blocklisted = (flow: FlowRecord) => pipeline.classify(flow).findings.some((f) => f.detector === 'policy.blocklist' && f.entity.addr === '10.60.0.14');
    // the policy the pipeline calls, without the pipeline's de-duplication of finding ids
    const judged = (flow: FlowRecord) => slot.view.evaluate(slot.view.classify(flow)).some((f) => f.detector === 'policy.blocklist');
    assert.equal(blocklisted(scan[next++]), false, 'the default policy lists no blocklist');

    const plural = 'floepolicies';
    const obj = (spec: unknown) => ({ apiVersion: `${FLOE_GROUP}/${FLOE_VERSION}`, kind: 'FloePolicy', metadata: { name: 'default', namespace: ns }, spec });
    const status = async (name: string, pl = plural) =>
      ((await custom.getNamespacedCustomObject({ group: FLOE_GROUP, version: FLOE_VERSION, namespace: ns, plural: pl, name })) as { status?: FloeResourceStatus }).status;

    // 1. created through the API: active in the pipeline within seconds, status Active with its version
    await custom.createNamespacedCustomObject({
      group: FLOE_GROUP,
      version: FLOE_VERSION,
      namespace: ns,
      plural,
      body: obj({ version: 1, name: 'crd-test', blocklists: { cidrs: ['10.60.0.0/24'] } }),
    });
    await until('the FloePolicy blocklist active in the pipeline', GENEROUS_MS, () => blocklisted(scan[next++]), 100);
    assert.equal(slot.view.policy.name, 'crd-test');
    const active = await until(
      'status Active',
      GENEROUS_MS,
      async () => {
        const s = await status('default');
        return s?.phase === 'Active' && s.observedGeneration === 1 ? s : undefined;
      },
      100,
    );
    assert.equal(active.activeVersion, slot.current().version);
    assert.equal(active.activeGeneration, 1);
    assert.deepEqual(active.errors, []);

    // 2. the CRD's OpenAPI schema refuses what it can see (version must be 1), at the API
    await assert.rejects(
      custom.patchNamespacedCustomObject(
        { group: FLOE_GROUP, version: FLOE_VERSION, namespace: ns, plural, name: 'default', body: { spec: { version: 2 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
      /version|Unsupported value|422|Invalid/,
    );

    // 3. an invalid CIDR passes the schema (a string) and is refused by floe's validator: status
    // Refused with the field path, the earlier generation stays active in the pipeline
    const versionBefore = slot.current().version;
    await custom.patchNamespacedCustomObject(
      { group: FLOE_GROUP, version: FLOE_VERSION, namespace: ns, plural, name: 'default', body: { spec: { blocklists: { cidrs: ['10.60.0.0/24', '10.60.0.300/32'] } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const refused = await until(
      'status Refused',
      GENEROUS_MS,
      async () => {
        const s = await status('default');
        return s?.phase === 'Refused' && s.observedGeneration === 2 ? s : undefined;
      },
      100,
    );
    assert.equal(refused.errors[0].field, 'spec.blocklists.cidrs[1]');
    assert.match(refused.errors[0].code, /^FLOE_POLICY_/);
    assert.equal(refused.activeGeneration, 1);
    assert.equal(refused.activeVersion, versionBefore);
    assert.match(refused.message, /generation 1 stays active/);
    assert.equal(slot.current().version, versionBefore);
    assert.equal(judged(scan[next++]), true, 'the previous policy still judges new flows');

    // 4. a FloePolicy of another name is not applied, and says so
    await custom.createNamespacedCustomObject({
      group: FLOE_GROUP,
      version: FLOE_VERSION,
      namespace: ns,
      plural,
      body: { ...obj({ version: 1 }), metadata: { name: 'other', namespace: ns } },
    });
    const ignored = await until(
      'status Ignored',
      GENEROUS_MS,
      async () => {
        const s = await status('other');
        return s?.phase === 'Ignored' ? s : undefined;
      },
      100,
    );
    assert.match(ignored.message, /named default/);
    assert.equal(slot.current().version, versionBefore);

    // 5. FloeNeverBlock: its CIDRs join the responder's protected set (a manual block is refused)
    const manual = () => responder.manualBlock({ target: '10.70.0.2', reason: 'crd test', user: 'test' }, Date.now());
    const first = manual();
    assert.equal(first.kind, 'decision', 'not protected before');
    responder.release('10.70.0.2');
    await custom.createNamespacedCustomObject({
      group: FLOE_GROUP,
      version: FLOE_VERSION,
      namespace: ns,
      plural: 'floeneverblocks',
      body: {
        apiVersion: `${FLOE_GROUP}/${FLOE_VERSION}`,
        kind: 'FloeNeverBlock',
        metadata: { name: 'web-clients', namespace: ns },
        spec: { cidrs: ['10.70.0.0/24'], reason: 'benign web clients' },
      },
    });
    const refusedBlock = await until(
      'the never-block entry protects 10.70.0.2',
      GENEROUS_MS,
      () => {
        const o = manual();
        if (o.kind === 'decision') responder.release('10.70.0.2');
        return o.kind === 'refused' ? o : undefined;
      },
      100,
    );
    assert.equal(refusedBlock.kind === 'refused' && refusedBlock.protectedBy, 'never-block');
    const nb = await until(
      'FloeNeverBlock status Active',
      GENEROUS_MS,
      async () => {
        const s = await status('web-clients', 'floeneverblocks');
        return s?.phase === 'Active' ? s : undefined;
      },
      100,
    );
    assert.match(nb.message, /1 CIDR never blocked/);

    // 6. deleting the FloePolicy goes back to the configured policy
    await custom.deleteNamespacedCustomObject({ group: FLOE_GROUP, version: FLOE_VERSION, namespace: ns, plural, name: 'default' });
    await until('back to the configured policy', GENEROUS_MS, () => slot.current().version === base.version, 100);
    assert.equal(judged(scan[next++]), false);
  });
});

it('swapPolicy: the pipeline judges by the new policy at once; detectors are rebuilt only when their section changed; delete goes back', async () => {
  const base = compilePolicy(defaultPolicy());
  const slot = createPolicySlot(base);
  const detectors = detectorsFor(base);
  const before = [...detectors];
  const guard = liveProtectedSetFor(base, []);
  const responder = createResponder(responderOptions(base, []), { guard });
  const targets: CrdTargets = { slot, base, detectors, setNeverBlock: (e) => guard.setRuntimeNeverBlock(e), nodeAddrs: [] };
  const withBlocklist = parsePolicy('version: 1\nblocklists: { cidrs: [10.60.0.0/24] }\nrespond: { neverBlock: [192.0.2.0/24] }\n', 'inline');
  const v = swapPolicy(targets, withBlocklist, [], 'ns/default');
  assert.equal(slot.view.version, v);
  assert.notEqual(v, base.version);
  assert.ok(detectors.length === before.length && detectors.every((d, i) => d === before[i]), 'same detectors section: the same detector objects (windows kept)');
  assert.equal(responder.manualBlock({ target: '192.0.2.1', reason: 'r', user: 'u' }, Date.now()).kind, 'refused', "the new policy's respond.neverBlock protects");
  const { records } = await parseFile(CAPTURE, { format: 'conntrack' });
  const flow = records.find((r) => r.dstAddr === '10.60.0.14')!;
  assert.deepEqual(
    slot.view.evaluate(flow).map((f) => f.detector),
    ['policy.blocklist'],
  );
  swapPolicy(targets, parsePolicy('version: 1\ndetectors: { portscan: { minPorts: 30 } }\n', 'inline'), [], 'ns/default');
  assert.ok(
    detectors.every((d, i) => d !== before[i]),
    'a changed detectors section: new detectors',
  );
  assert.equal(detectors.length, before.length);
  assert.equal(swapPolicy(targets, undefined, [], 'ns/default'), base.version);
  assert.deepEqual(slot.view.evaluate(flow), []);
});

it('splitRuntimeNeverBlock: the API list (triage sync) and the custom resources each replace only their part of the guard', () => {
  const guard = liveProtectedSetFor(compilePolicy(defaultPolicy()), []);
  const split = splitRuntimeNeverBlock(guard);
  split.api.setRuntimeNeverBlock([{ cidr: '192.0.2.0/24', label: 'api' }]);
  split.setCrd([{ cidr: '198.51.100.0/24', label: 'FloeNeverBlock ns/x' }]);
  assert.deepEqual(
    guard.runtimeNeverBlock().map((e) => e.cidr),
    ['192.0.2.0/24', '198.51.100.0/24'],
  );
  assert.deepEqual(
    split.api.runtimeNeverBlock().map((e) => e.cidr),
    ['192.0.2.0/24'],
    'the sync sees its own list',
  );
  split.api.setRuntimeNeverBlock([]);
  assert.deepEqual(
    guard.runtimeNeverBlock().map((e) => e.cidr),
    ['198.51.100.0/24'],
    'an emptied API list keeps the FloeNeverBlock entries',
  );
  assert.equal(guard.check(parseCidr('198.51.100.7'))?.reason, 'never-block');
  split.setCrd([]);
  assert.equal(guard.check(parseCidr('198.51.100.7')), undefined);
});
