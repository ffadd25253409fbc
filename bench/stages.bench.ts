// Records per second on ONE core (one thread, nothing else in the loop) for each stage of the
// analysis of kernel LOG lines, and for all together (issue 7 part 6; target for parse + policy +
// rules: >= 300,000 records/s). Prints figures; asserts nothing.
// Run: npm run build && node --expose-gc --import tsx bench/stages.bench.ts [records=300000] [trials=3]
// (against the built packages: with --conditions=floe-source tsx compiles them with a `__name`
// helper that costs a few % in closures made per line);
// (STAGES=rules,parse runs only the stages whose names start so; add --cpu-prof to profile them.)
//
// Input: bench/noise.ts (internet background noise, nearly every line a new source, and three
// scans), generated in memory. Stages, each timed over the same records:
// - parse:  `createParser('kernel-log').parseLine` per line (@floe/flow), records counted, not kept;
// - policy: the default policy's `classify` then `evaluate` per parsed record (@floe/policy);
// - rules:  every rule detector of `createDetectors` (`lateness: Infinity`, as `floe analyze`)
//           `observe`s each classified record, fresh detectors (new sources: the worst case);
// - all:    parse + policy + rules per line, fresh detectors.
// Each stage runs once on a warm-up slice (a tenth) and then on all records; the best of TRIALS
// runs is printed (the least disturbed by the other load of a shared machine), by wall time and by
// the process's CPU time (user + system, `process.cpuUsage`: on a loaded machine the wall time
// counts the time other jobs held the core; CPU time does not).
//
// One core: the bench runs itself again under `taskset -c 0` (util-linux), so that the whole
// process, V8's garbage-collection and compiler helper threads included, shares one CPU, and
// both figures are of one core. Unpinned, the helpers run on the other cores: the wall figure was
// then 20-25 % above the per-CPU-second one (2026-12-02: 397k-402k wall, 326k-332k per CPU-s),
// and the per-CPU-second figure counts the helpers' work in parallel with the main thread. Pinned,
// wall and CPU time agree within 1 %. FLOE_BENCH_CPU=N pins to CPU N; FLOE_BENCH_CPU=none, or a
// machine without taskset, runs unpinned (the header line says which).
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createParser, isParseError, type FlowRecord } from '@floe/flow';
import { createDetectors, type Detector } from '@floe/detect';
import { compilePolicy, defaultPolicy } from '@floe/policy';
import { noiseLines } from './noise.js';

/** The CPU this process is pinned to (FLOE_BENCH_CPU, set by the re-run below), or undefined. */
const cpu = process.env.FLOE_BENCH_CPU ?? '0';
if (process.env.FLOE_BENCH_PINNED === undefined && cpu !== 'none') {
  const r = spawnSync('taskset', ['-c', cpu, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, FLOE_BENCH_PINNED: cpu },
  });
  if (r.error === undefined) process.exit(r.status ?? 1);
  console.log(`(taskset not usable: ${r.error.message}; running unpinned)`);
}
const pinned = process.env.FLOE_BENCH_PINNED;

const N = Number(process.argv[2] ?? 300_000);
const TRIALS = Number(process.argv[3] ?? 3);
const lines = [...noiseLines(N)].map((l) => l.slice(0, -1));
const policy = compilePolicy(defaultPolicy(), {});
const detectorsNew = (): Detector[] => createDetectors(policy.policy.detectors, { lateness: Number.POSITIVE_INFINITY });
// The parsers' clock: the day after the noise starts (2026-11-30), so that its syslog stamps (no
// year) read as 2026 and every record has its own time, as under `floe analyze` (Date.now). With
// now() = 0 every stamp fell in 1969, every record was untimed and beacon.periodic skipped them all.
const NOW = Date.UTC(2026, 11, 1);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function parseAll(ls: string[]): FlowRecord[] {
  const p = createParser('kernel-log', { now: () => NOW });
  const out: FlowRecord[] = [];
  for (let i = 0; i < ls.length; i++) {
    const r = p.parseLine(ls[i], i + 1);
    if (r !== null && !isParseError(r)) out.push(r);
  }
  return out;
}

/** Parse `ls` and count the records (the parse stage: records are not kept, as in the pipeline). */
function parseCount(ls: string[], n: number): number {
  const p = createParser('kernel-log', { now: () => NOW });
  let k = 0;
  for (let i = 0; i < n; i++) {
    const r = p.parseLine(ls[i], i + 1);
    if (r !== null && !isParseError(r)) k++;
  }
  return k;
}

const records = parseAll(lines);
const classified = records.map((r) => policy.classify(r));

const stages: Array<{ name: string; run: (n: number) => number }> = [
  {
    name: 'parse (kernel LOG line -> FlowRecord)',
    run: (n) => parseCount(lines, n),
  },
  {
    name: 'policy (classify + evaluate)',
    run: (n) => {
      let k = 0;
      for (let i = 0; i < n; i++) k += policy.evaluate(policy.classify(records[i])).length;
      return k;
    },
  },
  {
    name: 'rules (all rule detectors)',
    run: (n) => {
      const dets = detectorsNew();
      let k = 0;
      for (let i = 0; i < n; i++) for (const d of dets) k += d.observe(classified[i]).length;
      return k;
    },
  },
  {
    name: 'parse + policy + rules',
    run: (n) => {
      const dets = detectorsNew();
      const p = createParser('kernel-log', { now: () => NOW });
      let k = 0;
      for (let i = 0; i < n; i++) {
        const r = p.parseLine(lines[i], i + 1);
        if (r === null || isParseError(r)) continue;
        const flow = policy.classify(r);
        k += policy.evaluate(flow).length;
        for (const d of dets) k += d.observe(flow).length;
      }
      return k;
    },
  },
];

console.log(
  `node ${process.version}, ${pinned !== undefined ? `pinned to CPU ${pinned} (one core: GC helpers included)` : 'NOT pinned (GC helpers on other cores)'}, ${records.length} records (kernel LOG, ~1 new source per record), best of ${TRIALS}; detectors: ${detectorsNew()
    .map((d) => d.id)
    .join(', ')}`,
);
// STAGES=rules (a comma list of name prefixes) runs only those, e.g. under --cpu-prof.
const only = process.env.STAGES?.split(',');
for (const s of stages.filter((x) => only === undefined || only.some((o) => x.name.startsWith(o)))) {
  s.run(Math.floor(records.length / 10));
  let best = Number.POSITIVE_INFINITY;
  let bestCpu = Number.POSITIVE_INFINITY;
  for (let t = 0; t < TRIALS; t++) {
    gc();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    s.run(records.length);
    best = Math.min(best, performance.now() - t0);
    const c = process.cpuUsage(c0);
    bestCpu = Math.min(bestCpu, (c.user + c.system) / 1000);
  }
  const rate = (ms: number) =>
    Math.round(records.length / (ms / 1000))
      .toLocaleString('en-US')
      .padStart(10);
  console.log(
    `${s.name.padEnd(40)} ${rate(best)} records/s wall (${best.toFixed(0)} ms), ${rate(bestCpu)} records per CPU-second (${bestCpu.toFixed(0)} ms)${s.name.startsWith('parse + policy + rules') ? '  target >= 300,000' : ''}`,
  );
}
