// `floe analyze` on kernel LOG lines with about a million distinct sources (issue 7 part 6): time
// and peak RSS on 100k and 1M lines (and 10M with the argument `10m`), and the ratio
// time(1M) / time(100k), target <= 12 (linear cost: 10x the input, at most 12x the time).
// Run: npm run build && node --conditions=floe-source --import tsx bench/analyze.bench.ts [10m]
//
// Input: bench/noise.ts (internet background noise in iptables LOG lines, nearly every line a new
// source, plus a vertical scan, a host sweep and a random scan). Files are generated once into
// $XDG_CACHE_HOME/floe/bench (or ~/.cache/floe/bench), outside the clone, and reused.
// `floe analyze` (services/cli/bin/floe.js, the built CLI) runs as a child process under GNU time
// (`/usr/bin/time -f '%e %M %U %S'`: elapsed seconds, peak RSS in KiB, CPU seconds); its findings
// are counted. Each run includes the CLI's start-up (about 2 s on the development machine).
// Then, in the same run, the other figure of issue 7's "linear cost" goal: parse + policy + rules
// in records per second on one core (stages.bench.ts, only that stage, pinned to one CPU, its own
// child process), so that one command prints both targets.
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noiseLines } from './noise.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'services/cli/bin/floe.js');
const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'floe', 'bench');
const sizes = [100_000, 1_000_000, ...(process.argv.includes('10m') ? [10_000_000] : [])];

if (!existsSync(join(root, 'services/cli/dist/main.js'))) {
  console.error('build first: npm run build');
  process.exit(2);
}

/** Write `n` lines to the cache (once); returns the path. */
async function generate(n: number): Promise<string> {
  mkdirSync(cache, { recursive: true });
  const path = join(cache, `kernel-log-noise-v1-${n}.log`);
  if (existsSync(path)) return path;
  const tmp = `${path}.tmp`;
  const out = createWriteStream(tmp);
  let buf = '';
  for (const l of noiseLines(n)) {
    buf += l;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise((r) => out.once('drain', r));
      buf = '';
    }
  }
  out.write(buf);
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
  renameSync(tmp, path);
  return path;
}

interface Run {
  lines: number;
  seconds: number;
  /** User + system CPU seconds of the child (GNU time %U + %S). */
  cpuSeconds: number;
  peakRssMiB: number;
  findings: string;
}

function analyze(path: string, lines: number): Run {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', process.execPath, cli, 'analyze', '--json', path], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`floe analyze failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [secs, kib, user, sys] = last.split(' ').map(Number);
  const byDetector = new Map<string, number>();
  for (const l of r.stdout.split('\n')) {
    if (l === '') continue;
    const d = (JSON.parse(l) as { detector: string }).detector;
    byDetector.set(d, (byDetector.get(d) ?? 0) + 1);
  }
  return { lines, seconds: secs, cpuSeconds: user + sys, peakRssMiB: kib / 1024, findings: [...byDetector].map(([d, c]) => `${d}=${c}`).join(' ') };
}

const runs: Run[] = [];
for (const n of sizes) {
  const path = await generate(n);
  const r = analyze(path, n);
  runs.push(r);
  console.log(
    `floe analyze ${String(n).padStart(9)} lines: ${r.seconds.toFixed(1).padStart(6)} s, ${Math.round(n / r.seconds)
      .toString()
      .padStart(7)} lines/s, CPU ${r.cpuSeconds.toFixed(1)} s, peak RSS ${r.peakRssMiB.toFixed(0)} MiB; findings ${r.findings}`,
  );
}
const [a, b, c] = runs;
console.log(`ratio time(1M)/time(100k) = ${(b.seconds / a.seconds).toFixed(2)} (target <= 12); by CPU time ${(b.cpuSeconds / a.cpuSeconds).toFixed(2)}`);
const stage = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(root, 'bench/stages.bench.ts'), '300000', '3'], {
  encoding: 'utf8',
  env: { ...process.env, STAGES: 'parse + policy + rules' },
});
const stageLines = `${stage.stdout}`.trim().split('\n');
console.log(stage.status === 0 ? `${stageLines[0]}\n${stageLines.at(-1)}` : `stages.bench.ts failed (${stage.status}): ${`${stage.stderr}`.slice(-2000)}`);
if (c !== undefined) console.log(`ratio time(10M)/time(1M) = ${(c.seconds / b.seconds).toFixed(2)} (linear: about 10); by CPU time ${(c.cpuSeconds / b.cpuSeconds).toFixed(2)}`);
