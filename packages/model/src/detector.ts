/**
 * The ML detector `ml.autoencoder`: windows close in the feature extractor (constant cost per
 * record), wait in a bounded queue, and are scored in batches by `drain()` (async): a window whose
 * reconstruction error exceeds the model's threshold becomes a finding naming the features that
 * drove it, with the model version on it.
 */
import { findingId } from '@floe/detect';
import type { Finding, FlowRecord, Severity } from '@floe/flow';
import { ModelError } from './errors.js';
import { FeatureWindows, type EntityWindow, type FeatureOptions } from './features.js';
import type { FloeModel, ModelScore } from './model.js';
import { F } from './names.js';
import { trackModelMetrics } from './metrics.js';
import type { Registry } from '@floe/telemetry/lite';

/** Detector id of the model's findings. */
export const MODEL_DETECTOR_ID = 'ml.autoencoder';

/** Options of the ML detector (the policy's `detectors.model`). */
export interface ModelDetectorOptions {
  /**
   * Severity of its findings (default `medium`: below the responder's usual `high`, so a model
   * finding alone informs the SOC and does not block — floe's choice for an unsupervised score).
   */
  severity?: Severity;
  /** Features named in a finding (default 5, the largest errors). */
  topFeatures?: number;
  /** Windows with fewer connection attempts are not scored (default 1). */
  minFlows?: number;
  /** Windows waiting to be scored, at most (default 10 000); the oldest are dropped and counted beyond. */
  maxQueue?: number;
  /** Feature extraction (windowMs is the model's; lateness, maxEntities, leavesCluster...). */
  features?: Omit<FeatureOptions, 'windowMs'>;
}

/** Defaults of ModelDetectorOptions. */
export const MODEL_DETECTOR_DEFAULTS = Object.freeze({ severity: 'medium' as Severity, topFeatures: 5, minFlows: 1, maxQueue: 10_000 });

/** Counters of the ML detector. */
export interface ModelDetectorStats {
  windows: number;
  scored: number;
  findings: number;
  /** Windows dropped because the queue was full (scoring fell behind). */
  dropped: number;
  /** Windows not scored: fewer attempts than minFlows. */
  skipped: number;
  queued: number;
  entities: number;
  evictedEntities: number;
}

/** The ML detector: the pipeline's async scorer (packages/pipeline `WindowScorer`). */
export interface ModelDetector {
  readonly id: string;
  readonly model: FloeModel;
  /** Counts one classified flow into its entity's window (no scoring here). */
  observe(flow: FlowRecord): void;
  /** Event time reached `nowMs`: windows ended by then are queued. */
  expire(nowMs: number): void;
  /** End of input: every open window is queued. */
  flush(): void;
  /** Scores the queued windows in batches; returns the findings of those above the threshold. */
  drain(): Promise<Finding[]>;
  /** Windows waiting. */
  pending(): number;
  stats(): ModelDetectorStats;
}

/** A feature's value as an analyst reads it: counts, bytes and seconds back from their log scale. */
export function readableValue(feature: string, v: number): number {
  const logScaled = feature in F && F[feature as keyof typeof F] <= F.packets_in;
  const x = logScaled || feature === 'duration_mean' || feature === 'duration_max' ? Math.expm1(v) : v;
  return Math.round(x * 1000) / 1000;
}

/**
 * Score of a finding in [0, 1] from the reconstruction error: 0.5 at the threshold, rising to 1
 * as the error grows (`1 - 0.5 * threshold / error`). A floe heuristic, not a probability.
 */
export function findingScore(error: number, threshold: number): number {
  if (!(error > 0)) return 0;
  return Math.round(Math.min(1, Math.max(0, 1 - (0.5 * threshold) / error)) * 1000) / 1000;
}

