// Issue 8: suppression rules on the findings of real captures (packages/detect/testdata, recorded
// by capture-rules.sh and capture-nmap-101.sh), through the detectors and the responder as `floe
// run` wires them (default policy, a suppressor in the responder's deps): what a rule hides, and
// what it must not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseFile, type Finding } from '@floe/flow';
import { compilePolicy, defaultPolicy } from '@floe/policy';
import { createResponder, createSuppressor, findingPorts, type SuppressionRuleLike } from '@floe/respond';
import { Registry } from 'prom-client';
import { detectorsFor, responderOptions } from './wiring.js';

const capture = (name: string) => fileURLToPath(new URL(`../../detect/testdata/captured-conntrack-E-extended-timestamp-${name}.log`, import.meta.url));
const NOW = Date.UTC(2026, 11, 2);
const HOUR = 3_600_000;

/** Last form of every finding of the default policy's detectors on a capture (offline, then flushed). */
async function findings(name: string): Promise<Finding[]> {
  const policy = compilePolicy(defaultPolicy());
  const { records } = await parseFile(capture(name), { format: 'conntrack' });
  const ds = detectorsFor(policy, { lateness: Infinity });
  const byId = new Map<string, Finding>();
  for (const r of records) for (const d of ds) for (const f of d.observe(r)) byId.set(f.id, f);
  for (const d of ds) for (const f of d.flush()) byId.set(f.id, f);
  return [...byId.values()];
}

function rule(over: Partial<SuppressionRuleLike>): SuppressionRuleLike {
  return { id: 'sup-t', expiresAt: NOW + HOUR, reason: 'test', ...over };
}

/** Each finding's outcome (kind, or ignored cause) with the responder given `rules`. */
function outcomes(fs: Finding[], rules: SuppressionRuleLike[], metrics?: Registry) {
  const policy = compilePolicy(defaultPolicy());
  const suppressor = createSuppressor(rules, { metrics });
  const r = createResponder(responderOptions(policy, []), { suppressor });
  return fs.map((f) => {
    const o = r.respond(f, NOW);
    return [f.detector, o.kind === 'ignored' ? `${o.kind}:${o.cause}${o.suppression ? `:${o.suppression.ruleId}` : ''}` : o.kind];
  });
}

test('hydra against sshd (port 22 only): a rule for port 22 suppresses the brute-force block; a rule for port 80 does not', async () => {
  const fs = (await findings('ssh-hydra')).filter((f) => f.detector === 'bruteforce.auth');
  assert.equal(fs.length, 1);
  assert.deepEqual(findingPorts(fs[0]), [22]);
  assert.deepEqual(outcomes(fs, []), [['bruteforce.auth', 'decision']]);
  const metrics = new Registry();
  assert.deepEqual(outcomes(fs, [rule({ port: 22 })], metrics), [['bruteforce.auth', 'ignored:suppressed:sup-t']]);
  assert.match(await metrics.metrics(), /^floe_respond_suppressed_total\{detector="bruteforce.auth"\} 1$/m);
  assert.deepEqual(outcomes(fs, [rule({ port: 80 })]), [['bruteforce.auth', 'decision']]);
});

test('nmap top-100 scan: a port rule never hides a scan of many ports; detector + entity CIDR does; an expired rule or another subnet does not', async () => {
  const fs = (await findings('nmap-top100-scan')).filter((f) => f.detector === 'portscan.vertical');
  assert.equal(fs.length, 1);
  const scanner = fs[0].entity.addr;
  assert.ok(findingPorts(fs[0]).length > 10);
  assert.deepEqual(outcomes(fs, [rule({ port: 22 }), rule({ port: 80 })]), [['portscan.vertical', 'decision']]);
  assert.deepEqual(outcomes(fs, [rule({ detector: 'portscan.vertical', entity: `${scanner.split('.').slice(0, 3).join('.')}.0/24` })]), [
    ['portscan.vertical', 'ignored:suppressed:sup-t'],
  ]);
  assert.deepEqual(outcomes(fs, [rule({ entity: `${scanner}/32` })]), [['portscan.vertical', 'ignored:suppressed:sup-t']]);
  assert.deepEqual(outcomes(fs, [rule({ detector: 'portscan.vertical', entity: '192.0.2.0/24' })]), [['portscan.vertical', 'decision']]);
  assert.deepEqual(outcomes(fs, [rule({ detector: 'bruteforce.auth' })]), [['portscan.vertical', 'decision']]);
  assert.deepEqual(outcomes(fs, [rule({ detector: 'portscan.vertical', expiresAt: NOW })]), [['portscan.vertical', 'decision']], 'expiresAt == now is expired');
  // a namespace rule needs a namespace on the finding (enrichment): none here, so no match
  assert.deepEqual(outcomes(fs, [rule({ namespace: 'shop' })]), [['portscan.vertical', 'decision']]);
  const inShop = [{ ...fs[0], entity: { ...fs[0].entity, namespace: 'shop' } }];
  assert.deepEqual(outcomes(inShop, [rule({ namespace: 'shop' })]), [['portscan.vertical', 'ignored:suppressed:sup-t']]);
  assert.deepEqual(outcomes(inShop, [rule({ namespace: 'shop', detector: 'dos.synflood' })]), [['portscan.vertical', 'decision']], 'every field must match');
});

test('a rule with no matcher or a bad entity is refused whole (FLOE_RESPOND_BAD_OPTIONS), the rules in use stay', () => {
  const s = createSuppressor([rule({ port: 22 })]);
  assert.throws(() => s.replace([rule({ id: 'a', detector: 'x' }), rule({ id: 'b' })]), { code: 'FLOE_RESPOND_BAD_OPTIONS' });
  assert.throws(() => s.replace([rule({ entity: '10.0.0.5/24' })]), { code: 'FLOE_RESPOND_BAD_OPTIONS' });
  assert.throws(() => s.replace([rule({ port: 70_000 })]), { code: 'FLOE_RESPOND_BAD_OPTIONS' });
  assert.deepEqual(
    s.rules().map((r) => r.port),
    [22],
  );
});
