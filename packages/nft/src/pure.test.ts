import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { canonicalTarget, parsePrefix, rangeToCidr } from './cidr.js';
import { createDryRunDriver } from './dryrun.js';
import { NFT_ERROR_CODES, NftError, locateNftError } from './errors.js';
import { parseNftJson } from './parse.js';
import { effectiveEntries, reconcile } from './reconcile.js';
import { elementRef, renderAdds, renderRuleset, resolveNftOptions, timeoutSeconds } from './render.js';

const testdata = new URL('../testdata/', import.meta.url);

test('canonicalTarget: host bits cleared, RFC 5952 IPv6, mapped IPv6 becomes IPv4, bare address is a host', () => {
  assert.equal(canonicalTarget('10.1.2.3/16'), '10.1.0.0/16');
  assert.equal(canonicalTarget('2001:DB8:0:0:0:0:0:1'), '2001:db8::1/128');
  assert.equal(canonicalTarget('2001:db8::ffff/64'), '2001:db8::/64');
  assert.equal(canonicalTarget('::ffff:203.0.113.7/128'), '203.0.113.7/32');
  assert.equal(canonicalTarget('0.0.0.0/0'), '0.0.0.0/0');
  for (const bad of ['10.1', '10.0.0.1/33', '2001:db8::/129', 'example.com', '10.0.0.1/x']) {
    assert.throws(
      () => canonicalTarget(bad),
      (e: NftError) => e.code === 'FLOE_NFT_BAD_TARGET',
      bad,
    );
  }
});

test('rangeToCidr: exact prefixes only', () => {
  assert.equal(rangeToCidr('10.0.0.0', '10.0.0.255'), '10.0.0.0/24');
  assert.equal(rangeToCidr('10.0.0.1', '10.0.0.5'), undefined);
  assert.equal(rangeToCidr('10.0.0.128', '10.0.1.127'), undefined); // 256 long but not aligned
});

test('renderRuleset: table, 4 sets with their flags, input and forward chains flushed and refilled', () => {
  const o = resolveNftOptions({ chainPriority: -160 });
  const lines = renderRuleset(o).trim().split('\n');
  assert.equal(lines[0], 'add table inet floe');
  assert.ok(lines.includes('add set inet floe blocked4 { type ipv4_addr; flags timeout; }'));
  assert.ok(lines.includes('add set inet floe blocked6net { type ipv6_addr; flags interval,timeout; }'));
  for (const hook of ['input', 'forward']) {
    const chain = lines.findIndex((l) => l.startsWith(`add chain inet floe ${hook} `));
    assert.match(lines[chain], new RegExp(`type filter hook ${hook} priority -160; policy accept;`));
    assert.equal(lines[chain + 1], `flush chain inet floe ${hook}`);
    const rules = lines.filter((l) => l.startsWith(`add rule inet floe ${hook} `));
    assert.deepEqual(
      rules.map((r) => r.split(' ').slice(5).join(' ')),
      ['ip saddr @blocked4 counter drop', 'ip saddr @blocked4net counter drop', 'ip6 saddr @blocked6 counter drop', 'ip6 saddr @blocked6net counter drop'],
    );
  }
  assert.ok(!lines.some((l) => l.includes('prerouting')));
});

test('resolveNftOptions refuses names that are not nft identifiers', () => {
  assert.throws(() => resolveNftOptions({ table: 'floe; flush ruleset' }), /table/);
  assert.throws(() => resolveNftOptions({ set4: 'x', set6: 'x' }), /differ/);
});

test('renderAdds: hosts to host sets, prefixes to prefix sets, 500 elements a line', () => {
  const o = resolveNftOptions({});
  const els = ['203.0.113.7/32', '10.0.0.0/8', '2001:db8::1/128'].map((t) => ({ ...elementRef(t), timeoutS: 60 }));
  assert.deepEqual(renderAdds(o, els), [
    'add element inet floe blocked4 { 203.0.113.7 timeout 60s }',
    'add element inet floe blocked6 { 2001:db8::1 timeout 60s }',
    'add element inet floe blocked4net { 10.0.0.0/8 timeout 60s }',
  ]);
  const many = Array.from({ length: 1001 }, (_, i) => ({ ...elementRef(`10.0.${i >> 8}.${i & 255}`), timeoutS: 1 }));
  assert.equal(renderAdds(o, many).length, 3);
});

test('timeoutSeconds: ceil to whole seconds, at least 1 (boundaries)', () => {
  assert.equal(timeoutSeconds(1000, 0), 1);
  assert.equal(timeoutSeconds(1001, 0), 2);
  assert.equal(timeoutSeconds(1, 0), 1);
  assert.equal(timeoutSeconds(-5000, 0), 1);
});

test('parseNftJson on captured nft 1.0.6 output', () => {
  const els = parseNftJson(readFileSync(new URL('nft-1.0.6-list-table.json', testdata), 'utf8'));
  const got = els.map((e) => [e.set, e.target, e.timeoutMs ?? null]).sort();
  assert.deepEqual(
    got,
    [
      ['blocked4', '198.51.100.1/32', null],
      ['blocked4', '203.0.113.7/32', 3_600_000],
      ['blocked4net', '10.2.0.0/16', 600_000],
      ['blocked4net', '10.3.0.1-10.3.0.5', 600_000],
      ['blocked6', '2001:db8::1/128', 86_400_000],
      ['blocked6net', '2001:db8:1::/48', 90_000],
    ].sort(),
  );
  assert.ok(els.every((e) => e.timeoutMs === undefined || (e.expiresInMs !== undefined && e.expiresInMs <= e.timeoutMs)));
  assert.throws(
    () => parseNftJson('{"nope": 1}'),
    (e: NftError) => e.code === 'FLOE_NFT_LIST_FAILED',
  );
  assert.throws(
    () => parseNftJson('not json'),
    (e: NftError) => e.code === 'FLOE_NFT_LIST_FAILED',
  );
});

