import { DEAD_LETTER_DETAIL_MAX, TOPICS, type Bus, type BusMessage, type DeadLetter, type DeadLetterReason } from '@floe/bus';
import type { Store } from '@floe/store';
import { messageOf } from './errors.js';

/** Where dead letters go: the `dead_letters` table of the store, then `floe.deadletter.v1`. */
export interface DeadLetterSink {
  /** Stores then publishes `list` (key = original key); store and bus errors propagate (retriable). */
  write(list: DeadLetter[]): Promise<void>;
}

/** The sink over a store and a bus. Counting (floe_deadletter_total) is the caller's. */
export function createDeadLetterSink(deps: { store: Store; bus: Bus }): DeadLetterSink {
  return {
    async write(list) {
      if (list.length === 0) return;
      await deps.store.insertDeadLetters(list);
      await deps.bus.publish(
        TOPICS.deadletter,
        list.map((d) => ({ key: d.key, value: d })),
      );
    },
  };
}

/** Base64 of a message's original bytes: the wire bytes when the bus kept them, else its value as JSON (the in-process bus). */
export function messageBytes(msg: BusMessage<unknown>): string {
  if (msg.raw) return Buffer.from(msg.raw.buffer, msg.raw.byteOffset, msg.raw.byteLength).toString('base64');
  return Buffer.from(JSON.stringify(msg.value) ?? 'null', 'utf8').toString('base64');
}

/** Coordinates of a dead letter: where the batch was read and by whom. */
export interface DeadLetterOrigin {
  topic: string;
  partition: number;
  group: string;
  at: number;
}

/**
 * The DeadLetter of a whole message (`record` undefined; payload = its original bytes) or of the
 * record at `record` in its array (payload = the record as JSON; the message's own bytes when the
 * message value is that one record).
 */
export function deadLetterOf(
  origin: DeadLetterOrigin,
  msg: BusMessage<unknown>,
  reason: DeadLetterReason,
  step: string,
  err: unknown,
  record?: { index: number; value: unknown },
): DeadLetter {
  const whole = record === undefined || !Array.isArray(msg.value);
  const payload = whole ? messageBytes(msg) : Buffer.from(JSON.stringify(record.value) ?? 'null', 'utf8').toString('base64');
  const d: DeadLetter = {
    schema: 1,
    reason,
    detail: messageOf(err).slice(0, DEAD_LETTER_DETAIL_MAX),
    topic: origin.topic,
    partition: origin.partition,
    offset: msg.offset ?? '',
    key: msg.key,
    payload,
    group: origin.group,
    step,
    at: origin.at,
  };
  if (record !== undefined && Array.isArray(msg.value)) d.record = record.index;
  return d;
}
