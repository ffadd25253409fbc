/**
 * Dead letters of alert deliveries: kept in memory per sink for redelivery, and appended as JSON
 * lines to a file when one is configured, so a restart redelivers what is still within the
 * window. A redelivery appends `{"redelivered": id}`, so it is not redelivered again.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import type { Notification } from './types.js';

/** One dead letter (a line of the file). */
export interface DeadLetter {
  id: string;
  sink: string;
  /** When it was given up (ms since epoch). */
  at: number;
  /** retries-exhausted, rejected, sink-down, stopped. */
  cause: string;
  error: string;
  notification: Notification;
}

/** The dead-letter record: a file (optional) and the pending letters per sink. */
export interface DeadLetterStore {
  add(sink: string, cause: string, error: string, n: Notification, at: number): DeadLetter;
  /** Letters of `sink` waiting for redelivery, oldest first. */
  pending(sink: string): DeadLetter[];
  /** Marks a letter delivered (or dropped): no longer pending, recorded in the file. */
  done(l: DeadLetter): void;
  /** Reads the file (when set): letters not yet redelivered become pending again. Returns how many. */
  load(): number;
}

/** A dead-letter store on `file` (absent: memory only). At most `max` letters pending per sink; the oldest goes first. */
export function createDeadLetterStore(file: string | undefined, max = 10_000): DeadLetterStore & { overflowed: (cb: (l: DeadLetter) => void) => void } {
  const bySink = new Map<string, DeadLetter[]>();
  let onOverflow: (l: DeadLetter) => void = () => undefined;
  const write = (o: unknown) => {
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, `${JSON.stringify(o)}\n`);
  };
  const queue = (l: DeadLetter) => {
    let q = bySink.get(l.sink);
    if (!q) bySink.set(l.sink, (q = []));
    q.push(l);
    if (q.length > max) onOverflow(q.shift() as DeadLetter);
  };
  return {
    add(sink, cause, error, notification, at) {
      const l: DeadLetter = { id: randomUUID(), sink, at, cause, error, notification };
      write(l);
      queue(l);
      return l;
    },
    pending: (sink) => bySink.get(sink) ?? [],
    done(l) {
      const q = bySink.get(l.sink);
      const i = q ? q.indexOf(l) : -1;
      if (q && i >= 0) q.splice(i, 1);
      write({ redelivered: l.id });
    },
    load() {
      if (!file || !existsSync(file)) return 0;
      const letters = new Map<string, DeadLetter>();
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        let o: Partial<DeadLetter> & { redelivered?: string };
        try {
          o = JSON.parse(line);
        } catch {
          continue; // a torn last line (a crash mid-write)
        }
        if (typeof o.redelivered === 'string') letters.delete(o.redelivered);
        else if (typeof o.id === 'string' && typeof o.sink === 'string' && o.notification) letters.set(o.id, o as DeadLetter);
      }
      for (const l of letters.values()) queue(l);
      return letters.size;
    },
    overflowed(cb) {
      onOverflow = cb;
    },
  };
}
