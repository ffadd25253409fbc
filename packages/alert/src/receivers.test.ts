/**
 * The sinks against real receivers on loopback: Prometheus Alertmanager (Debian
 * prometheus-alertmanager) through its v2 API, rsyslog (Debian rsyslog, rsyslog-gnutls) over UDP,
 * TCP with octet counting and TLS, and small HTTP receivers for the webhook (checks the HMAC itself
 * and rejects stale timestamps) and Slack shapes. Receivers missing: skipped, except under CI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRegistry, readMetric } from '@floe/telemetry';
import { createAlertDispatcher, type AlertDispatcher } from './dispatcher.js';
import type { AlertConfig } from './config.js';
import { freePort, makeCerts, receiversBlocker, startAlertmanager, startRsyslog } from './testing.js';
import { parseCefExtension, splitCefHeader, testFinding } from './test-finding.js';

const blocker = receiversBlocker();
if (blocker && process.env.CI) throw new Error(`the alert receiver tests must run in CI: ${blocker}`);

const SECRET = 'test-webhook-secret-0123456789abcdef';
const TOLERANCE_S = 300;

async function until<T>(what: string, ms: number, pred: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const tmp = (t: { after(fn: () => void): void }) => {
  const d = mkdtempSync(join(tmpdir(), 'floe-alert-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
};

/** Fast timings for tests: no group wait, long group interval, quick retries. */
const FAST: Partial<AlertConfig> = {
  groupWaitMs: 0,
  groupIntervalMs: 60_000,
  retry: { retries: 1, minDelayMs: 10, maxDelayMs: 20, factor: 2 },
  deadLetter: { redeliverWithinMs: 60_000, probeIntervalMs: 100 },
  drainTimeoutMs: 5000,
};

interface Received {
  body: string;
  headers: IncomingMessage['headers'];
  verdict: 'ok' | 'stale' | 'bad-signature' | 'malformed';
}

/**
 * A webhook receiver as a user would write it from the README: recomputes HMAC-SHA256(secret,
 * t + "." + body), compares in constant time, answers 400 for a t more than 300 s from its clock
 * (`clockSkewS` moves its clock, to play a replay later).
 */
function webhookReceiver(port = 0, clockSkewS = 0): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers['floe-signature'] ?? ''));
      let verdict: Received['verdict'] = 'malformed';
      if (m) {
        const mac = createHmac('sha256', SECRET).update(`${m[1]}.${body}`).digest();
        const nowS = Math.floor(Date.now() / 1000) + clockSkewS;
        verdict = !timingSafeEqual(mac, Buffer.from(m[2], 'hex')) ? 'bad-signature' : Math.abs(nowS - Number(m[1])) > TOLERANCE_S ? 'stale' : 'ok';
      }
      got.push({ body, headers: req.headers, verdict });
      res.statusCode = verdict === 'ok' ? 204 : 400;
      res.end();
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, got })));
}

const stopAll =
  (d: AlertDispatcher, ...servers: Server[]) =>
  async () => {
    await d.stop();
    for (const s of servers) await new Promise((r) => s.close(r));
  };

test("webhook: a signed delivery passes the receiver's check; the same bytes replayed 10 minutes later are rejected as stale", async (t) => {
  const rx = await webhookReceiver();
  const registry = createRegistry({ defaultMetrics: false });
  const d = createAlertDispatcher({ ...FAST, sinks: { hook: { type: 'webhook', url: rx.url, secret: SECRET } }, routes: [{ sinks: ['hook'] }] }, { metrics: registry });
  t.after(stopAll(d, rx.server));
  await d.start();
  const f = testFinding();
  d.notify(f);
  const first = await until('the webhook delivery', 5000, () => rx.got[0]);
  assert.equal(first.verdict, 'ok');
  const body = JSON.parse(first.body);
  assert.equal(body.schema, 1);
  assert.equal(body.status, 'firing');
  assert.equal(body.findings[0].id, f.id);
  await until('the delivery counted', 5000, async () => (await readMetric(registry, 'floe_alert_sent_total', { sink: 'hook' })) === 1);

  // a captured delivery replayed later: the same body and header to a receiver whose clock is 10 minutes on
  const later = await webhookReceiver(0, 600);
  t.after(() => new Promise((r) => later.server.close(r)));
  const r = await fetch(later.url, {
    method: 'POST',
    headers: { 'floe-signature': String(first.headers['floe-signature']), 'content-type': 'application/json' },
    body: first.body,
  });
  assert.equal(r.status, 400);
  assert.equal(later.got[0].verdict, 'stale');
});

