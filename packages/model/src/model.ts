/**
 * The anomaly model: an autoencoder over the standardised window features. Trained on windows
 * taken as benign, it reconstructs them well; a window unlike them reconstructs badly, and the
 * per-feature reconstruction errors say which features made it unusual.
 */
import { createHash } from 'node:crypto';
import { ensureBackend, tf, type BackendOptions } from './backend.js';
import { ModelError } from './errors.js';
import type { EntityWindow } from './features.js';
import { FEATURE_NAMES } from './names.js';

/** A window's score. */
export interface ModelScore {
  /** Reconstruction error: mean over features of the squared error, in standardised units. */
  score: number;
  /** score > the model's threshold. */
  anomalous: boolean;
  /** Per-feature squared errors (standardised units), largest first. */
  contributions: Array<{ feature: string; error: number }>;
}

/** A trained (or loaded) model. */
export interface FloeModel {
  /** `ae-` + the first 16 hex digits of SHA-256 over the weights and the scaling (names, means, stds, threshold). */
  version: string;
  /** Scores above it are anomalous (a quantile of the training errors, see TrainOptions.fpr). */
  threshold: number;
  featureNames: readonly string[];
  /** The false-positive rate the threshold was calibrated for. */
  fpr: number;
  /** Window length (ms) of the windows it was trained on; score windows of the same length. */
  windowMs: number;
  /** Training time (ms since epoch) and windows used. */
  trainedAt: number;
  trainingWindows: number;
  /** Scores windows in batches (tf.tidy: no tensor outlives a batch). */
  score(windows: EntityWindow[]): Promise<ModelScore[]>;
  /** Writes model.json, weights.bin and floe-model.json into `dir` (created). */
  save(dir: string): Promise<void>;
  /** Frees the network's tensors. */
  dispose(): void;
}

/** Options of {@link trainModel}. */
export interface TrainOptions {
  /**
   * False-positive rate the threshold is calibrated for (default 0.01, 1 %): the threshold is the
   * nearest-rank (1 - fpr) quantile of the training windows' errors, so at most that share of
   * them score above it. With fewer than 1/fpr windows it is their largest error: such a rate
   * cannot be resolved by so few windows.
   */
  fpr?: number;
  /** Window length of the windows (ms; stored with the model; default 60 000). */
  windowMs?: number;
  /** Hidden layer widths, encoder side; the decoder mirrors them (default [16, 8]). */
  hidden?: number[];
  /** Training epochs (default 150) and batch size (default 32); Adam, learning rate 0.005. */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Seed of the weight initialisation and of the shuffle (default 7): the same windows train the same model. */
  seed?: number;
  /**
   * Smallest standard deviation used to scale a feature (default 0.25, floe's choice: a quarter of
   * a natural-log unit, about a 28 % change of a count): a feature nearly constant in the
   * training windows does not drown the others (measured on testdata's captures: with 0.1 the
   * inter-arrival CV alone explained the nmap scans; with 0.25 the distinct ports join it).
   */
  minStd?: number;
  /** Smallest number of windows accepted (default 10). */
  minWindows?: number;
  /** Reports progress (epoch, loss) every 10 epochs. */
  onProgress?: (epoch: number, epochs: number, loss: number) => void;
  backend?: BackendOptions;
}

/** Defaults of TrainOptions. */
export const TRAIN_DEFAULTS = Object.freeze({
  fpr: 0.01,
  windowMs: 60_000,
  hidden: [16, 8] as readonly number[],
  epochs: 150,
  batchSize: 32,
  learningRate: 0.005,
  seed: 7,
  minStd: 0.25,
  minWindows: 10,
});

/** Windows scored per batch. */
export const SCORE_BATCH = 512;

/** floe-model.json: what TensorFlow.js's model.json does not hold. */
export interface FloeModelMeta {
  format: 'floe-model';
  formatVersion: 1;
  kind: 'autoencoder';
  version: string;
  featureNames: string[];
  means: number[];
  stds: number[];
  threshold: number;
  fpr: number;
  windowMs: number;
  /** ISO 8601 time of training. */
  trainedAt: string;
  trainingWindows: number;
  hidden: number[];
  epochs: number;
  /** Quantiles of the training errors: 0.5, 0.9, 0.99, max. */
  trainingErrors: { p50: number; p90: number; p99: number; max: number };
}

/**
 * Nearest-rank quantile of sorted values: the smallest value with at least a share `q` of the
 * values at or below it (`sorted[ceil(q * n) - 1]`). As a threshold (`score > threshold`), at most
 * a share 1 - q of the values exceed it.
 */
export function rankQuantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n - 1e-9) - 1))];
}

/** Linear-interpolation quantile (type 7) of sorted values. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Version of a model: `ae-` + SHA-256 of its weights and scaling, first 16 hex digits. */
export function modelVersion(weights: Uint8Array, meta: Pick<FloeModelMeta, 'featureNames' | 'means' | 'stds' | 'threshold'>): string {
  const h = createHash('sha256');
  h.update(weights);
  h.update(JSON.stringify([meta.featureNames, meta.means, meta.stds, meta.threshold]));
  return `ae-${h.digest('hex').slice(0, 16)}`;
}

