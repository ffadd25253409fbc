/** Time-ordered train/test split at a window boundary. */
import { eventTime } from '@floe/detect';
import { FloeEvalError } from './errors.js';
import type { LabelledRecord } from './import/types.js';

/** A split: training rows, test rows, and the cut (ms since epoch; test rows have event time >= cut). */
export interface Split {
  train: LabelledRecord[];
  test: LabelledRecord[];
  cutMs: number;
}

/**
 * Split time-ordered `records` so that about `fraction` of the rows come first (training) and the
 * rest after (test). The cut is moved down to a window boundary so no entity window straddles
 * both parts; fraction 0 gives an empty training part.
 * @throws FloeEvalError FLOE_EVAL_BAD_OPTIONS unless 0 <= fraction < 1.
 */
export function timeSplit(records: readonly LabelledRecord[], fraction: number, windowMs: number): Split {
  if (!(fraction >= 0 && fraction < 1)) throw new FloeEvalError('FLOE_EVAL_BAD_OPTIONS', `train split ${fraction}: a fraction 0 <= f < 1`);
  if (records.length === 0 || fraction === 0) return { train: [], test: [...records], cutMs: records.length ? eventTime(records[0].flow) : 0 };
  const at = eventTime(records[Math.min(records.length - 1, Math.floor(records.length * fraction))].flow);
  const cutMs = Math.floor(at / windowMs) * windowMs;
  const train: LabelledRecord[] = [];
  const test: LabelledRecord[] = [];
  for (const r of records) (eventTime(r.flow) < cutMs ? train : test).push(r);
  return { train, test, cutMs };
}