test('webhook: an update of a finding inside the group interval is not sent twice (counted as repeat)', async (t) => {
  const rx = await webhookReceiver();
  const registry = createRegistry({ defaultMetrics: false });
  const d = createAlertDispatcher(
    { ...FAST, sinks: { hook: { type: 'webhook', url: rx.url, secret: SECRET } }, routes: [{ name: 'all', sinks: ['hook'] }] },
    { metrics: registry },
  );
  t.after(() => new Promise((r) => rx.server.close(r)));
  await d.start();
  const f = testFinding();
  d.notify(f);
  await until('the first delivery', 5000, () => rx.got[0]);
  d.notify({ ...f, lastSeen: f.lastSeen + 1000, evidence: { ...f.evidence, flows: 240 } }); // the same finding, updated
  d.notify(testFinding({ id: 'portscan.vertical:other', entity: { addr: '10.0.0.77' } })); // another entity: its own group
  await d.stop(); // sends what groups hold and drains the queues
  assert.equal(rx.got.length, 2, 'the first finding once, the other entity once');
  assert.deepEqual(
    rx.got.map((g) => JSON.parse(g.body).findings[0].entity.addr),
    ['10.0.0.66', '10.0.0.77'],
  );
  assert.equal(await readMetric(registry, 'floe_alert_skipped_total', { route: 'all', cause: 'repeat' }), 1);
});

test('webhook: a receiver that is down gets the alert once it is back (dead letter in the file, then redelivered)', async (t) => {
  const dir = tmp(t);
  const port = await freePort(); // nothing listens there yet
  const registry = createRegistry({ defaultMetrics: false });
  const dlFile = join(dir, 'dead-letters.jsonl');
  const d = createAlertDispatcher(
    {
      ...FAST,
      deadLetter: { ...FAST.deadLetter!, file: dlFile },
      sinks: { hook: { type: 'webhook', url: `http://127.0.0.1:${port}/hook`, secret: SECRET } },
      routes: [{ sinks: ['hook'] }],
    },
    { metrics: registry },
  );
  await d.start();
  const f = testFinding();
  d.notify(f);
  await until('the delivery dead-lettered', 10_000, async () => (await readMetric(registry, 'floe_alert_dead_lettered_total', { sink: 'hook' })) === 1);
  assert.equal(await readMetric(registry, 'floe_alert_retried_total', { sink: 'hook' }), 1, 'one retry (retries: 1) before giving up');
  assert.equal(d.health().sinks.hook.down, true);
  const letter = JSON.parse(readFileSync(dlFile, 'utf8').split('\n')[0]);
  assert.equal(letter.sink, 'hook');
  assert.equal(letter.cause, 'retries-exhausted');
  assert.equal(letter.notification.findings[0].id, f.id);

  const rx = await webhookReceiver(port); // the receiver comes back
  t.after(stopAll(d, rx.server));
  const got = await until('the redelivery', 10_000, () => rx.got[0]);
  assert.equal(got.verdict, 'ok', 'signed afresh at redelivery: not stale');
  assert.equal(JSON.parse(got.body).findings[0].id, f.id);
  // the receiver has the body before the sender has read the answer: wait for the count
  await until('the redelivery counted', 5000, async () => (await readMetric(registry, 'floe_alert_redelivered_total', { sink: 'hook' })) === 1);
  assert.equal(d.health().sinks.hook.down, false);
  assert.match(readFileSync(dlFile, 'utf8'), new RegExp(`"redelivered":"${letter.id}"`));
});

