import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPolicy, defaultPolicyPath } from './policy.js';
import { policyWarnings, WARNING_CODES } from './warnings.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));

/** `file:line:col code` of each warning, for compact assertions. */
const where = (text: string, file = 'p.yaml') => policyWarnings(text, file).map((w) => `${w.file}:${w.line}:${w.column} ${w.field} ${w.code}`);

test('shipped policies give no warnings', () => {
  for (const f of [defaultPolicyPath(), join(pkg, 'policies/example.yaml')]) assert.deepEqual(policyWarnings(readFileSync(f, 'utf8'), f), [], f);
});

test('neverBlock: /0 and prefixes shorter than /8 (IPv4) or /16 (IPv6) warn; /8 and /16 do not', () => {
  const text = ['version: 1', 'respond:', '  neverBlock:', '    - 0.0.0.0/0', '    - 10.0.0.0/8', '    - 8.0.0.0/7', '    - ::/0', '    - 2001::/16', '    - 2000::/15'].join('\n');
  assert.deepEqual(checkPolicy(text, 'p.yaml'), [], 'warnings are not errors');
  assert.deepEqual(where(text), [
    'p.yaml:4:7 respond.neverBlock[0] FLOE_POLICY_WARN_NEVER_BLOCK_WIDE',
    'p.yaml:6:7 respond.neverBlock[2] FLOE_POLICY_WARN_NEVER_BLOCK_WIDE',
    'p.yaml:7:7 respond.neverBlock[3] FLOE_POLICY_WARN_NEVER_BLOCK_WIDE',
    'p.yaml:9:7 respond.neverBlock[5] FLOE_POLICY_WARN_NEVER_BLOCK_WIDE',
  ]);
  const w = policyWarnings(text, 'p.yaml');
  assert.ok(w.every((x) => x.severity === 'warning'));
  assert.match(w[0].message, /0\.0\.0\.0\/0 is shorter than \/8: it exempts every IPv4 address/);
  assert.match(w[1].message, /8\.0\.0\.0\/7 .* nearly every IPv4/);
});

test('blocklist: /0 and prefixes covering or inside the own networks warn, inline and in blocklist files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-warn-'));
  writeFileSync(join(dir, 'bad.txt'), '# known bad\n203.0.113.0/24\n10.0.0.0/8   # oops\n::/0\n');
  const text = [
    'version: 1',
    'networks:',
    '  pods: [10.244.0.0/16]',
    '  services: [10.96.0.0/12]',
    '  nodes: [192.168.1.0/24]',
    'blocklists:',
    '  cidrs:',
    '    - 198.51.100.0/24',
    '    - 0.0.0.0/0',
    '    - 192.168.0.0/16',
    '    - 10.244.7.9',
    '  files: [bad.txt]',
  ].join('\n');
  const file = join(dir, 'policy.yaml');
  assert.deepEqual(checkPolicy(text, file), []);
  const w = policyWarnings(text, file);
  assert.deepEqual(
    w.map((x) => `${x.file === file ? 'policy' : 'bad.txt'}:${x.line}:${x.column} ${x.code}`),
    [
      'policy:9:7 FLOE_POLICY_WARN_BLOCKLIST_WIDE',
      'policy:10:7 FLOE_POLICY_WARN_BLOCKLIST_OWN_NETWORK',
      'policy:11:7 FLOE_POLICY_WARN_BLOCKLIST_OWN_NETWORK',
      'bad.txt:3:1 FLOE_POLICY_WARN_BLOCKLIST_OWN_NETWORK',
      'bad.txt:4:1 FLOE_POLICY_WARN_BLOCKLIST_WIDE',
    ],
  );
  assert.match(w[1].message, /192\.168\.0\.0\/16 covers networks\.nodes 192\.168\.1\.0\/24: the cluster would block itself/);
  assert.match(w[2].message, /10\.244\.7\.9\/32 lies inside networks\.pods 10\.244\.0\.0\/16/);
  assert.match(w[3].message, /10\.0\.0\.0\/8 covers networks\.pods 10\.244\.0\.0\/16/);
});

