import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPolicy, defaultPolicy, defaultPolicyPath, loadPolicyFile, parsePolicy } from './policy.js';
import { loadInventoryFile, parseInventory } from './inventory.js';
import { PolicyError, PolicyFileError, POLICY_ERROR_CODES } from './errors.js';
import { ISSUE_CODES, locateYamlPath } from './validate.js';
import { parseDuration, parsePortSpec } from './ports.js';
import type { PolicyIssue } from './types.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));

/** The one issue of a text, asserting there is exactly one. */
function only(text: string, file = 'p.yaml'): PolicyIssue {
  const issues = checkPolicy(text, file);
  assert.equal(issues.length, 1, JSON.stringify(issues, null, 1));
  return issues[0];
}

test('default policy file is valid and equals the schema defaults', () => {
  const d = defaultPolicy();
  assert.deepEqual(checkPolicy(readFileSync(defaultPolicyPath(), 'utf8'), defaultPolicyPath()), []);
  const minimal = parsePolicy('version: 1\n', 'min.yaml');
  const strip = ({ source: _s, name: _n, ...rest }: typeof d) => rest;
  assert.deepEqual(strip(minimal), strip(d));
  assert.equal(d.respond.ttlMs, 3_600_000);
  assert.deepEqual(d.respond.escalationMs, [3_600_000, 4 * 3_600_000, 24 * 3_600_000]);
  assert.deepEqual(d.detectors.portscan, { windowMs: 60000, minPorts: 15, severity: 'high', updateOnDouble: true });
  assert.deepEqual(d.detectors.hostsweep, { windowMs: 60000, minHosts: 16, severity: 'high', updateOnDouble: true });
  assert.deepEqual(d.detectors.exfil, { enabled: true, windowMs: 300000, minBytes: 50000000, sigmas: 3, alpha: 0.1, learnWindows: 6, minPcr: 0.4, severity: 'high' });
  assert.deepEqual(d.detectors.dns, {
    resolvers: [],
    resolverSeverity: 'medium',
    volume: true,
    windowMs: 60000,
    maxQueries: 600,
    minQueries: 100,
    sigmas: 4,
    alpha: 0.1,
    learnWindows: 6,
    maxResolvers: 4,
    volumeSeverity: 'medium',
  });
  assert.deepEqual(d.detectors.randomScan, { windowMs: 300000, minPairs: 25, minHosts: 6, minPorts: 6, severity: 'high', updateOnDouble: true });
  const { bruteforce, synflood, beacon, model } = d.detectors;
  assert.deepEqual(
    { bruteforce, synflood, beacon, model },
    {
      bruteforce: {
        enabled: true,
        windowMs: 600000,
        minFailures: 10,
        ports: [21, 22, 23, 110, 143, 389, 445, 587, 636, 993, 995, 1433, 1521, 2379, 3306, 3389, 5432, 5900, 5985, 5986, 6443, 27017],
        maxPackets: 51,
        maxClientBytes: 4000,
        maxDurationMs: 0,
        severity: 'high',
        updateOnDouble: true,
      },
      synflood: { enabled: true, windowMs: 10000, minHalfOpen: 200, dominantShare: 0.5, severity: 'high', updateOnDouble: true },
      beacon: {
        enabled: true,
        windowMs: 3600000,
        minConnections: 10,
        minIntervalMs: 1000,
        maxJitter: 0.2,
        historySize: 24,
        egressOnly: true,
        severity: 'medium',
        updateOnDouble: true,
      },
      model: { severity: 'medium', topFeatures: 5, minFlows: 1 },
    },
  );
  assert.deepEqual(d.detectors.lateral, { enabled: true, learnMs: 86400000, windowMs: 3600000, manyPeers: 10, severity: 'medium', manySeverity: 'high' });
  assert.ok(Object.isFrozen(d) && Object.isFrozen(d.networks.pods) && Object.isFrozen(d.ingress.default[0]));
  assert.match(d.source.digest, /^[0-9a-f]{12}$/);
});

test('example policy (every section) is valid and reads its blocklist file', async () => {
  const p = await loadPolicyFile(join(pkg, 'policies/example.yaml'));
  assert.equal(p.respond.ttlMs, 15 * 60_000);
  assert.deepEqual(p.respond.escalationMs, [15 * 60_000, 3_600_000, 86_400_000]);
  assert.equal(p.detectors.portscan.minPorts, 15);
  assert.equal(p.detectors.portscan.severity, 'high', 'a partial section keeps the other defaults');
  assert.deepEqual(p.detectors.dns.resolvers, ['10.96.0.10']);
  assert.equal(p.detectors.dns.maxQueries, 600);
  assert.equal(p.detectors.exfil.minBytes, 100_000_000);
  assert.equal(p.detectors.lateral.learnMs, 172_800_000);
  assert.deepEqual(
    p.blocklists.fromFiles.map((e) => [e.cidr, e.line]),
    [
      ['10.50.0.2/32', 3],
      ['198.18.0.0/15', 4],
      ['2001:db8:bad::/48', 5],
    ],
  );
});

