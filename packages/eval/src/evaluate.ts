/**
 * Replays labelled flows through rule detectors and a model and scores both at the level of
 * SOURCE ENTITY PER WINDOW (60 s tumbling windows aligned to the epoch: window k of an address
 * holds its flows with event time in [k·60 s, (k+1)·60 s)).
 *
 * Ground truth: a window is positive when any of its rows is labelled attack (it then belongs to
 * every attack class among its rows), negative when it has benign rows and no attack row, and
 * left out of every figure when all its rows are unknown (CTU background, an unlabelled file).
 *
 * Predictions: a rule detector predicts positive the windows of `finding.entity.addr` from
 * `firstSeen` to `lastSeen` of each of its findings (final forms); windows its findings cover
 * where that address sent no labelled row (a finding keyed by a destination, or a span with a
 * silent minute) are counted as `outside`, not as false positives. The model predicts positive
 * the windows it scores past its own threshold. `rules` is the OR of all rule detectors,
 * `rules+model` the OR of both.
 *
 * Per class c (attack classes only): recall = positive windows of c predicted / windows of c;
 * precision is one-vs-benign, tp_c / (tp_c + false positives on benign windows), because a
 * detector names no class; F1 from those two.
 */
import { eventTime, type Detector } from '@floe/detect';
import type { Finding, FlowRecord } from '@floe/flow';
import { FloeEvalError } from './errors.js';
import type { LabelledRecord } from './import/types.js';
import { prf, rocAuc, rocCurve, type Prf, type RocPoint } from './metrics.js';
import type { WindowScorer } from './scorer.js';

/** Default window: 60 s tumbling (the window; the model's FeatureWindows default too). */
export const DEFAULT_EVAL_WINDOW_MS = 60_000;

/** Truth of one entity window: any attack row, any benign row, the attack classes of its rows. */
export interface WindowTruth {
  attack: boolean;
  benign: boolean;
  classes: Set<string> | undefined;
}

/** Figures of one predictor. `perClass` maps each attack class to its figures. */
export interface PredictorResult extends Prf {
  name: string;
  kind: 'detector' | 'rules' | 'model' | 'both';
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  /** Windows predicted that hold no labelled row of that source (see module comment). */
  outside: number;
  /** Findings (final forms) of a detector; absent for the model and combinations. */
  findings?: number;
  perClass: Record<string, Prf & { windows: number; tp: number }>;
}

/** What `evaluate` measured. */
export interface EvalReport {
  windowMs: number;
  records: number;
  windows: { positive: number; negative: number; unknown: number };
  /** Positive windows per attack class. */
  classes: Record<string, number>;
  predictors: PredictorResult[];
  model: ModelResult;
}

/** The model's part of the report. */
export interface ModelResult {
  available: boolean;
  /** Why there is no model figure, when `available` is false. */
  message?: string;
  id?: string;
  version?: string;
  /** Labelled windows the model gave a score to, and those it did not (scored as −∞ for the ROC). */
  scored?: number;
  unscored?: number;
  auc?: number | null;
  roc?: RocPoint[];
}

/** Options of evaluate. */
export interface EvaluateOptions {
  /** Fresh rule detectors for this run (each run needs its own state). */
  detectors: () => Detector[];
  /** The model, or undefined with `modelMessage` saying why there is none. */
  scorer?: WindowScorer;
  modelMessage?: string;
  /** Window length (ms), default DEFAULT_EVAL_WINDOW_MS. */
  windowMs?: number;
}

/** Key of the window of `entity` holding time `t`. */
export function windowKey(entity: string, t: number, windowMs: number): string {
  return `${entity}|${Math.floor(t / windowMs)}`;
}

