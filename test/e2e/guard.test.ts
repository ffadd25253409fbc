/**
 * Issue 6, guardrails end to end on a real `floe run` (one process, embedded DuckDB store, live
 * conntrack and nftables in network namespaces):
 * 1. a block stored before a restart meets a new `respond.neverBlock` entry inside it: after the
 *    restart the protected address is not in the kernel set, the rest of the prefix is, the
 *    warning metrics count it, and reconcile passes do not re-add it;
 * 2. node addresses are never blocked: not by the host-sweep detector on real VXLAN-like
 *    udp/4789 traffic from this node and from a peer node, nor by POST /v1/decisions;
 * 3. a scan seen only in accept-verdict log lines ([UFW ALLOW]) is reported, not blocked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, liveTestBlocker, nftBlocks, scratchNetns } from '../helpers/netns.js';
import { until } from '../helpers/wait.js';
import { FLOE_BIN as FLOE, startFloe } from '../helpers/floe-run.js';

const blocker = liveTestBlocker(['ip', 'nft', 'conntrack']);
if (blocker && process.env.CI) throw new Error(`the guardrail end-to-end tests must run in CI: ${blocker}`);

/** A running `floe run`: its API base URL, stdout lines, stderr text, and a graceful stop. */
interface Floe {
  api: string;
  lines: string[];
  stderr: () => string;
  stop(): Promise<number | null>;
}

async function startFloeRun(t: { after(fn: () => unknown): void; diagnostic(s: string): void }, netns: string, store: string, policy: string): Promise<Floe> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const f = await startFloe(t, ['run', '--netns', netns, '--api-port', String(port), '--store', store, '--policy', policy], {
    env: { FLOE_COLLECTOR_CONNTRACK_ENABLED: 'on', FLOE_LOG_LEVEL: 'warn', FLOE_ENFORCER_RECONCILE_INTERVAL_MS: '300' },
  });
  return { api: `http://127.0.0.1:${port}`, lines: f.lines, stderr: f.stderr, stop: f.stop };
}

async function post(f: Floe, target: string): Promise<{ status: number; body: { code?: string; detail?: string; target?: string } }> {
  const r = await fetch(`${f.api}/v1/decisions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ target, reason: 'issue 6 test', duration: '1h' }),
  });
  return { status: r.status, body: (await r.json()) as { code?: string; detail?: string } };
}

/** The value of one sample of a Prometheus text metric (0 when absent). */
async function metric(f: Floe, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${f.api}/metrics`)).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** The enforcer's last reconcile time from GET /healthz. */
async function lastReconcileAt(f: Floe): Promise<number> {
  const h = (await (await fetch(`${f.api}/healthz`)).json()) as { enforcer?: { lastReconcileAt?: number } };
  return h.enforcer?.lastReconcileAt ?? 0;
}

