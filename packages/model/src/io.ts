/**
 * The model on disk, in the TensorFlow.js layers format plus floe's metadata:
 *   model.json       TF.js model topology and weights manifest (as tf.io's file handlers write it)
 *   weights.bin      the weights, float32, in manifest order
 *   floe-model.json  FloeModelMeta: feature names, scaling, threshold, fpr, version...
 * Written through tf.io.withSaveHandler (no tfjs-node needed), read through tf.io.fromMemory.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBackend, tf, type BackendOptions } from './backend.js';
import { ModelError } from './errors.js';
import { FEATURE_NAMES } from './names.js';
import { joinWeightData, modelFrom, modelVersion, type FloeModel, type FloeModelMeta } from './model.js';

/** File names inside a model directory. */
export const MODEL_FILES = Object.freeze({ topology: 'model.json', weights: 'weights.bin', meta: 'floe-model.json' });

/** Writes a file atomically (temporary name, then rename). */
async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Saves `net` and `meta` into `dir` (created with parents). floe-model.json is written last. */
export async function saveArtifacts(net: tf.LayersModel, meta: FloeModelMeta, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await net.save(
    tf.io.withSaveHandler(async (a) => {
      const weights = joinWeightData(a.weightData);
      const topology = {
        modelTopology: a.modelTopology,
        format: a.format ?? 'layers-model',
        generatedBy: a.generatedBy,
        convertedBy: a.convertedBy ?? null,
        weightsManifest: [{ paths: [MODEL_FILES.weights], weights: a.weightSpecs ?? [] }],
      };
      await writeAtomic(join(dir, MODEL_FILES.weights), weights);
      await writeAtomic(join(dir, MODEL_FILES.topology), JSON.stringify(topology));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    }),
  );
  await writeAtomic(join(dir, MODEL_FILES.meta), `${JSON.stringify(meta, null, 2)}\n`);
}

async function readOrThrow(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ModelError('FLOE_MODEL_NOT_FOUND', path, 'no such file (train one with `floe train ... --out DIR`)');
    throw new ModelError('FLOE_MODEL_NOT_FOUND', path, `cannot read: ${(e as Error).message}`, { cause: e });
  }
}

function parseJson(path: string, buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new ModelError('FLOE_MODEL_BAD_FORMAT', path, `not JSON: ${(e as Error).message}`);
  }
}

const isNumArray = (v: unknown, n: number): v is number[] => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** Checks floe-model.json's shape. */
function checkMeta(path: string, v: unknown): FloeModelMeta {
  const bad = (msg: string): never => {
    throw new ModelError('FLOE_MODEL_BAD_FORMAT', path, msg);
  };
  if (typeof v !== 'object' || v === null) return bad('not an object');
  const m = v as Partial<FloeModelMeta>;
  if (m.format !== 'floe-model' || m.formatVersion !== 1) bad(`format ${JSON.stringify(m.format)} version ${JSON.stringify(m.formatVersion)}; expected floe-model 1`);
  if (!Array.isArray(m.featureNames) || !m.featureNames.every((s) => typeof s === 'string')) bad('featureNames must be a list of names');
  const d = (m.featureNames as string[]).length;
  if (!isNumArray(m.means, d) || !isNumArray(m.stds, d) || !(m.stds as number[]).every((s) => s > 0)) bad(`means and stds must be ${d} finite numbers (stds > 0)`);
  if (typeof m.threshold !== 'number' || !(m.threshold >= 0)) bad('threshold must be a number >= 0');
  if (typeof m.fpr !== 'number' || typeof m.windowMs !== 'number' || typeof m.version !== 'string' || typeof m.trainedAt !== 'string')
    bad('fpr, windowMs, version and trainedAt are required');
  return m as FloeModelMeta;
}

/**
 * Loads a model saved by `floe train` / FloeModel.save.
 * @throws ModelError FLOE_MODEL_NOT_FOUND (a file missing), FLOE_MODEL_BAD_FORMAT (unparseable or
 *   wrong shape), FLOE_MODEL_FEATURE_MISMATCH (its feature names are not this floe's
 *   FEATURE_NAMES: retrain it), FLOE_MODEL_VERSION_MISMATCH (weights or scaling changed since
 *   it was saved).
 */
export async function loadModel(dir: string, opts: { backend?: BackendOptions } = {}): Promise<FloeModel> {
  const metaPath = join(dir, MODEL_FILES.meta);
  const topoPath = join(dir, MODEL_FILES.topology);
  const meta = checkMeta(metaPath, parseJson(metaPath, await readOrThrow(metaPath)));
  const want = FEATURE_NAMES as readonly string[];
  if (meta.featureNames.length !== want.length || meta.featureNames.some((n, i) => n !== want[i])) {
    const missing = want.filter((n) => !meta.featureNames.includes(n));
    const extra = meta.featureNames.filter((n) => !want.includes(n));
    throw new ModelError(
      'FLOE_MODEL_FEATURE_MISMATCH',
      metaPath,
      `the model was trained on other features (${meta.featureNames.length} vs ${want.length}${missing.length ? `; missing ${missing.slice(0, 5).join(', ')}` : ''}${extra.length ? `; unknown ${extra.slice(0, 5).join(', ')}` : ''}${!missing.length && !extra.length ? '; another order' : ''}): retrain it with this floe (floe train)`,
    );
  }
  const topo = parseJson(topoPath, await readOrThrow(topoPath)) as { modelTopology?: unknown; weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> };
  if (typeof topo !== 'object' || topo === null || !topo.modelTopology || !Array.isArray(topo.weightsManifest)) {
    throw new ModelError('FLOE_MODEL_BAD_FORMAT', topoPath, 'not a TensorFlow.js layers model (modelTopology and weightsManifest expected)');
  }
  const parts: Buffer[] = [];
  for (const g of topo.weightsManifest) for (const p of g.paths) parts.push(await readOrThrow(join(dir, p.replace(/^(\.\/)+/, ''))));
  const weights = new Uint8Array(Buffer.concat(parts));
  const specs = topo.weightsManifest.flatMap((g) => g.weights);
  const expected = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (expected !== weights.byteLength) throw new ModelError('FLOE_MODEL_BAD_FORMAT', topoPath, `the weights hold ${weights.byteLength} bytes, the manifest needs ${expected}`);
  if (modelVersion(weights, meta) !== meta.version) {
    throw new ModelError('FLOE_MODEL_VERSION_MISMATCH', dir, `the weights and scaling hash to ${modelVersion(weights, meta)}, floe-model.json says ${meta.version}`);
  }
  await ensureBackend(opts.backend ?? {});
  let net: tf.LayersModel;
  try {
    net = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: topo.modelTopology as object,
        weightSpecs: specs,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
      }),
    );
  } catch (e) {
    throw new ModelError('FLOE_MODEL_BAD_FORMAT', topoPath, `TensorFlow.js could not build the model: ${(e as Error).message}`, { cause: e });
  }
  const inShape = net.inputs[0]?.shape;
  if (inShape?.[1] !== want.length) {
    net.dispose();
    throw new ModelError('FLOE_MODEL_FEATURE_MISMATCH', topoPath, `the network takes ${inShape?.[1]} features, FEATURE_NAMES has ${want.length}`);
  }
  return modelFrom(net, meta);
}
