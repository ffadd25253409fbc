/**
 * Per-entity baseline of a quantity per window (bytes out, DNS queries): an exponentially weighted
 * moving mean and variance (West 1979; Finch, "Incremental calculation of weighted mean and
 * variance", 2009). O(1) time and three numbers of memory per entity.
 */

/** EWMA state: mean, variance and the number of windows folded in. */
export interface Ewma {
  mean: number;
  variance: number;
  /** Windows folded in so far. */
  n: number;
}

/** A baseline with no window yet. */
export function newEwma(): Ewma {
  return { mean: 0, variance: 0, n: 0 };
}

/** Fold one window's value `x` into `b` with weight `alpha` (0 < alpha <= 1); the first window sets the mean. */
export function ewmaUpdate(b: Ewma, x: number, alpha: number): void {
  if (b.n === 0) {
    b.mean = x;
    b.variance = 0;
  } else {
    const diff = x - b.mean;
    const incr = alpha * diff;
    b.mean += incr;
    b.variance = (1 - alpha) * (b.variance + diff * incr);
  }
  b.n++;
}

/**
 * The value a window must reach to be anomalous: `max(floor, mean + sigmas * sd)` once the baseline
 * holds `learnWindows` windows, else `floor` alone (no baseline yet).
 */
export function ewmaThreshold(b: Ewma, floor: number, sigmas: number, learnWindows: number): number {
  if (b.n < learnWindows) return floor;
  return Math.max(floor, b.mean + sigmas * Math.sqrt(Math.max(0, b.variance)));
}
