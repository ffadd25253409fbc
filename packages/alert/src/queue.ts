/**
 * One sink's delivery queue: bounded, worked by one loop, each delivery retried with exponential
 * backoff and jitter (p-retry); a delivery that fails past the budget becomes a dead letter and
 * marks the sink down. While down, new deliveries go straight to the dead letters (no retry budget
 * spent per alert) and the sink is probed with the oldest letter every probe interval; once it
 * accepts one, the rest still within the redelivery window are queued again, in order.
 */
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from '@floe/telemetry';
import type { AlertConfig } from './config.js';
import type { DeadLetter, DeadLetterStore } from './deadletter.js';
import { isRetriable } from './errors.js';
import type { AlertMetrics } from './metrics.js';
import type { Notification, Sink } from './types.js';

/** Health of one sink's queue. */
export interface SinkQueueHealth {
  queued: number;
  down: boolean;
  deadLetters: number;
  sent: number;
}

/** The queue of one sink. */
export interface SinkQueue {
  /** Queues a delivery without waiting (the hot path); false when dropped (queue full) or dead-lettered (sink down). */
  push(n: Notification): boolean;
  /** Resolves once nothing is queued or in flight, or after `timeoutMs`; then stops and dead-letters what is left (cause `stopped`). */
  stop(timeoutMs: number): Promise<void>;
  /** Probes a down sink now (the probe timer calls it). */
  probe(): Promise<void>;
  health(): SinkQueueHealth;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** A queue for `sink` with the section's queue size, retry budget and dead-letter window. */
export function createSinkQueue(
  sink: Sink,
  opts: Pick<AlertConfig, 'queueSize' | 'retry' | 'deadLetter'>,
  deps: { metrics: AlertMetrics; logger: Logger; deadLetters: DeadLetterStore; now: () => number },
): SinkQueue {
  const { metrics: m, logger: log, deadLetters: dl, now } = deps;
  const label = { sink: sink.name };
  const q: Array<{ n: Notification; letter?: DeadLetter }> = [];
  const abort = new AbortController();
  let working: Promise<void> | undefined;
  let down = dl.pending(sink.name).length > 0;
  let stopped = false;
  let sent = 0;
  let probing = false;

  const gauge = () => m.queued.set(label, q.length);

  const deadLetter = (n: Notification, cause: string, err: string) => {
    dl.add(sink.name, cause, err, n, now());
    m.deadLettered.inc({ sink: sink.name, cause });
  };

  const attempt = async (n: Notification) => {
    try {
      await sink.send(n, abort.signal);
    } catch (e) {
      m.failed.inc(label);
      if (!isRetriable(e) || abort.signal.aborted) throw new AbortError(e as Error);
      throw e;
    }
  };

  const deliver = async (item: { n: Notification; letter?: DeadLetter }) => {
    if (down) {
      // a letter stays pending for the next probe; anything new joins the letters
      if (!item.letter) deadLetter(item.n, 'sink-down', 'the sink is down; redelivered once it is back');
      return;
    }
    try {
      await pRetry(() => attempt(item.n), {
        retries: opts.retry.retries,
        factor: opts.retry.factor,
        minTimeout: opts.retry.minDelayMs,
        maxTimeout: opts.retry.maxDelayMs,
        randomize: true,
        signal: abort.signal,
        onFailedAttempt: (e) => {
          if (e.retriesLeft > 0 && !abort.signal.aborted) {
            m.retried.inc(label);
            log.debug({ sink: sink.name, attempt: e.attemptNumber, err: e.message }, 'alert delivery failed; retrying');
          }
        },
      });
      sent++;
      m.sent.inc(label);
      if (item.letter) {
        dl.done(item.letter);
        m.redelivered.inc(label);
      }
    } catch (e) {
      if (item.letter) {
        // a redelivery that failed again: still pending, the sink is down again
        down = true;
        return;
      }
      const retriable = isRetriable((e as { cause?: unknown }).cause ?? e) && !abort.signal.aborted;
      const cause = abort.signal.aborted ? 'stopped' : retriable ? 'retries-exhausted' : 'rejected';
      deadLetter(item.n, cause, messageOf(e));
      if (retriable) {
        down = true;
        log.warn({ sink: sink.name, err: messageOf(e) }, 'alert sink down: delivery dead-lettered; new alerts are dead-lettered until a probe succeeds');
      } else log.error({ sink: sink.name, err: messageOf(e), cause }, 'alert delivery dead-lettered');
    }
  };

  const work = () => {
    working ??= (async () => {
      while (q.length && !abort.signal.aborted) {
        const item = q.shift() as { n: Notification; letter?: DeadLetter };
        gauge();
        await deliver(item);
      }
    })().finally(() => {
      working = undefined;
      if (q.length && !abort.signal.aborted) work();
    });
  };

  return {
    push(n) {
      if (stopped) {
        m.dropped.inc({ sink: sink.name, cause: 'stopped' });
        return false;
      }
      if (down) {
        deadLetter(n, 'sink-down', 'the sink is down; redelivered once it is back');
        return false;
      }
      if (q.length >= opts.queueSize) {
        m.dropped.inc({ sink: sink.name, cause: 'queue-full' });
        return false;
      }
      q.push({ n });
      gauge();
      work();
      return true;
    },
    async probe() {
      if (!down || probing || stopped || working) return;
      probing = true;
      try {
        const window = opts.deadLetter.redeliverWithinMs;
        const letters = dl.pending(sink.name);
        for (const l of [...letters]) {
          if (now() - l.at <= window) break;
          dl.done(l);
          m.dropped.inc({ sink: sink.name, cause: 'expired' });
        }
        const first = dl.pending(sink.name)[0];
        if (!first) {
          down = false;
          return;
        }
        try {
          await sink.send(first.notification, abort.signal);
        } catch (e) {
          m.failed.inc(label);
          log.debug({ sink: sink.name, err: messageOf(e) }, 'alert sink still down');
          return;
        }
        sent++;
        m.sent.inc(label);
        m.redelivered.inc(label);
        dl.done(first);
        down = false;
        const rest = [...dl.pending(sink.name)];
        log.info({ sink: sink.name, redelivering: rest.length + 1 }, 'alert sink is back: redelivering its dead letters');
        // the letters go first, before anything queued since
        q.unshift(...rest.map((letter) => ({ n: letter.notification, letter })));
        gauge();
        work();
      } finally {
        probing = false;
      }
    },
    async stop(timeoutMs) {
      stopped = true;
      let timer: NodeJS.Timeout | undefined;
      const idle = (async () => {
        while (working) await working;
      })();
      await Promise.race([idle, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
      abort.abort();
      await idle.catch(() => undefined);
      for (const item of q.splice(0)) if (!item.letter) deadLetter(item.n, 'stopped', 'left in the queue at shutdown');
      gauge();
      await sink.close();
    },
    health: () => ({ queued: q.length, down, deadLetters: dl.pending(sink.name).length, sent }),
  };
}
