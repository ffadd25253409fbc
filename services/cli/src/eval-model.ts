/**
 * The model behind `floe eval`'s scorer interface (packages/eval/src/scorer.ts): `@floe/model`'s
 * window features and autoencoder. Scores every window (the ML detector's `minFlows` default of 1)
 * with the model's own threshold for `anomalous`, and the raw reconstruction error for the ROC.
 */
import type { ScorerProvider, ScoredWindow, WindowScorer } from '@floe/eval';
import type { FlowRecord } from '@floe/flow';
import { ensureBackend, extractFeatures, loadModel, MODEL_DETECTOR_ID, trainModel, type FloeModel } from '@floe/model';
import type { ModelProviderResult } from './eval.js';

/** A FloeModel as a WindowScorer: features of the flows (the model's window length), then scores in the model's batches. */
export class ModelScorer implements WindowScorer {
  readonly id = MODEL_DETECTOR_ID;
  readonly version: string;
  constructor(readonly model: FloeModel) {
    this.version = model.version;
  }
  async score(flows: readonly FlowRecord[]): Promise<ScoredWindow[]> {
    const windows = extractFeatures(flows, { windowMs: this.model.windowMs });
    const scores = await this.model.score(windows);
    return windows.map((w, i) => ({ entity: w.entity, start: w.start, end: w.end, score: scores[i].score, anomalous: scores[i].anomalous }));
  }
}

/** Training settings of `floe eval` (the defaults of `floe train`: TRAIN_DEFAULTS, fpr 1 %). */
export interface EvalTrainOptions {
  fpr?: number;
  epochs?: number;
}

/**
 * The provider `floe eval` uses: loads a saved model, or trains one on the benign windows of the
 * training flows. The TensorFlow.js backend is reported on `err` once.
 */
export function modelProvider(err: (line: string) => void, opts: EvalTrainOptions = {}): ScorerProvider {
  let backend: Promise<unknown> | undefined;
  const ready = () =>
    (backend ??= ensureBackend({ log: { info: (o) => err(`floe eval: TensorFlow.js backend ${(o as { backend: string }).backend} (${(o as { reason: string }).reason})`) } }));
  return {
    async load(dir: string): Promise<WindowScorer> {
      await ready();
      return new ModelScorer(await loadModel(dir));
    },
    async train(flows: readonly FlowRecord[], keep: (entity: string, windowStart: number) => boolean): Promise<WindowScorer> {
      await ready();
      const windows = extractFeatures(flows).filter((w) => keep(w.entity, w.start));
      const model = await trainModel(windows, { fpr: opts.fpr, epochs: opts.epochs });
      err(`floe eval: trained ${model.version} on ${windows.length} benign windows, threshold ${model.threshold.toPrecision(4)} (fpr ${model.fpr})`);
      return new ModelScorer(model);
    },
  };
}

/** What `floe eval` is given: the @floe/model provider (its errors keep their FLOE_MODEL_* code in the message). */
export function evalModels(err: (line: string) => void, opts: EvalTrainOptions = {}): () => Promise<ModelProviderResult> {
  return async () => ({ provider: modelProvider(err, opts) });
}
