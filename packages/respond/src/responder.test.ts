import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { Decision, Finding, Severity } from '@floe/flow';
import { noopLogger, type Logger } from '@floe/telemetry';
import { createResponder, defaultResponderOptions, RespondError, type ResponderOptions, type ResponseOutcome } from './index.js';

/** A manual request refused by the protected set or the prefix limit: the outcome (audited by the API), its cause and the reason text. */
function assertRefused(o: ResponseOutcome, cause: 'never-block' | 'too-wide', reason?: RegExp): Extract<ResponseOutcome, { kind: 'refused' }> {
  assert.equal(o.kind, 'refused', JSON.stringify(o));
  const r = o as Extract<ResponseOutcome, { kind: 'refused' }>;
  assert.equal(r.cause, cause);
  assert.equal(r.audit.change, 'refuse');
  if (reason !== undefined) assert.match(r.audit.reason, reason);
  return r;
}

const H = 3_600_000;
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);

/** A port-scan finding about `addr`; override any field. */
function finding(addr = '10.50.0.2', over: Partial<Finding> = {}): Finding {
  return {
    id: `portscan.vertical:${addr}`,
    schema: 1,
    firstSeen: NOW - 1000,
    lastSeen: NOW,
    detector: 'portscan.vertical',
    kind: 'detector',
    severity: 'high',
    score: 0.75,
    entity: { addr },
    peers: ['10.60.0.14'],
    summary: `${addr} probed 20 distinct ports of 10.60.0.14 within 0 s`,
    evidence: { flows: 20, distinctPorts: 20 },
    mitre: 'T1046',
    producedBy: 'test',
    ...over,
  };
}

function opts(over: Partial<ResponderOptions> = {}): ResponderOptions {
  return { ...defaultResponderOptions(), ...over };
}

function decided(o: ResponseOutcome) {
  assert.equal(o.kind, 'decision', JSON.stringify(o));
  if (o.kind !== 'decision') throw new Error('unreachable');
  return o;
}

function refused(o: ResponseOutcome) {
  assert.equal(o.kind, 'refused', JSON.stringify(o));
  if (o.kind !== 'refused') throw new Error('unreachable');
  return o;
}

test('defaults', () => {
  const d = defaultResponderOptions();
  assert.equal(d.minSeverity, 'high');
  assert.equal(d.ttlMs, H);
  assert.deepEqual(d.escalationMs, [H, 4 * H, 24 * H]);
  assert.equal(d.maxNewBlocksPerMinute, 30);
  assert.equal(d.dryRun, false);
  assert.deepEqual(d.neverBlock, []);
});

test('severity boundary: medium (just under high) ignored, high blocked, critical blocked', () => {
  const r = createResponder(opts());
  assert.deepEqual(r.respond(finding('203.0.113.7', { severity: 'medium' }), NOW), { kind: 'ignored', cause: 'below-severity' });
  const o = decided(r.respond(finding('203.0.113.7', { severity: 'high' }), NOW));
  assert.equal(o.decision.target, '203.0.113.7/32');
  assert.equal(o.decision.action, 'block');
  assert.equal(o.decision.scope, 'all');
  assert.equal(o.decision.durationMs, H);
  assert.equal(o.decision.expiresAt, NOW + H);
  assert.equal(o.decision.origin, 'portscan.vertical:203.0.113.7');
  assert.equal(o.decision.count, 1);
  assert.equal(o.decision.dryRun, false);
  assert.equal(o.audit.change, 'create');
  assert.match(o.audit.reason, /portscan\.vertical/);
  assert.match(o.audit.reason, /portscan\.vertical:203\.0\.113\.7/);
  decided(r.respond(finding('203.0.113.8', { severity: 'critical' as Severity }), NOW));
  const low = createResponder(opts({ minSeverity: 'low' }));
  assert.deepEqual(low.respond(finding('203.0.113.9', { severity: 'info' }), NOW), { kind: 'ignored', cause: 'below-severity' });
  decided(low.respond(finding('203.0.113.9', { severity: 'low' }), NOW));
});

