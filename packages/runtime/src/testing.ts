import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A service process started by {@link spawnService}. */
export interface SpawnedService {
  child: ChildProcess;
  /** Resolves with the health endpoint URL once the service logged it (rejects if it exits first). */
  healthUrl: Promise<string>;
  /** Resolves with the exit code (or 128 + signal number) and all stderr lines. */
  exited: Promise<{ code: number; stderr: string[] }>;
  /** stderr lines so far: pino JSON log lines and plain diagnostics. */
  stderr: string[];
  /** stdout lines so far. */
  stdout: string[];
}

const SIGNALS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Longest life of a spawned test service (ms). */
export const SPAWN_LIMIT_MS = 120_000;

/** Services spawned by this process and still running; killed when this process exits. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * Test helper: runs a TypeScript service entry (a role main or a fixture) from source with tsx
 * and the `floe-source` condition, log level info, and the given environment on top of ours.
 */
export function spawnService(script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): SpawnedService {
  const child = spawn(process.execPath, ['--conditions=floe-source', '--import', 'tsx', script, ...args], {
    env: { ...process.env, FLOE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A test that fails (or times out) before it stops its service must not hang the test run:
  // the child is killed after SPAWN_LIMIT_MS at the latest, and when this process exits.
  live.add(child);
  const limit = setTimeout(() => child.kill('SIGKILL'), SPAWN_LIMIT_MS);
  limit.unref();
  child.once('close', () => {
    live.delete(child);
    clearTimeout(limit);
  });
  const stderr: string[] = [];
  const stdout: string[] = [];
  let resolveUrl!: (u: string) => void;
  let rejectUrl!: (e: Error) => void;
  const healthUrl = new Promise<string>((res, rej) => {
    resolveUrl = res;
    rejectUrl = rej;
  });
  healthUrl.catch(() => undefined);
  createInterface({ input: child.stdout! }).on('line', (l) => stdout.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => {
    stderr.push(l);
    if (l.includes('health endpoint listening')) {
      try {
        resolveUrl((JSON.parse(l) as { url: string }).url);
      } catch {
        /* not JSON */
      }
    }
  });
  const exited = new Promise<{ code: number; stderr: string[] }>((res) => {
    child.on('close', (code, signal) => {
      rejectUrl(new Error(`service exited (${code ?? signal}) before its health endpoint listened:\n${stderr.join('\n')}`));
      res({ code: code ?? 128 + (SIGNALS[signal ?? ''] ?? 0), stderr });
    });
  });
  return { child, healthUrl, exited, stderr, stdout };
}

/** Parses the pino JSON lines among `lines` (others are skipped). */
export function jsonLines(lines: string[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const l of lines) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      /* partial line */
    }
  }
  return out;
}

/**
 * Polls `GET <url>/healthz` every 50 ms until it answers 200 (the service is running: 503 while
 * starting) and returns the body. @throws Error after `timeoutMs` with the last status.
 */
export async function waitHealthy(url: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    try {
      const res = await fetch(`${url}/healthz`);
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status === 200) return body;
      last = `${res.status} ${JSON.stringify(body)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url}/healthz not healthy after ${timeoutMs} ms: ${last}`);
}
