/**
 * The long fuzzing run (`npm run fuzz [-- --seconds N] [--seed S] [--target NAME]`): every target
 * of properties.ts in turn, in batches of 200 inputs with a new random seed per batch (or seeds
 * derived from --seed), until its share of the time budget is spent. Prints per target: inputs
 * tried, batches, crashes (a property failure: a throw, a `parser-error`, a broken invariant) with
 * the seed and path that reproduce each (fc.assert(property, { seed, path })). Exit 1 when any
 * target crashed.
 */
import fc from 'fast-check';
import { TARGETS } from './properties.js';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const k = args.indexOf(`--${name}`);
  return k >= 0 ? args[k + 1] : undefined;
};
const seconds = Number(arg('seconds') ?? 60);
const baseSeed = arg('seed') !== undefined ? Number(arg('seed')) : undefined;
const only = arg('target');
const targets = TARGETS.filter((t) => only === undefined || t.name === only);
const BATCH = 200;

let anyCrash = false;
const rows: string[] = [];
let batchNo = 0;
for (const t of targets) {
  const until = Date.now() + (seconds * 1000) / targets.length;
  let tried = 0;
  let batches = 0;
  const crashes: string[] = [];
  while (Date.now() < until) {
    const seed = baseSeed !== undefined ? (baseSeed + batchNo) | 0 : (Math.random() * 2 ** 31) | 0;
    batchNo++;
    const d = fc.check(t.property, { seed, numRuns: BATCH });
    batches++;
    tried += d.numRuns;
    if (d.failed) {
      anyCrash = true;
      const why = d.errorInstance instanceof Error ? d.errorInstance.message : String(d.errorInstance);
      crashes.push(`seed ${d.seed} path ${d.counterexamplePath}: ${why.slice(0, 300)}\n    counterexample: ${fc.stringify(d.counterexample).slice(0, 500)}`);
      if (crashes.length >= 5) break;
    }
  }
  rows.push(`${t.name.padEnd(18)} ${String(tried).padStart(10)} inputs  ${String(batches).padStart(6)} batches  crashes: ${crashes.length}`);
  for (const c of crashes) rows.push(`  ${c}`);
  process.stdout.write(`${rows.slice(-1 - crashes.length).join('\n')}\n`);
}
process.stdout.write(`\nfuzz: ${seconds} s over ${targets.length} targets, ${anyCrash ? 'CRASHES FOUND' : 'crashes: 0'}\n`);
process.exit(anyCrash ? 1 : 0);
