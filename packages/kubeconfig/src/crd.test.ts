// The CRDs generated from @floe/policy's schema: the committed YAML is what crd.ts generates, the
// spec schema is structural, and floe's validator reports errors with their path under `spec`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parse } from 'yaml';
import { crdFiles } from './crd-files.js';
import { floePolicyCrd } from './crd.js';
import { type OpenApiSchema, toStructural } from './schema.js';
import { checkNeverBlockSpec, checkPolicySpec } from './validate.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = fileURLToPath(new URL('../../policy/', import.meta.url));

test('deploy/k8s/crd-*.yaml hold exactly what crd.ts generates (npm run -w @floe/kube-config gen-crds)', () => {
  for (const f of crdFiles()) {
    const committed = readFileSync(root + f.path, 'utf8');
    assert.equal(committed, f.text, `${f.path} is stale: run npm run -w @floe/kube-config gen-crds`);
    assert.deepEqual(parse(committed), JSON.parse(JSON.stringify(f.crd)));
  }
});

test('the FloePolicy spec schema is structural: every node typed, no draft-07-only keywords', () => {
  const spec = floePolicyCrd().spec.versions[0].schema.openAPIV3Schema.properties!.spec;
  const visit = (n: OpenApiSchema, at: string): number => {
    assert.ok(n.type !== undefined || n['x-kubernetes-int-or-string'] === true, `${at} has a type`);
    for (const k of ['const', 'default', 'propertyNames', '$id'] as const) assert.equal(k in n, false, `${at} has no ${k}`);
    if (n.exclusiveMinimum !== undefined) assert.equal(typeof n.exclusiveMinimum, 'boolean', `${at} exclusiveMinimum is OpenAPI 3.0's boolean`);
    let count = 1;
    for (const [p, c] of Object.entries(n.properties ?? {})) count += visit(c, `${at}.${p}`);
    if (n.items) count += visit(n.items, `${at}[]`);
    if (n.additionalProperties) count += visit(n.additionalProperties, `${at}{}`);
    return count;
  };
  assert.ok(visit(spec, 'spec') > 100, 'the whole policy schema is there');
  assert.deepEqual(spec.required, ['version']);
  assert.deepEqual(spec.properties!.version, { type: 'integer', enum: [1] });
  // ports: a number or "lo-hi"
  assert.equal(spec.properties!.ingress.properties!.default.items!.properties!.ports.items!['x-kubernetes-int-or-string'], true);
});

test('toStructural refuses a keyword it does not know (a new one in the policy schema must be mapped)', () => {
  assert.throws(() => toStructural({ type: 'object', properties: { a: { type: 'string', format: 'ipv4' } } }), /unsupported keyword format at #\/properties\/a/);
  assert.throws(() => toStructural({ properties: {} }), /no type at #/);
});

test('checkPolicySpec: the example policy is valid; errors name their field under spec', () => {
  const example = parse(readFileSync(`${pkg}policies/example.yaml`, 'utf8')) as Record<string, unknown>;
  // blocklist files are named by absolute path in a resource
  const bl = example.blocklists as { files?: string[] } | undefined;
  if (bl?.files) bl.files = bl.files.map((f) => `${pkg}policies/${f}`);
  const ok = checkPolicySpec(example, 'floepolicy/floe/default');
  assert.equal(ok.ok, true, JSON.stringify(!ok.ok && ok.errors));

  const bad = checkPolicySpec({ version: 1, networks: { pods: ['10.244.0.0/16', '10.244.0.300/24'] }, ingress: { zones: { nowhere: [] } } }, 'floepolicy/floe/default');
  assert.equal(bad.ok, false);
  if (bad.ok) return;
  assert.ok(
    bad.errors.some((e) => e.field === 'spec.networks.pods[1]' && e.code.startsWith('FLOE_POLICY_')),
    JSON.stringify(bad.errors),
  );

  const rel = checkPolicySpec({ version: 1, blocklists: { files: ['lists/tor.txt'] } }, 'floepolicy/floe/default');
  assert.deepEqual(rel.ok ? [] : rel.errors.map((e) => e.field), ['spec.blocklists.files[0]']);
  const notObject = checkPolicySpec('version: 1', 'floepolicy/floe/default');
  assert.deepEqual(notObject.ok ? [] : notObject.errors.map((e) => e.field), ['spec']);
});

test('checkNeverBlockSpec: CIDRs checked as respond.neverBlock, errors at spec.cidrs[i]', () => {
  assert.deepEqual(checkNeverBlockSpec({ cidrs: ['10.0.0.0/8', '2001:db8::1'], reason: 'office' }, 'x'), {
    ok: true,
    value: { cidrs: ['10.0.0.0/8', '2001:db8::1'], reason: 'office' },
  });
  const bad = checkNeverBlockSpec({ cidrs: ['10.0.0.0/8', 'not-a-cidr'] }, 'x');
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.equal(bad.errors[0].field, 'spec.cidrs[1]');
});
