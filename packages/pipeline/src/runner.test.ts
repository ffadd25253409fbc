// The step runner on its own: timing, outcome counts, retries of output steps, the dead-letter
// result and the stall warning. Steps here are small functions; the dead-letter sink is a real
// DuckDB store and in-process bus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createMemoryBus, TOPICS, type BusBatch } from '@floe/bus';
import { createDuckDbStore } from '@floe/store';
import { createLogger, createRegistry } from '@floe/telemetry';
import { createDeadLetterSink, deadLetterOf } from './deadletter.js';
import { processorMetrics } from './metrics.js';
import { createRunner } from './runner.js';
import type { BatchState, Step, StepResult } from './step.js';

async function harness(t: { after(fn: () => Promise<void>): void }) {
  const bus = createMemoryBus();
  const store = createDuckDbStore({ path: ':memory:' });
  await bus.start();
  await store.start();
  t.after(async () => {
    await bus.stop();
    await store.stop();
  });
  const registry = createRegistry({ defaultMetrics: false });
  const lines: Array<Record<string, unknown>> = [];
  const out = new Writable({
    write(chunk, _e, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const metrics = processorMetrics(registry);
  const deps = { metrics, logger: createLogger({ level: 'warn' }, out), sink: createDeadLetterSink({ store, bus }) };
  const batch: BusBatch<unknown> = { topic: TOPICS.flows, partition: 0, messages: [{ key: 'k', value: [{ a: 1 }, { a: 2 }], offset: '5' }] };
  const state = (): BatchState => {
    const s: BatchState = {
      batch,
      received: 0,
      flows: [],
      flowItems: [],
      findings: [],
      stored: 0,
      made: [],
      deadLetters: [],
      items: [0, 1].map((index) => ({ raw: { a: index } as never, msg: batch.messages[0], index })),
      deadLetter(target, reason, step, err) {
        if ('item' in target) {
          target.item.dead = true;
          s.deadLetters.push(
            deadLetterOf({ topic: batch.topic, partition: 0, group: 'g', at: 1 }, target.item.msg, reason, step, err, { index: target.item.index, value: target.item.raw }),
          );
        }
      },
    };
    return s;
  };
  const values = async (name: string) => (await registry.getSingleMetric(name)!.get()).values;
  return { store, registry, lines, deps, state, values };
}

test('an output step that returns retry is retried with backoff, then succeeds; outcomes are counted per step', async (t) => {
  const h = await harness(t);
  let calls = 0;
  const flaky: Step = { name: 'persist', output: true, run: (): StepResult => (++calls < 3 ? { kind: 'retry', error: new Error('store unavailable') } : { kind: 'ok' }) };
  const first: Step = { name: 'decode', output: false, run: () => ({ kind: 'ok' }) };
  await createRunner([first, flaky], h.deps, { retries: 5, retryBackoffMs: 1, stallMs: 10_000 }).run(h.state());
  assert.equal(calls, 3);
  const outcomes = (await h.values('floe_processor_step_outcomes_total')).map((v) => [v.labels.step, v.labels.outcome, v.value]);
  assert.deepEqual(outcomes.sort(), [
    ['decode', 'ok', 1],
    ['persist', 'ok', 1],
    ['persist', 'retry', 2],
  ]);
  const timed = (await h.values('floe_processor_step_seconds')).filter((v) => (v as { metricName?: string }).metricName === 'floe_processor_step_seconds_count');
  assert.deepEqual(timed.map((v) => [v.labels.step, v.value]).sort(), [
    ['decode', 1],
    ['persist', 3],
  ]);
});

test('retries run out: the runner rejects with FLOE_PIPELINE_STEP_FAILED and writes nothing', async (t) => {
  const h = await harness(t);
  const down: Step = { name: 'publish', output: true, run: () => ({ kind: 'retry', error: new Error('broker down') }) };
  await assert.rejects(createRunner([down], h.deps, { retries: 2, retryBackoffMs: 1, stallMs: 10_000 }).run(h.state()), {
    code: 'FLOE_PIPELINE_STEP_FAILED',
    message: /publish failed: broker down/,
  });
  assert.equal((await h.store.queryDeadLetters({})).length, 0);
});

test('dead-letter from a step dead-letters every live record, skips the later steps, and the dead letters are stored and counted', async (t) => {
  const h = await harness(t);
  let later = 0;
  const refuse: Step = { name: 'persist', output: true, run: () => ({ kind: 'dead-letter', reason: 'store-rejected', error: new Error('Conversion Error: bad') }) };
  const after: Step = {
    name: 'publish',
    output: true,
    run: () => {
      later++;
      return { kind: 'ok' };
    },
  };
  const s = h.state();
  await createRunner([refuse, after], h.deps).run(s);
  assert.equal(later, 0);
  assert.deepEqual(
    s.deadLetters.map((d) => [d.reason, d.step, d.record]),
    [
      ['store-rejected', 'persist', 0],
      ['store-rejected', 'persist', 1],
    ],
  );
  assert.equal((await h.store.queryDeadLetters({ reason: 'store-rejected' })).length, 2);
  assert.deepEqual(
    (await h.values('floe_deadletter_total')).map((v) => [v.labels.reason, v.value]),
    [['store-rejected', 2]],
  );
});

test('a step that outlasts stallMs is logged as stalled and counted', async (t) => {
  const h = await harness(t);
  const slow: Step = {
    name: 'decide',
    output: true,
    run: async () => {
      await new Promise((r) => setTimeout(r, 120));
      return { kind: 'ok' };
    },
  };
  await createRunner([slow], h.deps, { retries: 0, retryBackoffMs: 1, stallMs: 20 }).run(h.state());
  assert.deepEqual(
    (await h.values('floe_processor_step_stalls_total')).map((v) => [v.labels.step, v.value]),
    [['decide', 1]],
  );
  assert.ok(
    h.lines.some((l) => l.msg === 'processor step stalled' && l.step === 'decide'),
    JSON.stringify(h.lines),
  );
});

test('a step that throws a TypeError is a dead-letter (step-error), not an endless retry', async (t) => {
  const h = await harness(t);
  const bug: Step = {
    name: 'detect',
    output: false,
    run: () => {
      throw new TypeError('cannot read properties of undefined');
    },
  };
  const s = h.state();
  await createRunner([bug], h.deps).run(s);
  assert.deepEqual(
    s.deadLetters.map((d) => [d.reason, d.step]),
    [
      ['step-error', 'detect'],
      ['step-error', 'detect'],
    ],
  );
});

test('persist: flows the store refuses as data are found one by one and dead-lettered store-rejected; the others are stored', async (t) => {
  const { persistStep } = await import('./steps/persist.js');
  const { isRetriable } = await import('./errors.js');
  const h = await harness(t);
  const good = { schema: 1, observedAt: 1, source: 'conntrack', event: 'new', family: 4, protocol: 6, srcAddr: '10.0.0.1', dstAddr: '10.0.0.2' } as const;
  const bad = { ...good, observedAt: 2, source: undefined }; // the decode step would refuse it; the store does too (NOT NULL)
  const s = h.state();
  s.flows.push(good as never, bad as never);
  s.flowItems.push(...s.items);
  const r = await persistStep({ store: h.store, storeFlows: true }).run(s);
  assert.deepEqual(r, { kind: 'ok' });
  assert.equal((await h.store.countFlows()).flows, 1);
  assert.deepEqual(
    s.deadLetters.map((d) => [d.reason, d.step, d.record]),
    [['store-rejected', 'persist', 1]],
  );
  assert.match(s.deadLetters[0].detail, /NOT NULL constraint failed/);
  assert.equal(isRetriable(new Error('Constraint Error: NOT NULL constraint failed: flows.source')), false);
  assert.equal(isRetriable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:18123'), { code: 'ECONNREFUSED' })), true);
});
