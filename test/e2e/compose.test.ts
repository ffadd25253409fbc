// CI check of docker-compose.yml and deploy/k8s without a Docker engine or a cluster: the compose
// file validates against the official compose-spec JSON schema (deploy/docker/SOURCES.md) and is
// internally consistent; every FLOE_* variable and the mounted floe.yaml pass @floe/config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { loadConfig } from '@floe/config';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMPOSE = join(ROOT, 'docker-compose.yml');
const K8S = join(ROOT, 'deploy/k8s');

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string; target?: string };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  volumes?: string[];
  network_mode?: string;
  cap_add?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = (): ComposeFile => parse(readFileSync(COMPOSE, 'utf8'), { merge: true }) as ComposeFile;
const FLOE_ROLES = ['collector', 'processor', 'enforcer', 'api'];

/** The compose-spec formats (compose-spec.md: durations like 1m30s, port and expose syntax). */
function schemaValidator() {
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat('duration', /^(\d+(\.\d+)?(us|ms|s|m|h))+$/);
  ajv.addFormat('ports', { type: 'string', validate: (s: string) => /^((\[[0-9a-f:.]+\]|[\d.]+):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(s) });
  ajv.addFormat('ports', { type: 'number', validate: (n: number) => Number.isInteger(n) && n > 0 && n < 65536 });
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  // The file declares draft 2019-09 as `http://json-schema.org/draft/2019-09/schema#`, a spelling
  // ajv does not register, and labels subschemas with the pre-draft-06 `id` (string values equal to
  // their own JSON pointer), which ajv refuses. Ajv2019 is that draft, so both are left out when
  // compiling; no constraint changes (an `id` that is a property's schema is an object, and stays).
  const { $schema: draft, ...schema } = JSON.parse(readFileSync(join(ROOT, 'deploy/docker/compose-spec.schema.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(draft, 'http://json-schema.org/draft/2019-09/schema#');
  const dropIds = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(dropIds);
    if (!v || typeof v !== 'object') return v;
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k, x]) => !(k === 'id' && typeof x === 'string'))
        .map(([k, x]) => [k, dropIds(x)]),
    );
  };
  return ajv.compile(dropIds(schema) as object);
}

test('docker-compose.yml validates against the compose-spec schema', () => {
  const validate = schemaValidator();
  const ok = validate(compose());
  assert.ok(ok, JSON.stringify(validate.errors, null, 2));
  // The validator is live: a misspelt key and a bad duration are refused.
  const bad = compose();
  (bad.services.api as Record<string, unknown>).restrat = 'always';
  assert.equal(validate(bad), false);
  const bad2 = compose();
  (bad2.services.api.healthcheck as Record<string, unknown>).interval = 'ten seconds';
  assert.equal(validate(bad2), false);
});

