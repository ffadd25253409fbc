/**
 * Issue 6, "kernel event loss ... stored with the flows' time, so later findings and reports can
 * state the completeness of their data": the real collector replays a captured conntrack file
 * with damaged lines (an over-long line, a line with a terminal escape) onto the in-process bus;
 * the real processor checks and stores the flows and the DataGap it publishes in DuckDB; the real
 * API answers GET /v1/gaps with that gap, in the flows' own time, and the period's summary. A
 * poison gap message published beside it is dead-lettered and does not stop the partition.
 * No root, broker or network namespace needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataGap, FlowRecord } from '@floe/flow';
import { createMemoryBus, TOPICS } from '@floe/bus';
import { createDuckDbStore } from '@floe/store';
import { compilePolicy, defaultPolicy } from '@floe/policy';
import { createDetectors } from '@floe/detect';
import { createDecisionWriter, createResponder, defaultResponderOptions } from '@floe/respond';
import { createRegistry } from '@floe/telemetry';
import { createPipeline, createProcessor } from '@floe/pipeline';
import { createCollector } from '@floe/collector';
import { buildApp, createDecisionHandlers } from '@floe/api';
import { until } from '../helpers/wait.js';

const CAPTURE = fileURLToPath(new URL('../../packages/flow/testdata/conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log', import.meta.url));

test("a replay with rejected lines: collector → bus → processor → DuckDB; GET /v1/gaps returns the gap in the flows' time with the summary; a poison gap is dead-lettered", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-gaps-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines = readFileSync(CAPTURE, 'utf8').split('\n').filter(Boolean).slice(0, 40);
  const file = join(dir, 'damaged.log');
  writeFileSync(file, [...lines.slice(0, 20), 'y'.repeat(100_000), '\u001b[2Jnot a conntrack line', ...lines.slice(20)].join('\n'));

  const bus = createMemoryBus();
  await bus.start();
  const store = createDuckDbStore({ path: join(dir, 'floe.duckdb') });
  await store.start();
  const registry = createRegistry({ defaultMetrics: false });
  const policy = compilePolicy(defaultPolicy());
  const responder = createResponder({ ...defaultResponderOptions(), dryRun: true }, { metrics: registry });
  const processor = createProcessor(
    { group: 'processor', storeFlows: true },
    {
      bus,
      store,
      responder,
      metrics: registry,
      pipeline: createPipeline({ policy, detectors: createDetectors(policy.policy.detectors) }),
    },
  );
  await processor.start();
  const app = buildApp({
    store,
    registry,
    health: () => ({ ok: true }),
    ...createDecisionHandlers({ responder, writer: createDecisionWriter({ store, bus, responder }), store }),
  });
  t.after(async () => {
    await app.close();
    await processor.stop();
    await bus.stop();
    await store.stop();
  });

  // the flows as published, in order (a watcher group of its own)
  const published: FlowRecord[] = [];
  await bus.subscribe<FlowRecord[]>(TOPICS.flows, { group: 'watch' }, async (b) => {
    for (const m of b.messages) published.push(...(m.value ?? []));
  });
  const collector = createCollector(
    { node: 'e2e-node', batchSize: 10, flushMs: 10, maxLineBytes: 65_536, sources: [{ kind: 'replay', file, format: 'conntrack', speed: 'max' }] },
    { bus, metrics: registry },
  );
  await collector.start();
  await collector.finished;
  // a poison gap on the same topic (another collector's bug or an attacker's message)
  await bus.publish(TOPICS.gaps, [{ key: 'e2e-node/replay', value: { schema: 99, node: 'e2e-node', source: 'replay', kind: 'rejected', from: 0, to: 0, count: 1 } }]);
  await collector.stop();

  await until('the flows stored', 10_000, async () => (await store.countFlows()).flows === 40);
  await until('the gap stored', 10_000, async () => (await store.queryGaps({})).total >= 1);
  await until('the poison gap dead-lettered', 10_000, async () => (await store.queryDeadLetters({ reason: 'schema-version' })).length === 1);

  // the gap sits in the flows' own time: both bad lines came right after the 20th flow
  await until('the flows seen by the watcher', 10_000, () => published.length === 40);
  // one scanning source: one key, one partition, so the watcher sees the file's order
  const flows20 = published.map((f) => f.observedAt);
  const at = flows20[19];
  const r = await app.inject({ method: 'GET', url: `/v1/gaps?from=${new Date(Math.min(...flows20)).toISOString()}&to=${Math.max(...flows20) + 1}` });
  assert.equal(r.statusCode, 200, r.body);
  const body = r.json() as {
    items: Array<Omit<DataGap, 'from' | 'to'> & { from: string; to: string }>;
    total: number;
    summary: { gaps: number; rejectedLines: number; groups: unknown[] };
  };
  assert.deepEqual(body.items, [
    // times answer in RFC 3339 (issue 8)
    {
      schema: 1,
      node: 'e2e-node',
      source: 'replay',
      kind: 'rejected',
      from: new Date(at).toISOString(),
      to: new Date(at).toISOString(),
      count: 2,
      reasons: { 'line-too-long': 1, 'control-byte': 1 },
    },
  ]);
  assert.deepEqual([body.total, body.summary.gaps, body.summary.rejectedLines], [1, 1, 2]);
  assert.deepEqual(body.summary.groups, [{ node: 'e2e-node', source: 'replay', kind: 'rejected', gaps: 1, count: 2, ms: 0 }]);
  // a period before the capture has no gap: "no findings" there is not "missing data"
  const before = (await app.inject({ method: 'GET', url: `/v1/gaps?to=${Math.min(...flows20) - 1}` })).json() as { total: number; summary: { gaps: number } };
  assert.deepEqual([before.total, before.summary.gaps], [0, 0]);

  const dl = await store.queryDeadLetters({ reason: 'schema-version' });
  assert.deepEqual([dl[0].topic, dl[0].step], [TOPICS.gaps, 'decode-gaps']);
  assert.equal(processor.health().ok, true);
  assert.equal(processor.health().gaps, 1);
});
