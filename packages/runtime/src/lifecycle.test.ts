import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLifecycle, type Component } from './lifecycle.js';

const recorder = () => {
  const log: string[] = [];
  const part = (name: string, more: Partial<Component> = {}): Component => ({
    name,
    async start() {
      log.push(`start ${name}`);
    },
    async stop() {
      log.push(`stop ${name}`);
    },
    health: () => ({ ok: true }),
    ...more,
  });
  return { log, part };
};

test('starts in order, stops in reverse once; health ok only while running', async () => {
  const { log, part } = recorder();
  const lc = createLifecycle();
  lc.add(part('store'), part('bus'), part('processor'));
  assert.equal(lc.health().ok, false);
  await lc.start();
  assert.deepEqual(lc.health(), { ok: true, state: 'running', components: { store: { ok: true }, bus: { ok: true }, processor: { ok: true } } });
  await Promise.all([lc.stop('test'), lc.stop('again')]);
  await lc.stop('third');
  assert.deepEqual(log, ['start store', 'start bus', 'start processor', 'stop processor', 'stop bus', 'stop store']);
  assert.deepEqual(await lc.done, { reason: 'test' });
  assert.throws(() => lc.add(part('late')), /once the lifecycle is stopped/);
});

test('a failed start stops the started components (and the failing one) in reverse and rethrows with its name', async () => {
  const { log, part } = recorder();
  const lc = createLifecycle();
  lc.add(
    part('store'),
    part('bus', {
      async start() {
        throw new Error('ECONNREFUSED 127.0.0.1:9092');
      },
    }),
    part('processor'),
  );
  await assert.rejects(lc.start(), /^Error: bus: start failed: ECONNREFUSED 127\.0\.0\.1:9092$/);
  assert.deepEqual(log, ['start store', 'stop bus', 'stop store']);
  assert.match((await lc.done).failure!.message, /bus: start failed/);
});

test('fail() after start stops everything; a throwing stop does not stop the others from stopping', async () => {
  const { log, part } = recorder();
  const lc = createLifecycle();
  lc.add(
    part('store'),
    part('bus', {
      async stop() {
        log.push('stop bus');
        throw new Error('close timeout');
      },
    }),
    part('collector'),
  );
  await lc.start();
  lc.fail('collector', new Error('conntrack exited with code 1'));
  lc.fail('bus', new Error('second failure is not the outcome'));
  const o = await lc.done;
  assert.equal(o.reason, 'collector failed');
  assert.equal(o.failure!.message, 'collector: conntrack exited with code 1');
  assert.deepEqual(log, ['start store', 'start bus', 'start collector', 'stop collector', 'stop bus', 'stop store']);
  assert.equal(lc.state(), 'stopped');
});

test('a stop requested during start ends the start early without an error', async () => {
  const { log, part } = recorder();
  const lc = createLifecycle();
  lc.add(
    part('store', {
      async start() {
        log.push('start store');
        void lc.stop('signal SIGTERM');
      },
    }),
    part('bus'),
  );
  await lc.start();
  assert.equal(await lc.stopping, 'signal SIGTERM');
  assert.deepEqual(await lc.done, { reason: 'signal SIGTERM' });
  assert.deepEqual(log, ['start store', 'stop store']);
});