test('slack: text and mrkdwn blocks; input text escaped', async (t) => {
  const got: unknown[] = [];
  const server = createServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      got.push(JSON.parse(b));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/services/T000/B000/XXX`;
  const d = createAlertDispatcher({ ...FAST, sinks: { slack: { type: 'slack', url } }, routes: [{ sinks: ['slack'] }] });
  t.after(stopAll(d, server));
  await d.start();
  d.notify(testFinding({ summary: 'scan <!channel> & more' }));
  const msg = (await until('the slack message', 5000, () => got[0])) as { text: string; blocks: Array<{ type: string; text?: { type: string; text: string } }> };
  assert.equal(typeof msg.text, 'string');
  assert.ok(msg.blocks.length >= 2);
  const section = msg.blocks.find((b) => b.text?.text.startsWith('*high*'));
  assert.equal(section?.text?.type, 'mrkdwn');
  assert.ok(section?.text?.text.includes('scan &lt;!channel&gt; &amp; more'));
  assert.ok(!JSON.stringify(msg).includes('<!channel>'));
});

test('alertmanager: the alert arrives with labels alertname/detector/severity/entity; resolving it sets endsAt', { skip: blocker, timeout: 60_000 }, async (t) => {
  const dir = tmp(t);
  const am = await startAlertmanager(dir);
  t.after(() => am.stop());
  const d = createAlertDispatcher({
    ...FAST,
    resendIntervalMs: 1000,
    resolveAfterMs: 4000,
    sinks: { am: { type: 'alertmanager', url: am.url, generatorUrl: 'http://floe.example/v1/findings/{id}' } },
    routes: [{ sinks: ['am'] }],
  });
  t.after(() => d.stop());
  await d.start();
  const f = testFinding();
  d.notify(f);
  const alerts = await until('the alert in Alertmanager', 10_000, async () => {
    const a = await am.alerts();
    return a.length ? a : undefined;
  });
  assert.equal(alerts.length, 1);
  const a = alerts[0];
  assert.deepEqual(a.labels, { alertname: 'FloeFinding', detector: 'portscan.vertical', severity: 'high', entity: '10.0.0.66' });
  assert.equal(a.annotations.findingId, f.id);
  assert.equal(a.annotations.summary, f.summary);
  assert.equal(a.generatorURL, `http://floe.example/v1/findings/${encodeURIComponent(f.id)}`);
  assert.equal(a.status.state, 'active');
  const firstEnds = Date.parse(a.endsAt);
  assert.ok(firstEnds > Date.now(), 'active: endsAt ahead');
  // re-sent while active: endsAt moves on
  await until('a re-send', 10_000, async () => Date.parse((await am.alerts())[0]?.endsAt ?? '0') > firstEnds);
  d.resolve(f.id);
  await until('the alert resolved', 10_000, async () => (await am.alerts()).length === 0);

  // the final form of a finding (its window closed) ends its alert too
  const g = testFinding({ id: 'portscan.vertical:g', entity: { addr: '192.0.2.20' } });
  d.notify(g);
  await until('the second alert', 10_000, async () => (await am.alerts()).some((x) => x.labels.entity === '192.0.2.20'));
  d.notify({ ...g, evidence: { ...g.evidence, flows: 300 } }, 'final');
  await until('the second alert ended by its final form', 10_000, async () => !(await am.alerts()).some((x) => x.labels.entity === '192.0.2.20'));

  // a finding with no update for resolveAfterMs is over
  const h = testFinding({ id: 'portscan.vertical:h', entity: { addr: '192.0.2.30' } });
  d.notify(h);
  await until('the third alert', 10_000, async () => (await am.alerts()).some((x) => x.labels.entity === '192.0.2.30'));
  await until('the third alert resolved after resolveAfterMs without update', 15_000, async () => !(await am.alerts()).some((x) => x.labels.entity === '192.0.2.30'));
});

