import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { defaultConfig, loadConfig, ConfigError, describeConfig, configEnvNames, unknownEnvNames, redactSecrets, SECRET_KEYS } from './config.js';

const testdata = fileURLToPath(new URL('../testdata/', import.meta.url));

test('defaults validate and are frozen', () => {
  const c = defaultConfig();
  assert.equal(c.api.port, 8080);
  assert.equal(c.api.host, '127.0.0.1');
  assert.equal(c.store.kind, 'duckdb');
  assert.equal(c.bus.kind, 'memory');
  assert.equal(c.collector.conntrack.enabled, 'auto');
  assert.ok(c.node.length > 0);
  assert.ok(Object.isFrozen(c.api));
  assert.throws(() => {
    (c.api as { port: number }).port = 1;
  });
});

test('file errors name file, line and key', () => {
  const file = join(testdata, 'bad-port.yaml');
  assert.throws(
    () => loadConfig({ file, env: {} }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const text = e.issues.join('\n');
      assert.match(text, /bad-port\.yaml:4 api\.port: must be <= 65535/);
      assert.match(text, /bad-port\.yaml:\d+ enforcer\.bogus: unknown key/);
      return true;
    },
  );
});

test('environment overrides the file, parsed by the key type', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-config-'));
  const file = join(dir, 'c.yaml');
  writeFileSync(file, 'api:\n  port: 9000\n');
  const c = loadConfig({ file, env: { FLOE_API_PORT: '9191', FLOE_ENFORCER_DRY_RUN: 'true', FLOE_BUS_BROKERS: 'a:1, b:2', FLOE_NODE: 'n1' } });
  assert.equal(c.api.port, 9191);
  assert.equal(c.enforcer.dryRun, true);
  assert.deepEqual(c.bus.brokers, ['a:1', 'b:2']);
  assert.equal(c.node, 'n1');
});

test('bad environment value names the variable', () => {
  assert.throws(() => loadConfig({ env: { FLOE_API_PORT: 'eighty' } }), /FLOE_API_PORT="eighty": not a valid integer/);
  assert.throws(() => loadConfig({ env: { FLOE_STORE_KIND: 'mysql' } }), /environment FLOE_STORE_KIND="mysql": store\.kind: must be one of duckdb, /);
  // probe: a value of the right type the schema refuses names the variable too; a flag overriding it does not
  assert.throws(() => loadConfig({ env: { FLOE_LOG_LEVEL: 'loud' } }), /environment FLOE_LOG_LEVEL="loud": log\.level: must be one of fatal, /);
  assert.throws(() => loadConfig({ env: { FLOE_API_PORT: '99999' } }), /environment FLOE_API_PORT="99999": api\.port: must be <= 65535/);
  assert.throws(
    () => loadConfig({ env: { FLOE_API_PORT: '1' }, overrides: { api: { port: 99999 } } }),
    (e: Error) => !e.message.includes('environment') && /api\.port: must be <= 65535/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ env: { FLOE_LOG_LEVEL: '\u001b[2J' } }),
    (e: Error) => e.message.includes('FLOE_LOG_LEVEL="\\x1b[2J"') && !e.message.includes('\u001b'),
  );
});

test('missing file and YAML syntax errors are clear', () => {
  assert.throws(() => loadConfig({ file: '/nonexistent/floe.yaml', env: {} }), /\/nonexistent\/floe\.yaml: cannot read/);
  const dir = mkdtempSync(join(tmpdir(), 'floe-config-'));
  const file = join(dir, 'broken.yaml');
  writeFileSync(file, 'api:\n  port: [1\n');
  assert.throws(() => loadConfig({ file, env: {} }), /broken\.yaml:\d+:/);
});

test('every leaf key is documented', () => {
  const rows = describeConfig();
  assert.ok(rows.length >= 20);
  for (const [key, , desc] of rows) assert.ok(desc.length > 0, `${key} has no description`);
});