/** The finding of an anomalous window. */
export function modelFinding(w: EntityWindow, s: ModelScore, model: FloeModel, severity: Severity, top: number): Finding {
  const features = s.contributions
    .slice(0, top)
    .map((c) => ({ feature: c.feature, value: readableValue(c.feature, w.values[F[c.feature as keyof typeof F]]), error: Math.round(c.error * 1000) / 1000 }));
  const entity: Finding['entity'] = { addr: w.entity };
  if (w.meta?.namespace) entity.namespace = w.meta.namespace;
  if (w.meta?.pod) entity.pod = w.meta.pod;
  if (w.meta?.workload) entity.workload = w.meta.workload;
  const named = features
    .slice(0, 3)
    .map((f) => `${f.feature}=${f.value}`)
    .join(', ');
  return {
    id: findingId(MODEL_DETECTOR_ID, w.entity, w.start),
    schema: 1,
    firstSeen: w.firstSeen,
    lastSeen: w.lastSeen,
    detector: MODEL_DETECTOR_ID,
    kind: 'detector',
    severity,
    score: findingScore(s.score, model.threshold),
    entity,
    peers: [],
    summary: `traffic unlike the training windows in ${w.end - w.start >= 1000 ? `${Math.round((w.end - w.start) / 1000)} s` : `${w.end - w.start} ms`}: reconstruction error ${s.score.toFixed(3)} > threshold ${model.threshold.toFixed(3)}; driven by ${named} (model ${model.version})`,
    evidence: {
      flows: w.flows,
      windowStart: w.start,
      windowMs: w.end - w.start,
      error: Math.round(s.score * 1e6) / 1e6,
      threshold: model.threshold,
      fpr: model.fpr,
      model: model.version,
      features,
    },
    producedBy: `floe-model/${model.version}`,
  };
}

/**
 * Creates the ML detector over a loaded model. Windows are the model's `windowMs`. With
 * `deps.metrics` its counters are exported there as `floe_model_*` (metrics.ts).
 * @throws ModelError FLOE_MODEL_BAD_OPTIONS for bad options.
 */
export function createModelDetector(model: FloeModel, opts: ModelDetectorOptions = {}, deps: { metrics?: Registry } = {}): ModelDetector {
  const o = { ...MODEL_DETECTOR_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as Required<ModelDetectorOptions>;
  if (!(Number.isInteger(o.maxQueue) && o.maxQueue >= 1)) throw new ModelError('FLOE_MODEL_BAD_OPTIONS', 'maxQueue', `must be an integer >= 1, got ${o.maxQueue}`);
  if (!(Number.isInteger(o.topFeatures) && o.topFeatures >= 1)) throw new ModelError('FLOE_MODEL_BAD_OPTIONS', 'topFeatures', `must be an integer >= 1, got ${o.topFeatures}`);
  const fw = new FeatureWindows({ ...(opts.features ?? {}), windowMs: model.windowMs });
  let queue: EntityWindow[] = [];
  const c = { windows: 0, scored: 0, findings: 0, dropped: 0, skipped: 0 };
  const enqueue = (ws: EntityWindow[]): void => {
    for (const w of ws) {
      c.windows++;
      if (w.flows < o.minFlows) {
        c.skipped++;
        continue;
      }
      queue.push(w);
    }
    if (queue.length > o.maxQueue) {
      const over = queue.length - o.maxQueue;
      c.dropped += over;
      queue = queue.slice(over);
    }
  };
  const closed: EntityWindow[] = [];
  const det: ModelDetector = {
    id: MODEL_DETECTOR_ID,
    model,
    observe(flow) {
      fw.observe(flow, closed);
      if (closed.length) {
        enqueue(closed);
        closed.length = 0;
      }
    },
    expire(nowMs) {
      enqueue(fw.expire(nowMs));
    },
    flush() {
      enqueue(fw.flush());
    },
    async drain() {
      if (queue.length === 0) return [];
      const batch = queue;
      queue = [];
      const scores = await model.score(batch);
      c.scored += batch.length;
      const out: Finding[] = [];
      for (let i = 0; i < batch.length; i++) if (scores[i].anomalous) out.push(modelFinding(batch[i], scores[i], model, o.severity, o.topFeatures));
      c.findings += out.length;
      return out;
    },
    pending: () => queue.length,
    stats() {
      const s = fw.stats();
      return { ...c, queued: queue.length, entities: s.entities, evictedEntities: s.evicted };
    },
  };
  if (deps.metrics) trackModelMetrics(deps.metrics, det);
  return det;
}