test('target: IPv6 entity normalised to RFC 5952 /128, IPv4-mapped IPv6 to IPv4 /32', () => {
  const r = createResponder(opts());
  assert.equal(decided(r.respond(finding('2001:DB8:0:0::7'), NOW)).decision.target, '2001:db8::7/128');
  assert.equal(decided(r.respond(finding('::ffff:198.51.100.4'), NOW)).decision.target, '198.51.100.4/32');
  assert.throws(
    () => r.respond(finding('not-an-ip'), NOW),
    (e: unknown) => e instanceof RespondError && e.code === 'FLOE_RESPOND_BAD_TARGET',
  );
});

test('never-block wins: node address, configured CIDR, built-ins, IPv6, and manual prefixes containing them', () => {
  const r = createResponder(opts({ neverBlock: ['10.96.0.0/12', 'fd00:10::/64'], nodeAddrs: ['192.0.2.10', '2001:db8::10'] }));
  const node = refused(r.respond(finding('192.0.2.10'), NOW));
  assert.equal(node.cause, 'never-block');
  assert.equal(node.audit.change, 'refuse');
  assert.equal(node.audit.target, '192.0.2.10/32');
  assert.match(node.audit.reason, /an address of this host/);
  assert.match(node.audit.reason, /portscan\.vertical/);
  assert.equal(refused(r.respond(finding('10.100.3.4'), NOW)).cause, 'never-block');
  assert.match(refused(r.respond(finding('fd00:10::abcd'), NOW)).audit.reason, /fd00:10::\/64/);
  assert.equal(refused(r.respond(finding('2001:db8::10'), NOW)).cause, 'never-block');
  assert.match(refused(r.respond(finding('127.0.0.1'), NOW)).audit.reason, /loopback/);
  assert.match(refused(r.respond(finding('fe80::1'), NOW)).audit.reason, /link-local/);
  assert.match(refused(r.respond(finding('::'), NOW)).audit.reason, /unspecified/);
  // Neighbours just outside are blocked.
  decided(r.respond(finding('192.0.2.11'), NOW));
  decided(r.respond(finding('10.112.0.0'), NOW));
  decided(r.respond(finding('fd00:10:0:1::1'), NOW));
  // A manual prefix containing a protected address is a refused outcome (the API audits it and answers with a code).
  assertRefused(r.manualBlock({ target: '192.0.2.0/24', reason: 'abuse', user: 'alice' }, NOW), 'never-block', /192\.0\.2\.10\/32 \(an address of this host\)/);
  assertRefused(r.manualBlock({ target: '2001:db8::/32', reason: 'abuse', user: 'alice' }, NOW), 'never-block');
  assertRefused(r.manualBlock({ target: '10.96.0.0/16', reason: 'abuse', user: 'alice' }, NOW), 'never-block', /respond\.neverBlock\[0\]/);
  assertRefused(r.manualBlock({ target: '10.0.0.0/8', reason: 'abuse', user: 'alice' }, NOW), 'too-wide');
  assertRefused(r.manualBlock({ target: '0.0.0.0/0', reason: 'everything', user: 'alice' }, NOW), 'too-wide');
  assert.equal(decided(r.manualBlock({ target: '198.51.100.0/24', reason: 'abuse', user: 'alice' }, NOW)).decision.target, '198.51.100.0/24');
});

test('rate cap: max new blocks in a minute, max+1 refused, allowed again once the minute has passed', () => {
  const max = 3;
  const r = createResponder(opts({ maxNewBlocksPerMinute: max }));
  for (let i = 0; i < max; i++) decided(r.respond(finding(`203.0.113.${i + 1}`), NOW + i * 1000));
  const over = refused(r.respond(finding('203.0.113.50'), NOW + 59_999));
  assert.equal(over.cause, 'rate-limit');
  assert.match(over.audit.reason, /3 new blocks per minute/);
  // An extension of an existing block is not capped.
  assert.equal(decided(r.respond(finding('203.0.113.1', { id: 'later' }), NOW + 59_999)).audit.change, 'extend');
  // Manual blocks are not capped either.
  const r2 = createResponder(opts({ maxNewBlocksPerMinute: 1 }));
  decided(r2.respond(finding('203.0.113.1'), NOW));
  decided(r2.manualBlock({ target: '203.0.113.2', reason: 'x', user: 'bob' }, NOW));
  // 60 s after the first block, one slot is free again.
  const r3 = createResponder(opts({ maxNewBlocksPerMinute: max }));
  for (let i = 0; i < max; i++) decided(r3.respond(finding(`203.0.113.${i + 1}`), NOW + i * 1000));
  refused(r3.respond(finding('203.0.113.50'), NOW + 59_999));
  decided(r3.respond(finding('203.0.113.50'), NOW + 60_000));
  refused(r3.respond(finding('203.0.113.51'), NOW + 60_500));
  decided(r3.respond(finding('203.0.113.51'), NOW + 61_000));
});

