/**
 * The ML detector from a compiled policy (`detectors.model`), for the processor role and `floe run`.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { CompiledPolicy } from '@floe/policy';
import type { Registry } from '@floe/telemetry/lite';
import { ensureBackend, type BackendLog } from './backend.js';
import { createModelDetector, type ModelDetector } from './detector.js';
import { loadModel } from './io.js';

/**
 * The model directory the policy names (`detectors.model.dir`), resolved against the policy
 * file's folder when relative (against the working directory for the embedded policy); undefined
 * when it names none.
 */
export function policyModelDir(policy: CompiledPolicy): string | undefined {
  const dir = policy.policy.detectors.model?.dir;
  if (!dir) return undefined;
  const file = policy.policy.source.file;
  return isAbsolute(dir) || !file || file.startsWith('<') ? resolve(dir) : resolve(dirname(file), dir);
}

/**
 * The ML detector of the policy: none when `detectors.model.dir` is absent, else one over the model
 * loaded from there with the policy's severity, topFeatures and minFlows (`dir` overrides the policy's).
 * @throws ModelError (FLOE_MODEL_*) when the model cannot be loaded: a policy that names a model
 *   must get it, not run without it in silence.
 */
export async function scorersFromPolicy(policy: CompiledPolicy, deps: { logger?: BackendLog; metrics?: Registry; lateness?: number; dir?: string } = {}): Promise<ModelDetector[]> {
  const dir = deps.dir ?? policyModelDir(policy);
  if (dir === undefined) return [];
  await ensureBackend({ log: deps.logger });
  const model = await loadModel(dir);
  deps.logger?.info({ model: model.version, dir, threshold: model.threshold, fpr: model.fpr, windowMs: model.windowMs }, 'ML detector model loaded');
  const m = policy.policy.detectors.model;
  return [
    createModelDetector(
      model,
      { severity: m?.severity, topFeatures: m?.topFeatures, minFlows: m?.minFlows, features: deps.lateness === undefined ? undefined : { lateness: deps.lateness } },
      { metrics: deps.metrics },
    ),
  ];
}