/** A small deterministic PRNG (mulberry32) for the shuffle. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function buildNet(d: number, hidden: readonly number[], seed: number): tf.Sequential {
  const net = tf.sequential();
  const widths = [...hidden, ...hidden.slice(0, -1).reverse()];
  widths.forEach((units, i) => {
    net.add(
      tf.layers.dense({
        units,
        activation: i === hidden.length - 1 ? 'linear' : 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }),
        ...(i === 0 ? { inputShape: [d] } : {}),
      }),
    );
  });
  net.add(tf.layers.dense({ units: d, activation: 'linear', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + widths.length }) }));
  return net;
}

/** The trained network with its scaling. */
class AutoencoderModel implements FloeModel {
  readonly featureNames: readonly string[];
  readonly threshold: number;
  readonly fpr: number;
  readonly windowMs: number;
  readonly trainedAt: number;
  readonly trainingWindows: number;
  readonly version: string;
  private readonly means: Float32Array;
  private readonly invStds: Float32Array;

  constructor(
    private readonly net: tf.LayersModel,
    readonly meta: FloeModelMeta,
  ) {
    this.featureNames = Object.freeze([...meta.featureNames]);
    this.threshold = meta.threshold;
    this.fpr = meta.fpr;
    this.windowMs = meta.windowMs;
    this.trainedAt = Date.parse(meta.trainedAt);
    this.trainingWindows = meta.trainingWindows;
    this.version = meta.version;
    this.means = Float32Array.from(meta.means);
    this.invStds = Float32Array.from(meta.stds, (s) => 1 / s);
  }

  /** Squared errors per window and feature, row-major (n × d). */
  async errors(windows: EntityWindow[]): Promise<Float32Array> {
    const d = this.featureNames.length;
    const out = new Float32Array(windows.length * d);
    for (let b = 0; b < windows.length; b += SCORE_BATCH) {
      const n = Math.min(SCORE_BATCH, windows.length - b);
      const buf = new Float32Array(n * d);
      for (let i = 0; i < n; i++) {
        const v = windows[b + i].values;
        if (v.length !== d) throw new ModelError('FLOE_MODEL_FEATURE_MISMATCH', 'values', `a window has ${v.length} features, the model ${d}`);
        for (let j = 0; j < d; j++) buf[i * d + j] = (v[j] - this.means[j]) * this.invStds[j];
      }
      const err = tf.tidy(() => {
        const x = tf.tensor2d(buf, [n, d]);
        const y = this.net.predict(x) as tf.Tensor;
        return tf.squaredDifference(x, y);
      });
      try {
        out.set((await err.data()) as Float32Array, b * d);
      } finally {
        err.dispose();
      }
      // Let I/O run between batches: a long scoring never stalls the event loop for more than a batch.
      if (b + SCORE_BATCH < windows.length) await new Promise((r) => setImmediate(r));
    }
    return out;
  }

  async score(windows: EntityWindow[]): Promise<ModelScore[]> {
    const d = this.featureNames.length;
    const e = await this.errors(windows);
    const res: ModelScore[] = [];
    for (let i = 0; i < windows.length; i++) {
      let sum = 0;
      const contributions: ModelScore['contributions'] = [];
      for (let j = 0; j < d; j++) {
        const x = e[i * d + j];
        sum += x;
        contributions.push({ feature: this.featureNames[j], error: x });
      }
      contributions.sort((a, b) => b.error - a.error);
      const score = sum / d;
      res.push({ score, anomalous: score > this.threshold, contributions });
    }
    return res;
  }

  async save(dir: string): Promise<void> {
    const { saveArtifacts } = await import('./io.js');
    await saveArtifacts(this.net, this.meta, dir);
  }

  dispose(): void {
    this.net.dispose();
  }
}

/**
 * Fits an autoencoder to `windows` (taken as benign: leave out entities with findings first),
 * then calibrates the threshold on its training errors for `fpr`.
 * @throws ModelError FLOE_MODEL_TOO_FEW_WINDOWS (fewer than minWindows), FLOE_MODEL_BAD_OPTIONS.
 */