test('escalation: 1h -> 4h -> 24h -> 24h for a repeat offender; a gap over 24h resets to 1h', () => {
  const r = createResponder(opts());
  let now = NOW;
  const durations: number[] = [];
  const steps: number[] = [];
  for (let i = 0; i < 4; i++) {
    const o = decided(r.respond(finding('203.0.113.7', { id: `f${i}` }), now));
    durations.push(o.decision.durationMs);
    steps.push(o.decision.count);
    now = o.decision.expiresAt + 10 * 60_000; // offends again 10 min after the block ended
  }
  assert.deepEqual(durations, [H, 4 * H, 24 * H, 24 * H]);
  assert.deepEqual(steps, [1, 2, 3, 4]);
  // Back again exactly 24 h after the last block ended: no longer a repeat.
  const last = now - 10 * 60_000;
  const o = decided(r.respond(finding('203.0.113.7'), last + 24 * H));
  assert.equal(o.decision.durationMs, H);
  assert.equal(o.decision.count, 1);
});

test('already blocked: a later expiry extends, an earlier one is ignored', () => {
  const r = createResponder(opts());
  decided(r.respond(finding('203.0.113.7'), NOW));
  // The same finding redelivered later does not extend (idempotent replay).
  assert.deepEqual(r.respond(finding('203.0.113.7'), NOW + 5 * 60_000), { kind: 'ignored', cause: 'already-blocked' });
  const ext = decided(r.respond(finding('203.0.113.7', { id: 'second' }), NOW + 10 * 60_000));
  assert.equal(ext.audit.change, 'extend');
  assert.equal(ext.decision.expiresAt, NOW + 10 * 60_000 + H);
  assert.equal(ext.decision.createdAt, NOW);
  assert.equal(ext.decision.updatedAt, NOW + 10 * 60_000);
  assert.equal(ext.decision.count, 1);
  assert.equal(ext.decision.origin, 'second');
  // A manual block shorter than what remains (or ending at the same time) is ignored and names
  // the decision that stands; a longer one extends.
  assert.deepEqual(r.manualBlock({ target: '203.0.113.7/32', durationMs: 60_000, reason: 'x', user: 'bob' }, NOW + 20 * 60_000), {
    kind: 'ignored',
    cause: 'already-blocked',
    existing: ext.decision,
  });
  const same = ext.decision.expiresAt - (NOW + 20 * 60_000);
  assert.deepEqual(r.manualBlock({ target: '203.0.113.7/32', durationMs: same, reason: 'x', user: 'bob' }, NOW + 20 * 60_000), {
    kind: 'ignored',
    cause: 'already-blocked',
    existing: ext.decision,
  });
  assert.equal(decided(r.manualBlock({ target: '203.0.113.7', durationMs: 48 * H, reason: 'x', user: 'bob' }, NOW + 20 * 60_000)).decision.expiresAt, NOW + 20 * 60_000 + 48 * H);
});

test('seed: decisions from the store make already-blocked and escalation survive a restart; release forgets', () => {
  const first = createResponder(opts());
  const d1 = decided(first.respond(finding('203.0.113.7'), NOW)).decision;
  const r = createResponder(opts());
  r.seed([d1]);
  assert.deepEqual(r.respond(finding('203.0.113.7'), NOW + 1000), { kind: 'ignored', cause: 'already-blocked' });
  assert.equal(decided(r.respond(finding('203.0.113.7', { id: 'other' }), NOW + 1000)).audit.change, 'extend');
  const again = decided(r.respond(finding('203.0.113.7'), d1.expiresAt + 1000));
  assert.equal(again.decision.count, 2);
  assert.equal(again.decision.durationMs, 4 * H);
  r.release('203.0.113.7');
  const fresh = decided(r.respond(finding('203.0.113.7'), d1.expiresAt + 2000));
  assert.equal(fresh.decision.count, 1);
  assert.equal(fresh.audit.change, 'create');
});

