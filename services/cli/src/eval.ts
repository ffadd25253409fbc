/**
 * `floe eval`: import a labelled data set, replay it in time order through the rule detectors
 * (the policy's thresholds) and a model, and print precision / recall / F1 at the level of source
 * entity per 60 s window (packages/eval README says how truth and predictions are counted).
 */
import { writeFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { escapeText, type ParseError } from '@floe/flow';
import {
  DEFAULT_EVAL_WINDOW_MS,
  evaluate,
  importFile,
  ImportStats,
  rocSvg,
  timeOrdered,
  timeSplit,
  windowKey,
  groundTruth,
  type EvalReport,
  type LabelledFormat,
  type LabelledRecord,
  type PredictorResult,
  type ScorerProvider,
  type WindowScorer,
} from '@floe/eval';
import { detectorsFor, loadCompiledPolicy } from '@floe/runtime';
import { checkInputs, UsageError } from './analyze.js';

/** Options of `floe eval`. */
export interface EvalCliOptions {
  input: string;
  format: LabelledFormat;
  /** Saved model directory (`floe train --out DIR`). */
  model?: string;
  /** Train the model on this file instead of a split of the input (cross-data-set evaluation). */
  train?: string;
  trainFormat?: LabelledFormat;
  /** Fraction of the input (time order) used for training; the rest is evaluated. Default 0.5. */
  trainSplit: number;
  policyFile?: string;
  json: boolean;
  /** Write the model's ROC curve here as SVG. */
  roc?: string;
}

/** Everything `floe eval --json` prints, as one object. */
export interface EvalOutput {
  input: {
    file: string;
    format: LabelledFormat;
    rows: number;
    skipped: number;
    rejected: number;
    byReason: Record<string, number>;
    skippedByReason: Record<string, number>;
    byClass: Record<string, number>;
  };
  synthesized: { addresses: boolean; times: boolean; note?: string };
  split: { kind: 'time' | 'file' | 'none'; trainRows: number; testRows: number; fraction?: number; cutMs?: number; trainFile?: string; trainFormat?: LabelledFormat };
  policy: string;
  report: EvalReport;
}

/** The model provider `floe eval` uses, or why there is none (set by the wiring of @floe/model). */
export type ModelProviderResult = { provider: ScorerProvider } | { provider?: undefined; message: string };

/** `--train-split` value: a decimal fraction 0 <= f < 1. */
export function parseFraction(v: string): number {
  const n = /^(0(\.[0-9]{1,6})?|\.[0-9]{1,6})$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError('a decimal fraction 0 <= f < 1');
  return n;
}

async function load(file: string, format: LabelledFormat, err: (line: string) => void): Promise<{ records: LabelledRecord[]; stats: ImportStats }> {
  const stats = new ImportStats();
  const records: LabelledRecord[] = [];
  let shown = 0;
  const onError = (e: ParseError): void => {
    if (shown++ >= 10) return;
    err(`${escapeText(file)}:${e.line}: rejected (${e.reason}${e.field ? `, field ${escapeText(e.field)}` : ''}): ${escapeText(e.text.slice(0, 120))}`);
  };
  try {
    for await (const r of importFile(file, format, { stats, onError })) records.push(r);
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('FLOE_EVAL_')) throw new UsageError(escapeText((e as Error).message));
    throw e;
  }
  if (stats.rejected > 10) err(`${escapeText(file)}: ${stats.rejected - 10} more rejected rows not shown`);
  if (stats.parsed === 0) throw new UsageError(`${escapeText(file)}: no row is valid ${format} (${stats.rejected} rejected); check --format`);
  return { records, stats };
}

/**
 * Run the evaluation and print it (`out`: tables or one JSON object; `err`: rejected rows and
 * notes). Returns what it printed as JSON.
 * @throws UsageError for missing files, a header that is not the format's, an unusable model directory.
 */
