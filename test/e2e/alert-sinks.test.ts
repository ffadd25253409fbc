/**
 * Issue 8 part 4's end-to-end test: the bundled nmap port-scan capture replayed through the built
 * CLI (`floe run --replay …`) with a configuration that routes port-scan findings to every sink,
 * each a real receiver on loopback: Prometheus Alertmanager (v2 API), rsyslog over TLS (CEF in
 * RFC 5424), a webhook receiver that checks the HMAC signature itself, a Slack-shaped receiver, and
 * a second webhook receiver that is down when the finding is raised and comes up later.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort, makeCerts, receiversBlocker, startAlertmanager, startRsyslog } from '@floe/alert/testing';
import { until } from '../helpers/wait.js';

const FLOE = fileURLToPath(new URL('../../services/cli/bin/floe.js', import.meta.url));
const CAPTURE = fileURLToPath(new URL('../../services/cli/samples/conntrack-nmap-top100-scan.log', import.meta.url));
const SECRET = 'e2e-webhook-secret-9f8e7d6c5b4a';
const blocker = receiversBlocker();
if (blocker && process.env.CI) throw new Error(`the alert end-to-end test must run in CI: ${blocker}`);

interface Delivery {
  body: string;
  signatureOk: boolean;
}

/** An HTTP receiver recording each POST; with `secret` it checks floe-signature (HMAC-SHA256 of "t.body", t within 300 s). */
function receiver(port: number, secret?: string): Promise<{ server: Server; got: Delivery[] }> {
  const got: Delivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let signatureOk = false;
      if (secret) {
        const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers['floe-signature'] ?? ''));
        signatureOk =
          !!m && Math.abs(Date.now() / 1000 - Number(m[1])) <= 300 && timingSafeEqual(createHmac('sha256', secret).update(`${m[1]}.${body}`).digest(), Buffer.from(m[2], 'hex'));
      }
      got.push({ body, signatureOk });
      res.statusCode = !secret || signatureOk ? 200 : 400;
      res.end();
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, got })));
}