export async function trainModel(windows: EntityWindow[], opts: TrainOptions = {}): Promise<FloeModel> {
  const o = { ...TRAIN_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as Required<TrainOptions>;
  const bad = (field: string, msg: string): never => {
    throw new ModelError('FLOE_MODEL_BAD_OPTIONS', field, msg);
  };
  if (!(o.fpr > 0 && o.fpr < 1)) bad('fpr', `must be in (0, 1), got ${o.fpr}`);
  if (!(Number.isInteger(o.epochs) && o.epochs >= 1 && o.epochs <= 100_000)) bad('epochs', `must be an integer 1..100000, got ${o.epochs}`);
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) bad('batchSize', `must be an integer >= 1, got ${o.batchSize}`);
  if (!(o.hidden.length >= 1 && o.hidden.every((h) => Number.isInteger(h) && h >= 1 && h <= 4096))) bad('hidden', 'must be 1 or more integer widths 1..4096');
  if (!(o.minStd > 0)) bad('minStd', `must be > 0, got ${o.minStd}`);
  if (windows.length < o.minWindows) {
    throw new ModelError('FLOE_MODEL_TOO_FEW_WINDOWS', 'windows', `${windows.length} training windows; at least ${o.minWindows} are needed`);
  }
  await ensureBackend(o.backend ?? {});
  const d = FEATURE_NAMES.length;
  const n = windows.length;
  const means = new Array<number>(d).fill(0);
  const stds = new Array<number>(d).fill(0);
  for (const w of windows) {
    if (w.values.length !== d) throw new ModelError('FLOE_MODEL_FEATURE_MISMATCH', 'values', `a window has ${w.values.length} features, FEATURE_NAMES ${d}`);
    for (let j = 0; j < d; j++) means[j] += w.values[j] / n;
  }
  for (const w of windows) for (let j = 0; j < d; j++) stds[j] += (w.values[j] - means[j]) ** 2 / n;
  for (let j = 0; j < d; j++) stds[j] = Math.max(o.minStd, Math.sqrt(stds[j]));
  // Standardised rows, in a seeded shuffled order (fit's own shuffle is not seeded).
  const rand = mulberry32(o.seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const k = Math.floor(rand() * (i + 1));
    [order[i], order[k]] = [order[k], order[i]];
  }
  const buf = new Float32Array(n * d);
  order.forEach((src, i) => {
    for (let j = 0; j < d; j++) buf[i * d + j] = (windows[src].values[j] - means[j]) / stds[j];
  });
  const net = buildNet(d, o.hidden, o.seed);
  net.compile({ optimizer: tf.train.adam(o.learningRate), loss: 'meanSquaredError' });
  const x = tf.tensor2d(buf, [n, d]);
  try {
    await net.fit(x, x, {
      epochs: o.epochs,
      batchSize: o.batchSize,
      shuffle: false,
      verbose: 0,
      callbacks: {
        onEpochEnd: async (epoch, logs) => {
          if ((epoch + 1) % 10 === 0 || epoch + 1 === o.epochs) o.onProgress?.(epoch + 1, o.epochs, Number(logs?.loss ?? Number.NaN));
        },
      },
    });
  } finally {
    x.dispose();
  }
  // Calibrate on the training windows' own errors.
  const meta: FloeModelMeta = {
    format: 'floe-model',
    formatVersion: 1,
    kind: 'autoencoder',
    version: '',
    featureNames: [...FEATURE_NAMES],
    means,
    stds,
    threshold: Number.POSITIVE_INFINITY,
    fpr: o.fpr,
    windowMs: o.windowMs,
    trainedAt: new Date().toISOString(),
    trainingWindows: n,
    hidden: [...o.hidden],
    epochs: o.epochs,
    trainingErrors: { p50: 0, p90: 0, p99: 0, max: 0 },
  };
  const draft = new AutoencoderModel(net, meta);
  const scores = (await draft.score(windows)).map((s) => s.score).sort((a, b) => a - b);
  const threshold = rankQuantile(scores, 1 - o.fpr);
  const weights = await weightBytes(net);
  const final: FloeModelMeta = {
    ...meta,
    threshold,
    trainingErrors: { p50: quantile(scores, 0.5), p90: quantile(scores, 0.9), p99: quantile(scores, 0.99), max: scores[scores.length - 1] },
  };
  final.version = modelVersion(weights, final);
  return new AutoencoderModel(net, final);
}

/** The network's weights as bytes, in the order of its weight specs (what weights.bin holds). */
export async function weightBytes(net: tf.LayersModel): Promise<Uint8Array> {
  let bytes: Uint8Array | undefined;
  await net.save(
    tf.io.withSaveHandler(async (a) => {
      bytes = joinWeightData(a.weightData);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return bytes ?? new Uint8Array(0);
}

/** ArrayBuffer or ArrayBuffer[] (tfjs 4.x WeightData) as one byte array. */
export function joinWeightData(w: ArrayBuffer | ArrayBuffer[] | undefined): Uint8Array {
  if (w === undefined) return new Uint8Array(0);
  if (!Array.isArray(w)) return new Uint8Array(w);
  const total = w.reduce((s, b) => s + b.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const b of w) {
    out.set(new Uint8Array(b), off);
    off += b.byteLength;
  }
  return out;
}

/** Builds a FloeModel from a loaded network and its metadata (io.ts). */
export function modelFrom(net: tf.LayersModel, meta: FloeModelMeta): FloeModel {
  return new AutoencoderModel(net, meta);
}
