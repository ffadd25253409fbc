import { test } from 'node:test';
import fc from 'fast-check';
import { TARGETS } from './properties.js';

// Issue 6: the bounded run of the fuzzing suite, in every test run: a fixed seed (reproducible),
// a budget of runs per target that fits in a few seconds. `npm run fuzz` runs far longer with
// random seeds and prints inputs tried and crashes per target.
const SEED = 20261201;
const RUNS: Record<string, number> = {
  conntrack: 2000,
  'conntrack-xml': 1500,
  'kernel-log': 1500,
  'ulogd-json': 2000,
  'line-reader': 3000,
  'format-detection': 1000,
  escape: 3000,
};

for (const t of TARGETS) {
  test(`fuzz ${t.name}: ${RUNS[t.name] ?? 300} inputs (seed ${SEED}), no throw, every line a record, a skip or a rejection with a reason`, () => {
    fc.assert(t.property, { seed: SEED, numRuns: RUNS[t.name] ?? 300 });
  });
}