test('docker-compose.yml is internally consistent: dependencies, volumes, build files, targets, mounts', () => {
  const c = compose();
  assert.match(c.services.kafka.image ?? '', /^apache\/kafka:4\./);
  assert.match(c.services.clickhouse.image ?? '', /^clickhouse\/clickhouse-server:/);
  for (const [name, s] of Object.entries(c.services)) {
    for (const dep of Object.keys(s.depends_on ?? {})) assert.ok(c.services[dep], `${name} depends on unknown service ${dep}`);
    assert.ok(s.healthcheck, `${name} has a healthcheck`);
    for (const v of s.volumes ?? []) {
      const src = v.split(':')[0];
      if (src.startsWith('.') || src.startsWith('/')) assert.ok(existsSync(join(ROOT, src)), `${name}: bind source ${src} exists`);
      else assert.ok(c.volumes && src in c.volumes, `${name}: named volume ${src} is declared`);
    }
    if (s.build) {
      const ctx = join(ROOT, s.build.context);
      assert.ok(statSync(ctx).isDirectory(), `${name}: build context ${s.build.context}`);
      const dockerfile = join(ctx, s.build.dockerfile ?? 'Dockerfile');
      const text = readFileSync(dockerfile, 'utf8');
      const stages = [...text.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);
      assert.ok(s.build.target && stages.includes(s.build.target), `${name}: target ${s.build.target} is a stage of ${dockerfile} (${stages.join(', ')})`);
      // Every COPY source from the build context exists.
      for (const m of text.matchAll(/^COPY\s+(?!--from)(.+)$/gm)) {
        const parts = m[1].trim().split(/\s+/);
        for (const p of parts.slice(0, -1)) assert.ok(existsSync(join(ctx, p)), `${dockerfile}: COPY source ${p} exists`);
      }
      // The stage's command runs the role's main, whose source exists.
      const stage = text.split(/^FROM /m).find((b) => new RegExp(`AS ${s.build!.target}\\s`).test(b)) ?? '';
      const main = /CMD \["node", "([^"]+)"/.exec(stage)?.[1];
      assert.equal(main, `services/${s.build.target}/dist/main.js`);
      assert.ok(existsSync(join(ROOT, main.replace('/dist/', '/src/').replace(/\.js$/, '.ts'))), `${main} has a source`);
    }
  }
  assert.deepEqual(
    Object.keys(c.services)
      .filter((n) => c.services[n].build)
      .sort(),
    [...FLOE_ROLES].sort(),
  );
  for (const role of ['collector', 'enforcer']) {
    const s = c.services[role];
    assert.equal(s.network_mode, 'host', `${role} uses the host network`);
    assert.deepEqual(s.cap_add, ['NET_ADMIN']);
    assert.equal(s.ports, undefined, 'host-network services publish no ports');
  }
});

test('every FLOE_* variable of docker-compose.yml is a configuration key and validates with the mounted floe.yaml', () => {
  const c = compose();
  const file = join(ROOT, 'deploy/docker/floe.yaml');
  for (const role of FLOE_ROLES) {
    const s = c.services[role];
    const env = s.environment ?? {};
    assert.ok(Object.keys(env).length > 0 && Object.keys(env).every((k) => k.startsWith('FLOE_')), `${role}: only FLOE_* variables`);
    const cfg = loadConfig({ file, env, strictEnv: true });
    assert.equal(cfg.bus.kind, 'kafka');
    // The healthcheck probes the role's health port.
    const port = cfg.health[`${role}Port` as 'apiPort'];
    assert.ok(s.healthcheck!.test.join(' ').includes(`127.0.0.1:${port}/healthz`), `${role} healthcheck probes port ${port}`);
    // Brokers and store: service names on the compose network, published loopback ports on the host network.
    for (const broker of cfg.bus.brokers) {
      const [host, p] = broker.split(':');
      if (s.network_mode === 'host')
        assert.ok(host === '127.0.0.1' && c.services.kafka.ports!.includes(`127.0.0.1:${p}:${p}`), `${role}: broker ${broker} is published on the host`);
      else assert.ok(c.services[host], `${role}: broker host ${host} is a service`);
    }
    if (role !== 'collector') {
      const u = new URL(cfg.store.url);
      if (s.network_mode === 'host') assert.ok(c.services.clickhouse.ports!.includes(`127.0.0.1:${u.port}:${u.port}`), `${role}: store ${cfg.store.url} is published`);
      else assert.ok(c.services[u.hostname], `${role}: store host ${u.hostname} is a service`);
      assert.equal(cfg.store.kind, 'clickhouse');
    }
  }
  // An API listening beyond loopback has its write routes behind a token (the api role refuses
  // to start otherwise): compose gives it a token file from a secret.
  const api = c.services.api as { environment: Record<string, string>; secrets?: string[] };
  assert.equal(api.environment.FLOE_API_TOKEN_FILE, '/run/secrets/floe_api_token');
  assert.deepEqual(api.secrets, ['floe_api_token']);
  assert.ok((c as unknown as { secrets: Record<string, { file: string }> }).secrets.floe_api_token.file.endsWith('deploy/docker/api-token'));
  // A misspelt variable would be caught.
  assert.throws(() => loadConfig({ file, env: { FLOE_BUS_BROKER: 'kafka:29092' }, strictEnv: true }), /FLOE_BUS_BROKER: not a configuration key/);
});

