import { isRetriable } from '../errors.js';
import type { StepResult } from '../step.js';

/** The StepResult of an error from a store or bus call: `retry` unless the data itself was refused (`dead-letter`, store-rejected). */
export function failure(err: unknown): StepResult {
  const error = err instanceof Error ? err : new Error(String(err));
  return isRetriable(err) ? { kind: 'retry', error } : { kind: 'dead-letter', reason: 'store-rejected', error };
}