test('locateNftError finds the named script line', () => {
  const script = 'add table inet floe\nadd element inet floe blocked4net { 10.1.2.3/32 timeout 1s }\n';
  const stderr = '/dev/stdin:2:36-46: Error: interval overlaps with an existing one\nadd element ...\n';
  assert.deepEqual(locateNftError(stderr, script), {
    line: 2,
    scriptLine: 'add element inet floe blocked4net { 10.1.2.3/32 timeout 1s }',
    message: 'interval overlaps with an existing one',
  });
  assert.deepEqual(locateNftError('internal:0:0-0: Error: Could not process rule', script).line, 0);
});

test('reconcile: missing, stray, refresh beyond tolerance, expired intent ignored', () => {
  const now = 1_000_000;
  const intended = [
    { target: '192.0.2.1/32', expiresAt: now + 60_000 },
    { target: '192.0.2.2', expiresAt: now + 60_000 },
    { target: '192.0.2.3/32', expiresAt: now + 60_000 },
    { target: '192.0.2.4/32', expiresAt: now }, // expired at the boundary
  ];
  const actual = [
    { target: '192.0.2.2/32', expiresInMs: 59_000 }, // within tolerance
    { target: '192.0.2.3/32', expiresInMs: 10_000 }, // drifted
    { target: '192.0.2.4/32', expiresInMs: 1_000 },
    { target: '10.3.0.1-10.3.0.5' },
  ];
  const plan = reconcile(intended, actual, now);
  assert.deepEqual(plan.missing, ['192.0.2.1/32']);
  assert.deepEqual(plan.refresh, ['192.0.2.3/32']);
  assert.deepEqual(plan.stray, ['192.0.2.4/32', '10.3.0.1-10.3.0.5']);
  assert.deepEqual(
    plan.toAdd.map((e) => e.target),
    ['192.0.2.1/32', '192.0.2.3/32'],
  );
});

test('effectiveEntries: nested prefixes keep the widest; a longer-lived narrower one sets nextChangeAt', () => {
  const eff = effectiveEntries(
    [
      { target: '10.0.0.0/8', expiresAt: 5000 },
      { target: '10.1.0.0/16', expiresAt: 9000 },
      { target: '10.1.2.3/32', expiresAt: 3000 },
      { target: '2001:db8::/32', expiresAt: 9000 },
      { target: '2001:db8::/32', expiresAt: 8000 }, // duplicate: latest expiry wins
    ],
    1000,
  );
  assert.deepEqual(eff.entries, [
    { target: '10.0.0.0/8', expiresAt: 5000 },
    { target: '2001:db8::/32', expiresAt: 9000 },
  ]);
  assert.equal(eff.nextChangeAt, 5000);
  assert.deepEqual(
    effectiveEntries(
      [
        { target: '10.1.0.0/16', expiresAt: 9000 },
        { target: '10.0.0.0/8', expiresAt: 5000 },
      ],
      6000,
    ).entries,
    [{ target: '10.1.0.0/16', expiresAt: 9000 }],
  );
});

test('dry-run driver: records calls, expires by its clock, refuses overlapping prefixes like nft', async () => {
  let now = 0;
  const d = createDryRunDriver({}, { now: () => now });
  await assert.rejects(d.list(), (e: NftError) => e.code === 'FLOE_NFT_LIST_FAILED');
  await d.ensure();
  d.add([
    { target: '203.0.113.7/32', expiresAt: 1500 },
    { target: '10.0.0.0/8', expiresAt: 60_000 },
  ]);
  assert.deepEqual(await d.commit(), { added: 2, deleted: 0 });
  d.add([{ target: '10.1.0.0/16', expiresAt: 60_000 }]);
  await assert.rejects(d.commit(), (e: NftError) => e.code === 'FLOE_NFT_APPLY_FAILED');
  assert.deepEqual((await d.list()).map((e) => e.target).sort(), ['10.0.0.0/8', '203.0.113.7/32']);
  now = 2000; // the 1.5 s entry got a 2 s timeout
  assert.deepEqual(
    (await d.list()).map((e) => e.target),
    ['10.0.0.0/8'],
  );
  d.delete(['10.0.0.0/8', '192.0.2.1/32']);
  assert.deepEqual(await d.commit(), { added: 0, deleted: 1 });
  assert.deepEqual(
    d.calls.map((c) => c.op),
    ['list', 'ensure', 'add', 'commit', 'add', 'list', 'list', 'delete', 'commit'],
  );
});

test('every error code is documented in the README, and nothing else', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const documented = [...readme.matchAll(/`(FLOE_NFT_[A-Z_]+)`/g)].map((m) => m[1]).sort();
  assert.deepEqual(documented, Object.values(NFT_ERROR_CODES).sort());
  assert.equal(parsePrefix('10.0.0.0/8').family, 4);
});
