/**
 * The narrow interface between `floe eval` and an anomaly model: flows in, one score per source
 * entity and window out. The ML detector (`@floe/model`) is wired behind it (model-scorer.ts);
 * eval itself knows nothing of the model's features or format.
 */
import type { FlowRecord } from '@floe/flow';

/** A model's verdict on one source entity over one window. Times in ms since epoch. */
export interface ScoredWindow {
  /** Source address. */
  entity: string;
  /** Window start (inclusive) and end (exclusive), ms since epoch. */
  start: number;
  end: number;
  /** Anomaly score, higher = more anomalous (for ROC: any monotone scale). */
  score: number;
  /** True when the score is past the model's own calibrated threshold. */
  anomalous: boolean;
}

/** A trained model that scores the windows of a flow stream. */
export interface WindowScorer {
  /** Detector id the scores are reported under (`ml.autoencoder`). */
  readonly id: string;
  /** Model version, printed with the figures. */
  readonly version: string;
  /** Score every (source, window) of `flows` (sorted by event time). */
  score(flows: readonly FlowRecord[]): Promise<ScoredWindow[]>;
}

/** Where eval gets a model: a saved one, or one trained on the training part of the data. */
export interface ScorerProvider {
  /** Load a saved model directory. */
  load(dir: string): Promise<WindowScorer>;
  /**
   * Train on `flows` (sorted by event time), keeping only the windows for which `keep(entity,
   * windowStart)` is true (eval keeps the benign-labelled windows: semi-supervised, as an
   * autoencoder is trained on normal traffic).
   */
  train(flows: readonly FlowRecord[], keep: (entity: string, windowStart: number) => boolean): Promise<WindowScorer>;
}