/** Records sorted by event time (stable: rows of one time keep their file order). */
export function timeOrdered(records: LabelledRecord[]): LabelledRecord[] {
  return records
    .map((r, i) => ({ r, i, t: eventTime(r.flow) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.r);
}

/** Ground truth per entity window (key: {@link windowKey}) of `records`. */
export function groundTruth(records: readonly LabelledRecord[], windowMs: number): Map<string, WindowTruth> {
  const truth = new Map<string, WindowTruth>();
  for (const r of records) {
    const k = windowKey(r.flow.srcAddr, eventTime(r.flow), windowMs);
    let t = truth.get(k);
    if (!t) {
      t = { attack: false, benign: false, classes: undefined };
      truth.set(k, t);
    }
    if (r.label.kind === 'attack') {
      t.attack = true;
      (t.classes ??= new Set()).add(r.label.cls);
    } else if (r.label.kind === 'benign') t.benign = true;
  }
  return truth;
}

/** Run the detectors over `flows` (time order) and return the last form of each finding. */
export function runDetectors(detectors: readonly Detector[], flows: readonly FlowRecord[]): Finding[] {
  const latest = new Map<string, Finding>();
  for (const f of flows) for (const d of detectors) for (const x of d.observe(f)) latest.set(x.id, x);
  for (const d of detectors) for (const x of d.flush()) latest.set(x.id, x);
  return [...latest.values()];
}

function score(name: string, kind: PredictorResult['kind'], predicted: Set<string>, truth: Map<string, WindowTruth>, outside: number, findings?: number): PredictorResult {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  const cls = new Map<string, { windows: number; tp: number }>();
  for (const [k, t] of truth) {
    if (!t.attack && !t.benign) continue;
    const p = predicted.has(k);
    if (t.attack) {
      if (p) tp++;
      else fn++;
      for (const c of t.classes!) {
        let e = cls.get(c);
        if (!e) cls.set(c, (e = { windows: 0, tp: 0 }));
        e.windows++;
        if (p) e.tp++;
      }
    } else if (p) fp++;
    else tn++;
  }
  const perClass: PredictorResult['perClass'] = {};
  for (const [c, e] of [...cls].sort((a, b) => (a[0] < b[0] ? -1 : 1))) perClass[c] = { windows: e.windows, tp: e.tp, ...prf(e.tp, fp, e.windows - e.tp) };
  const r: PredictorResult = { name, kind, tp, fp, fn, tn, ...prf(tp, fp, fn), outside, perClass };
  if (findings !== undefined) r.findings = findings;
  return r;
}

/**
 * Evaluate rules and model on `records` (any order: they are replayed in event-time order).
 * @throws FloeEvalError FLOE_EVAL_BAD_OPTIONS for a window that is not a positive integer of ms.
 */
export async function evaluate(records: LabelledRecord[], opts: EvaluateOptions): Promise<EvalReport> {
  const windowMs = opts.windowMs ?? DEFAULT_EVAL_WINDOW_MS;
  if (!Number.isInteger(windowMs) || windowMs <= 0) throw new FloeEvalError('FLOE_EVAL_BAD_OPTIONS', `window ${windowMs} ms: a positive integer of ms`);
  const ordered = timeOrdered(records);
  const flows = ordered.map((r) => r.flow);
  const truth = groundTruth(ordered, windowMs);
  const report: EvalReport = { windowMs, records: ordered.length, windows: { positive: 0, negative: 0, unknown: 0 }, classes: {}, predictors: [], model: { available: false } };
  for (const t of truth.values()) {
    if (t.attack) {
      report.windows.positive++;
      for (const c of t.classes!) report.classes[c] = (report.classes[c] ?? 0) + 1;
    } else if (t.benign) report.windows.negative++;
    else report.windows.unknown++;
  }

  // Rules.
  const detectors = opts.detectors();
  const findings = runDetectors(detectors, flows);
  const all = new Set<string>();
  let allOutside = 0;
  for (const d of detectors) {
    const mine = findings.filter((f) => f.detector === d.id);
    const set = new Set<string>();
    let outside = 0;
    for (const f of mine) {
      for (let w = Math.floor(f.firstSeen / windowMs); w <= Math.floor(f.lastSeen / windowMs); w++) {
        const k = `${f.entity.addr}|${w}`;
        const t = truth.get(k);
        if (t && (t.attack || t.benign)) set.add(k);
        else if (!t) outside++;
      }
    }
    for (const k of set) all.add(k);
    allOutside += outside;
    report.predictors.push(score(d.id, 'detector', set, truth, outside, mine.length));
  }
  report.predictors.push(score('rules', 'rules', all, truth, allOutside, findings.length));

  // Model.
  if (opts.scorer) {
    const windows = await opts.scorer.score(flows);
    const best = new Map<string, { score: number; anomalous: boolean }>();
    let outside = 0;
    for (const w of windows) {
      const last = Math.max(w.start, w.end - 1);
      for (let i = Math.floor(w.start / windowMs); i <= Math.floor(last / windowMs); i++) {
        const k = `${w.entity}|${i}`;
        if (!truth.has(k)) {
          outside++;
          continue;
        }
        const b = best.get(k);
        if (!b) best.set(k, { score: w.score, anomalous: w.anomalous });
        else {
          b.score = Math.max(b.score, w.score);
          b.anomalous ||= w.anomalous;
        }
      }
    }
    const predicted = new Set<string>();
    for (const [k, b] of best) if (b.anomalous) predicted.add(k);
    report.predictors.push(score(opts.scorer.id, 'model', predicted, truth, outside));
    report.predictors.push(score('rules+model', 'both', new Set([...all, ...predicted]), truth, allOutside + outside));
    const scored: Array<{ score: number; positive: boolean }> = [];
    let unscored = 0;
    for (const [k, t] of truth) {
      if (!t.attack && !t.benign) continue;
      const b = best.get(k);
      if (!b) unscored++;
      scored.push({ score: b ? b.score : Number.NEGATIVE_INFINITY, positive: t.attack });
    }
    const roc = rocCurve(scored);
    report.model = { available: true, id: opts.scorer.id, version: opts.scorer.version, scored: scored.length - unscored, unscored, auc: rocAuc(roc), roc };
  } else {
    report.model = { available: false, message: opts.modelMessage ?? 'no model given' };
  }
  return report;
}
