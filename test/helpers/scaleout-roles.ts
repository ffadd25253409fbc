/**
 * Helpers of the scale-out end-to-end tests: floe's roles as separate processes
 * (`node services/<role>/dist/main.js -c FILE`) over the dev Kafka and ClickHouse servers
 * (deploy/dev/up.sh), each test run isolated by its own topic prefix, consumer groups, node
 * name (the enforcer's group is `floe-enforcer-<node>`) and ClickHouse database.
 */
import { until } from './wait.js';

export { until };
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import kafkajs from 'kafkajs';
import { liveTestBlocker, sh } from './netns.js';

/** The repository root (this file is test/helpers/scaleout.ts, or test/dist/helpers/scaleout.js). */
const REPO = fileURLToPath(new URL(import.meta.url.includes('/test/dist/') ? '../../../' : '../../', import.meta.url));

/** A floe role that runs as its own process. */
export type Role = 'collector' | 'processor' | 'enforcer' | 'api';

/** The built main of a role (`npx tsc -b` makes it). */
export function roleMain(role: Role): string {
  return join(REPO, 'services', role, 'dist', 'main.js');
}

/** Kafka bootstrap broker of the dev server (deploy/dev/kafka.sh); FLOE_KAFKA_BROKER overrides. */
export const KAFKA_BROKER = process.env.FLOE_KAFKA_BROKER ?? '127.0.0.1:19092';
/** ClickHouse HTTP URL of the dev endpoint (deploy/dev/clickhouse.sh); FLOE_CLICKHOUSE_URL overrides. */
export const CLICKHOUSE_URL = process.env.FLOE_CLICKHOUSE_URL ?? 'http://127.0.0.1:18123';

/** True when the environment demands these tests run (CI=true, FLOE_REQUIRE_KAFKA=1 or FLOE_REQUIRE_CLICKHOUSE=1). */
export function scaleOutRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.FLOE_REQUIRE_KAFKA === '1' || env.FLOE_REQUIRE_CLICKHOUSE === '1';
}