interface K8sDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
  spec?: {
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    template?: { metadata: { labels: Record<string, string> }; spec: K8sPodSpec };
  };
}
interface K8sPodSpec {
  hostNetwork?: boolean;
  containers: Array<{
    name: string;
    args?: string[];
    env?: Array<{ name: string; value?: string }>;
    securityContext?: { capabilities?: { add?: string[] } };
    livenessProbe?: { httpGet: { path: string; port: number } };
    readinessProbe?: { httpGet: { path: string; port: number } };
  }>;
  volumes?: Array<{ name: string; configMap?: { name: string } }>;
}

test('deploy/k8s parses; workloads use the ConfigMap, their FLOE_* variables and config validate, probes hit the health port', () => {
  const docs: K8sDoc[] = [];
  const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml'));
  for (const f of files) {
    for (const d of parseAllDocuments(readFileSync(join(K8S, f), 'utf8'))) {
      assert.deepEqual(d.errors, [], f);
      const js = d.toJS() as K8sDoc;
      assert.ok(js.apiVersion && js.kind && (js.kind === 'Kustomization' || js.metadata?.name), `${f}: apiVersion, kind and metadata.name`);
      docs.push(js);
    }
  }
  const kustomization = docs.find((d) => d.kind === 'Kustomization') as unknown as { resources: string[] };
  assert.deepEqual([...kustomization.resources].sort(), files.filter((f) => f !== 'kustomization.yaml').sort());
  const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'floe-config')!;
  const byKind = (k: string) => docs.filter((d) => d.kind === k);
  assert.deepEqual(
    byKind('DaemonSet').map((d) => d.metadata.name),
    ['floe-node'],
  );
  assert.deepEqual(
    byKind('Deployment')
      .map((d) => d.metadata.name)
      .sort(),
    ['floe-api', 'floe-processor'],
  );
  // loadConfig reads the ConfigMap's floe.yaml as the mounted file.
  const file = join(mkdtempSync(join(tmpdir(), 'floe-k8s-')), 'floe.yaml');
  writeFileSync(file, cm.data!['floe.yaml']);
  const roleOf = (args: string[] = []) => /^services\/(\w+)\/dist\/main\.js$/.exec(args[1] ?? '')?.[1];
  const seen: string[] = [];
  for (const w of [...byKind('DaemonSet'), ...byKind('Deployment')]) {
    const spec = w.spec!;
    for (const [k, v] of Object.entries(spec.selector!.matchLabels!)) assert.equal(spec.template!.metadata.labels[k], v, `${w.metadata.name}: selector matches the template`);
    const pod = spec.template!.spec;
    for (const v of pod.volumes ?? []) if (v.configMap) assert.equal(v.configMap.name, cm.metadata.name);
    for (const ctr of pod.containers) {
      const role = roleOf(ctr.args);
      assert.ok(role && FLOE_ROLES.includes(role), `${w.metadata.name}/${ctr.name} runs a role main`);
      seen.push(role);
      const env = Object.fromEntries((ctr.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
      const cfg = loadConfig({ file, env, strictEnv: true });
      const port = cfg.health[`${role}Port` as 'apiPort'];
      assert.equal(ctr.livenessProbe?.httpGet.port, port, `${ctr.name} liveness on its health port`);
      assert.equal(ctr.readinessProbe?.httpGet.port, port);
      if (role === 'collector' || role === 'enforcer') {
        assert.equal(pod.hostNetwork, true);
        assert.deepEqual(ctr.securityContext?.capabilities?.add, ['NET_ADMIN']);
      }
    }
  }
  assert.deepEqual(seen.sort(), [...FLOE_ROLES].sort());
  const svc = byKind('Service')[0];
  const api = byKind('Deployment').find((d) => d.metadata.name === 'floe-api')!;
  for (const [k, v] of Object.entries(svc.spec!.selector as Record<string, string>)) assert.equal(api.spec!.template!.metadata.labels[k], v);
});
