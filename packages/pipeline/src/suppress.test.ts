// Issue 8: the decide step with a suppression rule, on the real nmap capture (the same file as
// processor.test.ts, packages/flow/testdata/SOURCES.md): the scan's finding is stored and
// published, marked with the rule, and no decision is stored or published.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseFile, type Decision, type Finding } from '@floe/flow';
import { createMemoryBus, TOPICS } from '@floe/bus';
import { createDuckDbStore } from '@floe/store';
import { compilePolicy, defaultPolicy } from '@floe/policy';
import { createDetectors } from '@floe/detect';
import { createResponder, createSuppressor, defaultResponderOptions } from '@floe/respond';
import { createRegistry } from '@floe/telemetry';
import { createPipeline, createProcessor } from './index.js';

const CAPTURE = fileURLToPath(new URL('../../../packages/flow/testdata/conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log', import.meta.url));
const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);

test('issue 8: a suppression rule on the real nmap capture: the finding is stored, published and marked; nothing is blocked', async (t) => {
  const store = createDuckDbStore({ path: ':memory:' });
  const bus = createMemoryBus({ retryBackoffMs: 10, maxRetryBackoffMs: 50 });
  await bus.start();
  await store.start();
  t.after(async () => {
    await bus.stop();
    await store.stop();
  });
  const rule = { id: 'sup-scan', detector: 'portscan.vertical', entity: '10.50.0.0/24', expiresAt: NOW + 3_600_000, reason: 'authorised scan', createdBy: 'alice', createdAt: NOW };
  await store.putSuppression(rule);
  const registry = createRegistry({ defaultMetrics: false });
  const suppressor = createSuppressor([rule], { metrics: registry });
  const policy = compilePolicy(defaultPolicy());
  const processor = createProcessor(
    { group: 'test-suppress', storeFlows: false },
    {
      bus,
      store,
      metrics: registry,
      now: () => NOW,
      pipeline: createPipeline({ policy, detectors: createDetectors(policy.policy.detectors) }),
      responder: createResponder({ ...defaultResponderOptions(), minSeverity: 'high' }, { suppressor, metrics: registry }),
    },
  );
  await processor.start();
  t.after(() => processor.stop());
  const decisions: Decision[] = [];
  const findings: Finding[] = [];
  await bus.subscribe<Decision>(TOPICS.decisions, { group: 'watch-d', fromBeginning: true }, async (b) => {
    for (const m of b.messages) if (m.value) decisions.push(m.value);
  });
  await bus.subscribe<Finding>(TOPICS.findings, { group: 'watch-f', fromBeginning: true }, async (b) => {
    for (const m of b.messages) if (m.value) findings.push(m.value);
  });

  const { records } = await parseFile(CAPTURE, { format: 'conntrack' });
  await bus.publish(TOPICS.flows, [{ key: '10.50.0.2', value: records }]);
  const end = Date.now() + 10_000;
  while (processor.health().flows < records.length && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  await processor.flush();

  const stored = (await store.queryFindings({ detector: 'portscan.vertical' })).items;
  assert.equal(stored.length, 1, 'the finding is stored');
  assert.equal(stored[0].entity.addr, '10.50.0.2');
  assert.deepEqual(stored[0].suppression, { ruleId: 'sup-scan', at: NOW });
  assert.ok(
    findings.some((f) => f.detector === 'portscan.vertical'),
    'and published',
  );
  assert.deepEqual(decisions, [], 'no decision published');
  assert.equal((await store.queryDecisions({})).total, 0, 'no decision stored');
  assert.deepEqual(
    (await store.listSuppressions()).map((r) => [r.id, r.suppressed, r.lastMatchAt]),
    [['sup-scan', 1, NOW]],
  );
  const text = await registry.metrics();
  assert.match(text, /^floe_respond_suppressed_total\{detector="portscan.vertical"\} [1-9]\d*$/m);
  assert.match(text, /^floe_processor_response_outcomes_total\{kind="ignored",cause="suppressed"\} [1-9]\d*$/m);
});
