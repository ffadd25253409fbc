import type { Finding, FlowRecord } from '@floe/flow';
import type { Pipeline } from './analysis.js';

/** Options of the window closer. */
export interface WindowCloserOptions {
  /**
   * Wall time without a record (ms) after which the stream counts as idle and the detectors'
   * windows are closed by event time advanced by the idle wall time (default 2 000).
   */
  idleMs?: number;
  /** How often idleness is checked (ms; default 1 000). */
  checkMs?: number;
}

/** Defaults of WindowCloserOptions. */
export const WINDOW_CLOSER_DEFAULTS = Object.freeze({ idleMs: 2_000, checkMs: 1_000 });

/** Closes the detectors' windows when the stream goes quiet, and at the end of input. */
export interface WindowCloser {
  /** A batch was analysed: its flows advance event time. Call after the detect step. */
  observed(flows: readonly FlowRecord[]): void;
  /** Starts the idle timer (unref'd). */
  start(): void;
  /** Stops the timer and waits for the outputs of a close in progress. Safe twice. */
  stop(): Promise<void>;
  /**
   * End of input (a replay that ended, a processor stopping): writes the final form of every
   * detector finding still open through `write`, after the outputs of earlier closes.
   */
  flush(): Promise<void>;
}

/**
 * The streaming half of the detectors' final counts (packages/detect README, "Streaming use"):
 * a window closes when a later record's time passes its end, but a stream that goes quiet has no
 * later record. So, while no batch is being analysed (`busy()` false) and no record arrived for
 * `idleMs` of wall time, `expire(lastEventTime + idle wall time)` is called — event time advanced
 * by the idle wall time, never the wall clock itself (a replay's event times are in the past) —
 * and the final forms it returns go to `write` (the processor's output steps), one close at a
 * time. A failed write is reported to `onError` and not retried here: the finding's earlier form
 * is already stored.
 */
export function createWindowCloser(
  deps: { pipeline: Pipeline; busy: () => boolean; write: (findings: Finding[]) => Promise<void>; onError: (err: unknown) => void; wallNow?: () => number },
  opts: WindowCloserOptions = {},
): WindowCloser {
  const idleMs = opts.idleMs ?? WINDOW_CLOSER_DEFAULTS.idleMs;
  const checkMs = opts.checkMs ?? WINDOW_CLOSER_DEFAULTS.checkMs;
  const wallNow = deps.wallNow ?? Date.now;
  /** Newest record time seen (ms since epoch, event time); -Infinity before the first record. */
  let lastEvent = Number.NEGATIVE_INFINITY;
  /** Wall time of the last batch with records. */
  let lastWall = 0;
  let timer: NodeJS.Timeout | undefined;
  let tail: Promise<void> = Promise.resolve();

  /** Writes the rule detectors' final forms, then the async scorers' findings (scored after the writes before them). */
  const enqueue = (findings: Finding[]): Promise<void> => {
    const scored = deps.pipeline.pending() > 0;
    if (findings.length === 0 && !scored) return tail;
    tail = tail
      .then(async () => {
        const all = scored ? [...findings, ...(await deps.pipeline.drain())] : findings;
        if (all.length) await deps.write(all);
      })
      .catch((err: unknown) => deps.onError(err));
    return tail;
  };

  const check = (): void => {
    if (deps.busy() || lastEvent === Number.NEGATIVE_INFINITY) return;
    const idle = wallNow() - lastWall;
    if (idle < idleMs) return;
    void enqueue(deps.pipeline.expire(lastEvent + idle));
  };

  return {
    observed(flows) {
      if (flows.length === 0) return;
      for (const f of flows) {
        const t = f.start ?? f.end ?? f.observedAt;
        if (t > lastEvent) lastEvent = t;
      }
      lastWall = wallNow();
    },
    start() {
      if (timer) return;
      timer = setInterval(check, checkMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await tail;
    },
    flush() {
      return enqueue(deps.pipeline.flush());
    },
  };
}