test('dry-run: decisions carry dryRun true and are audited', () => {
  const r = createResponder(opts({ dryRun: true, scope: ['node-a', 'node-b'] }));
  const o = decided(r.respond(finding('203.0.113.7'), NOW));
  assert.equal(o.decision.dryRun, true);
  assert.deepEqual(o.decision.scope, ['node-a', 'node-b']);
  assert.equal(o.audit.decision?.dryRun, true);
  assert.match(o.audit.reason, /dry-run/);
  assert.equal(decided(r.manualBlock({ target: '198.51.100.1', reason: 'x', user: 'bob' }, NOW)).decision.dryRun, true);
});

test('manual block validation: bad target, host bits, duration, reason, user', () => {
  const r = createResponder(opts());
  const code = (c: string, field: string) => (e: unknown) => e instanceof RespondError && e.code === c && e.field === field && e.status === 400;
  for (const target of ['', 'evil.example.net', '10.0.0.256', '10.1', '10.0.0.0/33', '2001:db8::/129', '010.0.0.1', 'fe80::1%eth0']) {
    assert.throws(() => r.manualBlock({ target, reason: 'x', user: 'bob' }, NOW), code('FLOE_RESPOND_BAD_TARGET', 'target'), target);
  }
  assert.throws(() => r.manualBlock({ target: '10.1.2.3/8', reason: 'x', user: 'bob' }, NOW), /did you mean 10\.0\.0\.0\/8/);
  assert.throws(() => r.manualBlock({ target: '198.51.100.1', durationMs: 0, reason: 'x', user: 'bob' }, NOW), code('FLOE_RESPOND_BAD_REQUEST', 'durationMs'));
  assert.throws(() => r.manualBlock({ target: '198.51.100.1', durationMs: 1.5, reason: 'x', user: 'bob' }, NOW), code('FLOE_RESPOND_BAD_REQUEST', 'durationMs'));
  assert.throws(() => r.manualBlock({ target: '198.51.100.1', reason: ' ', user: 'bob' }, NOW), code('FLOE_RESPOND_BAD_REQUEST', 'reason'));
  assert.throws(() => r.manualBlock({ target: '198.51.100.1', reason: 'x', user: '' }, NOW), code('FLOE_RESPOND_BAD_REQUEST', 'user'));
  const ok = decided(r.manualBlock({ target: '198.51.100.1', durationMs: 90_000, reason: 'seen in honeypot', user: 'bob' }, NOW));
  assert.equal(ok.decision.origin, 'api:bob');
  assert.equal(ok.decision.durationMs, 90_000);
  assert.match(ok.audit.reason, /seen in honeypot/);
});

test('bad options: invalid never-block CIDR and durations throw FLOE_RESPOND_BAD_OPTIONS', () => {
  assert.throws(
    () => createResponder(opts({ neverBlock: ['10.0.0.0/8', 'nope'] })),
    (e: unknown) => e instanceof RespondError && e.code === 'FLOE_RESPOND_BAD_OPTIONS' && e.field === 'neverBlock[1]',
  );
  assert.throws(
    () => createResponder(opts({ escalationMs: [H, -1] })),
    (e: unknown) => e instanceof RespondError && e.field === 'escalationMs[1]',
  );
  assert.throws(
    () => createResponder(opts({ minSeverity: 'urgent' as Severity })),
    (e: unknown) => e instanceof RespondError && e.field === 'minSeverity',
  );
});

