/**
 * Load helpers shared by test/e2e/scaleout-noloss.test.ts and bench/scaleout.bench.ts: distinct
 * flows made from real captures, their expected totals, a direct ClickHouse HTTP query, and a
 * processor service process (services/processor/dist/main.js) with its CPU time from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseFile, type FlowRecord } from '@floe/flow';
import type { BusMessage } from '@floe/bus';

/** The repository root (this file is test/helpers/flow-load.ts, or test/dist/helpers/flow-load.js). */
const REPO = fileURLToPath(new URL(import.meta.url.includes('/test/dist/') ? '../../../' : '../../', import.meta.url));

/** The real captures the flows are made from (packages/flow/testdata, see its SOURCES.md). */
export const CAPTURES = Object.freeze([
  { file: join(REPO, 'packages/flow/testdata/conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log'), format: 'conntrack' as const },
  { file: join(REPO, 'packages/flow/testdata/ulogd-nfct/captured-ulogd2-nfct-json-nmap-scan-v4v6.json'), format: 'ulogd-json' as const },
]);

/** Spacing of the repeated rounds in time (ms): 10 minutes. */
export const ROUND_MS = 600_000;

/** Maps an address to round `r`: IPv4 a.b.c.d -> a.(b + r>>8).(r & 255).d; IPv6 gets a group `r` before its `::`. */
function shiftAddr(addr: string, r: number): string {
  if (isIPv6(addr)) {
    const i = addr.indexOf('::');
    if (i < 0 || addr.split(':').length > 7) throw new Error(`cannot shift IPv6 address ${addr}`);
    return `${addr.slice(0, i)}:${r.toString(16)}${addr.slice(i)}`;
  }
  const p = addr.split('.').map(Number);
  return `${p[0]}.${p[1] + (r >> 8)}.${r & 255}.${p[3]}`;
}

/**
 * `n` flow records: the records of {@link CAPTURES} (1,166) repeated in rounds; round r moves
 * every time (observedAt, start, end) by `startMs - first observedAt + r * ROUND_MS` and every
 * address (original and reply tuple) to round r's addresses, so every record differs from every
 * other one in time and addresses, and the sources spread over the partitions.
 * `startMs` (ms since epoch) defaults to 24 h ago, well inside the store's retention.
 * @throws the flow package's parse errors when a capture is unreadable.
 */
export async function makeFlows(n: number, startMs = Date.now() - 86_400_000): Promise<FlowRecord[]> {
  const base: FlowRecord[] = [];
  for (const c of CAPTURES) base.push(...(await parseFile(c.file, { format: c.format })).records);
  const first = Math.min(...base.map((f) => f.observedAt));
  const out: FlowRecord[] = [];
  for (let r = 0; out.length < n; r++) {
    const dt = startMs - first + r * ROUND_MS;
    for (const f of base) {
      if (out.length >= n) break;
      const g: FlowRecord = { ...f, observedAt: f.observedAt + dt, srcAddr: shiftAddr(f.srcAddr, r), dstAddr: shiftAddr(f.dstAddr, r) };
      if (f.start !== undefined) g.start = f.start + dt;
      if (f.end !== undefined) g.end = f.end + dt;
      if (f.replySrcAddr !== undefined) g.replySrcAddr = shiftAddr(f.replySrcAddr, r);
      if (f.replyDstAddr !== undefined) g.replyDstAddr = shiftAddr(f.replyDstAddr, r);
      out.push(g);
    }
  }
  return out;
}

/** Totals of a set of flows: records, bytes (bytesOrig + bytesReply, absent = 0), packets likewise. */
export interface FlowTotals {
  flows: number;
  bytes: number;
  packets: number;
}

/** Computes {@link FlowTotals} of `flows`. */
export function totalsOf(flows: FlowRecord[]): FlowTotals {
  const t = { flows: flows.length, bytes: 0, packets: 0 };
  for (const f of flows) {
    t.bytes += (f.bytesOrig ?? 0) + (f.bytesReply ?? 0);
    t.packets += (f.packetsOrig ?? 0) + (f.packetsReply ?? 0);
  }
  return t;
}

/**
 * Bus messages for floe.flows.v1 as the collector makes them (packages/collector/src/batcher.ts):
 * each run of `perBatch` flows grouped by source address, one message per source (key = srcAddr).
 * Returns one array of messages per `perBatch` flows.
 */
export function flowBatches(flows: FlowRecord[], perBatch = 500): BusMessage<FlowRecord[]>[][] {
  const out: BusMessage<FlowRecord[]>[][] = [];
  for (let i = 0; i < flows.length; i += perBatch) {
    const bySrc = new Map<string, FlowRecord[]>();
    for (const f of flows.slice(i, i + perBatch)) {
      const l = bySrc.get(f.srcAddr);
      if (l) l.push(f);
      else bySrc.set(f.srcAddr, [f]);
    }
    out.push([...bySrc].map(([key, value]) => ({ key, value })));
  }
  return out;
}

/**
 * Runs one query on a ClickHouse HTTP endpoint (plain fetch, not @clickhouse/client, so it checks
 * the store independently) and returns its rows (`FORMAT JSON`'s `data`, 64-bit integers as numbers).
 * @throws Error with the server's message on a non-2xx answer.
 */