test('a port-scan finding of a replayed nmap capture reaches Alertmanager, rsyslog (CEF over TLS), a signed webhook and Slack once; a receiver that was down gets it when back', {
  skip: blocker,
  timeout: 120_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-e2e-alert-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const closers: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  });

  const am = await startAlertmanager(mkdtempSync(join(dir, 'am-')));
  closers.push(() => am.stop());
  const certs = makeCerts(dir);
  const rs = await startRsyslog(mkdtempSync(join(dir, 'rsyslog-')), 'tls', certs);
  closers.push(() => rs.stop());
  const hook = await receiver(0, SECRET);
  closers.push(() => new Promise((r) => hook.server.close(r)));
  const slack = await receiver(0);
  closers.push(() => new Promise((r) => slack.server.close(r)));
  const latePort = await freePort(); // nothing listens there until later
  const portOf = (s: Server) => (s.address() as { port: number }).port;
  writeFileSync(join(dir, 'hook.secret'), `${SECRET}\n`);

  const cfg = join(dir, 'floe.yaml');
  writeFileSync(
    cfg,
    `alert:
  groupWaitMs: 200
  groupIntervalMs: 600000
  resendIntervalMs: 1000
  retry: { retries: 1, minDelayMs: 50, maxDelayMs: 100 }
  deadLetter: { file: ${JSON.stringify(join(dir, 'dead-letters.jsonl'))}, probeIntervalMs: 200 }
  sinks:
    am: { type: alertmanager, url: "${am.url}" }
    siem: { type: syslog, transport: tls, host: 127.0.0.1, port: ${rs.port}, caFile: ${JSON.stringify(certs.ca)} }
    hook: { type: webhook, url: "http://127.0.0.1:${portOf(hook.server)}/floe", secretFile: ${JSON.stringify(join(dir, 'hook.secret'))} }
    slack: { type: slack, url: "http://127.0.0.1:${portOf(slack.server)}/services/T0/B0/x" }
    late: { type: webhook, url: "http://127.0.0.1:${latePort}/floe", secretFile: ${JSON.stringify(join(dir, 'hook.secret'))} }
  routes:
    - { name: soc, minSeverity: medium, detectors: ["portscan.*"], sinks: [am, siem, hook, slack, late] }
`,
  );

  // no --exit-after-replay: floe keeps running after the replay, so the late receiver can come back
  const floe = spawn(process.execPath, [FLOE, 'run', '-c', cfg, '--replay', CAPTURE, '--speed', 'max', '--store', ':memory:', '--api-port', '0', '--dry-run'], {
    env: { ...process.env, FLOE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  closers.push(async () => {
    if (floe.exitCode === null) floe.kill('SIGKILL');
  });
  const lines: string[] = [];
  createInterface({ input: floe.stdout! }).on('line', (l) => {
    lines.push(l);
    t.diagnostic(`floe: ${l}`);
  });
  let stderr = '';
  floe.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => floe.once('exit', (code) => r(code)));
  await until('the replay to finish', 60_000, () => {
    if (floe.exitCode !== null) throw new Error(`floe exited ${floe.exitCode}: ${stderr}`);
    return lines.some((l) => l.startsWith('ready ')) || undefined;
  });
  assert.ok(
    lines.some((l) => l.startsWith('alerts ') && l.includes('1 route(s)')),
    lines.join('\n'),
  );
  const finding = lines.find((l) => l.startsWith('finding') && l.includes('portscan.vertical'));
  assert.ok(finding, `a port-scan finding: ${lines.join('\n')}`);
  const api = /api\s+(http:\/\/\S+)/.exec(lines.find((l) => l.startsWith('api ')) ?? '')?.[1];
  assert.ok(api, 'the API address');

  // the signed webhook: the signature check passes, the finding is the scanner's
  const d = await until('the webhook delivery', 15_000, () => hook.got[0]);
  assert.ok(d.signatureOk, 'the receiver verified the HMAC signature and the timestamp');
  const body = JSON.parse(d.body) as { findings: Array<{ id: string; detector: string; entity: { addr: string } }> };
  const f = body.findings.find((x) => x.detector === 'portscan.vertical');
  assert.ok(f, d.body.slice(0, 500));
  assert.equal(f.entity.addr, '10.50.0.2');

  // Alertmanager holds it, labelled for de-duplication
  const alerts = await until('the alert in Alertmanager', 15_000, async () => {
    const a = (await am.alerts()).filter((x) => x.labels.detector === 'portscan.vertical');
    return a.length ? a : undefined;
  });
  assert.equal(alerts.length, 1);
  assert.deepEqual(alerts[0].labels, { alertname: 'FloeFinding', detector: 'portscan.vertical', severity: 'high', entity: '10.50.0.2' });
  assert.equal(alerts[0].annotations.findingId, f.id);

  // rsyslog wrote the CEF line
  const cef = await until('the CEF line in rsyslog', 15_000, () => rs.lines().find((l) => l.includes('cs1=portscan.vertical')));
  assert.match(cef, /^floe finding CEF:0\|floe\|floe\|[^|]+\|portscan\.vertical\|[^|]*\|8\|/);
  assert.ok(cef.includes('src=10.50.0.2 '), cef);
  assert.ok(cef.includes(`cs2=${f.id} cs2Label=findingId`), cef);

  // Slack got its shape
  const s = JSON.parse((await until('the slack message', 15_000, () => slack.got[0])).body) as { text: string; blocks: unknown[] };
  assert.ok(s.text.includes('portscan.vertical') && Array.isArray(s.blocks));

  // metrics from floe's /metrics: the value of one sample
  const metric = async (sample: string) => {
    const text = await (await fetch(`${api}/metrics`)).text();
    const m = new RegExp(`^${sample.replace(/[{}]/g, '\\$&')} (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  // the receiver that is down: its delivery is dead-lettered once the retry budget is spent
  await until('the dead letter of the receiver that is down', 15_000, async () => (await metric('floe_alert_dead_lettered_total{sink="late",cause="retries-exhausted"}')) === 1);
  // it comes up: the dead-lettered alert is redelivered
  const late = await receiver(latePort, SECRET);
  closers.push(() => new Promise((r) => late.server.close(r)));
  const ld = await until('the redelivery to the receiver that was down', 15_000, () => late.got.find((g) => g.body.includes(f.id)));
  assert.ok(ld.signatureOk, 'signed afresh when redelivered');
  await until('the redelivery counted', 5000, async () => (await metric('floe_alert_redelivered_total{sink="late"}')) === 1);
  // the finding's updates (15, 30, 60, 100 ports: one id) were repeats inside the group interval, not alerts
  assert.ok(((await metric('floe_alert_skipped_total{route="soc",cause="repeat"}')) ?? 0) >= 1);

  floe.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  // every receiver got this finding exactly once, though the detector raised, updated and closed it
  const count = (got: Delivery[]) => got.filter((g) => g.body.includes(f.id)).length;
  assert.equal(count(hook.got), 1, 'the webhook got the finding once');
  assert.equal(count(late.got), 1, 'the late receiver got it once');
  assert.equal(rs.lines().filter((l) => l.includes(`cs2=${f.id} `)).length, 1, 'rsyslog got it once');
});

test('floe run refuses an alert sink whose secret file is missing (exit 2, naming the key) and a route naming no sink', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-e2e-alert-cfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (yaml: string) => {
    const cfg = join(dir, 'floe.yaml');
    writeFileSync(cfg, yaml);
    const r = spawnSync(
      process.execPath,
      [FLOE, 'run', '-c', cfg, '--replay', CAPTURE, '--speed', 'max', '--store', ':memory:', '--api-port', '0', '--dry-run', '--exit-after-replay'],
      {
        encoding: 'utf8',
        env: { ...process.env, FLOE_LOG_LEVEL: 'warn' },
        timeout: 60_000,
      },
    );
    return r;
  };
  const missing = run(
    `alert:\n  sinks:\n    soc: { type: webhook, url: "http://127.0.0.1:1/h", secretFile: ${JSON.stringify(join(dir, 'nope'))} }\n  routes:\n    - { sinks: [soc] }\n`,
  );
  assert.equal(missing.status, 2, missing.stderr);
  assert.match(missing.stderr, /alert\.sinks\.soc\.secretFile: cannot read \(ENOENT\)/);
  const unknown = run(`alert:\n  sinks: {}\n  routes:\n    - { name: soc, sinks: [pager] }\n`);
  assert.equal(unknown.status, 2, unknown.stderr);
  assert.match(unknown.stderr, /route soc names sink "pager"/);
});