test('networks.selectorZones: zones by namespace and pod selectors (issue 9), usable in ingress.zones; a bad operator is reported at its line', async () => {
  const p = await loadPolicyFile(join(pkg, 'policies/example.yaml'));
  assert.deepEqual(p.networks.selectorZones.cardholder, { namespaceSelector: { matchLabels: { pci: 'true' } } });
  assert.deepEqual(p.networks.selectorZones.storefront.podSelector?.matchExpressions, [{ key: 'tier', operator: 'In', values: ['frontend', 'edge'] }]);
  assert.deepEqual(
    checkPolicy(
      'version: 1\nnetworks:\n  selectorZones:\n    pci: { namespaceSelector: { matchLabels: { pci: "true" } } }\ningress:\n  zones:\n    pci: [{ protocol: tcp, ports: [443] }]\n',
      'p.yaml',
    ),
    [],
  );
  const i = only('version: 1\nnetworks:\n  selectorZones:\n    pci:\n      podSelector: { matchExpressions: [{ key: app, operator: Has }] }\n');
  assert.equal(i.line, 5);
  assert.equal(i.code, 'FLOE_POLICY_BAD_VALUE');
  assert.equal(only('version: 1\nnetworks:\n  selectorZones:\n    pods: { podSelector: {} }\n').code, 'FLOE_POLICY_ZONE_NAME');
  assert.equal(only('version: 1\nnetworks:\n  selectorZones:\n    empty: {}\n').line, 4);
});

test('bad CIDR on line 5 is reported at its line, column and list index', () => {
  const i = only('version: 1\nnetworks:\n  pods:\n    - 10.244.0.0/16\n    - 10.300.0.0/16\n');
  assert.deepEqual([i.line, i.column, i.field, i.code], [5, 7, 'networks.pods[1]', 'FLOE_POLICY_BAD_CIDR']);
  assert.match(i.message, /10\.300\.0\.0\/16/);
});

test('port 70000 and a reversed range are reported with their positions', () => {
  const text = 'version: 1\ningress:\n  default:\n    - protocol: tcp\n      ports: [22, 70000, 2380-2379]\n';
  const issues = checkPolicy(text, 'p.yaml');
  assert.deepEqual(
    issues.map((i) => [i.line, i.column, i.field, i.code]),
    [
      [5, 19, 'ingress.default[0].ports[1]', 'FLOE_POLICY_BAD_PORT'],
      [5, 26, 'ingress.default[0].ports[2]', 'FLOE_POLICY_BAD_PORT'],
    ],
  );
  assert.match(issues[0].message, /70000 is outside 0\.\.65535/);
  assert.match(issues[1].message, /reversed/);
});

test('unknown keys are errors, at the key, top-level and nested', () => {
  const issues = checkPolicy('version: 1\nnetwork: {}\nrespond:\n  ttl: 1h\n  dryrun: true\n', 'p.yaml');
  assert.deepEqual(
    issues.map((i) => [i.line, i.column, i.field, i.code, i.message]),
    [
      [2, 1, 'network', 'FLOE_POLICY_UNKNOWN_KEY', 'unknown key "network"'],
      [5, 3, 'respond.dryrun', 'FLOE_POLICY_UNKNOWN_KEY', 'unknown key "dryrun"'],
    ],
  );
});

test('wrong type names what it got', () => {
  const i = only('version: 1\nnetworks:\n  pods: 10.244.0.0/16\n');
  assert.deepEqual([i.line, i.column, i.field, i.code], [3, 9, 'networks.pods', 'FLOE_POLICY_TYPE']);
  assert.equal(i.message, 'must be array, got string "10.244.0.0/16"');
  const j = only('version: 1\nrespond:\n  maxNewBlocksPerMinute: lots\n');
  assert.equal(j.field, 'respond.maxNewBlocksPerMinute');
  assert.equal(j.line, 3);
});

