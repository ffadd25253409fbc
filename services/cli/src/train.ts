/**
 * `floe train`: reads flow records (files, or the store's flows table), extracts the window
 * features, leaves out the entities that had findings (the rule detectors over the same input,
 * and the store's findings), trains the autoencoder, calibrates its threshold and saves it.
 */
import { escapeText, type FlowRecord, type FormatName } from '@floe/flow';
import { createPipeline } from '@floe/pipeline';
import { detectorsFor, loadCompiledPolicy } from '@floe/runtime';
import { ensureBackend, FeatureWindows, leaveOut, ModelError, trainModel, type EntityWindow } from '@floe/model';
import type { Store } from '@floe/store';
import { checkInputs, readFlowFiles, UsageError } from './analyze.js';

/** Options of `floe train`. */
export interface TrainCliOptions {
  /** Input files (`--input`), read in order as one stream. */
  inputs: string[];
  format: FormatName | 'auto';
  policyFile?: string;
  inventoryFile?: string;
  maxLineBytes?: number;
  /** Records from elsewhere (the store's flows table), after the files; and entities its findings name. */
  extra?: { records: AsyncIterable<FlowRecord>; flagged: Iterable<string>; label: string };
  /** Output directory. */
  out: string;
  /** False-positive rate of the threshold (default 0.01). */
  fpr: number;
  /** Window length (ms; default 60 000). */
  windowMs: number;
  epochs?: number;
}

/** What `floe train` did. */
export interface TrainSummary {
  records: number;
  windows: number;
  used: number;
  leftOut: number;
  /** Entities left out because a finding named them. */
  flaggedEntities: number;
  version: string;
  threshold: number;
  fpr: number;
  windowMs: number;
  out: string;
}

/** Records between two progress lines. */
export const PROGRESS_EVERY = 100_000;

/**
 * Trains and saves a model; progress and the backend on `err`, the summary on `out`.
 * @throws UsageError for unusable inputs, too few windows (FLOE_MODEL_TOO_FEW_WINDOWS) or bad options.
 */
export async function trainFromInputs(o: TrainCliOptions, out: (line: string) => void, err: (line: string) => void): Promise<TrainSummary> {
  checkInputs(o.inputs, { pipes: true });
  let policy;
  try {
    policy = await loadCompiledPolicy({ policyFile: o.policyFile, inventoryFile: o.inventoryFile });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const pipeline = createPipeline({ policy, detectors: detectorsFor(policy, { lateness: Number.POSITIVE_INFINITY }) });
  let fw: FeatureWindows;
  try {
    fw = new FeatureWindows({ windowMs: o.windowMs, lateness: Number.POSITIVE_INFINITY });
  } catch (e) {
    if (e instanceof ModelError) throw new UsageError(`${e.message} [${e.code}]`);
    throw e;
  }
  const windows: EntityWindow[] = [];
  const flagged = new Set<string>(o.extra?.flagged ?? []);
  let records = 0;
  const onRecord = (raw: FlowRecord): void => {
    const r = pipeline.process(raw);
    for (const f of r.findings) flagged.add(f.entity.addr);
    fw.observe(r.flow, windows);
    if (++records % PROGRESS_EVERY === 0) err(`floe train: ${records} records read, ${windows.length} windows closed`);
  };
  const files = await readFlowFiles(o.inputs, o, err, onRecord);
  for (const f of files) err(`floe train: ${escapeText(f.file)} [${f.format ?? 'empty'}]: ${f.parsed} records, ${f.rejected} rejected`);
  if (o.extra) {
    for await (const r of o.extra.records) onRecord(r);
    err(`floe train: ${o.extra.label}`);
  }
  for (const f of pipeline.flush()) flagged.add(f.entity.addr);
  for (const w of fw.flush()) windows.push(w);
  const { kept, left } = leaveOut(windows, flagged);
  err(`floe train: ${records} records, ${windows.length} windows; ${left.length} left out (${flagged.size} entities with findings); training on ${kept.length}`);
  try {
    await ensureBackend({ log: { info: (x) => err(`floe train: TensorFlow.js backend ${(x as { backend: string }).backend} (${(x as { reason: string }).reason})`) } });
    const model = await trainModel(kept, {
      fpr: o.fpr,
      windowMs: o.windowMs,
      epochs: o.epochs,
      onProgress: (e, n, loss) => {
        if (e % 50 === 0 || e === n) err(`floe train: epoch ${e}/${n}, loss ${loss.toPrecision(4)}`);
      },
    });
    await model.save(o.out);
    model.dispose();
    const s: TrainSummary = {
      records,
      windows: windows.length,
      used: kept.length,
      leftOut: left.length,
      flaggedEntities: flagged.size,
      version: model.version,
      threshold: model.threshold,
      fpr: model.fpr,
      windowMs: o.windowMs,
      out: o.out,
    };
    out(
      `trained model ${s.version}: ${s.used} windows used, ${s.leftOut} left out (${s.flaggedEntities} entities with findings), ` +
        `threshold ${s.threshold.toPrecision(4)} for fpr ${s.fpr}${s.used < 1 / s.fpr ? ` (fewer than ${Math.ceil(1 / s.fpr)} windows: the threshold is the largest training error)` : ''}, ` +
        `${s.windowMs / 1000} s windows; saved to ${escapeText(s.out)}`,
    );
    return s;
  } catch (e) {
    if (e instanceof ModelError) throw new UsageError(`${escapeText(e.message)} [${e.code}]`);
    throw e;
  }
}

/** Findings per page when collecting the entities the store's findings name. */
const FINDINGS_PAGE = 1000;

/**
 * The store as a training input: the entities named by its findings whose last seen is at or
 * after `since` (any detector; left out of training), and its flows with `observedAt` at or after
 * `since`, oldest first, read page by page while training reads them.
 */
export async function storeInput(store: Store, since: number | undefined, err: (line: string) => void): Promise<NonNullable<TrainCliOptions['extra']>> {
  const flagged = new Set<string>();
  let findings = 0;
  let cursor: string | undefined;
  do {
    const p = await store.queryFindings({ from: since, limit: FINDINGS_PAGE, cursor });
    for (const f of p.items) flagged.add(f.entity.addr);
    findings += p.items.length;
    cursor = p.next;
  } while (cursor !== undefined);
  err(`floe train: the store's findings${since !== undefined ? ` since ${new Date(since).toISOString()}` : ''}: ${findings}, naming ${flagged.size} entities`);
  let read = 0;
  async function* records(): AsyncGenerator<FlowRecord> {
    let c: string | undefined;
    do {
      const p = await store.readFlows({ since, cursor: c });
      for (const r of p.items) yield r;
      read += p.items.length;
      c = p.next;
    } while (c !== undefined);
  }
  return {
    records: records(),
    flagged,
    get label() {
      return `the store's flows: ${read} records`;
    },
  };
}