test('issue 6: a stored block meets a new never-block entry after a restart of floe run: the protected address stays out of nftables', {
  skip: blocker,
  timeout: 120_000,
}, async (t) => {
  const ns = scratchNetns(t, 'floe-grd');
  const dir = mkdtempSync(join(tmpdir(), 'floe-guard-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'floe.duckdb');
  writeFileSync(join(dir, 'before.yaml'), 'version: 1\nrespond:\n  neverBlock: []\n');
  writeFileSync(join(dir, 'after.yaml'), 'version: 1\nrespond:\n  neverBlock: [10.20.0.5, 10.30.0.7]\n');

  const first = await startFloeRun(t, ns, db, join(dir, 'before.yaml'));
  for (const target of ['10.20.0.0/24', '10.30.0.7']) assert.equal((await post(first, target)).status, 201, target);
  await until('the blocks in nftables', 10000, () => (nftBlocks(ns, '10.20.0.5') && nftBlocks(ns, '10.30.0.7')) || undefined);
  assert.equal(await first.stop(), 0);
  assert.ok(nftBlocks(ns, '10.20.0.5'), 'the table (and the blocks) outlive the process');

  const second = await startFloeRun(t, ns, db, join(dir, 'after.yaml'));
  t.after(() => second.stop());
  assert.equal(nftBlocks(ns, '10.20.0.5'), false, 'the new never-block address left the kernel set');
  assert.equal(nftBlocks(ns, '10.30.0.7'), false, 'the stored host block now protected is held back');
  for (const a of ['10.20.0.0', '10.20.0.4', '10.20.0.6', '10.20.0.128', '10.20.0.255']) assert.ok(nftBlocks(ns, a), `${a}: the rest of the /24 stays blocked`);
  assert.equal(await metric(second, 'floe_enforcer_guard_withheld_total', { reason: 'never-block', outcome: 'split' }), 1);
  assert.equal(await metric(second, 'floe_enforcer_guard_withheld_total', { reason: 'never-block', outcome: 'held' }), 1);
  assert.equal(await metric(second, 'floe_respond_seed_withheld_total', { reason: 'never-block' }), 2);
  assert.match(second.stderr(), /10\.20\.0\.0\/24 overlaps the protected set/);

  // Two reconcile passes later, still out.
  const since = Date.now();
  await until('two reconcile passes', 10000, async () => (await lastReconcileAt(second)) > since + 300 || undefined, 100);
  assert.equal(nftBlocks(ns, '10.20.0.5'), false);
  assert.equal(nftBlocks(ns, '10.30.0.7'), false);
  assert.ok(nftBlocks(ns, '10.20.0.4'));

  // And the API path refuses it anew, with the cause.
  const again = await post(second, '10.20.0.5');
  assert.equal(again.status, 422);
  assert.equal(again.body.code, 'FLOE_RESPOND_NEVER_BLOCK');
  assert.match(again.body.detail ?? '', /respond\.neverBlock\[0\]/);
  for (const [target, status, code] of [
    ['1.0.0.0/8', 400, 'FLOE_RESPOND_TOO_WIDE'],
    ['2000::/3', 400, 'FLOE_RESPOND_TOO_WIDE'],
    ['255.255.255.255', 422, 'FLOE_RESPOND_PROTECTED'],
    ['224.0.0.251', 422, 'FLOE_RESPOND_PROTECTED'],
    ['ff02::1', 422, 'FLOE_RESPOND_PROTECTED'],
    ['::0.0.0.1', 422, 'FLOE_RESPOND_PROTECTED'],
  ] as const) {
    const r = await post(second, target);
    assert.deepEqual([r.status, r.body.code], [status, code], `${target}: ${r.body.detail}`);
  }
  assert.equal(nftBlocks(ns, '255.255.255.255'), false);
});

/** Sends one UDP datagram to port 4789 (VXLAN, RFC 7348) of each address, from namespace `ns`. */
function udp4789(lab: Lab, ns: string, addrs: string[]): void {
  const script =
    `const s=require('dgram').createSocket('udp4');let n=0;const a=${JSON.stringify(addrs)};` +
    `for(const d of a)s.send(Buffer.alloc(50),4789,d,()=>{if(++n===a.length)s.close()});`;
  lab.exec(ns, process.execPath, ['-e', script]);
}

const hosts = (prefix: string) => Array.from({ length: 20 }, (_, i) => `${prefix}.${100 + i}`);

test('issue 6: node addresses are never blocked, by the host-sweep detector on real udp/4789 traffic or by POST /v1/decisions', { skip: blocker, timeout: 120_000 }, async (t) => {
  const lab = new Lab();
  t.after(() => lab.down());
  lab.up();
  // The victim is this node; the attacker namespace is a peer node (networks.nodes); the
  // bystander is not a node. Both peers' traffic is forwarded through this node.
  lab.exec(lab.victim, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  lab.exec(lab.attacker, 'ip', ['route', 'add', '10.231.3.0/24', 'via', lab.victimAddrA]);
  lab.exec(lab.victim, 'ip', ['route', 'add', '10.231.3.0/24', 'via', lab.bystanderAddr]);
  lab.exec(lab.bystander, 'ip', ['route', 'add', '10.231.4.0/24', 'via', lab.victimAddrB]);
  lab.exec(lab.victim, 'ip', ['route', 'add', '10.231.4.0/24', 'via', lab.attackerAddr]);
  const dir = mkdtempSync(join(tmpdir(), 'floe-guard-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'policy.yaml'), 'version: 1\nnetworks:\n  nodes: [10.231.1.0/24]\n');
  const floe = await startFloeRun(t, lab.victim, ':memory:', join(dir, 'policy.yaml'));
  t.after(() => floe.stop());

  udp4789(lab, lab.victim, hosts('10.231.2')); // this node (10.231.2.1) to 20 peers on its link
  udp4789(lab, lab.attacker, hosts('10.231.3')); // a peer node (10.231.1.2) to 20 peers, forwarded here
  udp4789(lab, lab.bystander, hosts('10.231.4')); // not a node: the same sweep must be blocked
  await until('the non-node sweeper blocked in nftables', 30000, () => nftBlocks(lab.victim, lab.bystanderAddr) || undefined, 50);
  const findings = async (entity: string) => ((await (await fetch(`${floe.api}/v1/findings?entity=${entity}`)).json()) as { items: Array<{ detector: string }> }).items;
  for (const node of ['10.231.2.1', lab.attackerAddr]) {
    const f = await until(
      `the host-sweep finding about ${node}`,
      15000,
      async () => {
        const items = await findings(node);
        return items.some((x) => x.detector === 'hostsweep.horizontal') ? items : undefined;
      },
      100,
    );
    assert.ok(f.length > 0);
    assert.equal(nftBlocks(lab.victim, node), false, `${node} is a node address: found, never blocked`);
  }
  assert.ok((await metric(floe, 'floe_respond_refused_total', { cause: 'never-block' })) >= 2);
  const decisions = (await (await fetch(`${floe.api}/v1/decisions`)).json()) as { items: Array<{ target: string }> };
  assert.deepEqual(
    decisions.items.map((d) => d.target),
    [`${lab.bystanderAddr}/32`],
  );

  for (const target of [lab.attackerAddr, lab.victimAddrA, '10.231.2.1', '10.231.1.0/24', '10.231.0.0/16']) {
    const r = await post(floe, target);
    assert.deepEqual([r.status, r.body.code], [422, 'FLOE_RESPOND_PROTECTED'], `${target}: ${r.body.detail}`);
  }
  const since = Date.now();
  await until('two reconcile passes', 10000, async () => (await lastReconcileAt(floe)) > since + 300 || undefined, 100);
  for (const a of [lab.attackerAddr, lab.victimAddrA, '10.231.2.1']) assert.equal(nftBlocks(lab.victim, a), false, a);
});

/** Runs `floe run --replay FILE` to the end (embedded store in memory, nothing enforced) and returns its summary counts. */
async function replaySummary(file: string, policy: string): Promise<{ findings: number; decisions: number; out: string }> {
  const child = spawn(
    process.execPath,
    [FLOE, 'run', '--replay', file, '--format', 'kernel-log', '--speed', 'max', '--exit-after-replay', '--dry-run', '--store', ':memory:', '--api-port', '0', '--policy', policy],
    {
      env: { ...process.env, FLOE_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  assert.equal(code, 0, out);
  const m = /summary\s+processed \d+ flows, (\d+) findings, (\d+) decisions/.exec(out);
  assert.ok(m, out);
  return { findings: Number(m[1]), decisions: Number(m[2]), out };
}

test('issue 6: a port scan logged only by [UFW ALLOW] lines is reported, not blocked, unless respond.blockOnAcceptedLogs', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-guard-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const capture = readFileSync(fileURLToPath(new URL('../../packages/flow/testdata/iptables-log/crowdsec-hub-iptables-portscan.log', import.meta.url)), 'utf8');
  const withPrefix = (p: string) => capture.replace(/\] IN=/g, `] ${p}IN=`);
  writeFileSync(join(dir, 'allow.log'), withPrefix('[UFW ALLOW] '));
  writeFileSync(join(dir, 'block.log'), withPrefix('[UFW BLOCK] '));
  writeFileSync(join(dir, 'default.yaml'), 'version: 1\n');
  writeFileSync(join(dir, 'on.yaml'), 'version: 1\nrespond:\n  blockOnAcceptedLogs: true\n');
  const allow = await replaySummary(join(dir, 'allow.log'), join(dir, 'default.yaml'));
  assert.ok(allow.findings > 0, 'the scan is found');
  assert.equal(allow.decisions, 0, allow.out);
  const block = await replaySummary(join(dir, 'block.log'), join(dir, 'default.yaml'));
  assert.equal(block.findings, allow.findings);
  assert.ok(block.decisions > 0, 'dropped packets of the same scan do lead to a block');
  assert.equal((await replaySummary(join(dir, 'allow.log'), join(dir, 'on.yaml'))).decisions, block.decisions);
});