for (const transport of ['udp', 'tcp', 'tls'] as const) {
  test(`syslog ${transport}: rsyslog receives RFC 5424 messages whose CEF payload carries the finding`, { skip: blocker, timeout: 60_000 }, async (t) => {
    const dir = tmp(t);
    const certs = transport === 'tls' ? makeCerts(dir) : undefined;
    const rs = await startRsyslog(dir, transport, certs);
    t.after(() => rs.stop());
    const registry = createRegistry({ defaultMetrics: false });
    const d = createAlertDispatcher(
      {
        ...FAST,
        sinks: { siem: { type: 'syslog', transport, host: '127.0.0.1', port: rs.port, caFile: certs?.ca } },
        routes: [{ sinks: ['siem'], groupBy: ['detector'] }],
      },
      { metrics: registry, hostname: 'floe-node-1' },
    );
    t.after(() => d.stop());
    await d.start();
    const f = testFinding({ summary: 'probe | with = signs\nand a forged line \\ end' });
    const g = testFinding({ id: 'portscan.vertical:second', entity: { addr: '192.0.2.9' } });
    d.notify(f);
    d.notify(g);
    const lines = await until('both CEF lines in the rsyslog file', 10_000, () => {
      const l = rs.lines();
      return l.length >= 2 ? l : undefined;
    });
    assert.equal(lines.length, 2, `one line per finding, the newline in the summary did not split it: ${lines.join('\n')}`);
    const [app, msgId, ...rest] = lines[0].split(' ');
    assert.equal(app, 'floe');
    assert.equal(msgId, 'finding');
    const parts = splitCefHeader(rest.join(' '));
    assert.deepEqual(parts.slice(0, 7), ['CEF:0', 'floe', 'floe', '0.1.0', 'portscan.vertical', 'probe \\| with = signs\\nand a forged line \\\\ end', '8']);
    const ext = parseCefExtension(parts[7]);
    assert.equal(ext.src, '10.0.0.66');
    assert.equal(ext.cs2, f.id);
    assert.equal(ext.cs1, 'portscan.vertical');
    assert.equal(ext.msg, f.summary);
    assert.equal(parseCefExtension(splitCefHeader(lines[1].split(' ').slice(2).join(' '))[7]).src, '192.0.2.9');
    await until('one notification (grouped by detector) of two messages counted', 5000, async () => (await readMetric(registry, 'floe_alert_sent_total', { sink: 'siem' })) === 1);
  });
}

test('syslog tcp: rsyslog stopped and started again on its port gets the alert raised while it was down (dead letter, redelivery)', {
  skip: blocker,
  timeout: 60_000,
}, async (t) => {
  const dir = tmp(t);
  let rs = await startRsyslog(dir, 'tcp');
  t.after(() => rs.stop());
  const registry = createRegistry({ defaultMetrics: false });
  const d = createAlertDispatcher(
    { ...FAST, sinks: { siem: { type: 'syslog', transport: 'tcp', host: '127.0.0.1', port: rs.port } }, routes: [{ sinks: ['siem'] }] },
    { metrics: registry },
  );
  t.after(() => d.stop());
  await d.start();
  const cs2 = (l: string) => parseCefExtension(splitCefHeader(l.split(' ').slice(2).join(' '))[7]).cs2;
  d.notify(testFinding({ id: 'portscan.vertical:before' }));
  await until('the first line', 10_000, () => rs.lines().length === 1);
  await rs.stop(); // the receiver goes away (its connection closes)
  d.notify(testFinding({ id: 'portscan.vertical:while-down', entity: { addr: '192.0.2.50' } }));
  await until('the delivery dead-lettered', 10_000, async () => (await readMetric(registry, 'floe_alert_dead_lettered_total', { sink: 'siem' })) === 1);
  rs = await startRsyslog(dir, 'tcp', undefined, rs.port); // back on the same port, same output file
  await until('the redelivered line', 10_000, () => rs.lines().length === 2);
  assert.deepEqual(rs.lines().map(cs2), ['portscan.vertical:before', 'portscan.vertical:while-down']);
});
