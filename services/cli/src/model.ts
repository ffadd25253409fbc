/**
 * The ML detector for the `floe` commands: loads the model a flag or the policy names, and turns
 * the model package's errors into usage errors (exit 2) with their code.
 */
import { resolve } from 'node:path';
import { escapeText } from '@floe/flow';
import type { CompiledPolicy } from '@floe/policy';
import { createModelDetector, ensureBackend, loadModel, ModelError, policyModelDir, type ModelDetector } from '@floe/model';
import { UsageError } from './analyze.js';

/**
 * The model directory to use: `--model DIR` when given (relative to the working directory), else
 * the policy's `detectors.model.dir` (relative to the policy file), else none.
 */
export function modelDirOf(policy: CompiledPolicy, flag?: string): string | undefined {
  return flag ? resolve(flag) : policyModelDir(policy);
}

/**
 * Loads the model in `dir` and creates the ML detector with the policy's `detectors.model`
 * settings (windows closed only by their own records and at the end: `lateness` Infinity, for
 * offline input in any order). Reports the TensorFlow.js backend and the model on `err`.
 * @throws UsageError carrying the FLOE_MODEL_* code for a missing, malformed or mismatched model.
 */
export async function modelDetectorFor(policy: CompiledPolicy, dir: string, err: (line: string) => void): Promise<ModelDetector> {
  try {
    await ensureBackend({ log: { info: (o) => err(`floe: TensorFlow.js backend ${(o as { backend: string }).backend} (${(o as { reason: string }).reason})`) } });
    const model = await loadModel(dir);
    err(
      `floe: model ${model.version} from ${escapeText(dir)}: ${model.featureNames.length} features, ${model.windowMs / 1000} s windows, threshold ${model.threshold.toPrecision(4)} (fpr ${model.fpr})`,
    );
    const m = policy.policy.detectors.model;
    return createModelDetector(model, { severity: m?.severity, topFeatures: m?.topFeatures, minFlows: m?.minFlows, features: { lateness: Number.POSITIVE_INFINITY } });
  } catch (e) {
    if (e instanceof ModelError) throw new UsageError(`${escapeText(e.message)} [${e.code}]`);
    throw e;
  }
}