export async function evalCommand(o: EvalCliOptions, models: () => Promise<ModelProviderResult>, out: (line: string) => void, err: (line: string) => void): Promise<EvalOutput> {
  checkInputs(o.train ? [o.input, o.train] : [o.input]);
  let policy;
  try {
    policy = await loadCompiledPolicy({ policyFile: o.policyFile });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const input = await load(o.input, o.format, err);
  const windowMs = DEFAULT_EVAL_WINDOW_MS;
  const ordered = timeOrdered(input.records);
  input.records.length = 0;
  const mp = await models();
  let split: EvalOutput['split'];
  let test: LabelledRecord[];
  let scorer: WindowScorer | undefined;
  let modelMessage: string | undefined = mp.provider ? undefined : `model not available: ${mp.message}`;
  const trainOn = async (records: LabelledRecord[]): Promise<void> => {
    if (!mp.provider) return;
    const truth = groundTruth(records, windowMs);
    const benign = (entity: string, start: number): boolean => {
      const t = truth.get(windowKey(entity, start, windowMs));
      return t?.benign === true && !t.attack;
    };
    if (![...truth.values()].some((t) => t.benign && !t.attack)) {
      modelMessage = 'model not trained: the training part has no benign window';
      return;
    }
    try {
      scorer = await mp.provider.train(
        records.map((r) => r.flow),
        benign,
      );
    } catch (e) {
      // Too few benign windows and the like: the rules are still evaluated, the model line says why.
      if (!(e as { code?: string }).code?.startsWith('FLOE_MODEL_')) throw e;
      modelMessage = `model not trained: ${escapeText((e as Error).message)}`;
    }
  };
  if (o.model) {
    split = { kind: 'none', trainRows: 0, testRows: ordered.length };
    test = ordered;
    if (mp.provider) {
      try {
        scorer = await mp.provider.load(o.model);
      } catch (e) {
        const code = (e as { code?: string }).code;
        throw new UsageError(`--model ${escapeText(o.model)}: ${escapeText((e as Error).message)}${code ? ` [${code}]` : ''}`);
      }
    }
  } else if (o.train) {
    const tf = o.trainFormat ?? o.format;
    const tr = await load(o.train, tf, err);
    const trOrdered = timeOrdered(tr.records);
    split = { kind: 'file', trainRows: trOrdered.length, testRows: ordered.length, trainFile: o.train, trainFormat: tf };
    test = ordered;
    await trainOn(trOrdered);
  } else {
    const s = timeSplit(ordered, o.trainSplit, windowMs);
    split = { kind: 'time', fraction: o.trainSplit, cutMs: s.cutMs, trainRows: s.train.length, testRows: s.test.length };
    test = s.test;
    if (s.train.length > 0) await trainOn(s.train);
    else if (mp.provider) modelMessage = 'model not trained: --train-split 0 and no --model or --train';
  }
  const report = await evaluate(test, { detectors: () => detectorsFor(policy), scorer, modelMessage, windowMs });
  const result: EvalOutput = {
    input: {
      file: o.input,
      format: o.format,
      rows: input.stats.parsed,
      skipped: input.stats.skipped,
      rejected: input.stats.rejected,
      byReason: Object.fromEntries(input.stats.byReason),
      skippedByReason: Object.fromEntries(input.stats.skippedByReason),
      byClass: Object.fromEntries(input.stats.byClass),
    },
    synthesized: input.stats.synthesized,
    split,
    policy: `policy:${policy.version}`,
    report,
  };
  if (o.roc) {
    const title = `ROC of ${report.model.id ? `${report.model.id} ${report.model.version}` : 'the model'} (${report.model.auc === undefined ? report.model.message : `${report.model.scored} windows`})\n${o.input.split('/').pop()} [${o.format}], ${split.kind === 'time' ? `time split ${split.fraction}` : split.kind === 'file' ? `trained on ${split.trainFile?.split('/').pop()}` : 'saved model'}`;
    writeFileSync(o.roc, rocSvg(report.model.roc ?? [], report.model.auc, title));
  }
  if (o.json) out(JSON.stringify(result));
  else for (const l of evalLines(result)) out(l);
  return result;
}

const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v.toFixed(3));

