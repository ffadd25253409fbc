// Issue 7: the brute-force, SYN-flood and beacon findings on real captures (packages/detect/testdata,
// recorded by capture-rules.sh), through the detectors and the responder as `floe run` wires them
// from the default policy: who gets blocked, and who never does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseFile, type Finding } from '@floe/flow';
import { compilePolicy, defaultPolicy, parsePolicy } from '@floe/policy';
import { createResponder } from '@floe/respond';
import { detectorsFor, responderOptions } from './wiring.js';

const capture = (name: string) => fileURLToPath(new URL(`../../detect/testdata/captured-conntrack-E-extended-timestamp-${name}.log`, import.meta.url));
const NOW = Date.UTC(2026, 11, 2);

/** Last form of every finding of the default policy's detectors on a capture (offline, then flushed). */
async function findings(name: string, policy = compilePolicy(defaultPolicy())): Promise<Finding[]> {
  const { records } = await parseFile(capture(name), { format: 'conntrack' });
  const ds = detectorsFor(policy, { lateness: Infinity });
  const byId = new Map<string, Finding>();
  for (const r of records) for (const d of ds) for (const f of d.observe(r)) byId.set(f.id, f);
  for (const d of ds) for (const f of d.flush()) byId.set(f.id, f);
  return [...byId.values()];
}

/** Targets the responder blocks for these findings, and the outcome of each. */
function respond(fs: Finding[], policy = compilePolicy(defaultPolicy())) {
  const r = createResponder(responderOptions(policy, []));
  return fs.map((f) => ({ detector: f.detector, entity: f.entity.addr, outcome: r.respond(f, NOW) }));
}

test('hping3 SYN flood from one source: the source is blocked', async () => {
  const out = respond(await findings('syn-flood'));
  assert.deepEqual(
    out.map((o) => [o.detector, o.outcome.kind === 'decision' ? o.outcome.decision.target : o.outcome.kind]),
    [['dos.synflood', '10.231.1.2/32']],
  );
});

test('hping3 --rand-source flood: reported about the victim, nothing blocked (not the victim, not a spoofed source)', async () => {
  const fs = await findings('syn-spoofed');
  assert.deepEqual(
    fs.map((f) => [f.detector, f.entity.addr, f.evidence.entityRole]),
    [['dos.synflood', '10.231.1.1', 'victim']],
  );
  assert.deepEqual(
    respond(fs).map((o) => o.outcome),
    [{ kind: 'ignored', cause: 'victim' }],
  );
  // Even when the policy lowers the bar to info and the victim is not protected.
  const eager = compilePolicy(parsePolicy('version: 1\nrespond: { minSeverity: info }\n', 'eager.yaml'));
  assert.deepEqual(
    respond(fs, eager).map((o) => o.outcome.kind),
    ['ignored'],
  );
});

test('hydra against sshd: the attacker is blocked by the brute-force finding', async () => {
  const out = respond(await findings('ssh-hydra'));
  const bf = out.filter((o) => o.detector === 'bruteforce.auth');
  assert.deepEqual(
    bf.map((o) => (o.outcome.kind === 'decision' ? o.outcome.decision.target : o.outcome.kind)),
    ['10.231.1.2/32'],
  );
});

test('a 2-s HTTP beacon is reported (medium), not blocked; benign traffic between the same hosts raises nothing', async () => {
  const beacon = respond(await findings('beacon-2s'));
  assert.deepEqual(
    beacon.map((o) => [o.detector, o.entity, o.outcome]),
    [['beacon.periodic', '10.231.1.2', { kind: 'ignored', cause: 'below-severity' }]],
  );
  for (const benign of ['ssh-logins', 'http-burst', 'http-bursty']) assert.deepEqual(await findings(benign), [], benign);
});