test('YAML syntax errors carry their line and stop further checks', () => {
  const issues = checkPolicy('version: 1\nnetworks:\n  pods: [10.0.0.0/8\n  nodes: []\nbogus: 1\n', 'p.yaml');
  assert.ok(issues.length >= 1);
  assert.ok(
    issues.every((i) => i.code === 'FLOE_POLICY_YAML_SYNTAX'),
    JSON.stringify(issues),
  );
  assert.ok(
    issues.some((i) => i.line >= 3 && i.line <= 5),
    JSON.stringify(issues),
  );
  const dup = only('version: 1\nname: a\nname: b\n');
  assert.deepEqual([dup.code, dup.line], ['FLOE_POLICY_YAML_SYNTAX', 3]);
});

test('version, enum, duration, empty document', () => {
  assert.deepEqual(only('name: x\n').code, 'FLOE_POLICY_MISSING_KEY');
  const v = only('version: 2\n');
  assert.deepEqual([v.code, v.field, v.line, v.column], ['FLOE_POLICY_BAD_VALUE', 'version', 1, 10]);
  const s = only('version: 1\nrespond:\n  minSeverity: urgent\n');
  assert.deepEqual([s.code, s.field], ['FLOE_POLICY_BAD_VALUE', 'respond.minSeverity']);
  assert.match(s.message, /info, low, medium, high, critical/);
  const d = only('version: 1\nrespond:\n  escalation: [1h, 4 hours]\n');
  assert.deepEqual([d.code, d.field, d.line, d.column], ['FLOE_POLICY_BAD_DURATION', 'respond.escalation[1]', 3, 20]);
  assert.equal(only('').code, 'FLOE_POLICY_EMPTY');
  assert.equal(only('version: 1\nprotocol: [tcp\n').code, 'FLOE_POLICY_YAML_SYNTAX');
});

test('zone checks: unknown ingress zone, built-in name reused', () => {
  const u = only('version: 1\nnetworks:\n  zones: { dmz: [192.0.2.0/24] }\ningress:\n  zones:\n    dnz: []\n');
  assert.deepEqual([u.code, u.field, u.line, u.column], ['FLOE_POLICY_UNKNOWN_ZONE', 'ingress.zones.dnz', 6, 5]);
  const b = only('version: 1\nnetworks:\n  zones:\n    pods: [192.0.2.0/24]\n');
  assert.deepEqual([b.code, b.line], ['FLOE_POLICY_ZONE_NAME', 4]);
});

test('blocklist files: missing file at its list item; bad lines at the blocklist file:line:col', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-policy-'));
  writeFileSync(join(dir, 'bad.txt'), '# header\n203.0.113.0/24\n\n  10.0.0.0/99   # typo\n2001:db8::/32\nnot-an-ip\n');
  const policyFile = join(dir, 'policy.yaml');
  const text = 'version: 1\nblocklists:\n  files:\n    - bad.txt\n    - missing.txt\n';
  writeFileSync(policyFile, text);
  const issues = checkPolicy(text, policyFile);
  assert.deepEqual(
    issues.map((i) => [i.file, i.line, i.column, i.field, i.code]),
    [
      [policyFile, 5, 7, 'blocklists.files[1]', 'FLOE_POLICY_BLOCKLIST_FILE'],
      [join(dir, 'bad.txt'), 4, 3, 'blocklists.files[0]', 'FLOE_POLICY_BAD_CIDR'],
      [join(dir, 'bad.txt'), 6, 1, 'blocklists.files[0]', 'FLOE_POLICY_BAD_CIDR'],
    ],
  );
  writeFileSync(join(dir, 'missing.txt'), '198.51.100.7\n');
  writeFileSync(join(dir, 'bad.txt'), '203.0.113.0/24\n');
  const p = parsePolicy(text, policyFile);
  assert.deepEqual(
    p.blocklists.fromFiles.map((e) => e.cidr),
    ['203.0.113.0/24', '198.51.100.7/32'],
  );
  // The digest follows the blocklist files' content, not only the policy text.
  writeFileSync(join(dir, 'missing.txt'), '198.51.100.8\n');
  assert.notEqual(parsePolicy(text, policyFile).source.digest, p.source.digest);
});

test('PolicyError lists file:line:col field: message; missing file gives PolicyFileError', async () => {
  assert.throws(
    () => parsePolicy('version: 1\nnetworks:\n  pods: [10.0.0.0/8, 300.0.0.0/8]\n', 'cluster.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof PolicyError);
      assert.equal(e.code, 'FLOE_POLICY_INVALID');
      assert.equal(e.issues.length, 1);
      assert.match(e.message, /^ {2}cluster\.yaml:3:22 networks\.pods\[1\]: invalid CIDR "300\.0\.0\.0\/8"/m);
      return true;
    },
  );
  await assert.rejects(
    loadPolicyFile('/nonexistent/floe/policy.yaml'),
    (e: unknown) => e instanceof PolicyFileError && e.code === 'FLOE_POLICY_FILE_NOT_FOUND' && /cannot read \/nonexistent\/floe\/policy.yaml: no such file/.test(e.message),
  );
});