/** True when a TCP connect to `host:port` succeeds within `timeoutMs`. */
export function tcpReachable(hostPort: string, timeoutMs = 1000): Promise<boolean> {
  const i = hostPort.lastIndexOf(':');
  return new Promise((resolve) => {
    const s = connect({ host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Why the scale-out tests cannot run here, or undefined when they can: not root or a tool
 * missing (see liveTestBlocker), a role main not built, Kafka or ClickHouse not answering.
 */
export async function scaleOutBlocker(tools?: string[]): Promise<string | undefined> {
  const live = liveTestBlocker(tools);
  if (live) return live;
  for (const r of ['collector', 'processor', 'enforcer', 'api'] as const) {
    if (!existsSync(roleMain(r))) return `${roleMain(r)} is not built (run npx tsc -b)`;
  }
  if (!(await tcpReachable(KAFKA_BROKER))) return `no Kafka broker on ${KAFKA_BROKER} (bash deploy/dev/up.sh)`;
  try {
    const res = await fetch(`${CLICKHOUSE_URL}/ping`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return `ClickHouse at ${CLICKHOUSE_URL} answers /ping with ${res.status}`;
  } catch (e) {
    return `no ClickHouse at ${CLICKHOUSE_URL} (bash deploy/dev/up.sh): ${(e as Error).message}`;
  }
  return undefined;
}

/** One pino log line of a role process (JSON), or `{ msg: line }` for anything else it printed. */
export type LogLine = Record<string, unknown> & { msg?: string };

/** A running role process: its log lines, its health endpoint, and a graceful stop. */
export class RoleProcess {
  readonly lines: LogLine[] = [];
  /** `http://127.0.0.1:port` of GET /healthz and /metrics, once the process logged it. */
  healthUrl: string | undefined;
  private readonly exited: Promise<number | null>;

  constructor(
    readonly role: Role,
    readonly child: ChildProcess,
    onLine?: (role: Role, l: LogLine) => void,
  ) {
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (text) => {
        let l: LogLine;
        try {
          const v = JSON.parse(text) as unknown;
          l = v && typeof v === 'object' && !Array.isArray(v) ? (v as LogLine) : { msg: text };
        } catch {
          l = { msg: text };
        }
        if (l.msg === 'health endpoint listening' && typeof l.url === 'string') this.healthUrl = l.url;
        this.lines.push(l);
        onLine?.(role, l);
      });
    }
  }

  /** The last `n` lines as text, for failure messages. */
  tail(n = 40): string {
    return this.lines
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join('\n');
  }

  /** The first log line whose msg starts with `prefix`, or undefined. */
  find(prefix: string): LogLine | undefined {
    return this.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith(prefix));
  }

  /** Waits (at most `ms`) until GET /healthz answers 200; throws with the log tail when the process exits first. */
  async healthy(ms = 30_000): Promise<string> {
    return until(
      `${this.role} /healthz 200`,
      ms,
      async () => {
        if (this.child.exitCode !== null) throw new Error(`${this.role} exited ${this.child.exitCode}:\n${this.tail()}`);
        if (!this.healthUrl) return undefined;
        const status = await this.healthStatus();
        return status === 200 ? this.healthUrl : undefined;
      },
      50,
    );
  }

  /** Status of GET /healthz now (0 when it does not answer). */
  async healthStatus(): Promise<number> {
    if (!this.healthUrl) return 0;
    try {
      const res = await fetch(`${this.healthUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  }

  /** SIGTERM, then the exit code; SIGKILL (and null) when it has not exited after `ms`. */
  async stop(ms = 30_000): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => {
      timer = setTimeout(() => r('late'), ms);
    });
    const code = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (code === 'late') {
      this.child.kill('SIGKILL');
      await this.exited;
      return null;
    }
    return code;
  }

  /** SIGKILL when still running (cleanup). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** A JSON object written as a role's config file (JSON is YAML). */
export type ConfigObject = { [k: string]: unknown };

/**
 * One isolated scale-out run: topic prefix `e2e-<id>.`, ClickHouse database `floe_e2e_<id>`,
 * node name `e2e-<id>`, processor group `floe-processor-e2e-<id>`, config files in a temp folder.
 * `cleanup()` kills what is left, deletes the run's topics and database and the folder.
 */
export class ScaleOutRun {
  readonly id = randomBytes(4).toString('hex');
  readonly topicPrefix = `e2e-${this.id}.`;
  readonly database = `floe_e2e_${this.id}`;
  readonly node = `e2e-${this.id}`;
  readonly dir = mkdtempSync(join(tmpdir(), `floe-scaleout-${this.id}-`));
  readonly processes: RoleProcess[] = [];

  constructor(private readonly onLine?: (role: Role, l: LogLine) => void) {}

  /** The configuration shared by every role of this run, merged with `extra` (one level deep per section). */
  config(extra: ConfigObject = {}): ConfigObject {
    const base: ConfigObject = {
      node: this.node,
      log: { level: 'info' },
      bus: { kind: 'kafka', brokers: [KAFKA_BROKER], partitions: 2, topicPrefix: this.topicPrefix },
      store: { kind: 'clickhouse', url: CLICKHOUSE_URL, database: this.database },
      processor: { group: `floe-processor-${this.node}` },
      api: { host: '127.0.0.1', port: 0 },
      health: { host: '127.0.0.1', collectorPort: 0, processorPort: 0, enforcerPort: 0, apiPort: 0, shutdownTimeoutMs: 20_000 },
    };
    for (const [k, v] of Object.entries(extra)) {
      const b = base[k];
      base[k] = b && typeof b === 'object' && !Array.isArray(b) && v && typeof v === 'object' && !Array.isArray(v) ? { ...b, ...v } : v;
    }
    return base;
  }

  /**
   * Writes `cfg` to `<dir>/<role>.yaml` and starts `node services/<role>/dist/main.js -c FILE`
   * with the FLOE_* variables of this process removed (the file alone configures it).
   */
  start(role: Role, cfg: ConfigObject): RoleProcess {
    const file = join(this.dir, `${role}.yaml`);
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOE_')));
    const child = spawn(process.execPath, [roleMain(role), '-c', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new RoleProcess(role, child, this.onLine);
    this.processes.push(p);
    return p;
  }

  /** Kills the run's processes, deletes its Kafka topics and ClickHouse database, removes its folder. Never throws. */
  async cleanup(): Promise<void> {
    for (const p of this.processes) p.kill();
    await Promise.allSettled([deleteTopicsWithPrefix(this.topicPrefix), dropDatabase(this.database)]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Deletes every Kafka topic whose name starts with `prefix` (at most 15 s). */
export async function deleteTopicsWithPrefix(prefix: string): Promise<void> {
  if (!prefix) throw new Error('refusing to delete topics without a prefix');
  const admin = new kafkajs.Kafka({ brokers: [KAFKA_BROKER], logLevel: kafkajs.logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 10_000 }).admin();
  const work = (async () => {
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
      if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 });
    } finally {
      await admin.disconnect();
    }
  })();
  await Promise.race([work, new Promise((_, reject) => setTimeout(() => reject(new Error('deleting topics took over 15 s')), 15_000).unref())]);
}

/** Drops a ClickHouse database over HTTP (the name is this run's own, checked against [a-z0-9_]). */
export async function dropDatabase(database: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(database)) throw new Error(`unexpected database name ${database}`);
  const res = await fetch(`${CLICKHOUSE_URL}/`, { method: 'POST', body: `DROP DATABASE IF EXISTS ${database}`, signal: AbortSignal.timeout(10_000) });
  await res.text();
}

/** One element of a floe nftables set: `198.51.100.7/32`, `203.0.113.0/24`, `2001:db8::7/128`. */
type NftElem = { elem?: { val?: unknown } } | string | { prefix: { addr: string; len: number } };

/**
 * Every element of floe's four block sets (blocked4, blocked6, blocked4net, blocked6net) of
 * `table inet <table>` in network namespace `ns`, as sorted CIDRs, read with `nft -j list set`
 * (libnftables-json(5): an element is `{"elem": {"val": V, "timeout": s, "expires": s}}` where V
 * is an address or `{"prefix": {"addr", "len"}}`). A set that does not exist reads as empty.
 */
export function nftBlockedTargets(ns: string, table = 'floe'): string[] {
  const out: string[] = [];
  for (const [set, hostLen] of [
    ['blocked4', 32],
    ['blocked6', 128],
    ['blocked4net', 32],
    ['blocked6net', 128],
  ] as const) {
    let text: string;
    try {
      text = sh('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'set', 'inet', table, set]);
    } catch {
      continue;
    }
    const doc = JSON.parse(text) as { nftables: Array<{ set?: { elem?: NftElem[] } }> };
    for (const item of doc.nftables) {
      for (const e of item.set?.elem ?? []) {
        const v = typeof e === 'object' && 'elem' in e ? e.elem?.val : e;
        if (typeof v === 'string') out.push(`${v}/${hostLen}`);
        else if (v && typeof v === 'object' && 'prefix' in v) {
          const p = (v as { prefix: { addr: string; len: number } }).prefix;
          out.push(`${p.addr}/${p.len}`);
        } else throw new Error(`unexpected element in ${set}: ${JSON.stringify(e)}`);
      }
    }
  }
  return out.sort();
}
