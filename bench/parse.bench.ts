// Parser throughput: parse captured files N times in memory and print lines/s and records/s per format.
// Run: node --conditions=floe-source --import tsx bench/parse.bench.ts [N]
// Not a test. Input: packages/flow/testdata (see its SOURCES.md). One core, no I/O in the timed loop.
// Each case runs TRIALS times and the best trial is printed (the least disturbed by other load).
// Two baselines put the figures in context on a shared machine: String.split(' ') over the
// conntrack lines, and JSON.parse over the NFCT lines (the floor of any JSON-lines parser).
import { readFileSync } from 'node:fs';
import { createParser, isParseError, type FormatName } from '@floe/flow';

const N = Number(process.argv[2] ?? 200);
const TRIALS = Number(process.argv[3] ?? 5);
const td = (rel: string) => new URL(`../packages/flow/testdata/${rel}`, import.meta.url);

const cases: Array<{ name: string; format: FormatName; file: string }> = [
  { name: 'conntrack -E (captured)', format: 'conntrack', file: 'conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log' },
  { name: 'ulogd NFCT JSON (captured)', format: 'ulogd-json', file: 'ulogd-nfct/captured-ulogd2-nfct-json-nmap-scan-v4v6.json' },
  { name: 'ulogd NFLOG JSON (captured)', format: 'ulogd-json', file: 'ulogd-nflog/captured-ulogd2-nflog-json-nmap-scan-v4v6.json' },
  { name: 'conntrack XML (travis)', format: 'conntrack-xml', file: 'conntrack/travis-nat-conntrack-E-o-xml-events.xml' },
  { name: 'kernel LOG (crowdsec scan)', format: 'kernel-log', file: 'iptables-log/crowdsec-hub-iptables-portscan.log' },
];

function baseline(kind: 'split' | 'json', lines: string[], rounds: number): { records: number; errors: number; ms: number } {
  let records = 0;
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < rounds; k++) {
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === '') continue;
      const r: unknown = kind === 'split' ? lines[i].split(' ') : JSON.parse(lines[i]);
      if (r !== null) records++;
    }
  }
  return { records, errors: 0, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

function run(format: FormatName, lines: string[], rounds: number): { records: number; errors: number; ms: number } {
  let records = 0;
  let errors = 0;
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < rounds; k++) {
    const p = createParser(format, { now: () => 0 });
    for (let i = 0; i < lines.length; i++) {
      const r = p.parseLine(lines[i], i + 1);
      if (r === null) continue;
      if (isParseError(r)) errors++;
      else records++;
    }
  }
  return { records, errors, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
process.stdout.write(`node ${process.version}, ${N} rounds per file, best of ${TRIALS} trials\n`);

function report(name: string, lines: string[], once: () => { records: number; errors: number; ms: number }): void {
  once(); // warm-up
  let best = once();
  for (let t = 1; t < TRIALS; t++) {
    const r = once();
    if (r.ms < best.ms) best = r;
  }
  const sec = best.ms / 1000;
  process.stdout.write(
    `${name.padEnd(32)} ${String(lines.length).padStart(5)} lines x ${N}: ${fmt((lines.length * N) / sec).padStart(11)} lines/s  ${fmt(best.records / sec).padStart(11)} records/s  (${best.errors} errors, ${best.ms.toFixed(0)} ms)\n`,
  );
}

for (const c of cases) {
  const lines = readFileSync(td(c.file), 'utf8').split('\n');
  report(c.name, lines, () => run(c.format, lines, N));
}
const ctLines = readFileSync(td(cases[0].file), 'utf8').split('\n');
report("baseline: split(' ') conntrack", ctLines, () => baseline('split', ctLines, N));
const nfctLines = readFileSync(td(cases[1].file), 'utf8').split('\n');
report('baseline: JSON.parse NFCT', nfctLines, () => baseline('json', nfctLines, N));
