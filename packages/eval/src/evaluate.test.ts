import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { createDetectors, defaultDetectorOptions } from '@floe/detect';
import type { FlowRecord } from '@floe/flow';
import { evaluate, importLines, prf, rocAuc, rocCurve, timeOrdered, timeSplit, type LabelledRecord, type ScoredWindow, type WindowScorer } from './index.js';

// A hand-made scenario, written as a Zeek conn.log (TSV) so it goes through the importer too.
// Window 0 starts at T0 (a multiple of 60 s); each group is one source in one window.
const T0 = 1_699_999_980;
interface Group {
  src: string;
  window: number;
  label: 'Malicious' | 'Benign' | 'Unknown';
  cls: string;
  /** Destinations (address:port) of its flows, one flow each, 1 s apart. */
  dsts: string[];
  state: 'REJ' | 'SF';
  /** Which predictors must flag this window (the scenario's intent, checked against the detectors' thresholds: 15 ports, 16 hosts). */
  flaggedBy: Array<'portscan.vertical' | 'hostsweep.horizontal' | 'test.ports'>;
}
const range = (n: number, f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i));
const GROUPS: Group[] = [
  // A vertical scan (20 ports of one host), labelled attack: found by the port-scan rule and the model.
  { src: '10.0.0.1', window: 0, label: 'Malicious', cls: 'PortScan', dsts: range(20, (i) => `10.0.1.1:${i + 1}`), state: 'REJ', flaggedBy: ['portscan.vertical', 'test.ports'] },
  // The same source later, benign: nothing flags it.
  { src: '10.0.0.1', window: 2, label: 'Benign', cls: '-', dsts: range(3, () => '10.0.1.1:443'), state: 'SF', flaggedBy: [] },
  { src: '10.0.0.2', window: 0, label: 'Benign', cls: '-', dsts: range(5, () => '10.0.1.9:443'), state: 'SF', flaggedBy: [] },
  // Command and control, quiet: missed by everything.
  { src: '10.0.0.3', window: 1, label: 'Malicious', cls: 'C&C', dsts: range(4, () => '10.0.2.2:8080'), state: 'SF', flaggedBy: [] },
  // A benign inventory sweep of 20 hosts on port 22: the host-sweep rule flags it (a false positive).
  { src: '10.0.0.4', window: 1, label: 'Benign', cls: '-', dsts: range(20, (i) => `10.0.3.${i + 1}:22`), state: 'REJ', flaggedBy: ['hostsweep.horizontal'] },
  // Unknown rows: flagged by the port-scan rule and the model, but left out of every figure.
  { src: '10.0.0.6', window: 0, label: 'Unknown', cls: '-', dsts: range(20, (i) => `10.0.4.1:${i + 100}`), state: 'REJ', flaggedBy: ['portscan.vertical', 'test.ports'] },
];

function scenarioLines(): string {
  const rows: string[] = [
    '#separator \\x09',
    '#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\torig_ip_bytes\tresp_ip_bytes\tconn_state\torig_pkts\tresp_pkts\tlabel\tdetailed-label',
  ];
  for (const g of GROUPS) {
    g.dsts.forEach((d, i) => {
      const [h, p] = d.split(':');
      const ts = T0 + g.window * 60 + 2 + i;
      const rej = g.state === 'REJ';
      rows.push(
        [`${ts}.000000`, g.src, String(40000 + i), h, p, 'tcp', '0.010000', rej ? '44' : '400', rej ? '40' : '900', g.state, rej ? '1' : '5', rej ? '1' : '5', g.label, g.cls].join(
          '\t',
        ),
      );
    });
  }
  return `${rows.join('\n')}\n`;
}

async function scenario(): Promise<LabelledRecord[]> {
  const out: LabelledRecord[] = [];
  for await (const r of importLines(Readable.from([scenarioLines()]), 'zeek-conn', { file: 'scenario' })) out.push(r);
  return out;
}

/** A real (if simple) scorer: distinct destination ports per source and window, anomalous from 10. */
const portsScorer: WindowScorer = {
  id: 'test.ports',
  version: 'v0',
  async score(flows: readonly FlowRecord[]): Promise<ScoredWindow[]> {
    const m = new Map<string, { entity: string; start: number; ports: Set<number> }>();
    for (const f of flows) {
      const start = Math.floor((f.start ?? 0) / 60_000) * 60_000;
      const k = `${f.srcAddr}|${start}`;
      let e = m.get(k);
      if (!e) m.set(k, (e = { entity: f.srcAddr, start, ports: new Set() }));
      e.ports.add(f.dstPort ?? -1);
    }
    return [...m.values()].map((e) => ({ entity: e.entity, start: e.start, end: e.start + 60_000, score: e.ports.size, anomalous: e.ports.size >= 10 }));
  },
};

/** TP/FP/FN/TN of a predictor, counted from the scenario's own description (not from evaluate's code). */
function expected(name: string): { tp: number; fp: number; fn: number; tn: number } {
  const c = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (const g of GROUPS) {
    if (g.label === 'Unknown') continue;
    const flagged = name === 'rules' ? g.flaggedBy.some((x) => x !== 'test.ports') : name === 'rules+model' ? g.flaggedBy.length > 0 : g.flaggedBy.includes(name as never);
    if (g.label === 'Malicious') flagged ? c.tp++ : c.fn++;
    else flagged ? c.fp++ : c.tn++;
  }
  return c;
}