test('metrics: decisions by outcome, refusals and ignores by cause', async () => {
  const registry = new Registry();
  const r = createResponder(opts({ maxNewBlocksPerMinute: 1, nodeAddrs: ['192.0.2.10'] }), { metrics: registry });
  r.respond(finding('203.0.113.1'), NOW);
  r.respond(finding('203.0.113.2'), NOW);
  r.respond(finding('192.0.2.10'), NOW);
  r.respond(finding('203.0.113.3', { severity: 'low' }), NOW);
  r.respond(finding('203.0.113.1'), NOW);
  // A second responder on the same registry reuses the counters.
  createResponder(opts(), { metrics: registry }).respond(finding('203.0.113.9'), NOW);
  const text = await registry.metrics();
  assert.match(text, /floe_respond_decisions_total\{outcome="create"\} 2/);
  assert.match(text, /floe_respond_decisions_total\{outcome="refused"\} 2/);
  assert.match(text, /floe_respond_decisions_total\{outcome="ignored"\} 2/);
  assert.match(text, /floe_respond_refused_total\{cause="rate-limit"\} 1/);
  assert.match(text, /floe_respond_refused_total\{cause="never-block"\} 1/);
  assert.match(text, /floe_respond_ignored_total\{cause="below-severity"\} 1/);
  assert.match(text, /floe_respond_ignored_total\{cause="already-blocked"\} 1/);
});

test('issue 6: the policy node and control-plane networks are protected from detector findings and manual blocks', () => {
  const r = createResponder(opts({ nodes: ['192.168.122.0/24'], controlPlane: ['192.168.121.10'] }));
  const n = refused(r.respond(finding('192.168.122.12'), NOW));
  assert.equal(n.cause, 'never-block');
  assert.match(n.audit.reason, /192\.168\.122\.0\/24 \(networks\.nodes\[0\]\)/);
  assert.match(refused(r.respond(finding('192.168.121.10'), NOW)).audit.reason, /networks\.controlPlane\[0\]/);
  for (const target of ['192.168.122.12', '192.168.122.0/25', '192.168.120.0/22', '192.168.121.10/32']) {
    assert.notEqual(assertRefused(r.manualBlock({ target, reason: 'x', user: 'bob' }, NOW), 'never-block').protectedBy, 'never-block', target);
  }
  decided(r.respond(finding('192.168.123.12'), NOW));
});

test('issue 6: the API examples are refused with a code: 2000::/3, 1.0.0.0/8 (too wide), 255.255.255.255, multicast, ::0.0.0.1 (protected)', () => {
  const r = createResponder(opts());
  for (const t of ['2000::/3', '1.0.0.0/8', '10.0.0.0/15', '2001:db8::/31'])
    assert.equal(assertRefused(r.manualBlock({ target: t, reason: 'x', user: 'bob' }, NOW), 'too-wide').protectedBy, 'too-wide', t);
  for (const t of ['255.255.255.255', '224.0.0.1', '239.0.0.0/16', 'ff02::1', 'ff00::/32', '::0.0.0.1', '::', '0.0.0.0/16', '::ffff:127.0.0.1']) {
    assert.equal(assertRefused(r.manualBlock({ target: t, reason: 'x', user: 'bob' }, NOW), 'never-block').protectedBy, 'special', t);
  }
  assert.equal(decided(r.manualBlock({ target: '10.0.0.0/16', reason: 'x', user: 'bob' }, NOW)).decision.target, '10.0.0.0/16');
  assert.equal(decided(r.manualBlock({ target: '2001:db8::/32', reason: 'x', user: 'bob' }, NOW)).decision.target, '2001:db8::/32');
  // a detector finding about a special address is refused and audited, not thrown
  assert.equal(refused(r.respond(finding('224.0.0.251'), NOW)).cause, 'never-block');
});

test('issue 6: findings whose flows were all logged as accepted do not block unless respond.blockOnAcceptedLogs', () => {
  const accepted = finding('203.0.113.40', { evidence: { flows: 20, verdicts: { accept: 20, drop: 0, none: 0 } } });
  assert.deepEqual(createResponder(opts()).respond(accepted, NOW), { kind: 'ignored', cause: 'accept-verdict' });
  decided(createResponder(opts({ blockOnAcceptedLogs: true })).respond(accepted, NOW));
  // one dropped or verdict-less flow among them, or no verdict counts at all: blocked as before
  decided(createResponder(opts()).respond(finding('203.0.113.41', { evidence: { flows: 20, verdicts: { accept: 19, drop: 1, none: 0 } } }), NOW));
  decided(createResponder(opts()).respond(finding('203.0.113.42', { evidence: { flows: 20, verdicts: { accept: 19, drop: 0, none: 1 } } }), NOW));
  decided(createResponder(opts()).respond(finding('203.0.113.43'), NOW));
  assert.throws(
    () => createResponder(opts({ blockOnAcceptedLogs: 'no' as unknown as boolean })),
    (e: unknown) => e instanceof RespondError && e.field === 'blockOnAcceptedLogs',
  );
});