test('new sections have working defaults: health ports per role, replay off, processor group', () => {
  const c = defaultConfig();
  assert.deepEqual([c.health.collectorPort, c.health.processorPort, c.health.enforcerPort, c.health.apiPort], [9601, 9602, 9603, 9604]);
  assert.equal(new Set([c.health.collectorPort, c.health.processorPort, c.health.enforcerPort, c.health.apiPort, c.api.port]).size, 5);
  assert.equal(c.health.host, '127.0.0.1');
  assert.equal(c.collector.replay.file, undefined);
  assert.equal(c.collector.replay.speed, 1);
  assert.equal(c.processor.group, 'floe-processor');
});

test('number keys from the environment: decimals and 0 accepted, text and negatives refused', () => {
  assert.equal(loadConfig({ env: { FLOE_COLLECTOR_REPLAY_SPEED: '2.5' } }).collector.replay.speed, 2.5);
  assert.equal(loadConfig({ env: { FLOE_COLLECTOR_REPLAY_SPEED: '0' } }).collector.replay.speed, 0);
  assert.throws(() => loadConfig({ env: { FLOE_COLLECTOR_REPLAY_SPEED: 'fast' } }), /FLOE_COLLECTOR_REPLAY_SPEED="fast": not a valid number/);
  assert.throws(() => loadConfig({ env: { FLOE_COLLECTOR_REPLAY_SPEED: '-1' } }), /collector\.replay\.speed: must be >= 0/);
  const c = loadConfig({ env: { FLOE_HEALTH_PROCESSOR_PORT: '19602', FLOE_COLLECTOR_REPLAY_FILE: '/x.log', FLOE_COLLECTOR_REPLAY_EXIT_WHEN_DONE: 'true' } });
  assert.equal(c.health.processorPort, 19602);
  assert.equal(c.collector.replay.file, '/x.log');
  assert.equal(c.collector.replay.exitWhenDone, true);
});

test('configEnvNames lists every leaf key once; strictEnv refuses unknown FLOE_* names only', () => {
  const names = configEnvNames();
  // maps and lists of objects (alert.sinks, alert.routes, report.schedules) and their entries' keys are file-only
  const fileOnly = describeConfig().filter(([k]) => k === 'alert.sinks' || k === 'alert.routes' || k === 'report.schedules' || k.includes('<name>') || k.includes('[]'));
  assert.ok(fileOnly.some(([k]) => k === 'alert.sinks.<name>.type') && fileOnly.some(([k]) => k === 'alert.routes[].minSeverity'));
  assert.equal(names.length, describeConfig().length - fileOnly.length);
  assert.equal(new Set(names).size, names.length);
  for (const n of ['FLOE_NODE', 'FLOE_LOG_LEVEL', 'FLOE_BUS_KIND', 'FLOE_STORE_RETENTION_DAYS', 'FLOE_HEALTH_API_PORT', 'FLOE_COLLECTOR_CONNTRACK_NETNS'])
    assert.ok(names.includes(n), n);
  // floe's own tooling variables (.ci/run's FLOE_REQUIRE_KAFKA, fuzz budgets) are not misspelt keys
  const env = { FLOE_BUS_KIND: 'kafka', FLOE_BUS_BROKER: 'typo:9092', FLOE_REQUIRE_KAFKA: '1', FLOE_FUZZ_RUNS: '5', FLOE_REQUIRE_KAFKAA: '1', PATH: '/bin' };
  assert.deepEqual(unknownEnvNames(env), ['FLOE_BUS_BROKER', 'FLOE_REQUIRE_KAFKAA']);
  assert.equal(loadConfig({ env }).bus.kind, 'kafka');
  assert.throws(
    () => loadConfig({ env, strictEnv: true }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.issues, [
        'environment FLOE_BUS_BROKER: not a configuration key (see floe config --describe)',
        'environment FLOE_REQUIRE_KAFKAA: not a configuration key (see floe config --describe)',
      ]);
      return true;
    },
  );
});