test('evaluate: TP/FP/FN/TN per detector, rules, model and both match the scenario counted by hand', async () => {
  const records = await scenario();
  assert.equal(records.length, 72);
  const report = await evaluate(records, { detectors: () => createDetectors(defaultDetectorOptions()), scorer: portsScorer });
  assert.deepEqual(report.windows, { positive: 2, negative: 3, unknown: 1 });
  assert.deepEqual(report.classes, { 'C&C': 1, PortScan: 1 });
  const names = report.predictors.map((p) => p.name);
  // every default rule detector is scored; those not in a group's flaggedBy must stay quiet on it
  assert.deepEqual(names, [...createDetectors(defaultDetectorOptions()).map((d) => d.id), 'rules', 'test.ports', 'rules+model']);
  for (const p of report.predictors) {
    assert.deepEqual({ tp: p.tp, fp: p.fp, fn: p.fn, tn: p.tn }, expected(p.name), p.name);
    assert.equal(p.outside, 0, p.name);
  }
  // Written out for the reader: rules found the scan (TP 1), flagged the benign sweep (FP 1), missed C&C (FN 1).
  const rules = report.predictors.find((p) => p.name === 'rules')!;
  assert.deepEqual([rules.precision, rules.recall, rules.f1], [0.5, 0.5, 0.5]);
  assert.equal(rules.findings, 3);
  // Per class: PortScan recall 1 with one-vs-benign precision 1/(1+1); C&C recall 0, F1 0.
  assert.deepEqual(rules.perClass.PortScan, { windows: 1, tp: 1, precision: 0.5, recall: 1, f1: 2 / 3 });
  assert.deepEqual(rules.perClass['C&C'], { windows: 1, tp: 0, precision: 0, recall: 0, f1: 0 });
  const model = report.predictors.find((p) => p.name === 'test.ports')!;
  assert.deepEqual([model.precision, model.recall], [1, 0.5]);
  // AUC by counting pairs: positives score 20 and 1, negatives 1, 1, 1 (the sweep has 1 port: score 1).
  const pos = [20, 1];
  const neg = [1, 1, 1];
  let wins = 0;
  for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0;
  assert.equal(report.model.auc, wins / (pos.length * neg.length));
  assert.equal(report.model.unscored, 0);
});

test('evaluate without a model says why, and the order of the input rows does not matter', async () => {
  const records = await scenario();
  const a = await evaluate(records, { detectors: () => createDetectors(defaultDetectorOptions()), modelMessage: 'model not available: test' });
  const b = await evaluate([...records].reverse(), { detectors: () => createDetectors(defaultDetectorOptions()), modelMessage: 'model not available: test' });
  assert.deepEqual(a.model, { available: false, message: 'model not available: test' });
  assert.deepEqual(a.predictors, b.predictors);
  assert.equal(a.predictors.length, createDetectors(defaultDetectorOptions()).length + 1, 'each detector and "rules", no model');
});

test('timeSplit cuts at a window boundary, training first', async () => {
  const records = timeOrdered(await scenario());
  const s = timeSplit(records, 0.5, 60_000);
  assert.equal(s.cutMs % 60_000, 0);
  assert.ok(s.train.every((r) => (r.flow.start ?? 0) < s.cutMs));
  assert.ok(s.test.every((r) => (r.flow.start ?? 0) >= s.cutMs));
  assert.equal(s.train.length + s.test.length, records.length);
  // 45 of the 72 rows are in window 0, so row 36 lies in it and the cut moves down to its start: nothing to train on.
  assert.equal(s.cutMs, (T0 + 0) * 1000);
  const s2 = timeSplit(records, 0.7, 60_000);
  assert.equal(s2.cutMs, (T0 + 60) * 1000);
  assert.equal(s2.train.length, 45);
  assert.throws(() => timeSplit(records, 1, 60_000), /FLOE_EVAL_BAD_OPTIONS/);
});

test('prf and ROC: undefined precision, ties as half, AUC equals the pair count', () => {
  assert.deepEqual(prf(0, 0, 3), { precision: null, recall: 0, f1: 0 });
  assert.deepEqual(prf(0, 0, 0), { precision: null, recall: null, f1: null });
  assert.deepEqual(prf(3, 1, 1), { precision: 0.75, recall: 0.75, f1: 0.75 });
  const data = [0.9, 0.8, 0.8, 0.7, 0.5, 0.5, 0.4, 0.2, 0.1].map((score, i) => ({ score, positive: [0, 1, 2, 5, 7].includes(i) }));
  const curve = rocCurve(data);
  assert.deepEqual(curve[0], { fpr: 0, tpr: 0, threshold: Number.POSITIVE_INFINITY });
  assert.deepEqual(curve.at(-1)!.fpr, 1);
  assert.deepEqual(curve.at(-1)!.tpr, 1);
  let wins = 0;
  const P = data.filter((d) => d.positive);
  const N = data.filter((d) => !d.positive);
  for (const p of P) for (const n of N) wins += p.score > n.score ? 1 : p.score === n.score ? 0.5 : 0;
  assert.ok(Math.abs(rocAuc(curve)! - wins / (P.length * N.length)) < 1e-12);
  assert.deepEqual(rocCurve(data.filter((d) => d.positive)), []);
  assert.equal(rocAuc([]), null);
});