test('issue 6: seed warns about and counts stored decisions that now overlap the protected set; a held-back one is not an active block', async () => {
  const registry = new Registry();
  const warns: Array<{ o: object; msg?: string }> = [];
  const logger: Logger = { ...noopLogger, warn: (o: unknown, msg?: unknown) => void warns.push({ o: o as object, msg: msg as string | undefined }) };
  const r = createResponder(opts({ neverBlock: ['198.51.100.7', '203.0.113.0/24'] }), { metrics: registry, logger });
  const stored = (target: string): Decision => ({
    schema: 1,
    target,
    action: 'block',
    scope: 'all',
    durationMs: H,
    expiresAt: NOW + H,
    origin: 'api:alice',
    reason: 'old',
    count: 1,
    dryRun: false,
    createdAt: NOW - 1000,
    updatedAt: NOW - 1000,
  });
  r.seed([stored('198.51.100.0/24'), stored('203.0.113.9/32'), stored('1.0.0.0/8'), stored('192.0.2.1/32')]);
  assert.equal(warns.length, 3, JSON.stringify(warns));
  assert.match(warns[0].msg!, /198\.51\.100\.0\/24 overlaps the protected set .*respond\.neverBlock\[0\].*8 pieces/);
  assert.match(warns[1].msg!, /203\.0\.113\.9\/32 .*not an active block/);
  const text = await registry.metrics();
  assert.match(text, /floe_respond_seed_withheld_total\{reason="never-block"\} 2/);
  assert.match(text, /floe_respond_seed_withheld_total\{reason="too-wide"\} 1/);
  // the unprotected stored block is active (a re-block is ignored); the held-back one is not remembered
  assert.deepEqual(r.respond(finding('192.0.2.1'), NOW), { kind: 'ignored', cause: 'already-blocked' });
  assert.equal(assertRefused(r.manualBlock({ target: '203.0.113.9', reason: 'x', user: 'bob' }, NOW), 'never-block').protectedBy, 'never-block');
});

test('issue 7: a finding whose entity is the victim (a SYN flood from spoofed sources) is never blocked, at any severity', async () => {
  const victim = finding('203.0.113.50', { detector: 'dos.synflood', severity: 'critical', evidence: { flows: 900, entityRole: 'victim' } });
  const m = new Registry();
  assert.deepEqual(createResponder(opts({ minSeverity: 'info' }), { metrics: m }).respond(victim, NOW), { kind: 'ignored', cause: 'victim' });
  assert.match(await m.getSingleMetricAsString('floe_respond_ignored_total'), /floe_respond_ignored_total\{cause="victim"\} 1/);
  // the same flood with one dominant source names that source: blocked
  const source = finding('203.0.113.51', { detector: 'dos.synflood', evidence: { flows: 900, entityRole: 'source' } });
  assert.equal(decided(createResponder(opts()).respond(source, NOW)).decision.target, '203.0.113.51/32');
});

test('a decision names the pod, namespace and workload of its finding when enrichment gave them (issue 9)', () => {
  const r = createResponder(opts());
  const o = decided(r.respond(finding('10.244.1.17', { severity: 'high', entity: { addr: '10.244.1.17', namespace: 'shop', pod: 'web-5d8f7c6b9-x2x7q', workload: 'web' } }), NOW));
  assert.match(o.decision.reason, / on pod shop\/web-5d8f7c6b9-x2x7q \(workload web\) /);
  const plain = decided(createResponder(opts()).respond(finding('203.0.113.7', { severity: 'high' }), NOW));
  assert.doesNotMatch(plain.decision.reason, /on pod/);
});