/** Human form of an evaluation: a header, the overall table, per-class tables. Input text is escaped. */
export function evalLines(r: EvalOutput): string[] {
  const L: string[] = [];
  const rep = r.report;
  const reasons = Object.entries(r.input.byReason)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const skips = Object.entries(r.input.skippedByReason)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  L.push(
    `input    ${escapeText(r.input.file)} [${r.input.format}]: ${r.input.rows} rows, ${r.input.rejected} rejected${reasons ? ` (${reasons})` : ''}, ${r.input.skipped} lines skipped${skips ? ` (${skips})` : ''}`,
  );
  if (r.synthesized.note) L.push(`note     ${r.synthesized.note}`);
  const s = r.split;
  if (s.kind === 'time')
    L.push(
      s.trainRows > 0
        ? `split    time-ordered: first ${s.trainRows} rows (before ${new Date(s.cutMs!).toISOString()}, --train-split ${s.fraction}) for training, last ${s.testRows} evaluated`
        : `split    none (--train-split 0): all ${s.testRows} rows evaluated`,
    );
  else if (s.kind === 'file')
    L.push(`split    by file: trained on ${escapeText(s.trainFile!)} [${s.trainFormat}] (${s.trainRows} rows), evaluated on all ${s.testRows} input rows`);
  else L.push(`split    none: saved model, all ${s.testRows} rows evaluated`);
  L.push(`rules    ${r.policy}, ${rep.predictors.filter((p) => p.kind === 'detector').length} detectors`);
  L.push(
    rep.model.available
      ? `model    ${rep.model.id} ${rep.model.version}: ROC AUC ${pct(rep.model.auc)} over ${rep.model.scored} scored windows${rep.model.unscored ? ` (${rep.model.unscored} unscored, ranked lowest)` : ''}`
      : `model    ${rep.model.message}`,
  );
  L.push(`windows  source × ${rep.windowMs / 1000} s: ${rep.windows.positive} attack, ${rep.windows.negative} benign, ${rep.windows.unknown} unknown-only (left out)`);
  L.push('');
  const row = (cells: string[], widths: number[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' ');
  const W = [24, 8, 6, 6, 6, 7, 9, 7, 7, 7];
  L.push(row(['predictor', 'findings', 'TP', 'FP', 'FN', 'TN', 'precision', 'recall', 'F1', 'outside'], W));
  for (const p of rep.predictors) {
    L.push(
      row(
        [
          escapeText(p.name),
          p.findings === undefined ? '-' : String(p.findings),
          String(p.tp),
          String(p.fp),
          String(p.fn),
          String(p.tn),
          pct(p.precision),
          pct(p.recall),
          pct(p.f1),
          String(p.outside),
        ],
        W,
      ),
    );
  }
  const classes = Object.keys(rep.classes).sort();
  if (classes.length > 0) {
    const groups = rep.predictors.filter((p) => p.kind !== 'detector');
    L.push('');
    L.push('per attack class: precision one-vs-benign (class windows vs benign windows flagged), recall, F1');
    const cw = Math.min(40, Math.max(12, ...classes.map((c) => c.length)));
    const W2 = [cw, 7, ...groups.flatMap(() => [21])];
    L.push(row(['class', 'windows', ...groups.map((g) => `${escapeText(g.name)} P/R/F1`)], W2));
    for (const c of classes) {
      L.push(
        row(
          [
            escapeText(c.length > cw ? `${c.slice(0, cw - 1)}…` : c),
            String(rep.classes[c]),
            ...groups.map((g: PredictorResult) => {
              const e = g.perClass[c];
              return `${pct(e?.precision)}/${pct(e?.recall)}/${pct(e?.f1)}`;
            }),
          ],
          W2,
        ),
      );
    }
    const dets = rep.predictors.filter((p) => p.kind === 'detector');
    L.push('');
    L.push('recall per attack class and detector');
    const W3 = [cw, 7, ...dets.map((d) => Math.max(8, d.name.length))];
    L.push(row(['class', 'windows', ...dets.map((d) => escapeText(d.name))], W3));
    for (const c of classes) {
      L.push(row([escapeText(c.length > cw ? `${c.slice(0, cw - 1)}…` : c), String(rep.classes[c]), ...dets.map((d) => pct(d.perClass[c]?.recall))], W3));
    }
  }
  return L;
}
