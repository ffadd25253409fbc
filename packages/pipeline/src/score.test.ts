import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseFile, type Finding, type FlowRecord } from '@floe/flow';
import { createMemoryBus, TOPICS, type BusMessage } from '@floe/bus';
import { createDuckDbStore } from '@floe/store';
import { compilePolicy, defaultPolicy } from '@floe/policy';
import { createDetectors, defaultDetectorOptions } from '@floe/detect';
import { createResponder, defaultResponderOptions } from '@floe/respond';
import { createModelDetector, entitiesWithFindings, extractFeatures, leaveOut, trainModel, type EntityWindow } from '@floe/model';
import { createPipeline, createProcessor } from './index.js';

// Real captures copied with their source lines in packages/model/testdata/SOURCES.md.
const T = (name: string) => fileURLToPath(new URL(`../../../packages/model/testdata/${name}`, import.meta.url));
const NMAP = T('captured-conntrack-E-extended-timestamp-nmap-top100-scan.log');
const FIXED = Date.UTC(2026, 0, 1, 0, 0, 1);

/** Benign windows (5 s) of the captures: every source a rule detector flags is left out. */
async function benignWindows(): Promise<EntityWindow[]> {
  const out: EntityWindow[] = [];
  for (const f of [NMAP, T('travis-nat-conntrack-E-o-xml-events.xml'), T('iki-conntrack-L-http-burst.txt'), T('captured-ulogd2-nfct-json-nmap-scan-v4v6.json')]) {
    const { records } = await parseFile(f, { format: 'auto', now: () => FIXED });
    const dets = createDetectors(defaultDetectorOptions(), { lateness: Number.POSITIVE_INFINITY });
    const findings: Finding[] = [];
    for (const r of records) for (const d of dets) findings.push(...d.observe(r));
    for (const d of dets) findings.push(...d.flush());
    out.push(...leaveOut(extractFeatures(records, { windowMs: 5000 }), entitiesWithFindings(findings)).kept);
  }
  return out;
}

test('the processor scores closed windows after detect: the ml.autoencoder finding of the nmap scanner is stored and published with the model version', async (t) => {
  const model = await trainModel(await benignWindows(), { windowMs: 5000, epochs: 100 });
  const bus = createMemoryBus({ retryBackoffMs: 10, maxRetryBackoffMs: 50 });
  const store = createDuckDbStore({ path: ':memory:' });
  await bus.start();
  await store.start();
  t.after(async () => {
    await bus.stop();
    await store.stop();
    model.dispose();
  });
  const policy = compilePolicy(defaultPolicy());
  const ml = createModelDetector(model);
  const processor = createProcessor(
    { group: 'score-test', storeFlows: false, closer: { idleMs: 50, checkMs: 20 } },
    {
      bus,
      store,
      now: () => Date.UTC(2026, 10, 30),
      pipeline: createPipeline({ policy, detectors: createDetectors(policy.policy.detectors), scorers: [ml] }),
      responder: createResponder({ ...defaultResponderOptions(), minSeverity: 'high' }),
    },
  );
  await processor.start();
  const published: Finding[] = [];
  await bus.subscribe<Finding>(TOPICS.findings, { group: 'watch', fromBeginning: true }, async (b) => {
    for (const m of b.messages) if (m.value) published.push(m.value);
  });
  const { records } = await parseFile(NMAP, { format: 'conntrack' });
  const msgs: BusMessage<FlowRecord[]>[] = [];
  for (let i = 0; i < records.length; i += 50) msgs.push({ key: 'k', value: records.slice(i, i + 50) });
  await bus.publish(TOPICS.flows, msgs);
  const end = Date.now() + 20_000;
  while (processor.health().flows < records.length && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  // Windows closed by later records were scored by the score step; the rest close at the end of input.
  await processor.flush();
  const stored = (await store.queryFindings({ detector: 'ml.autoencoder', limit: 100 })).items;
  assert.deepEqual(
    stored.map((f) => f.entity.addr),
    ['10.50.0.2'],
  );
  assert.equal(stored[0].evidence.model, model.version);
  assert.equal(stored[0].producedBy, `floe-model/${model.version}`);
  assert.ok(published.some((f) => f.detector === 'ml.autoencoder' && f.evidence.model === model.version));
  assert.equal(ml.pending(), 0);
  assert.ok(ml.stats().scored >= 2, `scored ${ml.stats().scored}`);
});