test('durations and port specs: boundaries', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('15m'), 900_000);
  assert.equal(parseDuration('1d'), 86_400_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(typeof parseDuration('0s'), 'string');
  assert.equal(typeof parseDuration('60'), 'string', 'a bare number has no unit');
  assert.deepEqual(parsePortSpec(0), { lo: 0, hi: 0 });
  assert.deepEqual(parsePortSpec(65535), { lo: 65535, hi: 65535 });
  assert.equal(typeof parsePortSpec(65536), 'string');
  assert.equal(typeof parsePortSpec(-1), 'string');
  assert.equal(typeof parsePortSpec(1.5), 'string');
  assert.deepEqual(parsePortSpec('30000-32767'), { lo: 30000, hi: 32767 });
  assert.equal(typeof parsePortSpec('1-65536'), 'string');
});

test('inventory: example file loads; bad address reported at its line', async () => {
  const inv = await loadInventoryFile(join(pkg, 'examples/inventory.yaml'));
  assert.equal(inv.entries.length, 8);
  assert.equal(inv.entries[0].addr, '10.244.1.0/24');
  assert.equal(inv.entries[1].addr, '10.244.1.17/32');
  const json = parseInventory('{"version": 1, "endpoints": [{"addr": "fd00::1", "namespace": "a"}]}', 'inv.json');
  assert.equal(json.entries[0].addr, 'fd00::1/128');
  assert.throws(
    () => parseInventory('version: 1\nendpoints:\n  - addr: 10.0.0.1\n  - addr: 10.0.0.256\n    namespace: x\n', 'inv.yaml'),
    (e: unknown) => e instanceof PolicyError && e.issues[0].line === 4 && e.issues[0].field === 'endpoints[1].addr',
  );
  assert.throws(
    () => parseInventory('version: 1\nendpoints:\n  - { addr: 10.0.0.1, ns: x }\n', 'inv.yaml'),
    (e: unknown) => e instanceof PolicyError && e.issues[0].code === 'FLOE_POLICY_UNKNOWN_KEY' && e.issues[0].line === 3,
  );
});

test('an invalid inventory file (YAML syntax, schema) is reported as an inventory, not a policy', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-inv-'));
  const file = join(dir, 'inv.yaml');
  for (const [text, issue] of [
    ['foo: [\n', ':2:1 (document): '],
    ['version: 1\nendpoints:\n  - { addr: 10.0.0.1, ns: x }\n', ':3:23 endpoints[0].ns: unknown key'],
  ]) {
    writeFileSync(file, text);
    await assert.rejects(loadInventoryFile(file), (e: unknown) => {
      assert.ok(e instanceof PolicyError && e.kind === 'inventory');
      assert.ok(e.message.startsWith(`invalid inventory (1 issue):\n  ${file}${issue}`), e.message);
      assert.doesNotMatch(e.message, /policy/);
      return true;
    });
  }
  assert.throws(
    () => parsePolicy('version: 2\n', 'p.yaml'),
    (e: unknown) => e instanceof PolicyError && e.kind === 'policy' && e.message.startsWith('invalid policy (1 issue)'),
  );
});

test('every error and issue code is documented in the README', () => {
  const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
  for (const code of [...Object.keys(POLICY_ERROR_CODES), ...Object.keys(ISSUE_CODES)]) {
    assert.ok(readme.includes(`\`${code}\``), `${code} missing from README.md`);
  }
});

test('issue 7: detectors.beacon.historySize below minConnections is reported at its line', () => {
  const i = only('version: 1\ndetectors:\n  beacon:\n    minConnections: 12\n    historySize: 8\n');
  assert.deepEqual([i.line, i.field, i.code], [5, 'detectors.beacon.historySize', 'FLOE_POLICY_BAD_VALUE']);
  assert.deepEqual(checkPolicy('version: 1\ndetectors:\n  beacon: { minConnections: 12, historySize: 12 }\n', 'p.yaml'), []);
});

test('locateYamlPath: line and column of the value at a path, of the deepest existing node when absent', () => {
  const text = 'version: 1\ndetectors:\n  model:\n    dir: ./m\n';
  assert.deepEqual(locateYamlPath(text, ['detectors', 'model', 'dir']), { line: 4, column: 10 });
  assert.deepEqual(locateYamlPath(text, ['detectors', 'model', 'severity']), { line: 4, column: 5 });
});
