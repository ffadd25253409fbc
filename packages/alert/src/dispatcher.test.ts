import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry, readMetric } from '@floe/telemetry';
import { createAlertDispatcher } from './dispatcher.js';
import { AlertError } from './errors.js';
import type { Notification, Sink } from './types.js';
import { testFinding } from './test-finding.js';

/** A sink whose deliveries hang until released (or aborted at stop): what a stuck receiver does. */
function stuckSink(): Sink & { got: Notification[]; release(): void } {
  const got: Notification[] = [];
  let release: () => void = () => undefined;
  let gate = new Promise<void>((r) => (release = r));
  return {
    name: 'stuck',
    type: 'webhook',
    got,
    release() {
      release();
      gate = Promise.resolve();
    },
    async send(n, signal) {
      await new Promise<void>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
        void gate.then(resolve);
      });
      got.push(n);
    },
    async close() {},
  };
}

const fast = { groupWaitMs: 0, groupIntervalMs: 60_000, retry: { retries: 0, minDelayMs: 1, maxDelayMs: 1, factor: 2 } };
const entity = (i: number) => testFinding({ id: `portscan.vertical:${i}`, entity: { addr: `10.0.1.${i}` } });
const settle = () => new Promise((r) => setTimeout(r, 20));

test('dispatcher: notify never waits on a stuck sink; past queueSize deliveries are dropped and counted (queue-full)', async () => {
  const registry = createRegistry({ defaultMetrics: false });
  const sink = stuckSink();
  const d = createAlertDispatcher({ ...fast, queueSize: 2, drainTimeoutMs: 5000, routes: [{ sinks: ['stuck'] }] }, { metrics: registry, sinks: { stuck: sink } });
  await d.start();
  for (let i = 1; i <= 5; i++) assert.equal(d.notify(entity(i)), undefined, 'returns at once');
  await settle(); // group timers (wait 0) fire: 1 in flight, 2 queued, 2 dropped
  assert.equal(await readMetric(registry, 'floe_alert_dropped_total', { sink: 'stuck', cause: 'queue-full' }), 2);
  assert.equal(await readMetric(registry, 'floe_alert_queued', { sink: 'stuck' }), 2);
  sink.release();
  await d.stop();
  assert.deepEqual(
    sink.got.map((n) => n.findings[0].entity.addr),
    ['10.0.1.1', '10.0.1.2', '10.0.1.3'],
  );
  assert.equal(await readMetric(registry, 'floe_alert_sent_total', { sink: 'stuck' }), 3);
});

test('dispatcher: stop waits drainTimeoutMs, then dead-letters what is left (cause stopped)', async () => {
  const registry = createRegistry({ defaultMetrics: false });
  const sink = stuckSink();
  const d = createAlertDispatcher({ ...fast, drainTimeoutMs: 50, routes: [{ sinks: ['stuck'] }] }, { metrics: registry, sinks: { stuck: sink } });
  await d.start();
  d.notify(entity(1));
  d.notify(entity(2));
  await settle();
  await d.stop();
  assert.equal(sink.got.length, 0);
  assert.equal(await readMetric(registry, 'floe_alert_dead_lettered_total', { sink: 'stuck', cause: 'stopped' }), 2);
});

test('dispatcher: a suppressed finding is not routed and is counted by rule; others still go', async () => {
  const registry = createRegistry({ defaultMetrics: false });
  const sink = stuckSink();
  sink.release();
  const d = createAlertDispatcher(
    { ...fast, routes: [{ sinks: ['stuck'] }] },
    { metrics: registry, sinks: { stuck: sink }, suppress: (f) => (f.entity.addr === '10.0.1.1' ? { ruleId: 'sr-7' } : false) },
  );
  await d.start();
  d.notify(entity(1));
  d.notify(entity(2));
  await d.stop();
  assert.deepEqual(
    sink.got.map((n) => n.findings[0].entity.addr),
    ['10.0.1.2'],
  );
  assert.equal(await readMetric(registry, 'floe_alert_suppressed_total', { rule: 'sr-7' }), 1);
});

test('dispatcher: a rejection (4xx) is dead-lettered at once, not retried, and the sink stays up', async () => {
  const registry = createRegistry({ defaultMetrics: false });
  let calls = 0;
  const sink: Sink = {
    name: 'picky',
    type: 'webhook',
    async send() {
      calls++;
      throw new AlertError('FLOE_ALERT_SINK_REJECTED', 'picky: HTTP 400');
    },
    async close() {},
  };
  const d = createAlertDispatcher(
    { ...fast, retry: { retries: 3, minDelayMs: 1, maxDelayMs: 1, factor: 2 }, routes: [{ sinks: ['picky'] }] },
    { metrics: registry, sinks: { picky: sink } },
  );
  await d.start();
  d.notify(entity(1));
  await d.stop();
  assert.equal(calls, 1);
  assert.equal(await readMetric(registry, 'floe_alert_dead_lettered_total', { sink: 'picky', cause: 'rejected' }), 1);
  assert.equal(await readMetric(registry, 'floe_alert_retried_total', { sink: 'picky' }), undefined);
  assert.equal(d.health().sinks.picky.down, false);
});

test('dispatcher: a route naming an undefined sink is refused (FLOE_ALERT_BAD_CONFIG)', () => {
  assert.throws(
    () => createAlertDispatcher({ sinks: {}, routes: [{ name: 'r', sinks: ['nope'] }] }),
    (e: unknown) => e instanceof AlertError && e.code === 'FLOE_ALERT_BAD_CONFIG' && /route r names sink "nope"/.test(e.message),
  );
});

test('dispatcher: a dead letter older than redeliverWithinMs is dropped (expired), not redelivered, when the sink is back', async () => {
  const registry = createRegistry({ defaultMetrics: false });
  let clock = 1_000_000;
  let up = false;
  const got: Notification[] = [];
  const sink: Sink = {
    name: 'flaky',
    type: 'webhook',
    async send(n) {
      if (!up) throw new AlertError('FLOE_ALERT_SINK_FAILED', 'flaky: connection refused');
      got.push(n);
    },
    async close() {},
  };
  const d = createAlertDispatcher(
    { ...fast, deadLetter: { redeliverWithinMs: 5000, probeIntervalMs: 20 }, routes: [{ sinks: ['flaky'] }] },
    { metrics: registry, sinks: { flaky: sink }, now: () => clock },
  );
  await d.start();
  d.notify(entity(1)); // dead-lettered at 1 000 000
  const until = async (cond: () => Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await cond()); i++) await settle();
  };
  await until(async () => (await readMetric(registry, 'floe_alert_dead_lettered_total', { sink: 'flaky' })) === 1);
  clock += 2000;
  d.notify(entity(2)); // the sink is down: straight to the dead letters, at 1 002 000
  clock += 4000; // the first letter is 6 s old (past the 5 s window), the second 4 s
  up = true;
  await until(async () => got.length === 1);
  await d.stop();
  assert.deepEqual(
    got.map((n) => n.findings[0].entity.addr),
    ['10.0.1.2'],
  );
  assert.equal(await readMetric(registry, 'floe_alert_dropped_total', { sink: 'flaky', cause: 'expired' }), 1);
  assert.equal(await readMetric(registry, 'floe_alert_dead_lettered_total', { sink: 'flaky', cause: 'sink-down' }), 1);
  assert.equal(await readMetric(registry, 'floe_alert_redelivered_total', { sink: 'flaky' }), 1);
});
