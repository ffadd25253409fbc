/** The model behind `floe eval`'s scorer interface (packages/eval/src/scorer.ts). */
import type { ModelProviderResult } from './eval.js';

/** The ML model provider for `floe eval`: none yet on this branch (`@floe/model` is built in parallel). */
export async function evalModels(): Promise<ModelProviderResult> {
  return { message: '@floe/model is not part of this build' };
}
