/**
 * Issue 9 part 3 end to end: a real `floe run` with processor.crds on (FLOE_PROCESSOR_CRDS_*)
 * against the real kube-apiserver of deploy/dev/kube.sh takes its policy from a FloePolicy and
 * its never-block list from a FloeNeverBlock, and writes their status. The replayed capture is
 * packages/policy/testdata's nmap scan of 10.60.0.14 by 10.50.0.2 (SOURCES.md there): with the
 * configured (default) policy it is one blocked scanner; with the FloePolicy's blocklist every
 * flow to 10.60.0.0/24 is a policy.blocklist finding, and the FloeNeverBlock keeps 10.50.0.2 from
 * being blocked. Skipped without the dev server unless FLOE_REQUIRE_KUBE=1 (CI).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { FLOE_GROUP, FLOE_VERSION, type FloeResourceStatus } from '@floe/kube-config';
import { applyFloeCrds, devKube, freshNamespace, KUBE_REQUIRED } from '../helpers/kube.js';

const FLOE = fileURLToPath(new URL('../../services/cli/bin/floe.js', import.meta.url));
const CAPTURE = fileURLToPath(new URL('../../packages/policy/testdata/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log', import.meta.url));
const kube = await devKube();
if (KUBE_REQUIRED && 'skip' in kube) it('the dev API server answers (FLOE_REQUIRE_KUBE=1)', () => assert.fail(kube.skip));

/** Runs `floe run --replay CAPTURE --exit-after-replay` with `env`; resolves with its stdout lines. */
function floeRun(env: Record<string, string>): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FLOE, 'run', '--replay', CAPTURE, '--speed', 'max', '--store', ':memory:', '--api-port', '0', '--exit-after-replay'], {
      env: { ...process.env, FLOE_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, lines: out.split('\n'), stderr });
    });
  });
}

describe('floe run with processor.crds against the real API server', { skip: 'skip' in kube ? kube.skip : false }, () => {
  if ('skip' in kube) return;

  it('applies the FloePolicy and FloeNeverBlock of its namespace before the first flow and reports them Active', async (t) => {
    await applyFloeCrds(kube);
    const core = kube.kubeConfig.makeApiClient(CoreV1Api);
    const custom = kube.kubeConfig.makeApiClient(CustomObjectsApi);
    const ns = freshNamespace('floe-e2e-crds');
    await core.createNamespace({ body: { metadata: { name: ns } } });
    t.after(() =>
      core.deleteNamespace({ name: ns }).then(
        () => undefined,
        () => undefined,
      ),
    );
    const env = { FLOE_PROCESSOR_CRDS_ENABLED: 'true', FLOE_PROCESSOR_CRDS_KUBECONFIG: kube.kubeconfigPath, FLOE_PROCESSOR_CRDS_NAMESPACE: ns };

    // without resources: the configured default policy (the scanner is blocked, no blocklist)
    const plain = await floeRun(env);
    assert.equal(plain.code, 0, plain.stderr);
    assert.ok(
      plain.lines.some((l) => l.startsWith('crds ') && l.includes(`namespace ${ns}`)),
      plain.lines.join('\n'),
    );
    assert.ok(
      plain.lines.some((l) => /^decision block\s+10\.50\.0\.2\/32/.test(l)),
      'the scanner is blocked under the default policy',
    );
    assert.equal(plain.lines.filter((l) => l.includes('policy.blocklist')).length, 0);

    const body = (kind: string, name: string, spec: unknown) => ({ apiVersion: `${FLOE_GROUP}/${FLOE_VERSION}`, kind, metadata: { name, namespace: ns }, spec });
    await custom.createNamespacedCustomObject({
      group: FLOE_GROUP,
      version: FLOE_VERSION,
      namespace: ns,
      plural: 'floepolicies',
      body: body('FloePolicy', 'default', { version: 1, name: 'e2e', blocklists: { cidrs: ['10.60.0.0/24'], severity: 'medium' } }),
    });
    await custom.createNamespacedCustomObject({
      group: FLOE_GROUP,
      version: FLOE_VERSION,
      namespace: ns,
      plural: 'floeneverblocks',
      body: body('FloeNeverBlock', 'scanner-lab', { cidrs: ['10.50.0.0/24'], reason: 'the lab scanner' }),
    });

    const run = await floeRun(env);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(
      run.lines.some((l) => l.startsWith('finding') && l.includes('policy.blocklist') && l.includes('10.60.0.14')),
      run.lines.join('\n'),
    );
    assert.equal(run.lines.filter((l) => /^decision block\s+10\.50\.0\.2\//.test(l)).length, 0, 'the FloeNeverBlock keeps the scanner from being blocked');
    assert.ok(
      run.lines.some((l) => l.startsWith('finding') && l.includes('portscan.vertical')),
      'the scan is still reported',
    );

    const status = async (plural: string, name: string) =>
      ((await custom.getNamespacedCustomObject({ group: FLOE_GROUP, version: FLOE_VERSION, namespace: ns, plural, name })) as { status?: FloeResourceStatus }).status;
    const pol = await status('floepolicies', 'default');
    assert.equal(pol?.phase, 'Active');
    assert.equal(pol?.observedGeneration, 1);
    assert.match(pol?.activeVersion ?? '', /^[0-9a-f]{12}$/);
    assert.ok(
      run.lines.some((l) => l.includes(`policy version ${pol?.activeVersion}`)),
      'the run names the version the status names',
    );
    assert.equal((await status('floeneverblocks', 'scanner-lab'))?.phase, 'Active');
  });
});
