// Spraying one-shot spoofed sources around the real captures must not erase the state of a source
// that matters (a learnt baseline, an entity past its learning period): BoundedKeys' protected
// segment. The sprayed records are copies of a captured record with the source rewritten, as a
// spoofing tool (hping3 --rand-source) would send them; evictions are counted in floe_detect_*.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FlowRecord } from '@floe/flow';
import { createRegistry } from '@floe/telemetry';
import { createExfilDetector, createLateralDetector } from './index.js';
import { EXFIL_LOG, LATERAL_LOG, labPolicy, lastForms, loadClassified, runFlush } from './test-lab.js';

/** `n` copies of `like` from spoofed sources 10.232.1.100.. (inside the lab's cluster), classified by `classify`, all at `like`'s time. */
function spray(like: FlowRecord, n: number, classify: (f: FlowRecord) => FlowRecord): FlowRecord[] {
  const { srcMeta: _m, direction: _d, ...raw } = like;
  return Array.from({ length: n }, (_, i) => classify({ ...raw, srcAddr: `10.232.1.${100 + (i % 150)}`, srcPort: 1024 + i, ctId: undefined }));
}

test('exfil spray: 300 one-shot egress sources with maxKeys 4 do not erase the learnt baseline of 10.232.1.2', async () => {
  const policy = labPolicy('  exfil: { windowMs: 5000, minBytes: 100000 }\n');
  const flows = await loadClassified(EXFIL_LOG, policy);
  // Spray right before the 20 MB download, after the eight rounds (the baseline is learnt by then).
  const at = flows.findIndex((f) => (f.bytesReply ?? 0) > 20_000_000);
  const like = flows.slice(0, at).findLast((f) => f.event === 'destroy' && f.bytesOrig !== undefined)!;
  const sprayed = [...flows.slice(0, at), ...spray(like, 300, policy.classify), ...flows.slice(at)];
  const registry = createRegistry({ defaultMetrics: false });
  const d = createExfilDetector(policy.policy.detectors.exfil, { limits: { maxKeys: 4 }, metrics: registry });
  const found = lastForms(runFlush([d], sprayed)).filter((f) => f.entity.addr === '10.232.1.2');
  assert.equal(found.length, 1);
  assert.equal(found[0].evidence.baselineLearnt, true);
  assert.equal(found[0].evidence.baselineWindows, 9, 'the same baseline as without the spray');
  assert.ok(d.stats().evictedKeys >= 140, String(d.stats().evictedKeys));
  const text = await registry.metrics();
  assert.match(text, /floe_detect_evicted_keys_total\{detector="exfil.volume",reason="max_keys"\} \d+/);
});

test('lateral spray: 150 one-shot internal sources with maxKeys 16 do not restart the learning of frontend/web', async () => {
  const policy = labPolicy('  lateral: { learnMs: 5000, windowMs: 60000, manyPeers: 10 }\n');
  const flows = await loadClassified(LATERAL_LOG, policy);
  // Spray in the pause between the learning phase and the sweep.
  const gap = flows.findIndex((f, i) => i > 0 && f.observedAt - flows[i - 1].observedAt > 4000);
  assert.ok(gap > 0);
  const like = flows.slice(0, gap).findLast((f) => f.event === 'new')!;
  const sprayed = [...flows.slice(0, gap), ...spray(like, 150, policy.classify), ...flows.slice(gap)];
  const d = createLateralDetector(policy.policy.detectors.lateral, { limits: { maxKeys: 16 } });
  const found = lastForms(runFlush([d], sprayed));
  assert.equal(found.length, 1, 'still raised: the entity kept its learning start and its learnt peers');
  assert.equal(found[0].evidence.newPeers, 23);
  assert.ok(d.stats().evictedKeys >= 130, String(d.stats().evictedKeys));
});