test('host bits: any CIDR field with host bits set warns, bare addresses and clean prefixes do not', () => {
  const text = [
    'version: 1',
    'networks:',
    '  pods: [10.244.1.0/16]',
    '  zones:',
    '    office: [172.16.5.4/12, 172.32.0.0/12]',
    'egress:',
    '  allow:',
    '    - to: [2001:db8::1/32]',
    'respond:',
    '  neverBlock: [10.96.0.10]',
  ].join('\n');
  assert.deepEqual(checkPolicy(text, 'p.yaml'), [], 'the validator accepts host bits');
  assert.deepEqual(where(text), [
    'p.yaml:3:10 networks.pods[0] FLOE_POLICY_WARN_HOST_BITS',
    'p.yaml:5:14 networks.zones.office[0] FLOE_POLICY_WARN_HOST_BITS',
    'p.yaml:8:12 egress.allow[0].to[0] FLOE_POLICY_WARN_HOST_BITS',
  ]);
  assert.match(policyWarnings(text, 'p.yaml')[0].message, /10\.244\.1\.0\/16 has host bits set; it is read as 10\.244\.0\.0\/16/);
});

test('escalation: a step over 30 days warns, exactly 30 days does not', () => {
  const text = 'version: 1\nrespond:\n  escalation: [1h, 30d, 31d, 365d]\n';
  assert.deepEqual(where(text), ['p.yaml:3:25 respond.escalation[2] FLOE_POLICY_WARN_LONG_ESCALATION', 'p.yaml:3:30 respond.escalation[3] FLOE_POLICY_WARN_LONG_ESCALATION']);
  assert.match(policyWarnings(text, 'p.yaml')[1].message, /step 4 blocks for 365 days/);
});

test('an invalid policy gives errors from checkPolicy and no warnings', () => {
  const text = 'version: 1\nrespond:\n  neverBlock: [0.0.0.0/0, not-a-cidr]\n';
  assert.equal(checkPolicy(text, 'p.yaml').length, 1);
  assert.deepEqual(policyWarnings(text, 'p.yaml'), []);
});

test('every warning code is documented in the README', () => {
  const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
  for (const code of Object.keys(WARNING_CODES)) assert.ok(readme.includes(`\`${code}\``), `${code} missing from README.md`);
});

test('probe: respond.minPrefixLength below the hard floor (v4 < 8, v6 < 16) is an error at file:line:field; below the default (16, 32) a warning; at the default nothing', () => {
  const pol = (v4: number, v6: number) => ['version: 1', 'respond:', '  minPrefixLength:', `    ipv4: ${v4}`, `    ipv6: ${v6}`].join('\n');
  for (const [v4, v6] of [
    [0, 0],
    [7, 15],
    [0, 32],
    [16, 3],
  ]) {
    const issues = checkPolicy(pol(v4, v6), 'p.yaml').map((i) => `${i.file}:${i.line} ${i.field} ${i.code}`);
    const want: string[] = [];
    if (v4 < 8) want.push('p.yaml:4 respond.minPrefixLength.ipv4 FLOE_POLICY_BAD_VALUE');
    if (v6 < 16) want.push('p.yaml:5 respond.minPrefixLength.ipv6 FLOE_POLICY_BAD_VALUE');
    assert.deepEqual(issues, want, `${v4}/${v6}`);
  }
  assert.deepEqual(checkPolicy(pol(8, 16), 'p.yaml'), [], 'the floor itself is valid');
  assert.deepEqual(where(pol(8, 16)), [
    'p.yaml:4:11 respond.minPrefixLength.ipv4 FLOE_POLICY_WARN_MIN_PREFIX_SHORT',
    'p.yaml:5:11 respond.minPrefixLength.ipv6 FLOE_POLICY_WARN_MIN_PREFIX_SHORT',
  ]);
  assert.deepEqual(where(pol(15, 32)), ['p.yaml:4:11 respond.minPrefixLength.ipv4 FLOE_POLICY_WARN_MIN_PREFIX_SHORT']);
  assert.deepEqual(where(pol(16, 32)), []);
  assert.deepEqual(where(pol(32, 128)), []);
});
