import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { until } from './wait.js';

/** The built CLI (`npm run build` first). */
export const FLOE_BIN = fileURLToPath(new URL('../../services/cli/bin/floe.js', import.meta.url));

/** What a finished `floe` run left: exit code (null when killed), stdout and stderr text. */
export interface FloeResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI to its end: `floe <args>` in `cwd` (default this process's), with `env` added
 * to this process's environment, for at most `timeoutMs` when given (then killed, code null).
 * `env` may set FLOE_LOG_LEVEL; without it the child inherits this process's.
 */
export function floeSync(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): FloeResult {
  const r = spawnSync(process.execPath, [FLOE_BIN, ...args], { encoding: 'utf8', cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A `floe` child process started by {@link startFloe}. */
export interface FloeProcess {
  child: ChildProcess;
  /** Its stdout lines so far (progress output: `api …`, `finding …`, `summary …`). */
  lines: string[];
  /** Its stderr so far. */
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Spawns `floe <args>` with `env` added to this process's environment, logs each stdout line as a
 * test diagnostic, kills it when the test `t` ends (SIGKILL if it still runs), and waits until a
 * stdout line starts with `ready` (default `api `: the API serves) for at most `timeoutMs`.
 * @throws Error when floe exits first (with its stderr) or the line does not come in time.
 */
export async function startFloe(
  t: { after(fn: () => unknown): void; diagnostic(s: string): void },
  args: string[],
  opts: { env?: Record<string, string>; ready?: string; timeoutMs?: number } = {},
): Promise<FloeProcess> {
  const child = spawn(process.execPath, [FLOE_BIN, ...args], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    t.diagnostic(`floe: ${l}`);
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const ready = opts.ready ?? 'api ';
  await until(`floe to print a "${ready.trim()}" line`, opts.timeoutMs ?? 20_000, () => {
    if (child.exitCode !== null) throw new Error(`floe exited ${child.exitCode}: ${stderr}`);
    return lines.some((l) => l.startsWith(ready)) || undefined;
  });
  return {
    child,
    lines,
    stderr: () => stderr,
    stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