test('api.token, api.tokenFile, api.allowUnauthenticated: defaults, environment names and token syntax', () => {
  const d = defaultConfig();
  assert.equal(d.api.token, undefined);
  assert.equal(d.api.tokenFile, undefined);
  assert.equal(d.api.allowUnauthenticated, false);
  const c = loadConfig({ env: { FLOE_API_TOKEN: 'floe-test-token-0123456789abcdef', FLOE_API_ALLOW_UNAUTHENTICATED: 'true', FLOE_API_HOST: '0.0.0.0' } });
  assert.equal(c.api.token, 'floe-test-token-0123456789abcdef');
  assert.equal(c.api.allowUnauthenticated, true);
  assert.equal(loadConfig({ env: { FLOE_API_TOKEN_FILE: '/run/secrets/floe-api-token' } }).api.tokenFile, '/run/secrets/floe-api-token');
  assert.ok(configEnvNames().includes('FLOE_API_TOKEN_FILE'));
  assert.throws(() => loadConfig({ env: { FLOE_API_TOKEN: 'short' } }), /api\.token: must NOT have fewer than 16 characters/);
  assert.throws(() => loadConfig({ env: { FLOE_API_TOKEN: 'a token with spaces in it' } }), /api\.token: must match pattern/);
});

test('issue 8: api roles, rate limits, TLS and OIDC keys: defaults, environment names, refusals', () => {
  const d = defaultConfig();
  assert.equal(d.api.tokenRole, 'admin');
  assert.equal(d.api.anonymousRole, undefined);
  assert.equal(d.api.metricsRequireAuth, false);
  assert.deepEqual(d.api.rateLimit, { perAddress: 6000, perToken: 3000, windowMs: 60_000 });
  assert.deepEqual(d.api.tls, {});
  assert.deepEqual(d.api.oidc, { roleClaim: 'roles', roles: {}, clockToleranceSec: 30 });
  const c = loadConfig({
    env: { FLOE_API_ANONYMOUS_ROLE: 'none', FLOE_API_RATE_LIMIT_PER_TOKEN: '5', FLOE_API_TLS_CERT: '/etc/floe/tls.crt', FLOE_API_OIDC_ISSUER: 'https://idp.example' },
    overrides: { api: { oidc: { roles: { 'soc-analysts': 'analyst' } } } },
  });
  assert.equal(c.api.anonymousRole, 'none');
  assert.equal(c.api.rateLimit.perToken, 5);
  assert.equal(c.api.tls.cert, '/etc/floe/tls.crt');
  assert.equal(c.api.oidc.issuer, 'https://idp.example');
  assert.deepEqual(c.api.oidc.roles, { 'soc-analysts': 'analyst' });
  assert.throws(() => loadConfig({ env: { FLOE_API_TOKEN_ROLE: 'root' } }), /api\.tokenRole: must be one of viewer, analyst, admin/);
  assert.throws(() => loadConfig({ env: { FLOE_API_RATE_LIMIT_PER_ADDRESS: '0' } }), /api\.rateLimit\.perAddress: must be >= 1/);
  assert.throws(() => loadConfig({ overrides: { api: { oidc: { roles: { x: 'superuser' } } } } }), /api\.oidc\.roles\.x: must be one of viewer, analyst, admin/);
});

test('collector.maxLineBytes stops at 256 MiB, the longest line @floe/flow can hold as one string', () => {
  assert.equal(loadConfig({ env: { FLOE_COLLECTOR_MAX_LINE_BYTES: '268435456' } }).collector.maxLineBytes, 268435456);
  // 1 GiB was accepted before, and a line over 512 MiB then ended `floe run` with a RangeError.
  assert.throws(() => loadConfig({ env: { FLOE_COLLECTOR_MAX_LINE_BYTES: '1073741824' } }), /collector\.maxLineBytes: must be <= 268435456/);
});

