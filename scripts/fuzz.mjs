#!/usr/bin/env node
// The long fuzzing runs (the bounded runs with a fixed seed are part of every `npm test`):
//  1. the parsers, the line reader, format detection and escapeText
//     (packages/flow/src/fuzz/long-run.ts), for --seconds;
//  2. the API's request schemas: every route of the real app (packages/api/src/fuzz.test.ts)
//     with malformed input, against the real responder and DuckDB store, FLOE_FUZZ_RUNS inputs
//     per method/route pair (default here 2 000; 100 in `npm test`), random seed unless --seed.
// Usage: npm run fuzz [-- --seconds 60] [--seed N] [--target conntrack|conntrack-xml|kernel-log|ulogd-json|line-reader|format-detection|escape|api] [--api-runs N]
// Exit status: non-zero when a run found a crash (a parser threw, or the API answered a 5xx).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const target = opt('--target');
const seed = opt('--seed') ?? String(Math.floor(Math.random() * 2 ** 31));
const apiRuns = opt('--api-runs') ?? '2000';
let status = 0;

if (target !== 'api') {
  const runner = fileURLToPath(new URL('../packages/flow/src/fuzz/long-run.ts', import.meta.url));
  const flowArgs = args.filter((a, i) => a !== '--api-runs' && args[i - 1] !== '--api-runs');
  const r = spawnSync(process.execPath, ['--conditions=floe-source', '--import', 'tsx', runner, ...flowArgs], { stdio: 'inherit' });
  status ||= r.status ?? 1;
}
if (target === undefined || target === 'api') {
  const test = fileURLToPath(new URL('../packages/api/src/fuzz.test.ts', import.meta.url));
  console.log(`\napi: every route, ${apiRuns} malformed inputs per method/route pair, seed ${seed}`);
  const r = spawnSync(process.execPath, ['--conditions=floe-source', '--import', 'tsx', '--test', '--test-reporter=spec', test], {
    stdio: 'inherit',
    env: { ...process.env, FLOE_FUZZ_RUNS: apiRuns, FLOE_FUZZ_SEED: seed },
  });
  status ||= r.status ?? 1;
}
process.exit(status);
