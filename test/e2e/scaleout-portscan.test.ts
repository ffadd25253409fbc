/**
 * Issue 3, "What it must show" (1): issue 2's live port scan, with collector, processor,
 * enforcer and api as FOUR processes (services/<role>/dist/main.js -c FILE) over the dev Apache
 * Kafka and ClickHouse (deploy/dev/up.sh). The collector reads live conntrack events in the
 * victim's network namespace, the enforcer applies nftables there; the processor and the api
 * share a fresh ClickHouse database. The run is isolated from other runs on the same servers by
 * its own topic prefix (bus.topicPrefix), consumer groups, node name and database.
 *
 * Skipped when not root, a tool is missing, a main is not built or a server does not answer,
 * unless CI=true, FLOE_REQUIRE_KAFKA=1 or FLOE_REQUIRE_CLICKHOUSE=1 (then it fails with the reason).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Lab } from '../helpers/netns.js';
import { scaleOutBlocker, scaleOutRequired, ScaleOutRun, until, type RoleProcess } from '../helpers/scaleout-roles.js';

const blocker = await scaleOutBlocker();
const required = scaleOutRequired();

interface FindingItem {
  entity: { addr: string };
  detector: string;
  mitre?: string;
  evidence: { distinctPorts?: number };
}
interface DecisionItem {
  target: string;
  dryRun: boolean;
  origin: string;
}

test('scale-out: live port scan through four processes over Kafka and ClickHouse is blocked in nftables', { skip: required ? false : blocker, timeout: 180_000 }, async (t) => {
  if (blocker) assert.fail(`the scale-out end-to-end test must run here (CI / FLOE_REQUIRE_KAFKA): ${blocker}`);
  const lab = new Lab();
  const run = new ScaleOutRun((role, l) => {
    if (typeof l.level === 'number' && l.level >= 40) t.diagnostic(`${role}: ${JSON.stringify(l)}`);
  });
  t.after(async () => {
    await run.cleanup();
    lab.down();
  });
  lab.up();
  lab.spawn(lab.victim, process.execPath, ['-e', "require('net').createServer((s)=>{s.on('error',()=>{});s.end('hi\\n')}).listen(8080)"]);
  await until('victim server', 5000, async () => (await lab.connect(lab.bystander, lab.victimAddrB, 8080)) === 'connected' || undefined);

  // Every role knows the victim namespace: the collector reads conntrack there, the enforcer
  // applies nftables there, and processor and api read its addresses as never-block node addresses.
  const netns = { collector: { conntrack: { enabled: 'on', netns: lab.victim } }, enforcer: { netns: lab.victim, reconcileIntervalMs: 1000 } };
  const t0 = Date.now();
  // Sequential starts: api then processor create the database and run the migrations first.
  const api = run.start('api', run.config(netns));
  await api.healthy();
  const processor = run.start('processor', run.config(netns));
  await processor.healthy();
  const enforcer = run.start('enforcer', run.config(netns));
  await enforcer.healthy();
  const collector = run.start('collector', run.config(netns));
  await collector.healthy();
  const all: RoleProcess[] = [api, processor, enforcer, collector];
  t.diagnostic(`four processes healthy after ${Date.now() - t0} ms`);

  const apiLine = await until('the api to say where it listens', 10_000, () => api.find('api '));
  const base = /http:\/\/[^\s]+/.exec(apiLine.msg!)?.[0];
  assert.ok(base, `api address in ${apiLine.msg}`);
  assert.ok(collector.find('source   live conntrack events')?.msg?.includes(lab.victim), `the collector reads live conntrack in the victim namespace:\n${collector.tail()}`);
  assert.ok(enforcer.find('enforcer nftables')?.msg?.includes(lab.victim), `the enforcer applies nftables in the victim namespace:\n${enforcer.tail()}`);

  assert.equal(await lab.connect(lab.attacker, lab.victimAddrA, 8080), 'connected', 'attacker reaches the victim before the scan');

  const scanStart = Date.now();
  const nmap = spawn('ip', ['netns', 'exec', lab.attacker, 'nmap', '-sS', '-n', '-Pn', '--max-retries', '0', '-p', '1-300', lab.victimAddrA], { stdio: 'ignore' });
  t.after(() => {
    if (nmap.exitCode === null) nmap.kill('SIGKILL');
  });
  const nmapDone = new Promise((r) => nmap.once('exit', r));
  const setHolds = () => {
    try {
      return lab.exec(lab.victim, 'nft', ['list', 'set', 'inet', 'floe', 'blocked4']).includes(lab.attackerAddr) || undefined;
    } catch {
      return undefined;
    }
  };
  await until('the attacker in the nftables set of the victim namespace', 30_000, setHolds, 10);
  const blockedAfterMs = Date.now() - scanStart;
  await nmapDone;
  t.diagnostic(`time from the first scan packet to the block in place: ${blockedAfterMs} ms`);
  process.stdout.write(`# e2e scale-out (4 processes, Kafka, ClickHouse): scan start -> nftables block in place: ${blockedAfterMs} ms\n`);

  assert.equal(await lab.connect(lab.attacker, lab.victimAddrA, 8080, 2000), 'timeout', 'a new connection from the attacker times out');
  assert.equal(await lab.connect(lab.bystander, lab.victimAddrB, 8080, 2000), 'connected', 'the bystander still connects');

  // The api process answers from ClickHouse what the processor process stored. Only this
  // run's database is queried; the lab addresses filter the rest.
  const mine = await until(
    'the port-scan finding for the attacker from GET /v1/findings',
    15_000,
    async () => {
      const res = await fetch(`${base}/v1/findings?detector=portscan.vertical&entity=${lab.attackerAddr}`);
      assert.equal(res.status, 200);
      const items = ((await res.json()) as { items: FindingItem[] }).items.filter((f) => f.entity.addr === lab.attackerAddr);
      return items.length > 0 ? items : undefined;
    },
    200,
  );
  assert.equal(mine.length, 1, 'one port-scan finding for the attacker');
  assert.equal(mine[0].detector, 'portscan.vertical');
  assert.equal(mine[0].mitre, 'T1046');
  assert.ok((mine[0].evidence.distinctPorts ?? 0) >= 15, `distinct ports ${mine[0].evidence.distinctPorts}`);
  const decisions = (await (await fetch(`${base}/v1/decisions?active=true`)).json()) as { items: DecisionItem[] };
  assert.deepEqual(
    decisions.items.filter((d) => d.target === `${lab.attackerAddr}/32`).map((d) => d.dryRun),
    [false],
    'one active block decision for the attacker',
  );
  assert.ok(!decisions.items.some((d) => d.target.startsWith(lab.bystanderAddr)), 'the bystander is not blocked');

  for (const p of all) assert.equal(await p.healthStatus(), 200, `${p.role} /healthz while running:\n${p.tail()}`);
  // Stop in the reverse of the data path: collector flushes, processor drains, then the rest.
  for (const p of [collector, processor, enforcer, api]) {
    const started = Date.now();
    const code = await p.stop(30_000);
    t.diagnostic(`${p.role} exited ${code} ${Date.now() - started} ms after SIGTERM`);
    assert.equal(code, 0, `${p.role} exits 0 on SIGTERM:\n${p.tail()}`);
  }
  assert.ok(setHolds(), 'the block stays in nftables after the enforcer stopped (it ends by its timeout)');
});
