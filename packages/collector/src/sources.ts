import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isEnobufsWarning, LineReader, parseStream, ParseStats, type FlowRecord, type FormatName, type ParseError } from '@floe/flow';
import type { ConntrackSource, ReplaySource } from './config.js';

/** What a running source reports to the collector. */
export interface SourceSink {
  /** A parsed flow; returns a promise when the caller must wait (backpressure). */
  flow(flow: FlowRecord): Promise<void> | undefined;
  /** A rejected line (already counted in `stats`). */
  rejected(e: ParseError): void;
  /** Any line read from the source (liveness), before it is parsed. */
  line?(): void;
  /** conntrack reported lost events (ENOBUFS) on stderr. */
  enobufs?(): void;
}

/** Longest stderr line kept from conntrack (bytes); longer ones are dropped, counted as one line. */
const STDERR_MAX_LINE_BYTES = 4096;

/** The `conntrack -E` arguments floe reads: every event, with timestamps and ids (conntrack(8)). */
export const CONNTRACK_EVENT_ARGS = ['-E', '-o', 'extended,timestamp,id'] as const;

/**
 * The arguments of `conntrack -E` for a source: CONNTRACK_EVENT_ARGS, plus `-b BYTES` (the netlink
 * receive buffer, conntrack(8) `--buffer-size`) when `bufferBytes` is above 0. A small buffer is
 * what makes the kernel drop events in a burst (ENOBUFS).
 */
export function conntrackEventArgs(bufferBytes?: number): string[] {
  const args: string[] = [...CONNTRACK_EVENT_ARGS];
  if (bufferBytes !== undefined && bufferBytes > 0) args.push('-b', String(Math.floor(bufferBytes)));
  return args;
}

/**
 * Whether live conntrack events can be read here: root, and the conntrack tool answers.
 * Returns the reason when not, for the operator ("not root", "conntrack not found").
 */
export function conntrackAvailable(command = 'conntrack'): { ok: boolean; reason?: string } {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { ok: false, reason: 'not root (conntrack events need CAP_NET_ADMIN)' };
  const r = spawnSync(command, ['--version'], { encoding: 'utf8' });
  if (r.error) return { ok: false, reason: `${command} not found (Debian package: conntrack)` };
  if (r.status !== 0) return { ok: false, reason: `${command} --version failed: ${(r.stderr || '').trim()}` };
  return { ok: true };
}

/** A live conntrack event reader: the child process and a promise that settles when it ends. */
export interface LiveReader {
  child: ChildProcess;
  done: Promise<void>;
  stats: ParseStats;
}

/**
 * Spawns `[ip netns exec NS] conntrack -E -o extended,timestamp,id [-b BYTES]` and feeds each stdout line
 * through the conntrack parser (LineReader bounded by `maxLineBytes`). stderr is read line by
 * line too (bounded): conntrack's "WARNING: We have hit ENOBUFS! We are losing events." calls
 * `sink.enobufs()`, and every stderr line goes to `onStderr` (raw: escape before logging).
 * `done` rejects when the child exits on its own (it should run until stopped) or fails to
 * start; it resolves after `child.kill()` from stop().
 */
export function startConntrack(src: ConntrackSource, node: string, sink: SourceSink, onStderr: (line: string) => void, maxLineBytes?: number): LiveReader {
  const args = conntrackEventArgs(src.bufferBytes);
  const argv = src.netns ? (['ip', ['netns', 'exec', src.netns, src.command, ...args]] as const) : ([src.command, args] as const);
  const child = spawn(argv[0], argv[1], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stats = new ParseStats();
  let stopping = false;
  const origKill = child.kill.bind(child);
  child.kill = (sig?: NodeJS.Signals | number) => {
    stopping = true;
    return origKill(sig);
  };
  const stderrDone = (async () => {
    for await (const l of new LineReader(child.stderr!, { maxLineBytes: STDERR_MAX_LINE_BYTES })) {
      if (isEnobufsWarning(l.text)) sink.enobufs?.();
      onStderr(l.text);
    }
  })().catch(() => undefined);
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`cannot start ${argv[0]}: ${e.message}`)));
    child.once('exit', (code, signal) => {
      if (stopping) resolve();
      else reject(new Error(`conntrack exited unexpectedly (code ${code}, signal ${signal})`));
    });
  });
  const pump = (async () => {
    for await (const flow of parseStream(child.stdout!, {
      format: 'conntrack',
      file: 'conntrack -E',
      node,
      stats,
      maxLineBytes,
      onError: (e) => sink.rejected(e),
      onLine: () => sink.line?.(),
    })) {
      const wait = sink.flow(flow);
      if (wait) await wait;
    }
  })();
  return { child, stats, done: Promise.all([exited, pump, stderrDone]).then(() => undefined) };
}

/**
 * Replays a capture file through the parser, pacing by the records' own times (start, else
 * observedAt) divided by `speed`; 'max' does not wait. Lines are read by a LineReader bounded by
 * `maxLineBytes` (over-long lines rejected as `line-too-long`, never held). Resolves when the
 * file is done.
 * @throws FlowFormatError when the format is 'auto' and cannot be detected; fs errors as they come.
 */
export async function replayFile(src: ReplaySource, node: string, sink: SourceSink, stats: ParseStats, signal: AbortSignal, maxLineBytes?: number): Promise<FormatName | 'auto'> {
  const input = createReadStream(src.file);
  let t0: number | undefined;
  const wall0 = Date.now();
  try {
    for await (const flow of parseStream(input, { format: src.format, file: src.file, node, stats, maxLineBytes, onError: (e) => sink.rejected(e), onLine: () => sink.line?.() })) {
      if (signal.aborted) break;
      if (src.speed !== 'max') {
        const t = flow.start ?? flow.observedAt;
        t0 ??= t;
        const due = wall0 + (t - t0) / src.speed;
        const wait = due - Date.now();
        if (wait > 5) {
          try {
            await sleep(wait, undefined, { signal });
          } catch {
            break; // aborted by stop()
          }
        }
      }
      if (signal.aborted) break;
      const w = sink.flow(flow);
      if (w) await w;
    }
  } finally {
    input.destroy();
  }
  return src.format;
}
