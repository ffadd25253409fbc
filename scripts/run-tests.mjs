#!/usr/bin/env node
// Runs every *.test.ts under packages/*/src, services/*/src, test/ and deploy/ with node's test runner.
// TypeScript is loaded by tsx; `--conditions=floe-source` makes @floe/* imports resolve to src.
// Usage: node scripts/run-tests.mjs [--unit] [path-filter...]
//   --unit   leave out test/e2e (needs root, network namespaces, conntrack and nft)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e === 'node_modules' || e === 'dist') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (e.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const roots = [];
for (const top of ['packages', 'services']) {
  for (const d of readdirSync(top)) roots.push(join(top, d, 'src'));
}
roots.push('test', 'deploy');
let files = roots.flatMap((r) => walk(r, []));
if (unitOnly) files = files.filter((f) => !f.startsWith('test/e2e'));
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
files.sort();
if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--conditions=floe-source', '--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
