import type { Finding, FlowRecord } from '@floe/flow';
import type { CompiledPolicy } from '@floe/policy';
import type { Detector } from '@floe/detect';
import { RecentIds } from './recent-ids.js';

/**
 * An async detector fed by the pipeline after the rule detectors: `observe` only counts the flow
 * into its windows (constant cost), windows that close wait in its queue, and `drain` scores them
 * in batches and returns its findings. The ML detector of @floe/model (`ml.autoencoder`) is one.
 */
export interface WindowScorer {
  readonly id: string;
  observe(flow: FlowRecord): void;
  /** Event time reached `nowMs`: queue the windows ended by then. */
  expire(nowMs: number): void;
  /** End of input: queue every open window. */
  flush(): void;
  /** Score what is queued (in batches, yielding between them); the findings of anomalous windows. */
  drain(): Promise<Finding[]>;
  /** Windows waiting to be scored. */
  pending(): number;
}

/**
 * Enrichment that runs before the policy (the processor's `enrich` step): Kubernetes identities
 * of both ends from the cluster's API (@floe/kube `KubeEnricher`). `evaluate` adds findings about
 * the enriched and classified flow (flows a NetworkPolicy would deny), de-duplicated by id like
 * the policy's.
 */
export interface FlowEnricher {
  /** A copy of the flow with srcMeta/dstMeta filled where known (the flow itself when nothing is). */
  enrich(flow: FlowRecord): FlowRecord;
  /** Findings about one classified flow. */
  evaluate?(flow: FlowRecord): Finding[];
}

/** Per-flow analysis shared by the streaming processor (steps policy and detect) and `floe analyze`. */
export interface Pipeline {
  /**
   * Classifies one flow (direction, zones, inventory), evaluates the policy and feeds the
   * detectors. Returns the classified flow and its findings: every detector finding (raised once
   * per window, then the same id again with fuller evidence: on a doubling, and in its final form
   * when its window closes, which a later record's time may trigger for any key), and the NEW policy
   * findings: a policy finding id already emitted within the dedup memory is not emitted again
   * (it is counted in `repeats`).
   */
  process(flow: FlowRecord): { flow: FlowRecord; findings: Finding[] };
  /** Enrichment alone (the processor's enrich step): the flow with srcMeta/dstMeta from the enricher; the flow itself without one. */
  enrich(flow: FlowRecord): FlowRecord;
  /** The policy half of process(): classify the flow and evaluate the policy (new policy findings only). */
  classify(flow: FlowRecord): { flow: FlowRecord; findings: Finding[] };
  /** The detector half of process(): feed a classified flow to every detector, return their findings. */
  detect(flow: FlowRecord): Finding[];
  /** Findings suppressed as repeats of an emitted id, by detector. */
  readonly repeats: Map<string, number>;
  /**
   * Event time reached `nowMs` with no record saying so (an idle stream): the final forms of the
   * detector findings whose window ended by then (same ids; stores upsert them). Drops state
   * older than the windows.
   */
  expire(nowMs: number): Finding[];
  /** End of input (end of a replay or analyze run, a processor stopping): the final form of every detector finding still open. */
  flush(): Finding[];
  /**
   * The async scorers' findings for the windows that closed so far (detect, expire and flush
   * queue them): scored in batches. Resolves to [] without a scorer. Call after detect (the
   * processor's score step), and after expire / flush.
   */
  drain(): Promise<Finding[]>;
  /** Windows waiting in the scorers' queues. */
  pending(): number;
}

/** Finding ids remembered for de-duplication (oldest forgotten first). */
export const DEDUP_IDS = 100_000;

/**
 * Builds the pipeline. `classify` and `evaluate` are the policy's compiled matchers; `scorers`
 * (the ML detector) see every classified flow after the rule detectors.
 */
export function createPipeline(deps: { policy: CompiledPolicy; detectors: Detector[]; scorers?: WindowScorer[]; enricher?: FlowEnricher }): Pipeline {
  const enricher = deps.enricher;
  const enrich = (flow: FlowRecord): FlowRecord => (enricher ? enricher.enrich(flow) : flow);
  const scorers = deps.scorers ?? [];
  const seen = new RecentIds(DEDUP_IDS);
  const repeats = new Map<string, number>();
  const keep = (f: Finding): boolean => {
    if (seen.remember(f.id)) return true;
    repeats.set(f.detector, (repeats.get(f.detector) ?? 0) + 1);
    return false;
  };
  const classify = (raw: FlowRecord): { flow: FlowRecord; findings: Finding[] } => {
    const flow = deps.policy.classify(raw);
    const findings: Finding[] = [];
    for (const f of deps.policy.evaluate(flow)) if (keep(f)) findings.push(f);
    if (enricher?.evaluate) for (const f of enricher.evaluate(flow)) if (keep(f)) findings.push(f);
    return { flow, findings };
  };
  const detect = (flow: FlowRecord): Finding[] => {
    const out: Finding[] = [];
    for (const d of deps.detectors) for (const f of d.observe(flow)) out.push(f);
    for (const s of scorers) s.observe(flow);
    return out;
  };
  return {
    repeats,
    enrich,
    classify,
    detect,
    process(raw) {
      const r = classify(enrich(raw));
      for (const f of detect(r.flow)) r.findings.push(f);
      return r;
    },
    expire(nowMs) {
      for (const s of scorers) s.expire(nowMs);
      return deps.detectors.flatMap((d) => d.expire(nowMs));
    },
    flush() {
      for (const s of scorers) s.flush();
      return deps.detectors.flatMap((d) => d.flush());
    },
    async drain() {
      const out: Finding[] = [];
      for (const s of scorers) if (s.pending() > 0) for (const f of await s.drain()) if (keep(f)) out.push(f);
      return out;
    },
    pending() {
      let n = 0;
      for (const s of scorers) n += s.pending();
      return n;
    },
  };
}