export async function chQuery<R = Record<string, unknown>>(url: string, database: string, sql: string): Promise<R[]> {
  const u = new URL(url);
  u.searchParams.set('database', database);
  u.searchParams.set('output_format_json_quote_64bit_integers', '0');
  const res = await fetch(u, { method: 'POST', body: `${sql} FORMAT JSON` });
  const text = await res.text();
  if (!res.ok) throw new Error(`ClickHouse ${res.status}: ${text.trim()}`);
  return (JSON.parse(text) as { data: R[] }).data;
}

/** Why the ClickHouse endpoint at `url` cannot be used, or undefined when `/ping` answers. */
export async function clickhouseBlocker(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(new URL('/ping', url), { signal: AbortSignal.timeout(3000) });
    return res.ok ? undefined : `ClickHouse at ${url} answered /ping with ${res.status}`;
  } catch (e) {
    return `ClickHouse not reachable at ${url} (deploy/dev/clickhouse.sh start): ${(e as Error).message}`;
  }
}

/** Path of the built processor main; the process runs from dist (build with `npx tsc -b`). */
export const PROCESSOR_MAIN = join(REPO, 'services/processor/dist/main.js');

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux; proc(5)). */
const USER_HZ = 100;

/**
 * CPU seconds (utime + stime, fields 14 and 15 of /proc/<pid>/stat, proc(5)) of a live process,
 * or undefined when it is gone.
 */
export function cpuSecondsOf(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / USER_HZ;
}

/** The configuration a processor process of these runs gets (written as JSON, which is YAML). */
export interface ProcessorRunConfig {
  brokers: string[];
  clickhouseUrl: string;
  database: string;
  group: string;
  partitions: number;
  logLevel?: string;
}

/**
 * The processor role as its own process (`node services/processor/dist/main.js -c FILE`), its
 * log (pino NDJSON and stderr) appended to `logFile`, with no FLOE_* variable of the caller's
 * environment. `started` resolves when it logged `started` (its consumer joined the group) and
 * rejects when it exits first.
 * @throws Error at construction when the processor is not built.
 */
export class ProcessorProcess {
  readonly child: ChildProcess;
  readonly started: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly log: WriteStream;
  private readonly last: string[] = [];
  private healthBase: string | undefined;

  constructor(configFile: string, logFile: string) {
    if (!existsSync(PROCESSOR_MAIN)) throw new Error(`${PROCESSOR_MAIN} missing: build with \`npx tsc -b\``);
    this.log = createWriteStream(logFile, { flags: 'a' });
    this.log.on('error', () => undefined); // a log that cannot be written must not fail the run
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOE_')));
    this.child = spawn(process.execPath, [PROCESSOR_MAIN, '-c', configFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.child.once('close', () => this.log.end()); // after stdout and stderr are drained
    let onStarted: () => void = () => undefined;
    const keep = (l: string) => {
      this.log.write(l + '\n');
      this.last.push(l);
      if (this.last.length > 30) this.last.shift();
      if (l.includes('"msg":"started"') && !l.includes('"component"')) onStarted(); // the service's, not a component's
      if (l.includes('"msg":"health endpoint listening"')) this.healthBase = /"url":"([^"]+)"/.exec(l)?.[1];
    };
    // pino writes to stdout or stderr depending on the telemetry setup: read both.
    createInterface({ input: this.child.stdout! }).on('line', keep);
    createInterface({ input: this.child.stderr! }).on('line', keep);
    this.started = new Promise((resolve, reject) => {
      onStarted = resolve;
      void this.exited.then(({ code, signal }) => reject(new Error(`processor exited (code ${code}, signal ${signal}) before it started:\n${this.tail()}`)));
    });
    this.started.catch(() => undefined);
  }

  /** Writes the configuration file of a processor of these runs (health endpoint on any free port). */
  static writeConfig(file: string, c: ProcessorRunConfig): void {
    writeFileSync(
      file,
      JSON.stringify(
        {
          log: { level: c.logLevel ?? 'info' },
          processor: { group: c.group, storeFlows: true },
          bus: { kind: 'kafka', brokers: c.brokers, partitions: c.partitions },
          store: { kind: 'clickhouse', url: c.clickhouseUrl, database: c.database },
          health: { processorPort: 0 },
        },
        null,
        2,
      ),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The last 30 lines the process wrote (stdout and stderr), for failure messages. */
  tail(): string {
    return this.last.join('\n');
  }

  /**
   * Flows the processor component of this process has handled (stored and committed) so far,
   * from its health endpoint (`GET /healthz`: components.processor.flows).
   * @throws Error before the endpoint is listening or when it does not answer.
   */
  async handledFlows(): Promise<number> {
    if (!this.healthBase) throw new Error('processor health endpoint not known yet');
    const body = (await (await fetch(new URL('/healthz', this.healthBase))).json()) as { components?: { processor?: { flows?: number } } };
    const n = body.components?.processor?.flows;
    if (typeof n !== 'number') throw new Error(`no processor flow count in /healthz: ${JSON.stringify(body)}`);
    return n;
  }

  /** True until the process exited. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** CPU seconds used so far (/proc/<pid>/stat), undefined after exit. */
  cpuSeconds(): number | undefined {
    return cpuSecondsOf(this.pid);
  }

  /** Sends `signal` (when still running) and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}
