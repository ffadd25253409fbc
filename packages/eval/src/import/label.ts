/** Reading the label columns of the data sets into a {@link Label}. */
import type { Label } from './types.js';

/** Label of a benign row. */
export const BENIGN: Label = { kind: 'benign', cls: 'benign' };
/** Label of a row whose data set says nothing, or says it does not know. */
export const UNKNOWN: Label = { kind: 'unknown', cls: 'unknown' };

const BENIGN_WORDS = new Set(['benign', 'normal', '0']);
const UNKNOWN_WORDS = new Set(['', '-', 'unknown', '(empty)']);

/**
 * A binary label column plus an optional class column (Zeek-based sets: `label` Benign /
 * Malicious / Unknown with `detailed-label` C&C, DDoS...; UNSW-NB15: `label` Benign / Malicious or
 * 0 / 1 with `attack_cat` when present). The class is the class column when it names one, else
 * the label text itself.
 */
export function binaryLabel(label: string, cls?: string): Label {
  const l = label.trim();
  const low = l.toLowerCase();
  if (BENIGN_WORDS.has(low)) return BENIGN;
  if (UNKNOWN_WORDS.has(low)) return UNKNOWN;
  const c = cls?.trim();
  return { kind: 'attack', cls: c && !UNKNOWN_WORDS.has(c.toLowerCase()) && c.toLowerCase() !== 'normal' ? c : low === '1' ? 'attack' : l };
}
