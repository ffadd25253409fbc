/** Precision, recall, F1 and ROC over entity windows. Pure functions, no I/O. */

/** Confusion counts of one predictor over the labelled windows. */
export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/** Precision, recall and F1; null when undefined (no prediction, no positive). */
export interface Prf {
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

/**
 * P = tp/(tp+fp), R = tp/(tp+fn), F1 = 2PR/(P+R). P is null when nothing was predicted, R when
 * there is no positive; F1 is null without positives and 0 when tp is 0 (nothing found).
 */
export function prf(tp: number, fp: number, fn: number): Prf {
  const precision = tp + fp > 0 ? tp / (tp + fp) : null;
  const recall = tp + fn > 0 ? tp / (tp + fn) : null;
  const f1 = recall === null ? null : tp === 0 ? 0 : (2 * precision! * recall) / (precision! + recall);
  return { precision, recall, f1 };
}

/** One point of a ROC curve: false and true positive rates at a score threshold (predict positive when score >= threshold). */
export interface RocPoint {
  fpr: number;
  tpr: number;
  threshold: number;
}

/**
 * ROC curve of scores against labels: one point per distinct score (ties move together, so the
 * curve has diagonal steps where positives and negatives share a score), from (0,0) to (1,1).
 * Empty when there are no positives or no negatives.
 */
export function rocCurve(scored: ReadonlyArray<{ score: number; positive: boolean }>): RocPoint[] {
  const pos = scored.filter((s) => s.positive).length;
  const neg = scored.length - pos;
  if (pos === 0 || neg === 0) return [];
  const sorted = [...scored].sort((a, b) => b.score - a.score);
  const pts: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: Number.POSITIVE_INFINITY }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < sorted.length; ) {
    const s = sorted[i].score;
    while (i < sorted.length && sorted[i].score === s) {
      if (sorted[i].positive) tp++;
      else fp++;
      i++;
    }
    pts.push({ fpr: fp / neg, tpr: tp / pos, threshold: s });
  }
  return pts;
}

/** Area under a ROC curve by the trapezoid rule (ties count half, as the Mann–Whitney U statistic does); null for an empty curve. */
export function rocAuc(points: readonly RocPoint[]): number | null {
  if (points.length < 2) return null;
  let a = 0;
  for (let i = 1; i < points.length; i++) a += ((points[i].fpr - points[i - 1].fpr) * (points[i].tpr + points[i - 1].tpr)) / 2;
  return a;
}
