#!/usr/bin/env node
// The long fuzzing run of the parsers, the line reader, format detection and escapeText
// (packages/flow/src/fuzz/long-run.ts; the bounded run is fuzz.test.ts in every test run).
// Usage: npm run fuzz [-- --seconds 60] [--seed N] [--target conntrack|conntrack-xml|kernel-log|ulogd-json|line-reader|format-detection|escape]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runner = fileURLToPath(new URL('../packages/flow/src/fuzz/long-run.ts', import.meta.url));
const r = spawnSync(process.execPath, ['--conditions=floe-source', '--import', 'tsx', runner, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