test('a section or nested object given as a scalar, a list or null is refused with file:line, before the environment walk and the defaults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-config-'));
  const file = join(dir, 'c.yaml');
  const refused = (yaml: string, issue: string, env: NodeJS.ProcessEnv = {}) => {
    writeFileSync(file, yaml);
    assert.throws(
      () => loadConfig({ file, env }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.deepEqual(e.issues, [`${file}:${issue}`]);
        return true;
      },
      yaml,
    );
  };
  // top level: scalar, list, null (an environment variable of the section must not build on it)
  refused('api: foo\n', '1 api: must be an object', { FLOE_API_PORT: '9000' });
  refused('collector: 3\n', '1 collector: must be an object');
  refused('alert: true\n', '1 alert: must be an object');
  refused('processor: []\n', '1 processor: must be an object');
  refused('api:\n', '1 api: must be an object');
  refused('processor: null\n', '1 processor: must be an object');
  // nested objects: scalar, list, null; map entries and list items of objects too
  refused('api:\n  rateLimit: 5\n', '2 api.rateLimit: must be an object', { FLOE_API_RATE_LIMIT_PER_TOKEN: '5' });
  refused('collector:\n  replay: [a]\n', '2 collector.replay: must be an object');
  refused('log: {}\napi:\n  tls: ~\n', '3 api.tls: must be an object');
  refused('processor:\n  crds: off\n', '2 processor.crds: must be an object');
  refused('alert:\n  sinks:\n    soc: webhook\n', '3 alert.sinks.soc: must be an object');
  refused('alert:\n  routes:\n    - 5\n', '3 alert.routes.0: must be an object');
  // every issue at once; well-formed sections still load
  writeFileSync(file, 'api: foo\nstore: [1]\n');
  assert.throws(
    () => loadConfig({ file, env: {} }),
    (e: unknown) => e instanceof ConfigError && e.issues.length === 2,
  );
  writeFileSync(file, 'api:\n  rateLimit: {}\n  tls: {}\ncollector: {}\n');
  assert.equal(loadConfig({ file, env: {} }).api.rateLimit.perAddress, 6000);
});

test('a secret (SECRET_KEYS, what config --print redacts) is never echoed in an error, from the environment or from a file', () => {
  assert.ok(describeConfig().some(([k]) => k === 'alert.sinks.<name>.secret') && describeConfig().some(([k]) => k === 'api.token'));
  const token = 'my secret token with spaces 123';
  assert.throws(
    () => loadConfig({ env: { FLOE_API_TOKEN: token } }),
    (e: Error) => e.message.includes('environment FLOE_API_TOKEN (value hidden): api.token: must match pattern') && !e.message.includes('secret token'),
  );
  assert.throws(
    () => loadConfig({ env: { FLOE_API_TOKEN: 'short1' } }),
    (e: Error) => e.message.includes('FLOE_API_TOKEN (value hidden): api.token: must NOT have fewer than 16') && !e.message.includes('short1'),
  );
  // other variables keep showing their value
  assert.throws(() => loadConfig({ env: { FLOE_API_HOST: 'x', FLOE_API_PORT: 'eighty' } }), /FLOE_API_PORT="eighty": not a valid integer/);
  const dir = mkdtempSync(join(tmpdir(), 'floe-config-'));
  const file = join(dir, 'c.yaml');
  writeFileSync(file, `api:\n  token: "${token}"\nalert:\n  sinks:\n    soc: { type: webhook, url: "http://127.0.0.1:1/h", secret: "tooshort-key" }\n`);
  assert.throws(
    () => loadConfig({ file, env: {} }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.ok(
        e.issues.some((i) => i.startsWith(`${file}:2 api.token: must match pattern`)),
        e.message,
      );
      assert.ok(
        e.issues.some((i) => i.startsWith(`${file}:5 alert.sinks.soc.secret: must NOT have fewer than 16`)),
        e.message,
      );
      assert.ok(!e.message.includes('secret token') && !e.message.includes('tooshort-key'), e.message);
      return true;
    },
  );
  // config --print's redaction follows the same list
  const c = loadConfig({
    env: { FLOE_API_TOKEN: 'floe-test-token-0123456789abcdef' },
    overrides: {
      alert: {
        sinks: { soc: { type: 'webhook', url: 'http://127.0.0.1:1/h', secret: 'do-not-print-this-secret' }, f: { type: 'webhook', url: 'http://127.0.0.1:1/h', secretFile: '/k' } },
      },
    },
  });
  const shown = JSON.stringify(redactSecrets(c));
  assert.ok(!shown.includes('floe-test-token') && !shown.includes('do-not-print'), shown);
  assert.deepEqual(JSON.parse(shown).alert.sinks, { soc: { ...c.alert.sinks.soc, secret: '<redacted>' }, f: c.alert.sinks.f });
  assert.equal(JSON.parse(shown).api.token, '<redacted>');
  assert.equal(JSON.stringify(redactSecrets(defaultConfig())), JSON.stringify(defaultConfig()));
  assert.deepEqual(SECRET_KEYS, ['api.token', 'alert.sinks.<name>.secret']);
});
